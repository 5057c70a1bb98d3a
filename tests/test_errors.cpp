// SPDX-License-Identifier: MIT
// Every bad-input path of the public API: the exact exception type, a message that starts with
// "gaussmix:" and names the problem, and (strong guarantee) a model whose parameters are
// bit-identical after the throwing call.

#include <gaussmix/gaussmix.hpp>

#include <Eigen/Dense>
#include <catch2/catch.hpp>

#include <cmath>
#include <initializer_list>
#include <limits>
#include <stdexcept>
#include <string>
#include <typeinfo>
#include <vector>

// A namespace of its own: the tests build as a few unity translation units (tests/CMakeLists.txt).
namespace gaussmix_test_errors {

namespace {

using gaussmix::CovarianceType;
using gaussmix::Options;
using Model = gaussmix::GaussianMixtureXd;
using Model2 = gaussmix::GaussianMixture2d;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// Calls `call` and requires it to throw exactly `Exception` (not a subclass) whose what() starts
// with "gaussmix:" and contains every string in `parts`.
template <class Exception, class Call>
void require_throws(Call&& call, std::initializer_list<const char*> parts) {
  try {
    call();
  } catch (const std::exception& e) {
    const std::string what = e.what();
    INFO("what(): " << what);
    CHECK(typeid(e) == typeid(Exception));
    CHECK(what.rfind("gaussmix:", 0) == 0);
    for (const char* part : parts) {
      INFO("expected the message to contain \"" << part << "\"");
      CHECK(what.find(part) != std::string::npos);
    }
    return;
  } catch (...) {
    FAIL("threw something that is not a std::exception");
  }
  FAIL("did not throw");
}

#define REQUIRE_GAUSSMIX_THROWS(Exception, expression, ...)                    \
  do {                                                                         \
    INFO("line " << __LINE__ << ": " #expression);                            \
    require_throws<Exception>([&] { (void)(expression); }, {__VA_ARGS__});     \
  } while (0)

// The parameters of a model, to check that a throwing call changed nothing.
template <class M> struct Snapshot {
  typename M::Weights weights;
  typename M::Means means;
  std::vector<typename M::Matrix> covariances;
  explicit Snapshot(const M& model)
      : weights(model.weights()), means(model.means()), covariances(model.covariances()) {}
  bool operator==(const Snapshot& other) const {
    if (!(weights == other.weights) || !(means == other.means)) return false;
    if (covariances.size() != other.covariances.size()) return false;
    for (std::size_t k = 0; k < covariances.size(); ++k)
      if (!(covariances[k] == other.covariances[k])) return false;
    return true;
  }
};

// 200 points in 2-D from two blobs, deterministic (library's sampler, fixed seed).
Eigen::MatrixXd good_data(int d = 2) {
  Options options;
  options.n_components = 2;
  Model truth(options);
  Eigen::MatrixXd means(2, d);
  means.setZero();
  means.row(1).setConstant(4.0);
  truth.set_parameters(Eigen::Vector2d(0.4, 0.6), means,
                       std::vector<Eigen::MatrixXd>(2, Eigen::MatrixXd::Identity(d, d)));
  return truth.sample(200, 17);
}

Options two_components(CovarianceType type = CovarianceType::Full) {
  Options options;
  options.n_components = 2;
  options.covariance_type = type;
  options.seed = 3;
  return options;
}

}  // namespace

TEST_CASE("Options out of range: std::invalid_argument naming the field", "[errors]") {
  struct Case {
    const char* field;
    Options options;
  };
  std::vector<Case> cases;
  auto add = [&](const char* field, auto&& change) {
    Options o;
    change(o);
    cases.push_back({field, o});
  };
  add("n_components", [](Options& o) { o.n_components = 0; });
  add("n_components", [](Options& o) { o.n_components = -2; });
  add("tol", [](Options& o) { o.tol = -1e-3; });
  add("tol", [](Options& o) { o.tol = kNaN; });
  add("tol", [](Options& o) { o.tol = kInf; });
  add("reg_covar", [](Options& o) { o.reg_covar = -1e-6; });
  add("reg_covar", [](Options& o) { o.reg_covar = kNaN; });
  add("max_iter", [](Options& o) { o.max_iter = 0; });
  add("n_init", [](Options& o) { o.n_init = 0; });
  add("covariance_type", [](Options& o) { o.covariance_type = static_cast<CovarianceType>(17); });
  add("init_params", [](Options& o) { o.init_params = static_cast<gaussmix::InitMethod>(9); });
  for (const Case& c : cases) {
    INFO("field " << c.field);
    const std::string field = std::string("Options::") + c.field;
    REQUIRE_GAUSSMIX_THROWS(std::invalid_argument, gaussmix::validate(c.options), field.c_str());
    REQUIRE_GAUSSMIX_THROWS(std::invalid_argument, Model(c.options), field.c_str());
    REQUIRE_GAUSSMIX_THROWS(std::invalid_argument, gaussmix::GaussianMixture2f(c.options), field.c_str());
  }
  // The boundary values themselves are valid.
  Options edge;
  edge.tol = 0;
  edge.reg_covar = 0;
  edge.max_iter = 1;
  CHECK_NOTHROW(gaussmix::validate(edge));
  CHECK_NOTHROW(Model(edge));
}

TEST_CASE("calls before any parameters exist: std::logic_error", "[errors]") {
  const Eigen::MatrixXd X = good_data();
  Model model(two_components());
  REQUIRE(!model.is_fitted());
  Model::Responsibilities resp;
  REQUIRE_GAUSSMIX_THROWS(std::logic_error, model.predict(X), "predict");
  REQUIRE_GAUSSMIX_THROWS(std::logic_error, model.predict_proba(X), "predict_proba");
  REQUIRE_GAUSSMIX_THROWS(std::logic_error, model.score(X), "score");
  REQUIRE_GAUSSMIX_THROWS(std::logic_error, model.score_samples(X), "score_samples");
  REQUIRE_GAUSSMIX_THROWS(std::logic_error, model.log_likelihood(X), "log_likelihood");
  REQUIRE_GAUSSMIX_THROWS(std::logic_error, model.e_step(X, resp), "e_step");
  REQUIRE_GAUSSMIX_THROWS(std::logic_error, model.sample(10, 1), "sample");
  Model::Labels labels;
  REQUIRE_GAUSSMIX_THROWS(std::logic_error, model.sample(10, 1, labels), "sample");
  REQUIRE_GAUSSMIX_THROWS(std::logic_error, model.bic(X), "bic");
  REQUIRE_GAUSSMIX_THROWS(std::logic_error, model.aic(X), "aic");
  REQUIRE_GAUSSMIX_THROWS(std::logic_error, model.weights(), "weights", "fit()");
  REQUIRE_GAUSSMIX_THROWS(std::logic_error, model.means(), "means");
  REQUIRE_GAUSSMIX_THROWS(std::logic_error, model.covariance(0), "covariance");
  REQUIRE_GAUSSMIX_THROWS(std::logic_error, model.covariances(), "covariances");
  REQUIRE_GAUSSMIX_THROWS(std::logic_error, model.n_parameters(), "n_parameters");
  CHECK(!model.is_fitted());
  CHECK(model.n_features() == 0);
}

TEST_CASE("non-finite, empty and wrongly shaped X: std::invalid_argument, model unchanged", "[errors]") {
  const Eigen::MatrixXd X = good_data();
  Model model(two_components());
  model.fit(X);
  const Snapshot<Model> before(model);
  Model::Responsibilities resp;
  Model::Responsibilities good_resp;
  model.e_step(X, good_resp);

  SECTION("NaN and Inf") {
    for (double bad : {kNaN, kInf, -kInf}) {
      INFO("bad value " << bad);
      Eigen::MatrixXd Y = X;
      Y(57, 1) = bad;
      REQUIRE_GAUSSMIX_THROWS(std::invalid_argument, model.fit(Y), "fit", "not finite", "(57, 1)");
      REQUIRE_GAUSSMIX_THROWS(std::invalid_argument, model.fit(Y, Eigen::VectorXd::Ones(200)), "fit",
                              "not finite");
      REQUIRE_GAUSSMIX_THROWS(std::invalid_argument, model.predict(Y), "predict", "not finite");
      REQUIRE_GAUSSMIX_THROWS(std::invalid_argument, model.predict_proba(Y), "predict_proba", "not finite");
      REQUIRE_GAUSSMIX_THROWS(std::invalid_argument, model.score_samples(Y), "score_samples", "not finite");
      REQUIRE_GAUSSMIX_THROWS(std::invalid_argument, model.score(Y), "score", "not finite");
      REQUIRE_GAUSSMIX_THROWS(std::invalid_argument, model.log_likelihood(Y), "log_likelihood", "not finite");
      REQUIRE_GAUSSMIX_THROWS(std::invalid_argument, model.bic(Y), "bic", "not finite");
      REQUIRE_GAUSSMIX_THROWS(std::invalid_argument, model.aic(Y), "aic", "not finite");
      REQUIRE_GAUSSMIX_THROWS(std::invalid_argument, model.e_step(Y, resp), "e_step", "not finite");
      REQUIRE_GAUSSMIX_THROWS(std::invalid_argument, model.m_step(Y, good_resp), "m_step", "not finite");
      // A fixed-Dim float model reads its input the same way.
      gaussmix::GaussianMixture2f small(two_components());
      REQUIRE_GAUSSMIX_THROWS(std::invalid_argument, small.fit(Y.cast<float>()), "fit", "not finite");
      CHECK(!small.is_fitted());
      REQUIRE(Snapshot<Model>(model) == before);
    }
  }
  SECTION("empty X") {
    const Eigen::MatrixXd empty(0, 2);
    REQUIRE_GAUSSMIX_THROWS(std::invalid_argument, model.fit(empty), "fit", "no rows");
    REQUIRE_GAUSSMIX_THROWS(std::invalid_argument, model.predict(empty), "predict", "no rows");
    REQUIRE_GAUSSMIX_THROWS(std::invalid_argument, model.score(empty), "score", "no rows");
    REQUIRE_GAUSSMIX_THROWS(std::invalid_argument, model.e_step(empty, resp), "e_step", "no rows");
    REQUIRE_GAUSSMIX_THROWS(std::invalid_argument, model.fit(Eigen::MatrixXd(0, 0)), "fit", "no");
    REQUIRE(Snapshot<Model>(model) == before);
  }
  SECTION("fewer samples than components") {
    Options options = two_components();
    options.n_components = 3;
    Model three(options);
    REQUIRE_GAUSSMIX_THROWS(std::invalid_argument, three.fit(X.topRows(2)), "fit", "n_components");
    CHECK(!three.is_fitted());
    REQUIRE_GAUSSMIX_THROWS(std::invalid_argument, model.fit(X.topRows(1)), "fit", "n_components");
    REQUIRE(Snapshot<Model>(model) == before);
  }
  SECTION("wrong number of columns for a fitted model") {
    const Eigen::MatrixXd Y = good_data(3);
    REQUIRE_GAUSSMIX_THROWS(std::invalid_argument, model.predict(Y), "predict", "3 columns", "2 features");
    REQUIRE_GAUSSMIX_THROWS(std::invalid_argument, model.predict_proba(Y), "predict_proba", "columns");
    REQUIRE_GAUSSMIX_THROWS(std::invalid_argument, model.score_samples(Y), "score_samples", "columns");
    REQUIRE_GAUSSMIX_THROWS(std::invalid_argument, model.score(Y), "score", "columns");
    REQUIRE_GAUSSMIX_THROWS(std::invalid_argument, model.log_likelihood(Y), "log_likelihood", "columns");
    REQUIRE_GAUSSMIX_THROWS(std::invalid_argument, model.bic(Y), "bic", "columns");
    REQUIRE_GAUSSMIX_THROWS(std::invalid_argument, model.aic(Y), "aic", "columns");
    REQUIRE_GAUSSMIX_THROWS(std::invalid_argument, model.e_step(Y, resp), "e_step", "columns");
    REQUIRE(Snapshot<Model>(model) == before);
  }
  SECTION("warm_start fit on data of another d") {
    Options options = two_components();
    options.warm_start = true;
    Model warm(options);
    warm.fit(X);
    const Snapshot<Model> warm_before(warm);
    REQUIRE_GAUSSMIX_THROWS(std::invalid_argument, warm.fit(good_data(3)), "fit", "columns");
    REQUIRE(Snapshot<Model>(warm) == warm_before);
  }
  SECTION("a fixed Dim given another number of columns") {
    Model2 fixed(two_components());
    const Eigen::MatrixXd Y = good_data(3);
    REQUIRE_GAUSSMIX_THROWS(std::invalid_argument, fixed.fit(Y), "fit", "3 columns", "Dim is 2");
    CHECK(!fixed.is_fitted());
    fixed.fit(X);
    const Snapshot<Model2> fixed_before(fixed);
    REQUIRE_GAUSSMIX_THROWS(std::invalid_argument, fixed.fit(Y), "fit", "Dim is 2");
    REQUIRE_GAUSSMIX_THROWS(std::invalid_argument, fixed.predict(Y), "predict", "Dim is 2");
    REQUIRE_GAUSSMIX_THROWS(std::invalid_argument, fixed.score_samples(Y), "score_samples", "Dim is 2");
    REQUIRE_GAUSSMIX_THROWS(std::invalid_argument, fixed.predict(X.leftCols(1)), "predict", "Dim is 2");
    REQUIRE(Snapshot<Model2>(fixed) == fixed_before);
  }
}

TEST_CASE("bad sample weights: std::invalid_argument, model unchanged", "[errors]") {
  const Eigen::MatrixXd X = good_data();
  Model model(two_components());
  model.fit(X);
  const Snapshot<Model> before(model);
  const Eigen::VectorXd ones = Eigen::VectorXd::Ones(200);

  REQUIRE_GAUSSMIX_THROWS(std::invalid_argument, model.fit(X, Eigen::VectorXd::Ones(199)), "sample_weight",
                          "199");
  REQUIRE_GAUSSMIX_THROWS(std::invalid_argument, model.fit(X, Eigen::VectorXd::Ones(201)), "sample_weight");
  REQUIRE_GAUSSMIX_THROWS(std::invalid_argument, model.fit(X, Eigen::MatrixXd::Ones(100, 2)), "sample_weight");
  for (double bad : {-1.0, -1e-300, kNaN, kInf}) {
    INFO("bad weight " << bad);
    Eigen::VectorXd w = ones;
    w(42) = bad;
    REQUIRE_GAUSSMIX_THROWS(std::invalid_argument, model.fit(X, w), "sample_weight(42)");
  }
  REQUIRE_GAUSSMIX_THROWS(std::invalid_argument, model.fit(X, Eigen::VectorXd::Zero(200)), "fit",
                          "positive weight");
  // Fewer positive weights than components is n < K in disguise.
  Eigen::VectorXd one_positive = Eigen::VectorXd::Zero(200);
  one_positive(3) = 1;
  REQUIRE_GAUSSMIX_THROWS(std::invalid_argument, model.fit(X, one_positive), "positive weight", "n_components");
  REQUIRE(Snapshot<Model>(model) == before);
  // Row-vector weights of the right length are fine.
  CHECK_NOTHROW(model.fit(X, ones.transpose()));
}

TEST_CASE("set_parameters with bad parameters: std::invalid_argument, model unchanged", "[errors]") {
  using Matrix = Model::Matrix;
  const Eigen::Vector2d weights(0.4, 0.6);
  Eigen::Matrix2d means;
  means << 0, 0, 4, 4;
  const std::vector<Matrix> identity(2, Matrix::Identity(2, 2));

  for (CovarianceType type : {CovarianceType::Full, CovarianceType::Diagonal, CovarianceType::Spherical,
                              CovarianceType::Tied}) {
    INFO("covariance type " << gaussmix::to_string(type));
    Model fresh(two_components(type));
    Model model(two_components(type));
    model.set_parameters(weights, means, identity);
    const Snapshot<Model> before(model);
    auto both = [&](auto&& call) {  // on a model without parameters and on one with
      call(fresh);
      CHECK(!fresh.is_fitted());
      call(model);
      CHECK(Snapshot<Model>(model) == before);
    };

    both([&](Model& m) {
      REQUIRE_GAUSSMIX_THROWS(std::invalid_argument, m.set_parameters(Eigen::Vector3d(0.2, 0.3, 0.5), means, identity),
                              "set_parameters", "weights");
    });
    both([&](Model& m) {
      Eigen::MatrixXd three_means(3, 2);
      three_means.setZero();
      REQUIRE_GAUSSMIX_THROWS(std::invalid_argument, m.set_parameters(weights, three_means, identity),
                              "set_parameters", "means");
    });
    both([&](Model& m) {
      REQUIRE_GAUSSMIX_THROWS(std::invalid_argument,
                              m.set_parameters(weights, means, std::vector<Matrix>(3, Matrix::Identity(2, 2))),
                              "set_parameters", "covariances");
    });
    both([&](Model& m) {
      REQUIRE_GAUSSMIX_THROWS(std::invalid_argument,
                              m.set_parameters(weights, means, std::vector<Matrix>(2, Matrix::Identity(3, 3))),
                              "set_parameters", "covariance 0", "3 x 3");
    });
    both([&](Model& m) {
      REQUIRE_GAUSSMIX_THROWS(std::invalid_argument, m.set_parameters(Eigen::Vector2d(0.5, 0.6), means, identity),
                              "set_parameters", "weights", "sum");
    });
    both([&](Model& m) {
      REQUIRE_GAUSSMIX_THROWS(std::invalid_argument, m.set_parameters(Eigen::Vector2d(-0.1, 1.1), means, identity),
                              "set_parameters", "weight 0");
    });
    both([&](Model& m) {
      REQUIRE_GAUSSMIX_THROWS(std::invalid_argument, m.set_parameters(Eigen::Vector2d(kNaN, 0.5), means, identity),
                              "set_parameters", "weight 0");
    });
    both([&](Model& m) {
      Eigen::Matrix2d bad_means = means;
      bad_means(1, 0) = kNaN;
      REQUIRE_GAUSSMIX_THROWS(std::invalid_argument, m.set_parameters(weights, bad_means, identity),
                              "set_parameters", "means");
    });
    both([&](Model& m) {
      std::vector<Matrix> c = identity;
      c[1](0, 1) = kInf;
      REQUIRE_GAUSSMIX_THROWS(std::invalid_argument, m.set_parameters(weights, means, c), "set_parameters",
                              "covariance 1");
    });
    // Same-for-all, type-conforming matrices that are not symmetric / not positive definite.
    both([&](Model& m) {
      Matrix not_pd = Matrix::Identity(2, 2);
      not_pd(1, 1) = type == CovarianceType::Full || type == CovarianceType::Tied ? 1.0 : 0.0;
      if (type == CovarianceType::Full || type == CovarianceType::Tied) not_pd(0, 1) = not_pd(1, 0) = 2.0;
      if (type == CovarianceType::Spherical) not_pd.setZero();
      REQUIRE_GAUSSMIX_THROWS(std::invalid_argument, m.set_parameters(weights, means, std::vector<Matrix>(2, not_pd)),
                              "set_parameters", "not positive definite");
    });
    both([&](Model& m) {
      Matrix negative = -Matrix::Identity(2, 2);
      REQUIRE_GAUSSMIX_THROWS(std::invalid_argument,
                              m.set_parameters(weights, means, std::vector<Matrix>(2, negative)), "set_parameters",
                              "not positive definite");
    });
    both([&](Model& m) {
      Matrix not_symmetric(2, 2);
      not_symmetric << 1.0, 0.5, 0.4, 1.0;
      REQUIRE_GAUSSMIX_THROWS(std::invalid_argument,
                              m.set_parameters(weights, means, std::vector<Matrix>(2, not_symmetric)),
                              "set_parameters", "not symmetric");
    });
    // Matrices that are SPD but do not fit the type.
    Matrix correlated(2, 2);
    correlated << 1.0, 0.3, 0.3, 1.0;
    Matrix stretched(2, 2);
    stretched << 2.0, 0.0, 0.0, 1.0;
    switch (type) {
      case CovarianceType::Full: break;
      case CovarianceType::Diagonal:
        both([&](Model& m) {
          REQUIRE_GAUSSMIX_THROWS(std::invalid_argument,
                                  m.set_parameters(weights, means, std::vector<Matrix>{stretched, correlated}),
                                  "set_parameters", "covariance 1", "off-diagonal", "Diagonal");
        });
        break;
      case CovarianceType::Spherical:
        both([&](Model& m) {
          REQUIRE_GAUSSMIX_THROWS(std::invalid_argument,
                                  m.set_parameters(weights, means, std::vector<Matrix>{identity[0], stretched}),
                                  "set_parameters", "covariance 1", "Spherical");
        });
        both([&](Model& m) {
          REQUIRE_GAUSSMIX_THROWS(std::invalid_argument,
                                  m.set_parameters(weights, means, std::vector<Matrix>{correlated, identity[0]}),
                                  "set_parameters", "covariance 0", "Spherical");
        });
        break;
      case CovarianceType::Tied:
        both([&](Model& m) {
          REQUIRE_GAUSSMIX_THROWS(std::invalid_argument,
                                  m.set_parameters(weights, means, std::vector<Matrix>{correlated, stretched}),
                                  "set_parameters", "covariance 1", "Tied");
        });
        break;
    }
  }

  SECTION("fixed Dim: means with another number of columns") {
    Model2 fixed(two_components());
    Eigen::MatrixXd means3 = Eigen::MatrixXd::Zero(2, 3);
    REQUIRE_GAUSSMIX_THROWS(std::invalid_argument,
                            fixed.set_parameters(weights, means3, std::vector<Model2::Matrix>(2, Model2::Matrix::Identity())),
                            "set_parameters", "means");
    CHECK(!fixed.is_fitted());
  }
  SECTION("covariance(k) out of range: std::out_of_range") {
    Model model(two_components());
    model.set_parameters(weights, means, identity);
    REQUIRE_GAUSSMIX_THROWS(std::out_of_range, model.covariance(2), "covariance");
    REQUIRE_GAUSSMIX_THROWS(std::out_of_range, model.covariance(-1), "covariance");
  }
}

TEST_CASE("m_step with responsibilities of the wrong shape: std::invalid_argument, model unchanged", "[errors]") {
  const Eigen::MatrixXd X = good_data();
  Model model(two_components());
  model.fit(X);
  const Snapshot<Model> before(model);
  Model::Responsibilities resp;
  model.e_step(X, resp);
  REQUIRE_GAUSSMIX_THROWS(std::invalid_argument, model.m_step(X.topRows(100), resp), "m_step");
  REQUIRE_GAUSSMIX_THROWS(std::invalid_argument, model.m_step(X, Model::Responsibilities(resp.leftCols(1))),
                          "m_step");
  Model::Responsibilities bad = resp;
  bad(5, 0) = kNaN;
  REQUIRE_GAUSSMIX_THROWS(std::invalid_argument, model.m_step(X, bad), "m_step");
  bad = resp;
  bad(5, 0) = -0.5;
  REQUIRE_GAUSSMIX_THROWS(std::invalid_argument, model.m_step(X, bad), "m_step");
  REQUIRE(Snapshot<Model>(model) == before);
}

TEST_CASE("sample with a negative n: std::invalid_argument", "[errors]") {
  Model model(two_components());
  model.fit(good_data());
  REQUIRE_GAUSSMIX_THROWS(std::invalid_argument, model.sample(-1, 0), "sample");
  CHECK(model.sample(0, 0).rows() == 0);
}

TEST_CASE("a covariance that cannot be made positive definite: gaussmix::NumericalError naming the component "
          "and reg_covar",
          "[errors]") {
  const Eigen::MatrixXd X = good_data();
  Eigen::MatrixXd identical(50, 2);
  identical.rowwise() = Eigen::RowVector2d(1.5, -2.0);
  Eigen::MatrixXd constant_column = X;
  constant_column.col(1).setConstant(3.0);

  for (CovarianceType type : {CovarianceType::Full, CovarianceType::Diagonal, CovarianceType::Spherical,
                              CovarianceType::Tied}) {
    INFO("covariance type " << gaussmix::to_string(type));
    Options options;
    options.covariance_type = type;
    options.reg_covar = 0;
    const char* names = type == CovarianceType::Tied ? "tied" : "component 0";
    Model one(options);  // K = 1: all points identical
    REQUIRE_GAUSSMIX_THROWS(gaussmix::NumericalError, one.fit(identical), names, "reg_covar");
    CHECK(!one.is_fitted());
    // A fitted model that then meets degenerate data keeps its parameters.
    one.fit(X);
    const Snapshot<Model> before(one);
    REQUIRE_GAUSSMIX_THROWS(gaussmix::NumericalError, one.fit(identical), names, "reg_covar");
    REQUIRE(Snapshot<Model>(one) == before);
    // A constant column has variance 0: degenerate for every type but Spherical (which averages it).
    if (type != CovarianceType::Spherical) {
      REQUIRE_GAUSSMIX_THROWS(gaussmix::NumericalError, one.fit(constant_column), names, "reg_covar");
      REQUIRE(Snapshot<Model>(one) == before);
    }
    // The default reg_covar rescues both.
    options.reg_covar = 1e-6;
    Model regularised(options);
    CHECK_NOTHROW(regularised.fit(identical));
    CHECK_NOTHROW(regularised.fit(constant_column));
  }

  SECTION("m_step: component 1 responsible for a single point") {
    Options options = two_components();
    options.reg_covar = 0;
    Model model(options);
    model.fit(X);
    const Snapshot<Model> before(model);
    Model::Responsibilities resp = Model::Responsibilities::Zero(X.rows(), 2);
    resp.col(0).setOnes();
    resp(7, 0) = 0;
    resp(7, 1) = 1;
    REQUIRE_GAUSSMIX_THROWS(gaussmix::NumericalError, model.m_step(X, resp), "component 1", "reg_covar");
    REQUIRE(Snapshot<Model>(model) == before);
  }
}

}  // namespace gaussmix_test_errors
