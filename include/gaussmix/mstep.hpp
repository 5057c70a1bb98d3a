// SPDX-License-Identifier: MIT
#pragma once

#include <Eigen/Core>
#include <algorithm>
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

/// Which parameters the M-step keeps at their previous values, per component (Options::fixed_weights,
/// fixed_means, fixed_covariances as K flags each).
struct FixedParameters {
  std::vector<bool> weight;      ///< K flags: keep pi_k
  std::vector<bool> mean;        ///< K flags: keep mu_k
  std::vector<bool> covariance;  ///< K flags: keep Sigma_k

  /// The flags of `options` (validated: indices in [0, n_components)).
  static FixedParameters from(const Options& options) {
    FixedParameters f;
    const auto flags = [&](const std::vector<int>& indices) {
      std::vector<bool> out(static_cast<std::size_t>(options.n_components), false);
      for (int k : indices) out[static_cast<std::size_t>(k)] = true;
      return out;
    };
    f.weight = flags(options.fixed_weights);
    f.mean = flags(options.fixed_means);
    f.covariance = flags(options.fixed_covariances);
    return f;
  }
  /// True if some parameter is fixed.
  bool any() const {
    const auto set = [](const std::vector<bool>& v) { return std::find(v.begin(), v.end(), true) != v.end(); };
    return set(weight) || set(mean) || set(covariance);
  }
};

