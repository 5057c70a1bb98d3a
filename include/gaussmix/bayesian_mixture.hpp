// SPDX-License-Identifier: MIT
#pragma once

#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <exception>
#include <iostream>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "covariance.hpp"
#include "detail/blocks.hpp"
#include "detail/data_view.hpp"
#include "detail/em_runs.hpp"
#include "detail/random.hpp"
#include "detail/validation.hpp"
#include "estep.hpp"
#include "gaussian_mixture.hpp"
#include "mstep.hpp"
#include "initial_parameters.hpp"
#include "mstep.hpp"
#include "options.hpp"
#include "parameters.hpp"
#include "statistics.hpp"
#include "stream.hpp"

namespace gaussmix {

/// The prior on the mixing weights of a BayesianGaussianMixture (scikit-learn's
/// `weight_concentration_prior_type`).
enum class WeightPrior {
  DirichletProcess,      ///< stick-breaking (truncated Dirichlet process): "dirichlet_process"
  DirichletDistribution  ///< symmetric Dirichlet over the K weights: "dirichlet_distribution"
};

/// Hyperparameters of a BayesianGaussianMixture. An empty optional takes scikit-learn's
/// data-dependent default when `fit` (or `m_step` on an unfitted model) sees the data.
struct BayesianPriors {
  WeightPrior weight_prior = WeightPrior::DirichletProcess;  ///< Dirichlet process or Dirichlet distribution
  std::optional<double> weight_concentration;  ///< gamma_0 (DP) or alpha_0 (Dirichlet), > 0; default 1 / K
  std::optional<double> mean_precision;        ///< beta_0 > 0; default 1
  std::optional<Eigen::VectorXd> mean;         ///< m_0, length d; default: the (weighted) mean of X
  std::optional<double> degrees_of_freedom;    ///< nu_0 > d - 1; default d
  /// W_0^{-1}, d x d, symmetric positive definite and in the covariance type's shape (diagonal for
  /// Diagonal, a multiple of I for Spherical); default: the covariance of X with ddof 1 (its
  /// diagonal for Diagonal, its mean variance times I for Spherical).
  std::optional<Eigen::MatrixXd> covariance;
};

/// Name of a weight prior as scikit-learn spells it.
inline const char* to_string(WeightPrior prior) {
  return prior == WeightPrior::DirichletProcess ? "dirichlet_process" : "dirichlet_distribution";
}

namespace detail {

// psi(x) for x > 0: the recurrence psi(x) = psi(x + 1) - 1/x up to x >= 10, then the asymptotic
// series (its first omitted term is below 1e-17 there).
inline double digamma(double x) {
  double shift = 0;
  while (x < 10) {
    shift -= 1 / x;
    x += 1;
  }
  const double r = 1 / (x * x);
  const double series =
      r * (1.0 / 12 - r * (1.0 / 120 - r * (1.0 / 252 - r * (1.0 / 240 - r * (1.0 / 132 - r * (691.0 / 32760 - r / 12))))));
  return shift + std::log(x) - 0.5 / x - series;
}

inline double log_beta(double a, double b) { return std::lgamma(a) + std::lgamma(b) - std::lgamma(a + b); }

// The hyperparameters once resolved against the data (scikit-learn's *_prior_ attributes).
struct ResolvedPriors {
  double weight_concentration = 0;
  double mean_precision = 0;
  double degrees_of_freedom = 0;
  Eigen::RowVectorXd mean;    // d
  Eigen::MatrixXd covariance;  // d x d, dense
};

}  // namespace detail

/// One-component statistics of the data (every responsibility 1), moments about the (weighted)
/// mean: what BayesianGaussianMixture resolves its default priors from. Full or Diagonal moments.
template <typename Scalar, int Dim, class D>
SufficientStatistics<Dim> data_statistics(const Eigen::MatrixBase<D>& X, const Eigen::VectorXd* w,
                                          CovarianceType moments) {
  return responsibility_statistics<Scalar, Dim>(X, w, 1, moments,
                                                [](Eigen::Index, Eigen::Index, auto&& block) { block.setOnes(); });
}

namespace detail {

// data_statistics over two passes of a RowSource (see stream.hpp) in blocks of `Scalar`. After each
// pass, reduce(stats, failure) completes its sums and raises `failure` (a pass's exception, or null):
// fit_source rethrows it; fit_mpi sums the ranks' statistics and raises a failure of any rank on all.
template <typename Scalar, int Dim, class Source, class Reduce>
SufficientStatistics<Dim> reduced_data_statistics(Source& source, CovarianceType moments, const char* where,
                                                  Reduce&& reduce) {
  const Eigen::Index d = source.n_features();
  EStepWorkspace<Scalar, Dim> ws(d, 1);
  ws.log_prob.setOnes();
  ws.log_norm.setZero();
  SufficientStatistics<Dim> stats;
  auto pass = [&]() {
    std::exception_ptr failure;
    try {
      for_each_buffer(source, ws.x, [&](Eigen::Index rows) {
        if (!ws.x.topRows(rows).allFinite())
          throw std::invalid_argument(message(where, ": the data has a value that is not finite (NaN or Inf)"));
        accumulate(0, rows, nullptr, ws, stats);
      });
    } catch (...) {
      failure = std::current_exception();
    }
    reduce(stats, failure);
  };
  stats.reset(CovarianceType::Diagonal, Eigen::Matrix<double, 1, Dim>::Zero(1, d));
  pass();
  if (!(stats.weight(0) > 0)) throw std::invalid_argument(message(where, ": the source has no rows"));
  // About the mean, so data far from the origin keeps its digits.
  const Eigen::Matrix<double, 1, Dim> mean = stats.first.row(0) / stats.weight(0);
  stats.reset(moments, mean);
  pass();
  return stats;
}

}  // namespace detail

/// As data_statistics, over two passes of a RowSource (see stream.hpp) in blocks of `Scalar`.
template <typename Scalar, int Dim, class Source>
SufficientStatistics<Dim> source_data_statistics(Source& source, CovarianceType moments) {
  return detail::reduced_data_statistics<Scalar, Dim>(source, moments, "fit_source",
                                                      [](SufficientStatistics<Dim>&, std::exception_ptr failure) {
                                                        if (failure) std::rethrow_exception(failure);
                                                      });
}

/// scikit-learn's `BayesianGaussianMixture` (1.2): a variational posterior over the weights,
/// means and precisions of a Gaussian mixture, under a Dirichlet-process or Dirichlet prior on
/// the weights and a normal-Wishart prior on each component. Components the data do not need get
/// weights near zero (see active_components). The E-step is GaussianMixture's kernel with other
/// per-component constants, the M-step reads the same SufficientStatistics (docs/maths.md).
/// \tparam Scalar float or double (sums in double either way) \tparam Dim d or Eigen::Dynamic
///
/// Sample weights are frequency weights: a weight of 2 counts a row twice (they are not rescaled,
/// since the posterior depends on the amount of data).
template <typename Scalar = double, int Dim = Eigen::Dynamic>
class BayesianGaussianMixture {
  static_assert(std::is_same_v<Scalar, float> || std::is_same_v<Scalar, double>,
                "gaussmix: Scalar must be float or double");
  static_assert(Dim == Eigen::Dynamic || Dim > 0, "gaussmix: Dim must be positive or Eigen::Dynamic");

