// SPDX-License-Identifier: MIT
// gaussmix/io.hpp for BayesianGaussianMixture: save_json -> load_bayesian_json gives back the model
// bit for bit (the posterior, the precision factors, the priors, the options) for the four covariance
// types and both weight priors, float and double, so that the loaded model scores exactly as the
// original and continues a warm-started fit identically; a GaussianMixture file and a damaged file are
// refused with a FormatError naming the problem.

#include <gaussmix/gaussmix.hpp>
#include <gaussmix/io.hpp>

#include <Eigen/Dense>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <typeinfo>
#include <vector>

// A namespace of its own: the tests build as a few unity translation units (tests/CMakeLists.txt).
namespace gaussmix_test_bayesian_io {

namespace {

using gaussmix::CovarianceType;
using gaussmix::FormatError;
using gaussmix::Options;
using gaussmix::WeightPrior;
using json = nlohmann::json;
using BayesXd = gaussmix::BayesianGaussianMixture<double>;

const CovarianceType kAllTypes[] = {CovarianceType::Full, CovarianceType::Diagonal, CovarianceType::Spherical,
                                    CovarianceType::Tied};
const WeightPrior kBothPriors[] = {WeightPrior::DirichletProcess, WeightPrior::DirichletDistribution};

// Bit-for-bit equality of two Eigen objects (distinguishes -0.0 from 0.0, unlike ==).
template <class A, class B>
bool same_bits(const A& a, const B& b) {
  using Scalar = typename A::Scalar;
  static_assert(std::is_same_v<Scalar, typename B::Scalar>);
  if (a.rows() != b.rows() || a.cols() != b.cols()) return false;
  for (Eigen::Index i = 0; i < a.rows(); ++i)
    for (Eigen::Index j = 0; j < a.cols(); ++j) {
      const Scalar x = a(i, j), y = b(i, j);
      if (std::memcmp(&x, &y, sizeof(Scalar)) != 0) return false;
    }
  return true;
}

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof(double)) == 0; }

bool same_optional(const std::optional<double>& a, const std::optional<double>& b) {
  return a.has_value() == b.has_value() && (!a || same_bits(*a, *b));
}
template <class M>
bool same_optional(const std::optional<M>& a, const std::optional<M>& b) {
  return a.has_value() == b.has_value() && (!a || same_bits(*a, *b));
}

bool same_priors(const gaussmix::BayesianPriors& a, const gaussmix::BayesianPriors& b) {
  return a.weight_prior == b.weight_prior && same_optional(a.weight_concentration, b.weight_concentration) &&
         same_optional(a.mean_precision, b.mean_precision) && same_optional(a.mean, b.mean) &&
         same_optional(a.degrees_of_freedom, b.degrees_of_freedom) && same_optional(a.covariance, b.covariance);
}

// Everything the model holds, bit for bit: the public parameters, the posterior, the E-step's
// constants and precision factors, the priors and the lower bound.
template <class M>
bool same_model(const M& a, const M& b) {
  if (!same_bits(a.weights(), b.weights()) || !same_bits(a.means(), b.means())) return false;
  for (int k = 0; k < a.n_components(); ++k)
    if (!same_bits(a.covariance(k), b.covariance(k))) return false;
  const auto& p = a.posterior();
  const auto& q = b.posterior();
  if (!same_bits(p.weight_concentration, q.weight_concentration) || !same_bits(p.mean_precision, q.mean_precision) ||
      !same_bits(p.degrees_of_freedom, q.degrees_of_freedom) || !same_bits(p.weights, q.weights) ||
      !same_bits(p.expectation.weights, q.expectation.weights) || !same_bits(p.expectation.means, q.expectation.means) ||
      !same_bits(p.log_weight_offset, q.log_weight_offset))
    return false;
  const auto& c = p.expectation.covariances;
  const auto& e = q.expectation.covariances;
  for (int k = 0; k < a.n_components(); ++k) {
    const auto ldc = c.log_det_precision_factor(k), lde = e.log_det_precision_factor(k);
    if (std::memcmp(&ldc, &lde, sizeof(ldc)) != 0) return false;
    if (c.type() == CovarianceType::Full || c.type() == CovarianceType::Tied) {
      if (!same_bits(c.precision_factor(k), e.precision_factor(k))) return false;
    }
  }
  if (!same_bits(c.inverse_standard_deviations(), e.inverse_standard_deviations())) return false;
  return same_bits(a.lower_bound(), b.lower_bound()) && same_priors(a.priors(), b.priors()) &&
         same_priors(a.resolved_priors(), b.resolved_priors());
}