/// The M-step: maximum-likelihood parameters from sufficient statistics, with `reg_covar` added
/// to every covariance diagonal (scikit-learn's formulas, per covariance type).
/// A component whose N_k is below empty_component_weight keeps its previous mean and covariance
/// (and gets the tiny weight it earned); without previous parameters that is an error.
/// With `fixed` (and previous parameters, else std::logic_error), the maximiser under the constraint:
/// fixed parameters are copied from `previous`; free weights share \f$1 - \sum_{fixed} \pi_j\f$ in
/// proportion to N_k; a free covariance of a component with a fixed mean is taken about that mean
/// (no reg_covar is added to a fixed covariance). No flag set: the same arithmetic as without `fixed`.
/// Throws NumericalError if a covariance is not positive definite, std::invalid_argument for an
/// empty component without previous parameters.
template <typename Scalar, int Dim>
Parameters<Scalar, Dim> maximise(const SufficientStatistics<Dim>& s, double reg_covar,
                                 const Parameters<Scalar, Dim>* previous, const FixedParameters* fixed = nullptr) {
  using MatrixD = Eigen::Matrix<double, Dim, Dim>;
  using RowD = Eigen::Matrix<double, 1, Dim>;
  const int K = s.n_components(), d = s.n_features();
  const double floor = empty_component_weight<Scalar>();
  const bool keep_previous =
      previous && !previous->empty() && previous->n_components() == K && previous->covariances.type() == s.type;
  const bool constrained = fixed && fixed->any();
  if (constrained && !(keep_previous && previous->n_features() == d))
    throw std::logic_error(detail::message(
        "m_step: fixed parameters (Options::fixed_weights, fixed_means, fixed_covariances) need the model's "
        "current parameters of the same shape to keep"));
  const auto is_fixed = [&](std::vector<bool> FixedParameters::*flags, int k) {
    return constrained && (fixed->*flags)[static_cast<std::size_t>(k)];
  };

  Parameters<Scalar, Dim> p;
  Eigen::VectorXd nk = s.weight.array() + floor;
  if (constrained && std::find(fixed->weight.begin(), fixed->weight.end(), true) != fixed->weight.end()) {
    // max sum_k N_k log pi_k with pi_j fixed for j in F: the free pi_k are proportional to N_k and
    // share the mass 1 - sum_F pi_j the fixed ones leave (Lagrange multiplier on the free ones only).
    double left = 1, free_total = 0;
    for (int k = 0; k < K; ++k)
      if (is_fixed(&FixedParameters::weight, k))
        left -= static_cast<double>(previous->weights(k));
      else
        free_total += nk(k);
    if (free_total > 0 && !(left > 0))
      throw std::invalid_argument(detail::message("fit: the fixed weights (Options::fixed_weights) sum to ", 1 - left,
                                                  ", leaving no mass for the free components"));
    Eigen::VectorXd weights(K);
    for (int k = 0; k < K; ++k)
      weights(k) =
          is_fixed(&FixedParameters::weight, k) ? static_cast<double>(previous->weights(k)) : left * nk(k) / free_total;
    p.weights = weights.template cast<Scalar>();
  } else {
    p.weights = (nk / nk.sum()).template cast<Scalar>();
  }
  Eigen::Matrix<double, Eigen::Dynamic, Dim> means(K, d);
  std::vector<bool> empty(K);
  for (int k = 0; k < K; ++k) {
    empty[k] = !(s.weight(k) >= floor);
    if (empty[k] && !keep_previous)
      throw std::invalid_argument(detail::message("m_step: component ", k, " has total responsibility ", s.weight(k),
                                                  " and no previous parameters to keep"));
    means.row(k) = empty[k] || is_fixed(&FixedParameters::mean, k)
                       ? RowD(previous->means.row(k).template cast<double>())
                       : RowD(s.reference.row(k) + s.first.row(k) / s.weight(k));
  }
  p.means = means.template cast<Scalar>();
  // A fixed mean mu_k: the moments about it, from those about c_k with delta = c_k - mu_k (exactly
  // M_k when the E-step's reference is mu_k itself, as in fit):
  // sum r (x - mu)(x - mu)^T = M + S delta^T + delta S^T + N delta delta^T.
  const auto offset = [&](int k) -> RowD { return s.reference.row(k) - means.row(k); };

  // Second moments about the new mean: (sum w r (x-c)(x-c)^T - N delta delta^T) / N, delta = S / N.
  auto centred = [&](int k, const MatrixD& second) -> MatrixD {
    const RowD delta = s.first.row(k) / s.weight(k);
    MatrixD m = second.template selfadjointView<Eigen::Lower>();
    return m / s.weight(k) - delta.transpose() * delta;
  };
  const auto about_fixed_mean = [&](int k, const MatrixD& second) -> MatrixD {
    const RowD delta = offset(k);
    MatrixD m = second.template selfadjointView<Eigen::Lower>();
    m += s.first.row(k).transpose() * delta + delta.transpose() * s.first.row(k) +
         s.weight(k) * delta.transpose() * delta;
    return m;
  };
  std::vector<MatrixD> full;
  Eigen::MatrixXd variances;
  switch (s.type) {
    case CovarianceType::Full:
      full.resize(K);
      for (int k = 0; k < K; ++k) {
        const bool keep = empty[k] || is_fixed(&FixedParameters::covariance, k);
        full[k] = keep                                  ? previous->covariances.dense_double(k)
                  : is_fixed(&FixedParameters::mean, k) ? MatrixD(about_fixed_mean(k, s.second[k]) / s.weight(k))
                                                        : centred(k, s.second[k]);
        if (!keep) full[k].diagonal().array() += reg_covar;
      }
      break;
    case CovarianceType::Tied: {
      if (is_fixed(&FixedParameters::covariance, 0)) {  // validate(): all K listed or none
        full.assign(1, previous->covariances.dense_double(0));
        break;
      }
      MatrixD total = s.second[0].template selfadjointView<Eigen::Lower>();
      for (int k = 0; k < K; ++k) {
        if (empty[k]) continue;
        if (is_fixed(&FixedParameters::mean, k)) {
          const RowD delta = offset(k);
          total += s.first.row(k).transpose() * delta + delta.transpose() * s.first.row(k) +
                   s.weight(k) * delta.transpose() * delta;
        } else {
          total -= s.first.row(k).transpose() * s.first.row(k) / s.weight(k);
        }
      }
      full.assign(1, total / s.weight.sum());
      full[0].diagonal().array() += reg_covar;
      break;
    }
    case CovarianceType::Diagonal:
    case CovarianceType::Spherical:
      variances.resize(K, s.type == CovarianceType::Spherical ? 1 : d);
      for (int k = 0; k < K; ++k) {
        if (empty[k] || is_fixed(&FixedParameters::covariance, k)) {
          variances.row(k) = s.type == CovarianceType::Spherical
                                 ? Eigen::RowVectorXd::Constant(1, previous->covariances.dense_double(k)(0, 0))
                                 : Eigen::RowVectorXd(previous->covariances.dense_double(k).diagonal().transpose());
          continue;
        }
        RowD var;
        if (is_fixed(&FixedParameters::mean, k)) {
          const RowD delta = offset(k);
          var = (s.second_diagonal.row(k) + 2 * s.first.row(k).cwiseProduct(delta) +
                 s.weight(k) * delta.cwiseProduct(delta)) /
                s.weight(k);
        } else {
          const RowD delta = s.first.row(k) / s.weight(k);
          var = s.second_diagonal.row(k) / s.weight(k) - delta.cwiseProduct(delta);
        }
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
/// responsibility_statistics (an empty component's reference stays at X's first row), then maximise
/// (under `fixed`, if given).
template <typename Scalar, int Dim, class D, class Fill>
Parameters<Scalar, Dim> maximise_responsibilities(const Eigen::MatrixBase<D>& X, const Eigen::VectorXd* w, int K,
                                                  CovarianceType type, double reg_covar,
                                                  const Parameters<Scalar, Dim>* previous, Fill&& fill,
                                                  const FixedParameters* fixed = nullptr) {
  const SufficientStatistics<Dim> stats = responsibility_statistics<Scalar, Dim>(
      X, w, K, type, std::forward<Fill>(fill), empty_component_weight<Scalar>());
  return maximise<Scalar, Dim>(stats, reg_covar, previous, fixed);
}

}  // namespace gaussmix
