// SPDX-License-Identifier: MIT
// select_model: BIC over K and covariance types. It must find the K that generated the data,
// score every (K, type) exactly as a separate fit + bic() would, be reproducible, report failed
// fits in the table instead of throwing, and reject bad arguments.

#include <gaussmix/gaussmix.hpp>

#include <Eigen/Dense>
#include <catch2/catch.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

// A namespace of its own: the tests build as a few unity translation units (tests/CMakeLists.txt).
namespace gaussmix_test_model_selection {

namespace {

using gaussmix::CovarianceType;
using gaussmix::Options;

const std::vector<CovarianceType> kAllTypes = {CovarianceType::Full, CovarianceType::Diagonal,
                                               CovarianceType::Spherical, CovarianceType::Tied};

// 600 points from 3 well-separated diagonal Gaussians (unequal variances per axis, so the
// Diagonal type is the one that fits), drawn with the library's own sampler.
Eigen::MatrixXd three_diagonal_blobs(std::uint64_t seed = 42) {
  Options options;
  options.n_components = 3;
  options.covariance_type = CovarianceType::Diagonal;
  gaussmix::GaussianMixtureXd truth(options);
  Eigen::Vector3d weights(0.5, 0.3, 0.2);
  Eigen::MatrixXd means(3, 2);
  means << 0.0, 0.0, 8.0, 0.0, 0.0, 8.0;
  std::vector<Eigen::MatrixXd> covariances = {Eigen::Vector2d(1.0, 0.25).asDiagonal(),
                                              Eigen::Vector2d(0.3, 1.5).asDiagonal(),
                                              Eigen::Vector2d(2.0, 0.5).asDiagonal()};
  truth.set_parameters(weights, means, covariances);
  return truth.sample(600, seed);
}

// The project's first-seed data (tests/test_notebooks.cpp, notebook 1): 1000 points from
// 0.3 N((0,0), [[1,.5],[.5,1]]) + 0.7 N((2.5,0), [[1,-.5],[-.5,1]]).
Eigen::MatrixXd notebook1_data() {
  Options options;
  options.n_components = 2;
  gaussmix::GaussianMixture2d truth(options);
  Eigen::Matrix2d means;
  means << 0.0, 0.0, 2.5, 0.0;
  Eigen::Matrix2d c0, c1;
  c0 << 1.0, 0.5, 0.5, 1.0;
  c1 << 1.0, -0.5, -0.5, 1.0;
  truth.set_parameters(Eigen::Vector2d(0.3, 0.7), means, std::vector<Eigen::Matrix2d>{c0, c1});
  return truth.sample(1000, 20240601);
}

// Three distinct points, each repeated 10 times: with reg_covar = 0 a component that holds only
// one of them has a zero covariance, so K = 3 fails with NumericalError whatever the type.
Eigen::MatrixXd three_points() {
  Eigen::MatrixXd X(30, 2);
  for (int i = 0; i < 30; ++i)
    X.row(i) = i % 3 == 0 ? Eigen::RowVector2d(0, 0) : i % 3 == 1 ? Eigen::RowVector2d(4, 1) : Eigen::RowVector2d(1, 5);
  return X;
}

template <class Selection> void require_best_is_minimum(const Selection& s) {
  REQUIRE(s.best_index < s.table.size());
  const gaussmix::BicEntry& best = s.table[s.best_index];
  CHECK(&best == &s.best_entry());
  CHECK(best.ok());
  for (const gaussmix::BicEntry& e : s.table) {
    INFO("K = " << e.n_components << ", " << gaussmix::to_string(e.covariance_type) << ", BIC " << e.bic);
    CHECK(best.bic <= e.bic);
    if (e.bic == best.bic) CHECK(best.n_parameters <= e.n_parameters);
  }
  CHECK(s.best.n_components() == best.n_components);
  CHECK(s.best.covariance_type() == best.covariance_type);
  CHECK(s.best.n_parameters() == best.n_parameters);
}

}  // namespace

TEST_CASE("select_model finds K = 3 on three well-separated diagonal Gaussians", "[model_selection]") {
  const Eigen::MatrixXd X = three_diagonal_blobs();
  const auto s = gaussmix::select_model(X, 1, 6);
  REQUIRE(s.table.size() == 6 * 4);
  require_best_is_minimum(s);
  INFO("chosen: K = " << s.best_entry().n_components << ", " << gaussmix::to_string(s.best_entry().covariance_type));
  CHECK(s.best_entry().n_components == 3);
  // Full costs 3 more parameters for nothing; Spherical and Tied cannot fit unequal axis variances.
  CHECK(s.best_entry().covariance_type == CovarianceType::Diagonal);
  CHECK(s.best.bic(X) == s.best_entry().bic);

  SECTION("float and a fixed Dim choose the same") {
    const Eigen::MatrixXf Xf = X.cast<float>();
    const auto sf = gaussmix::select_model<float, 2>(Xf, 1, 6);
    CHECK(sf.best_entry().n_components == 3);
    CHECK(sf.best_entry().covariance_type == CovarianceType::Diagonal);
    CHECK(sf.best_entry().bic == Approx(s.best_entry().bic).epsilon(1e-4));
  }
}

TEST_CASE("select_model with full covariances finds K = 2 on the first-seed data", "[model_selection]") {
  const Eigen::MatrixXd X = notebook1_data();
  const auto s = gaussmix::select_model(X, 1, 6, {CovarianceType::Full});
  REQUIRE(s.table.size() == 6);
  require_best_is_minimum(s);
  CHECK(s.best_entry().n_components == 2);
  CHECK(s.best_entry().covariance_type == CovarianceType::Full);
  CHECK(s.best.n_components() == 2);
}

TEST_CASE("select_model's table: one entry per (K, type), each equal to a separate fit + bic()", "[model_selection]") {
  const Eigen::MatrixXd X = three_diagonal_blobs();
  Options base;
  base.seed = 7;
  base.n_init = 2;
  base.tol = 1e-4;
  base.n_components = 5;  // replaced in each fit, as is the covariance type
  base.covariance_type = CovarianceType::Spherical;
  const std::vector<CovarianceType> types = {CovarianceType::Tied, CovarianceType::Full, CovarianceType::Spherical};
  const auto s = gaussmix::select_model(X, 2, 5, types, base);
  REQUIRE(s.table.size() == 4 * types.size());
  std::size_t index = 0;
  for (int K = 2; K <= 5; ++K) {
    for (const CovarianceType type : types) {
      const gaussmix::BicEntry& e = s.table[index++];
      INFO("K = " << K << ", " << gaussmix::to_string(type));
      REQUIRE(e.n_components == K);
      REQUIRE(e.covariance_type == type);
      CHECK(&s.entry(K, type) == &e);
      Options options = base;
      options.n_components = K;
      options.covariance_type = type;
      gaussmix::GaussianMixtureXd model(options);
      const gaussmix::FitResult r = model.fit(X);
      CHECK(e.ok());
      CHECK(e.bic == model.bic(X));  // exactly
      CHECK(e.log_likelihood == model.log_likelihood(X));
      CHECK(e.n_parameters == model.n_parameters());
      CHECK(e.lower_bound == r.lower_bound);
      CHECK(e.converged == r.converged);
      CHECK(e.n_iter == r.n_iter);
    }
  }
  require_best_is_minimum(s);
  CHECK_THROWS_AS(s.entry(1, CovarianceType::Full), std::out_of_range);
  CHECK_THROWS_AS(s.entry(3, CovarianceType::Diagonal), std::out_of_range);
}

TEST_CASE("select_model is reproducible", "[model_selection]") {
  const Eigen::MatrixXd X = three_diagonal_blobs(5);
  Options base;
  base.seed = 123;
  base.init_params = gaussmix::InitMethod::RandomFromData;
  const auto a = gaussmix::select_model(X, 1, 5, kAllTypes, base);
  const auto b = gaussmix::select_model(X, 1, 5, kAllTypes, base);
  REQUIRE(a.table.size() == b.table.size());
  for (std::size_t i = 0; i < a.table.size(); ++i) {
    INFO("entry " << i);
    CHECK(a.table[i].bic == b.table[i].bic);
    CHECK(a.table[i].log_likelihood == b.table[i].log_likelihood);
    CHECK(a.table[i].lower_bound == b.table[i].lower_bound);
    CHECK(a.table[i].n_iter == b.table[i].n_iter);
    CHECK(a.table[i].converged == b.table[i].converged);
  }
  CHECK(a.best_index == b.best_index);
  CHECK(a.best.weights() == b.best.weights());
  CHECK(a.best.means() == b.best.means());
  CHECK(a.best.covariances() == b.best.covariances());
}

TEST_CASE("select_model with sample weights scores the weighted log-likelihood", "[model_selection]") {
  const Eigen::MatrixXd X = three_diagonal_blobs(9);
  Eigen::VectorXd w(X.rows());
  for (Eigen::Index i = 0; i < X.rows(); ++i) w(i) = static_cast<double>(1 + i % 3);  // 1, 2, 3, 1, 2, 3, ...
  Options base;
  base.seed = 3;
  const auto s = gaussmix::select_model(X, w, 1, 5, kAllTypes, base);
  REQUIRE(s.table.size() == 5 * 4);
  require_best_is_minimum(s);
  CHECK(s.best_entry().n_components == 3);

  SECTION("BIC = -2 sum_i w_i log p(x_i) + p log(sum_i w_i), from a separate weighted fit") {
    for (const gaussmix::BicEntry& e : s.table) {
      INFO("K = " << e.n_components << ", " << gaussmix::to_string(e.covariance_type));
      Options options = base;
      options.n_components = e.n_components;
      options.covariance_type = e.covariance_type;
      gaussmix::GaussianMixtureXd model(options);
      model.fit(X, w);
      const double log_l = model.score_samples(X).dot(w);
      CHECK(e.log_likelihood == log_l);
      CHECK(e.bic == -2 * log_l + model.n_parameters() * std::log(w.sum()));
    }
  }
  SECTION("unit weights give the unweighted table") {
    const auto u = gaussmix::select_model(X, Eigen::VectorXd::Ones(X.rows()), 1, 5, kAllTypes, base);
    const auto plain = gaussmix::select_model(X, 1, 5, kAllTypes, base);
    REQUIRE(u.table.size() == plain.table.size());
    for (std::size_t i = 0; i < u.table.size(); ++i) {
      INFO("entry " << i);
      CHECK(u.table[i].bic == Approx(plain.table[i].bic).epsilon(1e-12));
      CHECK(u.table[i].n_iter == plain.table[i].n_iter);
    }
    CHECK(u.best_index == plain.best_index);
  }
}

TEST_CASE("select_model records a failed fit and goes on", "[model_selection]") {
  const Eigen::MatrixXd X = three_points();
  Options base;
  base.reg_covar = 0;
  const std::vector<CovarianceType> types = {CovarianceType::Diagonal, CovarianceType::Spherical};
  const auto s = gaussmix::select_model(X, 1, 3, types, base);
  REQUIRE(s.table.size() == 3 * 2);
  for (const CovarianceType type : types) {
    INFO(gaussmix::to_string(type));
    const gaussmix::BicEntry& failed = s.entry(3, type);
    CHECK_FALSE(failed.ok());
    CHECK(failed.error.rfind("gaussmix: ", 0) == 0);
    CHECK(failed.bic == std::numeric_limits<double>::infinity());
    CHECK(s.entry(1, type).ok());
  }
  require_best_is_minimum(s);
  CHECK(s.best_entry().n_components < 3);

  SECTION("every fit failing is a NumericalError") {
    CHECK_THROWS_AS(gaussmix::select_model(X, 3, 3, types, base), gaussmix::NumericalError);
    CHECK_THROWS_WITH(gaussmix::select_model(X, 3, 3, types, base),
                      Catch::StartsWith("gaussmix: select_model: every fit failed"));
  }
}

TEST_CASE("select_model rejects bad arguments", "[model_selection]") {
  const Eigen::MatrixXd X = three_diagonal_blobs().topRows(20);
  const auto starts_right = Catch::StartsWith("gaussmix: select_model: ");
  auto rejects = [&](auto&& call, bool check_prefix = true) {
    CHECK_THROWS_AS(call(), std::invalid_argument);
    if (check_prefix) CHECK_THROWS_WITH(call(), starts_right);
  };
  rejects([&] { return gaussmix::select_model(X, 0, 3); });
  rejects([&] { return gaussmix::select_model(X, -1, 3); });
  rejects([&] { return gaussmix::select_model(X, 3, 2); });
  rejects([&] { return gaussmix::select_model(X, 1, 21); });  // n = 20 < k_max
  rejects([&] { return gaussmix::select_model(X, 1, 3, {}); });
  rejects([&] { return gaussmix::select_model(X, 1, 3, {CovarianceType::Full, CovarianceType::Full}); });
  rejects([&] { return gaussmix::select_model(X, 1, 3, {static_cast<CovarianceType>(7)}); }, false);
  rejects([&] { return gaussmix::select_model(Eigen::MatrixXd(0, 2), 1, 1); });
  rejects([&] { return gaussmix::select_model<double, 3>(X, 1, 2); });  // X has 2 columns
  Eigen::MatrixXd bad = X;
  bad(4, 1) = std::numeric_limits<double>::quiet_NaN();
  rejects([&] { return gaussmix::select_model(bad, 1, 2); });
  Options options;
  options.tol = -1;
  rejects([&] { return gaussmix::select_model(X, 1, 2, kAllTypes, options); }, false);
  CHECK_THROWS_WITH(gaussmix::select_model(X, 1, 2, kAllTypes, options), Catch::StartsWith("gaussmix: Options::tol"));

  Eigen::VectorXd w = Eigen::VectorXd::Ones(X.rows());
  rejects([&] { return gaussmix::select_model(X, Eigen::VectorXd::Ones(X.rows() - 1), 1, 2); });
  w(3) = -1;
  rejects([&] { return gaussmix::select_model(X, w, 1, 2); });
  w.setZero();
  w.head(2).setOnes();  // 2 positive weights, fewer than k_max = 3
  rejects([&] { return gaussmix::select_model(X, w, 1, 3); });
  CHECK_NOTHROW(gaussmix::select_model(X, w, 1, 2));
}

}  // namespace gaussmix_test_model_selection
