// SPDX-License-Identifier: MIT
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "conjugate_prior.hpp"

namespace gaussmix {

/// Shape constraint on the component covariances (scikit-learn's `covariance_type`).
enum class CovarianceType {
  Full,       ///< each component its own d x d matrix
  Diagonal,   ///< each component its own diagonal matrix
  Spherical,  ///< each component its own sigma^2 I
  Tied        ///< one d x d matrix shared by all components
};

/// How `fit` chooses the starting parameters when it does not warm-start.
enum class InitMethod {
  KMeans,          ///< Lloyd's k-means seeded by k-means++, then one M-step on its labels
  KMeansPlusPlus,  ///< k-means++ centres, points assigned to the nearest, then one M-step
  Random,          ///< random responsibilities (uniform, rows normalised), then one M-step
  RandomFromData   ///< K distinct samples as centres, points assigned to the nearest, then one M-step
};

/// What `fit` and the scorers do with NaN entries in the data.
enum class MissingValues {
  Reject,      ///< a NaN is an error naming its cell (std::invalid_argument)
  Marginalise  ///< a NaN is a value missing at random: EM and the scorers use the observed entries of each row
};

/// Numerical failure: a covariance that is not positive definite even after `reg_covar`.
class NumericalError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// What the progress callback sees after each EM iteration.
struct IterationInfo {
  int init = 0;                ///< initialisation run, 0 .. n_init - 1
  int iteration = 0;           ///< 1-based EM iteration within the run
  double lower_bound = 0;      ///< mean log-likelihood per sample at this iteration's E-step
  double change = 0;           ///< lower_bound minus the previous one (+inf at the first iteration)
  double elapsed_seconds = 0;  ///< since the run started
};

/// Step sizes of online (stepwise) EM, `GaussianMixture::partial_fit`: the t-th update blends the
/// running normalised statistics as \f$s \leftarrow (1 - \rho_t) s + \rho_t s_{batch}\f$ with
/// \f$\rho_t = (t + t_0)^{-\kappa}\f$, or a constant \f$\rho\f$ (exponential forgetting, for data that drift).
/// The first update after new parameters (first call, fit, set_parameters) has nothing to blend: rho = 1.
/// Defaults: kappa = 0.6 and t0 = 2 (Liang & Klein 2009's best decays were 0.5 < kappa <= 0.7; see docs/scaling.md).
struct OnlineOptions {
  double step_decay = 0.6;              ///< kappa in (0.5, 1]: rho_t = (t + step_offset)^(-kappa)
  double step_offset = 2;               ///< t0 >= 0: larger values damp the first steps
  std::optional<double> constant_step;  ///< rho in (0, 1] used for every update instead of the schedule
  /// Initialisations tried on the first batch of an unfitted model (EM on the batch from each, the best
  /// lower bound kept); 0 = automatic: Options::n_init if > 1, else 16. One k-means start on a batch of a
  /// few thousand rows leaves too many random mixtures in a poor local optimum (docs/scaling.md).
  int first_batch_n_init = 0;
  int first_batch_max_iter = 3;  ///< EM iterations (at most; Options::tol stops earlier) per first-batch initialisation
};

/// Fit settings. Defaults are scikit-learn's `GaussianMixture` defaults.
struct Options {
  int n_components = 1;                                   ///< K, the number of components
  CovarianceType covariance_type = CovarianceType::Full;  ///< shape of the covariances
  double tol = 1e-3;                            ///< stop when |change of the mean log-likelihood per sample| < tol
  double reg_covar = 1e-6;                      ///< added to every covariance diagonal in the M-step
  int max_iter = 100;                           ///< EM iterations per initialisation
  int n_init = 1;                               ///< initialisations; the one with the best lower bound is kept
  InitMethod init_params = InitMethod::KMeans;  ///< how to start when not warm-starting
  std::uint64_t seed = 0;                       ///< same seed, same data => same result, on every platform
  bool warm_start = false;                      ///< `fit` starts from the current parameters (if any)
  /// Called after every iteration; returning false stops the fit there (FitResult::stopped).
  std::function<bool(const IterationInfo&)> callback;
  int verbose = 0;                         ///< 0 silent, 1 one line per run, 2 also every verbose_interval iterations
  int verbose_interval = 10;               ///< iterations between progress lines at verbose = 2
  std::ostream* verbose_stream = nullptr;  ///< where progress goes; nullptr means std::cerr
  OnlineOptions online;                    ///< step sizes of partial_fit (not used by fit)
  /// Components whose weight fit() keeps at its current value (indices in [0, K), no duplicates); the free
  /// weights share what is left. Non-empty fixed_* lists need warm_start = true and a model with parameters
  /// (std::logic_error otherwise); see docs/missing_and_constraints.md.
  std::vector<int> fixed_weights;
  std::vector<int> fixed_means;  ///< components whose mean fit() keeps (free covariances are taken about it)
  /// Components whose covariance fit() keeps; for Tied (one shared matrix) all K or none.
  std::vector<int> fixed_covariances;
  /// MAP EM (Fraley & Raftery 2007) under this conjugate prior; empty = maximum likelihood. Empty fields take
  /// mclust's defaults from the data. FitResult::lower_bound is then the log posterior per sample up to a
  /// constant; bic() and aic() stay the likelihood criteria (docs/maths.md, "MAP EM"). Not combined with
  /// fixed_* (std::invalid_argument).
  std::optional<ConjugatePrior> prior;
  /// NaN entries: an error (Reject, the default) or values missing at random (Marginalise): exact EM on the
  /// observed entries, scoring by the marginal density, GaussianMixture::impute; see docs/missing_and_constraints.md.
  MissingValues missing = MissingValues::Reject;
};

/// What `fit` reports. Not converging is an outcome, not an error.
struct FitResult {
  bool converged = false;  ///< |change of lower bound| < tol before max_iter
  int n_iter = 0;          ///< EM iterations of the kept initialisation
  /// Mean log-likelihood per sample at the last E-step; under Options::prior, plus the log prior density of
  /// the E-step's parameters divided by the total sample weight (the log posterior per sample up to a constant).
  double lower_bound = 0;
  std::vector<double> history;  ///< lower bound after each iteration of the kept initialisation
  bool stopped = false;         ///< the progress callback asked to stop
};

/// Name of a covariance type as scikit-learn spells it ("full", "diag", "spherical", "tied").
inline const char* to_string(CovarianceType type) {
  switch (type) {
    case CovarianceType::Full:
      return "full";
    case CovarianceType::Diagonal:
      return "diag";
    case CovarianceType::Spherical:
      return "spherical";
    case CovarianceType::Tied:
      return "tied";
  }
  return "unknown";
}

/// Name of an initialisation method as scikit-learn spells it.
inline const char* to_string(InitMethod method) {
  switch (method) {
    case InitMethod::KMeans:
      return "kmeans";
    case InitMethod::KMeansPlusPlus:
      return "k-means++";
    case InitMethod::Random:
      return "random";
    case InitMethod::RandomFromData:
      return "random_from_data";
  }
  return "unknown";
}

/// Throws `std::invalid_argument` naming the first field of `options` that is out of range.
inline void validate(const Options& options) {
  auto fail = [](const std::string& field, const std::string& rule, auto got) {
    std::ostringstream message;
    message << "gaussmix: Options::" << field << " must be " << rule << ", got " << got;
    throw std::invalid_argument(message.str());
  };
  if (options.n_components < 1) fail("n_components", ">= 1", options.n_components);
  if (!(options.tol >= 0) || std::isinf(options.tol)) fail("tol", "finite and >= 0", options.tol);
  if (!(options.reg_covar >= 0) || std::isinf(options.reg_covar))
    fail("reg_covar", "finite and >= 0", options.reg_covar);
  if (options.max_iter < 1) fail("max_iter", ">= 1", options.max_iter);
  if (options.n_init < 1) fail("n_init", ">= 1", options.n_init);
  if (options.verbose < 0) fail("verbose", ">= 0", options.verbose);
  if (options.verbose_interval < 1) fail("verbose_interval", ">= 1", options.verbose_interval);
  const OnlineOptions& online = options.online;
  if (!(online.step_decay > 0.5 && online.step_decay <= 1))
    fail("online.step_decay", "in (0.5, 1] (stepwise EM converges for 0.5 < kappa <= 1)", online.step_decay);
  if (!(online.step_offset >= 0) || std::isinf(online.step_offset))
    fail("online.step_offset", "finite and >= 0", online.step_offset);
  if (online.constant_step && !(*online.constant_step > 0 && *online.constant_step <= 1))
    fail("online.constant_step", "in (0, 1]", *online.constant_step);
  if (online.first_batch_n_init < 0)
    fail("online.first_batch_n_init", ">= 0 (0 = automatic)", online.first_batch_n_init);
  if (online.first_batch_max_iter < 1) fail("online.first_batch_max_iter", ">= 1", online.first_batch_max_iter);
  switch (options.covariance_type) {
    case CovarianceType::Full:
    case CovarianceType::Diagonal:
    case CovarianceType::Spherical:
    case CovarianceType::Tied:
      break;
    default:
      fail("covariance_type", "one of Full, Diagonal, Spherical, Tied", static_cast<int>(options.covariance_type));
  }
  auto check_indices = [&](const std::vector<int>& indices, const char* field) {
    std::vector<bool> seen(static_cast<std::size_t>(options.n_components), false);
    for (int k : indices) {
      if (k < 0 || k >= options.n_components)
        fail(field, "a list of component indices in [0, n_components = " + std::to_string(options.n_components) + ")",
             k);
      if (seen[static_cast<std::size_t>(k)]) fail(field, "a list without duplicates", std::to_string(k) + " twice");
      seen[static_cast<std::size_t>(k)] = true;
    }
  };
  check_indices(options.fixed_weights, "fixed_weights");
  check_indices(options.fixed_means, "fixed_means");
  check_indices(options.fixed_covariances, "fixed_covariances");
  // One shared matrix: fixing it "for one component" would fix it for all, so say so explicitly.
  if (options.covariance_type == CovarianceType::Tied && !options.fixed_covariances.empty() &&
      static_cast<int>(options.fixed_covariances.size()) != options.n_components)
    fail("fixed_covariances", "empty or list all n_components components for Tied (one shared covariance)",
         std::to_string(options.fixed_covariances.size()) + " of " + std::to_string(options.n_components));
  if (options.prior) {
    validate(*options.prior);
    // The MAP M-step has no constrained form (yet): refuse rather than ignore one of the two.
    if (!options.fixed_weights.empty() || !options.fixed_means.empty() || !options.fixed_covariances.empty())
      fail("prior",
           "empty when fixed_weights, fixed_means or fixed_covariances are given (MAP EM has no constrained M-step)",
           "a prior");
  }
  if (options.missing != MissingValues::Reject && options.missing != MissingValues::Marginalise)
    fail("missing", "Reject or Marginalise", static_cast<int>(options.missing));
  switch (options.init_params) {
    case InitMethod::KMeans:
    case InitMethod::KMeansPlusPlus:
    case InitMethod::Random:
    case InitMethod::RandomFromData:
      break;
    default:
      fail("init_params", "one of KMeans, KMeansPlusPlus, Random, RandomFromData",
           static_cast<int>(options.init_params));
  }
}

}  // namespace gaussmix
