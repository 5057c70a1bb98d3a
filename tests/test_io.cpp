// SPDX-License-Identifier: MIT
// gaussmix/io.hpp: save_json -> load_json gives back the parameters bit for bit (four covariance
// types, float and double, fixed and dynamic Dim), and every damaged file is refused with a
// gaussmix::FormatError whose message starts with "gaussmix: load_json:", leaving the caller's
// model as it was.

#include <gaussmix/gaussmix.hpp>
#include <gaussmix/io.hpp>

#include <Eigen/Dense>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <sstream>
#include <stdexcept>
#include <string>
#include <typeinfo>
#include <vector>

// A namespace of its own: the tests build as a few unity translation units (tests/CMakeLists.txt).
namespace gaussmix_test_io {

namespace {

using gaussmix::CovarianceType;
using gaussmix::FormatError;
using gaussmix::Options;
using json = nlohmann::json;

const CovarianceType kAllTypes[] = {CovarianceType::Full, CovarianceType::Diagonal, CovarianceType::Spherical,
                                    CovarianceType::Tied};

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

template <class M>
bool same_parameters(const M& a, const M& b) {
  if (!same_bits(a.weights(), b.weights()) || !same_bits(a.means(), b.means())) return false;
  for (int k = 0; k < a.n_components(); ++k)
    if (!same_bits(a.covariance(k), b.covariance(k))) return false;
  return true;
}

// Three well separated blobs in d dimensions with correlated, unequal covariances, fixed seed.
Eigen::MatrixXd blobs(int d, Eigen::Index n = 300) {
  Options options;
  options.n_components = 3;
  gaussmix::GaussianMixtureXd truth(options);
  Eigen::MatrixXd means = Eigen::MatrixXd::Zero(3, d);
  means.row(1).setConstant(5.0);
  means(2, 0) = -4.0;
  std::vector<Eigen::MatrixXd> covs;
  for (int k = 0; k < 3; ++k) {
    Eigen::MatrixXd c = Eigen::MatrixXd::Identity(d, d) * (0.5 + 0.4 * k);
    for (int i = 0; i + 1 < d; ++i) c(i, i + 1) = c(i + 1, i) = 0.2 * (k - 1);
    covs.push_back(c);
  }
  truth.set_parameters(Eigen::Vector3d(0.2, 0.3, 0.5), means, covs);
  return truth.sample(n, 42);
}

template <class Model>
Model fitted(CovarianceType type, int d) {
  Options options;
  options.n_components = 3;
  options.covariance_type = type;
  options.seed = 7;
  options.tol = 1e-5;
  options.reg_covar = 2e-6;
  options.max_iter = 80;
  options.n_init = 2;
  options.init_params = gaussmix::InitMethod::KMeansPlusPlus;
  Model model(options);
  const auto X = blobs(d).cast<typename Model::Weights::Scalar>().eval();
  model.fit(X);
  return model;
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
  return gaussmix::load_json<typename Model::Weights::Scalar, Model::Vector::RowsAtCompileTime>(in);
}

// Requires `call` to throw exactly `Exception`, with a message starting "gaussmix: load_json:" (or
// `prefix`) and containing every string of `parts`.
template <class Exception = FormatError>
void require_load_error(const std::function<void()>& call, std::initializer_list<const char*> parts,
                        const char* prefix = "gaussmix: load_json:") {
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

}  // namespace

TEMPLATE_TEST_CASE("save_json -> load_json: identical parameters, options and predictions", "[io]",
                   gaussmix::GaussianMixtureXd, gaussmix::GaussianMixture2d, gaussmix::GaussianMixture3d,
                   gaussmix::GaussianMixtureXf, gaussmix::GaussianMixture2f, gaussmix::GaussianMixture3f) {
  using Model = TestType;
  using Scalar = typename Model::Weights::Scalar;
  constexpr int d = Model::Vector::RowsAtCompileTime == Eigen::Dynamic ? 4 : Model::Vector::RowsAtCompileTime;
  for (const CovarianceType type : kAllTypes) {
    SECTION(gaussmix::to_string(type)) {
      const Model original = fitted<Model>(type, d);
      REQUIRE(original.is_fitted());
      const std::string text = saved_text(original);
      INFO(text);
      const Model copy = loaded<Model>(text);

      CHECK(copy.covariance_type() == type);
      CHECK(copy.n_components() == 3);
      CHECK(copy.n_features() == d);
      CHECK(same_parameters(original, copy));
      const Options& a = original.options();
      const Options& b = copy.options();
      CHECK(a.tol == b.tol);
      CHECK(a.reg_covar == b.reg_covar);
      CHECK(a.max_iter == b.max_iter);
      CHECK(a.n_init == b.n_init);
      CHECK(a.init_params == b.init_params);
      CHECK(a.seed == b.seed);
      CHECK(a.warm_start == b.warm_start);

      // Saving the loaded model writes the same text.
      CHECK(saved_text(copy) == text);

      // The same densities: the loaded model recomputes its Cholesky factors from the saved
      // matrices (a fitted float model had them from the double estimates), so compare to rounding.
      const auto X = blobs(d, 50).cast<Scalar>().eval();
      const auto s0 = original.score_samples(X);
      const auto s1 = copy.score_samples(X);
      const double tol = std::is_same_v<Scalar, float> ? 1e-4 : 1e-12;
      CHECK((s0 - s1).cwiseAbs().maxCoeff() <= tol * (1 + s0.cwiseAbs().maxCoeff()));
      CHECK(original.predict(X) == copy.predict(X));
    }
  }
}

TEST_CASE("save_json and load_json through files, the fit outcome is recorded", "[io]") {
  const auto model = fitted<gaussmix::GaussianMixtureXd>(CovarianceType::Full, 3);
  const std::string path = "gaussmix_test_io_model.json";
  gaussmix::FitResult fit;
  fit.converged = true;
  fit.n_iter = 12;
  fit.lower_bound = -3.25;
  gaussmix::save_json(model, path, fit);
  const auto copy = gaussmix::load_json(path);
  CHECK(same_parameters(model, copy));

  std::ifstream in(path);
  const json doc = json::parse(in);
  CHECK(doc["format"] == "gaussmix-model");
  CHECK(doc["version"] == 1);
  CHECK(doc["covariance_type"] == "full");
  CHECK(doc["scalar"] == "double");
  CHECK(doc["fit"]["converged"] == true);
  CHECK(doc["fit"]["n_iter"] == 12);
  CHECK(doc["fit"]["lower_bound"] == -3.25);
  CHECK(doc["covariances"].size() == 3);
  CHECK(doc["covariances"][0].size() == 3);
  CHECK(doc["covariances"][0][0].size() == 3);
  std::remove(path.c_str());

  require_load_error<std::runtime_error>([&] { gaussmix::load_json("no/such/dir/model.json"); },
                                         {"cannot open", "no/such/dir/model.json"});
  require_load_error<std::runtime_error>([&] { gaussmix::save_json(model, "no/such/dir/model.json"); },
                                         {"cannot open", "no/such/dir/model.json"}, "gaussmix: save_json:");
}

TEST_CASE("covariances are written in scikit-learn's covariances_ shape for each type", "[io]") {
  const int d = 2;
  for (const CovarianceType type : kAllTypes) {
    SECTION(gaussmix::to_string(type)) {
      const auto model = fitted<gaussmix::GaussianMixtureXd>(type, d);
      const json doc = json::parse(saved_text(model));
      const json& c = doc["covariances"];
      CHECK(doc["covariance_type"] == gaussmix::to_string(type));
      CHECK(doc["n_components"] == 3);
      CHECK(doc["n_features"] == d);
      CHECK(doc["weights"].size() == 3);
      CHECK(doc["means"].size() == 3);
      CHECK(doc["means"][0].size() == d);
      switch (type) {
        case CovarianceType::Full:  // K x d x d
          REQUIRE(c.size() == 3);
          CHECK(c[2].size() == d);
          CHECK(c[2][1].size() == d);
          CHECK(c[2][1][0].get<double>() == model.covariance(2)(1, 0));
          break;
        case CovarianceType::Tied:  // d x d
          REQUIRE(c.size() == d);
          CHECK(c[1].size() == d);
          CHECK(c[1][0].get<double>() == model.covariance(0)(1, 0));
          break;
        case CovarianceType::Diagonal:  // K x d
          REQUIRE(c.size() == 3);
          CHECK(c[2].size() == d);
          CHECK(c[2][1].get<double>() == model.covariance(2)(1, 1));
          break;
        case CovarianceType::Spherical:  // K
          REQUIRE(c.size() == 3);
          CHECK(c[2].get<double>() == model.covariance(2)(0, 0));
          break;
      }
    }
  }
}

TEST_CASE("load_json reads a file written by hand and a double file into a float model", "[io]") {
  const std::string text = R"({
    "format": "gaussmix-model", "version": 1, "covariance_type": "tied",
    "n_components": 2, "n_features": 2,
    "weights": [0.3, 0.7],
    "means": [[0, 0], [2.5, 0]],
    "covariances": [[1, 0.5], [0.5, 1]]
  })";
  std::istringstream in(text);
  const auto model = gaussmix::load_json<double, 2>(in);
  CHECK(model.weights()(0) == 0.3);
  CHECK(model.means()(1, 0) == 2.5);
  CHECK(model.covariance(1)(0, 1) == 0.5);
  CHECK(model.options().tol == Options{}.tol);  // no "options": defaults

