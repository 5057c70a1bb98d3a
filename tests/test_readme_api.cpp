// SPDX-License-Identifier: MIT
// The README's API table: every row has a line of example code, and this file compiles and runs
// each of those lines verbatim (the MPI line: tests/mpi/test_mpi_fit.cpp), in the table's order,
// then checks the results are valid. A second test reads README.md and fails when a line of the
// table is not, word for word, a line of code here: edit both together.

#include <Eigen/Dense>
#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <gaussmix/gaussmix.hpp>
#include <gaussmix/io.hpp>
#include <sstream>
#include <string>
#include <vector>

// A namespace of its own: the tests build as a few unity translation units (tests/CMakeLists.txt).
namespace gaussmix_test_readme_api {

namespace {

// 300 rows of two well-separated, correlated clusters in d = 2 (weights 0.4 / 0.6).
Eigen::MatrixXd two_clusters() {
  gaussmix::Options o;
  o.n_components = 2;
  gaussmix::GaussianMixture2d truth(o);
  Eigen::Matrix2d means;
  means << 0, 0, 6, 3;
  Eigen::Matrix2d a, b;
  a << 1.0, 0.5, 0.5, 1.0;
  b << 0.8, -0.3, -0.3, 0.6;
  truth.set_parameters(Eigen::Vector2d(0.4, 0.6), means, {a, b});
  return truth.sample(300, 11);
}

// Writes X as rows of float64 (what BinaryFileSource reads); removes the file when destroyed.
struct TemporaryRows {
  std::filesystem::path file;
  explicit TemporaryRows(const Eigen::MatrixXd& X)
      : file(std::filesystem::temp_directory_path() /
             ("gaussmix_readme_api_" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()) +
              ".f64")) {
    const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> rows = X;
    std::ofstream out(file, std::ios::binary);
    out.write(reinterpret_cast<const char*>(rows.data()), static_cast<std::streamsize>(rows.size() * sizeof(double)));
  }
  ~TemporaryRows() {
    std::error_code ignored;
    std::filesystem::remove(file, ignored);
  }
};

std::string read_text(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string trim(const std::string& s) {
  const auto first = s.find_first_not_of(" \t\r");
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(" \t\r") - first + 1);
}

// The cells of a Markdown table row "| a | b | c |" (no escaped '|' in this table).
std::vector<std::string> cells(const std::string& row) {
  std::vector<std::string> out;
  std::string body = trim(row);
  if (body.size() < 2 || body.front() != '|' || body.back() != '|') return out;
  body = body.substr(1, body.size() - 2);
  std::size_t start = 0;
  for (;;) {
    const std::size_t bar = body.find('|', start);
    out.push_back(trim(body.substr(start, bar == std::string::npos ? std::string::npos : bar - start)));
    if (bar == std::string::npos) return out;
    start = bar + 1;
  }
}

std::string without_backticks(std::string s) {
  s.erase(std::remove(s.begin(), s.end(), '`'), s.end());
  return s;
}

// True when some line of `source`, without its indentation, is exactly `code`.
bool has_code_line(const std::string& source, const std::string& code) {
  std::istringstream lines(source);
  for (std::string line; std::getline(lines, line);)
    if (trim(line) == code) return true;
  return false;
}

}  // namespace

