// SPDX-License-Identifier: MIT
#pragma once

#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <limits>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include "covariance.hpp"
#include "detail/data_view.hpp"
#include "detail/em_runs.hpp"
#include "detail/random.hpp"
#include "detail/validation.hpp"
#include "estep.hpp"
#include "init.hpp"
#include "initial_parameters.hpp"
#include "missing.hpp"
#include "mstep.hpp"
#include "options.hpp"
#include "parameters.hpp"
#include "statistics.hpp"

namespace gaussmix {

/// A Gaussian mixture \f$p(x) = \sum_k \pi_k \mathcal{N}(x \mid \mu_k, \Sigma_k)\f$ fitted by EM,
/// with scikit-learn's semantics and numbers.
/// \tparam Scalar float or double (sums are accumulated in double either way)
/// \tparam Dim the number of features d at compile time, or Eigen::Dynamic
///
/// Const member functions do not modify the model and may run concurrently; `fit`, `m_step` and
/// `set_parameters` must not run concurrently with anything else on the same object.
template <typename Scalar = double, int Dim = Eigen::Dynamic>
class GaussianMixture {
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

  /// \param options fit settings, validated here (std::invalid_argument naming the field).
  explicit GaussianMixture(Options options = {}) : options_(options) { validate(options_); }

  /// The options given to the constructor.
  const Options& options() const { return options_; }
  /// True once the model has parameters (from fit, m_step or set_parameters).
  bool is_fitted() const { return !params_.empty(); }
  /// K, Options::n_components.
  int n_components() const { return options_.n_components; }
  /// d of the current parameters; 0 before there are any.
  int n_features() const { return params_.n_features(); }
  /// Options::covariance_type.
  CovarianceType covariance_type() const { return options_.covariance_type; }

  /// Fits the mixture to X (n x d, one sample per row) by EM; see FitResult.
  template <class D>
  FitResult fit(const Eigen::MatrixBase<D>& X) {
    check_fit_input(X);
    return detail::with_data_view(X, [&](const auto& V) { return fit_weighted(V, nullptr); });
  }

  /// Fits with a non-negative weight per row; a weight of 2 counts a row twice.
  template <class D, class W>
  FitResult fit(const Eigen::MatrixBase<D>& X, const Eigen::MatrixBase<W>& sample_weight) {
    check_fit_input(X);
    const Eigen::VectorXd w = detail::scaled_sample_weight(sample_weight, X.rows(), options_.n_components, "fit");
    return detail::with_data_view(X, [&](const auto& V) { return fit_weighted(V, &w); });
  }

  /// Mixing weights \f$\pi_k\f$ (K, summing to 1).
  const Weights& weights() const {
    require_parameters("weights");
    return params_.weights;
  }
  /// Component means \f$\mu_k\f$, one per row (K x d).
  Means means() const {
    require_parameters("means");
    return params_.means;
  }
  /// Dense d x d covariance \f$\Sigma_k\f$ of component k, whatever the covariance type.
  Matrix covariance(int k) const {
    require_parameters("covariance");
    if (k < 0 || k >= params_.n_components())
      throw std::out_of_range(
          detail::message("covariance: component ", k, " is out of range [0, ", params_.n_components(), ")"));
    return params_.covariances.dense(k);
  }
  /// All K dense covariances.
  std::vector<Matrix> covariances() const {
    require_parameters("covariances");
    std::vector<Matrix> out;
    for (int k = 0; k < params_.n_components(); ++k) out.push_back(params_.covariances.dense(k));
    return out;
  }

  /// Sets the parameters (e.g. to warm-start `fit`, or a model trained elsewhere). Weights must be
  /// >= 0 and sum to 1 within 1e-6 (renormalised beyond rounding), means finite, each covariance symmetric
  /// positive definite and of the covariance type's shape. Throws std::invalid_argument.
  template <class W, class M>
  void set_parameters(const Eigen::MatrixBase<W>& weights, const Eigen::MatrixBase<M>& means,
                      const std::vector<Matrix>& covariances) {
    const int K = options_.n_components;
    if (weights.size() != K || (weights.rows() != 1 && weights.cols() != 1))
      throw std::invalid_argument(detail::message("set_parameters: weights has ", weights.size(),
                                                  " entries, but Options::n_components is ", K));
    const Eigen::VectorXd w = weights.derived().template cast<double>().reshaped();
    for (int k = 0; k < K; ++k)
      if (!std::isfinite(w(k)) || w(k) < 0)
        throw std::invalid_argument(
            detail::message("set_parameters: weight ", k, " = ", w(k), " must be finite and >= 0"));
    if (std::abs(w.sum() - 1) > 1e-6)
      throw std::invalid_argument(detail::message("set_parameters: weights sum to ", w.sum(), ", not 1"));
    if (means.rows() != K || means.cols() < 1 || (Dim != Eigen::Dynamic && means.cols() != Dim))
      throw std::invalid_argument(detail::message("set_parameters: means is ", means.rows(), " x ", means.cols(),
                                                  ", expected ", K, " x ", Dim == Eigen::Dynamic ? "d" : "Dim"));
    if (!means.allFinite()) throw std::invalid_argument(detail::message("set_parameters: means are not finite"));
    detail::check_range<Scalar>(means, "set_parameters", "means");
    if (static_cast<int>(covariances.size()) != K)
      throw std::invalid_argument(
          detail::message("set_parameters: ", covariances.size(), " covariances given, expected ", K));
    Parameters<Scalar, Dim> p;
    p.covariances =
        Covariances<Scalar, Dim>::from_dense(options_.covariance_type, static_cast<int>(means.cols()), covariances);
    // Weights that sum to 1 up to rounding are kept bit for bit (a saved model reloads exactly).
    const bool rounding_only = std::abs(w.sum() - 1) <= 8 * K * std::numeric_limits<Scalar>::epsilon();
    p.weights = (rounding_only ? w : Eigen::VectorXd(w / w.sum())).template cast<Scalar>();
    p.means = means.template cast<Scalar>();
    params_ = std::move(p);
    prior_.reset();
    clear_online_state();
  }

