// SPDX-License-Identifier: MIT
// The product form of the Diagonal and Spherical E-step (two matrix products per block, used from
// diagonal_product_min_components components on) against the per-component direct form
// (x - mu)^2 / sigma^2, on centred, well-separated and far-offset data, float and double.

#include <gaussmix/gaussmix.hpp>

#include <Eigen/Dense>
#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <vector>

// A namespace of its own: the tests build as a few unity translation units (tests/CMakeLists.txt).
namespace gaussmix_test_diagonal_product {

namespace {

using gaussmix::CovarianceType;

template <class S>
void compare(double separation, double offset, int K, int d, CovarianceType type, double tolerance) {
  INFO("separation " << separation << ", offset " << offset << ", K " << K << ", d " << d << ", "
                     << gaussmix::to_string(type) << ", " << (sizeof(S) == 4 ? "float" : "double"));
  std::mt19937_64 rng(3);
  std::normal_distribution<double> normal;
  const int n = 3000;
  Eigen::MatrixXd centres(K, d), X(n, d);
  for (int k = 0; k < K; ++k)
    for (int j = 0; j < d; ++j) centres(k, j) = separation * normal(rng);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < d; ++j) X(i, j) = offset + centres(i % K, j) + normal(rng) * (0.5 + 0.25 * (j % 3));
  gaussmix::Options options;
  options.n_components = K;
  options.covariance_type = type;
  options.max_iter = 3;
  gaussmix::GaussianMixture<S> model(options);
  const Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic> Xs = X.cast<S>();
  model.fit(Xs);

  gaussmix::Parameters<S, Eigen::Dynamic> p;
  p.weights = model.weights();
  p.means = model.means();
  Eigen::MatrixXd variances(K, type == CovarianceType::Spherical ? 1 : d);
  for (int k = 0; k < K; ++k) {
    const Eigen::MatrixXd c = model.covariance(k).template cast<double>();
    if (type == CovarianceType::Spherical)
      variances(k, 0) = c(0, 0);
    else
      variances.row(k) = c.diagonal().transpose();
  }
  p.covariances = gaussmix::Covariances<S, Eigen::Dynamic>::from_estimates(type, K, d, {}, variances, 0.0);

  gaussmix::EStepWorkspace<S, Eigen::Dynamic> ws(d, K);
  const Eigen::Index rows = std::min<Eigen::Index>(n, ws.x.rows());
  ws.x.topRows(rows) = Xs.topRows(rows);
  gaussmix::diagonal_log_prob_product(p, rows, ws);
  const Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic> product = ws.log_prob.topRows(rows);
  const S log_2pi_term = S(-0.5 * d * 1.8378770664093454835606594728112);
  for (int k = 0; k < K; ++k) {
    const S constant = std::log(p.weights(k)) + log_2pi_term + p.covariances.log_det_precision_factor(k);
    p.covariances.log_density(ws.x.topRows(rows), p.means.row(k), k, constant, ws.log_prob.col(k).head(rows),
                              ws.diff.topRows(rows), ws.scaled.topRows(rows));
  }
  const Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic> direct = ws.log_prob.topRows(rows);
  double worst = 0;
  for (Eigen::Index i = 0; i < rows; ++i)
    for (int k = 0; k < K; ++k)
      worst = std::max(worst, std::abs(double(product(i, k)) - double(direct(i, k))) /
                                  (1.0 + std::abs(double(direct(i, k)))));
  CHECK(worst <= tolerance);
  // Through the model: the responsibilities of e_step (product form) match per-row scores.
  Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic> resp;
  model.e_step(Xs, resp);
  CHECK(((resp.rowwise().sum().array() - S(1)).abs() <= S(10) * std::numeric_limits<S>::epsilon() * K).all());
}

}  // namespace

TEST_CASE("diagonal product-form densities equal the direct form", "[estep][diagonal]") {
  REQUIRE(gaussmix::diagonal_product_min_components <= 16);
  for (CovarianceType type : {CovarianceType::Diagonal, CovarianceType::Spherical}) {
    compare<double>(0.5, 0, 16, 10, type, 4e-15);    // overlapping
    compare<double>(5, 0, 16, 10, type, 4e-15);      // separated
    compare<double>(50, 0, 16, 10, type, 4e-15);     // far apart: the product form cancels, is recomputed
    compare<double>(1, 1e6, 16, 10, type, 4e-15);    // far from the origin
    compare<double>(10, 1e6, 32, 40, type, 4e-15);
    compare<float>(0.5, 0, 16, 10, type, 2e-6);
    compare<float>(5, 0, 16, 10, type, 2e-6);
    compare<float>(1, 1e3, 16, 10, type, 2e-6);
  }
}

}  // namespace gaussmix_test_diagonal_product
