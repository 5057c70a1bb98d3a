// SPDX-License-Identifier: MIT
// Online EM on data that drift: three Gaussians whose means turn around the origin (one full turn
// every 400 batches of 2000 rows). partial_fit with a constant step (exponential forgetting) follows
// them; the default decaying steps settle and fall behind. Prints, every 50 batches, the largest
// distance from a true mean to the nearest model mean for both.
// With --check, exits 1 unless the constant-step model stays within 0.5 of every moving mean
// after its first 20 batches (CTest runs it so).

#include <gaussmix/gaussmix.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr int kBatches = 800, kRows = 2000;
constexpr double kRadius = 6, kTurnBatches = 400, kBound = 0.5;

using Model = gaussmix::GaussianMixture<double, 2>;

Eigen::Matrix<double, 3, 2> true_means(int batch) {
  Eigen::Matrix<double, 3, 2> means;
  for (int k = 0; k < 3; ++k) {
    const double angle = 2 * kPi * (k / 3.0 + batch / kTurnBatches);
    means.row(k) << kRadius * std::cos(angle), kRadius * std::sin(angle);
  }
  return means;
}

// Largest distance from a true mean to the nearest model mean.
double distance(const Model& model, const Eigen::Matrix<double, 3, 2>& truth) {
  const auto means = model.means();
  double worst = 0;
  for (int k = 0; k < 3; ++k) worst = std::max(worst, (means.rowwise() - truth.row(k)).rowwise().norm().minCoeff());
  return worst;
}

}  // namespace

int main(int argc, char** argv) {
  const bool check = argc > 1 && std::strcmp(argv[1], "--check") == 0;
  gaussmix::Options options;
  options.n_components = 3;
  options.seed = 1;
  gaussmix::Options forgetting = options;
  forgetting.online.constant_step = 0.3;  // remembers about the last 1 / 0.3 ~ 3 batches
  Model following(forgetting), settling(options);

  std::printf("batch  distance(constant step 0.3)  distance(default decaying steps)\n");
  double worst = 0;
  for (int b = 0; b < kBatches; ++b) {
    const Eigen::Matrix<double, 3, 2> truth = true_means(b);
    Model source(options);  // this batch's mixture: equal weights, unit covariances
    source.set_parameters(Eigen::Vector3d::Constant(1.0 / 3), truth,
                          std::vector<Model::Matrix>(3, Model::Matrix::Identity()));
    const Eigen::MatrixX2d X = source.sample(kRows, 1000 + static_cast<std::uint64_t>(b));
    following.partial_fit(X);
    settling.partial_fit(X);
    const double d_follow = distance(following, truth), d_settle = distance(settling, truth);
    if (b >= 20) worst = std::max(worst, d_follow);
    if (b % 50 == 49) std::printf("%5d  %27.3f  %32.3f\n", b + 1, d_follow, d_settle);
  }
  std::printf("largest distance after batch 20, constant step: %.3f (bound %.1f)\n", worst, kBound);
  return check && !(worst < kBound) ? 1 : 0;
}
