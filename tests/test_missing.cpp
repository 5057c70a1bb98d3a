// SPDX-License-Identifier: MIT
// Missing values (Options::missing = MissingValues::Marginalise, issue 13 part 1): agreement with the numpy
// reference of exact EM (tests/reference/generate_missing.py), bit-identity with today's fit when there is no
// NaN, the bound's monotonicity, recovery of a known mixture and the gain over mean-filling, threads and
// fit_source, and the errors.
#include <Eigen/Dense>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <gaussmix/gaussmix.hpp>
#include <gaussmix/io.hpp>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "fixture_names.hpp"
#include "reference_fixture.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

// A namespace of its own: the tests build as a few unity translation units (tests/CMakeLists.txt).
namespace gaussmix_test_missing {

using gaussmix::CovarianceType;
using gaussmix::FitResult;
using gaussmix::MissingValues;
using gaussmix::Options;
using gaussmix_test::json;
using gaussmix_test::relative_agreement;

constexpr CovarianceType kTypes[] = {CovarianceType::Full, CovarianceType::Diagonal, CovarianceType::Spherical,
                                     CovarianceType::Tied};
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

const json& fixture() {
  static const json doc = gaussmix_test::load_json("missing.json");
  return doc;
}

// [[...], ...] with null for a missing entry -> matrix with NaN.
Eigen::MatrixXd to_matrix_nan(const json& j) {
  Eigen::MatrixXd m(static_cast<Eigen::Index>(j.size()), static_cast<Eigen::Index>(j[0].size()));
  for (Eigen::Index r = 0; r < m.rows(); ++r)
    for (Eigen::Index c = 0; c < m.cols(); ++c) {
      const json& v = j[static_cast<std::size_t>(r)][static_cast<std::size_t>(c)];
      m(r, c) = v.is_null() ? kNaN : v.get<double>();
    }
  return m;
}

void check_close(const char* what, const Eigen::MatrixXd& got, const Eigen::MatrixXd& expected, double rtol) {
  const auto a = relative_agreement(got, expected, rtol);
  INFO(what << ": " << a.message);
  CHECK(a.ok);
}

// A mixture sample (K components on a circle, correlated unit-scale covariances) and a copy with entries
// missing completely at random at `rate` (every row keeps one observed entry).
Eigen::MatrixXd mixture_sample(Eigen::Index n, Eigen::Index d, std::uint64_t seed, gaussmix::GaussianMixture<double>* truth_out = nullptr) {
  Options o;
  o.n_components = 3;
  gaussmix::GaussianMixture<double> truth(o);
  Eigen::MatrixXd means = Eigen::MatrixXd::Zero(3, d);
  std::vector<Eigen::MatrixXd> covariances;
  for (int k = 0; k < 3; ++k) {
    means(k, 0) = 4 * std::cos(2.1 * k);
    means(k, 1) = 4 * std::sin(2.1 * k);
    means(k, d - 1) += k;
    Eigen::MatrixXd c = Eigen::MatrixXd::Identity(d, d) * (0.6 + 0.3 * k);
    for (Eigen::Index j = 0; j + 1 < d; ++j) c(j, j + 1) = c(j + 1, j) = 0.25 * (k == 1 ? -1 : 1);
    covariances.push_back(c);
  }
  Eigen::Vector3d weights(0.5, 0.3, 0.2);
  truth.set_parameters(weights, means, covariances);
  if (truth_out) *truth_out = truth;
  return truth.sample(n, seed);
}

Eigen::MatrixXd with_holes(Eigen::MatrixXd X, double rate, std::uint64_t seed) {
  std::uint64_t state = seed * 0x9E3779B97F4A7C15ull + 1;
  auto uniform = [&] {  // splitmix64: a portable stream for the mask
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return static_cast<double>((z ^ (z >> 31)) >> 11) * 0x1.0p-53;
  };
  for (Eigen::Index i = 0; i < X.rows(); ++i) {
    Eigen::Index kept = static_cast<Eigen::Index>(uniform() * static_cast<double>(X.cols()));
    for (Eigen::Index j = 0; j < X.cols(); ++j)
      if (uniform() < rate && j != kept) X(i, j) = kNaN;
  }
  return X;
}

Options missing_options(CovarianceType type, int K = 3) {
  Options o;
  o.n_components = K;
  o.covariance_type = type;
  o.missing = MissingValues::Marginalise;
  o.seed = 11;
  return o;
}

template <class Model>
void require_same(const Model& a, const Model& b) {
  REQUIRE(a.weights() == b.weights());
  REQUIRE(a.means() == b.means());
  for (int k = 0; k < a.n_components(); ++k) REQUIRE(a.covariance(k) == b.covariance(k));
}

// The observed-data log density and E[x_m | x_o] of each row of X, computed from a factor of Sigma_oo as in
// the maths (docs/missing_and_constraints.md), against model.score_samples and model.impute, relative to tol.
void check_marginal_formulas(const gaussmix::GaussianMixture<double>& model, const Eigen::MatrixXd& X,
                             const Eigen::VectorXd& weights, const Eigen::MatrixXd& means,
                             const std::vector<Eigen::MatrixXd>& covariances, double tol) {
  const Eigen::Index K = weights.size();
  const Eigen::VectorXd scores = model.score_samples(X);
  const Eigen::MatrixXd imputed = model.impute(X);
  for (Eigen::Index i = 0; i < X.rows(); ++i) {
    std::vector<int> o_idx, m_idx;
    for (int j = 0; j < X.cols(); ++j) (std::isnan(X(i, j)) ? m_idx : o_idx).push_back(j);
    Eigen::VectorXd log_terms(K);
    std::vector<Eigen::VectorXd> conditional;
    for (Eigen::Index k = 0; k < K; ++k) {
      const Eigen::MatrixXd& S = covariances[static_cast<std::size_t>(k)];
      const Eigen::LLT<Eigen::MatrixXd> llt(S(o_idx, o_idx));
      const Eigen::VectorXd delta = X.row(i)(o_idx).transpose() - means.row(k)(o_idx).transpose();
      const Eigen::VectorXd z = llt.matrixL().solve(delta);
      log_terms(k) = std::log(weights(k)) - 0.5 * static_cast<double>(o_idx.size()) * std::log(2 * M_PI) -
                     std::log(llt.matrixL().toDenseMatrix().diagonal().prod()) - 0.5 * z.squaredNorm();
      conditional.push_back(means.row(k)(m_idx).transpose() + S(m_idx, o_idx) * llt.solve(delta));
    }
    const double top = log_terms.maxCoeff();
    const double expected = top + std::log((log_terms.array() - top).exp().sum());
    CHECK(std::abs(scores(i) - expected) <= tol * std::max(1.0, std::abs(expected)));
    const Eigen::VectorXd r = (log_terms.array() - expected).exp();
    for (std::size_t a = 0; a < m_idx.size(); ++a) {
      double value = 0;
      for (Eigen::Index k = 0; k < K; ++k)
        value += r(k) * conditional[static_cast<std::size_t>(k)](static_cast<Eigen::Index>(a));
      CHECK(std::abs(imputed(i, m_idx[a]) - value) <= tol * std::max(1.0, std::abs(value)));
    }
  }
}

}  // namespace gaussmix_test_missing