bool same_options(const Options& a, const Options& b) {
  return a.n_components == b.n_components && a.covariance_type == b.covariance_type && a.tol == b.tol &&
         a.reg_covar == b.reg_covar && a.max_iter == b.max_iter && a.n_init == b.n_init &&
         a.init_params == b.init_params && a.seed == b.seed && a.warm_start == b.warm_start;
}

bool same_fit(const gaussmix::FitResult& a, const gaussmix::FitResult& b) {
  if (a.converged != b.converged || a.n_iter != b.n_iter || a.history.size() != b.history.size()) return false;
  for (std::size_t i = 0; i < a.history.size(); ++i)
    if (!same_bits(a.history[i], b.history[i])) return false;
  return same_bits(a.lower_bound, b.lower_bound);
}

// Four well separated blobs in d dimensions, fixed seed.
Eigen::MatrixXd blobs(int d, Eigen::Index n, std::uint64_t seed) {
  Options options;
  options.n_components = 4;
  gaussmix::GaussianMixtureXd truth(options);
  Eigen::MatrixXd means = Eigen::MatrixXd::Zero(4, d);
  means.row(1).setConstant(5.0);
  means(2, 0) = -4.0;
  means(3, d - 1) = 8.0;
  std::vector<Eigen::MatrixXd> covs;
  for (int k = 0; k < 4; ++k) {
    Eigen::MatrixXd c = Eigen::MatrixXd::Identity(d, d) * (0.5 + 0.3 * k);
    for (int i = 0; i + 1 < d; ++i) c(i, i + 1) = c(i + 1, i) = 0.15 * (k - 1);
    covs.push_back(c);
  }
  truth.set_parameters(Eigen::Vector4d(0.2, 0.3, 0.35, 0.15), means, covs);
  return truth.sample(n, seed);
}

template <class Model>
Options bayes_options(CovarianceType type) {
  Options options;
  options.n_components = 6;  // more than the 4 blobs: some components switch off
  options.covariance_type = type;
  options.seed = 11;
  options.tol = 1e-4;
  options.reg_covar = 3e-6;
  options.max_iter = 60;
  options.n_init = 2;
  options.init_params = gaussmix::InitMethod::KMeansPlusPlus;
  options.warm_start = true;  // a cold first fit, then the saved and loaded models both continue
  return options;
}

template <class Model>
using ScalarOf = typename Model::Weights::Scalar;
template <class Model>
constexpr int dim_of() {
  return Model::Vector::RowsAtCompileTime == Eigen::Dynamic ? 3 : Model::Vector::RowsAtCompileTime;
}

template <class Model>
std::string saved_text(const Model& model) {
  std::ostringstream out;
  gaussmix::save_json(model, out);
  return out.str();
}

template <class Model>
Model loaded(const std::string& text) {
  std::istringstream in(text);
  return gaussmix::load_bayesian_json<ScalarOf<Model>, Model::Vector::RowsAtCompileTime>(in);
}