 public:
  using Vector = Eigen::Matrix<Scalar, Dim, 1>;                                    ///< one point or mean
  using Matrix = Eigen::Matrix<Scalar, Dim, Dim>;                                  ///< one covariance
  using Weights = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;                        ///< K
  using Means = Eigen::Matrix<Scalar, Eigen::Dynamic, Dim>;                        ///< K x d
  using Samples = Eigen::Matrix<Scalar, Eigen::Dynamic, Dim>;                      ///< n x d
  using Responsibilities = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;  ///< n x K
  using ColumnVector = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;                   ///< n
  using Labels = Eigen::VectorXi;                                                  ///< n

  /// The variational posterior: per component the Dirichlet/Beta parameters of the weights,
  /// beta_k, nu_k, and the Parameters the E-step kernel evaluates (means m_k, covariances
  /// scikit-learn's `covariances_` = W_k^{-1} / nu_k, and weights exp(c_k - log_weight_offset)
  /// with c_k the per-component constant of the variational log-density).
  struct Posterior {
    Eigen::MatrixXd weight_concentration;  ///< K x 2 (Dirichlet process) or K x 1
    Eigen::VectorXd mean_precision;        ///< K: beta_k
    Eigen::VectorXd degrees_of_freedom;    ///< K: nu_k (Tied: one value repeated)
    Eigen::VectorXd weights;               ///< K: scikit-learn's weights_ (expected weights)
    Parameters<Scalar, Dim> expectation;   ///< what the E-step kernel evaluates
    double log_weight_offset = 0;          ///< max_k c_k, added back to log p(x)
    /// True before the first fit or m_step.
    bool empty() const { return expectation.empty(); }
  };

  /// \param options fit settings (as GaussianMixture), \param priors the hyperparameters; both
  /// validated here as far as they can be without data (std::invalid_argument naming the field).
  explicit BayesianGaussianMixture(Options options = {}, BayesianPriors priors = {})
      : options_(std::move(options)), priors_(std::move(priors)) {
    validate(options_);
    // The variational M-step has no constrained form (yet): refuse rather than ignore the lists.
    if (!options_.fixed_weights.empty() || !options_.fixed_means.empty() || !options_.fixed_covariances.empty())
      throw std::invalid_argument(detail::message(
          "Options::fixed_weights, fixed_means and fixed_covariances must be empty for BayesianGaussianMixture"));
    if (options_.prior)  // its priors are BayesianPriors; a MAP prior here would be silently ignored
      throw std::invalid_argument(
          detail::message("Options::prior must be empty for BayesianGaussianMixture (its priors are BayesianPriors)"));
    validate_priors(Dim == Eigen::Dynamic ? 0 : Dim);
  }

  /// The options given to the constructor.
  const Options& options() const { return options_; }
  /// The priors given to the constructor (empty fields: scikit-learn's data-dependent defaults).
  const BayesianPriors& priors() const { return priors_; }
  /// True once the model has a posterior (from fit or m_step).
  bool is_fitted() const { return !post_.empty(); }
  /// K, Options::n_components.
  int n_components() const { return options_.n_components; }
  /// d of the current posterior; 0 before there is one.
  int n_features() const { return post_.expectation.n_features(); }
  /// Options::covariance_type.
  CovarianceType covariance_type() const { return options_.covariance_type; }

  /// Fits the variational posterior to X (n x d, one sample per row); FitResult::lower_bound is
  /// scikit-learn's `lower_bound_` (the evidence lower bound up to its constant, not per sample).
  template <class D>
  FitResult fit(const Eigen::MatrixBase<D>& X) {
    check_fit_input(X);
    return detail::with_data_view(X, [&](const auto& V) { return fit_weighted(V, nullptr); });
  }

  /// Fits with a non-negative frequency weight per row.
  template <class D, class W>
  FitResult fit(const Eigen::MatrixBase<D>& X, const Eigen::MatrixBase<W>& sample_weight) {
    check_fit_input(X);
    detail::check_sample_weight(sample_weight, X.rows(), options_.n_components, "fit");
    const Eigen::VectorXd w = sample_weight.derived().template cast<double>().reshaped();
    return detail::with_data_view(X, [&](const auto& V) { return fit_weighted(V, &w); });
  }

  /// Expected mixing weights (scikit-learn's `weights_`, K, summing to 1).
  Weights weights() const {
    require_posterior("weights");
    return post_.weights.template cast<Scalar>();
  }
  /// Posterior means m_k, one per row (K x d).
  Means means() const {
    require_posterior("means");
    return post_.expectation.means;
  }
  /// Dense d x d covariance of component k: scikit-learn's `covariances_[k]`, W_k^{-1} / nu_k.
  Matrix covariance(int k) const {
    require_posterior("covariance");
    if (k < 0 || k >= n_components())
      throw std::out_of_range(
          detail::message("covariance: component ", k, " is out of range [0, ", n_components(), ")"));
    return post_.expectation.covariances.dense(k);
  }
  /// All K dense covariances.
  std::vector<Matrix> covariances() const {
    require_posterior("covariances");
    std::vector<Matrix> out;
    for (int k = 0; k < n_components(); ++k) out.push_back(post_.expectation.covariances.dense(k));
    return out;
  }
  /// Posterior weight parameters: K x 2 Beta parameters (Dirichlet process, scikit-learn's tuple
  /// as columns) or K x 1 Dirichlet parameters.
  Eigen::MatrixXd weight_concentration() const {
    require_posterior("weight_concentration");
    return post_.weight_concentration;
  }
  /// Posterior precision scale of each mean, beta_k (K).
  Eigen::VectorXd mean_precision() const {
    require_posterior("mean_precision");
    return post_.mean_precision;
  }
  /// Posterior Wishart degrees of freedom nu_k (K; Tied repeats its one value).
  Eigen::VectorXd degrees_of_freedom() const {
    require_posterior("degrees_of_freedom");
    return post_.degrees_of_freedom;
  }
  /// The whole posterior.
  const Posterior& posterior() const {
    require_posterior("posterior");
    return post_;
  }
  /// scikit-learn's lower_bound_ after the last fit (-inf after m_step on an unfitted model).
  double lower_bound() const {
    require_posterior("lower_bound");
    return lower_bound_;
  }

