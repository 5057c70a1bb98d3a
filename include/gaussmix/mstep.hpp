// SPDX-License-Identifier: MIT
#pragma once

#include <Eigen/Core>
#include <limits>
#include <stdexcept>
#include <utility>
#include <vector>

#include "detail/validation.hpp"
#include "estep.hpp"
#include "parameters.hpp"
#include "statistics.hpp"

namespace gaussmix {

/// Total responsibility below which a component counts as empty; scikit-learn adds the same
/// 10 eps to every N_k, which also keeps every weight positive.
template <typename Scalar>
constexpr double empty_component_weight() {
  return 10 * static_cast<double>(std::numeric_limits<Scalar>::epsilon());
}

/// The M-step: maximum-likelihood parameters from sufficient statistics, with `reg_covar` added
/// to every covariance diagonal (scikit-learn's formulas, per covariance type).
/// A component whose N_k is below empty_component_weight keeps its previous mean and covariance
/// (and gets the tiny weight it earned); without previous parameters that is an error.
/// Throws NumericalError if a covariance is not positive definite, std::invalid_argument for an
/// empty component without previous parameters.
template <typename Scalar, int Dim>
Parameters<Scalar, Dim> maximise(const SufficientStatistics<Dim>& s, double reg_covar,
                                 const Parameters<Scalar, Dim>* previous) {
  using MatrixD = Eigen::Matrix<double, Dim, Dim>;
  using RowD = Eigen::Matrix<double, 1, Dim>;
  const int K = s.n_components(), d = s.n_features();
  const double floor = empty_component_weight<Scalar>();
  const bool keep_previous =
      previous && !previous->empty() && previous->n_components() == K && previous->covariances.type() == s.type;

  Parameters<Scalar, Dim> p;
  Eigen::VectorXd nk = s.weight.array() + floor;
  p.weights = (nk / nk.sum()).template cast<Scalar>();
  Eigen::Matrix<double, Eigen::Dynamic, Dim> means(K, d);
  std::vector<bool> empty(K);
  for (int k = 0; k < K; ++k) {
    empty[k] = !(s.weight(k) >= floor);
    if (empty[k] && !keep_previous)
      throw std::invalid_argument(detail::message("m_step: component ", k, " has total responsibility ", s.weight(k),
                                                  " and no previous parameters to keep"));
    means.row(k) = empty[k] ? RowD(previous->means.row(k).template cast<double>())
                            : RowD(s.reference.row(k) + s.first.row(k) / s.weight(k));
  }
  p.means = means.template cast<Scalar>();

  // Second moments about the new mean: (sum w r (x-c)(x-c)^T - N delta delta^T) / N, delta = S / N.
  auto centred = [&](int k, const MatrixD& second) -> MatrixD {
    const RowD delta = s.first.row(k) / s.weight(k);
    MatrixD m = second.template selfadjointView<Eigen::Lower>();
    return m / s.weight(k) - delta.transpose() * delta;
  };
  std::vector<MatrixD> full;
  Eigen::MatrixXd variances;
  switch (s.type) {
    case CovarianceType::Full:
      full.resize(K);
      for (int k = 0; k < K; ++k) {
        full[k] = empty[k] ? previous->covariances.dense_double(k) : centred(k, s.second[k]);
        if (!empty[k]) full[k].diagonal().array() += reg_covar;
      }
      break;
    case CovarianceType::Tied: {
      MatrixD total = s.second[0].template selfadjointView<Eigen::Lower>();
      for (int k = 0; k < K; ++k)
        if (!empty[k]) total -= s.first.row(k).transpose() * s.first.row(k) / s.weight(k);
      full.assign(1, total / s.weight.sum());
      full[0].diagonal().array() += reg_covar;
      break;
    }
    case CovarianceType::Diagonal:
    case CovarianceType::Spherical:
      variances.resize(K, s.type == CovarianceType::Spherical ? 1 : d);
      for (int k = 0; k < K; ++k) {
        if (empty[k]) {
          variances.row(k) = s.type == CovarianceType::Spherical
                                 ? Eigen::RowVectorXd::Constant(1, previous->covariances.dense_double(k)(0, 0))
                                 : Eigen::RowVectorXd(previous->covariances.dense_double(k).diagonal().transpose());
          continue;
        }
        const RowD delta = s.first.row(k) / s.weight(k);
        const RowD var = s.second_diagonal.row(k) / s.weight(k) - delta.cwiseProduct(delta);
        if (s.type == CovarianceType::Spherical)
          variances(k, 0) = var.mean() + reg_covar;
        else
          variances.row(k) = var.array() + reg_covar;
      }
      break;
  }
  p.covariances = Covariances<Scalar, Dim>::from_estimates(s.type, K, d, full, variances, reg_covar);
  return p;
}

/// Sufficient statistics of X under responsibilities given row by row: fill(start, rows, R) writes the
/// responsibilities of rows start.. into the rows x K block R. Two passes over X: the first finds the
/// responsibility-weighted means, the second takes the moments about them, so they are centred. A
/// component with weight 0 (or below `min_weight`) keeps X's first row as its reference point.
template <typename Scalar, int Dim, class D, class Fill>
SufficientStatistics<Dim> responsibility_statistics(const Eigen::MatrixBase<D>& X, const Eigen::VectorXd* w, int K,
                                                    CovarianceType type, Fill&& fill, double min_weight = 0) {
  const Eigen::Index d = X.cols();
  EStepWorkspace<Scalar, Dim> ws(d, K);
  ws.log_norm.setZero();
  SufficientStatistics<Dim> stats;
  auto pass = [&]() {
    detail::for_each_block(X.rows(), d, [&](Eigen::Index start, Eigen::Index rows) {
      ws.x.topRows(rows) = X.middleRows(start, rows).template cast<Scalar>();
      fill(start, rows, ws.log_prob.topRows(rows));
      accumulate(start, rows, w, ws, stats);
    });
  };
  const Eigen::Matrix<double, 1, Dim> origin = X.row(0).template cast<double>();
  stats.reset(CovarianceType::Diagonal, origin.replicate(K, 1));
  pass();
  Eigen::Matrix<double, Eigen::Dynamic, Dim> means = stats.reference;
  for (int k = 0; k < K; ++k)
    if (stats.weight(k) > 0 && stats.weight(k) >= min_weight) means.row(k) += stats.first.row(k) / stats.weight(k);
  stats.reset(type, means);
  pass();
  return stats;
}

/// The M-step from responsibilities given row by row (scikit-learn's `_m_step`): the statistics of
/// responsibility_statistics (an empty component's reference stays at X's first row), then maximise.
template <typename Scalar, int Dim, class D, class Fill>
Parameters<Scalar, Dim> maximise_responsibilities(const Eigen::MatrixBase<D>& X, const Eigen::VectorXd* w, int K,
                                                  CovarianceType type, double reg_covar,
                                                  const Parameters<Scalar, Dim>* previous, Fill&& fill) {
  const SufficientStatistics<Dim> stats = responsibility_statistics<Scalar, Dim>(
      X, w, K, type, std::forward<Fill>(fill), empty_component_weight<Scalar>());
  return maximise<Scalar, Dim>(stats, reg_covar, previous);
}

}  // namespace gaussmix
