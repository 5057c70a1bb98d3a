// SPDX-License-Identifier: MIT
// Hostile data and degenerate mixtures (issue 6): what a fit gives on data that breaks naive EM.
// Each case asserts the documented result, measured, for float and double and (SECTION each) for
// the covariance types where the answer depends on the type:
//   - degenerate data (K = 1, n = K, identical rows, K identical points, a constant column, collinear
//     columns, d > n): with the default reg_covar a finite, documented model; with reg_covar = 0 a
//     gaussmix::NumericalError naming the component (or "tied") and reg_covar;
//   - scale and offset: the same fit as on standardised data, transformed back;
//   - far outliers, a component whose weight collapses, max_iter without convergence;
//   - determinism: same seed => bit-identical, for every init and type, and for 1, 2 and 4 threads.
// The plain bad-input paths (NaN/Inf, shapes, Options, set_parameters) are in test_errors.cpp.
// This file: degenerate data; the rest is in test_hostile_numerics.cpp (split so the two compile in
// parallel), the helpers in hostile_common.hpp.

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

// A namespace of its own: the tests build as a few unity translation units (tests/CMakeLists.txt).
namespace gaussmix_test_hostile {
using namespace gaussmix_test_hostile_common;

// ----------------------------------------------------------------------------------------------
// Degenerate data
// ----------------------------------------------------------------------------------------------

TEMPLATE_TEST_CASE("K = 1: the sample mean and the sample covariance plus reg_covar, converged at iteration 2",
                   "[hostile]", float, double) {
  using S = TestType;
  const Data<S> X = blobs(300, 3, 2).cast<S>();
  const Eigen::MatrixXd Xd = X.template cast<double>();
  const Eigen::RowVectorXd mean = Xd.colwise().mean();
  const Eigen::MatrixXd centred = Xd.rowwise() - mean;
  const Eigen::MatrixXd sample_covariance = centred.transpose() * centred / static_cast<double>(X.rows());
  const double reg = Options().reg_covar;
  for_each_covariance_type([&](CovarianceType type) {
    Model<S> model(options_for(type, 1));
    const FitResult result = model.fit(X);
    require_valid(model);
    CHECK(result.converged);
    CHECK(result.n_iter == 2);  // the initial M-step already gives the maximum: iteration 2 changes nothing
    CHECK(model.weights()(0) == S(1));
    CHECK(max_abs_difference(model.means(), mean) <= Tolerance<S>::relative);
    Eigen::MatrixXd expected = Eigen::MatrixXd::Zero(3, 3);
    switch (type) {
      case CovarianceType::Full:
      case CovarianceType::Tied:
        expected = sample_covariance;
        break;
      case CovarianceType::Diagonal:
        expected.diagonal() = sample_covariance.diagonal();
        break;
      case CovarianceType::Spherical:
        expected.diagonal().setConstant(sample_covariance.diagonal().mean());
        break;
    }
    expected.diagonal().array() += reg;
    INFO("expected\n" << expected << "\ngot\n" << model.covariance(0));
    CHECK(max_abs_difference(model.covariance(0), expected) <= Tolerance<S>::relative * expected.cwiseAbs().maxCoeff());
    // The lower bound is the Gaussian log-likelihood at these parameters.
    double expected_bound = 0;
    for (Eigen::Index i = 0; i < X.rows(); ++i) expected_bound += reference_log_density(model, Xd.row(i));
    expected_bound /= static_cast<double>(X.rows());
    CHECK(std::abs(result.lower_bound - expected_bound) <= Tolerance<S>::relative * std::abs(expected_bound));
  });
}

TEMPLATE_TEST_CASE("n = K: each component sits on its own sample with covariance reg_covar * I, reg_covar = 0 "
                   "throws NumericalError",
                   "[hostile]", float, double) {
  using S = TestType;
  Data<S> X(4, 3);
  X << 0.5, -1.25, 2.0,  //
      3.0, 0.75, -0.5,   //
      -2.5, 4.0, 1.5,    //
      1.0, 1.0, 1.0;
  const double reg = Options().reg_covar;
  for_each_covariance_type([&](CovarianceType type) {
    for (InitMethod init : {InitMethod::KMeans, InitMethod::KMeansPlusPlus, InitMethod::RandomFromData}) {
      INFO("init " << gaussmix::to_string(init));
      Options options = options_for(type, 4);
      options.init_params = init;
      Model<S> model(options);
      const FitResult result = model.fit(X);
      require_valid(model);
      // Every sample is the mean of exactly one component (in some order).
      for (Eigen::Index i = 0; i < X.rows(); ++i) {
        int matches = 0;
        for (int k = 0; k < 4; ++k)
          matches += max_abs_difference(model.means().row(k), X.row(i)) <= 8 * std::numeric_limits<S>::epsilon() * 4;
        INFO("sample " << i);
        CHECK(matches == 1);
      }
      for (int k = 0; k < 4; ++k) {
        INFO("component " << k);
        CHECK(std::abs(static_cast<double>(model.weights()(k)) - 0.25) <= Tolerance<S>::unit);
        CHECK(max_abs_difference(model.covariance(k), reg * Eigen::MatrixXd::Identity(3, 3)) <=
              Tolerance<S>::relative * reg);
      }
      // Each sample: log(1/K) + log N(x | x, reg I); the other components contribute exp(-1e6).
      const double expected_bound = std::log(0.25) - 1.5 * (kLog2Pi + std::log(reg));
      CHECK(std::abs(result.lower_bound - expected_bound) <= Tolerance<S>::relative * std::abs(expected_bound));
    }
    Options options = options_for(type, 4);
    options.reg_covar = 0;
    Model<S> model(options);
    require_numerical_error([&] { model.fit(X); }, degenerate_name(type));
    CHECK(!model.is_fitted());
  });
}

TEMPLATE_TEST_CASE("all rows identical: means equal the point, covariances equal reg_covar * I exactly, "
                   "reg_covar = 0 throws NumericalError",
                   "[hostile]", float, double) {
  using S = TestType;
  Data<S> X(30, 3);
  X.rowwise() = Eigen::Matrix<S, 1, 3>(S(1.5), S(-2), S(1000));
  const double reg = Options().reg_covar;
  const Data<S> expected_covariance = Data<S>::Identity(3, 3) * static_cast<S>(reg);
  // log N(x | x, reg I) = -d/2 log(2 pi reg), whatever the weights (all components are equal).
  const double expected_bound = -1.5 * (kLog2Pi + std::log(static_cast<double>(static_cast<S>(reg))));
  for_each_covariance_type([&](CovarianceType type) {
    for (int K : {1, 3}) {
      for (InitMethod init : kInits) {
        INFO("K = " << K << ", init " << gaussmix::to_string(init));
        Options options = options_for(type, K);
        options.init_params = init;
        Model<S> model(options);
        const FitResult result = model.fit(X);
        require_valid(model);
        CHECK(result.converged);
        CHECK(model.weights().minCoeff() > 0);
        for (int k = 0; k < K; ++k) {
          INFO("component " << k);
          CHECK(model.means().row(k) == X.row(0));
          CHECK(model.covariance(k) == expected_covariance);
        }
        CHECK(std::abs(result.lower_bound - expected_bound) <= Tolerance<S>::relative * expected_bound);
        const typename Model<S>::ColumnVector log_p = model.score_samples(X);
        CHECK(log_p.allFinite());
        CHECK(std::abs(static_cast<double>(log_p(7)) - expected_bound) <= Tolerance<S>::relative * expected_bound);
        const typename Model<S>::Responsibilities resp = model.predict_proba(X);
        CHECK(resp.allFinite());
        CHECK((resp.template cast<double>().rowwise().sum().array() - 1).abs().maxCoeff() <= Tolerance<S>::unit);
      }
    }
    // reg_covar = 0 with K = 3 (K = 1 is in test_errors.cpp).
    Options options = options_for(type, 3);
    options.reg_covar = 0;
    Model<S> model(options);
    require_numerical_error([&] { model.fit(X); }, degenerate_name(type));
    CHECK(!model.is_fitted());
  });
}

TEMPLATE_TEST_CASE("K identical points for K components: weights 1/K, means the point, covariances reg_covar * I",
                   "[hostile]", float, double) {
  using S = TestType;
  Data<S> X(3, 2);
  X.rowwise() = Eigen::Matrix<S, 1, 2>(S(-0.75), S(64));
  const double reg = Options().reg_covar;
  for_each_covariance_type([&](CovarianceType type) {
    for (InitMethod init : kInits) {
      INFO("init " << gaussmix::to_string(init));
      Options options = options_for(type, 3);
      options.init_params = init;
      Model<S> model(options);
      model.fit(X);
      require_valid(model);
      for (int k = 0; k < 3; ++k) {
        INFO("component " << k);
        CHECK(model.means().row(k) == X.row(0));
        CHECK(model.covariance(k) == Data<S>::Identity(2, 2) * static_cast<S>(reg));
        // Label-based inits give every component one of the three samples; Random gives random shares.
        if (init != InitMethod::Random)
          CHECK(std::abs(static_cast<double>(model.weights()(k)) - 1.0 / 3) <= Tolerance<S>::unit);
      }
    }
    Options options = options_for(type, 3);
    options.reg_covar = 0;
    Model<S> model(options);
    require_numerical_error([&] { model.fit(X); }, degenerate_name(type));
  });
}

TEMPLATE_TEST_CASE("a constant column: its variance is exactly reg_covar and its covariances exactly 0, "
                   "reg_covar = 0 throws NumericalError except for Spherical",
                   "[hostile]", float, double) {
  using S = TestType;
  Data<S> X = blobs(200, 3, 2).cast<S>();
  X.col(1).setConstant(S(7.25));
  const S reg = static_cast<S>(Options().reg_covar);
  for_each_covariance_type([&](CovarianceType type) {
    Model<S> model(options_for(type, 2));
    model.fit(X);
    require_valid(model);
    for (int k = 0; k < 2; ++k) {
      INFO("component " << k);
      const Data<S> c = model.covariance(k);
      CHECK(model.means()(k, 1) == S(7.25));
      if (type != CovarianceType::Spherical) {
        CHECK(c(1, 1) == reg);
        CHECK(c(0, 1) == 0);
        CHECK(c(2, 1) == 0);
      } else {
        // Spherical averages the variances: the constant column only lowers sigma^2.
        CHECK(c(1, 1) > reg);
      }
    }
    CHECK(model.score_samples(X).allFinite());
    Options options = options_for(type, 2);
    options.reg_covar = 0;
    Model<S> unregularised(options);
    if (type == CovarianceType::Spherical) {
      unregularised.fit(X);
      require_valid(unregularised);
    } else {
      require_numerical_error([&] { unregularised.fit(X); }, degenerate_name(type));
    }
  });
}

TEMPLATE_TEST_CASE("two perfectly collinear columns: the null direction gets variance reg_covar, reg_covar = 0 "
                   "throws NumericalError for Full and Tied",
                   "[hostile]", float, double) {
  using S = TestType;
  Data<S> X = blobs(200, 3, 2).cast<S>();
  X.col(2) = S(-2) * X.col(0);  // exact in binary floating point: x2 + 2 x0 = 0 for every row
  const double reg = Options().reg_covar;
  const Eigen::Vector3d null_direction = Eigen::Vector3d(2, 0, 1).normalized();
  for_each_covariance_type([&](CovarianceType type) {
    Model<S> model(options_for(type, 2));
    model.fit(X);
    require_valid(model);
    CHECK(model.score_samples(X).allFinite());
    if (dense_type(type)) {
      for (int k = 0; k < 2; ++k) {
        const Eigen::Matrix3d c = model.covariance(k).template cast<double>();
        // Rounding of the stored entries: a few eps of the largest one (for float, that is larger than
        // reg_covar itself, so the check only says the direction is (numerically) null).
        const double rounding = 16 * std::numeric_limits<S>::epsilon() * c.cwiseAbs().maxCoeff();
        INFO("component " << k << ": v^T Sigma v = " << null_direction.dot(c * null_direction));
        CHECK(std::abs(null_direction.dot(c * null_direction) - reg) <= rounding);
      }
    }
    Options options = options_for(type, 2);
    options.reg_covar = 0;
    Model<S> unregularised(options);
    if (dense_type(type)) {
      require_numerical_error([&] { unregularised.fit(X); }, degenerate_name(type));
    } else {
      // Diagonal and Spherical do not see the correlation: a regular fit.
      unregularised.fit(X);
      require_valid(unregularised);
    }
  });
}

TEMPLATE_TEST_CASE("d > n: a finite model whose null directions get variance reg_covar, reg_covar = 0 throws "
                   "NumericalError for Full and Tied",
                   "[hostile]", float, double) {
  using S = TestType;
  const int n = 6, d = 10;
  const Data<S> X = blobs(n, d, 1, 0.0, 3).cast<S>();
  const double reg = Options().reg_covar;
  for_each_covariance_type([&](CovarianceType type) {
    for (int K : {1, 2}) {
      INFO("K = " << K);
      Model<S> model(options_for(type, K));
      const FitResult result = model.fit(X);
      require_valid(model);
      CHECK(std::isfinite(result.lower_bound));
      CHECK(model.score_samples(X).allFinite());
      if (dense_type(type) && K == 1) {
        // The centred data span n - 1 = 5 directions: the other d - 5 eigenvalues are reg_covar.
        const Eigen::MatrixXd c = model.covariance(0).template cast<double>();
        const Eigen::VectorXd eigenvalues = Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(c).eigenvalues();
        const double rounding = 16 * std::numeric_limits<S>::epsilon() * eigenvalues.maxCoeff();
        INFO("eigenvalues " << eigenvalues.transpose());
        for (int i = 0; i < d - (n - 1); ++i) CHECK(std::abs(eigenvalues(i) - reg) <= rounding);
        CHECK(eigenvalues(d - n + 1) > 1e3 * reg);
      }
    }
    Options options = options_for(type, 1);
    options.reg_covar = 0;
    Model<S> unregularised(options);
    if (dense_type(type)) {
      require_numerical_error([&] { unregularised.fit(X); }, degenerate_name(type));
    } else {
      unregularised.fit(X);
      require_valid(unregularised);
    }
  });
}

}  // namespace gaussmix_test_hostile