  /// The priors as resolved against the data of the last fit or first m_step (scikit-learn's
  /// `*_prior_` attributes): every field set, `covariance` d x d.
  BayesianPriors resolved_priors() const {
    require_posterior("resolved_priors");
    BayesianPriors q;
    q.weight_prior = priors_.weight_prior;
    q.weight_concentration = resolved_.weight_concentration;
    q.mean_precision = resolved_.mean_precision;
    q.degrees_of_freedom = resolved_.degrees_of_freedom;
    q.mean = Eigen::VectorXd(resolved_.mean.transpose());
    q.covariance = resolved_.covariance;
    return q;
  }

  /// Sets the posterior directly, as load_bayesian_json (gaussmix/io.hpp) restores a saved model. The
  /// expected weights and the E-step constants are computed from the arguments as the M-step computes
  /// them, so a model's own values give it back bit for bit. Throws std::invalid_argument naming what
  /// is wrong; the model is then unchanged.
  /// \param weight_concentration K x 2 (Dirichlet process) or K x 1
  /// \param mean_precision beta_k (K) \param degrees_of_freedom nu_k (K, one value for Tied)
  /// \param means K x d \param covariances K dense d x d, as covariance(k)
  /// \param resolved every field set, as resolved_priors() returns them
  /// \param lower_bound what fit with warm_start continues from (-inf: none)
  void set_posterior(const Eigen::MatrixXd& weight_concentration, const Eigen::VectorXd& mean_precision,
                     const Eigen::VectorXd& degrees_of_freedom, const Means& means,
                     const std::vector<Matrix>& covariances, const BayesianPriors& resolved, double lower_bound) {
    const int K = options_.n_components;
    const Eigen::Index d = means.cols();
    auto fail = [](const auto&... parts) { throw std::invalid_argument(detail::message("set_posterior: ", parts...)); };
    const Eigen::Index columns = priors_.weight_prior == WeightPrior::DirichletProcess ? 2 : 1;
    if (weight_concentration.rows() != K || weight_concentration.cols() != columns)
      fail("weight_concentration is ", weight_concentration.rows(), " x ", weight_concentration.cols(), ", expected ", K,
           " x ", columns, " for ", to_string(priors_.weight_prior));
    if (!weight_concentration.allFinite() || !(weight_concentration.array() > 0).all())
      fail("weight_concentration must be finite and > 0");
    if (mean_precision.size() != K) fail("mean_precision has ", mean_precision.size(), " entries, expected K = ", K);
    if (!mean_precision.allFinite() || !(mean_precision.array() > 0).all()) fail("mean_precision must be finite and > 0");
    if (means.rows() != K || d < 1) fail("means is ", means.rows(), " x ", d, ", expected K = ", K, " rows and d >= 1");
    if (!means.allFinite()) fail("means is not finite");
    if (degrees_of_freedom.size() != K)
      fail("degrees_of_freedom has ", degrees_of_freedom.size(), " entries, expected K = ", K);
    // psi((nu - j) / 2) for j < d needs nu > d - 1.
    if (!degrees_of_freedom.allFinite() || !(degrees_of_freedom.array() > d - 1.0).all())
      fail("degrees_of_freedom must be finite and > d - 1 = ", d - 1);
    if (options_.covariance_type == CovarianceType::Tied && (degrees_of_freedom.array() != degrees_of_freedom(0)).any())
      fail("degrees_of_freedom must be one value repeated for CovarianceType::Tied");
    if (static_cast<int>(covariances.size()) != K) fail("covariances has ", covariances.size(), " matrices, expected K = ", K);
    if (!resolved.weight_concentration || !resolved.mean_precision || !resolved.degrees_of_freedom || !resolved.mean ||
        !resolved.covariance)
      fail("resolved priors need every field (as resolved_priors() returns them)");
    if (resolved.weight_prior != priors_.weight_prior)
      fail("resolved priors are for ", to_string(resolved.weight_prior), ", the model's for ",
           to_string(priors_.weight_prior));
    validate_priors(resolved, d, "set_posterior: resolved ");
    if (std::isnan(lower_bound) || lower_bound == std::numeric_limits<double>::infinity())
      fail("lower_bound must be a number or -inf, got ", lower_bound);
    Posterior p;
    try {
      p.expectation.covariances = Covariances<Scalar, Dim>::from_dense(options_.covariance_type, static_cast<int>(d), covariances);
    } catch (const std::invalid_argument& error) {
      std::string what = error.what();  // "gaussmix: set_parameters: covariance 1 ..."
      const std::string from = "set_parameters: ";
      const auto at = what.find(from);
      if (at != std::string::npos) what.replace(at, from.size(), "set_posterior: ");
      throw std::invalid_argument(what);
    }
    p.weight_concentration = weight_concentration;
    p.mean_precision = mean_precision;
    p.degrees_of_freedom = degrees_of_freedom;
    p.expectation.means = means;
    finish_posterior(p);
    detail::ResolvedPriors r;
    r.weight_concentration = *resolved.weight_concentration;
    r.mean_precision = *resolved.mean_precision;
    r.degrees_of_freedom = *resolved.degrees_of_freedom;
    r.mean = resolved.mean->transpose();
    r.covariance = *resolved.covariance;
    resolved_ = std::move(r);
    post_ = std::move(p);
    lower_bound_ = lower_bound;
  }

  /// Components whose expected weight exceeds `threshold`, in increasing order.
  std::vector<int> active_components(double threshold = 1e-2) const {
    require_posterior("active_components");
    std::vector<int> out;
    for (int k = 0; k < n_components(); ++k)
      if (post_.weights(k) > threshold) out.push_back(k);
    return out;
  }

  /// Variational E-step: responsibilities r_ik proportional to exp(E[log pi_k] + E[log N(x_i | k)])
  /// into `resp` (n x K); returns the mean of log sum_k exp(...) per sample.
  template <class D>
  Scalar e_step(const Eigen::MatrixBase<D>& X, Responsibilities& resp) const {
    return detail::with_data_view(X, [&](const auto& V) { return e_step_view(V, resp); });
  }

