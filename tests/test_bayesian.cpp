// SPDX-License-Identifier: MIT
// BayesianGaussianMixture against scikit-learn 1.2.1's BayesianGaussianMixture, from the fixtures
// tests/reference/bayes_<type>.json (regenerate with /usr/bin/python3
// tests/reference/generate_bayesian.py). Every case starts both implementations from the same
// responsibilities (m_step on an unfitted model = scikit-learn's _initialize), then runs exactly
// max_iter iterations (warm_start, tol = 0). GAUSSMIX_SKLEARN_REPORT=1 prints the worst error per case.

#include <gaussmix/gaussmix.hpp>

#include "fixture_names.hpp"
#include "reference_fixture.hpp"

#include <Eigen/Dense>
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

// A namespace of its own: the tests build as a few unity translation units (tests/CMakeLists.txt).
namespace gaussmix_test_bayesian {

namespace {

using gaussmix::CovarianceType;
using gaussmix_test::Agreement;
using gaussmix_test::json;
using gaussmix_test::relative_agreement;
using gaussmix_test::to_matrix;
using gaussmix_test::to_vector;

template <class Scalar> struct BayesTolerance;
template <> struct BayesTolerance<double> {
  static constexpr double relative = 1e-9, floor_fraction = 1e-3;
};
// Against at least 1% of the array's scale, as test_sklearn_agreement.cpp. There the float margin is
// max(1e-4, 10 x a simulated float path's error), up to 3.7e-3; no float simulation was made for this
// class, so one margin of 5e-4: measured worst 2.6e-4 (tied_dirichlet_distribution_d2_k8, soft,
// 50 iterations), 4 of 5616 values above 1e-4, all after 5 or 50 iterations.
template <> struct BayesTolerance<float> {
  static constexpr double relative = 5e-4, floor_fraction = 1e-2;
};

// scikit-learn's covariances_ in its per-type shape -> K dense matrices.
std::vector<Eigen::MatrixXd> dense_covariances(const json& j, const std::string& type, int K, int d) {
  std::vector<Eigen::MatrixXd> out;
  for (int k = 0; k < K; ++k) {
    if (type == "full") out.push_back(to_matrix(j[k]));
    if (type == "tied") out.push_back(to_matrix(j));
    if (type == "diag") out.push_back(to_vector(j[k]).asDiagonal());
    if (type == "spherical") out.push_back(Eigen::MatrixXd::Identity(d, d) * j[k].get<double>());
  }
  return out;
}

struct Worst {
  double error = 0;
  std::string where;
  void update(const Agreement& a, const std::string& what) {
    if (a.error > error || where.empty()) {
      error = a.error;
      where = what;
    }
  }
};

template <class Scalar>
void check_file(const std::string& file, int max_steps, double rtol = BayesTolerance<Scalar>::relative) {
  using Model = gaussmix::BayesianGaussianMixture<Scalar>;
  using MatrixS = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
  const double floor = BayesTolerance<Scalar>::floor_fraction;
  const json fixture = gaussmix_test::load_json(file);
  for (const json& c : fixture["cases"]) {
    const std::string name = c["name"], type = c["covariance_type"];
    const int K = c["n_components"];
    // A case either holds its data or names a shared entry of the fixture's "data".
    const json& data = c.contains("data") ? fixture["data"][c["data"].get<std::string>()] : c;
    const MatrixS X = to_matrix(data["X"]).cast<Scalar>(), X_test = to_matrix(data["X_test"]).cast<Scalar>();
    const int d = static_cast<int>(X.cols());
    for (const json& s : c["starts"]) {
      const MatrixS resp = to_matrix(s.contains("resp") ? s["resp"] : data["resp"]).cast<Scalar>();
      Worst worst;
      int stepped = 0;
      for (const json& step : s["steps"]) {
        if (++stepped > max_steps) break;
        const int max_iter = step["max_iter"];
        INFO("case " << name << ", start " << s["kind"].get<std::string>() << ", max_iter " << max_iter);
        gaussmix::Options options;
        options.n_components = K;
        options.covariance_type = gaussmix_test::covariance_type_named(type);
        options.tol = 0;
        options.reg_covar = c["reg_covar"];
        options.max_iter = max_iter;
        options.warm_start = true;
        gaussmix::BayesianPriors priors;
        priors.weight_prior = c["weight_prior"] == "dirichlet_process" ? gaussmix::WeightPrior::DirichletProcess
                                                                       : gaussmix::WeightPrior::DirichletDistribution;
        Model model(options, priors);
        model.m_step(X, resp);
        const gaussmix::FitResult result = model.fit(X);
        CHECK(result.n_iter == step["n_iter"].get<int>());
        auto check = [&](const char* what, const Agreement& a) {
          worst.update(a, std::string(what) + " @" + std::to_string(max_iter));
          INFO(what << ": " << a.message);
          CHECK(a.ok);
        };
        check("lower_bound", relative_agreement(result.lower_bound, step["lower_bound"].get<double>(), rtol));
        check("weights",
              relative_agreement(model.weights().template cast<double>(), to_vector(step["weights"]), rtol, floor));
        check("means", relative_agreement(model.means().template cast<double>(), to_matrix(step["means"]), rtol, floor));
        const auto expected_cov = dense_covariances(step["covariances"], type, K, d);
        for (int k = 0; k < K; ++k)
          check("covariances",
                relative_agreement(model.covariance(k).template cast<double>(), expected_cov[k], rtol, floor));
        check("weight_concentration",
              relative_agreement(model.weight_concentration(), to_matrix(step["weight_concentration"]), rtol, floor));
        check("mean_precision",
              relative_agreement(model.mean_precision(), to_vector(step["mean_precision"]), rtol, floor));
        check("degrees_of_freedom",
              relative_agreement(model.degrees_of_freedom(), to_vector(step["degrees_of_freedom"]), rtol, floor));
        check("score_samples", relative_agreement(model.score_samples(X_test).template cast<double>(),
                                                  to_vector(step["score_samples"]), rtol, floor));
        check("predict_proba", relative_agreement(model.predict_proba(X_test).template cast<double>(),
                                                  to_matrix(step["predict_proba"]), rtol, floor));
      }
      if (std::getenv("GAUSSMIX_SKLEARN_REPORT"))
        std::printf("%-8s %-44s %-4s worst %.3g (%s)\n", sizeof(Scalar) == 4 ? "float" : "double", name.c_str(),
                    s["kind"].get<std::string>().c_str(), worst.error, worst.where.c_str());
    }
  }
}

}  // namespace

TEST_CASE("BayesianGaussianMixture matches scikit-learn (double)", "[bayesian][sklearn]") {
  for (const char* file : {"bayes_full.json", "bayes_diag.json", "bayes_spherical.json", "bayes_tied.json"}) {
    INFO(file);
    check_file<double>(file, 3);
  }
}

TEST_CASE("BayesianGaussianMixture<float> matches scikit-learn within the float margins", "[bayesian][sklearn][float]") {
  for (const char* file : {"bayes_full.json", "bayes_diag.json", "bayes_spherical.json", "bayes_tied.json"}) {
    INFO(file);
    check_file<float>(file, 3);
  }
}

// Tried as a new user would: public data sets gaussmix was not tuned on (scikit-learn's iris, wine,
// breast_cancer), every covariance type, K = 6, 100 iterations from the same responsibilities.
TEST_CASE("BayesianGaussianMixture matches scikit-learn on public data sets (iris, wine, breast_cancer)", "[bayesian][sklearn]") {
  check_file<double>("bayes_public.json", 1, 1e-7);
}

}  // namespace gaussmix_test_bayesian
