// SPDX-License-Identifier: MIT
// Sample weights are frequency weights: a weight of 2 is a duplicated row, a weight of 0 a row
// that is not there, and only the ratios of the weights matter. Checked from the same starting
// parameters (set_parameters + warm_start) for every covariance type, so the two fits compared run
// the same EM and may differ only by the order of floating-point sums.

#include <gaussmix/gaussmix.hpp>

#include <Eigen/Dense>
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

// A namespace of its own: the tests build as a few unity translation units (tests/CMakeLists.txt).
namespace gaussmix_test_sample_weight {

namespace {

using gaussmix::CovarianceType;
using gaussmix::GaussianMixtureXd;
using gaussmix::Options;

constexpr double kRelative = 1e-12;

// Runs `body(type)` once per covariance type, each in its own SECTION.
template <class Body> void for_each_covariance_type(Body&& body) {
  SECTION("Full") { body(CovarianceType::Full); }
  SECTION("Diagonal") { body(CovarianceType::Diagonal); }
  SECTION("Spherical") { body(CovarianceType::Spherical); }
  SECTION("Tied") { body(CovarianceType::Tied); }
}

// 300 points in 3-d from a 3-component mixture with full covariances, drawn with the library's sampler.
Eigen::MatrixXd make_data() {
  Options options;
  options.n_components = 3;
  GaussianMixtureXd truth(options);
  Eigen::MatrixXd means(3, 3);
  means << 0.0, 0.0, 0.0, 4.0, -1.0, 1.0, 1.0, 4.0, -2.0;
  std::vector<Eigen::MatrixXd> covariances;
  for (int k = 0; k < 3; ++k) {
    Eigen::MatrixXd L(3, 3);
    L << 1.0, 0, 0, 0.3 * (k + 1), 0.8, 0, -0.2, 0.1 * k, 0.6 + 0.2 * k;
    covariances.push_back(L * L.transpose());
  }
  truth.set_parameters(Eigen::Vector3d(0.5, 0.3, 0.2), means, covariances);
  return truth.sample(300, 2024);
}

Options options_for(CovarianceType type, bool warm_start = true) {
  Options options;
  options.n_components = 3;
  options.covariance_type = type;
  options.warm_start = warm_start;
  options.tol = 1e-6;  // enough iterations for rounding differences to show if EM amplified them
  options.seed = 17;
  return options;
}

// A model with fixed, deliberately poor starting parameters (identity covariances fit every type).
GaussianMixtureXd started_model(CovarianceType type) {
  GaussianMixtureXd model(options_for(type));
  Eigen::MatrixXd means(3, 3);
  means << 1.0, 1.0, 1.0, 2.0, 0.0, 0.0, 0.0, 2.0, 0.0;
  model.set_parameters(Eigen::Vector3d::Constant(1.0 / 3), means,
                       std::vector<Eigen::MatrixXd>(3, Eigen::MatrixXd::Identity(3, 3)));
  return model;
}

bool relatively_close(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() && (a - b).norm() <= kRelative * std::max(a.norm(), b.norm());
}

void require_same_parameters(const GaussianMixtureXd& a, const GaussianMixtureXd& b) {
  INFO("weights\n" << a.weights().transpose() << "\nvs\n" << b.weights().transpose());
  CHECK(relatively_close(a.weights(), b.weights()));
  INFO("means\n" << a.means() << "\nvs\n" << b.means());
  CHECK(relatively_close(a.means(), b.means()));
  for (int k = 0; k < a.n_components(); ++k) {
    INFO("covariance " << k << "\n" << a.covariance(k) << "\nvs\n" << b.covariance(k));
    CHECK(relatively_close(a.covariance(k), b.covariance(k)));
  }
}

void require_finite_parameters(const GaussianMixtureXd& model) {
  REQUIRE(model.is_fitted());
  CHECK(model.weights().allFinite());
  CHECK(model.weights().minCoeff() > 0);
  CHECK(model.weights().sum() == Approx(1.0).epsilon(1e-12));
  CHECK(model.means().allFinite());
  for (const Eigen::MatrixXd& c : model.covariances()) {
    CHECK(c.allFinite());
    CHECK(Eigen::LLT<Eigen::MatrixXd>(c).info() == Eigen::Success);
  }
}

}  // namespace

TEST_CASE("a weight of 2 is a duplicated row", "[sample_weight]") {
  const Eigen::MatrixXd X = make_data();
  const std::vector<Eigen::Index> doubled = {0, 17, 123, 299};
  Eigen::MatrixXd X_dup(X.rows() + static_cast<Eigen::Index>(doubled.size()), X.cols());
  X_dup.topRows(X.rows()) = X;
  Eigen::VectorXd w = Eigen::VectorXd::Ones(X.rows());
  for (std::size_t j = 0; j < doubled.size(); ++j) {
    X_dup.row(X.rows() + static_cast<Eigen::Index>(j)) = X.row(doubled[j]);
    w(doubled[j]) = 2;
  }
  for_each_covariance_type([&](CovarianceType type) {
    GaussianMixtureXd duplicated = started_model(type);
    GaussianMixtureXd weighted = started_model(type);
    const gaussmix::FitResult a = duplicated.fit(X_dup);
    const gaussmix::FitResult b = weighted.fit(X, w);
    CHECK(a.n_iter > 2);
    CHECK(a.n_iter == b.n_iter);
    CHECK(a.converged == b.converged);
    CHECK(a.lower_bound == Approx(b.lower_bound).epsilon(kRelative));
    require_same_parameters(duplicated, weighted);
  });
}

TEST_CASE("zero-weight rows are ignored", "[sample_weight]") {
  const Eigen::MatrixXd X = make_data();
  // Extra rows, far from the data, interleaved every 50 rows with weight 0.
  const Eigen::Index extra = 6;
  Eigen::MatrixXd X_more(X.rows() + extra, X.cols());
  Eigen::VectorXd w(X.rows() + extra);
  for (Eigen::Index i = 0, source = 0, out = 0; out < X_more.rows(); ++i) {
    if (i % 51 == 50) {
      X_more.row(out) = Eigen::RowVector3d(40.0 + out, -30.0, 25.0);
      w(out++) = 0;
    } else {
      X_more.row(out) = X.row(source++);
      w(out++) = 1;
    }
  }
  REQUIRE(w.sum() == X.rows());

  for_each_covariance_type([&](CovarianceType type) {
    SECTION("from the same starting parameters") {
      GaussianMixtureXd plain = started_model(type);
      GaussianMixtureXd weighted = started_model(type);
      const gaussmix::FitResult a = plain.fit(X);
      const gaussmix::FitResult b = weighted.fit(X_more, w);
      CHECK(a.n_iter == b.n_iter);
      CHECK(a.lower_bound == Approx(b.lower_bound).epsilon(kRelative));
      require_same_parameters(plain, weighted);
    }
    SECTION("from the k-means initialisation") {
      GaussianMixtureXd plain(options_for(type, false));
      GaussianMixtureXd weighted(options_for(type, false));
      const gaussmix::FitResult a = plain.fit(X);
      const gaussmix::FitResult b = weighted.fit(X_more, w);
      CHECK(a.n_iter == b.n_iter);
      require_same_parameters(plain, weighted);
    }
  });
}

TEST_CASE("weights scaled by a constant give the same fit", "[sample_weight]") {
  const Eigen::MatrixXd X = make_data();
  Eigen::VectorXd w(X.rows());
  for (Eigen::Index i = 0; i < X.rows(); ++i) w(i) = 0.5 + 0.01 * static_cast<double>((i * 37) % 151);
  for_each_covariance_type([&](CovarianceType type) {
    // Extreme scales too: the sums of 1e307-sized weights overflow and 1e-300-sized ones fall below
    // the empty-component threshold unless the library divides out the common factor.
    for (const double scale : {3.7, 1e-3, 1e-300, 1e-14, 1e300, 1e307}) {
      INFO("scale " << scale);
      GaussianMixtureXd a = started_model(type);
      GaussianMixtureXd b = started_model(type);
      const gaussmix::FitResult ra = a.fit(X, w);
      const gaussmix::FitResult rb = b.fit(X, Eigen::VectorXd(scale * w));
      CHECK(ra.n_iter == rb.n_iter);
      CHECK(ra.lower_bound == Approx(rb.lower_bound).epsilon(kRelative));  // a mean per unit weight
      require_same_parameters(a, b);
    }
  });
}

TEST_CASE("weighted initialisation without warm start is reproducible and finite", "[sample_weight]") {
  const Eigen::MatrixXd X = make_data();
  Eigen::VectorXd w(X.rows());
  for (Eigen::Index i = 0; i < X.rows(); ++i) w(i) = (i % 4 == 0) ? 0.0 : 0.25 + 0.5 * static_cast<double>(i % 7);
  for_each_covariance_type([&](CovarianceType type) {
    for (const auto init : {gaussmix::InitMethod::KMeans, gaussmix::InitMethod::KMeansPlusPlus,
                            gaussmix::InitMethod::Random, gaussmix::InitMethod::RandomFromData}) {
      INFO("init " << gaussmix::to_string(init));
      Options options = options_for(type, false);
      options.init_params = init;
      options.n_init = 2;
      GaussianMixtureXd a(options), b(options);
      const gaussmix::FitResult ra = a.fit(X, w);
      const gaussmix::FitResult rb = b.fit(X, w);
      CHECK(ra.n_iter == rb.n_iter);
      CHECK(ra.lower_bound == rb.lower_bound);
      CHECK(std::isfinite(ra.lower_bound));
      CHECK(a.weights() == b.weights());
      CHECK(a.means() == b.means());
      CHECK(a.covariances() == b.covariances());
      require_finite_parameters(a);
    }
  });
}

TEST_CASE("weights too far apart to scale leave fewer than K positive: rejected for every init", "[sample_weight]") {
  // Found by the fuzzer: 3e-306 / 1.3e306 underflows to 0 once the weights are divided by the
  // largest, so only one row keeps a positive weight; RandomFromData then divided by zero.
  const Eigen::MatrixXd X = make_data().topRows(4);
  const Eigen::Vector4d w(3e-306, 1.3e306, 0, 0);
  for (const auto init : {gaussmix::InitMethod::KMeans, gaussmix::InitMethod::KMeansPlusPlus,
                          gaussmix::InitMethod::Random, gaussmix::InitMethod::RandomFromData}) {
    gaussmix::Options options;
    options.n_components = 2;
    options.init_params = init;
    GaussianMixtureXd model(options);
    CHECK_THROWS_AS(model.fit(X, w), std::invalid_argument);
    CHECK_THROWS_WITH(model.fit(X, w), Catch::Contains("sample_weight spans too wide a range"));
    CHECK_FALSE(model.is_fitted());
  }
}

TEST_CASE("bad sample weights are rejected", "[sample_weight]") {
  const Eigen::MatrixXd X = make_data().topRows(20);
  const Eigen::Index n = X.rows();
  const auto prefix = Catch::StartsWith("gaussmix: fit: ");
  for_each_covariance_type([&](CovarianceType type) {
    GaussianMixtureXd fresh(options_for(type, false));
    GaussianMixtureXd fitted(options_for(type, false));
    fitted.fit(X);
    const Eigen::MatrixXd means_before = fitted.means();
    auto rejects = [&](const Eigen::VectorXd& w) {
      CHECK_THROWS_AS(fresh.fit(X, w), std::invalid_argument);
      CHECK_THROWS_WITH(fresh.fit(X, w), prefix);
      CHECK_FALSE(fresh.is_fitted());
      CHECK_THROWS_AS(fitted.fit(X, w), std::invalid_argument);
      CHECK(fitted.means() == means_before);  // a throwing fit leaves the model as it was
    };
    Eigen::VectorXd w = Eigen::VectorXd::Ones(n);
    SECTION("negative") {
      w(3) = -0.5;
      rejects(w);
    }
    SECTION("NaN") {
      w(5) = std::numeric_limits<double>::quiet_NaN();
      rejects(w);
    }
    SECTION("infinite") {
      w(0) = std::numeric_limits<double>::infinity();
      rejects(w);
    }
    SECTION("wrong length") {
      rejects(Eigen::VectorXd::Ones(n - 1));
      rejects(Eigen::VectorXd::Ones(n + 1));
      CHECK_THROWS_AS(fresh.fit(X, Eigen::MatrixXd::Ones(n, 2)), std::invalid_argument);
    }
    SECTION("all zero") { rejects(Eigen::VectorXd::Zero(n)); }
    SECTION("fewer positive weights than components") {
      w.setZero();
      w.head(2).setOnes();  // K = 3
      rejects(w);
      w(10) = 0.5;  // now 3 samples count
      CHECK_NOTHROW(fresh.fit(X, w));
    }
    SECTION("a row vector of weights is accepted") {
      const Eigen::RowVectorXd row = Eigen::RowVectorXd::Ones(n);
      CHECK_NOTHROW(fresh.fit(X, row));
    }
  });
}

}  // namespace gaussmix_test_sample_weight