// Requires `call` to throw exactly `Exception`, with a message starting `prefix` and containing every
// string of `parts`.
template <class Exception = FormatError>
void require_error(const std::function<void()>& call, std::initializer_list<const char*> parts,
                   const char* prefix = "gaussmix: load_bayesian_json:") {
  try {
    call();
  } catch (const std::exception& e) {
    const std::string what = e.what();
    INFO("what(): " << what);
    CHECK(typeid(e) == typeid(Exception));
    CHECK(what.rfind(prefix, 0) == 0);
    for (const char* part : parts) {
      INFO("expected the message to contain \"" << part << "\"");
      CHECK(what.find(part) != std::string::npos);
    }
    return;
  }
  FAIL("did not throw");
}

// The round trip of one fitted model: the same model bit for bit, the same text when saved again,
// exactly the same scores, and the same continued fit and m_step.
template <class Model>
void check_round_trip(Model& original, const Eigen::Ref<const Eigen::Matrix<ScalarOf<Model>, -1, -1>>& X) {
  using Scalar = ScalarOf<Model>;
  const std::string text = saved_text(original);
  INFO(text);
  Model copy = loaded<Model>(text);
  CHECK(copy.covariance_type() == original.covariance_type());
  CHECK(copy.n_components() == original.n_components());
  CHECK(copy.n_features() == original.n_features());
  CHECK(same_options(copy.options(), original.options()));
  CHECK(same_model(original, copy));
  CHECK(saved_text(copy) == text);

  CHECK(same_bits(original.score_samples(X), copy.score_samples(X)));
  CHECK(same_bits(original.predict_proba(X), copy.predict_proba(X)));
  CHECK(original.predict(X) == copy.predict(X));
  const Scalar s0 = original.score(X), s1 = copy.score(X);
  CHECK(std::memcmp(&s0, &s1, sizeof(Scalar)) == 0);
  CHECK(original.active_components() == copy.active_components());

  // warm_start: both continue from the saved posterior, on other data of the same d.
  const auto more = blobs(original.n_features(), 240, 99).template cast<Scalar>().eval();
  Model a = original, b = copy;
  const gaussmix::FitResult ra = a.fit(more);
  const gaussmix::FitResult rb = b.fit(more);
  CHECK(same_fit(ra, rb));
  CHECK(same_model(a, b));
  // m_step on a fitted model uses the resolved priors, which the file kept.
  typename Model::Responsibilities resp;
  original.e_step(more, resp);
  Model c = original, e = copy;
  c.m_step(more, resp);
  e.m_step(more, resp);
  CHECK(same_model(c, e));
}

template <class Model>
void round_trips() {
  using Scalar = ScalarOf<Model>;
  constexpr int d = dim_of<Model>();
  const auto X = blobs(d, 400, 5).template cast<Scalar>().eval();
  for (const CovarianceType type : kAllTypes)
    for (const WeightPrior prior : kBothPriors) {
      SECTION(std::string(gaussmix::to_string(type)) + ", " + gaussmix::to_string(prior)) {
        gaussmix::BayesianPriors priors;
        priors.weight_prior = prior;
        Model original(bayes_options<Model>(type), priors);
        const gaussmix::FitResult fit = original.fit(X);
        REQUIRE(fit.n_iter > 0);
        check_round_trip(original, X);
      }
    }
}

}  // namespace

TEST_CASE("Bayesian save_json -> load_bayesian_json: bit for bit, double, dynamic d", "[io][bayesian]") {
  round_trips<gaussmix::BayesianGaussianMixture<double>>();
}
TEST_CASE("Bayesian save_json -> load_bayesian_json: bit for bit, double, d = 2", "[io][bayesian]") {
  round_trips<gaussmix::BayesianGaussianMixture<double, 2>>();
}
TEST_CASE("Bayesian save_json -> load_bayesian_json: bit for bit, float, dynamic d", "[io][bayesian]") {
  round_trips<gaussmix::BayesianGaussianMixture<float>>();
}
TEST_CASE("Bayesian save_json -> load_bayesian_json: bit for bit, float, d = 3", "[io][bayesian]") {
  round_trips<gaussmix::BayesianGaussianMixture<float, 3>>();
}

