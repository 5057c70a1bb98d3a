// SPDX-License-Identifier: MIT
// Three point sources seen through a measurement noise whose covariance R is known (a calibrated
// sensor): every component's covariance is fixed to R (Options::fixed_covariances) and EM estimates
// only the sources' positions and shares. Compared with a free fit of the same data, which has to
// estimate R three times over from the same points.

#include <gaussmix/gaussmix.hpp>

#include <cstdint>
#include <cstdio>
#include <vector>

int main() {
  using Model = gaussmix::GaussianMixture<double, 2>;
  Eigen::Matrix2d R;  // the known noise: correlated, elongated
  R << 1.0, 0.6,
       0.6, 0.8;
  Eigen::Matrix<double, 3, 2> sources;
  sources << 0.0, 0.0,
             4.0, 1.0,
             1.0, 4.5;
  const Eigen::Vector3d shares(0.5, 0.3, 0.2);

  gaussmix::Options truth_options;
  truth_options.n_components = 3;
  Model truth(truth_options);
  truth.set_parameters(shares, sources, std::vector<Model::Matrix>(3, R));
  const Eigen::MatrixXd X = truth.sample(300, 11);

  // A free fit gives the starting means and weights (any start would do).
  gaussmix::Options options;
  options.n_components = 3;
  options.seed = 2;
  Model free_fit(options);
  free_fit.fit(X);

  options.warm_start = true;
  options.fixed_covariances = {0, 1, 2};
  Model known(options);
  known.set_parameters(free_fit.weights(), free_fit.means(), std::vector<Model::Matrix>(3, R));
  const gaussmix::FitResult result = known.fit(X);

  std::printf("fixed covariance R: %d iterations, converged %s, mean log-likelihood %.4f\n", result.n_iter,
              result.converged ? "yes" : "no", result.lower_bound);
  for (int k = 0; k < 3; ++k) {
    // Report against the nearest true source (the numbering of a fit is arbitrary).
    Eigen::Index nearest = 0;
    (sources.rowwise() - known.means().row(k)).rowwise().squaredNorm().minCoeff(&nearest);
    std::printf("  source (%.1f, %.1f): weight %.3f (true %.1f), mean (%.3f, %.3f), covariance kept: %s\n",
                sources(nearest, 0), sources(nearest, 1), known.weights()(k), shares(nearest), known.means()(k, 0),
                known.means()(k, 1), known.covariance(k) == R ? "yes" : "no");
  }
  std::printf("free fit's covariances (R is [[1, 0.6], [0.6, 0.8]]):\n");
  for (int k = 0; k < 3; ++k) {
    const Eigen::Matrix2d c = free_fit.covariance(k);
    std::printf("  [[%.3f, %.3f], [%.3f, %.3f]]\n", c(0, 0), c(0, 1), c(1, 0), c(1, 1));
  }
  return 0;
}