  /// Variational M-step from X and responsibilities (n x K). On an unfitted model (or one of
  /// another d) this is scikit-learn's `_initialize(X, resp)`: the priors are resolved from X,
  /// then the posterior computed; `fit` with warm_start continues from it.
  template <class D>
  void m_step(const Eigen::MatrixBase<D>& X, const Responsibilities& resp) {
    return detail::with_data_view(X, [&](const auto& V) { return m_step_view(V, resp); });
  }

  /// Per-sample log sum_k exp(E[log pi_k] + E[log N(x_i | k)]) (scikit-learn's score_samples for
  /// this class: a variational quantity, not the log density of a point estimate).
  template <class D>
  ColumnVector score_samples(const Eigen::MatrixBase<D>& X) const {
    return detail::with_data_view(X, [&](const auto& V) { return score_samples_view(V); });
  }

  /// Mean of score_samples.
  template <class D>
  Scalar score(const Eigen::MatrixBase<D>& X) const {
    return detail::with_data_view(X, [&](const auto& V) { return score_view(V); });
  }

  /// Most probable component of each row (n).
  template <class D>
  Labels predict(const Eigen::MatrixBase<D>& X) const {
    return detail::with_data_view(X, [&](const auto& V) { return predict_view(V); });
  }

  /// Responsibilities of each component for each row (n x K).
  template <class D>
  Responsibilities predict_proba(const Eigen::MatrixBase<D>& X) const {
    Responsibilities out;
    e_step(X, out);
    return out;
  }

  /// n samples from the mixture of the expected weights, the means and covariance(k) (as
  /// scikit-learn's sample), drawn as GaussianMixture::sample does.
  Samples sample(Eigen::Index n, std::uint64_t seed) const {
    Labels labels;
    return sample(n, seed, labels);
  }
  /// As sample(n, seed), also returning the component of each row.
  Samples sample(Eigen::Index n, std::uint64_t seed, Labels& labels) const {
    require_posterior("sample");
    Options o = options_;
    o.callback = nullptr;
    GaussianMixture<Scalar, Dim> point(o);
    point.set_parameters(weights(), means(), covariances());
    return point.sample(n, seed, labels);
  }

  /// The variational EM driver behind every `fit` (the counterpart of GaussianMixture::fit_with).
  /// `data` summarises the data for the default priors (data_statistics); `initialise(rng)`
  /// returns a starting Posterior for one run (e.g. posterior_from_parameters); and
  /// `expectation(params, stats)` fills SufficientStatistics (reset about params.means) with the
  /// sums over the data, as for GaussianMixture (BlockedExpectation, SourceExpectation, ...).
  /// Strong guarantee: on a throw the model is unchanged.
  template <class Initialise, class Expectation>
  FitResult fit_with(const SufficientStatistics<Dim>& data, Initialise&& initialise, Expectation&& expectation) {
    const detail::ResolvedPriors saved = resolved_;
    try {
      resolved_ = resolve_from(data, "fit");
      return run_fit(initialise, expectation);
    } catch (...) {
      resolved_ = saved;
      throw;
    }
  }

  /// The total weight implied by `data` (its one N).
  static double total_weight(const SufficientStatistics<Dim>& data) { return data.weight(0); }

  /// The moments data_statistics should take for this model's covariance type.
  CovarianceType data_moments() const {
    return options_.covariance_type == CovarianceType::Full || options_.covariance_type == CovarianceType::Tied
               ? CovarianceType::Full
               : CovarianceType::Diagonal;
  }

 private:
  template <class Initialise, class Expectation>
  FitResult run_fit(Initialise& initialise, Expectation& expectation) {
    const bool warm = options_.warm_start && is_fitted();
    SufficientStatistics<Dim> stats;
    Posterior best;
    FitResult best_result = detail::run_em(
        options_, warm ? 1 : options_.n_init, options_.max_iter,
        warm ? lower_bound_ : -std::numeric_limits<double>::infinity(), true,
        [&](detail::Random& rng) { return warm ? post_ : Posterior(initialise(rng)); },
        [&](Posterior& p) {
          stats.reset(options_.covariance_type, p.expectation.means);
          expectation(static_cast<const Parameters<Scalar, Dim>&>(p.expectation), stats);
          const double entropy = responsibility_entropy(stats, p);
          p = maximise_posterior(stats, resolved_);
          return entropy + posterior_bound(p);
        },
        [&](Posterior&& p) { best = std::move(p); });
    post_ = std::move(best);
    lower_bound_ = best_result.lower_bound;
    return best_result;
  }

 public:
  /// A starting Posterior from maximum-likelihood Parameters (as the initialisers return them)
  /// fitted to data of total weight `total_weight`: the posterior of the statistics they imply.
  Posterior posterior_from_parameters(const Parameters<Scalar, Dim>& p, double total_weight) const {
    const int K = p.n_components(), d = p.n_features();
    const double floor = empty_component_weight<Scalar>(), reg = options_.reg_covar;
    SufficientStatistics<Dim> s;
    s.reset(options_.covariance_type, p.means);
    s.weight = (p.weights.template cast<double>() * (total_weight + K * floor)).array() - floor;
    s.weight = s.weight.cwiseMax(0.0);
    for (int k = 0; k < K; ++k) {
      Eigen::Matrix<double, Dim, Dim> c = p.covariances.dense_double(k);
      c.diagonal().array() -= reg;
      switch (options_.covariance_type) {
        case CovarianceType::Full:
          s.second[k] = s.weight(k) * c;
          break;
        case CovarianceType::Tied:
          if (k == 0) s.second[0] = s.weight.sum() * c;
          break;
        case CovarianceType::Diagonal:
        case CovarianceType::Spherical:
          s.second_diagonal.row(k) = s.weight(k) * c.diagonal().transpose();
          break;
      }
    }
    (void)d;
    return maximise_posterior(s, resolved_);
  }

 private:
  using MatrixD = Eigen::Matrix<double, Dim, Dim>;
  using RowD = Eigen::Matrix<double, 1, Dim>;

  [[noreturn]] static void bad_prior(const std::string& field, const std::string& what, const char* where = "") {
    throw std::invalid_argument(detail::message(where, "BayesianPriors::", field, " ", what));
  }

  // Checks what can be checked without data (d = 0) or against d.
  void validate_priors(Eigen::Index d) const { validate_priors(priors_, d, ""); }

