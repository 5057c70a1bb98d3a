// SPDX-License-Identifier: MIT
// Loader for the scikit-learn reference fixtures in tests/reference/*.json (written by
// tests/reference/generate_sklearn.py) and a relative-agreement helper for comparing
// Eigen arrays with them. Independent of gaussmix itself.
#pragma once

#include <Eigen/Dense>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#ifndef GAUSSMIX_REFERENCE_DIR
#error "GAUSSMIX_REFERENCE_DIR must be defined as the path of tests/reference (a string literal)"
#endif

namespace gaussmix_test {

using json = nlohmann::json;

/// Parses tests/reference/<filename>; throws std::runtime_error if it cannot be read.
inline json load_json(const std::string& filename) {
  const std::string path = std::string(GAUSSMIX_REFERENCE_DIR) + "/" + filename;
  std::ifstream in(path);
  if (!in) throw std::runtime_error("reference_fixture: cannot open " + path);
  return json::parse(in);
}

/// [x0, x1, ...] -> column vector.
inline Eigen::VectorXd to_vector(const json& j) {
  Eigen::VectorXd v(static_cast<Eigen::Index>(j.size()));
  for (std::size_t i = 0; i < j.size(); ++i) v(static_cast<Eigen::Index>(i)) = j[i].get<double>();
  return v;
}

inline Eigen::VectorXi to_ivector(const json& j) {
  Eigen::VectorXi v(static_cast<Eigen::Index>(j.size()));
  for (std::size_t i = 0; i < j.size(); ++i) v(static_cast<Eigen::Index>(i)) = j[i].get<int>();
  return v;
}

/// [[row0], [row1], ...] -> rows x cols matrix (an empty array gives 0 x 0).
inline Eigen::MatrixXd to_matrix(const json& j) {
  const auto rows = static_cast<Eigen::Index>(j.size());
  const auto cols = rows == 0 ? Eigen::Index(0) : static_cast<Eigen::Index>(j[0].size());
  Eigen::MatrixXd m(rows, cols);
  for (Eigen::Index r = 0; r < rows; ++r) {
    const json& row = j[static_cast<std::size_t>(r)];
    if (static_cast<Eigen::Index>(row.size()) != cols)
      throw std::runtime_error("reference_fixture: ragged matrix in JSON");
    for (Eigen::Index c = 0; c < cols; ++c) m(r, c) = row[static_cast<std::size_t>(c)].get<double>();
  }
  return m;
}

/// K x d x d -> K dense matrices.
inline std::vector<Eigen::MatrixXd> to_matrices(const json& j) {
  std::vector<Eigen::MatrixXd> out;
  out.reserve(j.size());
  for (const auto& m : j) out.push_back(to_matrix(m));
  return out;
}

/// scikit-learn's state after GaussianMixture(..., max_iter).fit(X) from the case's init.
struct Step {
  int max_iter = 0;
  int n_iter = 0;
  bool converged = false;
  double lower_bound = 0, score = 0, bic = 0, aic = 0;
  int n_parameters = 0;
  Eigen::VectorXd weights;                 // K
  Eigen::MatrixXd means;                   // K x d (shifted back by the offset)
  Eigen::MatrixXd means_centered;          // K x d, offset cases only: means - offset
  std::vector<Eigen::MatrixXd> covariances;  // K dense d x d
  Eigen::VectorXd score_samples_test;      // n_test
  Eigen::MatrixXd predict_proba_test;      // n_test x K
  Eigen::VectorXi predict_test;            // n_test
  // What an ideal implementation achieves on this path, measured by the generator with the
  // test's relative-error rule (0 when not applicable):
  double float_simulation_error = 0;  // float E-step and parameters, sums in double
  double offset_rounding_error = 0;   // offset cases: exact EM, means rounded to doubles near the offset
};

/// One fixed starting point and the scikit-learn results for each max_iter.
struct Case {
  std::string name;
  std::string covariance_type;  // "full", "diag", "spherical", "tied"
  int n_components = 0;
  int n_features = 0;
  double reg_covar = 0;
  double offset = 0;            // data and means are stored shifted by this
  Eigen::MatrixXd X, X_test;    // n x d, n_test x d (as stored, i.e. including the offset)
  Eigen::VectorXd init_weights;
  Eigen::MatrixXd init_means;
  std::vector<Eigen::MatrixXd> init_covariances;  // dense d x d for every type
  double check_sklearn_vs_longdouble = 0;  // fixture accuracy estimated by the generator
  std::vector<Step> steps;
};

struct Fixture {
  std::string sklearn_version, numpy_version;
  std::vector<Case> cases;
};

/// Reads em_<type>.json: resolves each case's dataset and converts everything to Eigen.
inline Fixture load_em_fixture(const std::string& filename) {
  const json j = load_json(filename);
  Fixture f;
  f.sklearn_version = j.at("sklearn_version").get<std::string>();
  f.numpy_version = j.at("numpy_version").get<std::string>();
  const json& datasets = j.at("datasets");
  for (const json& c : j.at("cases")) {
    Case out;
    out.name = c.at("name").get<std::string>();
    out.covariance_type = c.at("covariance_type").get<std::string>();
    out.n_components = c.at("n_components").get<int>();
    out.n_features = c.at("n_features").get<int>();
    out.reg_covar = c.at("reg_covar").get<double>();
    out.offset = c.at("offset").get<double>();
    const json& data = datasets.at(c.at("dataset").get<std::string>());
    out.X = to_matrix(data.at("X"));
    out.X_test = to_matrix(data.at("X_test"));
    const json& init = c.at("init");
    out.init_weights = to_vector(init.at("weights"));
    out.init_means = to_matrix(init.at("means"));
    out.init_covariances = to_matrices(init.at("covariances"));
    out.check_sklearn_vs_longdouble = c.at("check").at("sklearn_vs_longdouble").get<double>();
    for (const json& s : c.at("steps")) {
      Step st;
      st.max_iter = s.at("max_iter").get<int>();
      st.n_iter = s.at("n_iter").get<int>();
      st.converged = s.at("converged").get<bool>();
      st.lower_bound = s.at("lower_bound").get<double>();
      st.score = s.at("score").get<double>();
      st.bic = s.at("bic").get<double>();
      st.aic = s.at("aic").get<double>();
      st.n_parameters = s.at("n_parameters").get<int>();
      st.weights = to_vector(s.at("weights"));
      st.means = to_matrix(s.at("means"));
      if (s.contains("means_centered")) st.means_centered = to_matrix(s.at("means_centered"));
      st.covariances = to_matrices(s.at("covariances"));
      st.score_samples_test = to_vector(s.at("score_samples_test"));
      st.predict_proba_test = to_matrix(s.at("predict_proba_test"));
      st.predict_test = to_ivector(s.at("predict_test"));
      const json& check = s.at("check");
      st.float_simulation_error = check.value("float_simulation_error", 0.0);
      st.offset_rounding_error = check.value("offset_rounding_error", 0.0);
      out.steps.push_back(std::move(st));
    }
    f.cases.push_back(std::move(out));
  }
  return f;
}

/// Same, cached: each file is parsed once per process.
inline const Fixture& em_fixture(const std::string& filename) {
  static std::map<std::string, Fixture> cache;
  auto it = cache.find(filename);
  if (it == cache.end()) it = cache.emplace(filename, load_em_fixture(filename)).first;
  return it->second;
}

/// Result of comparing an array with its reference.
struct Agreement {
  bool ok = true;
  double error = 0;      // worst max(|a - b| - atol, 0) / max(|b|, floor) over the entries
  Eigen::Index row = -1, col = -1;  // where the worst entry is
  double actual = 0, expected = 0;  // its two values
  std::string message;   // set when ok is false: shape mismatch, NaN, or the worst entry
};

/// Element-wise relative agreement of `actual` with the reference `expected`:
///   |a - b| <= atol + rtol * max(|b|, floor),  floor = floor_fraction * max_entries |b|,
/// so entries near zero are judged against the scale of the whole array rather than their
/// own magnitude. atol (default 0) is for quantities whose representation has an absolute
/// resolution (e.g. means near a large offset).
template <class A, class B>
Agreement relative_agreement(const Eigen::MatrixBase<A>& actual, const Eigen::MatrixBase<B>& expected,
                             double rtol, double floor_fraction = 1e-3, double atol = 0) {
  Agreement res;
  std::ostringstream msg;
  msg.precision(17);
  if (actual.rows() != expected.rows() || actual.cols() != expected.cols()) {
    res.ok = false;
    res.error = std::numeric_limits<double>::infinity();
    msg << "shape " << actual.rows() << "x" << actual.cols() << ", expected " << expected.rows()
        << "x" << expected.cols();
    res.message = msg.str();
    return res;
  }
  const Eigen::MatrixXd a = actual.template cast<double>();
  const Eigen::MatrixXd b = expected.template cast<double>();
  const double scale = b.size() == 0 ? 0.0 : b.cwiseAbs().maxCoeff();
  const double floor = floor_fraction * scale;
  for (Eigen::Index c = 0; c < b.cols(); ++c) {
    for (Eigen::Index r = 0; r < b.rows(); ++r) {
      const double diff = std::abs(a(r, c) - b(r, c));
      const double den = std::max({std::abs(b(r, c)), floor, std::numeric_limits<double>::min()});
      double err = std::max(diff - atol, 0.0) / den;
      if (!std::isfinite(a(r, c))) err = std::numeric_limits<double>::infinity();
      if (err > res.error || res.row < 0) {
        res.error = err;
        res.row = r;
        res.col = c;
        res.actual = a(r, c);
        res.expected = b(r, c);
      }
    }
  }
  res.ok = res.error <= rtol;
  if (!res.ok) {
    msg << "relative error " << res.error << " > " << rtol << " at (" << res.row << "," << res.col
        << "): actual " << res.actual << ", expected " << res.expected;
    res.message = msg.str();
  }
  return res;
}

/// Scalar version of relative_agreement (plain relative error, no floor).
inline Agreement relative_agreement(double actual, double expected, double rtol, double atol = 0) {
  Eigen::Matrix<double, 1, 1> a, b;
  a(0, 0) = actual;
  b(0, 0) = expected;
  return relative_agreement(a, b, rtol, 1.0, atol);
}

}  // namespace gaussmix_test