TEST_CASE("Bayesian round trip with every prior given, and after m_step alone", "[io][bayesian]") {
  using Model = BayesXd;
  const Eigen::MatrixXd X = blobs(3, 300, 8);
  for (const CovarianceType type : kAllTypes) {
    SECTION(gaussmix::to_string(type)) {
      gaussmix::BayesianPriors priors;
      priors.weight_prior = WeightPrior::DirichletDistribution;
      priors.weight_concentration = 0.3;
      priors.mean_precision = 0.7;
      priors.degrees_of_freedom = 4.5;
      priors.mean = Eigen::Vector3d(1.0, -0.5, 0.25);
      Eigen::Matrix3d c = Eigen::Matrix3d::Identity() * 1.5;
      if (type == CovarianceType::Full || type == CovarianceType::Tied) c(0, 1) = c(1, 0) = 0.4;
      if (type == CovarianceType::Diagonal) c(2, 2) = 0.9;
      priors.covariance = Eigen::MatrixXd(c);
      Model fitted(bayes_options<Model>(type), priors);
      fitted.fit(X);
      check_round_trip(fitted, X);

      // m_step alone: no lower bound yet (-inf, left out of the file); warm_start continues from it.
      Options options = bayes_options<Model>(type);
      options.n_components = 3;
      Model started(options, priors);
      Model::Responsibilities resp = Model::Responsibilities::Zero(X.rows(), 3);
      for (Eigen::Index i = 0; i < X.rows(); ++i) resp(i, i % 3) = 1;
      started.m_step(X, resp);
      REQUIRE(started.lower_bound() == -std::numeric_limits<double>::infinity());
      CHECK_FALSE(json::parse(saved_text(started)).contains("lower_bound"));
      check_round_trip(started, X);
    }
  }
}

TEST_CASE("Bayesian model file: fields, shapes and files on disk", "[io][bayesian]") {
  using Model = BayesXd;
  const Eigen::MatrixXd X = blobs(2, 300, 3);
  gaussmix::BayesianPriors priors;
  priors.mean_precision = 0.5;
  Model model(bayes_options<Model>(CovarianceType::Full), priors);
  const gaussmix::FitResult fit = model.fit(X);
  const std::string path = "gaussmix_test_bayesian_io_model.json";
  gaussmix::save_json(model, path, fit);
  CHECK(same_model(gaussmix::load_bayesian_json(path), model));

  std::ifstream in(path);
  const json doc = json::parse(in);
  CHECK(doc["format"] == "gaussmix-bayesian-model");
  CHECK(doc["version"] == 1);
  CHECK(doc["covariance_type"] == "full");
  CHECK(doc["n_components"] == 6);
  CHECK(doc["weight_concentration"].size() == 2);  // scikit-learn's tuple of two arrays of K
  CHECK(doc["weight_concentration"][1].size() == 6);
  CHECK(doc["weight_concentration"][1][5].get<double>() == model.weight_concentration()(5, 1));
  CHECK(doc["mean_precision"].size() == 6);
  CHECK(doc["degrees_of_freedom"][2].get<double>() == model.degrees_of_freedom()(2));
  CHECK(doc["precisions_cholesky"].size() == 6);
  CHECK(doc["precisions_cholesky"][0][0][1].get<double>() ==
        model.posterior().expectation.covariances.precision_factor(0)(0, 1));
  CHECK(doc["precisions_cholesky"][0][1][0].get<double>() == 0.0);  // upper triangular, as scikit-learn's
  CHECK(doc["lower_bound"].get<double>() == model.lower_bound());
  CHECK(doc["priors"] == json({{"weight_prior", "dirichlet_process"}, {"mean_precision", 0.5}}));
  CHECK(doc["resolved_priors"]["mean_precision"] == 0.5);
  CHECK(doc["resolved_priors"]["weight_concentration"].get<double>() == 1.0 / 6);
  CHECK(doc["resolved_priors"]["degrees_of_freedom"] == 2.0);
  CHECK(doc["resolved_priors"]["covariance"].size() == 2);
  CHECK(doc["fit"]["n_iter"] == fit.n_iter);
  std::remove(path.c_str());

  Model dirichlet(bayes_options<Model>(CovarianceType::Spherical),
                  gaussmix::BayesianPriors{WeightPrior::DirichletDistribution, {}, {}, {}, {}, {}});
  dirichlet.fit(X);
  const json d2 = json::parse(saved_text(dirichlet));
  CHECK(d2["weight_concentration"].size() == 6);  // one array of K
  CHECK(d2["covariances"].size() == 6);
  CHECK(d2["covariances"][0].is_number());
  CHECK(d2["precisions_cholesky"][3].get<double>() ==
        dirichlet.posterior().expectation.covariances.inverse_standard_deviations()(3, 0));

  require_error<std::runtime_error>([&] { gaussmix::load_bayesian_json("no/such/dir/model.json"); },
                                    {"cannot open", "no/such/dir/model.json"});
  require_error<std::logic_error>(
      [&] {
        std::ostringstream out;
        gaussmix::save_json(Model(bayes_options<Model>(CovarianceType::Full)), out);
      },
      {"no posterior"}, "gaussmix: save_json:");
}