  // `where` prefixes the messages ("set_posterior: resolved ").
  void validate_priors(const BayesianPriors& q, Eigen::Index d, const char* where) const {
    auto bad_prior = [where](const std::string& field, const std::string& what) {
      BayesianGaussianMixture::bad_prior(field, what, where);
    };
    if (q.weight_prior != WeightPrior::DirichletProcess && q.weight_prior != WeightPrior::DirichletDistribution)
      bad_prior("weight_prior", "must be DirichletProcess or DirichletDistribution");
    if (q.weight_concentration && !(std::isfinite(*q.weight_concentration) && *q.weight_concentration > 0))
      bad_prior("weight_concentration", detail::message("must be finite and > 0, got ", *q.weight_concentration));
    if (q.mean_precision && !(std::isfinite(*q.mean_precision) && *q.mean_precision > 0))
      bad_prior("mean_precision", detail::message("must be finite and > 0, got ", *q.mean_precision));
    if (q.degrees_of_freedom && !std::isfinite(*q.degrees_of_freedom))
      bad_prior("degrees_of_freedom", detail::message("must be finite, got ", *q.degrees_of_freedom));
    if (q.degrees_of_freedom && d > 0 && !(*q.degrees_of_freedom > d - 1.0))
      bad_prior("degrees_of_freedom",
                detail::message("must be > d - 1 = ", d - 1, ", got ", *q.degrees_of_freedom));
    if (q.mean) {
      if (!q.mean->allFinite()) bad_prior("mean", "is not finite");
      if (d > 0 && q.mean->size() != d)
        bad_prior("mean", detail::message("has ", q.mean->size(), " entries, expected d = ", d));
    }
    if (q.covariance) {
      const Eigen::MatrixXd& c = *q.covariance;
      if (c.rows() != c.cols()) bad_prior("covariance", detail::message("is ", c.rows(), " x ", c.cols(), ", not square"));
      if (d > 0 && c.rows() != d)
        bad_prior("covariance", detail::message("is ", c.rows(), " x ", c.cols(), ", expected ", d, " x ", d));
      if (!c.allFinite()) bad_prior("covariance", "is not finite");
      const double scale = std::max(c.cwiseAbs().maxCoeff(), std::numeric_limits<double>::min());
      const double tol = 1e-12 * scale;
      if ((c - c.transpose()).cwiseAbs().maxCoeff() > tol) bad_prior("covariance", "is not symmetric");
      const Eigen::MatrixXd off = c - Eigen::MatrixXd(c.diagonal().asDiagonal());
      if (options_.covariance_type == CovarianceType::Diagonal && off.cwiseAbs().maxCoeff() > tol)
        bad_prior("covariance", "must be diagonal for CovarianceType::Diagonal");
      if (options_.covariance_type == CovarianceType::Spherical &&
          (off.cwiseAbs().maxCoeff() > tol || (c.diagonal().array() - c(0, 0)).abs().maxCoeff() > tol))
        bad_prior("covariance", "must be a multiple of the identity for CovarianceType::Spherical");
      Eigen::LLT<Eigen::MatrixXd> llt(c);
      if (c.size() > 0 && (llt.info() != Eigen::Success || !(llt.matrixLLT().diagonal().array() > 0).all()))
        bad_prior("covariance", "is not positive definite");
    }
  }

  // The priors against the data: scikit-learn's _check_parameters.
  detail::ResolvedPriors resolve_from(const SufficientStatistics<Dim>& data, const char* where) const {
    const Eigen::Index d = data.n_features();
    validate_priors(d);
    detail::ResolvedPriors r;
    const int K = options_.n_components;
    r.weight_concentration = priors_.weight_concentration.value_or(1.0 / K);
    r.mean_precision = priors_.mean_precision.value_or(1.0);
    r.degrees_of_freedom = priors_.degrees_of_freedom.value_or(static_cast<double>(d));
    const double n = data.weight(0);
    r.mean = priors_.mean ? Eigen::RowVectorXd(priors_.mean->transpose())
                          : Eigen::RowVectorXd(data.reference.row(0) + data.first.row(0) / n);
    if (priors_.covariance) {
      r.covariance = *priors_.covariance;
      if (options_.covariance_type == CovarianceType::Spherical)
        r.covariance = Eigen::MatrixXd::Identity(d, d) * (*priors_.covariance)(0, 0);
    } else {
      if (!(n > 1))
        throw std::invalid_argument(detail::message(where, ": the default BayesianPriors::covariance (the covariance of X)",
                                                    " needs a total sample weight above 1, got ", n));
      const RowD delta = data.first.row(0) / n;
      Eigen::VectorXd var(d);
      if (data.second.empty()) {
        var = (data.second_diagonal.row(0) - n * delta.array().square().matrix()).transpose() / (n - 1);
        r.covariance = var.asDiagonal();
      } else {
        MatrixD m = data.second[0].template selfadjointView<Eigen::Lower>();
        r.covariance = (m - n * delta.transpose() * delta) / (n - 1);
      }
      if (options_.covariance_type == CovarianceType::Diagonal)
        r.covariance = Eigen::MatrixXd(r.covariance.diagonal().asDiagonal());
      if (options_.covariance_type == CovarianceType::Spherical)
        r.covariance = Eigen::MatrixXd::Identity(d, d) * r.covariance.diagonal().mean();
      if (!r.covariance.allFinite() || !(r.covariance.diagonal().array() > 0).all())
        throw std::invalid_argument(detail::message(
            where, ": the default BayesianPriors::covariance (the covariance of X) is not positive definite; "
                   "X may have a constant column. Give BayesianPriors::covariance"));
      Eigen::LLT<Eigen::MatrixXd> llt(r.covariance);
      if (llt.info() != Eigen::Success)
        throw std::invalid_argument(detail::message(
            where, ": the default BayesianPriors::covariance (the covariance of X) is not positive definite; "
                   "X may have collinear columns. Give BayesianPriors::covariance"));
    }
    return r;
  }

  template <class D>
  detail::ResolvedPriors resolve_priors(const Eigen::MatrixBase<D>& X, const Eigen::VectorXd* w,
                                        const char* where) const {
    return resolve_from(data_statistics<Scalar, Dim>(X, w, data_moments()), where);
  }