using namespace gaussmix_test_missing;

TEST_CASE("missing values: exact EM agrees with the numpy reference", "[missing][reference]") {
  const double rtol = 1e-9;
  const json& doc = fixture();
  const int K = doc.at("n_components").get<int>();
  const Eigen::Index n_scored = doc.at("n_scored").get<Eigen::Index>();
  const Eigen::VectorXd w = gaussmix_test::to_vector(doc.at("sample_weight"));
  int checked = 0;
  for (const json& c : doc.at("cases")) {
    const Eigen::MatrixXd X = to_matrix_nan(doc.at("X").at(c.at("pattern").get<std::string>()));
    // Weighted cases as row-major data (numpy's layout): the other data view.
    const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> X_rows = X;
    const bool weighted = c.at("weighted").get<bool>();
    for (const json& step : c.at("steps")) {
      const int max_iter = step.at("max_iter").get<int>();
      INFO(c.at("name").get<std::string>() << ", " << max_iter << " iterations");
      Options o = missing_options(gaussmix_test::covariance_type_named(c.at("covariance_type").get<std::string>()), K);
      o.reg_covar = doc.at("reg_covar").get<double>();
      o.tol = 0;
      o.max_iter = max_iter;
      o.warm_start = true;
      gaussmix::GaussianMixture<double> model(o);
      const json& init = c.at("init");
      model.set_parameters(gaussmix_test::to_vector(init.at("weights")), gaussmix_test::to_matrix(init.at("means")),
                           gaussmix_test::to_matrices(init.at("covariances")));
      const FitResult result = weighted ? model.fit(X_rows, w) : model.fit(X);
      CHECK(result.n_iter == max_iter);
      const auto bound = relative_agreement(result.lower_bound, step.at("lower_bound").get<double>(), rtol);
      INFO("lower_bound: " << bound.message);
      CHECK(bound.ok);
      const Eigen::VectorXd history = gaussmix_test::to_vector(step.at("history"));
      check_close("history", Eigen::Map<const Eigen::VectorXd>(result.history.data(), result.history.size()), history,
                  rtol);
      check_close("weights", model.weights(), gaussmix_test::to_vector(step.at("weights")), rtol);
      check_close("means", model.means(), gaussmix_test::to_matrix(step.at("means")), rtol);
      const std::vector<Eigen::MatrixXd> covariances = gaussmix_test::to_matrices(step.at("covariances"));
      for (int k = 0; k < K; ++k) check_close("covariance", model.covariance(k), covariances[static_cast<std::size_t>(k)], rtol);
      if (step.contains("score_samples")) {
        const Eigen::MatrixXd rows = X.topRows(n_scored);
        check_close("score_samples", model.score_samples(rows), gaussmix_test::to_vector(step.at("score_samples")),
                    rtol);
        check_close("impute", model.impute(rows), gaussmix_test::to_matrix(step.at("impute")), rtol);
      }
      ++checked;
    }
  }
  CHECK(checked == 2 * static_cast<int>(doc.at("cases").size()));
}