  /// E-step: responsibilities \f$r_{ik} = \pi_k \mathcal{N}(x_i|k) / p(x_i)\f$ into `resp` (n x K);
  /// returns the mean log-likelihood per sample.
  template <class D>
  Scalar e_step(const Eigen::MatrixBase<D>& X, Responsibilities& resp) const {
    return detail::with_data_view(X, [&](const auto& V) { return e_step_view(V, resp); });
  }

  /// M-step: weights, means and covariances (+ reg_covar) from X and responsibilities (n x K).
  /// A component with no responsibility keeps its previous parameters, as do Options::fixed_* (which need
  /// parameters of X's shape: std::logic_error otherwise). Under Options::prior: the MAP M-step, with the
  /// prior's defaults resolved from X (an empty component then gets the prior's mode).
  template <class D>
  void m_step(const Eigen::MatrixBase<D>& X, const Responsibilities& resp) {
    return detail::with_data_view(X, [&](const auto& V) { return m_step_view(V, resp); });
  }

  /// Total log-likelihood \f$\sum_i \log \sum_k \pi_k \mathcal{N}(x_i \mid \mu_k, \Sigma_k)\f$.
  template <class D>
  Scalar log_likelihood(const Eigen::MatrixBase<D>& X) const {
    return static_cast<Scalar>(total_log_likelihood(X, "log_likelihood"));
  }

  /// Per-sample log density \f$\log p(x_i)\f$ (n).
  template <class D>
  ColumnVector score_samples(const Eigen::MatrixBase<D>& X) const {
    return detail::with_data_view(X, [&](const auto& V) { return score_samples_view(V); });
  }

  /// Mean log density per sample.
  template <class D>
  Scalar score(const Eigen::MatrixBase<D>& X) const {
    return static_cast<Scalar>(total_log_likelihood(X, "score") / X.rows());
  }

  /// Most probable component of each row (n): the first k with the largest
  /// log pi_k + log N(x_i | k), as scikit-learn's predict (the responsibilities are not normalised:
  /// no log-sum-exp, the argmax is the same).
  template <class D>
  Labels predict(const Eigen::MatrixBase<D>& X) const {
    return detail::with_data_view(X, [&](const auto& V) { return predict_view(V); });
  }

  /// Posterior probability of each component for each row (n x K).
  template <class D>
  Responsibilities predict_proba(const Eigen::MatrixBase<D>& X) const {
    return detail::with_data_view(X, [&](const auto& V) { return predict_proba_view(V); });
  }

  /// X (n x d) with each NaN replaced by its conditional expectation given the row's observed entries under
  /// the mixture, \f$E[x_m \mid x_o] = \sum_k r_{ik} (\mu_{k,m} + \Sigma_{k,mo} \Sigma_{k,oo}^{-1} (x_o - \mu_{k,o}))\f$
  /// with \f$r_{ik}\f$ the posterior given \f$x_o\f$; rows without NaN are returned unchanged. Whatever
  /// Options::missing. Throws std::invalid_argument for Inf or a row with every entry missing.
  template <class D>
  Samples impute(const Eigen::MatrixBase<D>& X) const {
    return detail::with_data_view(X, [&](const auto& V) { return impute_view(V); });
  }

  /// n samples drawn from the mixture with a std::mt19937_64 seeded by `seed`: for each row a
  /// component by its weight, then mean + L z with z standard normal (Box-Muller) and L L^T = Sigma.
  Samples sample(Eigen::Index n, std::uint64_t seed) const {
    Labels labels;
    return sample(n, seed, labels);
  }

  /// As sample(n, seed), also returning the component each row was drawn from.
  Samples sample(Eigen::Index n, std::uint64_t seed, Labels& labels) const;

  /// Bayesian information criterion \f$-2 \log L + p \log n\f$ on X (lower is better). Under Options::prior
  /// it stays this likelihood criterion, at the fitted (MAP) parameters, without the prior's density: the
  /// modified BIC of Fraley & Raftery (2007).
  template <class D>
  Scalar bic(const Eigen::MatrixBase<D>& X) const {
    const double log_l = total_log_likelihood(X, "bic");
    return static_cast<Scalar>(-2 * log_l + n_parameters() * std::log(static_cast<double>(X.rows())));
  }

  /// Akaike information criterion \f$-2 \log L + 2p\f$ on X (lower is better); under Options::prior, as bic(),
  /// the likelihood's criterion at the fitted parameters.
  template <class D>
  Scalar aic(const Eigen::MatrixBase<D>& X) const {
    const double log_l = total_log_likelihood(X, "aic");
    return static_cast<Scalar>(-2 * log_l + 2.0 * n_parameters());
  }

  /// Free parameters: K - 1 weights, K d mean entries and the covariance type's own count.
  int n_parameters() const {
    require_parameters("n_parameters");
    const long K = params_.n_components(), d = params_.n_features();
    return static_cast<int>(K - 1 + K * d + Covariances<Scalar, Dim>::n_parameters(options_.covariance_type, K, d));
  }

