// SPDX-License-Identifier: MIT
#pragma once

#include <Eigen/Core>
#include <cmath>
#include <cstddef>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "covariance.hpp"
#include "detail/validation.hpp"
#include "gaussian_mixture.hpp"
#include "options.hpp"

namespace gaussmix {

/// One fit of a model-selection run: a (K, covariance type) pair and how it scored.
struct BicEntry {
  int n_components = 0;                                              ///< K
  CovarianceType covariance_type = CovarianceType::Full;             ///< shape of the covariances
  double bic = std::numeric_limits<double>::infinity();              ///< lower is better; +inf when the fit failed
  double log_likelihood = std::numeric_limits<double>::quiet_NaN();  ///< total (weighted) log-likelihood; NaN if failed
  int n_parameters = 0;                                              ///< free parameters p of the model
  double lower_bound = std::numeric_limits<double>::quiet_NaN();     ///< FitResult::lower_bound; NaN if failed
  bool converged = false;                                            ///< FitResult::converged
  int n_iter = 0;                                                    ///< FitResult::n_iter
  std::string error;  ///< the NumericalError's message when the fit failed, empty otherwise
  /// True when the fit succeeded and `bic` is finite.
  bool ok() const { return error.empty(); }
};

/// Result of `select_model`: the model with the lowest BIC and every fit's entry.
/// \tparam Scalar float or double \tparam Dim compile-time d or Eigen::Dynamic
template <typename Scalar = double, int Dim = Eigen::Dynamic>
struct ModelSelection {
  GaussianMixture<Scalar, Dim> best;  ///< the fitted model of table[best_index]
  std::vector<BicEntry> table;        ///< one entry per (K, type): K ascending, types in the order given
  std::size_t best_index = 0;         ///< index of the chosen entry in `table`

