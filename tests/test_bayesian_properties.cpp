// SPDX-License-Identifier: MIT
// BayesianGaussianMixture beyond the scikit-learn fixtures: threads, fit_source, sample weights,
// the lower bound's monotonicity, the priors' validation and the errors of README's tables.

#include <gaussmix/gaussmix.hpp>

#include <Eigen/Dense>
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#ifdef _OPENMP
#include <omp.h>

// A namespace of its own: the tests build as a few unity translation units (tests/CMakeLists.txt).
namespace gaussmix_test_bayesian_properties {
#endif

namespace {

using gaussmix::BayesianGaussianMixture;
using gaussmix::BayesianPriors;
using gaussmix::CovarianceType;
using gaussmix::FitResult;
using gaussmix::Options;
using gaussmix::WeightPrior;

const CovarianceType kTypes[] = {CovarianceType::Full, CovarianceType::Diagonal, CovarianceType::Spherical,
                                 CovarianceType::Tied};

// n points from `clusters` well separated Gaussians in d dimensions (fixed seed); labels optional.
Eigen::MatrixXd blobs(Eigen::Index n, int d, int clusters, double spread, std::vector<int>* labels = nullptr,
                      unsigned seed = 5) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  Eigen::MatrixXd centres(clusters, d);
  for (int c = 0; c < clusters; ++c)
    for (int j = 0; j < d; ++j) centres(c, j) = 12.0 * ((c + j) % 3) + 20.0 * c * (j == 0);
  Eigen::MatrixXd X(n, d);
  if (labels) labels->resize(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    const int c = static_cast<int>(i % clusters);
    if (labels) (*labels)[i] = c;
    for (int j = 0; j < d; ++j) X(i, j) = centres(c, j) + spread * normal(rng);
  }
  return X;
}

Eigen::MatrixXd soft_resp(Eigen::Index n, int K) {
  Eigen::MatrixXd r(n, K);
  for (Eigen::Index i = 0; i < n; ++i)
    for (int k = 0; k < K; ++k) r(i, k) = 1.0 + ((i * 7 + k * 3) % 11);
  for (Eigen::Index i = 0; i < n; ++i) r.row(i) /= r.row(i).sum();
  return r;
}

Options options_for(CovarianceType type, int K, int max_iter = 30) {
  Options o;
  o.n_components = K;
  o.covariance_type = type;
  o.max_iter = max_iter;
  o.tol = 0;
  return o;
}

double max_relative(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
  const double scale = std::max(b.cwiseAbs().maxCoeff(), 1e-300);
  return (a - b).cwiseAbs().maxCoeff() / scale;
}

template <class M>
void require_close(const M& a, const M& b, double tol) {
  CHECK(max_relative(a.weights(), b.weights()) <= tol);
  CHECK(max_relative(a.means(), b.means()) <= tol);
  for (int k = 0; k < a.n_components(); ++k) CHECK(max_relative(a.covariance(k), b.covariance(k)) <= tol);
  CHECK(max_relative(a.weight_concentration(), b.weight_concentration()) <= tol);
  CHECK(max_relative(a.mean_precision(), b.mean_precision()) <= tol);
  CHECK(max_relative(a.degrees_of_freedom(), b.degrees_of_freedom()) <= tol);
}

template <class M>
void require_same(const M& a, const M& b) {
  CHECK(a.weights() == b.weights());
  CHECK(a.means() == b.means());
  for (int k = 0; k < a.n_components(); ++k) CHECK(a.covariance(k) == b.covariance(k));
  CHECK(a.weight_concentration() == b.weight_concentration());
  CHECK(a.mean_precision() == b.mean_precision());
  CHECK(a.degrees_of_freedom() == b.degrees_of_freedom());
}

}  // namespace