  /// The EM driver behind every `fit`, the extension point for data that is not one matrix
  /// (streamed, chunked, distributed). `initialise(rng)` returns starting Parameters for one run;
  /// `expectation(params, stats)` fills SufficientStatistics (already reset about params.means) with
  /// the sums over all the data. Semantics as `fit`: warm start, n_init, tol, max_iter.
  template <class Initialise, class Expectation>
  FitResult fit_with(Initialise&& initialise, Expectation&& expectation) {
    const bool warm = options_.warm_start && is_fitted();
    const FixedParameters fixed = fixed_parameters(warm);
    SufficientStatistics<Dim> stats;
    Parameters<Scalar, Dim> best;
    std::optional<ResolvedPrior> prior;  // Options::prior, resolved once per fit at the first E-step
    FitResult best_result = detail::run_em(
        options_, warm ? 1 : options_.n_init, options_.max_iter, -std::numeric_limits<double>::infinity(), true,
        [&](detail::Random& rng) { return warm ? params_ : Parameters<Scalar, Dim>(initialise(rng)); },
        [&](Parameters<Scalar, Dim>& p) {
          stats.reset(options_.covariance_type, p.means);
          expectation(static_cast<const Parameters<Scalar, Dim>&>(p), stats);
          const double lower_bound = bound(stats, p, prior, "fit");
          p = maximise_with(stats, p, &fixed, prior);
          return lower_bound;
        },
        [&](Parameters<Scalar, Dim>&& p) { best = std::move(p); });
    params_ = std::move(best);
    prior_ = std::move(prior);
    clear_online_state();
    return best_result;
  }

  /// One online (stepwise) EM update from a batch of rows (Cappe & Moulines 2009): the batch's
  /// statistics under the current parameters are blended into the running normalised statistics,
  /// \f$s \leftarrow (1 - \rho_t) s + \rho_t s_{batch}\f$ (Options::online gives rho_t), then the M-step
  /// (with reg_covar) from s. The first update after fit or set_parameters uses rho = 1, so partial_fit(X)
  /// then equals one EM iteration of fit on X; it returns n_iter = 1 and lower_bound = the batch's mean
  /// log-likelihood under the parameters before the update.
  /// On a model without parameters the call equals fit(X) with n_init = Options::online.first_batch_n_init
  /// (default 16, or Options::n_init if > 1) and max_iter = first_batch_max_iter (default 3), and returns
  /// fit's FitResult: one k-means start on a few thousand rows left 14 of 72 random mixtures in a poor local
  /// optimum for the whole stream, 16 left none (docs/scaling.md). Under Options::prior every update is the MAP
  /// M-step on the running statistics, with the prior of the last fit (else resolved from the batch); the
  /// lower_bound of an update on a fitted model stays the batch's mean log-likelihood. Throws std::invalid_argument for
  /// a bad batch (the first one smaller than n_components); nothing changes on a throw.
  template <class D>
  FitResult partial_fit(const Eigen::MatrixBase<D>& X) {
    check_partial_fit_input(X);
    return detail::with_data_view(X, [&](const auto& V) { return partial_fit_weighted(V, nullptr); });
  }

  /// As partial_fit(X), each row counted with its weight (>= 0).
  template <class D, class W>
  FitResult partial_fit(const Eigen::MatrixBase<D>& X, const Eigen::MatrixBase<W>& sample_weight) {
    check_partial_fit_input(X);
    const Eigen::VectorXd w =
        detail::scaled_sample_weight(sample_weight, X.rows(), is_fitted() ? 1 : options_.n_components, "partial_fit");
    return detail::with_data_view(X, [&](const auto& V) { return partial_fit_weighted(V, &w); });
  }

  /// partial_fit updates since the parameters were last set (0 after fit, set_parameters, m_step).
  std::int64_t online_steps() const { return online_steps_; }

  /// The running statistics of partial_fit, unnormalised: divided by their total_weight they are the
  /// normalised statistics s. Empty (K = 0) while online_steps() == 0.
  const SufficientStatistics<Dim>& online_statistics() const { return online_stats_; }

  /// Restores partial_fit's state (from online_statistics() and online_steps() of an earlier model with
  /// these parameters; load_json uses it), so that the stream continues as if never stopped.
  /// Throws std::invalid_argument if the statistics do not fit the model, std::logic_error without parameters.
  void set_online_state(const SufficientStatistics<Dim>& stats, std::int64_t steps) {
    require_parameters("set_online_state");
    if (steps < 0) throw std::invalid_argument(detail::message("set_online_state: steps = ", steps, " must be >= 0"));
    if (steps == 0) {
      clear_online_state();
      return;
    }
    const int K = options_.n_components, d = params_.n_features();
    const bool dense = stats.type == CovarianceType::Full || stats.type == CovarianceType::Tied;
    const std::size_t matrices = stats.type == CovarianceType::Full ? K : (stats.type == CovarianceType::Tied ? 1 : 0);
    bool ok = stats.type == options_.covariance_type && stats.reference.rows() == K && stats.reference.cols() == d &&
              stats.weight.size() == K && stats.first.rows() == K && stats.first.cols() == d &&
              stats.second.size() == matrices && stats.second_diagonal.rows() == (dense ? 0 : K) &&
              (dense || stats.second_diagonal.cols() == d);
    for (std::size_t k = 0; ok && k < stats.second.size(); ++k)
      ok = stats.second[k].rows() == d && stats.second[k].cols() == d && stats.second[k].allFinite();
    if (!ok)
      throw std::invalid_argument(detail::message("set_online_state: the statistics do not match the model (type ",
                                                  to_string(options_.covariance_type), ", K = ", K, ", d = ", d, ")"));
    if (!stats.reference.allFinite() || !stats.first.allFinite() || !stats.second_diagonal.allFinite() ||
        !stats.weight.allFinite() || (stats.weight.array() < 0).any() || !std::isfinite(stats.log_likelihood) ||
        !(stats.total_weight > 0) || !std::isfinite(stats.total_weight))
      throw std::invalid_argument(
          detail::message("set_online_state: the statistics must be finite, weights >= 0, total_weight > 0"));
    online_stats_ = stats;
    online_steps_ = steps;
  }

