// SPDX-License-Identifier: MIT
// Quick start: draw 1000 points from a known two-component mixture, fit it back, and print the
// truth next to the fit (components matched to the truth by nearest mean).
//
//   0.3 N((0, 0), [[1, .5], [.5, 1]]) + 0.7 N((2.5, 0), [[1, -.5], [-.5, 1]])

#include <gaussmix/gaussmix.hpp>

#include <cstdio>
#include <vector>

int main() {
  using Model = gaussmix::GaussianMixture<double, 2>;

  gaussmix::Options options;
  options.n_components = 2;  // full covariances by default
  options.seed = 42;
  // scikit-learn's default tol = 1e-3 stops EM early when components overlap as much as these;
  // a tighter tol lets it reach the maximum of the likelihood.
  options.tol = 1e-6;

  // The true mixture, built with set_parameters and sampled with the library's own sampler.
  Model truth(options);
  Eigen::Vector2d weights(0.3, 0.7);
  Eigen::Matrix2d means;
  means << 0.0, 0.0,
           2.5, 0.0;
  std::vector<Model::Matrix> covariances(2);
  covariances[0] << 1.0, 0.5, 0.5, 1.0;
  covariances[1] << 1.0, -0.5, -0.5, 1.0;
  truth.set_parameters(weights, means, covariances);
  const Model::Samples X = truth.sample(1000, 2024);

  Model model(options);
  const gaussmix::FitResult result = model.fit(X);

  // Fitted component for each true one: the pairing whose means are nearest.
  const Model::Means fitted = model.means();
  const double same = (fitted.row(0) - means.row(0)).squaredNorm() + (fitted.row(1) - means.row(1)).squaredNorm();
  const double swapped = (fitted.row(1) - means.row(0)).squaredNorm() + (fitted.row(0) - means.row(1)).squaredNorm();
  const int match[2] = {same <= swapped ? 0 : 1, same <= swapped ? 1 : 0};

  std::printf("gaussmix demo: %d points, K = 2, full covariances\n\n", static_cast<int>(X.rows()));
  std::printf("%-12s %6s   %-16s   %s\n", "component", "weight", "mean", "covariance (s11, s12, s22)");
  auto row = [](const char* label, double w, const Eigen::RowVector2d& m, const Eigen::Matrix2d& c) {
    std::printf("%-12s %6.3f   (%6.3f, %6.3f)   (%6.3f, %6.3f, %6.3f)\n", label, w, m(0), m(1), c(0, 0), c(0, 1),
                c(1, 1));
  };
  const char* true_label[2] = {"1  true", "2  true"};
  for (int k = 0; k < 2; ++k) {
    const int f = match[k];
    row(true_label[k], weights(k), means.row(k), covariances[static_cast<std::size_t>(k)]);
    row("   fitted", model.weights()(f), fitted.row(f), model.covariance(f));
  }
  std::printf("\nconverged: %s after %d iterations, lower bound (mean log-likelihood) %.4f\n",
              result.converged ? "yes" : "no", result.n_iter, result.lower_bound);
  return 0;
}
