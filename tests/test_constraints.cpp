// SPDX-License-Identifier: MIT
// Fixed parameters (Options::fixed_weights, fixed_means, fixed_covariances) and known labels
// (fit_with_labels): agreement with the numpy reference of tests/reference/generate_constraints.py,
// the bound's monotonicity, bit-identity with plain fit when nothing is constrained, and the errors.
#include <Eigen/Dense>
#include <catch2/catch.hpp>
#include <cmath>
#include <gaussmix/gaussmix.hpp>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "fixture_names.hpp"
#include "reference_fixture.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

// A namespace of its own: the tests build as a few unity translation units (tests/CMakeLists.txt).
namespace gaussmix_test_constraints {

using gaussmix::CovarianceType;
using gaussmix::FitResult;
using gaussmix::Options;
using gaussmix_test::json;
using gaussmix_test::relative_agreement;

std::vector<int> to_indices(const json& j) { return j.get<std::vector<int>>(); }

const json& fixture() {
  static const json doc = gaussmix_test::load_json("constraints.json");
  return doc;
}

// The case's options (tol = 0: exactly max_iter iterations, as the reference).
Options case_options(const json& c, int max_iter) {
  Options o;
  o.n_components = fixture().at("n_components").get<int>();
  o.covariance_type = gaussmix_test::covariance_type_named(c.at("covariance_type").get<std::string>());
  o.reg_covar = fixture().at("reg_covar").get<double>();
  o.tol = 0;
  o.max_iter = max_iter;
  o.warm_start = true;
  o.fixed_weights = to_indices(c.at("fixed_weights"));
  o.fixed_means = to_indices(c.at("fixed_means"));
  o.fixed_covariances = to_indices(c.at("fixed_covariances"));
  return o;
}

// The model at the case's init, then fit (or fit_with_labels) as the case says.
template <typename Scalar, int Dim = Eigen::Dynamic>
FitResult run_case(const json& c, gaussmix::GaussianMixture<Scalar, Dim>& model) {
  using Matrix = typename gaussmix::GaussianMixture<Scalar, Dim>::Matrix;
  const json& init = c.at("init");
  std::vector<Matrix> covariances;
  for (const Eigen::MatrixXd& m : gaussmix_test::to_matrices(init.at("covariances")))
    covariances.push_back(m.cast<Scalar>());
  model.set_parameters(gaussmix_test::to_vector(init.at("weights")).cast<Scalar>(),
                       gaussmix_test::to_matrix(init.at("means")).cast<Scalar>(), covariances);
  const Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic> X =
      gaussmix_test::to_matrix(fixture().at("X")).cast<Scalar>();
  const Eigen::VectorXd w = gaussmix_test::to_vector(fixture().at("sample_weight"));
  const Eigen::VectorXi labels = gaussmix_test::to_ivector(fixture().at("labels"));
  const bool weighted = c.at("weighted").get<bool>(), labelled = c.at("labelled").get<bool>();
  if (labelled) return weighted ? model.fit_with_labels(X, labels, w) : model.fit_with_labels(X, labels);
  return weighted ? model.fit(X, w) : model.fit(X);
}

template <typename Scalar, int Dim = Eigen::Dynamic>
void check_case(const json& c, double rtol) {
  for (const json& step : c.at("steps")) {
    const int max_iter = step.at("max_iter").get<int>();
    INFO(c.at("name").get<std::string>() << ", " << max_iter << " iterations");
    gaussmix::GaussianMixture<Scalar, Dim> model(case_options(c, max_iter));
    const FitResult result = run_case(c, model);
    CHECK(result.n_iter == max_iter);
    const auto bound = relative_agreement(result.lower_bound, step.at("lower_bound").get<double>(), rtol);
    {
      INFO("lower_bound: " << bound.message);
      CHECK(bound.ok);
    }
    const Eigen::VectorXd history = gaussmix_test::to_vector(step.at("history"));
    const Eigen::VectorXd got_history = Eigen::Map<const Eigen::VectorXd>(result.history.data(), result.history.size());
    const auto h = relative_agreement(got_history, history, rtol, 1.0);
    {
      INFO("history: " << h.message);
      CHECK(h.ok);
    }
    const auto weights = relative_agreement(model.weights(), gaussmix_test::to_vector(step.at("weights")), rtol);
    {
      INFO("weights: " << weights.message);
      CHECK(weights.ok);
    }
    const auto means = relative_agreement(model.means(), gaussmix_test::to_matrix(step.at("means")), rtol);
    {
      INFO("means: " << means.message);
      CHECK(means.ok);
    }
    const std::vector<Eigen::MatrixXd> covariances = gaussmix_test::to_matrices(step.at("covariances"));
    for (int k = 0; k < model.n_components(); ++k) {
      const auto cov = relative_agreement(model.covariance(k), covariances[static_cast<std::size_t>(k)], rtol);
      {
        INFO("covariance " << k << ": " << cov.message);
        CHECK(cov.ok);
      }
    }
  }
}

// Well-separated blobs, n x d, K centres on a circle of radius `spread`, deterministic.
Eigen::MatrixXd blobs(Eigen::Index n, Eigen::Index d, int K, double spread, std::uint64_t seed = 3) {
  gaussmix::Options o;
  o.n_components = K;
  gaussmix::GaussianMixture<double> truth(o);
  Eigen::MatrixXd means = Eigen::MatrixXd::Zero(K, d);
  for (int k = 0; k < K; ++k) {
    const double angle = 2 * std::acos(-1.0) * k / K;
    means(k, 0) = spread * std::cos(angle);
    means(k, 1) = spread * std::sin(angle);
  }
  std::vector<Eigen::MatrixXd> covariances(K, Eigen::MatrixXd::Identity(d, d));
  truth.set_parameters(Eigen::VectorXd::Constant(K, 1.0 / K), means, covariances);
  return truth.sample(n, seed);
}

// Bitwise equality of two models' parameters.
template <class A, class B>
void require_same(const A& a, const B& b) {
  REQUIRE(a.weights() == b.weights());
  REQUIRE(a.means() == b.means());
  for (int k = 0; k < a.n_components(); ++k) REQUIRE(a.covariance(k) == b.covariance(k));
}

const CovarianceType kTypes[] = {CovarianceType::Full, CovarianceType::Diagonal, CovarianceType::Spherical,
                                 CovarianceType::Tied};


TEST_CASE("constraints: fixed parameters and labels agree with the numpy reference (double)", "[constraints]") {
  for (const json& c : fixture().at("cases")) {
    SECTION(c.at("name").get<std::string>()) { check_case<double>(c, 1e-9); }
  }
}

TEST_CASE("constraints: the numpy reference with a compile-time Dim = 3", "[constraints]") {
  for (const json& c : fixture().at("cases")) check_case<double, 3>(c, 1e-9);
}

TEST_CASE("constraints: the numpy reference in float", "[constraints][float]") {
  // Float parameters and E-step, sums in double: STYLE.md's float tolerance.
  for (const json& c : fixture().at("cases")) check_case<float>(c, 1e-4);
}

TEST_CASE("constraints: fixed parameters are kept bit for bit", "[constraints]") {
  for (const json& c : fixture().at("cases")) {
    INFO(c.at("name").get<std::string>());
    const Options o = case_options(c, 20);
    gaussmix::GaussianMixture<double> model(o), init(o);
    run_case(c, model);
    const json& j = c.at("init");
    std::vector<Eigen::MatrixXd> covariances = gaussmix_test::to_matrices(j.at("covariances"));
    init.set_parameters(gaussmix_test::to_vector(j.at("weights")), gaussmix_test::to_matrix(j.at("means")),
                        covariances);
    for (int k : o.fixed_weights) CHECK(model.weights()(k) == init.weights()(k));
    for (int k : o.fixed_means) CHECK(model.means().row(k) == init.means().row(k));
    for (int k : o.fixed_covariances) CHECK(model.covariance(k) == init.covariance(k));
    CHECK(std::abs(model.weights().sum() - 1) < 1e-12);
  }
}

TEST_CASE("constraints: the lower bound never decreases", "[constraints][invariant]") {
  // The reference cases run for 100 iterations, and a larger problem with every kind of constraint.
  for (const json& c : fixture().at("cases")) {
    INFO(c.at("name").get<std::string>());
    gaussmix::GaussianMixture<double> model(case_options(c, 100));
    const FitResult result = run_case(c, model);
    for (std::size_t i = 1; i < result.history.size(); ++i)
      CHECK(result.history[i] >= result.history[i - 1] - 1e-12 * std::abs(result.history[i - 1]));
  }
  const Eigen::MatrixXd X = blobs(3000, 3, 4, 2.5, 11);
  Eigen::VectorXi labels = Eigen::VectorXi::Constant(X.rows(), -1);
  for (Eigen::Index i = 0; i < X.rows(); i += 17) labels(i) = static_cast<int>(i % 4);  // wrong on purpose
  for (CovarianceType type : kTypes) {
    INFO(gaussmix::to_string(type));
    Options o;
    o.n_components = 4;
    o.covariance_type = type;
    o.tol = 0;
    o.max_iter = 60;
    gaussmix::GaussianMixture<double> model(o);
    model.fit(X.topRows(300));  // starting parameters from a little of the data
    o.warm_start = true;
    o.fixed_weights = {1};
    o.fixed_means = {0, 3};
    o.fixed_covariances = type == CovarianceType::Tied ? std::vector<int>{} : std::vector<int>{2, 3};
    gaussmix::GaussianMixture<double> constrained(o);
    constrained.set_parameters(model.weights(), model.means(), model.covariances());
    const FitResult result = constrained.fit_with_labels(X, labels);
    for (std::size_t i = 1; i < result.history.size(); ++i)
      CHECK(result.history[i] >= result.history[i - 1] - 1e-12 * std::abs(result.history[i - 1]));
  }
}

TEST_CASE("constraints: nothing fixed and no labels is plain fit, bit for bit", "[constraints]") {
  const Eigen::MatrixXd X = blobs(5000, 3, 3, 2.0);
  const Eigen::VectorXd w = (Eigen::VectorXd::LinSpaced(X.rows(), 0, 7).array().sin() + 1.5).matrix();
  const Eigen::VectorXi unknown = Eigen::VectorXi::Constant(X.rows(), -1);
  for (CovarianceType type : kTypes) {
    INFO(gaussmix::to_string(type));
    Options o;
    o.n_components = 3;
    o.covariance_type = type;
    o.max_iter = 30;
    o.n_init = 2;
    gaussmix::GaussianMixture<double> plain(o), labelled(o), weighted(o), weighted_labelled(o);
    const FitResult a = plain.fit(X), b = labelled.fit_with_labels(X, unknown);
    CHECK(a.history == b.history);
    require_same(plain, labelled);
    const FitResult c = weighted.fit(X, w), d = weighted_labelled.fit_with_labels(X, unknown, w);
    CHECK(c.history == d.history);
    require_same(weighted, weighted_labelled);
    gaussmix::GaussianMixture<float> plain_f(o), labelled_f(o);
    const Eigen::MatrixXf Xf = X.cast<float>();
    CHECK(plain_f.fit(Xf).history == labelled_f.fit_with_labels(Xf, unknown).history);
    require_same(plain_f, labelled_f);

    // The EM loop with the unconstrained M-step (no FixedParameters at all), as fit ran before 0.2.
    o.warm_start = true;
    o.max_iter = 10;
    o.tol = 0;
    gaussmix::GaussianMixture<double> warm(o);
    warm.set_parameters(plain.weights(), plain.means(), plain.covariances());
    const FitResult e = warm.fit(X);
    gaussmix::Parameters<double> p;
    {
      gaussmix::GaussianMixture<double> copy(o);
      copy.set_parameters(plain.weights(), plain.means(), plain.covariances());
      // Same starting Parameters as warm's, built the same way.
      p.weights = copy.weights();
      p.means = copy.means();
      p.covariances = gaussmix::Covariances<double>::from_dense(type, 3, copy.covariances());
    }
    gaussmix::BlockedExpectation<double, Eigen::Dynamic, Eigen::MatrixXd> expectation(X, nullptr, 3);
    gaussmix::SufficientStatistics<> stats;
    std::vector<double> history;
    for (int i = 0; i < 10; ++i) {
      stats.reset(type, p.means);
      expectation(p, stats);
      history.push_back(stats.log_likelihood / stats.total_weight);
      p = gaussmix::maximise<double, Eigen::Dynamic>(stats, o.reg_covar, &p);
    }
    CHECK(e.history == history);
    REQUIRE(warm.weights() == p.weights);
    REQUIRE(warm.means() == p.means);
    for (int k = 0; k < 3; ++k) REQUIRE(warm.covariance(k) == p.covariances.dense(k));
  }
}

#ifdef _OPENMP
TEST_CASE("constraints: bit-identical for any thread count", "[constraints][threads]") {
  const Eigen::MatrixXd X = blobs(20000, 4, 3, 2.0);  // several blocks and chunks
  Eigen::VectorXi labels = Eigen::VectorXi::Constant(X.rows(), -1);
  for (Eigen::Index i = 0; i < X.rows(); i += 20) labels(i) = static_cast<int>(i % 3);
  const Eigen::VectorXd w = (Eigen::VectorXd::LinSpaced(X.rows(), 0, 5).array().cos() + 1.2).matrix();
  const int saved = omp_get_max_threads();
  for (CovarianceType type : kTypes) {
    INFO(gaussmix::to_string(type));
    Options o;
    o.n_components = 3;
    o.covariance_type = type;
    o.max_iter = 5;
    gaussmix::GaussianMixture<double> start(o);
    start.fit(X.topRows(2000));
    o.max_iter = 15;
    o.warm_start = true;
    o.fixed_weights = {0};
    o.fixed_means = {1};
    o.fixed_covariances = type == CovarianceType::Tied ? std::vector<int>{0, 1, 2} : std::vector<int>{2};
    std::vector<gaussmix::GaussianMixture<double>> models;
    std::vector<FitResult> results;
    for (int threads : {1, 2, 3}) {
      omp_set_num_threads(threads);
      models.emplace_back(o);
      models.back().set_parameters(start.weights(), start.means(), start.covariances());
      results.push_back(models.back().fit_with_labels(X, labels, w));
    }
    omp_set_num_threads(saved);
    for (std::size_t i = 1; i < models.size(); ++i) {
      CHECK(results[i].history == results[0].history);
      require_same(models[i], models[0]);
    }
  }
}
#endif

TEST_CASE("constraints: 5% labelled rows fix the label switching of a symmetric mixture", "[constraints][labels]") {
  // Two identical, equally weighted components at (-3, 0) and (3, 0): the likelihood cannot tell their
  // numbering apart, so which one fit() calls 0 depends on the initialisation (the seed).
  gaussmix::Options truth_options;
  truth_options.n_components = 2;
  gaussmix::GaussianMixture<double> truth(truth_options);
  Eigen::MatrixXd means(2, 2);
  means << 3, 0, -3, 0;
  truth.set_parameters(Eigen::Vector2d(0.5, 0.5), means,
                       std::vector<Eigen::MatrixXd>(2, Eigen::MatrixXd::Identity(2, 2)));
  Eigen::VectorXi component;
  const Eigen::MatrixXd X = truth.sample(1000, 5, component);  // component 0 is the one at +3
  Eigen::VectorXi labels = Eigen::VectorXi::Constant(X.rows(), -1);
  for (Eigen::Index i = 0; i < X.rows(); i += 20) labels(i) = component(i);  // 50 rows: 5%
  int switched_without_labels = 0;
  for (std::uint64_t seed = 0; seed < 12; ++seed) {
    INFO("seed " << seed);
    Options o;
    o.n_components = 2;
    o.seed = seed;
    o.init_params = gaussmix::InitMethod::RandomFromData;
    gaussmix::GaussianMixture<double> plain(o), labelled(o);
    plain.fit(X);
    switched_without_labels += plain.means()(0, 0) < 0;
    labelled.fit_with_labels(X, labels);
    CHECK(labelled.means()(0, 0) > 2.5);
    CHECK(labelled.means()(1, 0) < -2.5);
    const Eigen::VectorXi predicted = labelled.predict(X);
    CHECK((predicted.array() == component.array()).count() > 0.99 * X.rows());
  }
  // The test has teeth: without labels, some seeds number the components the other way.
  CHECK(switched_without_labels > 0);
  CHECK(switched_without_labels < 12);
}

TEST_CASE("constraints: fit_source, partial_fit and m_step keep fixed parameters too", "[constraints]") {
  const Eigen::MatrixXd X = blobs(4000, 3, 3, 2.0, 21);
  for (CovarianceType type : kTypes) {
    INFO(gaussmix::to_string(type));
    Options o;
    o.n_components = 3;
    o.covariance_type = type;
    o.max_iter = 3;
    gaussmix::GaussianMixture<double> start(o);
    start.fit(X.topRows(500));
    o.warm_start = true;
    o.tol = 0;
    o.max_iter = 8;
    o.fixed_weights = {2};
    o.fixed_means = {0};
    o.fixed_covariances = type == CovarianceType::Tied ? std::vector<int>{} : std::vector<int>{1};
    auto make = [&] {
      gaussmix::GaussianMixture<double> m(o);
      m.set_parameters(start.weights(), start.means(), start.covariances());
      return m;
    };
    auto check_kept = [&](const gaussmix::GaussianMixture<double>& m) {
      CHECK(m.weights()(2) == start.weights()(2));
      CHECK(m.means().row(0) == start.means().row(0));
      for (int k : o.fixed_covariances) CHECK(m.covariance(k) == start.covariance(k));
      CHECK(m.means().row(1) != start.means().row(1));  // the free ones moved
    };
    gaussmix::GaussianMixture<double> in_memory = make(), streamed = make(), online = make(), textbook = make();
    const FitResult a = in_memory.fit(X);
    const FitResult b = gaussmix::fit_source(streamed, gaussmix::MatrixSource(X, 777));
    check_kept(in_memory);
    check_kept(streamed);
    CHECK(relative_agreement(b.lower_bound, a.lower_bound, 1e-12).ok);
    CHECK(relative_agreement(streamed.means(), in_memory.means(), 1e-10).ok);
    CHECK(relative_agreement(streamed.weights(), in_memory.weights(), 1e-10).ok);
    for (int k = 0; k < 3; ++k) CHECK(relative_agreement(streamed.covariance(k), in_memory.covariance(k), 1e-10).ok);

    for (Eigen::Index b0 = 0; b0 < X.rows(); b0 += 1000) online.partial_fit(X.middleRows(b0, 1000));
    check_kept(online);

    // m_step takes its moments about the responsibility-weighted means, not the fixed mean: the shifted
    // moments (M + S delta^T + delta S^T + N delta delta^T) must give one iteration of fit.
    Eigen::MatrixXd resp;
    textbook.e_step(X, resp);
    textbook.m_step(X, resp);
    check_kept(textbook);
    o.max_iter = 1;
    gaussmix::GaussianMixture<double> one = make();
    one.fit(X);
    CHECK(relative_agreement(textbook.means(), one.means(), 1e-12).ok);
    CHECK(relative_agreement(textbook.weights(), one.weights(), 1e-12).ok);
    for (int k = 0; k < 3; ++k) CHECK(relative_agreement(textbook.covariance(k), one.covariance(k), 1e-10).ok);
  }
}

TEST_CASE("constraints: errors", "[constraints][errors]") {
  auto message_of = [](auto&& call) -> std::string {
    try {
      call();
    } catch (const std::exception& e) {
      return e.what();
    }
    return "";
  };
  Options o;
  o.n_components = 3;
  SECTION("invalid indices name the field") {
    o.fixed_means = {0, 3};
    CHECK_THROWS_AS(gaussmix::GaussianMixture<double>(o), std::invalid_argument);
    CHECK_THAT(message_of([&] { gaussmix::GaussianMixture<double> m(o); }),
               Catch::StartsWith("gaussmix: Options::fixed_means") && Catch::Contains("got 3"));
    o.fixed_means = {};
    o.fixed_weights = {-1};
    CHECK_THAT(message_of([&] { gaussmix::GaussianMixture<double> m(o); }),
               Catch::StartsWith("gaussmix: Options::fixed_weights") && Catch::Contains("got -1"));
    o.fixed_weights = {};
    o.fixed_covariances = {1, 2, 1};
    CHECK_THAT(message_of([&] { gaussmix::GaussianMixture<double> m(o); }),
               Catch::StartsWith("gaussmix: Options::fixed_covariances") && Catch::Contains("duplicates"));
  }
  SECTION("Tied: fixed_covariances lists all components or none") {
    o.covariance_type = CovarianceType::Tied;
    o.fixed_covariances = {1};
    CHECK_THAT(message_of([&] { gaussmix::GaussianMixture<double> m(o); }),
               Catch::StartsWith("gaussmix: Options::fixed_covariances") && Catch::Contains("Tied"));
    o.fixed_covariances = {2, 0, 1};
    CHECK_NOTHROW(gaussmix::GaussianMixture<double>(o));
  }
  SECTION("BayesianGaussianMixture refuses fixed parameters") {
    o.fixed_weights = {0};
    CHECK_THAT(message_of([&] { gaussmix::BayesianGaussianMixture<double> m(o); }),
               Catch::StartsWith("gaussmix: Options::fixed_weights"));
  }
  const Eigen::MatrixXd X = blobs(300, 2, 3, 3.0);
  SECTION("fixed parameters need a model with parameters and warm_start") {
    o.fixed_means = {1};
    o.warm_start = true;
    gaussmix::GaussianMixture<double> unfitted(o);
    CHECK_THROWS_AS(unfitted.fit(X), std::logic_error);
    CHECK_THAT(message_of([&] { unfitted.fit(X); }), Catch::StartsWith("gaussmix: fit:"));
    CHECK_FALSE(unfitted.is_fitted());
    CHECK_THROWS_AS(unfitted.partial_fit(X), std::logic_error);
    o.warm_start = false;
    gaussmix::GaussianMixture<double> cold(o);
    Options free_options;
    free_options.n_components = 3;
    gaussmix::GaussianMixture<double> fitted(free_options);
    fitted.fit(X);
    cold.set_parameters(fitted.weights(), fitted.means(), fitted.covariances());
    CHECK_THAT(message_of([&] { cold.fit(X); }), Catch::Contains("warm_start"));
    CHECK(cold.means() == fitted.means());  // nothing changed
  }
  SECTION("fixed weights that leave no mass for the free components") {
    Options free_options;
    free_options.n_components = 3;
    gaussmix::GaussianMixture<double> fitted(free_options);
    fitted.fit(X);
    o.fixed_weights = {0, 1};
    o.warm_start = true;
    gaussmix::GaussianMixture<double> model(o);
    model.set_parameters(Eigen::Vector3d(0.5, 0.5, 0.0), fitted.means(), fitted.covariances());
    CHECK_THAT(message_of([&] { model.fit(X); }),
               Catch::StartsWith("gaussmix: fit:") && Catch::Contains("fixed_weights"));
    CHECK(model.weights() == Eigen::Vector3d(0.5, 0.5, 0.0));
  }
  SECTION("labels: wrong length or outside [-1, K)") {
    gaussmix::GaussianMixture<double> model(o);
    const Eigen::VectorXi short_labels = Eigen::VectorXi::Constant(X.rows() - 1, -1);
    CHECK_THROWS_AS(model.fit_with_labels(X, short_labels), std::invalid_argument);
    Eigen::VectorXi labels = Eigen::VectorXi::Constant(X.rows(), -1);
    labels(7) = 3;
    CHECK_THAT(message_of([&] { model.fit_with_labels(X, labels); }),
               Catch::StartsWith("gaussmix: fit_with_labels: labels(7) = 3"));
    labels(7) = -2;
    CHECK_THROWS_AS(model.fit_with_labels(X, labels), std::invalid_argument);
    CHECK_FALSE(model.is_fitted());
  }
}

}  // namespace gaussmix_test_constraints