  /// Semi-supervised fit: labels(i) in [0, K) fixes row i's responsibilities to that component (one-hot),
  /// -1 leaves the row to EM. FitResult::lower_bound is the mean (per unit of sample weight) of the
  /// semi-supervised log-likelihood: \f$\log(\pi_{l_i} \mathcal{N}(x_i \mid \mu_{l_i}, \Sigma_{l_i}))\f$ for a
  /// labelled row, \f$\log p(x_i)\f$ for the others; EM never decreases it. Without a warm start, each
  /// initialisation's components are renumbered to agree with the labels (docs/missing_and_constraints.md).
  /// labels: n integers; std::invalid_argument for a wrong length or a label outside [-1, K).
  template <class D, class L>
  FitResult fit_with_labels(const Eigen::MatrixBase<D>& X, const Eigen::MatrixBase<L>& labels) {
    check_fit_input(X);
    const Eigen::VectorXi known = checked_labels(labels, X.rows());
    return detail::with_data_view(X, [&](const auto& V) { return fit_labelled(V, nullptr, known); });
  }

  /// As fit_with_labels(X, labels), each row counted with its weight (>= 0).
  template <class D, class L, class W>
  FitResult fit_with_labels(const Eigen::MatrixBase<D>& X, const Eigen::MatrixBase<L>& labels,
                            const Eigen::MatrixBase<W>& sample_weight) {
    check_fit_input(X);
    const Eigen::VectorXi known = checked_labels(labels, X.rows());
    const Eigen::VectorXd w =
        detail::scaled_sample_weight(sample_weight, X.rows(), options_.n_components, "fit_with_labels");
    return detail::with_data_view(X, [&](const auto& V) { return fit_labelled(V, &w, known); });
  }

  /// Options::prior as the last fit, partial_fit or m_step resolved it against the data (empty without a
  /// prior, and after set_parameters until the next of those).
  const std::optional<ResolvedPrior>& resolved_prior() const { return prior_; }

 private:
  // The bound of an E-step with parameters p: the mean log-likelihood, plus under Options::prior the log
  // prior density of p per unit of weight; resolves the prior from these statistics if it is still empty.
  double bound(const SufficientStatistics<Dim>& stats, const Parameters<Scalar, Dim>& p,
               std::optional<ResolvedPrior>& prior, const char* where) const {
    const double mean_log_likelihood = stats.log_likelihood / stats.total_weight;
    if (!options_.prior) return mean_log_likelihood;
    if (!prior) prior = resolve_prior(*options_.prior, stats, options_.covariance_type, options_.n_components, where);
    return mean_log_likelihood + log_prior_density(p, *prior) / stats.total_weight;
  }

  // The M-step of fit and partial_fit: maximum likelihood (under `fixed`), or MAP under `prior`.
  Parameters<Scalar, Dim> maximise_with(const SufficientStatistics<Dim>& stats, const Parameters<Scalar, Dim>& p,
                                        const FixedParameters* fixed, const std::optional<ResolvedPrior>& prior) const {
    if (prior) return maximise_map<Scalar, Dim>(stats, options_.reg_covar, *prior);
    return maximise<Scalar, Dim>(stats, options_.reg_covar, &p, fixed);
  }

  // Options::fixed_* as flags; they keep current values, so they need parameters and a warm start.
  FixedParameters fixed_parameters(bool warm) const {
    FixedParameters fixed = FixedParameters::from(options_);
    if (fixed.any() && !warm)
      throw std::logic_error(detail::message(
          "fit: Options::fixed_weights, fixed_means or fixed_covariances keep current parameters, which needs ",
          is_fitted()
              ? "Options::warm_start = true (without it fit re-initialises)"
              : "a model with parameters (call set_parameters() or fit() first) and Options::warm_start = true"));
    return fixed;
  }

  template <class L>
  Eigen::VectorXi checked_labels(const Eigen::MatrixBase<L>& labels, Eigen::Index n) const {
    static_assert(std::is_integral_v<typename L::Scalar>, "gaussmix: fit_with_labels: labels must be integers");
    if (labels.size() != n || (labels.rows() != 1 && labels.cols() != 1))
      throw std::invalid_argument(detail::message("fit_with_labels: labels has ", labels.rows(), " x ", labels.cols(),
                                                  " entries, X has ", n,
                                                  " rows (one label per row: a component in [0, K) or -1)"));
    Eigen::VectorXi out(n);
    for (Eigen::Index i = 0; i < n; ++i) {
      const long long label = static_cast<long long>(labels.derived().reshaped()(i));
      if (label < -1 || label >= options_.n_components)
        throw std::invalid_argument(detail::message("fit_with_labels: labels(", i, ") = ", label,
                                                    " is outside [-1, n_components = ", options_.n_components, ")"));
      out(i) = static_cast<int>(label);
    }
    return out;
  }