  // The variational M-step (scikit-learn's _estimate_weights, _estimate_means, _estimate_precisions
  // on _estimate_gaussian_parameters), from moments about the reference points; then the E-step
  // constants. N_k gets scikit-learn's 10 eps.
  Posterior maximise_posterior(const SufficientStatistics<Dim>& s, const detail::ResolvedPriors& r) const {
    const int K = s.n_components(), d = s.n_features();
    const double e = empty_component_weight<Scalar>(), reg = options_.reg_covar;
    const double beta0 = r.mean_precision, nu0 = r.degrees_of_freedom, gamma0 = r.weight_concentration;
    const CovarianceType type = s.type;
    Posterior p;
    const Eigen::VectorXd nk = s.weight.array() + e;
    // Weights.
    if (priors_.weight_prior == WeightPrior::DirichletProcess) {
      p.weight_concentration.resize(K, 2);
      double tail = 0;  // sum_{j > k} N_j, summed from the last component as scikit-learn's cumsum
      for (int k = K - 1; k >= 0; --k) {
        p.weight_concentration(k, 0) = 1 + nk(k);
        p.weight_concentration(k, 1) = gamma0 + tail;
        tail += nk(k);
      }
    } else {
      p.weight_concentration = (nk.array() + gamma0).matrix();
    }
    // Means: x_k = (N_k c_k + S_k) / (N_k + e) = c_k + (S_k - e c_k) / (N_k + e).
    Eigen::Matrix<double, Eigen::Dynamic, Dim> xk(K, d), delta(K, d);
    for (int k = 0; k < K; ++k) {
      delta.row(k) = (s.first.row(k) - e * s.reference.row(k)) / nk(k);
      xk.row(k) = s.reference.row(k) + delta.row(k);
    }
    p.mean_precision = (nk.array() + beta0).matrix();
    Eigen::Matrix<double, Eigen::Dynamic, Dim> means(K, d);
    for (int k = 0; k < K; ++k) means.row(k) = (beta0 * r.mean + nk(k) * xk.row(k)) / p.mean_precision(k);
    // Scatter about x_k: sum w r (x - c - delta)(x - c - delta)^T from the moments about c.
    auto scatter = [&](int k, const MatrixD& second) -> MatrixD {
      MatrixD m = second.template selfadjointView<Eigen::Lower>();
      const RowD sk = s.first.row(k), dk = delta.row(k);
      return m - sk.transpose() * dk - dk.transpose() * sk + s.weight(k) * dk.transpose() * dk;
    };
    std::vector<MatrixD> full;
    Eigen::MatrixXd variances;
    p.degrees_of_freedom.resize(K);
    switch (type) {
      case CovarianceType::Full:
        full.resize(K);
        for (int k = 0; k < K; ++k) {
          p.degrees_of_freedom(k) = nu0 + nk(k);
          const RowD diff = xk.row(k) - r.mean;
          MatrixD c = r.covariance;
          c += scatter(k, s.second[k]);
          c.diagonal().array() += nk(k) * reg;
          c += (nk(k) * beta0 / p.mean_precision(k)) * diff.transpose() * diff;
          const MatrixD symmetric = c.template selfadjointView<Eigen::Lower>();  // symmetric by construction
          full[k] = symmetric / p.degrees_of_freedom(k);
        }
        break;
      case CovarianceType::Tied: {
        const double total = nk.sum();
        p.degrees_of_freedom.setConstant(nu0 + total / K);
        MatrixD c = s.second[0].template selfadjointView<Eigen::Lower>();
        MatrixD spread = MatrixD::Zero(d, d);
        for (int k = 0; k < K; ++k) {
          const RowD sk = s.first.row(k), dk = delta.row(k);
          c -= sk.transpose() * dk + dk.transpose() * sk - s.weight(k) * dk.transpose() * dk;
          const RowD diff = xk.row(k) - r.mean;
          spread += (nk(k) / p.mean_precision(k)) * diff.transpose() * diff;
        }
        c.diagonal().array() += reg * total;
        c /= K;  // scikit-learn's sk * sum(N_k) / K: the pooled scatter counts once per K components
        c += r.covariance;
        c += (beta0 / K) * spread;
        const MatrixD symmetric = c.template selfadjointView<Eigen::Lower>();
        full.assign(1, symmetric / p.degrees_of_freedom(0));
        break;
      }
      case CovarianceType::Diagonal:
      case CovarianceType::Spherical: {
        const bool spherical = type == CovarianceType::Spherical;
        variances.resize(K, spherical ? 1 : d);
        for (int k = 0; k < K; ++k) {
          p.degrees_of_freedom(k) = nu0 + nk(k);
          const Eigen::ArrayXd sc = (s.second_diagonal.row(k).array() - 2 * s.first.row(k).array() * delta.row(k).array() +
                                     s.weight(k) * delta.row(k).array().square())
                                        .transpose();
          const Eigen::ArrayXd diff2 = (xk.row(k) - r.mean).array().square().transpose();
          const double shrink = beta0 / p.mean_precision(k);
          if (spherical) {
            variances(k, 0) = (r.covariance(0, 0) + (sc.mean() + nk(k) * reg) + nk(k) * shrink * diff2.mean()) /
                              p.degrees_of_freedom(k);
          } else {
            variances.row(k) = ((r.covariance.diagonal().array() + sc + nk(k) * reg + nk(k) * shrink * diff2) /
                                p.degrees_of_freedom(k))
                                   .transpose();
          }
        }
        // A float model keeps its variances in float; its factors are taken of those (as build()
        // does for Full and Tied), so that set_posterior, from the saved variances, gives them back bit for bit.
        if constexpr (std::is_same_v<Scalar, float>) variances = variances.cast<float>().cast<double>();
        break;
      }
    }
    p.expectation.means = means.template cast<Scalar>();
    p.expectation.covariances = Covariances<Scalar, Dim>::from_estimates(type, K, d, full, variances, reg);
    finish_posterior(p);
    return p;
  }

  // From the weight concentration, beta_k, nu_k and the covariances of `p`: the expected weights
  // (scikit-learn's weights_), E[log pi_k] and the E-step constants.
  void finish_posterior(Posterior& p) const {
    const int K = n_components_of(p), d = p.expectation.n_features();
    Eigen::VectorXd log_pi(K);
    if (priors_.weight_prior == WeightPrior::DirichletProcess) {
      double stick = 0, remaining = 1;
      p.weights.resize(K);
      for (int k = 0; k < K; ++k) {
        const double a = p.weight_concentration(k, 0), b = p.weight_concentration(k, 1);
        const double psi_sum = detail::digamma(a + b);
        log_pi(k) = detail::digamma(a) - psi_sum + stick;
        stick += detail::digamma(b) - psi_sum;
        p.weights(k) = a / (a + b) * remaining;
        remaining *= b / (a + b);
      }
      p.weights /= p.weights.sum();
    } else {
      const double psi_total = detail::digamma(p.weight_concentration.sum());
      for (int k = 0; k < K; ++k) log_pi(k) = detail::digamma(p.weight_concentration(k, 0)) - psi_total;
      p.weights = p.weight_concentration.col(0) / p.weight_concentration.sum();
    }
    // c_k = E[log pi_k] - d/2 log nu_k + (d log 2 + sum_j psi((nu_k - j)/2) - d / beta_k) / 2: the
    // kernel's density under covariances_ = W^{-1}/nu already holds log det(nu W)/2.
    Eigen::VectorXd c(K);
    for (int k = 0; k < K; ++k) {
      const double nu = p.degrees_of_freedom(k);
      double log_lambda = d * std::log(2.0);
      for (int j = 0; j < d; ++j) log_lambda += detail::digamma(0.5 * (nu - j));
      c(k) = log_pi(k) - 0.5 * d * std::log(nu) + 0.5 * (log_lambda - d / p.mean_precision(k));
    }
    p.log_weight_offset = c.maxCoeff();
    p.expectation.weights = (c.array() - p.log_weight_offset).exp().matrix().template cast<Scalar>();
  }

