// SPDX-License-Identifier: MIT
// Hostile data (issue 6), continued from test_hostile.cpp (degenerate data; its header says what each
// case asserts): scale and offset, values beyond float's range and overflow (fuzzer regressions), far
// outliers, a collapsing component, max_iter without convergence, and determinism for every init and
// type and for 1, 2 and 4 OpenMP threads. Helpers: hostile_common.hpp.

#include <gaussmix/gaussmix.hpp>

#include <Eigen/Dense>
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <stdexcept>
#include <string>
#include <typeinfo>
#include <vector>

#include "hostile_common.hpp"

#ifdef _OPENMP
#include <omp.h>

// A namespace of its own: the tests build as a few unity translation units (tests/CMakeLists.txt).
namespace gaussmix_test_hostile_numerics {
using namespace gaussmix_test_hostile_common;
#endif

// ----------------------------------------------------------------------------------------------
// Scale and offset
// ----------------------------------------------------------------------------------------------
//
// X = a + s Z is fitted against Z with reg_covar scaled by s^2, tol = 0 and a fixed number of
// iterations, so both fits take the same path. EM is equivariant under this map: means a + s mu,
// covariances s^2 Sigma, the same weights, and a lower bound shifted by the log-Jacobian, -d log s.
// The remaining differences are rounding: scaling by s (not a power of 2) perturbs each datum by
// 1 ulp, and EM, a contraction near its fixed point, keeps that at a few hundred ulps after 40
// iterations (measured: ~1e-14 relative for double). Tolerances: double 1e-10 relative.
// With an offset a, the data carry only the digits below ulp(a): the comparison is against the
// exactly representable Z' = X - a, and the means can be no closer than ulp(a) (1.5e-8 at 1e8).

namespace {

template <class S> struct Equivariance {
  double means, covariances, weights, bound;
};

template <class S>
void require_equivariant_fit(CovarianceType type, const Data<S>& Z, double s, double a, const Equivariance<S>& tol) {
  const int d = static_cast<int>(Z.cols());
  Options options = options_for(type, 2);
  options.tol = 0;
  options.max_iter = 40;
  Model<S> standard(options);
  const FitResult standard_result = standard.fit(Z);
  options.reg_covar = Options().reg_covar * s * s;
  Model<S> scaled(options);
  const Data<S> X = ((Z.template cast<double>() * s).array() + a).matrix().template cast<S>();
  const FitResult scaled_result = scaled.fit(X);
  require_valid(scaled);
  REQUIRE(scaled_result.n_iter == standard_result.n_iter);
  const Eigen::MatrixXd back = ((scaled.means().template cast<double>().array() - a) / s).matrix();
  INFO("means (scaled back)\n" << back << "\nstandardised\n" << standard.means());
  CHECK(max_abs_difference(back, standard.means()) <= tol.means);
  CHECK(max_abs_difference(scaled.weights(), standard.weights()) <= tol.weights);
  for (int k = 0; k < 2; ++k) {
    const Eigen::MatrixXd c = scaled.covariance(k).template cast<double>() / (s * s);
    INFO("component " << k << " covariance (scaled back)\n" << c << "\nstandardised\n" << standard.covariance(k));
    CHECK(max_abs_difference(c, standard.covariance(k)) <= tol.covariances);
  }
  const double shifted = scaled_result.lower_bound + d * std::log(s);
  INFO("lower bound " << scaled_result.lower_bound << ", shifted by d log s: " << shifted << ", standardised "
                      << standard_result.lower_bound);
  CHECK(std::abs(shifted - standard_result.lower_bound) <= tol.bound);
}

}  // namespace

TEST_CASE("scale: data times 1e-150 and 1e150 (double) fit like standardised data, transformed back", "[hostile]") {
  const Data<double> Z = blobs(400, 2, 2, 3.0);
  const Equivariance<double> tol{1e-10, 1e-10, 1e-10, 1e-10};
  for_each_covariance_type([&](CovarianceType type) {
    for (double s : {1e-150, 1e150}) {
      INFO("scale " << s);
      require_equivariant_fit<double>(type, Z, s, 0.0, tol);
    }
  });
}

TEST_CASE("scale: data times 1e-15 and 1e15 (float's analogue of 1e+-150) fit like standardised data", "[hostile]") {
  // float holds 1e+-38: 1e+-15 puts variances at 1e+-30, as 1e+-150 does for double at 1e+-300.
  // float rounding (6e-8) grows to ~1e-6 over 40 iterations (measured); tolerance 1e-4.
  const Data<float> Z = blobs(400, 2, 2, 3.0).cast<float>();
  const Equivariance<float> tol{1e-4, 1e-4, 1e-4, 1e-4};
  for_each_covariance_type([&](CovarianceType type) {
    for (double s : {1e-15, 1e15}) {
      INFO("scale " << s);
      require_equivariant_fit<float>(type, Z, s, 0.0, tol);
    }
  });
}

TEST_CASE("scale: with the default reg_covar, data times 1e-150 get covariances reg_covar * I (reg_covar is "
          "absolute)",
          "[hostile]") {
  // Documented behaviour, as scikit-learn's: reg_covar = 1e-6 swamps variances of 1e-300. The model
  // is finite and valid, every covariance is reg_covar * I up to 1e-290, and every point has the
  // density of N(0, reg_covar I) at its centre; scale reg_covar with the data or standardise.
  const Data<double> X = blobs(400, 2, 2, 3.0) * 1e-150;
  for_each_covariance_type([&](CovarianceType type) {
    Model<double> model(options_for(type, 2));
    const FitResult result = model.fit(X);
    require_valid(model);
    for (int k = 0; k < 2; ++k)
      CHECK(max_abs_difference(model.covariance(k), 1e-6 * Eigen::Matrix2d::Identity()) <= 1e-290);
    CHECK(result.lower_bound == Approx(-(kLog2Pi + std::log(1e-6))).epsilon(1e-12));
  });
}

TEST_CASE("offset: data + 1e8 (double) fit like centred data, to ulp(1e8)", "[hostile]") {
  // X = 1e8 + Z is compared with Z' = X - 1e8 (exact), which is what X holds. The fitted means are
  // stored at 1e8, where one ulp is 1.5e-8: tolerance 1e-7 absolute on means; covariances, weights
  // and the bound inherit errors of that order relative to a unit spread (measured: ~5e-9).
  const Data<double> Z = blobs(400, 2, 2, 3.0);
  const Data<double> representable = ((Z.array() + 1e8) - 1e8).matrix();
  const Equivariance<double> tol{1e-7, 1e-7, 1e-7, 1e-7};
  for_each_covariance_type([&](CovarianceType type) { require_equivariant_fit<double>(type, representable, 1.0, 1e8, tol); });
}

TEST_CASE("offset: data + 1e4 (float) fit like centred data, to ulp(1e4), at 1e8 float holds multiples of 8",
          "[hostile]") {
  // float's ulp at 1e4 is 2^-10 ~ 1e-3: the means can be no closer than that (tolerance 4 ulp);
  // covariances and weights inherit errors of that order (measured: 3e-4).
  const Data<float> Z = blobs(400, 2, 2, 3.0).cast<float>();
  const Data<float> representable = ((Z.array() + 1e4f) - 1e4f).matrix();
  const Equivariance<float> tol{4e-3, 4e-3, 4e-3, 4e-3};
  for_each_covariance_type([&](CovarianceType type) {
    require_equivariant_fit<float>(type, representable, 1.0, 1e4, tol);
    // Unit-spread data at 1e8 is quantised to multiples of 8 by float itself (not by the library):
    // the fit is of those few distinct values, a valid, finite model.
    Model<float> model(options_for(type, 2));
    const Data<float> far = (Z.array() + 1e8f).matrix();
    model.fit(far);
    require_valid(model);
    CHECK(model.score_samples(far).allFinite());
  });
}

TEST_CASE("double data or means beyond float's range given to a float model are rejected as bad input",
          "[hostile]") {
  // A float model reads double data by casting it; 1e39 and 1e150 become inf. Today fit throws a
  // NumericalError that blames a collapsed component, and score_samples returns NaN (Full) or -inf,
  // predict_proba uniform rows. Expected: std::invalid_argument naming the entry, as for inf.
  const Eigen::MatrixXd Z = blobs(100, 2, 2);
  Model<float> fitted(options_for(CovarianceType::Full, 2));
  fitted.fit(Z.cast<float>());
  for (double s : {1e39, 1e150}) {
    INFO("scale " << s);
    const Eigen::MatrixXd X = Z * s;
    Model<float> model(options_for(CovarianceType::Full, 2));
    CHECK_THROWS_AS(model.fit(X), std::invalid_argument);
    CHECK_THROWS_AS(fitted.score_samples(X), std::invalid_argument);
    CHECK_THROWS_AS(fitted.predict_proba(X), std::invalid_argument);
    CHECK_THROWS_AS(fitted.predict(X), std::invalid_argument);
    CHECK_THROWS_AS(fitted.score(X), std::invalid_argument);
  }
  // The same for means given to set_parameters (found by the fuzzer): -7e305 is stored as -inf.
  Model<float> set(options_for(CovarianceType::Spherical, 2));
  Eigen::Matrix2d means;
  means << -7e305, 0.5, 1, 2;
  CHECK_THROWS_AS(set.set_parameters(Eigen::Vector2d(0.5, 0.5), means,
                                     std::vector<Eigen::MatrixXf>(2, Eigen::MatrixXf::Identity(2, 2))),
                  std::invalid_argument);
  CHECK(!set.is_fitted());
}

TEST_CASE("regression (fuzzer): data whose squared distances overflow do not crash the k-means++ seeding",
          "[hostile]") {
  // Found by fuzz/fit_fuzzer.cpp. With |x| ~ 1e200, every squared distance was inf, no k-means++
  // candidate beat best_potential = inf, and the seeding returned index -1: X.row(-1) was read and
  // labels[-1] written (heap corruption in a release build). Now: a documented exception (the
  // seeding reports the overflow as NumericalError), never a crash.
  Eigen::MatrixXd X(4, 1);
  X << 0, 1, 1e200, -1e200;
  for (InitMethod init : {InitMethod::KMeans, InitMethod::KMeansPlusPlus}) {
    INFO("init " << gaussmix::to_string(init));
    Options options = options_for(CovarianceType::Full, 2);
    options.init_params = init;
    Model<double> model(options);
    try {
      model.fit(X);
      require_valid(model);
    } catch (const gaussmix::NumericalError&) {
      CHECK(!model.is_fitted());
    } catch (const std::invalid_argument&) {
      CHECK(!model.is_fitted());
    }
  }
}

TEST_CASE("regression (fuzzer): a Spherical variance whose inverse overflows never gives NaN scores",
          "[hostile]") {
  // Found by fuzz/fit_fuzzer.cpp. set_parameters accepted variance 1e-320 (1/sqrt(v) = 1e160 is
  // finite), but the Spherical density multiplies by (1/sqrt(v))^2 = inf, and inf * 0 = NaN for a
  // point at the mean. Now set_parameters rejects such a variance (std::invalid_argument); either
  // that or NaN-free scores (-inf is a valid log density) passes.
  for (CovarianceType type : {CovarianceType::Spherical, CovarianceType::Diagonal}) {
    INFO("covariance type " << gaussmix::to_string(type));
    Model<double> model(options_for(type, 2));
    Eigen::Matrix2d means;
    means << 0, 0, 5, 5;
    const std::vector<Eigen::MatrixXd> covariances{Eigen::Matrix2d::Identity(), 1e-320 * Eigen::Matrix2d::Identity()};
    try {
      model.set_parameters(Eigen::Vector2d(0.5, 0.5), means, covariances);
    } catch (const std::invalid_argument&) {
      CHECK(!model.is_fitted());
      continue;
    }
    Eigen::Matrix2d X;
    X << 5, 5, 1, 1;
    CHECK(!model.score_samples(X).array().isNaN().any());
    CHECK(!model.predict_proba(X).array().isNaN().any());
  }
}

TEST_CASE("regression (fuzzer): a float model's covariances are positive definite as stored, and reload",
          "[hostile]") {
  // Found by fuzz/fit_fuzzer.cpp. K = 1 on two points: the sample covariance has rank 1, plus
  // reg_covar = 1e-6. The check passes in double, but the matrix is stored rounded to float, where
  // 2500 + 1e-6 == 2500: covariance(0) is singular, and set_parameters rejects the model's own
  // parameters (a saved float model cannot be loaded). Expected: a NumericalError from fit (reg_covar
  // too small for float at this scale), or a stored covariance that is SPD and reloads.
  Data<float> X(2, 2);
  X << 0, 0, 100, 30;
  Model<float> model;
  try {
    model.fit(X);
  } catch (const gaussmix::NumericalError& e) {
    CHECK(std::string(e.what()).find("reg_covar") != std::string::npos);
    return;
  }
  const Eigen::Matrix2f c = model.covariance(0);
  INFO("covariance(0) =\n" << c);
  CHECK(Eigen::LLT<Eigen::Matrix2f>(c).info() == Eigen::Success);
  Model<float> reloaded;
  CHECK_NOTHROW(reloaded.set_parameters(model.weights(), model.means(), model.covariances()));

  // reg_covar = 1e300 is a valid option, but beyond float: today covariance(0) is inf after a fit
  // that "succeeds". Expected: NumericalError (or std::invalid_argument for the option).
  Options huge;
  huge.reg_covar = 1e300;
  Model<float> overflowing(huge);
  try {
    overflowing.fit(Data<float>(X));
    CHECK(overflowing.covariance(0).allFinite());
  } catch (const gaussmix::NumericalError&) {
  } catch (const std::invalid_argument&) {
  }
}

TEST_CASE("a covariance that overflows is reported as overflow, not as a collapsed component",
          "[hostile]") {
  // One point 1e155 standard deviations out: its squared deviation (1e310) overflows double. Today
  // the NumericalError says the component "may have collapsed onto too few distinct points", which
  // sends the user the wrong way; expected: a NumericalError that says the covariance is not finite.
  Eigen::MatrixXd X = blobs(50, 2, 1);
  X(49, 0) = 1e155;
  for_each_covariance_type([&](CovarianceType type) {
    Model<double> model(options_for(type, 1));
    try {
      model.fit(X);
      FAIL("fit did not throw");
    } catch (const gaussmix::NumericalError& e) {
      const std::string what = e.what();
      INFO("what(): " << what);
      CHECK(what.find("not finite") != std::string::npos);
      CHECK(what.find("collapsed") == std::string::npos);
    }
  });
}

TEST_CASE("regression (fuzzer): sample weights whose sum overflows give an error or a valid fit, never NaN",
          "[hostile]") {
  // Found by fuzz/fit_fuzzer.cpp. Each weight (3e307) is finite and >= 0, so check_sample_weight
  // accepts them, but N = sum w overflows: the M-step's weights become N_k / inf = 0, fit "succeeds"
  // after max_iter with weights (0, 0) and a NaN lower bound. EM is invariant to scaling all weights,
  // so dividing w by its largest entry (or rejecting a non-finite sum with std::invalid_argument)
  // fixes it.
  // Second case: one weight of DBL_MAX; with Random init the responsibilities of that row sum to
  // 1 + rounding, and DBL_MAX (1 + rounding) overflows.
  const Eigen::MatrixXd X = Eigen::MatrixXd::Constant(6, 1, 2.5);
  Eigen::VectorXd huge_last = Eigen::VectorXd::Constant(6, 1.0);
  huge_last(5) = std::numeric_limits<double>::max();
  Eigen::MatrixXd Y = blobs(6, 1, 2);
  for_each_covariance_type([&](CovarianceType type) {
    for (int c = 0; c < 2; ++c) {
      INFO((c == 0 ? "six weights of 3e307, identical rows, k-means" : "one weight of DBL_MAX, Random init"));
      Options options = options_for(type, 2, 10820);
      if (c == 1) options.init_params = InitMethod::Random;
      Model<double> model(options);
      FitResult result;
      try {
        result = c == 0 ? model.fit(X, Eigen::VectorXd::Constant(6, 3e307)) : model.fit(Y, huge_last);
      } catch (const std::invalid_argument&) {
        CHECK(!model.is_fitted());
        continue;
      } catch (const gaussmix::NumericalError&) {
        CHECK(!model.is_fitted());
        continue;
      }
      CHECK(std::isfinite(result.lower_bound));
      require_valid(model);
    }
  });
}

TEST_CASE("a sample with zero density under every component: -inf from score_samples in any block, "
          "NumericalError from e_step",
          "[hostile]") {
  // A point 1e155 out: its squared distance (1e310) overflows, log N = -inf under both components.
  // Since the vectorised log-sum-exp (estep.hpp normalise), Eigen's packet exp clamps exp(-inf) to
  // ~2e-308 instead of 0, so such a row gets log p = -708.4 (log(K * 2.2e-308)) when it sits in a
  // block of several rows, but -inf alone; e_step and fit no longer see the zero density
  // (documented: NumericalError) and the log-likelihood is finite and wrong.
  Model<double> model(options_for(CovarianceType::Full, 2));
  Eigen::Matrix2d means;
  means << 0, 0, 5, 5;
  model.set_parameters(Eigen::Vector2d(0.5, 0.5), means, std::vector<Eigen::MatrixXd>(2, Eigen::MatrixXd::Identity(2, 2)));
  Eigen::MatrixXd X = Eigen::MatrixXd::Zero(8, 2);
  X(3, 0) = 1e155;
  const double alone = model.score_samples(X.row(3))(0);
  const double in_block = model.score_samples(X)(3);
  INFO("score_samples alone " << alone << ", in a block " << in_block);
  CHECK(alone == -std::numeric_limits<double>::infinity());
  CHECK(in_block == alone);
  CHECK(model.log_likelihood(X) == -std::numeric_limits<double>::infinity());
  Model<double>::Responsibilities resp;
  CHECK_THROWS_AS(model.e_step(X, resp), gaussmix::NumericalError);
  const Model<double>::Responsibilities proba = model.predict_proba(X);
  CHECK(proba.allFinite());
}

// ----------------------------------------------------------------------------------------------
// Outliers, collapsing components, iteration limits
// ----------------------------------------------------------------------------------------------

TEMPLATE_TEST_CASE("a far outlier (1e6 standard deviations): finite log-likelihood and score_samples, no log(0)",
                   "[hostile]", float, double) {
  using S = TestType;
  Data<S> X = blobs(201, 2, 2).cast<S>();
  X.row(200) << S(1e6), S(-3);  // 1e6 unit standard deviations from both blobs
  const Data<S> clean = X.topRows(200);
  const Data<S> outlier = X.bottomRows(1);
  for_each_covariance_type([&](CovarianceType type) {
    for (int K : {1, 2, 3}) {
      INFO("K = " << K);
      // Fitted with the outlier in the data: K = 1 stretches to cover it, K >= 2 gives it its own
      // component (weight 1/201, covariance reg_covar I; Tied shares one covariance instead).
      Model<S> with(options_for(type, K));
      const FitResult result = with.fit(X);
      require_valid(with);
      CHECK(std::isfinite(result.lower_bound));
      CHECK(std::isfinite(static_cast<double>(with.log_likelihood(X))));
      CHECK(with.score_samples(X).allFinite());
      // Fitted without it, then scored on it: log p ~ -5e11, not log(0) = -inf.
      Model<S> without(options_for(type, K));
      without.fit(clean);
      const double log_p = static_cast<double>(without.score_samples(outlier)(0));
      const double expected = reference_log_density(without, outlier.row(0).template cast<double>());
      INFO("score_samples " << log_p << ", reference " << expected);
      REQUIRE(std::isfinite(log_p));
      CHECK(log_p < -1e10);
      CHECK(std::abs(log_p - expected) <= Tolerance<S>::relative * std::abs(expected));
      CHECK(std::isfinite(static_cast<double>(without.log_likelihood(X))));
      CHECK(std::isfinite(static_cast<double>(without.bic(X))));
      const typename Model<S>::Responsibilities resp = without.predict_proba(outlier);
      REQUIRE(resp.allFinite());
      CHECK(std::abs(static_cast<double>(resp.sum()) - 1) <= Tolerance<S>::unit);
      typename Model<S>::Responsibilities e_resp;
      CHECK(std::isfinite(static_cast<double>(without.e_step(X, e_resp))));
    }
  });
}

TEMPLATE_TEST_CASE("a component whose weight collapses to 0 keeps its previous mean and covariance", "[hostile]",
                   float, double) {
  using S = TestType;
  // Two tight clusters at (0, 0) and (10, 0); component 2 starts at (1000, 1000), where every
  // responsibility is exp(-1e6) = 0: its N_k is below 10 eps from the first E-step on.
  Data<S> X = (blobs(200, 2, 1, 0.0, 9) * 0.1).cast<S>();
  X.bottomRows(100).col(0).array() += S(10);
  Eigen::Matrix<S, 3, 2> means;
  means << 0, 0, 10, 0, 1000, 1000;
  const Eigen::Matrix<S, 3, 1> weights(S(0.4), S(0.4), S(0.2));
  for_each_covariance_type([&](CovarianceType type) {
    std::vector<typename Model<S>::Matrix> covariances(3, Data<S>::Identity(2, 2));
    if (type != CovarianceType::Tied) covariances[2] *= S(2);
    Options options = options_for(type, 3);
    options.warm_start = true;
    Model<S> model(options);
    model.set_parameters(weights, means, covariances);
    const FitResult result = model.fit(X);
    require_valid(model);
    CHECK(std::isfinite(result.lower_bound));
    CHECK(model.score_samples(X).allFinite());
    INFO("weights " << model.weights().transpose());
    CHECK(model.weights()(2) > 0);  // the 10 eps every N_k gets, as scikit-learn
    CHECK(static_cast<double>(model.weights()(2)) <= 20 * std::numeric_limits<S>::epsilon() / 200);
    CHECK(model.means().row(2) == means.row(2));
    if (type == CovarianceType::Tied)
      CHECK(model.covariance(2) == model.covariance(0));  // one shared matrix, re-estimated
    else
      CHECK(model.covariance(2) == covariances[2]);
    // The live components found the clusters.
    CHECK(std::abs(static_cast<double>(model.means()(0, 0))) < 0.1);
    CHECK(std::abs(static_cast<double>(model.means()(1, 0)) - 10) < 0.1);
    const typename Model<S>::Responsibilities resp = model.predict_proba(X);
    REQUIRE(resp.allFinite());
    // exp(-1e6) is 0; Eigen's vectorised exp clamps its argument near the underflow limit and
    // returns ~1e-308 instead, which is as good as 0 here.
    CHECK(resp.col(2).template cast<double>().maxCoeff() < 1e-30);

    // The same rule in the textbook m_step: a responsibility column of zeros keeps the previous
    // parameters of that component.
    Model<S> stepped(options);
    stepped.set_parameters(weights, means, covariances);
    typename Model<S>::Responsibilities manual = Model<S>::Responsibilities::Zero(X.rows(), 3);
    manual.col(0).head(100).setOnes();
    manual.col(1).tail(100).setOnes();
    stepped.m_step(X, manual);
    require_valid(stepped);
    CHECK(stepped.means().row(2) == means.row(2));
    if (type != CovarianceType::Tied) CHECK(stepped.covariance(2) == covariances[2]);
  });
}

TEMPLATE_TEST_CASE("max_iter reached without convergence is reported in FitResult, not thrown, tol = 0 runs "
                   "exactly max_iter iterations",
                   "[hostile]", float, double) {
  using S = TestType;
  // Heavily overlapping blobs: EM needs many iterations.
  const Data<S> X = blobs(500, 2, 3, 0.8).cast<S>();
  for_each_covariance_type([&](CovarianceType type) {
    Options options = options_for(type, 3);
    options.max_iter = 3;
    options.tol = 1e-12;
    Model<S> model(options);
    FitResult result;
    REQUIRE_NOTHROW(result = model.fit(X));
    CHECK(!result.converged);
    CHECK(result.n_iter == 3);
    CHECK(result.history.size() == 3);
    CHECK(result.lower_bound == result.history.back());
    require_valid(model);

    for (int n_init : {1, 2}) {
      INFO("n_init = " << n_init);
      options.tol = 0;
      options.max_iter = 25;
      options.n_init = n_init;
      Model<S> exact(options);
      result = exact.fit(X);
      CHECK(!result.converged);
      CHECK(result.n_iter == 25);
      CHECK(result.history.size() == 25);
      require_valid(exact);
    }
    // tol = 0 even when the bound stops changing at once (all rows identical: change exactly 0).
    Data<S> same(10, 2);
    same.setConstant(S(2));
    options.n_init = 1;
    Model<S> flat(options);
    result = flat.fit(same);
    CHECK(!result.converged);
    CHECK(result.n_iter == 25);
  });
}

// ----------------------------------------------------------------------------------------------
// Determinism
// ----------------------------------------------------------------------------------------------

TEMPLATE_TEST_CASE("same seed and data give bit-identical parameters for every init method and covariance type",
                   "[hostile]", float, double) {
  using S = TestType;
  // Hostile enough to exercise the init's corner cases: duplicated rows and a near-constant column.
  Data<S> X = blobs(300, 3, 3, 2.5).cast<S>();
  X.middleRows(100, 20).rowwise() = X.row(0);
  X.col(2) *= S(1e-3);
  for_each_covariance_type([&](CovarianceType type) {
    for (InitMethod init : kInits) {
      INFO("init " << gaussmix::to_string(init));
      Options options = options_for(type, 3, 987654321);
      options.init_params = init;
      options.n_init = 2;
      Model<S> first(options), second(options);
      const FitResult a = first.fit(X);
      const FitResult b = second.fit(X);
      CHECK(a.history == b.history);
      require_same_parameters(first, second);
      CHECK(first.predict(X) == second.predict(X));
    }
  });
}

TEST_CASE("bit-identical parameters for 1, 2 and 4 OpenMP threads", "[hostile][openmp]") {
#ifdef _OPENMP
  // 50000 x 4: 13 blocks of 4096 rows, so several chunks run on different threads.
  const Eigen::MatrixXd X = blobs(50000, 4, 3, 2.0);
  const int saved = omp_get_max_threads();
  for (CovarianceType type : kTypes) {
    INFO("covariance type " << gaussmix::to_string(type));
    Options options = options_for(type, 3);
    options.max_iter = 20;
    std::vector<Model<double>> models;
    std::vector<FitResult> results;
    for (int threads : {1, 2, 4}) {
      omp_set_num_threads(threads);
      models.emplace_back(options);
      results.push_back(models.back().fit(X));
    }
    omp_set_num_threads(saved);
    for (std::size_t i = 1; i < models.size(); ++i) {
      INFO("threads run " << i << " vs 1 thread");
      CHECK(results[i].history == results[0].history);
      require_same_parameters(models[i], models[0]);
    }
    // The scoring paths too.
    omp_set_num_threads(4);
    const Eigen::VectorXd four = models[0].score_samples(X);
    omp_set_num_threads(1);
    CHECK(models[0].score_samples(X) == four);
    omp_set_num_threads(saved);
  }
  // A float model as well (its per-block moments are summed in float before double).
  Options options = options_for(CovarianceType::Full, 3);
  options.max_iter = 20;
  const Eigen::MatrixXf Xf = X.cast<float>();
  omp_set_num_threads(1);
  Model<float> one(options);
  one.fit(Xf);
  omp_set_num_threads(4);
  Model<float> four(options);
  four.fit(Xf);
  omp_set_num_threads(saved);
  require_same_parameters(one, four);
#else
  WARN("built without OpenMP: the thread-count determinism test is skipped (configure with GAUSSMIX_OPENMP=ON)");
  SUCCEED("skipped: no OpenMP");
#endif
}

}  // namespace gaussmix_test_hostile_numerics