  // A fresh initialisation knows nothing of the labels: renumber its components so that as many labelled
  // rows (by weight) as possible start in their own component, greedily (the largest count first, ties to
  // the lowest label, then component), so that label l means component l from the first iteration.
  template <class D>
  Parameters<Scalar, Dim> follow_labels(Parameters<Scalar, Dim> p, const Eigen::MatrixBase<D>& X,
                                        const Eigen::VectorXd* w, const Eigen::VectorXi& labels) const {
    const int K = p.n_components();
    Eigen::MatrixXd count = Eigen::MatrixXd::Zero(K, K);  // (label, most probable initial component)
    EStepWorkspace<Scalar, Dim> ws(X.cols(), K);
    detail::for_each_block<Scalar>(X.rows(), X.cols(), [&](Eigen::Index start, Eigen::Index rows) {
      detail::copy_rows(X, start, rows, ws.x);
      weighted_log_prob(p, rows, ws);
      for (Eigen::Index i = 0; i < rows; ++i) {
        if (labels(start + i) < 0) continue;
        Eigen::Index best = 0;
        ws.log_prob.row(i).maxCoeff(&best);
        count(labels(start + i), best) += w ? (*w)(start + i) : 1.0;
      }
    });
    std::vector<int> source(K, -1);  // component l of the result is component source[l] of p
    std::vector<bool> taken(K, false);
    for (int step = 0; step < K; ++step) {
      int best_l = -1, best_k = -1;
      for (int l = 0; l < K; ++l)
        for (int k = 0; k < K; ++k)
          if (source[l] < 0 && !taken[k] && (best_l < 0 || count(l, k) > count(best_l, best_k))) {
            best_l = l;
            best_k = k;
          }
      source[best_l] = best_k;
      taken[best_k] = true;
    }
    bool identity = true;
    for (int k = 0; k < K; ++k) identity = identity && source[k] == k;
    if (identity) return p;
    Parameters<Scalar, Dim> out;
    out.weights.resize(K);
    out.means.resize(K, p.n_features());
    std::vector<Matrix> covariances;
    for (int l = 0; l < K; ++l) {
      out.weights(l) = p.weights(source[l]);
      out.means.row(l) = p.means.row(source[l]);
      covariances.push_back(p.covariances.dense(source[l]));
    }
    out.covariances = Covariances<Scalar, Dim>::from_dense(p.covariances.type(), p.n_features(), covariances);
    return out;
  }

  template <class D>
  FitResult fit_labelled(const Eigen::MatrixBase<D>& X, const Eigen::VectorXd* w, const Eigen::VectorXi& labels);

  bool marginalise() const { return options_.missing == MissingValues::Marginalise; }

  // The initialisers' data under Options::missing = Marginalise: X with each NaN replaced by its column's
  // (weighted) mean of observed values; empty when X has no NaN (the initialisers then see X itself).
  template <class D>
  using FilledData = Eigen::Matrix<typename D::Scalar, Eigen::Dynamic, Eigen::Dynamic,
                                   D::IsRowMajor ? Eigen::RowMajor : Eigen::ColMajor>;
  template <class D>
  std::optional<FilledData<D>> mean_filled(const Eigen::MatrixBase<D>& X, const Eigen::VectorXd* w,
                                           const char* where) const {
    std::optional<FilledData<D>> out;
    if constexpr (!std::is_integral_v<typename D::Scalar>) {
      if (marginalise() && X.hasNaN()) {
        out.emplace(X);
        detail::fill_with_column_means(*out, w, where);
      }
    }
    return out;
  }

  // The scorers' pass: for_each_expectation, with rows with NaN marginalised under Options::missing = Marginalise.
  template <class D, class Fn>
  void expectations(const Eigen::MatrixBase<D>& X, EStepWorkspace<Scalar, Dim>& ws, Fn&& fn) const {
    if (!marginalise()) {
      for_each_expectation(X, params_, ws, std::forward<Fn>(fn));
      return;
    }
    MissingRows<Scalar, Dim> missing;
    detail::for_each_block<Scalar>(X.rows(), X.cols(), [&](Eigen::Index start, Eigen::Index rows) {
      detail::copy_rows(X, start, rows, ws.x);
      missing.log_prob(params_, rows, ws, false);
      normalise(rows, ws);
      fn(start, rows);
    });
  }

  void require_parameters(const char* where) const {
    if (!is_fitted())
      throw std::logic_error(
          detail::message(where, ": the model has no parameters yet; call fit() or set_parameters() first"));
  }

  void clear_online_state() {
    online_steps_ = 0;
    online_stats_ = SufficientStatistics<Dim>();
  }

  template <class D>
  void check_partial_fit_input(const Eigen::MatrixBase<D>& X) const {
    if (marginalise())
      detail::check_data_missing<Dim, D, Scalar>(X, "partial_fit", is_fitted() ? params_.n_features() : 0,
                                                 !is_fitted());
    else
      detail::check_data<Dim, D, Scalar>(X, "partial_fit", is_fitted() ? params_.n_features() : 0);
    if (!is_fitted() && X.rows() < options_.n_components)
      throw std::invalid_argument(detail::message("partial_fit: the first batch initialises the model and has ",
                                                  X.rows(),
                                                  " rows, fewer than n_components = ", options_.n_components));
  }

  // Step size of update number online_steps_ + 1.
  double online_step_size() const {
    if (online_steps_ == 0) return 1;
    if (options_.online.constant_step) return *options_.online.constant_step;
    const double t = static_cast<double>(online_steps_ + 1);
    return std::pow(t + options_.online.step_offset, -options_.online.step_decay);
  }

  template <class D>
  FitResult partial_fit_weighted(const Eigen::MatrixBase<D>& X, const Eigen::VectorXd* w);

  // Initialisations of the first batch: the user's n_init if they asked for several, else 16.
  int first_batch_runs() const {
    if (options_.online.first_batch_n_init > 0) return options_.online.first_batch_n_init;
    return options_.n_init > 1 ? options_.n_init : 16;
  }

