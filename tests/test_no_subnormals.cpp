// SPDX-License-Identifier: MIT
// Well-separated clusters put many log-responsibilities between the logs of the smallest subnormal
// and the smallest normal number; arithmetic on subnormals is many times slower. The E-step must
// make such responsibilities exactly 0, so no subnormal number reaches the responsibilities, the
// statistics or the scores, for float and double and every covariance type.

#include <gaussmix/gaussmix.hpp>

#include <Eigen/Dense>
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

// A namespace of its own: the tests build as a few unity translation units (tests/CMakeLists.txt).
namespace gaussmix_test_no_subnormals {

namespace {

using gaussmix::CovarianceType;

template <class Derived>
long count_subnormal(const Eigen::DenseBase<Derived>& m) {
  long count = 0;
  for (Eigen::Index j = 0; j < m.cols(); ++j)
    for (Eigen::Index i = 0; i < m.rows(); ++i) count += std::fpclassify(m(i, j)) == FP_SUBNORMAL;
  return count;
}

// n x 16 from 16 unit-variance clusters whose means are ~N(0, scale^2) per coordinate: half the
// squared Mahalanobis distance between clusters is about 16 scale^2, so scale 8 puts many
// log-responsibilities near -1000 (double's subnormal range is -745 to -708) and scale 2.5 near
// -100 (float's: -103 to -87).
Eigen::MatrixXd separated(Eigen::Index n, double scale) {
  std::mt19937_64 rng(2026);
  std::normal_distribution<double> normal;
  const int K = 16, d = 16;
  Eigen::MatrixXd centres(K, d), X(n, d);
  for (int k = 0; k < K; ++k)
    for (int j = 0; j < d; ++j) centres(k, j) = scale * normal(rng);
  for (Eigen::Index i = 0; i < n; ++i)
    for (int j = 0; j < d; ++j) X(i, j) = centres(i % K, j) + normal(rng);
  return X;
}

// log pi_k + log N(x_i | k) - log p(x_i) computed directly in long double: the log-responsibilities
// the E-step rounds, to show the data do reach the subnormal range of Scalar.
template <class Model>
long count_in_subnormal_range(const Model& model, const Eigen::MatrixXd& X, double log_min_normal,
                              double log_min_subnormal) {
  const int K = model.n_components();
  long count = 0;
  std::vector<Eigen::LLT<Eigen::MatrixXd>> factors;
  for (int k = 0; k < K; ++k) factors.emplace_back(model.covariance(k).template cast<double>());
  for (Eigen::Index i = 0; i < X.rows(); ++i) {
    std::vector<long double> log_prob(K);
    long double top = -INFINITY;
    for (int k = 0; k < K; ++k) {
      const Eigen::VectorXd diff = X.row(i).transpose() - model.means().row(k).transpose().template cast<double>();
      const Eigen::VectorXd z = factors[k].matrixL().solve(diff);
      const double log_det = 2 * factors[k].matrixL().toDenseMatrix().diagonal().array().log().sum();
      log_prob[k] = std::log(static_cast<long double>(model.weights()(k))) -
                    0.5L * (X.cols() * std::log(2 * M_PI) + log_det + z.squaredNorm());
      top = std::max(top, log_prob[k]);
    }
    long double sum = 0;
    for (int k = 0; k < K; ++k) sum += std::exp(log_prob[k] - top);
    for (int k = 0; k < K; ++k) {
      const long double log_r = log_prob[k] - top - std::log(sum);
      count += log_r < log_min_normal && log_r > log_min_subnormal;
    }
  }
  return count;
}

template <class Scalar>
void check_no_subnormals() {
  using Model = gaussmix::GaussianMixture<Scalar>;
  using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
  const Eigen::MatrixXd X = separated(4000, sizeof(Scalar) == 4 ? 2.5 : 8.0);
  const Matrix Xs = X.cast<Scalar>();
  const double log_min_normal = std::log(static_cast<double>(std::numeric_limits<Scalar>::min()));
  const double log_min_subnormal = std::log(static_cast<double>(std::numeric_limits<Scalar>::denorm_min()));
  for (CovarianceType type :
       {CovarianceType::Full, CovarianceType::Diagonal, CovarianceType::Spherical, CovarianceType::Tied}) {
    INFO("covariance type " << gaussmix::to_string(type) << ", " << (sizeof(Scalar) == 4 ? "float" : "double"));
    gaussmix::Options options;
    options.n_components = 16;
    options.covariance_type = type;
    options.max_iter = 5;
    Model model(options);
    model.fit(Xs);

    // The data do reach the subnormal range: without the cut-off these would be subnormal.
    CHECK(count_in_subnormal_range(model, X, log_min_normal, log_min_subnormal) > 0);

    Matrix resp;
    model.e_step(Xs, resp);
    CHECK(count_subnormal(resp) == 0);
    CHECK((resp.array() == Scalar(0)).count() > 0);
    CHECK(count_subnormal(model.predict_proba(Xs)) == 0);
    CHECK(count_subnormal(model.score_samples(Xs)) == 0);

    // The statistics fit accumulates: continue the fit through fit_with and look at every E-step's sums.
    gaussmix::Options warm = options;
    warm.warm_start = true;
    Model continued(warm);
    continued.set_parameters(model.weights(), model.means(), model.covariances());
    gaussmix::BlockedExpectation<Scalar, Eigen::Dynamic, Matrix> expectation(Xs, nullptr, 16);
    int steps = 0;
    continued.fit_with([](gaussmix::detail::Random&) -> gaussmix::Parameters<Scalar, Eigen::Dynamic> { return {}; },
                       [&](const gaussmix::Parameters<Scalar, Eigen::Dynamic>& p,
                           gaussmix::SufficientStatistics<Eigen::Dynamic>& stats) {
                         expectation(p, stats);
                         ++steps;
                         CHECK(count_subnormal(stats.weight) == 0);
                         CHECK(count_subnormal(stats.first) == 0);
                         CHECK(count_subnormal(stats.second_diagonal) == 0);
                         for (const auto& m : stats.second) CHECK(count_subnormal(m) == 0);
                       });
    CHECK(steps > 0);

    // And k-means on the same data.
    std::vector<int> labels(X.rows());
    Eigen::VectorXd distance(X.rows());
    gaussmix::assign_nearest(Xs, X.topRows(16), labels, &distance);
    CHECK(count_subnormal(distance) == 0);
  }
}

}  // namespace

TEST_CASE("no subnormal responsibility, score or statistic on well-separated clusters (double)", "[estep][subnormal]") {
  check_no_subnormals<double>();
}

TEST_CASE("no subnormal responsibility, score or statistic on well-separated clusters (float)", "[estep][subnormal]") {
  check_no_subnormals<float>();
}

}  // namespace gaussmix_test_no_subnormals