TEST_CASE("A GaussianMixture file loaded as Bayesian, and a Bayesian one as GaussianMixture, are refused", "[io][bayesian]") {
  const Eigen::MatrixXd X = blobs(2, 200, 4);
  Options options;
  options.n_components = 3;
  gaussmix::GaussianMixtureXd point(options);
  point.fit(X);
  BayesXd bayes(options);
  bayes.fit(X);
  const std::string point_text = saved_text(point), bayes_text = saved_text(bayes);

  require_error([&] { loaded<BayesXd>(point_text); },
                {"holds a GaussianMixture", "\"gaussmix-model\"", "not a BayesianGaussianMixture", "load_json"});
  require_error(
      [&] {
        std::istringstream in(bayes_text);
        gaussmix::load_json(in);
      },
      {"holds a BayesianGaussianMixture", "\"gaussmix-bayesian-model\"", "not a GaussianMixture", "load_bayesian_json"},
      "gaussmix: load_json:");
  // Through a file, the file is named.
  const std::string path = "gaussmix_test_bayesian_io_point.json";
  gaussmix::save_json(point, path);
  require_error([&] { gaussmix::load_bayesian_json(path); }, {path.c_str(), "holds a GaussianMixture"});
  std::remove(path.c_str());
}

TEST_CASE("load_bayesian_json refuses damaged files with a clear FormatError and builds nothing", "[io][bayesian]") {
  using Model = BayesXd;
  const Eigen::MatrixXd X = blobs(2, 300, 6);
  Model source(bayes_options<Model>(CovarianceType::Full));
  source.fit(X);
  const std::string good = saved_text(source);
  const json good_doc = json::parse(good);

  // A model the caller already has; a failed `model = load_bayesian_json(...)` must leave it untouched.
  Model model = source;
  auto require_refused = [&](const std::string& text, std::initializer_list<const char*> parts) {
    INFO("file:\n" << text);
    require_error([&] {
      std::istringstream in(text);
      model = gaussmix::load_bayesian_json(in);
    }, parts);
    CHECK(same_model(model, source));
  };
  auto edited = [&](const std::function<void(json&)>& edit) {
    json doc = good_doc;
    edit(doc);
    return doc.dump(1);
  };

  SECTION("not JSON, truncated, wrong format or version") {
    require_refused("this is not json", {"not a valid JSON document"});
    require_refused(good.substr(0, good.size() / 2), {"not a valid JSON document", "truncated"});
    require_refused(good + "{}", {"not a valid JSON document"});
    require_refused("[1, 2]", {"not a model object"});
    require_refused(edited([](json& j) { j.erase("format"); }), {"no \"format\" field", "gaussmix-bayesian-model"});
    require_refused(edited([](json& j) { j["format"] = "sklearn"; }), {"\"format\" is \"sklearn\"", "gaussmix-bayesian-model"});
    require_refused(edited([](json& j) { j["version"] = 2; }), {"unsupported \"version\" 2"});
  }
  SECTION("missing fields") {
    for (const char* field : {"covariance_type", "n_components", "n_features", "weights", "means", "covariances",
                              "weight_concentration", "mean_precision", "degrees_of_freedom", "priors",
                              "resolved_priors"}) {
      INFO(field);
      require_refused(edited([&](json& j) { j.erase(field); }), {field, "is missing"});
    }
    for (const char* field : {"weight_prior", "weight_concentration", "mean_precision", "mean", "degrees_of_freedom",
                              "covariance"}) {
      INFO(field);
      require_refused(edited([&](json& j) { j["resolved_priors"].erase(field); }),
                      {"\"resolved_priors\".", field, "is missing"});
    }
    require_refused(edited([](json& j) { j["priors"].erase("weight_prior"); }), {"\"priors\".weight_prior is missing"});
    // The optional ones: the loaded model is the same without them.
    const std::string lean = edited([](json& j) {
      j.erase("precisions_cholesky");
      j.erase("options");
      j["options"] = {{"n_init", 1}};
    });
    std::istringstream in(lean);
    const Model loaded_lean = gaussmix::load_bayesian_json(in);
    CHECK(same_bits(loaded_lean.score_samples(X), source.score_samples(X)));
    CHECK(loaded_lean.options().n_init == 1);
  }
  SECTION("shapes inconsistent with K, d and the weight prior") {
    require_refused(edited([](json& j) { j["weight_concentration"] = j["weight_concentration"][0]; }),
                    {"\"weight_concentration\"", "2 arrays of n_components = 6 numbers", "dirichlet_process"});
    require_refused(edited([](json& j) { j["weight_concentration"][1].erase(0); }),
                    {"\"weight_concentration\"[1]", "got an array of 5"});
    require_refused(edited([](json& j) { j["priors"]["weight_prior"] = "dirichlet_distribution"; }),
                    {"\"resolved_priors\".weight_prior differs"});
    require_refused(edited([](json& j) {
      j["priors"]["weight_prior"] = j["resolved_priors"]["weight_prior"] = "dirichlet_distribution";
    }), {"\"weight_concentration\"", "(for \"dirichlet_distribution\")", "got an array of 2"});
    require_refused(edited([](json& j) { j["priors"]["weight_prior"] = "dp"; }),
                    {"\"priors\".weight_prior is \"dp\"", "dirichlet_process"});
    require_refused(edited([](json& j) { j["mean_precision"].push_back(1.0); }), {"\"mean_precision\"", "got an array of 7"});
    require_refused(edited([](json& j) { j["degrees_of_freedom"] = 3.0; }), {"\"degrees_of_freedom\"", "got number"});
    require_refused(edited([](json& j) { j["resolved_priors"]["mean"].push_back(0.0); }),
                    {"\"resolved_priors\".mean", "n_features = 2", "got an array of 3"});
    require_refused(edited([](json& j) { j["resolved_priors"]["covariance"][1].erase(0); }),
                    {"\"resolved_priors\".covariance[1]", "got an array of 1"});
    require_refused(edited([](json& j) { j["precisions_cholesky"][2] = 1.0; }),
                    {"\"precisions_cholesky\"[2]", "got number"});
    require_refused(edited([](json& j) { j["means"][1].push_back(0.0); }), {"\"means\"[1]", "got an array of 3"});
  }
  SECTION("values out of range") {
    require_refused(edited([](json& j) { j["weight_concentration"][0][3] = 0.0; }),
                    {"weight_concentration must be finite and > 0"});
    require_refused(edited([](json& j) { j["mean_precision"][0] = -1.0; }), {"mean_precision must be finite and > 0"});
    require_refused(edited([](json& j) { j["degrees_of_freedom"][4] = 0.5; }),
                    {"degrees_of_freedom must be finite and > d - 1 = 1"});
    require_refused(edited([](json& j) { j["means"][0][0] = nullptr; }), {"\"means\"[0][0]", "must be a number"});
    require_refused(edited([](json& j) { j["lower_bound"] = "high"; }), {"\"lower_bound\"", "must be a number"});
    require_refused(edited([](json& j) { j["resolved_priors"]["mean_precision"] = 0.0; }),
                    {"resolved BayesianPriors::mean_precision", "> 0"});
    require_refused(edited([](json& j) { j["resolved_priors"]["degrees_of_freedom"] = 0.5; }),
                    {"resolved BayesianPriors::degrees_of_freedom", "> d - 1"});
    require_refused(edited([](json& j) { j["resolved_priors"]["covariance"] = {{1.0, 2.0}, {2.0, 1.0}}; }),
                    {"resolved BayesianPriors::covariance", "not positive definite"});
    require_refused(edited([](json& j) { j["priors"]["weight_concentration"] = -2.0; }),
                    {"BayesianPriors::weight_concentration", "> 0"});
    require_refused(edited([](json& j) { j["covariances"][1] = {{1.0, 2.0}, {2.0, 1.0}}; }),
                    {"covariance 1", "not positive definite"});
    require_refused(edited([](json& j) { j["options"]["tol"] = -1; }), {"Options::tol"});
    require_refused(edited([](json& j) { j["options"]["warm_start"] = 1; }), {"\"options\".warm_start"});
  }
  SECTION("derived fields that disagree with the posterior") {
    require_refused(edited([](json& j) {
      const double w0 = j["weights"][0], w1 = j["weights"][1];
      j["weights"][0] = w1;  // still sums to 1
      j["weights"][1] = w0;
    }), {"\"weights\"[0]", "is not the expected weight", "\"weight_concentration\""});
    require_refused(edited([](json& j) { j["precisions_cholesky"][3][0][0] = j["precisions_cholesky"][3][0][0].get<double>() * 1.01; }),
                    {"\"precisions_cholesky\"[3]", "not the Cholesky factor", "\"covariances\"[3]"});
  }
  SECTION("Tied: one degrees of freedom") {
    Model tied(bayes_options<Model>(CovarianceType::Tied));
    tied.fit(X);
    json doc = json::parse(saved_text(tied));
    doc["degrees_of_freedom"][2] = doc["degrees_of_freedom"][2].get<double>() + 1;
    require_error([&] {
      std::istringstream in(doc.dump());
      gaussmix::load_bayesian_json(in);
    }, {"degrees_of_freedom must be one value repeated", "Tied"});
  }
  SECTION("Dim of the model type differs from the file's n_features; a value too large for float") {
    require_error([&] {
      std::istringstream in(good);
      gaussmix::load_bayesian_json<double, 3>(in);
    }, {"\"n_features\" = 2", "Dim = 3"});
    std::istringstream in(good);
    CHECK_NOTHROW(gaussmix::load_bayesian_json<double, 2>(in));
    require_error([&] {
      std::istringstream big(edited([](json& j) { j["means"][0][1] = 1e300; }));
      gaussmix::load_bayesian_json<float>(big);
    }, {"\"means\"[0][1]", "not a finite float"});
  }
  // The unchanged good file still loads.
  std::istringstream in(good);
  CHECK(same_model(gaussmix::load_bayesian_json(in), source));
}

}  // namespace gaussmix_test_bayesian_io
