// SPDX-License-Identifier: MIT
#pragma once

#include <Eigen/Core>
#include <cmath>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>

namespace gaussmix {

/// The conjugate prior of MAP EM (Options::prior; Fraley & Raftery 2007, R's mclust `priorControl`):
/// per component \f$\mu_k \mid \Sigma_k \sim \mathcal{N}(\mu_P, \Sigma_k / \kappa_P)\f$ and
/// \f$\Sigma_k \sim \mathcal{IW}(\nu_P, \Lambda_P)\f$ (Full; Tied: one inverse Wishart for the shared
/// matrix; Diagonal and Spherical: inverse gamma \f$\mathcal{IG}(\nu_P/2, \lambda/2)\f$ per variance).
/// No prior on the weights (maximum likelihood, as mclust). An empty field takes mclust's default
/// (`defaultPrior`), resolved once per fit from the data the fit sees (docs/maths.md, "MAP EM").
struct ConjugatePrior {
  std::optional<double> shrinkage;           ///< \f$\kappa_P > 0\f$; default 0.01
  std::optional<Eigen::VectorXd> mean;       ///< \f$\mu_P\f$, length d; default: the (weighted) mean of X
  std::optional<double> degrees_of_freedom;  ///< \f$\nu_P > d - 1\f$; default d + 2
  /// \f$\Lambda_P\f$, d x d, symmetric positive definite and of the covariance type's shape (diagonal for
  /// Diagonal, a multiple of I for Spherical). Default, as mclust: \f$K^{-2/d}\f$ times the covariance of X
  /// (ddof 1; its diagonal if n <= d) for Full and Tied, times its mean variance (trace / d) times I for
  /// Diagonal and Spherical (mclust uses that one scalar for every diagonal model).
  std::optional<Eigen::MatrixXd> scale;
};

/// A ConjugatePrior with every field resolved against the data (what the MAP M-step uses).
struct ResolvedPrior {
  double shrinkage = 0;           ///< \f$\kappa_P\f$
  double degrees_of_freedom = 0;  ///< \f$\nu_P\f$
  Eigen::RowVectorXd mean;        ///< \f$\mu_P\f$ (d)
  Eigen::MatrixXd scale;          ///< \f$\Lambda_P\f$, d x d dense (diagonal / multiple of I for those types)
};

/// Throws std::invalid_argument naming the first field of `prior` that is invalid whatever d is
/// (shrinkage <= 0 or not finite, degrees_of_freedom not finite, values that are not finite, a scale
/// that is not square). The checks that need d (and the covariance type) run when a fit sees the data.
inline void validate(const ConjugatePrior& prior) {
  auto fail = [](const std::string& field, const std::string& rule, const std::string& got) {
    std::ostringstream message;
    message << "gaussmix: Options::prior." << field << " must be " << rule << ", got " << got;
    throw std::invalid_argument(message.str());
  };
  auto text = [](double x) {
    std::ostringstream s;
    s << x;
    return s.str();
  };
  // kappa_P = 0 would make the mean prior improper (flat) and its log density -inf.
  if (prior.shrinkage && !(*prior.shrinkage > 0 && std::isfinite(*prior.shrinkage)))
    fail("shrinkage", "finite and > 0", text(*prior.shrinkage));
  if (prior.degrees_of_freedom && !(*prior.degrees_of_freedom > 0 && std::isfinite(*prior.degrees_of_freedom)))
    fail("degrees_of_freedom", "finite and > 0 (and > d - 1)", text(*prior.degrees_of_freedom));
  if (prior.mean && (prior.mean->size() == 0 || !prior.mean->allFinite()))
    fail("mean", "a non-empty vector of finite values", "size " + std::to_string(prior.mean->size()));
  if (prior.scale && (prior.scale->rows() != prior.scale->cols() || prior.scale->size() == 0))
    fail("scale", "a square d x d matrix",
         std::to_string(prior.scale->rows()) + " x " + std::to_string(prior.scale->cols()));
  if (prior.scale && !prior.scale->allFinite()) fail("scale", "finite", "a value that is not");
}

}  // namespace gaussmix