  const auto original = fitted<gaussmix::GaussianMixtureXd>(CovarianceType::Diagonal, 3);
  const auto as_float = loaded<gaussmix::GaussianMixtureXf>(saved_text(original));
  CHECK(as_float.weights().isApprox(original.weights().cast<float>()));
  CHECK(as_float.means().isApprox(original.means().cast<float>()));
}

TEST_CASE("save_json refuses a model without parameters", "[io]") {
  Options options;
  options.n_components = 2;
  const gaussmix::GaussianMixtureXd model(options);
  std::ostringstream out;
  require_load_error<std::logic_error>([&] { gaussmix::save_json(model, out); }, {"no parameters"},
                                       "gaussmix: save_json:");
  CHECK(out.str().empty());
}

TEST_CASE("load_json refuses damaged files with a clear FormatError and builds nothing", "[io]") {
  using Model = gaussmix::GaussianMixtureXd;
  const Model source = fitted<Model>(CovarianceType::Full, 2);
  const std::string good = saved_text(source);
  const json good_doc = json::parse(good);

  // A model the caller already has; a failed `model = load_json(...)` must leave it untouched.
  Model model = fitted<Model>(CovarianceType::Full, 2);
  const Model before = model;
  auto require_refused = [&](const std::string& text, std::initializer_list<const char*> parts) {
    INFO("file:\n" << text);
    require_load_error([&] {
      std::istringstream in(text);
      model = gaussmix::load_json<double>(in);
    }, parts);
    CHECK(same_parameters(model, before));
  };
  auto edited = [&](const std::function<void(json&)>& edit) {
    json doc = good_doc;
    edit(doc);
    return doc.dump(1);
  };

  SECTION("not JSON, empty, truncated, trailing garbage") {
    require_refused("this is not json", {"not a valid JSON document"});
    require_refused("", {"not a valid JSON document"});
    require_refused(good.substr(0, good.size() / 2), {"not a valid JSON document", "truncated"});
    require_refused(good.substr(0, good.size() - 3), {"not a valid JSON document"});
    require_refused(good + "{}", {"not a valid JSON document"});
    require_refused("[1, 2, 3]", {"not a model object"});
  }
  SECTION("wrong format name, unsupported version") {
    require_refused(edited([](json& j) { j.erase("format"); }), {"\"format\"", "not a gaussmix model file"});
    require_refused(edited([](json& j) { j["format"] = "sklearn-model"; }),
                    {"\"format\" is \"sklearn-model\"", "gaussmix-model"});
    require_refused(edited([](json& j) { j["version"] = 2; }), {"unsupported \"version\" 2", "reads version 1"});
    require_refused(edited([](json& j) { j["version"] = "1"; }), {"unsupported \"version\""});
    require_refused(edited([](json& j) { j.erase("version"); }), {"\"version\" is missing"});
  }
  SECTION("missing fields, bad covariance_type, bad K or d") {
    for (const char* field : {"covariance_type", "n_components", "n_features", "weights", "means", "covariances"}) {
      INFO(field);
      require_refused(edited([&](json& j) { j.erase(field); }), {field, "is missing"});
    }
    require_refused(edited([](json& j) { j["covariance_type"] = "diagonal"; }),
                    {"\"covariance_type\" is \"diagonal\"", "\"diag\""});
    require_refused(edited([](json& j) { j["n_components"] = 0; }), {"\"n_components\"", "positive integer"});
    require_refused(edited([](json& j) { j["n_components"] = 2.5; }), {"\"n_components\"", "positive integer"});
    require_refused(edited([](json& j) { j["n_features"] = "2"; }), {"\"n_features\"", "positive integer"});
  }
  SECTION("shapes inconsistent with K and d") {
    require_refused(edited([](json& j) { j["n_components"] = 4; }), {"\"weights\"", "n_components = 4", "got an array of 3"});
    require_refused(edited([](json& j) { j["weights"].erase(2); }), {"\"weights\"", "got an array of 2"});
    require_refused(edited([](json& j) { j["means"][1].push_back(0.0); }), {"\"means\"[1]", "n_features = 2", "got an array of 3"});
    require_refused(edited([](json& j) { j["means"].erase(0); }), {"\"means\"", "got an array of 2"});
    require_refused(edited([](json& j) { j["n_features"] = 3; }), {"\"means\"[0]", "n_features = 3"});
    require_refused(edited([](json& j) { j["covariances"][2].erase(1); }), {"\"covariances\"[2]", "got an array of 1"});
    require_refused(edited([](json& j) { j["covariances"][0][1] = 1.0; }), {"\"covariances\"[0][1]", "got number"});
    require_refused(edited([](json& j) { j["covariances"] = j["covariances"][0]; }),
                    {"\"covariances\"", "got an array of 2"});
    require_refused(edited([](json& j) { j["weights"] = 1.0; }), {"\"weights\"", "got number"});
  }
  SECTION("a covariances array of another type's shape") {
    require_refused(edited([](json& j) { j["covariance_type"] = "tied"; }),
                    {"\"covariances\" (one n_features x n_features matrix for \"tied\")", "got an array of 3"});
    require_refused(edited([](json& j) { j["covariance_type"] = "diag"; }), {"\"covariances\"[0][0]", "must be a number"});
    require_refused(edited([](json& j) { j["covariance_type"] = "spherical"; }), {"\"covariances\"[0]", "must be a number"});
  }
  SECTION("non-finite numbers") {
    require_refused(edited([](json& j) { j["means"][1][0] = nullptr; }), {"\"means\"[1][0]", "must be a number", "null"});
    require_refused(edited([](json& j) { j["weights"][0] = "0.5"; }), {"\"weights\"[0]", "must be a number"});
    std::string overflow = good_doc.dump();
    const std::string mean = good_doc["means"][0][0].dump();
    overflow.replace(overflow.find(mean), mean.size(), "1e999");
    require_refused(overflow, {"not a valid JSON document", "1e999"});
    std::string nan = good_doc.dump();
    nan.replace(nan.find(mean), mean.size(), "NaN");
    require_refused(nan, {"not a valid JSON document", "NaN and Infinity are not JSON numbers"});
    // Finite as a double but not as a float.
    const std::string big = edited([](json& j) { j["means"][0][1] = 1e300; });
    require_load_error([&] {
      std::istringstream in(big);
      gaussmix::load_json<float>(in);
    }, {"\"means\"[0][1]", "not a finite float"});
  }
  SECTION("weights: negative, not summing to 1") {
    require_refused(edited([](json& j) { j["weights"] = {0.5, 0.6, -0.1}; }), {"\"weights\"[2]", "negative"});
    require_refused(edited([](json& j) { j["weights"] = {0.5, 0.6, 0.1}; }), {"\"weights\" sum to 1.2", "not 1"});
    require_refused(edited([](json& j) { j["weights"] = {0.2, 0.2, 0.2}; }), {"\"weights\" sum to 0.6"});
  }
  SECTION("covariances that are not symmetric positive definite") {
    require_refused(edited([](json& j) { j["covariances"][1] = {{1.0, 2.0}, {2.0, 1.0}}; }),
                    {"covariance 1", "not positive definite"});
    require_refused(edited([](json& j) { j["covariances"][2] = {{1.0, 0.5}, {0.0, 1.0}}; }),
                    {"covariance 2", "not symmetric"});
    require_refused(edited([](json& j) { j["covariances"][0] = {{0.0, 0.0}, {0.0, 0.0}}; }),
                    {"covariance 0", "not positive definite"});
    require_refused(edited([](json& j) {
      j["covariance_type"] = "diag";
      j["covariances"] = {{1.0, 1.0}, {1.0, -1.0}, {1.0, 1.0}};
    }), {"covariance 1", "not positive definite"});
    require_refused(edited([](json& j) {
      j["covariance_type"] = "spherical";
      j["covariances"] = {1.0, 1.0, 0.0};
    }), {"covariance 2", "not positive definite"});
    require_refused(edited([](json& j) {
      j["covariance_type"] = "tied";
      j["covariances"] = {{1.0, 1.0}, {1.0, 1.0}};
    }), {"not positive definite"});
  }
  SECTION("options out of range or of the wrong type") {
    require_refused(edited([](json& j) { j["options"]["tol"] = -1; }), {"Options::tol"});
    require_refused(edited([](json& j) { j["options"]["max_iter"] = 0; }), {"\"options\".max_iter"});
    require_refused(edited([](json& j) { j["options"]["init_params"] = "kmeans++"; }), {"\"options\".init_params"});
    require_refused(edited([](json& j) { j["options"]["seed"] = -1; }), {"\"options\".seed"});
    require_refused(edited([](json& j) { j["options"]["warm_start"] = 1; }), {"\"options\".warm_start"});
    require_refused(edited([](json& j) { j["options"] = 3; }), {"\"options\" must be an object"});
  }
  SECTION("Dim of the model type differs from the file's n_features") {
    require_load_error([&] {
      std::istringstream in(good);
      gaussmix::load_json<double, 3>(in);
    }, {"\"n_features\" = 2", "Dim = 3"});
    std::istringstream in(good);
    CHECK_NOTHROW(gaussmix::load_json<double, 2>(in));
  }
  SECTION("a damaged file on disk is named in the message") {
    const std::string path = "gaussmix_test_io_damaged.json";
    {
      std::ofstream out(path);
      out << good.substr(0, 40);
    }
    require_load_error([&] { model = gaussmix::load_json(path); }, {path.c_str(), "not a valid JSON document"});
    CHECK(same_parameters(model, before));
    std::remove(path.c_str());
  }
  // The unchanged good file still loads.
  std::istringstream in(good);
  CHECK(same_parameters(gaussmix::load_json(in), source));
}

}  // namespace gaussmix_test_io