TEST_CASE("README API table: every example line compiles and gives a valid result", "[readme]") {
  const Eigen::MatrixXd X = two_clusters();
  Eigen::VectorXd sample_weight = Eigen::VectorXd::Ones(X.rows());
  sample_weight.tail(100).setConstant(2.0);
  const TemporaryRows file(X);
  const std::string path = file.file.string();
  const Eigen::Index n = X.rows();

  // The README's lines stay one line each, as in the table.
  // clang-format off
  // README API row: Options
  gaussmix::Options options; options.n_components = 2; options.seed = 42;
  // README API row: CovarianceType
  options.covariance_type = gaussmix::CovarianceType::Diagonal;
  // README API row: InitMethod
  options.init_params = gaussmix::InitMethod::KMeansPlusPlus;
  // README API row: GaussianMixture<Scalar = double, Dim = Eigen::Dynamic>
  gaussmix::GaussianMixture<double, 2> gmm(options);
  CHECK(gmm.n_components() == 2);
  CHECK(gmm.covariance_type() == gaussmix::CovarianceType::Diagonal);
  CHECK(gmm.options().init_params == gaussmix::InitMethod::KMeansPlusPlus);
  CHECK(gmm.options().seed == 42);
  CHECK_FALSE(gmm.is_fitted());

  // README API row: fit(X), fit(X, sample_weight)
  gaussmix::FitResult result = gmm.fit(X); result = gmm.fit(X, sample_weight);
  CHECK(result.converged);
  CHECK(result.n_iter >= 1);
  CHECK(result.history.size() == static_cast<std::size_t>(result.n_iter));
  CHECK(std::isfinite(result.lower_bound));
  CHECK(result.lower_bound == result.history.back());
  CHECK(gmm.weights().sum() == Approx(1.0).epsilon(1e-12));
  CHECK((gmm.weights().array() > 0).all());

  // README API row: weights(), means(), covariance(k), covariances(), set_parameters(w, means, covs)
  Eigen::Matrix2d cov0 = gmm.covariance(0); gmm.set_parameters(gmm.weights(), gmm.means(), gmm.covariances());
  CHECK(cov0(0, 1) == 0.0);  // Diagonal: a dense d x d matrix with zero off-diagonals
  CHECK(cov0(1, 0) == 0.0);
  CHECK((cov0.diagonal().array() > 0).all());
  CHECK(gmm.covariance(0) == cov0);  // set_parameters with the model's own parameters changes nothing
  CHECK(gmm.covariances().size() == 2);
  CHECK(gmm.means().rows() == 2);
  {
    // The weighted fit found the two clusters: one mean near (0, 0), the other near (6, 3).
    const Eigen::Index far = gmm.means()(0, 0) > gmm.means()(1, 0) ? 0 : 1;
    CHECK(gmm.means()(far, 0) == Approx(6.0).margin(0.5));
    CHECK(gmm.means()(far, 1) == Approx(3.0).margin(0.5));
    CHECK(gmm.means()(1 - far, 0) == Approx(0.0).margin(0.5));
    CHECK(gmm.means()(1 - far, 1) == Approx(0.0).margin(0.5));
  }

  // README API row: e_step(X, resp), m_step(X, resp), log_likelihood(X)
  Eigen::MatrixXd resp; double mean_ll = gmm.e_step(X, resp); gmm.m_step(X, resp); double total_ll = gmm.log_likelihood(X);
  CHECK(resp.rows() == n);
  CHECK(resp.cols() == 2);
  CHECK((resp.array() >= 0).all());
  CHECK((resp.rowwise().sum().array() - 1.0).abs().maxCoeff() < 1e-12);
  CHECK(std::isfinite(mean_ll));
  CHECK(std::isfinite(total_ll));
  // EM never lowers the likelihood: after the M-step, at least the E-step's mean log-likelihood.
  CHECK(total_ll / static_cast<double>(n) >= mean_ll - 1e-9);
  // One more EM step from a (weighted) optimum changes the unweighted log-likelihood only a little.
  CHECK(total_ll / static_cast<double>(n) == Approx(mean_ll).epsilon(1e-2));

  // README API row: predict, predict_proba, score_samples, score
  Eigen::VectorXi labels = gmm.predict(X); Eigen::MatrixXd proba = gmm.predict_proba(X); Eigen::VectorXd log_p = gmm.score_samples(X);
  REQUIRE(labels.size() == n);
  CHECK(labels.minCoeff() >= 0);
  CHECK(labels.maxCoeff() <= 1);
  CHECK(labels.minCoeff() != labels.maxCoeff());  // both components are used
  CHECK(proba.rows() == n);
  CHECK(proba.cols() == 2);
  CHECK((proba.rowwise().sum().array() - 1.0).abs().maxCoeff() < 1e-12);
  for (Eigen::Index i = 0; i < n; ++i) {
    Eigen::Index most = 0;
    proba.row(i).maxCoeff(&most);
    CHECK(labels(i) == static_cast<int>(most));
  }
  REQUIRE(log_p.size() == n);
  CHECK(log_p.allFinite());
  CHECK(log_p.sum() == Approx(total_ll).epsilon(1e-12));
  CHECK(gmm.score(X) == Approx(log_p.mean()).epsilon(1e-12));

  // README API row: sample(n, seed), bic, aic, n_parameters
  Eigen::MatrixX2d draws = gmm.sample(100, 7); double bic = gmm.bic(X);
  CHECK(draws.rows() == 100);
  CHECK(draws.allFinite());
  CHECK(draws == gmm.sample(100, 7));  // same seed, same draws
  CHECK(gmm.n_parameters() == 9);       // K - 1 + K d + K d (Diagonal)
  CHECK(bic == Approx(-2 * total_ll + 9 * std::log(static_cast<double>(n))).epsilon(1e-12));
  CHECK(gmm.aic(X) == Approx(-2 * total_ll + 2 * 9).epsilon(1e-12));

  // README API row: select_model(X, k_min, k_max, types)
  auto selection = gaussmix::select_model(X, 1, 4); int best_k = selection.best_entry().n_components;
  CHECK(best_k == 2);
  CHECK(selection.table.size() == 16);  // K = 1..4 x four covariance types
  CHECK(selection.best.is_fitted());
  CHECK(selection.best.n_components() == best_k);
  for (const gaussmix::BicEntry& entry : selection.table)
    if (entry.ok()) CHECK(entry.bic >= selection.best_entry().bic);
  CHECK(selection.best.weights().sum() == Approx(1.0).epsilon(1e-12));

  // README API row: fit_source(model, source)
  gaussmix::BinaryFileSource<double> source(path, 2); gaussmix::FitResult streamed = gaussmix::fit_source(gmm, source);
  CHECK(source.n_rows() == n);
  CHECK(streamed.converged);
  CHECK(std::isfinite(streamed.lower_bound));
  CHECK(gmm.weights().sum() == Approx(1.0).epsilon(1e-12));
  {
    // n <= reservoir_size: the streamed fit starts as fit(X) does and ends at the same model.
    gaussmix::GaussianMixture<double, 2> in_memory(options);
    const gaussmix::FitResult direct = in_memory.fit(X);
    CHECK(streamed.n_iter == direct.n_iter);
    CHECK(streamed.lower_bound == Approx(direct.lower_bound).epsilon(1e-12));
    CHECK((gmm.means() - in_memory.means()).cwiseAbs().maxCoeff() < 1e-9);
  }

  // README API row: partial_fit(X), partial_fit(X, sample_weight)
  gaussmix::GaussianMixture<double, 2> online(options); for (Eigen::Index b = 0; b < n; b += 100) online.partial_fit(X.middleRows(b, std::min<Eigen::Index>(100, n - b)));
  CHECK(online.online_steps() == 3);
  CHECK(online.weights().sum() == Approx(1.0).epsilon(1e-12));
  {
    // Three batches of 100 rows find the two clusters too: one mean near (0, 0), the other near (6, 3).
    const Eigen::Index far = online.means()(0, 0) > online.means()(1, 0) ? 0 : 1;
    CHECK(online.means()(far, 0) == Approx(6.0).margin(0.5));
    CHECK(online.means()(far, 1) == Approx(3.0).margin(0.5));
    CHECK(online.means()(1 - far, 0) == Approx(0.0).margin(0.5));
    CHECK(online.means()(1 - far, 1) == Approx(0.0).margin(0.5));
  }

  // README API row: fixed_weights, fixed_means, fixed_covariances
  gaussmix::Options keep = options; keep.warm_start = true; keep.fixed_covariances = {0, 1}; gaussmix::GaussianMixture<double, 2> noise(keep); noise.set_parameters(gmm.weights(), gmm.means(), gmm.covariances()); noise.fit(X);
  CHECK(noise.covariance(0) == gmm.covariance(0));  // kept bit for bit
  CHECK(noise.covariance(1) == gmm.covariance(1));
  CHECK(noise.weights().sum() == Approx(1.0).epsilon(1e-12));

  // README API row: fit_with_labels(X, labels), fit_with_labels(X, labels, sample_weight)
  gaussmix::GaussianMixture<double, 2> semi(options); Eigen::VectorXi known = Eigen::VectorXi::Constant(n, -1); known(0) = 1; semi.fit_with_labels(X, known);
  CHECK(semi.predict(X)(0) == 1);  // row 0's cluster is component 1
  CHECK(semi.predict_proba(X)(0, 1) > 0.99);

  // README API row: prior, ConjugatePrior
  gaussmix::Options map_options = options; map_options.prior = gaussmix::ConjugatePrior{}; gaussmix::GaussianMixture<double, 2> map(map_options); gaussmix::FitResult posterior = map.fit(X);
  REQUIRE(map.resolved_prior().has_value());
  CHECK(map.resolved_prior()->degrees_of_freedom == 4.0);  // mclust's default d + 2
  CHECK(std::isfinite(posterior.lower_bound));
  CHECK(map.covariance(0).llt().info() == Eigen::Success);
  // README API row: Options::missing, impute(X)
  options.missing = gaussmix::MissingValues::Marginalise; gaussmix::GaussianMixture<double, 2> holes(options); holes.fit(X); Eigen::MatrixX2d filled = holes.impute(X);
  CHECK(filled == X);  // no NaN in X: returned unchanged

  // README API row: save_json, load_json
  std::stringstream json; gaussmix::save_json(gmm, json); auto loaded = gaussmix::load_json<double, 2>(json);
  CHECK(loaded.weights() == gmm.weights());  // bit for bit
  CHECK(loaded.means() == gmm.means());
  CHECK(loaded.covariance(1) == gmm.covariance(1));
  CHECK(loaded.covariance_type() == gaussmix::CovarianceType::Diagonal);
  CHECK(loaded.predict(X) == gmm.predict(X));

  // README API row: BayesianGaussianMixture<Scalar, Dim>(options, priors)
  gaussmix::BayesianPriors priors; priors.weight_prior = gaussmix::WeightPrior::DirichletProcess; gaussmix::BayesianGaussianMixture<double, 2> bgm(options, priors);
  CHECK_FALSE(bgm.is_fitted());
  CHECK(bgm.covariance_type() == gaussmix::CovarianceType::Diagonal);

  // README API row: weight_concentration(), mean_precision(), degrees_of_freedom(), active_components(threshold)
  gaussmix::FitResult elbo = bgm.fit(X); std::vector<int> active = bgm.active_components(0.01); Eigen::MatrixXd beta_parameters = bgm.weight_concentration();
  CHECK(std::isfinite(elbo.lower_bound));
  CHECK(active.size() == 2u);  // both clusters are used
  CHECK(beta_parameters.rows() == 2);
  CHECK(beta_parameters.cols() == 2);
  CHECK(bgm.weights().sum() == Approx(1.0).epsilon(1e-12));
  CHECK((bgm.mean_precision().array() > 1).all());                       // beta_0 = 1 plus N_k
  CHECK(bgm.degrees_of_freedom().sum() == Approx(2 + 2 + n).epsilon(1e-9));  // nu_0 = d per component plus sum N_k
  // clang-format on
}

