// SPDX-License-Identifier: MIT
#pragma once

#include <Eigen/Core>
#include <vector>

#include "options.hpp"

namespace gaussmix {

/// What an M-step needs from the data, as a sum over rows that can be split and merged:
/// \f$N_k = \sum_i w_i r_{ik}\f$, \f$S_k = \sum_i w_i r_{ik} (x_i - c_k)\f$ and the second moments
/// \f$\sum_i w_i r_{ik} (x_i - c_k)(x_i - c_k)^T\f$ about a reference point \f$c_k\f$ (the means of
/// the E-step), so data far from the origin keeps its digits. Always accumulated in double.
/// \tparam Dim compile-time d or Eigen::Dynamic
template <int Dim = Eigen::Dynamic>
struct SufficientStatistics {
  using MatrixD = Eigen::Matrix<double, Dim, Dim>;            ///< d x d
  using TableD = Eigen::Matrix<double, Eigen::Dynamic, Dim>;  ///< K x d

  CovarianceType type = CovarianceType::Full;  ///< which second moments are kept
  TableD reference;             ///< K x d: the points c_k the moments are taken about
  Eigen::VectorXd weight;       ///< K: N_k
  TableD first;                 ///< K x d: S_k
  std::vector<MatrixD> second;  ///< Full: K matrices, Tied: 1 (summed over k); lower triangle is kept
  TableD second_diagonal;       ///< Diagonal and Spherical: K x d diagonal second moments
  double log_likelihood = 0;    ///< sum_i w_i log p(x_i) under the E-step's parameters
  double total_weight = 0;      ///< sum_i w_i

  int n_components() const { return static_cast<int>(weight.size()); }  ///< K
  int n_features() const { return static_cast<int>(reference.cols()); }  ///< d

  /// Shapes the statistics for `reference` (K x d) and sets every sum to zero.
  template <class R>
  void reset(CovarianceType covariance_type, const Eigen::MatrixBase<R>& reference_points) {
    type = covariance_type;
    reference = reference_points.template cast<double>();
    const Eigen::Index K = reference.rows(), d = reference.cols();
    weight.setZero(K);
    first.setZero(K, d);
    const bool dense = type == CovarianceType::Full || type == CovarianceType::Tied;
    second.resize(dense ? (type == CovarianceType::Full ? K : 1) : 0);
    for (auto& m : second) m.setZero(d, d);
    second_diagonal.setZero(dense ? 0 : K, d);
    log_likelihood = 0;
    total_weight = 0;
  }

  /// Whether reset(covariance_type, reference of K x d) would keep every allocation.
  bool has_shape(CovarianceType covariance_type, Eigen::Index K, Eigen::Index d) const {
    const bool dense = covariance_type == CovarianceType::Full || covariance_type == CovarianceType::Tied;
    const std::size_t matrices = dense ? (covariance_type == CovarianceType::Full ? K : 1) : 0;
    return reference.rows() == K && reference.cols() == d && weight.size() == K && first.rows() == K &&
           second.size() == matrices && (matrices == 0 || second[0].rows() == d) &&
           second_diagonal.rows() == (dense ? 0 : K);
  }

  /// Adds the sums of `other`, which must share the reference points (e.g. another block or thread).
  SufficientStatistics& operator+=(const SufficientStatistics& other) {
    add_all_but_second(other);
    for (std::size_t k = 0; k < second.size(); ++k) second[k] += other.second[k];
    return *this;
  }

  /// operator+= without the dense second moments (`second`), for callers that merge those themselves.
  void add_all_but_second(const SufficientStatistics& other) {
    weight += other.weight;
    first += other.first;
    second_diagonal += other.second_diagonal;
    log_likelihood += other.log_likelihood;
    total_weight += other.total_weight;
  }

  /// Re-expresses the moments about new reference points c' (K x d), exactly in real arithmetic:
  /// with \f$\delta_k = c_k - c'_k\f$, \f$S'_k = S_k + N_k \delta_k\f$ and
  /// \f$M'_k = M_k + S_k \delta_k^T + \delta_k S_k^T + N_k \delta_k \delta_k^T\f$ (Tied sums this over k;
  /// Diagonal and Spherical keep its diagonal). The weights and log-likelihood do not change.
  template <class R>
  void shift_reference(const Eigen::MatrixBase<R>& new_reference) {
    const TableD to = new_reference.template cast<double>();
    const int K = n_components();
    for (int k = 0; k < K; ++k) {
      const Eigen::Matrix<double, 1, Dim> delta = reference.row(k) - to.row(k);
      const Eigen::Matrix<double, 1, Dim> s = first.row(k);
      switch (type) {
        case CovarianceType::Full:
        case CovarianceType::Tied: {
          MatrixD& m = second[type == CovarianceType::Full ? k : 0];
          m += s.transpose() * delta + delta.transpose() * s + weight(k) * delta.transpose() * delta;
          break;
        }
        case CovarianceType::Diagonal:
        case CovarianceType::Spherical:
          second_diagonal.row(k) += 2 * s.cwiseProduct(delta) + weight(k) * delta.cwiseProduct(delta);
          break;
      }
      first.row(k) += weight(k) * delta;
    }
    reference = to;
  }
};

/// One stepwise-EM blend of normalised statistics (sums per unit weight):
/// \f$s/W \leftarrow (1 - \rho)\, s/W + \rho\, b/W_b\f$, about the batch's reference points. Kept
/// unnormalised, scaled to total weight \f$W_b / \rho\f$: the result is \f$b + c\, s\f$ with
/// \f$c = (1 - \rho) W_b / (\rho W)\f$, so \f$\rho = 1\f$ returns the batch's sums bit for bit (and
/// the M-step from them is exactly one EM iteration). `running` must have the batch's type and K x d.
/// \param rho step size in (0, 1]
template <int Dim>
SufficientStatistics<Dim> blend_statistics(const SufficientStatistics<Dim>& running, const SufficientStatistics<Dim>& batch,
                                           double rho) {
  SufficientStatistics<Dim> out = batch;
  if (rho == 1) return out;
  SufficientStatistics<Dim> old = running;
  old.shift_reference(batch.reference);
  const double c = (1 - rho) * batch.total_weight / (rho * running.total_weight);
  out.weight += c * old.weight;
  out.first += c * old.first;
  for (std::size_t k = 0; k < out.second.size(); ++k) out.second[k] += c * old.second[k];
  out.second_diagonal += c * old.second_diagonal;
  out.log_likelihood += c * old.log_likelihood;
  out.total_weight = batch.total_weight / rho;
  return out;
}

}  // namespace gaussmix