TEST_CASE("missing values: without NaN, Marginalise is today's fit bit for bit", "[missing]") {
  const Eigen::MatrixXd X = mixture_sample(900, 3, 4);
  const Eigen::VectorXd w = (Eigen::VectorXd::Random(X.rows()).array() + 1.5).matrix();
  for (CovarianceType type : kTypes) {
    INFO("covariance type " << gaussmix::to_string(type));
    Options on = missing_options(type), off = on;
    off.missing = MissingValues::Reject;
    gaussmix::GaussianMixture<double> a(on), b(off);
    CHECK(a.fit(X).history == b.fit(X).history);
    require_same(a, b);
    CHECK(a.score_samples(X) == b.score_samples(X));
    CHECK(a.predict_proba(X) == b.predict_proba(X));
    CHECK(a.predict(X) == b.predict(X));
    CHECK(a.impute(X) == X);
    gaussmix::GaussianMixture<double> aw(on), bw(off);
    CHECK(aw.fit(X, w).history == bw.fit(X, w).history);
    require_same(aw, bw);
    gaussmix::GaussianMixture<float> af(on), bf(off);
    const Eigen::MatrixXf Xf = X.cast<float>();
    CHECK(af.fit(Xf).history == bf.fit(Xf).history);
    require_same(af, bf);
  }
}

TEST_CASE("missing values: the bound never decreases, weights sum to 1, covariances stay SPD", "[missing][properties]") {
  const Eigen::MatrixXd X = with_holes(mixture_sample(1200, 4, 8), 0.25, 3);
  for (CovarianceType type : kTypes) {
    INFO("covariance type " << gaussmix::to_string(type));
    Options o = missing_options(type);
    o.tol = 0;
    o.max_iter = 60;
    o.init_params = gaussmix::InitMethod::Random;  // a poor start: many iterations that must each improve
    gaussmix::GaussianMixture<double> model(o);
    const FitResult r = model.fit(X);
    for (std::size_t t = 1; t < r.history.size(); ++t) CHECK(r.history[t] >= r.history[t - 1] - 1e-12 * std::abs(r.history[t]));
    CHECK(std::abs(model.weights().sum() - 1) < 1e-12);
    for (int k = 0; k < 3; ++k) {
      const Eigen::MatrixXd c = model.covariance(k);
      CHECK(c.isApprox(c.transpose(), 0));
      CHECK(c.llt().info() == Eigen::Success);
    }
    // The bound is the mean observed-data log-likelihood: score() of the last E-step's parameters is what
    // the next iteration would report, and it is at least the last bound.
    CHECK(model.score(X) >= r.lower_bound - 1e-12 * std::abs(r.lower_bound));
    // float: the same path, sums in double; the bound may wobble by float rounding only.
    gaussmix::GaussianMixture<float> single(o);
    const FitResult rf = single.fit(Eigen::MatrixXf(X.cast<float>()));
    for (std::size_t t = 1; t < rf.history.size(); ++t) CHECK(rf.history[t] >= rf.history[t - 1] - 1e-5 * std::abs(rf.history[t]));
    CHECK(std::abs(rf.lower_bound - r.lower_bound) < 1e-3 * std::abs(r.lower_bound) + 0.05);
  }
}