TEST_CASE("BayesianGaussianMixture: the lower bound never decreases, weights sum to 1, covariances SPD",
          "[bayesian][properties]") {
  const Eigen::MatrixXd X = blobs(600, 3, 4, 1.5);
  for (CovarianceType type : kTypes)
    for (WeightPrior prior : {WeightPrior::DirichletProcess, WeightPrior::DirichletDistribution})
      for (auto init : {gaussmix::InitMethod::KMeans, gaussmix::InitMethod::Random}) {
        INFO(gaussmix::to_string(type) << " " << gaussmix::to_string(prior) << " " << gaussmix::to_string(init));
        Options o = options_for(type, 7, 60);
        o.init_params = init;
        BayesianPriors p;
        p.weight_prior = prior;
        BayesianGaussianMixture<> model(o, p);
        const FitResult r = model.fit(X);
        REQUIRE(r.history.size() == 60u);
        for (std::size_t i = 1; i < r.history.size(); ++i)
          CHECK(r.history[i] >= r.history[i - 1] - 1e-9 * std::abs(r.history[i - 1]));
        CHECK(std::abs(model.weights().sum() - 1) < 1e-12);
        for (int k = 0; k < 7; ++k) {
          Eigen::LLT<Eigen::MatrixXd> llt(model.covariance(k));
          CHECK(llt.info() == Eigen::Success);
          CHECK(model.covariance(k).isApprox(model.covariance(k).transpose(), 0));
        }
      }
}

TEST_CASE("BayesianGaussianMixture switches off the components the data do not need", "[bayesian][properties]") {
  // 4 separated clusters of 300 points, K = 10: the Dirichlet process keeps 4 components, whose
  // means are the true centres within sampling error (spread 1 / sqrt(300) = 0.06; 5 sigma).
  std::vector<int> labels;
  const Eigen::MatrixXd X = blobs(1200, 2, 4, 1.0, &labels);
  Options o = options_for(CovarianceType::Full, 10, 500);
  o.tol = 1e-6;
  o.n_init = 2;
  BayesianGaussianMixture<> model(o);
  model.fit(X);
  const std::vector<int> active = model.active_components(0.01);
  REQUIRE(active.size() == 4u);
  for (int c = 0; c < 4; ++c) {
    Eigen::RowVector2d centre = Eigen::RowVector2d::Zero();
    for (Eigen::Index i = 0; i < X.rows(); ++i)
      if (labels[i] == c) centre += X.row(i);
    centre /= 300;
    double nearest = std::numeric_limits<double>::infinity();
    for (int k : active) nearest = std::min(nearest, (model.means().row(k) - centre).norm());
    // The posterior mean shrinks towards the prior mean by beta_0 / (beta_0 + N_k) ~ 1/300.
    CHECK(nearest < 5 * 1.0 / std::sqrt(300.0) + 40.0 / 300);
  }
}

#ifdef _OPENMP
TEST_CASE("BayesianGaussianMixture: bit-identical for any thread count", "[bayesian][threads]") {
  const Eigen::MatrixXd X = blobs(20000, 4, 3, 2.0);  // 5 blocks of 4096 rows: several chunks
  const int saved = omp_get_max_threads();
  for (CovarianceType type : kTypes) {
    INFO(gaussmix::to_string(type));
    std::vector<BayesianGaussianMixture<>> models;
    std::vector<FitResult> results;
    for (int threads : {1, 2, 3}) {
      omp_set_num_threads(threads);
      models.emplace_back(options_for(type, 5, 15));
      results.push_back(models.back().fit(X));
    }
    omp_set_num_threads(saved);
    for (std::size_t i = 1; i < models.size(); ++i) {
      CHECK(results[i].history == results[0].history);
      require_same(models[i], models[0]);
    }
  }
}
#endif

TEST_CASE("BayesianGaussianMixture: fit_source equals the in-memory fit", "[bayesian][stream]") {
  const Eigen::MatrixXd X = blobs(3000, 3, 3, 1.5);
  for (CovarianceType type : kTypes) {
    INFO(gaussmix::to_string(type));
    // From the same responsibilities (warm start) ...
    Options o = options_for(type, 4, 25);
    o.warm_start = true;
    BayesianGaussianMixture<> memory(o), streamed(o);
    memory.m_step(X, soft_resp(X.rows(), 4));
    streamed.m_step(X, soft_resp(X.rows(), 4));
    const FitResult a = memory.fit(X);
    const FitResult b = gaussmix::fit_source(streamed, gaussmix::MatrixSource(X, 333));
    REQUIRE(a.history.size() == b.history.size());
    for (std::size_t i = 0; i < a.history.size(); ++i)
      CHECK(std::abs(a.history[i] - b.history[i]) <= 1e-12 * std::abs(a.history[i]));
    require_close(memory, streamed, 1e-12);
    // ... and from the default initialisation (the data fit in the reservoir, so it starts alike).
    Options fresh = options_for(type, 4, 25);
    BayesianGaussianMixture<> m2(fresh), s2(fresh);
    m2.fit(X);
    gaussmix::fit_source(s2, gaussmix::MatrixSource(X, 1000));
    require_close(m2, s2, 1e-12);
  }
  // No mini-batch mode for the variational fit: refused, not ignored; the model is unchanged.
  BayesianGaussianMixture<> batched(options_for(CovarianceType::Full, 4, 25));
  gaussmix::StreamOptions stream;
  stream.batch_rows = 500;
  CHECK_THROWS_WITH(gaussmix::fit_source(batched, gaussmix::MatrixSource(X), stream),
                    Catch::Contains("StreamOptions::batch_rows must be 0"));
  CHECK_FALSE(batched.is_fitted());
}