TEST_CASE("README API table: every row has an example, and every example is compiled by a test", "[readme]") {
  // __FILE__ is this file's absolute path in a CMake build; README.md is one folder up.
  const std::filesystem::path here = std::filesystem::path(__FILE__);
  const std::filesystem::path readme = here.parent_path().parent_path() / "README.md";
  const std::filesystem::path mpi_test = here.parent_path() / "mpi" / "test_mpi_fit.cpp";
  INFO("README: " << readme.string());
  REQUIRE(std::filesystem::exists(readme));
  REQUIRE(std::filesystem::exists(here));
  const std::string this_file = read_text(here);
  const std::string mpi_file = std::filesystem::exists(mpi_test) ? read_text(mpi_test) : "";

  // The table that follows the "## API" heading.
  std::istringstream text(read_text(readme));
  std::string line;
  bool in_section = false, in_table = false;
  std::vector<std::vector<std::string>> rows;
  while (std::getline(text, line)) {
    if (!in_section) {
      in_section = trim(line) == "## API";
      continue;
    }
    if (line.rfind("## ", 0) == 0) break;
    const bool table_line = trim(line).rfind('|', 0) == 0;
    if (table_line) {
      in_table = true;
      rows.push_back(cells(line));
    } else if (in_table) {
      break;
    }
  }
  REQUIRE(in_section);
  REQUIRE(rows.size() >= 3);  // header, separator, rows
  const std::vector<std::string> header = rows[0];
  REQUIRE(header.size() == 3);
  CHECK(header[2] == "example");

  int examples = 0;
  for (std::size_t r = 2; r < rows.size(); ++r) {
    const std::vector<std::string>& row = rows[r];
    INFO("README API row: " << (row.empty() ? std::string("(empty)") : row[0]));
    REQUIRE(row.size() == 3);
    const std::string& cell = row[2];
    // One code span, the whole cell.
    REQUIRE(cell.size() > 2);
    REQUIRE(cell.front() == '`');
    REQUIRE(cell.back() == '`');
    const std::string code = cell.substr(1, cell.size() - 2);
    REQUIRE(code.find('`') == std::string::npos);
    INFO("example: " << code);
    const bool is_mpi = code.find("fit_mpi") != std::string::npos;
    if (is_mpi) {
      // Built only with MPI (tests/mpi); its source is checked whether or not MPI is built here.
      CHECK(has_code_line(mpi_file, code));
      CHECK(has_code_line(mpi_file, "// README API row: " + without_backticks(row[0])));
    } else {
      CHECK(has_code_line(this_file, code));
      // ... and introduced by a comment naming its row.
      CHECK(has_code_line(this_file, "// README API row: " + without_backticks(row[0])));
    }
    ++examples;
  }
  // The types, the init methods, fitting, the scikit-learn surface, model selection, streaming, I/O, MPI.
  CHECK(examples >= 13);
}

}  // namespace gaussmix_test_readme_api