  // The first batch of an unfitted model: EM on the batch from first_batch_runs() initialisations (seeds
  // run_seed(seed, run), as fit's), at most first_batch_max_iter iterations each, the best last lower
  // bound kept; that run's last batch statistics start the running statistics (rho = 1). So the call
  // equals fit(X) with n_init = first_batch_runs() and max_iter = first_batch_max_iter, bit for bit.
  template <class D>
  FitResult partial_fit_first_batch(const Eigen::MatrixBase<D>& X, const Eigen::VectorXd* w) {
    fixed_parameters(false);  // throws if some are fixed: there is nothing to keep yet
    BlockedExpectation<Scalar, Dim, D> expectation(X, w, options_.n_components);
    expectation.set_missing(marginalise());
    const auto filled = mean_filled(X, w, "partial_fit");
    SufficientStatistics<Dim> stats, best_stats;
    Parameters<Scalar, Dim> best;
    std::optional<ResolvedPrior> prior;
    FitResult best_result = detail::run_em(
        options_, first_batch_runs(), options_.online.first_batch_max_iter, -std::numeric_limits<double>::infinity(),
        false,
        [&](detail::Random& rng) {
          return filled ? initial_parameters<Scalar, Dim>(detail::DataView<FilledData<D>>(*filled), w, options_, rng)
                        : initial_parameters<Scalar, Dim>(X, w, options_, rng);
        },
        [&](Parameters<Scalar, Dim>& p) {
          stats.reset(options_.covariance_type, p.means);
          expectation(static_cast<const Parameters<Scalar, Dim>&>(p), stats);
          const double lower_bound = bound(stats, p, prior, "partial_fit");
          p = maximise_with(stats, p, nullptr, prior);
          return lower_bound;
        },
        [&](Parameters<Scalar, Dim>&& p) {
          best = std::move(p);
          best_stats = stats;  // the run's last E-step
        });
    // Commit only now: every step above may throw.
    params_ = std::move(best);
    prior_ = std::move(prior);
    online_stats_ = std::move(best_stats);
    online_steps_ = 1;
    return best_result;
  }

  template <class D>
  void check_fit_input(const Eigen::MatrixBase<D>& X) const {
    const bool warm = options_.warm_start && is_fitted();
    if (marginalise())
      detail::check_data_missing<Dim, D, Scalar>(X, "fit", warm ? params_.n_features() : 0, true);
    else
      detail::check_data<Dim, D, Scalar>(X, "fit", warm ? params_.n_features() : 0);
    if (X.rows() < options_.n_components)
      throw std::invalid_argument(
          detail::message("fit: X has ", X.rows(), " rows, fewer than n_components = ", options_.n_components));
  }

  template <class D>
  void check_scoring_input(const Eigen::MatrixBase<D>& X, const char* where) const {
    require_parameters(where);
    if (marginalise())
      detail::check_data_missing<Dim, D, Scalar>(X, where, params_.n_features(), false);
    else
      detail::check_data<Dim, D, Scalar>(X, where, params_.n_features());
  }

  template <class D>
  double total_log_likelihood(const Eigen::MatrixBase<D>& X, const char* where) const {
    return detail::with_data_view(X, [&](const auto& V) { return total_log_likelihood_view(V, where); });
  }
  template <class D>
  double total_log_likelihood_view(const Eigen::MatrixBase<D>& X, const char* where) const;
  template <class D>
  Scalar e_step_view(const Eigen::MatrixBase<D>& X, Responsibilities& resp) const;
  template <class D>
  void m_step_view(const Eigen::MatrixBase<D>& X, const Responsibilities& resp);
  template <class D>
  ColumnVector score_samples_view(const Eigen::MatrixBase<D>& X) const;
  template <class D>
  Labels predict_view(const Eigen::MatrixBase<D>& X) const;
  template <class D>
  Responsibilities predict_proba_view(const Eigen::MatrixBase<D>& X) const;
  template <class D>
  Samples impute_view(const Eigen::MatrixBase<D>& X) const;

  static void require_finite(const EStepWorkspace<Scalar, Dim>& ws, Eigen::Index start, Eigen::Index rows,
                             const char* where) {
    for (Eigen::Index i = 0; i < rows; ++i)
      if (!std::isfinite(ws.log_norm(i)))
        throw NumericalError(detail::message(
            where, ": sample ", start + i, " has zero density under every component (log p = ", ws.log_norm(i),
            "); the data may be too extreme for ", sizeof(Scalar) == 4 ? "float" : "double"));
  }

  template <class D>
  FitResult fit_weighted(const Eigen::MatrixBase<D>& X, const Eigen::VectorXd* w);