TEST_CASE("BayesianGaussianMixture: an integer sample weight counts a row that many times", "[bayesian][weights]") {
  const Eigen::MatrixXd X = blobs(200, 2, 3, 1.0);
  Eigen::VectorXd w(X.rows());
  for (Eigen::Index i = 0; i < X.rows(); ++i) w(i) = 1 + i % 3;
  Eigen::MatrixXd repeated(static_cast<Eigen::Index>(w.sum()), 2);
  Eigen::Index r = 0;
  for (Eigen::Index i = 0; i < X.rows(); ++i)
    for (int c = 0; c < w(i); ++c) repeated.row(r++) = X.row(i);
  const Eigen::MatrixXd resp = soft_resp(repeated.rows(), 3);
  for (CovarianceType type : kTypes) {
    INFO(gaussmix::to_string(type));
    Options o = options_for(type, 3, 20);
    o.warm_start = true;
    BayesianGaussianMixture<> weighted(o), duplicated(o);
    weighted.m_step(repeated, resp);
    duplicated.m_step(repeated, resp);
    const FitResult a = weighted.fit(X, w);
    const FitResult b = duplicated.fit(repeated);
    CHECK(std::abs(a.lower_bound - b.lower_bound) <= 1e-10 * std::abs(b.lower_bound));
    require_close(weighted, duplicated, 1e-10);
  }
}

TEST_CASE("BayesianGaussianMixture: invalid priors throw std::invalid_argument naming the field",
          "[bayesian][errors]") {
  auto throws_naming = [](auto&& make, const std::string& field) {
    try {
      make();
      FAIL("no exception for " << field);
    } catch (const std::invalid_argument& e) {
      const std::string what = e.what();
      INFO(what);
      CHECK(what.rfind("gaussmix: ", 0) == 0);
      CHECK(what.find("BayesianPriors::" + field) != std::string::npos);
    }
  };
  const Eigen::MatrixXd X = blobs(100, 3, 2, 1.0);
  auto fit_with_priors = [&](BayesianPriors p, CovarianceType type = CovarianceType::Full) {
    return [&X, p, type] {
      BayesianGaussianMixture<> m(options_for(type, 2, 5), p);
      m.fit(X);
    };
  };
  BayesianPriors p;
  p.weight_concentration = 0;
  throws_naming(fit_with_priors(p), "weight_concentration");
  p = {};
  p.weight_concentration = std::numeric_limits<double>::quiet_NaN();
  throws_naming(fit_with_priors(p), "weight_concentration");
  p = {};
  p.mean_precision = -1;
  throws_naming(fit_with_priors(p), "mean_precision");
  p = {};
  p.degrees_of_freedom = 2;  // d = 3: must exceed 2
  throws_naming(fit_with_priors(p), "degrees_of_freedom");
  p = {};
  p.mean = Eigen::VectorXd::Zero(2);
  throws_naming(fit_with_priors(p), "mean");
  p = {};
  p.mean = Eigen::Vector3d(0, std::numeric_limits<double>::infinity(), 0);
  throws_naming(fit_with_priors(p), "mean");
  p = {};
  p.covariance = Eigen::MatrixXd::Identity(2, 2);
  throws_naming(fit_with_priors(p), "covariance");
  p = {};
  Eigen::Matrix3d asymmetric = Eigen::Matrix3d::Identity();
  asymmetric(0, 1) = 0.5;
  p.covariance = Eigen::MatrixXd(asymmetric);
  throws_naming(fit_with_priors(p), "covariance");
  p = {};
  p.covariance = Eigen::MatrixXd(-Eigen::Matrix3d::Identity());
  throws_naming(fit_with_priors(p), "covariance");
  p = {};
  Eigen::Matrix3d dense = Eigen::Matrix3d::Identity();
  dense(0, 1) = dense(1, 0) = 0.5;
  p.covariance = Eigen::MatrixXd(dense);
  throws_naming(fit_with_priors(p, CovarianceType::Diagonal), "covariance");
  p = {};
  p.covariance = Eigen::MatrixXd(Eigen::Vector3d(1, 2, 3).asDiagonal());
  throws_naming(fit_with_priors(p, CovarianceType::Spherical), "covariance");
  // Without data: caught in the constructor.
  p = {};
  p.mean_precision = 0;
  throws_naming([&] { BayesianGaussianMixture<> m(Options{}, p); }, "mean_precision");
  p = {};
  p.degrees_of_freedom = 0.5;  // Dim = 2 is known: must exceed 1
  throws_naming([&] { BayesianGaussianMixture<double, 2> m(Options{}, p); }, "degrees_of_freedom");
  // Valid given priors are used as given.
  p = {};
  p.weight_concentration = 0.5;
  p.mean_precision = 2;
  p.degrees_of_freedom = 4;
  p.mean = Eigen::Vector3d(1, 2, 3);
  p.covariance = Eigen::MatrixXd(Eigen::Matrix3d::Identity() * 2);
  BayesianGaussianMixture<> ok(options_for(CovarianceType::Full, 2, 5), p);
  ok.fit(X);
  CHECK(ok.weight_concentration()(1, 1) == 0.5);  // gamma_0 + nothing after the last component
  CHECK(ok.mean_precision().minCoeff() > 2);
}

