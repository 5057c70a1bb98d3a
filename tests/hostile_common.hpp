// SPDX-License-Identifier: MIT
// Helpers of the hostile-data tests, test_hostile.cpp (degenerate data) and test_hostile_numerics.cpp
// (scale, offset, overflow, outliers, determinism), split in two so they compile in parallel.
#pragma once

#include <gaussmix/gaussmix.hpp>

#include <Eigen/Dense>
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <exception>
#include <initializer_list>
#include <string>
#include <typeinfo>
#include <vector>

namespace gaussmix_test_hostile_common {

namespace {

using gaussmix::CovarianceType;
using gaussmix::FitResult;
using gaussmix::InitMethod;
using gaussmix::Options;

template <class S> using Model = gaussmix::GaussianMixture<S>;
template <class S> using Data = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>;

// Tolerances per Scalar: `unit` for sums that must be 1 (weights, responsibility rows), `relative` for
// a quantity computed two ways by the same arithmetic (rounding only).
template <class S> struct Tolerance;
template <> struct Tolerance<double> {
  static constexpr double unit = 1e-12;
  static constexpr double relative = 1e-10;
};
template <> struct Tolerance<float> {
  static constexpr double unit = 1e-5;
  static constexpr double relative = 1e-4;
};

constexpr double kLog2Pi = 1.8378770664093454835606594728112;
constexpr std::initializer_list<CovarianceType> kTypes = {CovarianceType::Full, CovarianceType::Diagonal,
                                                          CovarianceType::Spherical, CovarianceType::Tied};
constexpr std::initializer_list<InitMethod> kInits = {InitMethod::KMeans, InitMethod::KMeansPlusPlus,
                                                      InitMethod::Random, InitMethod::RandomFromData};

// Runs body(type) once per covariance type, each in its own SECTION.
template <class Body> void for_each_covariance_type(Body&& body) {
  SECTION("Full") { body(CovarianceType::Full); }
  SECTION("Diagonal") { body(CovarianceType::Diagonal); }
  SECTION("Spherical") { body(CovarianceType::Spherical); }
  SECTION("Tied") { body(CovarianceType::Tied); }
}

inline bool dense_type(CovarianceType type) { return type == CovarianceType::Full || type == CovarianceType::Tied; }

inline Options options_for(CovarianceType type, int K, std::uint64_t seed = 5) {
  Options options;
  options.n_components = K;
  options.covariance_type = type;
  options.seed = seed;
  return options;
}

// n points in d dimensions from K unit-covariance blobs whose means are `separation` apart along a
// diagonal, equal weights, drawn with the library's own sampler (deterministic for a seed).
inline Eigen::MatrixXd blobs(Eigen::Index n, int d, int K, double separation = 4.0, std::uint64_t seed = 11) {
  Model<double> truth(options_for(CovarianceType::Full, K));
  Eigen::MatrixXd means(K, d);
  for (int k = 0; k < K; ++k)
    for (int j = 0; j < d; ++j) means(k, j) = separation * k * (j % 2 == 0 ? 1.0 : -0.5);
  Eigen::MatrixXd covariance = Eigen::MatrixXd::Identity(d, d);
  if (d > 1) covariance(0, 1) = covariance(1, 0) = 0.3;
  truth.set_parameters(Eigen::VectorXd::Constant(K, 1.0 / K), means, std::vector<Eigen::MatrixXd>(K, covariance));
  return truth.sample(n, seed);
}

// Weights finite, >= 0 and summing to 1; means finite; every covariance finite, symmetric and
// positive definite (Cholesky in double succeeds with positive pivots).
template <class S> void require_valid(const Model<S>& model) {
  REQUIRE(model.is_fitted());
  const Eigen::VectorXd weights = model.weights().template cast<double>();
  INFO("weights " << weights.transpose());
  REQUIRE(weights.allFinite());
  CHECK(weights.minCoeff() >= 0);
  CHECK(std::abs(weights.sum() - 1) <= Tolerance<S>::unit);
  INFO("means\n" << model.means());
  REQUIRE(model.means().allFinite());
  for (int k = 0; k < model.n_components(); ++k) {
    const Eigen::MatrixXd c = model.covariance(k).template cast<double>();
    INFO("covariance " << k << "\n" << c);
    REQUIRE(c.allFinite());
    CHECK(c == c.transpose());
    const Eigen::LLT<Eigen::MatrixXd> llt(c);
    REQUIRE(llt.info() == Eigen::Success);
    CHECK(llt.matrixLLT().diagonal().minCoeff() > 0);
  }
}

// `call` must throw exactly gaussmix::NumericalError with a "gaussmix:" message that names `who`
// (a component or "tied") and mentions reg_covar.
template <class Call> void require_numerical_error(Call&& call, const std::string& who) {
  try {
    call();
  } catch (const std::exception& e) {
    const std::string what = e.what();
    INFO("what(): " << what);
    CHECK(typeid(e) == typeid(gaussmix::NumericalError));
    CHECK(what.rfind("gaussmix:", 0) == 0);
    CHECK(what.find(who) != std::string::npos);
    CHECK(what.find("reg_covar") != std::string::npos);
    return;
  }
  FAIL("did not throw; expected gaussmix::NumericalError naming " << who);
}

// The name a NumericalError must contain for a degenerate fit of this type: Tied has one shared
// covariance ("tied"), the others name a component.
inline std::string degenerate_name(CovarianceType type) { return type == CovarianceType::Tied ? "tied" : "component"; }

// log p(x) of a model computed independently of the library: dense covariances, Eigen's LLT in
// double, log-sum-exp over components.
template <class S> double reference_log_density(const Model<S>& model, const Eigen::RowVectorXd& x) {
  const int K = model.n_components();
  Eigen::VectorXd terms(K);
  for (int k = 0; k < K; ++k) {
    const Eigen::MatrixXd c = model.covariance(k).template cast<double>();
    const Eigen::LLT<Eigen::MatrixXd> llt(c);
    const Eigen::VectorXd diff = (x - model.means().row(k).template cast<double>()).transpose();
    const Eigen::VectorXd z = llt.matrixL().solve(diff);
    const double log_det = 2 * llt.matrixLLT().diagonal().array().log().sum();
    terms(k) = std::log(static_cast<double>(model.weights()(k))) -
               0.5 * (static_cast<double>(x.size()) * kLog2Pi + log_det + z.squaredNorm());
  }
  const double top = terms.maxCoeff();
  return top + std::log((terms.array() - top).exp().sum());
}

template <class S> void require_same_parameters(const Model<S>& a, const Model<S>& b) {
  REQUIRE(a.weights() == b.weights());
  REQUIRE(a.means() == b.means());
  for (int k = 0; k < a.n_components(); ++k) {
    INFO("component " << k);
    REQUIRE(a.covariance(k) == b.covariance(k));
  }
}

// Largest |a - b| over all entries of two equally shaped matrices.
template <class A, class B> double max_abs_difference(const A& a, const B& b) {
  return (a.template cast<double>() - b.template cast<double>()).cwiseAbs().maxCoeff();
}

}  // namespace

}  // namespace gaussmix_test_hostile_common