  // -sum_i w_i sum_k r_ik log r_ik of the E-step that produced `s` under `p`, from the sums:
  // log r_ik = lp_ik - log p_i with lp_ik = a_k - (x_i - m_k)^T P_k (x_i - m_k) / 2, so the
  // entropy is sum_i w_i log p_i - sum_k (N_k a_k - tr(P_k M_k) / 2), M_k the moments about m_k.
  double responsibility_entropy(const SufficientStatistics<Dim>& s, const Posterior& p) const {
    const int K = s.n_components(), d = s.n_features();
    const auto& q = p.expectation;
    const Scalar log_2pi_term = Scalar(-0.5 * d * 1.8378770664093454835606594728112);
    double entropy = s.log_likelihood;
    double trace_total = 0;
    for (int k = 0; k < K; ++k) {
      if (!(s.weight(k) > 0)) continue;
      const Scalar a = std::log(q.weights(k)) + log_2pi_term + q.covariances.log_det_precision_factor(k);
      entropy -= s.weight(k) * static_cast<double>(a);
      switch (s.type) {
        case CovarianceType::Full: {
          const MatrixD m = s.second[k].template selfadjointView<Eigen::Lower>();
          trace_total += Eigen::LLT<MatrixD>(q.covariances.dense_double(k)).solve(m).trace();
          break;
        }
        case CovarianceType::Tied:
          break;
        case CovarianceType::Diagonal:
        case CovarianceType::Spherical: {
          const MatrixD cov = q.covariances.dense_double(k);
          trace_total += (s.second_diagonal.row(k).transpose().array() / cov.diagonal().array()).sum();
          break;
        }
      }
    }
    if (s.type == CovarianceType::Tied) {
      const MatrixD m = s.second[0].template selfadjointView<Eigen::Lower>();
      trace_total += Eigen::LLT<MatrixD>(q.covariances.dense_double(0)).solve(m).trace();
    }
    return entropy + 0.5 * trace_total;
  }

  // The lower bound's terms in the posterior alone: -log_wishart - log_norm_weight -
  // d/2 sum_k log beta_k (scikit-learn's _compute_lower_bound without the entropy).
  double posterior_bound(const Posterior& p) const {
    const int K = n_components_of(p), d = p.expectation.n_features();
    auto log_wishart_norm = [&](double nu, double log_det_chol) {
      double g = 0;
      for (int j = 0; j < d; ++j) g += std::lgamma(0.5 * (nu - j));
      return -(nu * log_det_chol + nu * d * 0.5 * std::log(2.0) + g);
    };
    double log_wishart = 0;
    if (options_.covariance_type == CovarianceType::Tied) {
      const double nu = p.degrees_of_freedom(0);
      const double ldc = static_cast<double>(p.expectation.covariances.log_det_precision_factor(0)) - 0.5 * d * std::log(nu);
      log_wishart = K * log_wishart_norm(nu, ldc);
    } else {
      for (int k = 0; k < K; ++k) {
        const double nu = p.degrees_of_freedom(k);
        const double ldc =
            static_cast<double>(p.expectation.covariances.log_det_precision_factor(k)) - 0.5 * d * std::log(nu);
        log_wishart += log_wishart_norm(nu, ldc);
      }
    }
    double log_norm_weight = 0;
    if (priors_.weight_prior == WeightPrior::DirichletProcess) {
      for (int k = 0; k < K; ++k)
        log_norm_weight -= detail::log_beta(p.weight_concentration(k, 0), p.weight_concentration(k, 1));
    } else {
      log_norm_weight = std::lgamma(p.weight_concentration.sum());
      for (int k = 0; k < K; ++k) log_norm_weight -= std::lgamma(p.weight_concentration(k, 0));
    }
    return -log_wishart - log_norm_weight - 0.5 * d * p.mean_precision.array().log().sum();
  }

  static int n_components_of(const Posterior& p) { return static_cast<int>(p.mean_precision.size()); }

  void require_posterior(const char* where) const {
    if (!is_fitted())
      throw std::logic_error(detail::message(where, ": the model has no posterior yet; call fit() or m_step() first"));
  }

  template <class D>
  void check_fit_input(const Eigen::MatrixBase<D>& X) const {
    const bool warm = options_.warm_start && is_fitted();
    detail::check_data<Dim, D, Scalar>(X, "fit", warm ? n_features() : 0);
    if (X.rows() < options_.n_components)
      throw std::invalid_argument(
          detail::message("fit: X has ", X.rows(), " rows, fewer than n_components = ", options_.n_components));
  }

  template <class D>
  void check_scoring_input(const Eigen::MatrixBase<D>& X, const char* where) const {
    require_posterior(where);
    detail::check_data<Dim, D, Scalar>(X, where, n_features());
  }

  template <class D>
  FitResult fit_weighted(const Eigen::MatrixBase<D>& X, const Eigen::VectorXd* w);
  template <class D>
  Scalar e_step_view(const Eigen::MatrixBase<D>& X, Responsibilities& resp) const;
  template <class D>
  void m_step_view(const Eigen::MatrixBase<D>& X, const Responsibilities& resp);
  template <class D>
  ColumnVector score_samples_view(const Eigen::MatrixBase<D>& X) const;
  template <class D>
  Scalar score_view(const Eigen::MatrixBase<D>& X) const;
  template <class D>
  Labels predict_view(const Eigen::MatrixBase<D>& X) const;