TEST_CASE("BayesianGaussianMixture: README's bad-input rows", "[bayesian][errors]") {
  const Eigen::MatrixXd X = blobs(50, 2, 2, 1.0);
  Options o = options_for(CovarianceType::Full, 2, 5);
  BayesianGaussianMixture<> m(o);
  // Wrong call order: std::logic_error.
  CHECK_THROWS_AS(m.weights(), std::logic_error);
  CHECK_THROWS_AS(m.predict(X), std::logic_error);
  CHECK_THROWS_AS(m.weight_concentration(), std::logic_error);
  // Bad data: std::invalid_argument, the model unchanged.
  Eigen::MatrixXd bad = X;
  bad(3, 1) = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_AS(m.fit(bad), std::invalid_argument);
  CHECK_FALSE(m.is_fitted());
  CHECK_THROWS_AS(m.fit(X.topRows(1)), std::invalid_argument);
  CHECK_THROWS_AS(m.fit(Eigen::MatrixXd(0, 2)), std::invalid_argument);
  Eigen::VectorXd w = Eigen::VectorXd::Ones(50);
  w(0) = -1;
  CHECK_THROWS_AS(m.fit(X, w), std::invalid_argument);
  CHECK_THROWS_AS(m.fit(X, Eigen::VectorXd::Ones(49)), std::invalid_argument);
  // A constant column: the default covariance prior is singular, reported as bad input.
  Eigen::MatrixXd constant = X;
  constant.col(1).setConstant(3);
  CHECK_THROWS_AS(m.fit(constant), std::invalid_argument);
  CHECK_FALSE(m.is_fitted());
  // Options are validated as GaussianMixture's.
  Options zero = o;
  zero.n_components = 0;
  CHECK_THROWS_AS(BayesianGaussianMixture<>(zero), std::invalid_argument);
  m.fit(X);
  const Eigen::MatrixXd before = m.means();
  CHECK_THROWS_AS(m.predict(Eigen::MatrixXd::Zero(3, 3)), std::invalid_argument);
  CHECK_THROWS_AS(m.fit(bad), std::invalid_argument);
  CHECK(m.means() == before);
  CHECK_THROWS_AS(m.m_step(X, Eigen::MatrixXd::Ones(50, 3)), std::invalid_argument);
  CHECK_THROWS_AS(m.covariance(2), std::out_of_range);
  // A sample from the fitted model has its shape.
  CHECK(m.sample(10, 1).rows() == 10);
  CHECK(m.predict(X).size() == 50);
}

}  // namespace gaussmix_test_bayesian_properties