  Options options_;
  Parameters<Scalar, Dim> params_;
  std::optional<ResolvedPrior> prior_;      // Options::prior as last resolved (partial_fit continues with it)
  SufficientStatistics<Dim> online_stats_;  // partial_fit's running statistics (see online_statistics)
  std::int64_t online_steps_ = 0;
  std::vector<EStepWorkspace<Scalar, Dim>> online_workspaces_;  // partial_fit's E-step buffers, kept between calls
};

// Members declared in the class and defined out of it, so that they are not inline and
// GAUSSMIX_EXTERN_TEMPLATES (compiled_instances.hpp) can declare them extern. Not in the API reference.
/// \cond GAUSSMIX_INTERNAL
template <typename Scalar, int Dim>
template <class D>
auto GaussianMixture<Scalar, Dim>::e_step_view(const Eigen::MatrixBase<D>& X, Responsibilities& resp) const -> Scalar {
  check_scoring_input(X, "e_step");
  Responsibilities out(X.rows(), params_.n_components());
  double total = 0;
  EStepWorkspace<Scalar, Dim> ws(X.cols(), params_.n_components());
  expectations(X, ws, [&](Eigen::Index start, Eigen::Index rows) {
    require_finite(ws, start, rows, "e_step");
    out.middleRows(start, rows) = ws.log_prob.topRows(rows);
    total += ws.log_norm.head(rows).template cast<double>().sum();
  });
  resp.swap(out);
  return static_cast<Scalar>(total / X.rows());
}

template <typename Scalar, int Dim>
template <class D>
auto GaussianMixture<Scalar, Dim>::m_step_view(const Eigen::MatrixBase<D>& X, const Responsibilities& resp) -> void {
  detail::check_data<Dim, D, Scalar>(X, "m_step", 0);
  const int K = options_.n_components;
  if (resp.rows() != X.rows() || resp.cols() != K)
    throw std::invalid_argument(
        detail::message("m_step: resp is ", resp.rows(), " x ", resp.cols(), ", expected ", X.rows(), " x ", K));
  if (!resp.allFinite() || (resp.array() < 0).any())
    throw std::invalid_argument(detail::message("m_step: resp must be finite and >= 0"));
  const bool same_shape = is_fitted() && params_.n_features() == X.cols();
  const FixedParameters fixed = FixedParameters::from(options_);  // maximise throws if there is nothing to keep
  const auto fill = [&](Eigen::Index start, Eigen::Index rows, auto&& block) { block = resp.middleRows(start, rows); };
  if (options_.prior) {  // MAP under the prior resolved from X
    std::optional<ResolvedPrior> prior = resolve_prior_from_data<Scalar, Dim>(X, nullptr, options_, "m_step");
    const SufficientStatistics<Dim> stats = responsibility_statistics<Scalar, Dim>(
        X, nullptr, K, options_.covariance_type, fill, empty_component_weight<Scalar>());
    params_ = maximise_map<Scalar, Dim>(stats, options_.reg_covar, *prior);
    prior_ = std::move(prior);
  } else {
    params_ = maximise_responsibilities<Scalar, Dim>(X, nullptr, K, options_.covariance_type, options_.reg_covar,
                                                     same_shape ? &params_ : nullptr, fill, &fixed);
  }
  clear_online_state();
}

template <typename Scalar, int Dim>
template <class D>
auto GaussianMixture<Scalar, Dim>::score_samples_view(const Eigen::MatrixBase<D>& X) const -> ColumnVector {
  check_scoring_input(X, "score_samples");
  ColumnVector out(X.rows());
  EStepWorkspace<Scalar, Dim> ws(X.cols(), params_.n_components());
  expectations(X, ws, [&](Eigen::Index start, Eigen::Index rows) {
    out.segment(start, rows) = ws.log_norm.head(rows);
  });
  return out;
}

template <typename Scalar, int Dim>
template <class D>
auto GaussianMixture<Scalar, Dim>::predict_view(const Eigen::MatrixBase<D>& X) const -> Labels {
  check_scoring_input(X, "predict");
  Labels out(X.rows());
  const int K = params_.n_components();
  EStepWorkspace<Scalar, Dim> ws(X.cols(), K);
  MissingRows<Scalar, Dim> missing;
  detail::for_each_block<Scalar>(X.rows(), X.cols(), [&](Eigen::Index start, Eigen::Index rows) {
    detail::copy_rows(X, start, rows, ws.x);
    if (marginalise())
      missing.log_prob(params_, rows, ws, false);
    else
      weighted_log_prob(params_, rows, ws);
    // Column by column (log_prob is column-major): sequential reads instead of a strided row scan.
    Scalar* best = ws.log_norm.data();
    int* label = out.data() + start;
    const Scalar* column = ws.log_prob.col(0).data();
    for (Eigen::Index i = 0; i < rows; ++i) {
      best[i] = column[i];
      label[i] = 0;
    }
    for (int k = 1; k < K; ++k) {
      column = ws.log_prob.col(k).data();
      for (Eigen::Index i = 0; i < rows; ++i)
        if (column[i] > best[i]) {
          best[i] = column[i];
          label[i] = k;
        }
    }
  });
  return out;
}

template <typename Scalar, int Dim>
template <class D>
auto GaussianMixture<Scalar, Dim>::predict_proba_view(const Eigen::MatrixBase<D>& X) const -> Responsibilities {
  check_scoring_input(X, "predict_proba");
  Responsibilities out(X.rows(), params_.n_components());
  EStepWorkspace<Scalar, Dim> ws(X.cols(), params_.n_components());
  expectations(X, ws, [&](Eigen::Index start, Eigen::Index rows) {
    out.middleRows(start, rows) = ws.log_prob.topRows(rows);
  });
  return out;
}

template <typename Scalar, int Dim>
template <class D>
auto GaussianMixture<Scalar, Dim>::impute_view(const Eigen::MatrixBase<D>& X) const -> Samples {
  require_parameters("impute");
  detail::check_data_missing<Dim, D, Scalar>(X, "impute", params_.n_features(), false);
  Samples out = X.template cast<Scalar>();
  EStepWorkspace<Scalar, Dim> ws(X.cols(), params_.n_components());
  MissingRows<Scalar, Dim> missing;
  detail::for_each_block<Scalar>(X.rows(), X.cols(), [&](Eigen::Index start, Eigen::Index rows) {
    detail::copy_rows(X, start, rows, ws.x);
    if (missing.log_prob(params_, rows, ws, true) > 0) missing.impute(start, out);
  });
  return out;
}

template <typename Scalar, int Dim>
auto GaussianMixture<Scalar, Dim>::sample(Eigen::Index n, std::uint64_t seed, Labels& labels) const -> Samples {
  require_parameters("sample");
  if (n < 0) throw std::invalid_argument(detail::message("sample: n = ", n, " must be >= 0"));
  const int K = params_.n_components(), d = params_.n_features();
  std::vector<Eigen::MatrixXd> factor(K);
  for (int k = 0; k < K; ++k) factor[k] = params_.covariances.dense_double(k).llt().matrixL();
  Eigen::VectorXd cumulative(K);
  double running = 0;
  for (int k = 0; k < K; ++k) cumulative(k) = running += static_cast<double>(params_.weights(k));
  detail::Random rng(seed);
  Samples out(n, d);
  Labels drawn(n);
  Eigen::VectorXd z(d);
  for (Eigen::Index i = 0; i < n; ++i) {
    const double u = rng.uniform() * running;
    int k = 0;
    while (k < K - 1 && !(u < cumulative(k))) ++k;
    for (int j = 0; j < d; ++j) z(j) = rng.normal();
    out.row(i) = (params_.means.row(k).template cast<double>() + (factor[k] * z).transpose()).template cast<Scalar>();
    drawn(i) = k;
  }
  labels.swap(drawn);
  return out;
}

template <typename Scalar, int Dim>
template <class D>
auto GaussianMixture<Scalar, Dim>::total_log_likelihood_view(const Eigen::MatrixBase<D>& X, const char* where) const
    -> double {
  check_scoring_input(X, where);
  double total = 0;
  EStepWorkspace<Scalar, Dim> ws(X.cols(), params_.n_components());
  expectations(X, ws, [&](Eigen::Index, Eigen::Index rows) {
    total += ws.log_norm.head(rows).template cast<double>().sum();
  });
  return total;
}

template <typename Scalar, int Dim>
template <class D>
auto GaussianMixture<Scalar, Dim>::fit_weighted(const Eigen::MatrixBase<D>& X, const Eigen::VectorXd* w) -> FitResult {
  BlockedExpectation<Scalar, Dim, D> expectation(X, w, options_.n_components);
  expectation.set_missing(marginalise());
  // The mean-filled copy of X only once an initialiser needs it: a warm start skips the n x d copy and
  // its pass. With sample weights it is made at once, for its error on a column without positive weight.
  std::optional<FilledData<D>> filled;
  bool filled_made = false;
  const auto fill = [&] {
    if (!filled_made) filled = mean_filled(X, w, "fit");
    filled_made = true;
  };
  if (w) fill();
  return fit_with(
      [&](detail::Random& rng) {
        fill();
        return filled ? initial_parameters<Scalar, Dim>(detail::DataView<FilledData<D>>(*filled), w, options_, rng)
                      : initial_parameters<Scalar, Dim>(X, w, options_, rng);
      },
      expectation);
}

template <typename Scalar, int Dim>
template <class D>
auto GaussianMixture<Scalar, Dim>::fit_labelled(const Eigen::MatrixBase<D>& X, const Eigen::VectorXd* w,
                                                const Eigen::VectorXi& labels) -> FitResult {
  BlockedExpectation<Scalar, Dim, D> expectation(X, w, options_.n_components);
  expectation.set_labels(&labels);
  expectation.set_missing(marginalise());
  std::optional<FilledData<D>> filled;  // made when first needed, as in fit_weighted
  bool filled_made = false;
  const auto fill = [&] {
    if (!filled_made) filled = mean_filled(X, w, "fit_with_labels");
    filled_made = true;
  };
  if (w) fill();
  return fit_with(
      [&](detail::Random& rng) {
        fill();
        if (filled) {
          const detail::DataView<FilledData<D>> F(*filled);
          return follow_labels(initial_parameters<Scalar, Dim>(F, w, options_, rng), F, w, labels);
        }
        return follow_labels(initial_parameters<Scalar, Dim>(X, w, options_, rng), X, w, labels);
      },
      expectation);
}

template <typename Scalar, int Dim>
template <class D>
auto GaussianMixture<Scalar, Dim>::partial_fit_weighted(const Eigen::MatrixBase<D>& X, const Eigen::VectorXd* w)
    -> FitResult {
  if (!is_fitted()) return partial_fit_first_batch(X, w);
  const Parameters<Scalar, Dim>& p = params_;
  SufficientStatistics<Dim> batch;
  batch.reset(options_.covariance_type, p.means);
  // The model's workspaces: allocated per call, blocks of 100+ KB went back to the OS and were faulted
  // in again on every batch (glibc's mmap/trim thresholds), a pass over 10^7 rows 10x slower.
  BlockedExpectation<Scalar, Dim, D> expectation(X, w, options_.n_components, &online_workspaces_);
  expectation.set_missing(marginalise());
  expectation(static_cast<const Parameters<Scalar, Dim>&>(p), batch);
  const double lower_bound = batch.log_likelihood / batch.total_weight;
  // The prior of the last fit (or m_step); else resolved from this batch.
  std::optional<ResolvedPrior> prior = prior_;
  if (!options_.prior || (prior && prior->mean.size() != p.n_features())) prior.reset();
  if (options_.prior && !prior)
    prior = resolve_prior(*options_.prior, batch, options_.covariance_type, options_.n_components, "partial_fit");
  const bool fresh = online_steps_ == 0;
  SufficientStatistics<Dim> running =
      fresh ? std::move(batch) : blend_statistics(online_stats_, batch, online_step_size());
  const FixedParameters fixed = FixedParameters::from(options_);
  Parameters<Scalar, Dim> next = maximise_with(running, p, &fixed, prior);
  // Commit only now: every step above may throw.
  params_ = std::move(next);
  prior_ = std::move(prior);
  online_stats_ = std::move(running);
  online_steps_ = fresh ? 1 : online_steps_ + 1;
  FitResult result;
  result.n_iter = 1;
  result.lower_bound = lower_bound;
  result.history.push_back(lower_bound);
  return result;
}
/// \endcond

/// Convenience aliases, as Sophus names its groups.
using GaussianMixtureXd = GaussianMixture<double>;
using GaussianMixtureXf = GaussianMixture<float>;
using GaussianMixture2d = GaussianMixture<double, 2>;
using GaussianMixture2f = GaussianMixture<float, 2>;
using GaussianMixture3d = GaussianMixture<double, 3>;
using GaussianMixture3f = GaussianMixture<float, 3>;

}  // namespace gaussmix
