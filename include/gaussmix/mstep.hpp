// SPDX-License-Identifier: MIT
#pragma once

#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <limits>
#include <stdexcept>
#include <utility>
#include <vector>

#include "conjugate_prior.hpp"
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
    detail::for_each_block<Scalar>(X.rows(), d, [&](Eigen::Index start, Eigen::Index rows) {
      detail::copy_rows(X, start, rows, ws.x);
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

/// Resolves `given` (Options::prior) against the data summarised by `s`: statistics whose responsibilities
/// sum to 1 over the components for every row (the first E-step of a fit, or one component with every
/// responsibility 1), so that summed over k they are the data's moments. Empty fields take mclust's
/// defaults (see ConjugatePrior) with K = `n_components`; given ones are checked against d and `type`.
/// Full or Tied statistics give the full covariance of X, Diagonal or Spherical ones its diagonal, which
/// is all the default scale of those types needs. Throws std::invalid_argument naming the field.
template <int Dim>
ResolvedPrior resolve_prior(const ConjugatePrior& given, const SufficientStatistics<Dim>& s, CovarianceType type,
                            int n_components, const char* where) {
  using Row = Eigen::RowVectorXd;
  const int K = s.n_components(), d = s.n_features();
  auto fail = [&](const std::string& field, const std::string& rule) {
    throw std::invalid_argument(detail::message(where, ": Options::prior.", field, " must be ", rule));
  };
  ResolvedPrior r;
  r.shrinkage = given.shrinkage.value_or(0.01);
  r.degrees_of_freedom = given.degrees_of_freedom.value_or(d + 2.0);
  if (!(r.degrees_of_freedom > d - 1))
    fail("degrees_of_freedom", detail::message("> d - 1 = ", d - 1, ", got ", r.degrees_of_freedom));
  if (given.mean && given.mean->size() != d)
    fail("mean", detail::message("of length d = ", d, ", got ", given.mean->size()));
  // The data's mean and covariance, about component 0's reference point (no large sums for offset data).
  const double n = s.weight.sum();
  const Row origin = s.reference.row(0);
  Row shift = Row::Zero(d);
  for (int k = 0; k < K; ++k) shift += s.weight(k) * (s.reference.row(k) - origin) + s.first.row(k);
  const Row data_mean = origin + shift / n;
  r.mean = given.mean ? Row(given.mean->transpose()) : data_mean;
  if (given.scale) {
    const Eigen::MatrixXd& L = *given.scale;
    if (L.rows() != d) fail("scale", detail::message("d x d = ", d, " x ", d, ", got ", L.rows(), " x ", L.cols()));
    const double tol = 1e-8 * L.cwiseAbs().maxCoeff();
    if (!(L - L.transpose()).isZero(tol)) fail("scale", "symmetric");
    Eigen::MatrixXd off = L;
    off.diagonal().setZero();
    if ((type == CovarianceType::Diagonal || type == CovarianceType::Spherical) && !off.isZero(tol))
      fail("scale", detail::message("diagonal for covariance type ", to_string(type)));
    if (type == CovarianceType::Spherical && !(L.diagonal().array() == L(0, 0)).all())
      fail("scale", "a multiple of the identity for covariance type spherical");
    Eigen::LLT<Eigen::MatrixXd> llt(L);
    if (llt.info() != Eigen::Success || !(L.diagonal().array() > 0).all()) fail("scale", "positive definite");
    r.scale = (L + L.transpose()) / 2;
    return r;
  }
  if (!(n > 1)) throw std::invalid_argument(detail::message(where, ": the default Options::prior.scale (the covariance "
                                                            "of X) needs a total sample weight > 1, got ", n));
  const bool dense = s.type == CovarianceType::Full || s.type == CovarianceType::Tied;
  const double factor = std::pow(static_cast<double>(n_components), -2.0 / d) / (n - 1);
  Eigen::MatrixXd scatter = Eigen::MatrixXd::Zero(d, d);
  if (dense) {
    for (std::size_t m = 0; m < s.second.size(); ++m)
      scatter += Eigen::MatrixXd(s.second[m].template selfadjointView<Eigen::Lower>());
    for (int k = 0; k < K; ++k) {  // about the data mean: M + S e^T + e S^T + N e e^T, e = c_k - mean
      const Row e = s.reference.row(k) - data_mean;
      const Row first = s.first.row(k);
      scatter += first.transpose() * e + e.transpose() * first + s.weight(k) * e.transpose() * e;
    }
  } else {
    Row diagonal = Row::Zero(d);
    for (int k = 0; k < K; ++k) {
      const Row e = s.reference.row(k) - data_mean;
      diagonal += s.second_diagonal.row(k) + 2 * s.first.row(k).cwiseProduct(e) + s.weight(k) * e.cwiseProduct(e);
    }
    scatter.diagonal() = diagonal.transpose();
  }
  if (type == CovarianceType::Diagonal || type == CovarianceType::Spherical) {
    // mclust: one scalar, the mean variance, for every diagonal model.
    r.scale = Eigen::MatrixXd::Identity(d, d) * (factor * scatter.trace() / d);
  } else {
    if (!dense)
      throw std::logic_error(detail::message(where, ": the default prior scale of a full or tied model needs full moments"));
    // mclust: the diagonal when n <= d (the covariance is then singular).
    r.scale = n > d ? Eigen::MatrixXd(factor * scatter) : Eigen::MatrixXd(factor * scatter.diagonal().asDiagonal());
  }
  Eigen::LLT<Eigen::MatrixXd> llt(r.scale);
  if (llt.info() != Eigen::Success || !(r.scale.diagonal().array() > 0).all())
    throw std::invalid_argument(detail::message(
        where, ": the default Options::prior.scale (the covariance of X / K^(2/d)) is not positive definite (a "
               "constant or collinear column?); give Options::prior.scale"));
  return r;
}

/// The prior of `options` resolved from the rows of X (one component, every responsibility 1): for the
/// M-steps that see the data but no E-step (initialisation, m_step). Empty if options.prior is.
template <typename Scalar, int Dim, class D>
std::optional<ResolvedPrior> resolve_prior_from_data(const Eigen::MatrixBase<D>& X, const Eigen::VectorXd* w,
                                                     const Options& options, const char* where) {
  if (!options.prior) return std::nullopt;
  const bool dense =
      options.covariance_type == CovarianceType::Full || options.covariance_type == CovarianceType::Tied;
  const SufficientStatistics<Dim> s = responsibility_statistics<Scalar, Dim>(
      X, w, 1, dense ? CovarianceType::Full : CovarianceType::Diagonal,
      [](Eigen::Index, Eigen::Index, auto&& block) { block.setOnes(); });
  return resolve_prior(*options.prior, s, options.covariance_type, options.n_components, where);
}

/// The MAP M-step (Fraley & Raftery 2007): the posterior mode of the means and covariances under `prior`
/// from the same statistics as maximise, weights as maximum likelihood (as maximise, N_k + 10 eps), then
/// reg_covar on every diagonal. With \f$\bar x_k\f$ the responsibility-weighted mean,
/// \f$\mu_k = (N_k \bar x_k + \kappa_P \mu_P) / (N_k + \kappa_P)\f$ and, with
/// \f$B_k = \sum_i r_{ik} (x_i - \mu_k)(x_i - \mu_k)^T + \kappa_P (\mu_k - \mu_P)(\mu_k - \mu_P)^T\f$:
/// Full \f$\Sigma_k = (\Lambda_P + B_k) / (\nu_P + N_k + d + 2)\f$; Tied
/// \f$\Sigma = (\Lambda_P + \sum_k B_k) / (\nu_P + N + d + K + 1)\f$; Diagonal
/// \f$\sigma^2_{kj} = (\Lambda_{P,jj} + B_{k,jj}) / (\nu_P + N_k + 3)\f$; Spherical
/// \f$\sigma^2_k = (\lambda_P + \mathrm{tr} B_k) / (\nu_P + (N_k + 1) d + 2)\f$ (docs/maths.md, "MAP EM").
/// An empty component gets the prior's mode. Throws NumericalError if a covariance is not positive definite.
template <typename Scalar, int Dim>
Parameters<Scalar, Dim> maximise_map(const SufficientStatistics<Dim>& s, double reg_covar, const ResolvedPrior& prior) {
  using MatrixD = Eigen::Matrix<double, Dim, Dim>;
  using RowD = Eigen::Matrix<double, 1, Dim>;
  const int K = s.n_components(), d = s.n_features();
  if (prior.mean.size() != d)
    throw std::invalid_argument(detail::message("m_step: the prior has d = ", prior.mean.size(), ", the data ", d));
  const double kappa = prior.shrinkage, nu = prior.degrees_of_freedom;
  const RowD mu_p = prior.mean;
  Parameters<Scalar, Dim> p;
  const Eigen::VectorXd nk = s.weight.array() + empty_component_weight<Scalar>();
  p.weights = (nk / nk.sum()).template cast<Scalar>();
  Eigen::Matrix<double, Eigen::Dynamic, Dim> means(K, d);
  std::vector<RowD> e(K), f(K);  // e_k = c_k - mu_k (small: c_k is the E-step's mean), f_k = mu_k - mu_P
  for (int k = 0; k < K; ++k) {
    const RowD c = s.reference.row(k);
    // mu_k = c_k + (S_k + kappa (mu_P - c_k)) / (N_k + kappa): no division by N_k, no large sums.
    const RowD step = (s.first.row(k) + kappa * (mu_p - c)) / (s.weight(k) + kappa);
    means.row(k) = c + step;
    e[k] = -step;
    f[k] = means.row(k) - mu_p;
  }
  p.means = means.template cast<Scalar>();
  // B_k about mu_k from the moments about c_k (statistics.hpp, shift_reference), plus the prior's term.
  const auto scatter = [&](int k, const MatrixD& second) -> MatrixD {
    const RowD first = s.first.row(k);
    return second + first.transpose() * e[k] + e[k].transpose() * first + s.weight(k) * e[k].transpose() * e[k] +
           kappa * f[k].transpose() * f[k];
  };
  const MatrixD scale = prior.scale;
  std::vector<MatrixD> full;
  Eigen::MatrixXd variances;
  switch (s.type) {
    case CovarianceType::Full:
      full.resize(K);
      for (int k = 0; k < K; ++k) {
        full[k] = (scale + scatter(k, MatrixD(s.second[k].template selfadjointView<Eigen::Lower>()))) /
                  (nu + s.weight(k) + d + 2);
        full[k].diagonal().array() += reg_covar;
      }
      break;
    case CovarianceType::Tied: {
      MatrixD total = scale + MatrixD(s.second[0].template selfadjointView<Eigen::Lower>());
      for (int k = 0; k < K; ++k) total += scatter(k, MatrixD::Zero(d, d));
      full.assign(1, total / (nu + s.weight.sum() + d + K + 1));
      full[0].diagonal().array() += reg_covar;
      break;
    }
    case CovarianceType::Diagonal:
    case CovarianceType::Spherical:
      variances.resize(K, s.type == CovarianceType::Spherical ? 1 : d);
      for (int k = 0; k < K; ++k) {
        const RowD b = s.second_diagonal.row(k) + 2 * s.first.row(k).cwiseProduct(e[k]) +
                       s.weight(k) * e[k].cwiseProduct(e[k]) + kappa * f[k].cwiseProduct(f[k]);
        if (s.type == CovarianceType::Spherical)
          variances(k, 0) = (scale(0, 0) + b.sum()) / (nu + (s.weight(k) + 1) * d + 2) + reg_covar;
        else
          variances.row(k) = (scale.diagonal().transpose() + b).array() / (nu + s.weight(k) + 3) + reg_covar;
      }
      break;
  }
  p.covariances = Covariances<Scalar, Dim>::from_estimates(s.type, K, d, full, variances, reg_covar);
  return p;
}

/// \f$\log p(\theta)\f$: the log density of the means and covariances of `p` under `prior`, normalised (the
/// normal, inverse-Wishart and inverse-gamma densities with all their constants); the weights have no prior
/// (a flat Dirichlet, whose constant log (K-1)! is left out). docs/maths.md, "MAP EM".
template <typename Scalar, int Dim>
double log_prior_density(const Parameters<Scalar, Dim>& p, const ResolvedPrior& prior) {
  const int K = p.n_components(), d = p.n_features();
  const double kappa = prior.shrinkage, nu = prior.degrees_of_freedom;
  const double log_2pi = std::log(2 * 3.14159265358979323846);
  const CovarianceType type = p.covariances.type();
  const Eigen::RowVectorXd mu_p = prior.mean;
  double total = 0;
  if (type == CovarianceType::Full || type == CovarianceType::Tied) {
    const Eigen::MatrixXd scale_factor = Eigen::LLT<Eigen::MatrixXd>(prior.scale).matrixL();
    const double log_det_scale = 2 * scale_factor.diagonal().array().log().sum();
    double log_multigamma = d * (d - 1) / 4.0 * std::log(3.14159265358979323846);
    for (int j = 1; j <= d; ++j) log_multigamma += std::lgamma(nu / 2 + (1 - j) / 2.0);
    for (int k = 0; k < (type == CovarianceType::Tied ? 1 : K); ++k) {  // inverse Wishart
      const Eigen::LLT<Eigen::MatrixXd> llt(p.covariances.dense_double(k));
      const double log_det = 2 * Eigen::MatrixXd(llt.matrixL()).diagonal().array().log().sum();
      const double trace = llt.matrixL().solve(scale_factor).squaredNorm();  // tr(Sigma^-1 Lambda)
      total += nu / 2 * log_det_scale - nu * d / 2 * std::log(2.0) - log_multigamma - (nu + d + 1) / 2 * log_det -
               trace / 2;
    }
    for (int k = 0; k < K; ++k) {  // normal of the mean given Sigma / kappa
      const Eigen::LLT<Eigen::MatrixXd> llt(p.covariances.dense_double(type == CovarianceType::Tied ? 0 : k));
      const double log_det = 2 * Eigen::MatrixXd(llt.matrixL()).diagonal().array().log().sum();
      const Eigen::VectorXd f = (p.means.row(k).template cast<double>() - mu_p).transpose();
      total += -d / 2.0 * log_2pi + d / 2.0 * std::log(kappa) - log_det / 2 -
               kappa / 2 * llt.matrixL().solve(f).squaredNorm();
    }
    return total;
  }
  // Diagonal: per coordinate IG(nu/2, Lambda_jj/2) and N(mu_P,j, sigma^2_kj / kappa); Spherical: one of each.
  const int blocks = type == CovarianceType::Spherical ? 1 : d;
  const double a = nu / 2;
  for (int k = 0; k < K; ++k) {
    const Eigen::VectorXd var = p.covariances.dense_double(k).diagonal();
    const Eigen::RowVectorXd f = p.means.row(k).template cast<double>() - mu_p;
    for (int j = 0; j < blocks; ++j) {
      const double v = var(j), b = prior.scale(j, j) / 2;
      const int m = type == CovarianceType::Spherical ? d : 1;  // coordinates sharing this variance
      const double f2 = type == CovarianceType::Spherical ? f.squaredNorm() : f(j) * f(j);
      total += a * std::log(b) - std::lgamma(a) - (a + 1) * std::log(v) - b / v;
      total += m * (-log_2pi / 2 + std::log(kappa) / 2 - std::log(v) / 2) - kappa * f2 / (2 * v);
    }
  }
  return total;
}

}  // namespace gaussmix