  Options options_;
  BayesianPriors priors_;
  detail::ResolvedPriors resolved_;
  Posterior post_;
  double lower_bound_ = -std::numeric_limits<double>::infinity();
};

// Members declared in the class and defined out of it, so that they are not inline and
// GAUSSMIX_EXTERN_TEMPLATES (compiled_instances.hpp) can declare them extern. Not in the API reference.
/// \cond GAUSSMIX_INTERNAL
template <typename Scalar, int Dim>
template <class D>
auto BayesianGaussianMixture<Scalar, Dim>::e_step_view(const Eigen::MatrixBase<D>& X, Responsibilities& resp) const
    -> Scalar {
  check_scoring_input(X, "e_step");
  Responsibilities out(X.rows(), n_components());
  double total = 0;
  EStepWorkspace<Scalar, Dim> ws(X.cols(), n_components());
  for_each_expectation(X, post_.expectation, ws, [&](Eigen::Index start, Eigen::Index rows) {
    out.middleRows(start, rows) = ws.log_prob.topRows(rows);
    total += ws.log_norm.head(rows).template cast<double>().sum();
  });
  resp.swap(out);
  return static_cast<Scalar>(total / X.rows() + post_.log_weight_offset);
}

template <typename Scalar, int Dim>
template <class D>
auto BayesianGaussianMixture<Scalar, Dim>::m_step_view(const Eigen::MatrixBase<D>& X, const Responsibilities& resp)
    -> void {
  detail::check_data<Dim, D, Scalar>(X, "m_step", 0);
  const int K = options_.n_components;
  if (resp.rows() != X.rows() || resp.cols() != K)
    throw std::invalid_argument(
        detail::message("m_step: resp is ", resp.rows(), " x ", resp.cols(), ", expected ", X.rows(), " x ", K));
  if (!resp.allFinite() || (resp.array() < 0).any())
    throw std::invalid_argument(detail::message("m_step: resp must be finite and >= 0"));
  const bool fresh = !is_fitted() || n_features() != X.cols();
  detail::ResolvedPriors resolved = fresh ? resolve_priors(X, nullptr, "m_step") : resolved_;
  const SufficientStatistics<Dim> stats = responsibility_statistics<Scalar, Dim>(
      X, nullptr, K, options_.covariance_type,
      [&](Eigen::Index start, Eigen::Index rows, auto&& block) { block = resp.middleRows(start, rows); });
  Posterior next = maximise_posterior(stats, resolved);
  resolved_ = std::move(resolved);
  post_ = std::move(next);
  if (fresh) lower_bound_ = -std::numeric_limits<double>::infinity();
}

template <typename Scalar, int Dim>
template <class D>
auto BayesianGaussianMixture<Scalar, Dim>::score_samples_view(const Eigen::MatrixBase<D>& X) const -> ColumnVector {
  check_scoring_input(X, "score_samples");
  ColumnVector out(X.rows());
  EStepWorkspace<Scalar, Dim> ws(X.cols(), n_components());
  for_each_expectation(X, post_.expectation, ws, [&](Eigen::Index start, Eigen::Index rows) {
    out.segment(start, rows) =
        (ws.log_norm.head(rows).template cast<double>().array() + post_.log_weight_offset).template cast<Scalar>();
  });
  return out;
}

template <typename Scalar, int Dim>
template <class D>
auto BayesianGaussianMixture<Scalar, Dim>::score_view(const Eigen::MatrixBase<D>& X) const -> Scalar {
  check_scoring_input(X, "score");
  double total = 0;
  EStepWorkspace<Scalar, Dim> ws(X.cols(), n_components());
  for_each_expectation(X, post_.expectation, ws, [&](Eigen::Index, Eigen::Index rows) {
    total += ws.log_norm.head(rows).template cast<double>().sum();
  });
  return static_cast<Scalar>(total / X.rows() + post_.log_weight_offset);
}

template <typename Scalar, int Dim>
template <class D>
auto BayesianGaussianMixture<Scalar, Dim>::predict_view(const Eigen::MatrixBase<D>& X) const -> Labels {
  check_scoring_input(X, "predict");
  Labels out(X.rows());
  EStepWorkspace<Scalar, Dim> ws(X.cols(), n_components());
  for_each_expectation(X, post_.expectation, ws, [&](Eigen::Index start, Eigen::Index rows) {
    for (Eigen::Index i = 0; i < rows; ++i) ws.log_prob.row(i).maxCoeff(&out(start + i));
  });
  return out;
}

template <typename Scalar, int Dim>
template <class D>
auto BayesianGaussianMixture<Scalar, Dim>::fit_weighted(const Eigen::MatrixBase<D>& X, const Eigen::VectorXd* w)
    -> FitResult {
  const SufficientStatistics<Dim> data = data_statistics<Scalar, Dim>(X, w, data_moments());
  const double total = total_weight(data);
  const Eigen::VectorXd scaled = w ? Eigen::VectorXd(*w / w->maxCoeff()) : Eigen::VectorXd();
  BlockedExpectation<Scalar, Dim, D> expectation(X, w, options_.n_components);
  return fit_with(
      data,
      [&](detail::Random& rng) {
        // The initialisers are invariant to scaling the weights; scaled ones keep their sums in range.
        return posterior_from_parameters(initial_parameters<Scalar, Dim>(X, w ? &scaled : nullptr, options_, rng),
                                         total);
      },
      expectation);
}
/// \endcond

/// fit_source for a BayesianGaussianMixture: the variational fit of the rows of a RowSource
/// without holding them in memory, as fit_source(GaussianMixture&, ...) (reservoir sample for the
/// initialisation, one pass per iteration), plus two passes for the default priors. No mini-batch
/// mode: StreamOptions::batch_rows must be 0 (std::invalid_argument otherwise).
template <typename Scalar, int Dim, class Source>
FitResult fit_source(BayesianGaussianMixture<Scalar, Dim>& model, Source&& source, const StreamOptions& stream = {}) {
  using SourceType = std::remove_reference_t<Source>;
  SourceType& src = source;
  const Options& options = model.options();
  const bool warm = options.warm_start && model.is_fitted();
  const Eigen::Index d = detail::check_source_features<Dim>(src, warm ? model.n_features() : 0, "fit_source");
  validate(stream, options);
  if (stream.batch_rows != 0)  // refused rather than ignored, as by fit_mpi
    throw std::invalid_argument(detail::message("fit_source: StreamOptions::batch_rows must be 0 for ",
                                                "BayesianGaussianMixture (no mini-batch mode), got ",
                                                stream.batch_rows));
  SourceExpectation<Scalar, Dim, SourceType> expectation(src, options.n_components, options.n_components, 0,
                                                         "fit_source");
  const Eigen::Matrix<Scalar, Eigen::Dynamic, Dim> reservoir =
      detail::initialisation_sample<Scalar, Dim>(src, expectation, options, stream, d, warm);
  const SufficientStatistics<Dim> data = source_data_statistics<Scalar, Dim>(src, model.data_moments());
  const double total = model.total_weight(data);
  return model.fit_with(
      data,
      [&](detail::Random& rng) {
        return model.posterior_from_parameters(initial_parameters<Scalar, Dim>(reservoir, nullptr, options, rng),
                                               total);
      },
      expectation);
}

}  // namespace gaussmix