  /// The chosen entry, table[best_index].
  const BicEntry& best_entry() const { return table.at(best_index); }
  /// The entry of (K, type); throws std::out_of_range if that pair was not fitted.
  const BicEntry& entry(int n_components, CovarianceType covariance_type) const {
    for (const BicEntry& e : table)
      if (e.n_components == n_components && e.covariance_type == covariance_type) return e;
    throw std::out_of_range(detail::message("ModelSelection::entry: no fit with K = ", n_components, " and type ",
                                            to_string(covariance_type)));
  }
};

namespace detail {

// The common body of both select_model overloads; w = nullptr means unweighted.
template <typename Scalar, int Dim, class D>
ModelSelection<Scalar, Dim> fit_all(const Eigen::MatrixBase<D>& X, const Eigen::VectorXd* w, int k_min, int k_max,
                                    const std::vector<CovarianceType>& types, const Options& base) {
  using Model = GaussianMixture<Scalar, Dim>;
  const long d = X.cols();
  ModelSelection<Scalar, Dim> out;
  double best_bic = std::numeric_limits<double>::infinity();
  bool have_best = false;
  for (int K = k_min; K <= k_max; ++K) {
    for (const CovarianceType type : types) {
      Options options = base;
      options.n_components = K;
      options.covariance_type = type;
      BicEntry e;
      e.n_components = K;
      e.covariance_type = type;
      e.n_parameters = static_cast<int>(K - 1 + K * d + Covariances<Scalar, Dim>::n_parameters(type, K, d));
      Model model(options);
      try {
        const FitResult r = w ? model.fit(X, *w) : model.fit(X);
        e.converged = r.converged;
        e.n_iter = r.n_iter;
        e.lower_bound = r.lower_bound;
        if (w) {
          // Frequency weights: BIC of the data with row i repeated w_i times.
          e.log_likelihood = model.score_samples(X).template cast<double>().dot(*w);
          e.bic = -2 * e.log_likelihood + e.n_parameters * std::log(w->sum());
        } else {
          e.log_likelihood = static_cast<double>(model.log_likelihood(X));
          e.bic = static_cast<double>(model.bic(X));  // exactly what a separate fit + bic() gives
        }
        if (!std::isfinite(e.bic))
          e.error = message("select_model: K = ", K, ", ", to_string(type), ": the log-likelihood is not finite");
      } catch (const NumericalError& error) {
        e.error = error.what();
      }
      if (!e.ok()) {
        e.bic = std::numeric_limits<double>::infinity();
      } else if (!have_best || e.bic < best_bic ||
                 (e.bic == best_bic && e.n_parameters < out.table[out.best_index].n_parameters)) {
        have_best = true;
        best_bic = e.bic;
        out.best_index = out.table.size();
        out.best = std::move(model);
      }
      out.table.push_back(std::move(e));
    }
  }
  if (!have_best)
    throw NumericalError(message("select_model: every fit failed, the first with: ", out.table.front().error));
  return out;
}

// Arguments shared by both overloads; throws std::invalid_argument.
template <typename Scalar, int Dim, class D>
void check_select_model_arguments(const Eigen::MatrixBase<D>& X, int k_min, int k_max,
                                  const std::vector<CovarianceType>& types, const Options& base) {
  if (k_min < 1) throw std::invalid_argument(message("select_model: k_min = ", k_min, " must be >= 1"));
  if (k_max < k_min)
    throw std::invalid_argument(message("select_model: k_max = ", k_max, " is smaller than k_min = ", k_min));
  if (types.empty()) throw std::invalid_argument(message("select_model: no covariance types given"));
  for (std::size_t t = 0; t < types.size(); ++t) {
    Options options = base;
    options.n_components = k_max;
    options.covariance_type = types[t];
    validate(options);  // also rejects a covariance type outside the enum
    for (std::size_t u = 0; u < t; ++u)
      if (types[u] == types[t])
        throw std::invalid_argument(message("select_model: covariance type ", to_string(types[t]), " given twice"));
  }
  if (base.missing == MissingValues::Marginalise)
    check_data_missing<Dim, D, Scalar>(X, "select_model", 0, true);
  else
    check_data<Dim, D, Scalar>(X, "select_model", 0);
  if (X.rows() < k_max)
    throw std::invalid_argument(message("select_model: X has ", X.rows(), " rows, fewer than k_max = ", k_max));
}

}  // namespace detail

/// The covariance types in the order `select_model` uses by default.
inline std::vector<CovarianceType> all_covariance_types() {
  return {CovarianceType::Full, CovarianceType::Diagonal, CovarianceType::Spherical, CovarianceType::Tied};
}

/// Fits a new model for every K in [k_min, k_max] and type in `types` (options `base`, K and type replaced) and
/// keeps the lowest \f$\mathrm{BIC} = -2 \log L + p \log n\f$ (mclustBIC with scikit-learn's sign: lower is better).
/// A fit that throws NumericalError scores +inf; ties go to fewer parameters. Throws std::invalid_argument on bad
/// arguments (k_min < 1, k_max < k_min, n < k_max, no or repeated types), NumericalError if every fit failed.
template <typename Scalar = double, int Dim = Eigen::Dynamic, class D>
ModelSelection<Scalar, Dim> select_model(const Eigen::MatrixBase<D>& X, int k_min, int k_max,
                                         const std::vector<CovarianceType>& types = all_covariance_types(),
                                         const Options& base = {}) {
  detail::check_select_model_arguments<Scalar, Dim>(X, k_min, k_max, types, base);
  return detail::fit_all<Scalar, Dim>(X, nullptr, k_min, k_max, types, base);
}

/// As select_model(X, ...), with frequency weights: \f$\log L = \sum_i w_i \log p(x_i)\f$ and
/// \f$n = \sum_i w_i\f$, so integer weights score like rows repeated w_i times (scaling w changes the BIC).
template <typename Scalar = double, int Dim = Eigen::Dynamic, class D, class W>
ModelSelection<Scalar, Dim> select_model(const Eigen::MatrixBase<D>& X, const Eigen::MatrixBase<W>& sample_weight,
                                         int k_min, int k_max,
                                         const std::vector<CovarianceType>& types = all_covariance_types(),
                                         const Options& base = {}) {
  detail::check_select_model_arguments<Scalar, Dim>(X, k_min, k_max, types, base);
  detail::check_sample_weight(sample_weight, X.rows(), k_max, "select_model");
  const Eigen::VectorXd w = sample_weight.derived().template cast<double>().reshaped();
  return detail::fit_all<Scalar, Dim>(X, &w, k_min, k_max, types, base);
}

}  // namespace gaussmix