TEST_CASE("missing values: 30% MCAR recovers a known mixture and beats mean-filling on held-out data",
          "[missing][recovery]") {
  gaussmix::GaussianMixture<double> truth;
  const Eigen::Index d = 4;
  const Eigen::MatrixXd full = mixture_sample(6000, d, 21, &truth);
  const Eigen::MatrixXd X = with_holes(full, 0.3, 5);
  const Eigen::MatrixXd test = with_holes(mixture_sample(3000, d, 22), 0.3, 6);
  Options o = missing_options(CovarianceType::Full);
  o.n_init = 3;
  o.tol = 1e-6;
  o.max_iter = 500;
  gaussmix::GaussianMixture<double> model(o);
  REQUIRE(model.fit(X).converged);
  // Match components to the truth by nearest mean; errors within a few standard errors of n_k ~ 1000+ rows.
  for (int k = 0; k < 3; ++k) {
    Eigen::Index best = 0;
    (model.means().rowwise() - truth.means().row(k)).rowwise().norm().minCoeff(&best);
    INFO("true component " << k << " matched to " << best);
    CHECK((model.means().row(best) - truth.means().row(k)).cwiseAbs().maxCoeff() < 0.15);
    CHECK(std::abs(model.weights()(best) - truth.weights()(k)) < 0.03);
    CHECK((model.covariance(static_cast<int>(best)) - truth.covariance(k)).cwiseAbs().maxCoeff() < 0.2);
  }
  // "Fill with column means, then fit": the usual workaround, scored on the held-out rows' observed entries.
  Eigen::MatrixXd filled = X;
  for (Eigen::Index j = 0; j < d; ++j) {
    const Eigen::Array<bool, Eigen::Dynamic, 1> seen = !X.col(j).array().isNaN();
    const double mean = seen.select(X.col(j).array(), 0.0).sum() / static_cast<double>(seen.count());
    filled.col(j) = seen.select(X.col(j).array(), mean).matrix();
  }
  gaussmix::GaussianMixture<double> mean_filled(o);
  mean_filled.fit(filled);
  const double exact = model.score(test), naive = mean_filled.score(test);
  WARN("held-out mean observed-data log-likelihood, 30% MCAR: exact EM " << exact << ", mean-filled fit " << naive
                                                                         << ", gain " << exact - naive << " nats/row");
  CHECK(exact > naive + 0.05);
  // impute() beats the column means on the held-out truth too.
  const Eigen::MatrixXd test_full = mixture_sample(3000, d, 22);
  const Eigen::MatrixXd imputed = model.impute(test);
  double se_model = 0, se_mean = 0;
  for (Eigen::Index i = 0; i < test.rows(); ++i)
    for (Eigen::Index j = 0; j < d; ++j) {
      if (!std::isnan(test(i, j))) {
        CHECK(imputed(i, j) == test(i, j));
        continue;
      }
      se_model += std::pow(imputed(i, j) - test_full(i, j), 2);
      se_mean += std::pow(filled.col(j).mean() - test_full(i, j), 2);
    }
  CHECK(se_model < 0.7 * se_mean);
  // The model file keeps Options::missing: a loaded model scores rows with NaN the same.
  std::stringstream file;
  gaussmix::save_json(model, file);
  const auto loaded = gaussmix::load_json<double>(file);
  CHECK(loaded.options().missing == MissingValues::Marginalise);
  CHECK(loaded.score_samples(test) == model.score_samples(test));
}

