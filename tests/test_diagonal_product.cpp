// SPDX-License-Identifier: MIT
// The product form of the Diagonal and Spherical E-step (one matrix product per block, used from
// diagonal_product_min_components components on) against the per-component direct form
// (x - mu)^2 / sigma^2, on centred, well-separated and far-offset data, float and double; and the
// product form of their statistics (double and float) against sums in long double.

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
                              ws.diff.topRows(rows), ws.scaled.topRows(rows), ws.kernel_scratch);
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

// accumulate's product form (double and float, K >= diagonal_product_min_components, mostly non-zero
// responsibilities) against sums in long double about the same reference points. far_component puts
// component 0's rows 1e4 away with spread 1e-3 and its responsibility on them alone: the product form
// would lose ~14 digits of its second moment there, so the guard must have summed it directly.
template <class S>
void compare_statistics(double offset, bool far_component, bool weighted, CovarianceType type) {
  INFO("offset " << offset << ", far component " << far_component << ", weighted " << weighted << ", "
                 << gaussmix::to_string(type) << ", " << (sizeof(S) == 4 ? "float" : "double"));
  // float: the block's moments are float sums (<= 2^4 amplified by the guard), double: <= 2^8.
  const double first_tolerance = sizeof(S) == 4 ? 2e-5 : 1e-13;
  const double second_tolerance = sizeof(S) == 4 ? 1e-4 : 1e-12;
  const double weight_tolerance = sizeof(S) == 4 ? 1e-6 : 1e-14;
  const int K = 16, d = 6;
  std::mt19937_64 rng(5);
  std::normal_distribution<double> normal;
  std::uniform_real_distribution<double> uniform(0.05, 1.0);
  gaussmix::EStepWorkspace<S, Eigen::Dynamic> ws(d, K);
  const Eigen::Index rows = ws.x.rows() - 3;  // a partial block
  Eigen::MatrixXd centres(K, d);
  for (int k = 0; k < K; ++k)
    for (int j = 0; j < d; ++j) centres(k, j) = offset + 3 * normal(rng);
  if (far_component) centres.row(0).array() += 1e4;
  for (Eigen::Index i = 0; i < rows; ++i) {
    const int k = static_cast<int>(i % K);
    const double spread = far_component && k == 0 ? 1e-3 : 1.0;
    for (int j = 0; j < d; ++j) ws.x(i, j) = static_cast<S>(centres(k, j) + spread * normal(rng));
    for (int c = 0; c < K; ++c) ws.log_prob(i, c) = static_cast<S>(uniform(rng));
    if (far_component) {  // component 0 takes its own rows only (tiny elsewhere, still non-zero)
      for (int c = 0; c < K; ++c)
        ws.log_prob(i, c) = k == 0 ? S(c == 0 ? 1.0 : 1e-30) : (c == 0 ? S(1e-30) : ws.log_prob(i, c));
    }
    ws.log_prob.row(i) /= ws.log_prob.row(i).sum();
  }
  ws.log_norm.setZero();
  Eigen::VectorXd w = Eigen::VectorXd::Ones(rows + 7);
  for (Eigen::Index i = 0; i < w.size(); ++i) w(i) = weighted ? uniform(rng) * 3 : 1.0;
  const Eigen::Index start = 7;
  // References near, not at, the centres: the E-step's means.
  Eigen::MatrixXd reference = centres;
  for (int k = 0; k < K; ++k)
    for (int j = 0; j < d; ++j) reference(k, j) += 0.01 * normal(rng) * (far_component && k == 0 ? 1e-3 : 1.0);
  gaussmix::SufficientStatistics<Eigen::Dynamic> stats;
  stats.reset(type, reference);
  gaussmix::accumulate(start, rows, weighted ? &w : nullptr, ws, stats);

  const Eigen::RowVectorXd mean = ws.x.topRows(rows).template cast<double>().colwise().mean();
  for (int k = 0; k < K; ++k) {
    long double n = 0;
    for (Eigen::Index i = 0; i < rows; ++i) n += static_cast<long double>(w(start + i)) * ws.log_prob(i, k);
    CHECK(std::abs(stats.weight(k) - static_cast<double>(n)) <= weight_tolerance * static_cast<double>(n));
    for (int j = 0; j < d; ++j) {
      long double first = 0, second = 0, scale = 0;
      for (Eigen::Index i = 0; i < rows; ++i) {
        const long double r = static_cast<long double>(w(start + i)) * ws.log_prob(i, k);
        const long double centred = static_cast<long double>(ws.x(i, j)) - reference(k, j);
        first += r * centred;
        second += r * centred * centred;
        scale += r * (std::abs(centred) + std::abs(static_cast<long double>(ws.x(i, j)) - mean(j)));
      }
      INFO("k " << k << ", j " << j);
      CHECK(std::abs(stats.first(k, j) - static_cast<double>(first)) <= first_tolerance * static_cast<double>(scale));
      CHECK(std::abs(stats.second_diagonal(k, j) - static_cast<double>(second)) <=
            second_tolerance * static_cast<double>(second));
    }
  }
}

}  // namespace

TEST_CASE("diagonal product-form statistics equal the direct sums", "[estep][diagonal]") {
  REQUIRE(gaussmix::diagonal_product_min_components <= 16);
  for (CovarianceType type : {CovarianceType::Diagonal, CovarianceType::Spherical})
    for (bool weighted : {false, true}) {
      compare_statistics<double>(0, false, weighted, type);
      compare_statistics<double>(1e6, false, weighted, type);
      compare_statistics<double>(0, true, weighted, type);
      compare_statistics<double>(1e6, true, weighted, type);
      // float: 1e6 is beyond its resolution for unit spread, 1e3 is not. The far component (spread
      // 1e-3 at 1e4) is not: float cannot even hold its reference point to within its spread.
      compare_statistics<float>(0, false, weighted, type);
      compare_statistics<float>(1e3, false, weighted, type);
    }
}

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
