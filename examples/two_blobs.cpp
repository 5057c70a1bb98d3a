// SPDX-License-Identifier: MIT
// Two unit Gaussians at (0, 0) and (3, 3), 100 points each: fit K = 2 and report how many points
// get the label of the blob they came from (the Bayes error at this separation is about 1.7%).

#include <gaussmix/gaussmix.hpp>

#include <cstdint>
#include <cstdio>
#include <vector>

int main() {
  using Model = gaussmix::GaussianMixture<double, 2>;
  Eigen::Matrix2d centres;
  centres << 0.0, 0.0,
             3.0, 3.0;

  // 100 points from each blob: a one-component model per blob, sampled with a fixed seed.
  Eigen::MatrixXd X(200, 2);
  for (int k = 0; k < 2; ++k) {
    Model blob;  // n_components = 1
    blob.set_parameters(Eigen::VectorXd::Ones(1), centres.row(k), std::vector<Model::Matrix>{Model::Matrix::Identity()});
    X.middleRows(100 * k, 100) = blob.sample(100, 7 + static_cast<std::uint64_t>(k));
  }

  gaussmix::Options options;
  options.n_components = 2;
  options.seed = 1;
  Model model(options);
  const gaussmix::FitResult result = model.fit(X);

  // Fitted component of each blob: the nearest mean.
  const Model::Means means = model.means();
  const bool swapped = (means.row(0) - centres.row(0)).squaredNorm() > (means.row(1) - centres.row(0)).squaredNorm();
  const int match[2] = {swapped ? 1 : 0, swapped ? 0 : 1};

  std::printf("two blobs: 2 x 100 points, K = 2, full covariances\n\n");
  std::printf("%-8s %-17s %-17s %7s   %s\n", "blob", "true mean", "fitted mean", "weight",
              "fitted covariance (s11, s12, s22)");
  for (int k = 0; k < 2; ++k) {
    const int f = match[k];
    const Model::Matrix c = model.covariance(f);
    std::printf("%-8d (%5.2f, %5.2f)    (%5.2f, %5.2f)    %7.3f   (%5.2f, %5.2f, %5.2f)\n", k + 1, centres(k, 0),
                centres(k, 1), means(f, 0), means(f, 1), model.weights()(f), c(0, 0), c(0, 1), c(1, 1));
  }

  const Model::Labels labels = model.predict(X);
  int correct = 0;
  for (int i = 0; i < 200; ++i) correct += labels(i) == match[i / 100];
  std::printf("\nlabelled correctly: %d of 200 (%.1f%%)\n", correct, 100.0 * correct / 200);
  std::printf("converged: %s after %d iterations, lower bound %.4f\n", result.converged ? "yes" : "no",
              result.n_iter, result.lower_bound);
  return 0;
}