TEST_CASE("missing values: 1, 2 and 4 OpenMP threads bit-identical, fit_source equals fit", "[missing][openmp][stream]") {
  // 36000 x 4: nine blocks of 4096 rows (nine chunks), so two or more blocks per thread at 4 threads;
  // 20% MCAR. Three iterations: enough for the bits of later E-steps to depend on earlier M-steps.
  const Eigen::MatrixXd X = with_holes(mixture_sample(36000, 4, 31), 0.2, 7);
  for (CovarianceType type : kTypes) {
    INFO("covariance type " << gaussmix::to_string(type));
    Options o = missing_options(type);
    o.max_iter = 3;
    o.tol = 0;
    gaussmix::GaussianMixture<double> in_memory(o);  // the 1-thread fit with OpenMP
#ifdef _OPENMP
    const int saved = omp_get_max_threads();
    std::vector<gaussmix::GaussianMixture<double>> models;
    std::vector<FitResult> results;
    for (int threads : {1, 2, 4}) {
      omp_set_num_threads(threads);
      models.emplace_back(o);
      results.push_back(models.back().fit(X));
    }
    omp_set_num_threads(saved);
    for (std::size_t i = 1; i < models.size(); ++i) {
      CHECK(results[i].history == results[0].history);
      require_same(models[i], models[0]);
    }
    in_memory = models[0];
#else
    in_memory.fit(X);
#endif
    // fit_source from the same start (warm) sums the same rows in other groupings: equal to 1e-12.
    Options warm = o;
    warm.warm_start = true;
    gaussmix::GaussianMixture<double> a(warm), b(warm);
    a.set_parameters(in_memory.weights(), in_memory.means(), in_memory.covariances());
    b.set_parameters(in_memory.weights(), in_memory.means(), in_memory.covariances());
    const FitResult ra = a.fit(X);
    const FitResult rb = gaussmix::fit_source(b, gaussmix::MatrixSource(X, 1000));
    CHECK(std::abs(ra.lower_bound - rb.lower_bound) <= 1e-12 * std::abs(ra.lower_bound));
    CHECK(relative_agreement(b.means(), a.means(), 1e-12).ok);
    CHECK(relative_agreement(b.weights(), a.weights(), 1e-12).ok);
    for (int k = 0; k < 3; ++k) CHECK(relative_agreement(b.covariance(k), a.covariance(k), 1e-12).ok);
  }
  // A cold fit_source initialises from its (mean-filled) sample and moves to a sensible model.
  Options cold_options = missing_options(CovarianceType::Full);
  cold_options.max_iter = 5;
  gaussmix::GaussianMixture<double> cold(cold_options);
  const FitResult r = gaussmix::fit_source(cold, gaussmix::MatrixSource(X));
  CHECK(std::isfinite(r.lower_bound));
  CHECK(cold.means().allFinite());
}

// The observed-data log density and E[x_m | x_o] of single rows from a factor of Sigma_oo, as in the maths,
// against score_samples and impute: a well-conditioned mixture (the precision route, Schur complement of
// Sigma^-1) and one with a near-singular covariance (kappa ~ 1e10: the direct route, a factor of Sigma_oo).
TEST_CASE("missing values: score_samples and impute equal the marginal formulas on both routes", "[missing]") {
  const Eigen::Index d = 6;
  for (const double eps : {0.5, 1e-5}) {
    INFO("near-copy noise " << eps);
    std::vector<Eigen::MatrixXd> covariances;
    Eigen::MatrixXd means = Eigen::MatrixXd::Zero(2, d);
    means(1, 0) = 2;
    means(1, 3) = -1;
    for (int k = 0; k < 2; ++k) {
      Eigen::MatrixXd A = Eigen::MatrixXd::Identity(d, d);
      A(1, 0) = 1;  // feature 1 = feature 0 + eps * noise
      A(1, 1) = eps;
      A(4, 2) = 0.7 - k;
      covariances.push_back(A * A.transpose());
    }
    const Eigen::Vector2d weights(0.35, 0.65);
    Options o = missing_options(CovarianceType::Full, 2);
    gaussmix::GaussianMixture<double> model(o);
    model.set_parameters(weights, means, covariances);
    Eigen::MatrixXd X(5, d);
    X << 0.3, kNaN, -1.0, 0.4, kNaN, 0.1,    // 2 of 6 missing: precision route unless ill-conditioned
        kNaN, 0.2, 0.5, kNaN, 1.1, -0.6,     //
        1.5, 1.5, kNaN, kNaN, kNaN, kNaN,    // 4 of 6: direct route
        kNaN, kNaN, kNaN, kNaN, kNaN, 0.9,   // 5 of 6: direct route
        0.1, 0.1, 0.3, 0.4, 0.5, 0.6;        // complete
    // Ill-conditioned: the two computations round differently where Sigma_oo itself is near-singular.
    const double tol = eps < 1e-3 ? 1e-9 : 1e-12;
    check_marginal_formulas(model, X, weights, means, covariances, tol);
  }
}

