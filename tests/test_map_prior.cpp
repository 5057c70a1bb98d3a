// SPDX-License-Identifier: MIT
// MAP EM under a conjugate prior (Options::prior): agreement with the numpy reference of
// tests/reference/generate_map_prior.py, a degenerate component that maximum likelihood cannot fit,
// the log posterior's monotonicity, the empty prior as the maximum-likelihood M-step bit for bit,
// fit_source / threads / partial_fit through the same M-step, and the errors.
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
namespace gaussmix_test_map_prior {

using gaussmix::ConjugatePrior;
using gaussmix::CovarianceType;
using gaussmix::FitResult;
using gaussmix::Options;
using gaussmix_test::json;
using gaussmix_test::relative_agreement;

const CovarianceType kTypes[] = {CovarianceType::Full, CovarianceType::Diagonal, CovarianceType::Spherical,
                                 CovarianceType::Tied};

const json& fixture() {
  static const json doc = gaussmix_test::load_json("map_prior.json");
  return doc;
}

// The case's options: warm start from its init, tol = 0 (exactly max_iter iterations), its prior.
Options case_options(const json& c, int max_iter) {
  Options o;
  o.n_components = fixture().at("n_components").get<int>();
  o.covariance_type = gaussmix_test::covariance_type_named(c.at("covariance_type").get<std::string>());
  o.reg_covar = fixture().at("reg_covar").get<double>();
  o.tol = 0;
  o.max_iter = max_iter;
  o.warm_start = true;
  ConjugatePrior prior;
  const json& given = c.at("given");
  if (!given.empty()) {
    prior.shrinkage = given.at("shrinkage").get<double>();
    prior.mean = gaussmix_test::to_vector(given.at("mean"));
    prior.degrees_of_freedom = given.at("degrees_of_freedom").get<double>();
    prior.scale = gaussmix_test::to_matrix(given.at("scale"));
  }
  o.prior = prior;
  return o;
}

template <typename Scalar>
FitResult run_case(const json& c, gaussmix::GaussianMixture<Scalar>& model) {
  using Matrix = typename gaussmix::GaussianMixture<Scalar>::Matrix;
  const json& init = c.at("init");
  std::vector<Matrix> covariances;
  for (const Eigen::MatrixXd& m : gaussmix_test::to_matrices(init.at("covariances")))
    covariances.push_back(m.cast<Scalar>());
  model.set_parameters(gaussmix_test::to_vector(init.at("weights")).cast<Scalar>(),
                       gaussmix_test::to_matrix(init.at("means")).cast<Scalar>(), covariances);
  const Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic> X =
      gaussmix_test::to_matrix(fixture().at("X")).cast<Scalar>();
  if (c.at("weighted").get<bool>()) return model.fit(X, gaussmix_test::to_vector(fixture().at("sample_weight")));
  return model.fit(X);
}

template <class A, class B>
void check_close(const char* what, const A& got, const B& want, double rtol) {
  const auto agreement = relative_agreement(got, want, rtol);
  INFO(what << ": " << agreement.message);
  CHECK(agreement.ok);
}

template <typename Scalar>
void check_case(const json& c, double rtol, double& worst) {
  for (const json& step : c.at("steps")) {
    const int max_iter = step.at("max_iter").get<int>();
    INFO(c.at("name").get<std::string>() << ", " << max_iter << " iterations");
    gaussmix::GaussianMixture<Scalar> model(case_options(c, max_iter));
    const FitResult result = run_case(c, model);
    CHECK(result.n_iter == max_iter);
    const Eigen::VectorXd history = gaussmix_test::to_vector(step.at("history"));
    const Eigen::VectorXd got_history = Eigen::Map<const Eigen::VectorXd>(result.history.data(), result.history.size());
    check_close("lower_bound", result.lower_bound, step.at("lower_bound").get<double>(), rtol);
    check_close("history", got_history, history, rtol);
    const Eigen::VectorXd weights = gaussmix_test::to_vector(step.at("weights"));
    const Eigen::MatrixXd means = gaussmix_test::to_matrix(step.at("means"));
    check_close("weights", model.weights(), weights, rtol);
    check_close("means", model.means(), means, rtol);
    const std::vector<Eigen::MatrixXd> covariances = gaussmix_test::to_matrices(step.at("covariances"));
    for (int k = 0; k < model.n_components(); ++k) {
      INFO("component " << k);
      check_close("covariance", model.covariance(k), covariances[static_cast<std::size_t>(k)], rtol);
      const Eigen::MatrixXd& want = covariances[static_cast<std::size_t>(k)];
      worst = std::max(worst, (model.covariance(k).template cast<double>() - want).cwiseAbs().maxCoeff() /
                                  want.cwiseAbs().maxCoeff());
    }
    worst = std::max(worst, (got_history - history).cwiseAbs().maxCoeff() / history.cwiseAbs().maxCoeff());
    worst = std::max(
        worst, (model.means().template cast<double>() - means).cwiseAbs().maxCoeff() / means.cwiseAbs().maxCoeff());
    // The hyperparameters as resolved from the data (defaults) or given.
    const json& resolved = c.at("resolved");
    REQUIRE(model.resolved_prior().has_value());
    const gaussmix::ResolvedPrior& r = *model.resolved_prior();
    check_close("prior shrinkage", r.shrinkage, resolved.at("shrinkage").get<double>(), rtol);
    check_close("prior dof", r.degrees_of_freedom, resolved.at("degrees_of_freedom").get<double>(), rtol);
    check_close("prior mean", Eigen::VectorXd(r.mean.transpose()), gaussmix_test::to_vector(resolved.at("mean")), rtol);
    check_close("prior scale", r.scale, gaussmix_test::to_matrix(resolved.at("scale")), rtol);
  }
}

// n points per centre around each row of `centres`, standard normal noise times `spread`, deterministic.
Eigen::MatrixXd clusters(const Eigen::MatrixXd& centres, Eigen::Index n, double spread, std::uint64_t seed) {
  Options o;
  o.n_components = 1;
  const Eigen::Index d = centres.cols();
  gaussmix::GaussianMixture<double> noise(o);
  noise.set_parameters(Eigen::VectorXd::Ones(1), Eigen::MatrixXd::Zero(1, d),
                       {Eigen::MatrixXd::Identity(d, d) * (spread * spread)});
  Eigen::MatrixXd X = noise.sample(n * centres.rows(), seed);
  for (Eigen::Index i = 0; i < X.rows(); ++i) X.row(i) += centres.row(i % centres.rows());
  return X;
}

bool positive_definite(const Eigen::MatrixXd& m) {
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eigen(m);
  return m.allFinite() && eigen.eigenvalues().minCoeff() > 0;
}

template <class Model>
void require_same(const Model& a, const Model& b) {
  REQUIRE(a.weights() == b.weights());
  REQUIRE(a.means() == b.means());
  for (int k = 0; k < a.n_components(); ++k) REQUIRE(a.covariance(k) == b.covariance(k));
}

TEST_CASE("map prior: agrees with the numpy reference", "[map][reference]") {
  double worst = 0;
  for (const json& c : fixture().at("cases")) check_case<double>(c, 1e-9, worst);
  INFO("largest relative difference from numpy (double): " << worst);
  CHECK(worst < 1e-9);
  // Float parameters and E-step, sums in double: STYLE.md's float tolerance.
  double worst_float = 0;
  for (const json& c : fixture().at("cases")) check_case<float>(c, 1e-4, worst_float);
}

TEST_CASE("map prior: a component on two points in 5-D fails without the prior and fits with it", "[map]") {
  // Two clusters of 60 points and a far pair: k-means gives the pair its own component, whose
  // maximum-likelihood covariance has rank 1 (reg_covar = 0).
  Eigen::MatrixXd centres = Eigen::MatrixXd::Zero(2, 5);
  centres(1, 0) = 8;
  Eigen::MatrixXd X(122, 5);
  X.topRows(120) = clusters(centres, 60, 1.0, 5);
  X.row(120) = Eigen::RowVectorXd::Constant(5, 40.0);
  X.row(121) = X.row(120) + Eigen::RowVectorXd::LinSpaced(5, 0.1, 0.5);
  for (CovarianceType type : {CovarianceType::Full, CovarianceType::Diagonal, CovarianceType::Spherical}) {
    INFO(gaussmix::to_string(type));
    Options o;
    o.n_components = 3;
    o.covariance_type = type;
    o.reg_covar = 0;
    if (type == CovarianceType::Full) {
      gaussmix::GaussianMixture<double> ml(o);
      CHECK_THROWS_AS(ml.fit(X), gaussmix::NumericalError);
      CHECK_FALSE(ml.is_fitted());
    }
    if (type == CovarianceType::Diagonal) {  // two points differ in every coordinate: the ML variances are
      Eigen::MatrixXd flat = X;              // positive; make them equal in one coordinate
      flat(121, 4) = flat(120, 4);
      gaussmix::GaussianMixture<double> ml(o);
      CHECK_THROWS_AS(ml.fit(flat), gaussmix::NumericalError);
      o.prior = ConjugatePrior{};
      gaussmix::GaussianMixture<double> map(o);
      map.fit(flat);
      for (int k = 0; k < 3; ++k) CHECK(positive_definite(map.covariance(k)));
      continue;
    }
    o.prior = ConjugatePrior{};
    gaussmix::GaussianMixture<double> map(o);
    const FitResult result = map.fit(X);
    CHECK(std::isfinite(result.lower_bound));
    CHECK(map.means().allFinite());
    int on_pair = -1;
    for (int k = 0; k < 3; ++k) {
      CHECK(positive_definite(map.covariance(k)));
      if (map.means()(k, 0) > 30) on_pair = k;
    }
    CHECK(on_pair >= 0);  // the pair keeps its component, now with an SPD covariance
  }
  // Warm start from parameters that put a component on the pair: the first ML M-step fails, MAP does not.
  Options o;
  o.n_components = 3;
  o.reg_covar = 0;
  o.warm_start = true;
  o.max_iter = 5;
  Eigen::MatrixXd means(3, 5);
  means << Eigen::RowVectorXd::Zero(5), centres.row(1), X.row(120);
  const std::vector<Eigen::MatrixXd> start(3, Eigen::MatrixXd::Identity(5, 5));
  gaussmix::GaussianMixture<double> ml(o);
  ml.set_parameters(Eigen::Vector3d(0.45, 0.45, 0.1), means, start);
  CHECK_THROWS_AS(ml.fit(X), gaussmix::NumericalError);
  CHECK(ml.means() == means);  // unchanged by the failed fit
  o.prior = ConjugatePrior{};
  gaussmix::GaussianMixture<double> map(o);
  map.set_parameters(Eigen::Vector3d(0.45, 0.45, 0.1), means, start);
  map.fit(X);
  CHECK(positive_definite(map.covariance(2)));
}

TEST_CASE("map prior: the log posterior never decreases", "[map][invariant]") {
  // reg_covar = 0: the MAP M-step is then the exact maximiser, and EM's guarantee holds to rounding.
  Eigen::MatrixXd centres(4, 3);
  centres << 0, 0, 0, 3, 0, 1, 0, 3, -1, 2, 2, 2;
  const Eigen::MatrixXd X = clusters(centres, 80, 1.0, 17);
  int runs = 0;
  for (CovarianceType type : kTypes)
    for (std::uint64_t seed = 0; seed < 8; ++seed) {
      INFO(gaussmix::to_string(type) << ", seed " << seed);
      Options o;
      o.n_components = 3 + static_cast<int>(seed % 3);
      o.covariance_type = type;
      o.reg_covar = 0;
      o.tol = 0;
      o.max_iter = 60;
      o.seed = seed;
      o.init_params = seed % 2 ? gaussmix::InitMethod::Random : gaussmix::InitMethod::KMeansPlusPlus;
      ConjugatePrior prior;
      if (seed % 4 == 3) prior.shrinkage = 2.0;  // a strong pull too
      o.prior = prior;
      gaussmix::GaussianMixture<double> model(o);
      const FitResult result = model.fit(X);
      for (std::size_t i = 1; i < result.history.size(); ++i)
        REQUIRE(result.history[i] >= result.history[i - 1] - 1e-12 * std::abs(result.history[i - 1]));
      ++runs;
    }
  CHECK(runs == 32);
}

TEST_CASE("map prior: an empty prior is the maximum-likelihood M-step, bit for bit", "[map]") {
  // fit with Options::prior empty against EM written out with maximise (the ML M-step), same start.
  Eigen::MatrixXd centres(3, 2);
  centres << 0, 0, 4, 0, 0, 4;
  const Eigen::MatrixXd X = clusters(centres, 100, 1.0, 23);
  for (CovarianceType type : kTypes) {
    INFO(gaussmix::to_string(type));
    Options o;
    o.n_components = 3;
    o.covariance_type = type;
    o.warm_start = true;
    o.tol = 0;
    o.max_iter = 10;
    const std::vector<Eigen::MatrixXd> start(3, Eigen::MatrixXd::Identity(2, 2));
    gaussmix::GaussianMixture<double> model(o);
    model.set_parameters(Eigen::Vector3d(0.3, 0.3, 0.4), centres * 0.8, start);
    const FitResult result = model.fit(X);
    gaussmix::Parameters<double> p;
    p.weights = Eigen::Vector3d(0.3, 0.3, 0.4);
    p.means = centres * 0.8;
    p.covariances = gaussmix::Covariances<double>::from_dense(type, 2, start);
    gaussmix::BlockedExpectation<double, Eigen::Dynamic, Eigen::MatrixXd> expectation(X, nullptr, 3);
    gaussmix::SufficientStatistics<> stats;
    const gaussmix::FixedParameters fixed = gaussmix::FixedParameters::from(o);
    for (int i = 0; i < o.max_iter; ++i) {
      stats.reset(type, p.means);
      expectation(p, stats);
      REQUIRE(result.history[static_cast<std::size_t>(i)] == stats.log_likelihood / stats.total_weight);
      p = gaussmix::maximise<double, Eigen::Dynamic>(stats, o.reg_covar, &p, &fixed);
    }
    REQUIRE(model.weights() == p.weights);
    REQUIRE(model.means() == p.means);
    for (int k = 0; k < 3; ++k) REQUIRE(model.covariance(k) == p.covariances.dense(k));
    CHECK_FALSE(model.resolved_prior().has_value());
  }
}

TEST_CASE("map prior: fit_source, threads and partial_fit share the MAP M-step", "[map][stream]") {
  Eigen::MatrixXd centres(3, 3);
  centres << 0, 0, 0, 4, 1, 0, 1, 4, 2;
  Eigen::MatrixXd X = clusters(centres, 150, 1.0, 31);
  X.array() += 1e4;  // offset data: the prior's mean and the moments must keep their digits
  for (CovarianceType type : kTypes) {
    INFO(gaussmix::to_string(type));
    Options o;
    o.n_components = 3;
    o.covariance_type = type;
    o.tol = 0;
    o.max_iter = 25;
    o.prior = ConjugatePrior{};
    gaussmix::GaussianMixture<double> in_memory(o), streamed(o);
    const FitResult a = in_memory.fit(X);
    gaussmix::StreamOptions stream;
    stream.reservoir_size = X.rows();  // the whole data: the same initialisation as fit
    const FitResult b = gaussmix::fit_source(streamed, gaussmix::MatrixSource(X, 37), stream);
    REQUIRE(a.history.size() == b.history.size());
    for (std::size_t i = 0; i < a.history.size(); ++i)
      CHECK(std::abs(a.history[i] - b.history[i]) <= 1e-12 * std::abs(a.history[i]));
    check_close("weights", streamed.weights(), in_memory.weights(), 1e-12);
    check_close("means", streamed.means(), in_memory.means(), 1e-12);
    for (int k = 0; k < 3; ++k) check_close("covariance", streamed.covariance(k), in_memory.covariance(k), 1e-12);
    check_close("prior mean", streamed.resolved_prior()->mean, in_memory.resolved_prior()->mean, 1e-12);
    check_close("prior scale", streamed.resolved_prior()->scale, in_memory.resolved_prior()->scale, 1e-12);
    // The default prior mean is the data's mean, from the E-step's statistics.
    check_close("prior mean = mean of X", Eigen::VectorXd(in_memory.resolved_prior()->mean.transpose()),
                Eigen::VectorXd(X.colwise().mean().transpose()), 1e-13);
#ifdef _OPENMP
    const int saved = omp_get_max_threads();
    for (int threads : {1, 3}) {
      omp_set_num_threads(threads);
      gaussmix::GaussianMixture<double> threaded(o);
      threaded.fit(X);
      require_same(threaded, in_memory);
    }
    omp_set_num_threads(saved);
#endif
    // partial_fit's first update after fit is one MAP EM iteration (rho = 1) with the fit's prior.
    Options warm = o;
    warm.warm_start = true;
    warm.max_iter = 1;
    gaussmix::GaussianMixture<double> online = in_memory, one_step(warm);
    online.partial_fit(X);
    one_step.set_parameters(in_memory.weights(), in_memory.means(), in_memory.covariances());
    one_step.fit(X);
    check_close("partial_fit means", online.means(), one_step.means(), 1e-12);
    for (int k = 0; k < 3; ++k)
      check_close("partial_fit covariance", online.covariance(k), one_step.covariance(k), 1e-12);
  }
}

TEST_CASE("map prior: invalid priors throw std::invalid_argument naming the field", "[map][errors]") {
  const auto message_of = [](auto&& call) -> std::string {
    try {
      call();
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "(no std::invalid_argument)";
  };
  const auto starts_and_names = [](const std::string& message, const std::string& field) {
    INFO(message);
    CHECK(message.rfind("gaussmix:", 0) == 0);
    CHECK(message.find(field) != std::string::npos);
  };
  // Checks that need no data: in the constructor.
  for (double bad : {0.0, -1.0, std::numeric_limits<double>::quiet_NaN()}) {
    Options o;
    o.prior = ConjugatePrior{};
    o.prior->shrinkage = bad;
    starts_and_names(message_of([&] { gaussmix::GaussianMixture<double> m(o); }), "Options::prior.shrinkage");
  }
  {
    Options o;
    o.prior = ConjugatePrior{};
    o.n_components = 2;
    o.fixed_weights = {0};
    starts_and_names(message_of([&] { gaussmix::GaussianMixture<double> m(o); }), "Options::prior");
    o.fixed_weights.clear();
    starts_and_names(message_of([&] { gaussmix::BayesianGaussianMixture<double> m(o); }), "Options::prior");
  }
  // Checks against the data's d and the covariance type: in fit, which then leaves the model as it was.
  Eigen::MatrixXd centres(2, 3);
  centres << 0, 0, 0, 3, 3, 3;
  const Eigen::MatrixXd X = clusters(centres, 40, 1.0, 41);
  struct Bad {
    CovarianceType type;
    ConjugatePrior prior;
    const char* field;
  };
  std::vector<Bad> cases;
  const auto with = [](auto set) {
    ConjugatePrior p;
    set(p);
    return p;
  };
  cases.push_back({CovarianceType::Full, with([](ConjugatePrior& p) { p.degrees_of_freedom = 2.0; }),
                   "Options::prior.degrees_of_freedom"});
  cases.push_back({CovarianceType::Full, with([](ConjugatePrior& p) { p.mean = Eigen::VectorXd::Zero(2); }),
                   "Options::prior.mean"});
  cases.push_back({CovarianceType::Full, with([](ConjugatePrior& p) { p.scale = Eigen::MatrixXd::Identity(2, 2); }),
                   "Options::prior.scale"});
  cases.push_back({CovarianceType::Tied, with([](ConjugatePrior& p) { p.scale = -Eigen::MatrixXd::Identity(3, 3); }),
                   "Options::prior.scale"});
  cases.push_back({CovarianceType::Full, with([](ConjugatePrior& p) {
                     Eigen::MatrixXd s = Eigen::MatrixXd::Identity(3, 3);
                     s(0, 1) = 0.5;  // not symmetric
                     p.scale = s;
                   }),
                   "Options::prior.scale"});
  cases.push_back({CovarianceType::Diagonal, with([](ConjugatePrior& p) {
                     p.scale = Eigen::MatrixXd::Constant(3, 3, 0.1) + Eigen::MatrixXd::Identity(3, 3);
                   }),
                   "Options::prior.scale"});
  cases.push_back({CovarianceType::Spherical,
                   with([](ConjugatePrior& p) { p.scale = Eigen::Vector3d(1, 2, 3).asDiagonal().toDenseMatrix(); }),
                   "Options::prior.scale"});
  for (const Bad& bad : cases) {
    INFO(gaussmix::to_string(bad.type) << ", " << bad.field);
    Options o;
    o.n_components = 2;
    o.covariance_type = bad.type;
    o.prior = bad.prior;
    gaussmix::GaussianMixture<double> model(o);
    starts_and_names(message_of([&] { model.fit(X); }), bad.field);
    CHECK_FALSE(model.is_fitted());
  }
}

}  // namespace gaussmix_test_map_prior