// The precision route runs its components side by side, 4 or 8 lanes wide (K padded) or K wide: K = 6 and
// K = 11 against the marginal formulas, as above (K = 2 and 3 take the 4-lane route in the tests above).
TEST_CASE("missing values: score_samples and impute equal the marginal formulas for 6 and 11 components", "[missing]") {
  const Eigen::Index d = 7;
  for (const int K : {6, 11}) {
    INFO("K = " << K);
    Eigen::MatrixXd means(K, d);
    std::vector<Eigen::MatrixXd> covariances;
    for (int k = 0; k < K; ++k) {
      Eigen::MatrixXd A(d, d);
      for (Eigen::Index i = 0; i < d; ++i)
        for (Eigen::Index j = 0; j < d; ++j) {
          A(i, j) = 0.3 * std::sin(1.7 * static_cast<double>(k * 49 + i * 7 + j) + 0.3);
          means(k, j) = 1.5 * std::cos(0.9 * static_cast<double>(k * 7 + j));
        }
      covariances.push_back(A * A.transpose() + Eigen::MatrixXd::Identity(d, d));
    }
    const Eigen::VectorXd weights = Eigen::VectorXd::Constant(K, 1.0 / K);
    gaussmix::GaussianMixture<double> model(missing_options(CovarianceType::Full, K));
    model.set_parameters(weights, means, covariances);
    Eigen::MatrixXd X(4, d);
    X << 0.3, kNaN, -1.0, 0.4, kNaN, 0.1, 0.2,  //
        kNaN, 0.2, 0.5, kNaN, 1.1, -0.6, kNaN,  //
        1.5, 1.5, 0.2, 0.7, kNaN, 0.3, -0.4,    //
        kNaN, kNaN, kNaN, kNaN, 0.9, 0.1, 0.0;  // 4 of 7: direct route
    check_marginal_formulas(model, X, weights, means, covariances, 1e-12);
  }
}

TEST_CASE("missing values: errors name the row or column, Reject keeps today's error", "[missing][errors]") {
  Eigen::MatrixXd X = with_holes(mixture_sample(60, 3, 41), 0.2, 8);
  const auto throws_with = [](auto&& call, const std::string& part) {
    try {
      call();
    } catch (const std::invalid_argument& e) {
      const std::string what = e.what();
      INFO(what);
      CHECK(what.rfind("gaussmix:", 0) == 0);
      CHECK(what.find(part) != std::string::npos);
      return;
    }
    FAIL("no std::invalid_argument (expected one mentioning '" << part << "')");
  };
  gaussmix::GaussianMixture<double> rejecting(Options{});
  throws_with([&] { rejecting.fit(X); }, "is not finite");
  CHECK_FALSE(rejecting.is_fitted());

  gaussmix::GaussianMixture<double> model(missing_options(CovarianceType::Full));
  Eigen::MatrixXd all_missing_row = X;
  all_missing_row.row(17).setConstant(kNaN);
  throws_with([&] { model.fit(all_missing_row); }, "row 17");
  Eigen::MatrixXd no_column = X;
  no_column.col(2).setConstant(kNaN);
  throws_with([&] { model.fit(no_column); }, "column 2");
  Eigen::MatrixXd infinite = X;
  infinite(5, 1) = std::numeric_limits<double>::infinity();
  throws_with([&] { model.fit(infinite); }, "X(5, 1)");
  CHECK_FALSE(model.is_fitted());
  CHECK_THROWS_AS(model.impute(X), std::logic_error);

  model.fit(X);
  const Eigen::MatrixXd means = model.means();
  throws_with([&] { model.score_samples(all_missing_row); }, "row 17");
  throws_with([&] { model.impute(infinite); }, "X(5, 1)");
  // A column with no observed value is fine for scoring: each row is marginalised on its own.
  CHECK(model.score_samples(no_column).allFinite());
  Options warm = missing_options(CovarianceType::Full);
  warm.warm_start = true;
  gaussmix::GaussianMixture<double> warm_model(warm);
  warm_model.set_parameters(model.weights(), model.means(), model.covariances());
  throws_with([&] { warm_model.fit(infinite); }, "X(5, 1)");
  CHECK(warm_model.means() == means);
  // Streamed data: the row is named.
  gaussmix::GaussianMixture<double> streamed(missing_options(CovarianceType::Full));
  throws_with([&] { gaussmix::fit_source(streamed, gaussmix::MatrixSource(all_missing_row)); }, "row 17");
}
