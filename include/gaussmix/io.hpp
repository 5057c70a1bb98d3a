// SPDX-License-Identifier: MIT
// Optional header: saves and loads a fitted GaussianMixture or BayesianGaussianMixture as JSON. It needs nlohmann/json 3
// (Debian: nlohmann-json3-dev; CMake: find_package(nlohmann_json 3) and link
// nlohmann_json::nlohmann_json) and is not included by gaussmix.hpp. The format is described
// field by field in docs/model_format.md.
#pragma once

#include <Eigen/Core>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <istream>
#include <limits>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "bayesian_mixture.hpp"
#include "gaussian_mixture.hpp"
#include "options.hpp"
#include "version.hpp"

namespace gaussmix {

/// A model file that cannot be loaded: not JSON, truncated, another format or version, wrong
/// shapes, non-finite numbers, parameters the model rejects, or a file of the other kind of model.
/// Messages start with "gaussmix: load_json:" (or "gaussmix: load_bayesian_json:").
class FormatError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// The value of the "format" field of a model file.
inline constexpr const char* model_format_name = "gaussmix-model";
/// The "version" of the model files this header writes, and the only one it reads.
inline constexpr int model_format_version = 1;
/// The "format" of a BayesianGaussianMixture file (its own name, so that a reader of GaussianMixture
/// files, gaussmix 0.1 included, refuses it rather than misreading it as a point estimate).
inline constexpr const char* bayesian_model_format_name = "gaussmix-bayesian-model";

namespace detail::io {

using ordered_json = nlohmann::ordered_json;

[[noreturn]] inline void format_error(const std::string& what) { throw FormatError("gaussmix: load_json: " + what); }

// Re-throws a library error ("gaussmix: set_parameters: ...") as a FormatError of load_json.
[[noreturn]] inline void rethrow_as_format_error(const std::exception& error) {
  std::string what = error.what();
  for (const char* prefix : {"gaussmix: ", "set_parameters: ", "set_posterior: "})
    if (what.rfind(prefix, 0) == 0) what.erase(0, std::char_traits<char>::length(prefix));
  format_error(what);
}

// Pretty-prints `value`: objects one member per line, arrays of scalars on one line (a matrix is
// one row per line). Numbers go through nlohmann's serializer, which writes the shortest text that
// parses back to the same double.
inline void write_json(std::ostream& out, const ordered_json& value, int indent) {
  const std::string pad(static_cast<std::size_t>(indent) + 2, ' ');
  if (value.is_object()) {
    out << "{\n";
    bool first = true;
    for (auto it = value.begin(); it != value.end(); ++it) {
      out << (first ? "" : ",\n") << pad << ordered_json(it.key()).dump() << ": ";
      write_json(out, it.value(), indent + 2);
      first = false;
    }
    out << "\n" << std::string(static_cast<std::size_t>(indent), ' ') << "}";
  } else if (value.is_array()) {
    bool flat = true;
    for (const auto& element : value) flat = flat && element.is_primitive();
    if (flat) {
      out << "[";
      for (std::size_t i = 0; i < value.size(); ++i) out << (i ? ", " : "") << value[i].dump();
      out << "]";
    } else {
      out << "[\n";
      for (std::size_t i = 0; i < value.size(); ++i) {
        out << (i ? ",\n" : "") << pad;
        write_json(out, value[i], indent + 2);
      }
      out << "\n" << std::string(static_cast<std::size_t>(indent), ' ') << "]";
    }
  } else {
    out << value.dump();
  }
}

template <class Row>
ordered_json json_row(const Row& row) {
  ordered_json out = ordered_json::array();
  for (Eigen::Index j = 0; j < row.size(); ++j) out.push_back(static_cast<double>(row(j)));
  return out;
}

// partial_fit's running statistics, exactly as held (unnormalised, about their reference points).
template <typename Scalar, int Dim>
ordered_json online_state_to_json(const GaussianMixture<Scalar, Dim>& model) {
  const auto& s = model.online_statistics();
  auto table = [](const auto& m) {
    ordered_json out = ordered_json::array();
    for (Eigen::Index i = 0; i < m.rows(); ++i) out.push_back(json_row(m.row(i)));
    return out;
  };
  ordered_json state;
  state["steps"] = model.online_steps();
  state["total_weight"] = s.total_weight;
  state["log_likelihood"] = s.log_likelihood;
  state["reference"] = table(s.reference);
  state["weight"] = json_row(s.weight);
  state["first"] = table(s.first);
  switch (s.type) {
    case CovarianceType::Full: {
      ordered_json second = ordered_json::array();
      for (const auto& m : s.second) second.push_back(table(m));
      state["second"] = std::move(second);
      break;
    }
    case CovarianceType::Tied:
      state["second"] = table(s.second[0]);
      break;
    case CovarianceType::Diagonal:
    case CovarianceType::Spherical:
      state["second"] = table(s.second_diagonal);
      break;
  }
  return state;
}

template <class M>
ordered_json matrix_json(const M& m) {
  ordered_json out = ordered_json::array();
  for (Eigen::Index i = 0; i < m.rows(); ++i) out.push_back(json_row(m.row(i)));
  return out;
}

// K dense d x d matrices in scikit-learn's covariances_ shape for the type: K x d x d (full), d x d
// (tied), K x d (diag: the diagonals), K (spherical).
template <class Matrix>
ordered_json covariances_to_json(CovarianceType type, const std::vector<Matrix>& matrices) {
  ordered_json covs = ordered_json::array();
  switch (type) {
    case CovarianceType::Full:
      for (const auto& m : matrices) covs.push_back(matrix_json(m));
      break;
    case CovarianceType::Tied:
      covs = matrix_json(matrices[0]);
      break;
    case CovarianceType::Diagonal:
      for (const auto& m : matrices) covs.push_back(json_row(m.diagonal()));
      break;
    case CovarianceType::Spherical:
      for (const auto& m : matrices) covs.push_back(static_cast<double>(m(0, 0)));
      break;
  }
  return covs;
}

// The first fields of every model file, up to "covariances".
template <typename Scalar, class Weights, class Means, class Matrix>
ordered_json parameters_to_json(const char* format, CovarianceType type, const Weights& weights, const Means& means,
                                const std::vector<Matrix>& covariances) {
  ordered_json doc;
  doc["format"] = format;
  doc["version"] = model_format_version;
  doc["gaussmix_version"] = version_string;
  doc["scalar"] = std::is_same_v<Scalar, float> ? "float" : "double";
  doc["covariance_type"] = to_string(type);
  doc["n_components"] = static_cast<int>(means.rows());
  doc["n_features"] = static_cast<int>(means.cols());
  doc["weights"] = json_row(weights);
  doc["means"] = matrix_json(means);
  doc["covariances"] = covariances_to_json(type, covariances);
  return doc;
}

inline ordered_json options_to_json(const Options& o) {
  ordered_json out = {{"tol", o.tol},
                      {"reg_covar", o.reg_covar},
                      {"max_iter", o.max_iter},
                      {"n_init", o.n_init},
                      {"init_params", to_string(o.init_params)},
                      {"seed", o.seed},
                      {"warm_start", o.warm_start}};
  // Written only when not the default, so that files of models without it stay as they were.
  if (o.missing == MissingValues::Marginalise) out["missing"] = "marginalise";
  return out;
}

inline ordered_json fit_to_json(const FitResult& fit) {
  ordered_json out = {{"converged", fit.converged}, {"n_iter", fit.n_iter}, {"stopped", fit.stopped}};
  // A run that stopped before its first E-step has no lower bound; JSON has no -inf.
  if (std::isfinite(fit.lower_bound)) out["lower_bound"] = fit.lower_bound;
  return out;
}

template <typename Scalar, int Dim>
ordered_json model_to_json(const GaussianMixture<Scalar, Dim>& model, const FitResult* fit) {
  if (!model.is_fitted())
    throw std::logic_error(
        "gaussmix: save_json: the model has no parameters yet; call fit() or set_parameters() first");
  const Options& o = model.options();
  ordered_json doc = parameters_to_json<Scalar>(model_format_name, model.covariance_type(), model.weights(),
                                                model.means(), model.covariances());
  doc["options"] = options_to_json(o);
  doc["options"]["online"] = {{"step_decay", o.online.step_decay}, {"step_offset", o.online.step_offset}};
  if (o.online.constant_step) doc["options"]["online"]["constant_step"] = *o.online.constant_step;
  if (model.online_steps() > 0) doc["online_state"] = online_state_to_json(model);
  if (fit) doc["fit"] = fit_to_json(*fit);
  return doc;
}

inline ordered_json priors_to_json(const BayesianPriors& q) {
  ordered_json out;
  out["weight_prior"] = to_string(q.weight_prior);
  if (q.weight_concentration) out["weight_concentration"] = *q.weight_concentration;
  if (q.mean_precision) out["mean_precision"] = *q.mean_precision;
  if (q.mean) out["mean"] = json_row(*q.mean);
  if (q.degrees_of_freedom) out["degrees_of_freedom"] = *q.degrees_of_freedom;
  if (q.covariance) out["covariance"] = matrix_json(*q.covariance);
  return out;
}

// A BayesianGaussianMixture: the point-estimate fields of a GaussianMixture file (scikit-learn's
// weights_, means_, covariances_), the precision factors, the posterior and both sets of priors.
template <typename Scalar, int Dim>
ordered_json model_to_json(const BayesianGaussianMixture<Scalar, Dim>& model, const FitResult* fit) {
  if (!model.is_fitted())
    throw std::logic_error("gaussmix: save_json: the model has no posterior yet; call fit() or m_step() first");
  const int K = model.n_components();
  const CovarianceType type = model.covariance_type();
  const auto& post = model.posterior();
  const auto& covs = post.expectation.covariances;
  ordered_json doc = parameters_to_json<Scalar>(bayesian_model_format_name, type, model.weights(), model.means(),
                                                model.covariances());
  ordered_json factors = ordered_json::array();
  switch (type) {
    case CovarianceType::Full:
      for (int k = 0; k < K; ++k) factors.push_back(matrix_json(covs.precision_factor(k)));
      break;
    case CovarianceType::Tied:
      factors = matrix_json(covs.precision_factor(0));
      break;
    case CovarianceType::Diagonal:
      factors = matrix_json(covs.inverse_standard_deviations());
      break;
    case CovarianceType::Spherical:
      factors = json_row(covs.inverse_standard_deviations().col(0));
      break;
  }
  doc["precisions_cholesky"] = std::move(factors);
  // scikit-learn's weight_concentration_: the tuple of the two Beta parameter arrays, or one array.
  const Eigen::MatrixXd& wc = post.weight_concentration;
  if (wc.cols() == 2)
    doc["weight_concentration"] = {json_row(wc.col(0)), json_row(wc.col(1))};
  else
    doc["weight_concentration"] = json_row(wc.col(0));
  doc["mean_precision"] = json_row(post.mean_precision);
  doc["degrees_of_freedom"] = json_row(post.degrees_of_freedom);
  // What fit with warm_start continues from; -inf (after m_step alone) is left out.
  if (std::isfinite(model.lower_bound())) doc["lower_bound"] = model.lower_bound();
  doc["priors"] = priors_to_json(model.priors());
  doc["resolved_priors"] = priors_to_json(model.resolved_priors());
  doc["options"] = options_to_json(model.options());
  if (fit) doc["fit"] = fit_to_json(*fit);
  return doc;
}

template <class Model>
void save_json_to_stream(const Model& model, std::ostream& out, const FitResult* fit) {
  std::ostringstream text;  // built whole first: a failure here writes nothing
  write_json(text, model_to_json(model, fit), 0);
  text << "\n";
  out << text.str();
  out.flush();
  if (!out) throw std::runtime_error("gaussmix: save_json: writing the model failed");
}

template <class Model>
void save_json_to_path(const Model& model, const std::string& path, const FitResult* fit) {
  std::ostringstream text;
  write_json(text, model_to_json(model, fit), 0);
  text << "\n";
  std::ofstream out(path, std::ios::binary);
  if (!out) throw std::runtime_error("gaussmix: save_json: cannot open '" + path + "' for writing");
  out << text.str();
  out.close();
  if (!out) throw std::runtime_error("gaussmix: save_json: writing '" + path + "' failed");
}

inline std::string quoted(const std::string& key) { return "\"" + key + "\""; }

inline const nlohmann::json& require_field(const nlohmann::json& doc, const std::string& key) {
  const auto it = doc.find(key);
  if (it == doc.end()) format_error("the field " + quoted(key) + " is missing");
  return *it;
}

// A positive int field (n_components, n_features, max_iter, ...).
inline int positive_int(const nlohmann::json& value, const std::string& name) {
  if (!value.is_number_integer() || value.get<std::int64_t>() < 1 ||
      value.get<std::int64_t>() > std::numeric_limits<int>::max())
    format_error(name + " must be a positive integer, got " + value.dump());
  return static_cast<int>(value.get<std::int64_t>());
}

// A number that is finite once converted to Scalar.
template <typename Scalar>
Scalar finite_number(const nlohmann::json& value, const std::string& name) {
  if (!value.is_number()) format_error(name + " must be a number, got " + value.dump());
  const double x = value.get<double>();
  const Scalar s = static_cast<Scalar>(x);
  if (!std::isfinite(x) || !std::isfinite(s))
    format_error(name + " = " + value.dump() + " is not a finite " +
                 (std::is_same_v<Scalar, float> ? "float" : "double"));
  return s;
}

// A JSON array of exactly `size` elements; `what` says what it holds, for the message.
inline const nlohmann::json& array_of(const nlohmann::json& value, std::size_t size, const std::string& name,
                                      const std::string& what) {
  if (!value.is_array() || value.size() != size) {
    std::string got = value.is_array() ? "an array of " + std::to_string(value.size()) : std::string(value.type_name());
    format_error(name + " must be an array of " + what + ", got " + got);
  }
  return value;
}

// The "online_state" object into the model (partial_fit continues from it).
template <typename Scalar, int Dim>
void read_online_state(const nlohmann::json& state, GaussianMixture<Scalar, Dim>& model, CovarianceType type, int K,
                       int d) {
  if (!state.is_object()) format_error("\"online_state\" must be an object, got " + state.dump());
  const std::string K_text = std::to_string(K), d_text = std::to_string(d);
  auto field = [&](const char* key) -> const nlohmann::json& {
    const auto it = state.find(key);
    if (it == state.end()) format_error(std::string("\"online_state\".") + key + " is missing");
    return *it;
  };
  auto name = [](const std::string& key) { return "\"online_state\"." + key; };
  auto table = [&](const nlohmann::json& value, int rows, const std::string& label) {
    Eigen::Matrix<double, Eigen::Dynamic, Dim> out(rows, d);
    array_of(value, static_cast<std::size_t>(rows), label, std::to_string(rows) + " arrays of n_features = " + d_text);
    for (int i = 0; i < rows; ++i) {
      const std::string row = label + "[" + std::to_string(i) + "]";
      array_of(value[i], static_cast<std::size_t>(d), row, "n_features = " + d_text + " numbers");
      for (int j = 0; j < d; ++j) out(i, j) = finite_number<double>(value[i][j], row + "[" + std::to_string(j) + "]");
    }
    return out;
  };
  const nlohmann::json& steps = field("steps");
  if (!steps.is_number_integer() || steps.get<std::int64_t>() < 1)
    format_error(name("steps") + " must be a positive integer, got " + steps.dump());
  SufficientStatistics<Dim> s;
  s.reset(type, table(field("reference"), K, name("reference")));
  s.total_weight = finite_number<double>(field("total_weight"), name("total_weight"));
  s.log_likelihood = finite_number<double>(field("log_likelihood"), name("log_likelihood"));
  const nlohmann::json& weight = array_of(field("weight"), K, name("weight"), "n_components = " + K_text + " numbers");
  for (int k = 0; k < K; ++k) s.weight(k) = finite_number<double>(weight[k], name("weight[") + std::to_string(k) + "]");
  s.first = table(field("first"), K, name("first"));
  const nlohmann::json& second = field("second");
  switch (type) {
    case CovarianceType::Full:
      array_of(second, K, name("second"), "n_components = " + K_text + " matrices");
      for (int k = 0; k < K; ++k) s.second[k] = table(second[k], d, name("second[") + std::to_string(k) + "]");
      break;
    case CovarianceType::Tied:
      s.second[0] = table(second, d, name("second"));
      break;
    case CovarianceType::Diagonal:
    case CovarianceType::Spherical:
      s.second_diagonal = table(second, K, name("second"));
      break;
  }
  model.set_online_state(s, steps.get<std::int64_t>());  // throws invalid_argument, made a FormatError above
}

// "format" and "version"; a file of the other kind of model is named, with the loader it needs.
inline void check_format(const nlohmann::json& doc, bool bayesian) {
  if (!doc.is_object()) format_error("the file holds a JSON " + std::string(doc.type_name()) + ", not a model object");
  const std::string expected = bayesian ? bayesian_model_format_name : model_format_name;
  const auto format = doc.find("format");
  if (format == doc.end())
    format_error("no \"format\" field; this is not a gaussmix model file (expected \"format\": \"" + expected +
                 "\")");
  const std::string name = format->is_string() ? format->get<std::string>() : std::string();
  if (!bayesian && name == bayesian_model_format_name)
    format_error("the file holds a BayesianGaussianMixture (\"format\": \"" + name +
                 "\"), not a GaussianMixture; load it with load_bayesian_json");
  if (bayesian && name == model_format_name)
    format_error("the file holds a GaussianMixture (\"format\": \"" + name +
                 "\"), not a BayesianGaussianMixture; load it with load_json");
  if (!format->is_string() || name != expected)
    format_error("\"format\" is " + format->dump() + ", expected \"" + expected +
                 "\"; this is not a gaussmix model file");
  const nlohmann::json& version = require_field(doc, "version");
  if (!version.is_number_integer() || version.get<std::int64_t>() != model_format_version)
    format_error("unsupported \"version\" " + version.dump() + "; this gaussmix (" + version_string +
                 ") reads version " + std::to_string(model_format_version));
}

// What both kinds of file hold: the options and the point-estimate parameters, checked.
template <typename Scalar, int Dim>
struct FileParameters {
  Options options;
  int K = 0, d = 0;
  Eigen::Matrix<Scalar, Eigen::Dynamic, 1> weights;
  Eigen::Matrix<Scalar, Eigen::Dynamic, Dim> means;
  std::vector<Eigen::Matrix<Scalar, Dim, Dim>> covariances;
};

template <typename Scalar, int Dim>
FileParameters<Scalar, Dim> read_parameters(const nlohmann::json& doc, bool bayesian) {
  using Matrix = Eigen::Matrix<Scalar, Dim, Dim>;
  check_format(doc, bayesian);

  const nlohmann::json& type_json = require_field(doc, "covariance_type");
  Options options;
  {
    const std::string name = type_json.is_string() ? type_json.get<std::string>() : std::string();
    bool known = false;
    for (CovarianceType t :
         {CovarianceType::Full, CovarianceType::Diagonal, CovarianceType::Spherical, CovarianceType::Tied})
      if (name == to_string(t)) {
        options.covariance_type = t;
        known = true;
      }
    if (!known)
      format_error("\"covariance_type\" is " + type_json.dump() +
                   ", expected one of \"full\", \"diag\", \"spherical\", \"tied\"");
  }
  const CovarianceType type = options.covariance_type;
  const int K = positive_int(require_field(doc, "n_components"), "\"n_components\"");
  const int d = positive_int(require_field(doc, "n_features"), "\"n_features\"");
  if (Dim != Eigen::Dynamic && d != Dim)
    format_error("the file has \"n_features\" = " + std::to_string(d) + ", but the model type has Dim = " +
                 std::to_string(Dim) + "; load it with Dim = " + std::to_string(d) + " or Eigen::Dynamic");
  options.n_components = K;
  const std::string K_text = std::to_string(K), d_text = std::to_string(d);

  // weights: K numbers >= 0 summing to 1
  const nlohmann::json& weights_json =
      array_of(require_field(doc, "weights"), K, "\"weights\"", "n_components = " + K_text + " numbers");
  Eigen::Matrix<Scalar, Eigen::Dynamic, 1> weights(K);
  double sum = 0;
  for (int k = 0; k < K; ++k) {
    weights(k) = finite_number<Scalar>(weights_json[k], "\"weights\"[" + std::to_string(k) + "]");
    if (weights(k) < 0)
      format_error("\"weights\"[" + std::to_string(k) + "] = " + weights_json[k].dump() + " is negative");
    sum += static_cast<double>(weights(k));
  }
  if (!(std::abs(sum - 1) <= 1e-6)) {
    std::ostringstream message;
    message.precision(17);
    message << "\"weights\" sum to " << sum << ", not 1 (tolerance 1e-6)";
    format_error(message.str());
  }

  // means: K x d
  const nlohmann::json& means_json = array_of(require_field(doc, "means"), K, "\"means\"",
                                              "n_components = " + K_text + " arrays of n_features = " + d_text);
  Eigen::Matrix<Scalar, Eigen::Dynamic, Dim> means(K, d);
  for (int k = 0; k < K; ++k) {
    const std::string row = "\"means\"[" + std::to_string(k) + "]";
    array_of(means_json[k], d, row, "n_features = " + d_text + " numbers");
    for (int j = 0; j < d; ++j)
      means(k, j) = finite_number<Scalar>(means_json[k][j], row + "[" + std::to_string(j) + "]");
  }

  // covariances, in scikit-learn's covariances_ shape for the type
  const nlohmann::json& covs_json = require_field(doc, "covariances");
  std::vector<Matrix> covariances(static_cast<std::size_t>(K), Matrix::Zero(d, d));
  auto read_matrix = [&](const nlohmann::json& value, const std::string& name, Matrix& out) {
    array_of(value, d, name, "n_features = " + d_text + " rows");
    for (int i = 0; i < d; ++i) {
      const std::string row = name + "[" + std::to_string(i) + "]";
      array_of(value[i], d, row, "n_features = " + d_text + " numbers");
      for (int j = 0; j < d; ++j) out(i, j) = finite_number<Scalar>(value[i][j], row + "[" + std::to_string(j) + "]");
    }
  };
  switch (type) {
    case CovarianceType::Full:
      array_of(covs_json, K, "\"covariances\"",
               "n_components = " + K_text + " matrices (n_components x n_features x n_features for \"full\")");
      for (int k = 0; k < K; ++k)
        read_matrix(covs_json[k], "\"covariances\"[" + std::to_string(k) + "]", covariances[k]);
      break;
    case CovarianceType::Tied:
      read_matrix(covs_json, "\"covariances\" (one n_features x n_features matrix for \"tied\")", covariances[0]);
      for (int k = 1; k < K; ++k) covariances[k] = covariances[0];
      break;
    case CovarianceType::Diagonal:
      array_of(covs_json, K, "\"covariances\"",
               "n_components = " + K_text + " arrays of n_features = " + d_text + " variances (for \"diag\")");
      for (int k = 0; k < K; ++k) {
        const std::string row = "\"covariances\"[" + std::to_string(k) + "]";
        array_of(covs_json[k], d, row, "n_features = " + d_text + " variances");
        for (int j = 0; j < d; ++j)
          covariances[k](j, j) = finite_number<Scalar>(covs_json[k][j], row + "[" + std::to_string(j) + "]");
      }
      break;
    case CovarianceType::Spherical:
      array_of(covs_json, K, "\"covariances\"", "n_components = " + K_text + " variances (for \"spherical\")");
      for (int k = 0; k < K; ++k)
        covariances[k].diagonal().setConstant(
            finite_number<Scalar>(covs_json[k], "\"covariances\"[" + std::to_string(k) + "]"));
      break;
  }

  // options: optional; a missing field keeps its default
  const auto options_json = doc.find("options");
  if (options_json != doc.end()) {
    if (!options_json->is_object()) format_error("\"options\" must be an object, got " + options_json->dump());
    const nlohmann::json& o = *options_json;
    auto name = [](const char* field) { return std::string("\"options\".") + field; };
    if (o.contains("tol")) options.tol = finite_number<double>(o["tol"], name("tol"));
    if (o.contains("reg_covar")) options.reg_covar = finite_number<double>(o["reg_covar"], name("reg_covar"));
    if (o.contains("max_iter")) options.max_iter = positive_int(o["max_iter"], name("max_iter"));
    if (o.contains("n_init")) options.n_init = positive_int(o["n_init"], name("n_init"));
    if (o.contains("init_params")) {
      const nlohmann::json& v = o["init_params"];
      bool known = false;
      for (InitMethod m :
           {InitMethod::KMeans, InitMethod::KMeansPlusPlus, InitMethod::Random, InitMethod::RandomFromData})
        if (v.is_string() && v.get<std::string>() == to_string(m)) {
          options.init_params = m;
          known = true;
        }
      if (!known)
        format_error(name("init_params") + " is " + v.dump() +
                     ", expected one of \"kmeans\", \"k-means++\", \"random\", \"random_from_data\"");
    }
    if (o.contains("seed")) {
      if (!o["seed"].is_number_unsigned())
        format_error(name("seed") + " must be an integer in [0, 2^64), got " + o["seed"].dump());
      options.seed = o["seed"].get<std::uint64_t>();
    }
    if (o.contains("warm_start")) {
      if (!o["warm_start"].is_boolean())
        format_error(name("warm_start") + " must be true or false, got " + o["warm_start"].dump());
      options.warm_start = o["warm_start"].get<bool>();
    }
    if (o.contains("missing")) {
      const nlohmann::json& v = o["missing"];
      if (v == "reject")
        options.missing = MissingValues::Reject;
      else if (v == "marginalise")
        options.missing = MissingValues::Marginalise;
      else
        format_error(name("missing") + " is " + v.dump() + ", expected \"reject\" or \"marginalise\"");
    }
    if (o.contains("online")) {
      const nlohmann::json& online = o["online"];
      if (!online.is_object()) format_error(name("online") + " must be an object, got " + online.dump());
      if (online.contains("step_decay"))
        options.online.step_decay = finite_number<double>(online["step_decay"], name("online.step_decay"));
      if (online.contains("step_offset"))
        options.online.step_offset = finite_number<double>(online["step_offset"], name("online.step_offset"));
      if (online.contains("constant_step"))
        options.online.constant_step = finite_number<double>(online["constant_step"], name("online.constant_step"));
    }
  }

  return {options, K, d, std::move(weights), std::move(means), std::move(covariances)};
}

template <typename Scalar, int Dim>
GaussianMixture<Scalar, Dim> model_from_json(const nlohmann::json& doc) {
  FileParameters<Scalar, Dim> f = read_parameters<Scalar, Dim>(doc, false);
  try {
    GaussianMixture<Scalar, Dim> model(f.options);               // validates the options
    model.set_parameters(f.weights, f.means, f.covariances);  // symmetry, type shape, positive definiteness
    const auto state = doc.find("online_state");
    if (state != doc.end()) read_online_state(*state, model, f.options.covariance_type, f.K, f.d);
    return model;
  } catch (const FormatError&) {
    throw;
  } catch (const std::invalid_argument& error) {
    rethrow_as_format_error(error);
  }
}

// A JSON array of `n` finite numbers (doubles).
inline Eigen::VectorXd numbers(const nlohmann::json& value, int n, const std::string& name, const std::string& what) {
  array_of(value, static_cast<std::size_t>(n), name, what);
  Eigen::VectorXd out(n);
  for (int i = 0; i < n; ++i) out(i) = finite_number<double>(value[i], name + "[" + std::to_string(i) + "]");
  return out;
}

// A JSON array of `rows` arrays of `cols` finite numbers (doubles).
inline Eigen::MatrixXd number_table(const nlohmann::json& value, int rows, int cols, const std::string& name) {
  array_of(value, static_cast<std::size_t>(rows), name, std::to_string(rows) + " arrays of " + std::to_string(cols) + " numbers");
  Eigen::MatrixXd out(rows, cols);
  for (int i = 0; i < rows; ++i)
    out.row(i) = numbers(value[i], cols, name + "[" + std::to_string(i) + "]", std::to_string(cols) + " numbers").transpose();
  return out;
}

// A "priors" (given; a missing field is scikit-learn's default) or "resolved_priors" (`all`: every
// field required) object.
inline BayesianPriors read_priors(const nlohmann::json& doc, const std::string& key, int d, bool all) {
  const nlohmann::json& q = require_field(doc, key);
  if (!q.is_object()) format_error(quoted(key) + " must be an object, got " + q.dump());
  const std::string prefix = quoted(key) + ".";
  auto field = [&](const char* name, bool required) -> const nlohmann::json* {
    const auto it = q.find(name);
    if (it != q.end()) return &*it;
    if (required) format_error(prefix + name + " is missing");
    return nullptr;
  };
  BayesianPriors out;
  const nlohmann::json& weight_prior = *field("weight_prior", true);
  if (weight_prior == to_string(WeightPrior::DirichletProcess))
    out.weight_prior = WeightPrior::DirichletProcess;
  else if (weight_prior == to_string(WeightPrior::DirichletDistribution))
    out.weight_prior = WeightPrior::DirichletDistribution;
  else
    format_error(prefix + "weight_prior is " + weight_prior.dump() +
                 ", expected \"dirichlet_process\" or \"dirichlet_distribution\"");
  if (const auto* v = field("weight_concentration", all))
    out.weight_concentration = finite_number<double>(*v, prefix + "weight_concentration");
  if (const auto* v = field("mean_precision", all)) out.mean_precision = finite_number<double>(*v, prefix + "mean_precision");
  if (const auto* v = field("mean", all))
    out.mean = numbers(*v, d, prefix + "mean", "n_features = " + std::to_string(d) + " numbers");
  if (const auto* v = field("degrees_of_freedom", all))
    out.degrees_of_freedom = finite_number<double>(*v, prefix + "degrees_of_freedom");
  if (const auto* v = field("covariance", all)) out.covariance = number_table(*v, d, d, prefix + "covariance");
  return out;
}

template <typename Scalar, int Dim>
BayesianGaussianMixture<Scalar, Dim> bayesian_model_from_json(const nlohmann::json& doc) {
  using Model = BayesianGaussianMixture<Scalar, Dim>;
  FileParameters<Scalar, Dim> f = read_parameters<Scalar, Dim>(doc, true);
  const int K = f.K, d = f.d;
  const CovarianceType type = f.options.covariance_type;
  const std::string K_numbers = "n_components = " + std::to_string(K) + " numbers";
  const BayesianPriors priors = read_priors(doc, "priors", d, false);
  const BayesianPriors resolved = read_priors(doc, "resolved_priors", d, true);
  if (resolved.weight_prior != priors.weight_prior)
    format_error("\"resolved_priors\".weight_prior differs from \"priors\".weight_prior");
  const bool process = priors.weight_prior == WeightPrior::DirichletProcess;
  const nlohmann::json& wc_json = require_field(doc, "weight_concentration");
  Eigen::MatrixXd wc(K, process ? 2 : 1);
  if (process) {
    array_of(wc_json, 2, "\"weight_concentration\"",
             "2 arrays of " + K_numbers + " (the Beta parameters, for \"dirichlet_process\")");
    for (int c = 0; c < 2; ++c)
      wc.col(c) = numbers(wc_json[c], K, "\"weight_concentration\"[" + std::to_string(c) + "]", K_numbers);
  } else {
    wc.col(0) = numbers(wc_json, K, "\"weight_concentration\"", K_numbers + " (for \"dirichlet_distribution\")");
  }
  const Eigen::VectorXd mean_precision =
      numbers(require_field(doc, "mean_precision"), K, "\"mean_precision\"", K_numbers);
  const Eigen::VectorXd dof = numbers(require_field(doc, "degrees_of_freedom"), K, "\"degrees_of_freedom\"", K_numbers);
  double lower_bound = -std::numeric_limits<double>::infinity();
  if (doc.contains("lower_bound")) lower_bound = finite_number<double>(doc["lower_bound"], "\"lower_bound\"");

  try {
    Model model(f.options, priors);  // validates the options and the given priors
    model.set_posterior(wc, mean_precision, dof, f.means, f.covariances, resolved, lower_bound);
    // "weights" and "precisions_cholesky" follow from the rest; a file where they do not is damaged.
    const Eigen::VectorXd& expected = model.posterior().weights;
    for (int k = 0; k < K; ++k)
      if (!(std::abs(static_cast<double>(f.weights(k)) - expected(k)) <= 1e-6)) {
        std::ostringstream message;
        message.precision(17);
        message << "\"weights\"[" << k << "] = " << static_cast<double>(f.weights(k)) << " is not the expected weight "
                << expected(k) << " of \"weight_concentration\" (tolerance 1e-6)";
        format_error(message.str());
      }
    const auto factors = doc.find("precisions_cholesky");
    if (factors != doc.end()) {
      const auto& covs = model.posterior().expectation.covariances;
      const std::string name = "\"precisions_cholesky\"";
      auto check = [&](const Eigen::MatrixXd& given, const Eigen::MatrixXd& own, int k) {
        const double scale = own.cwiseAbs().maxCoeff();
        if (!((given - own).cwiseAbs().maxCoeff() <= 1e-6 * scale))
          format_error(name + (k >= 0 ? "[" + std::to_string(k) + "]" : std::string()) +
                       " is not the Cholesky factor of the precision of \"covariances\"" +
                       (k >= 0 ? "[" + std::to_string(k) + "]" : std::string()) + " (relative tolerance 1e-6)");
      };
      switch (type) {
        case CovarianceType::Full:
          array_of(*factors, static_cast<std::size_t>(K), name, "n_components = " + std::to_string(K) + " matrices");
          for (int k = 0; k < K; ++k)
            check(number_table((*factors)[k], d, d, name + "[" + std::to_string(k) + "]"),
                  covs.precision_factor(k).template cast<double>(), k);
          break;
        case CovarianceType::Tied:
          check(number_table(*factors, d, d, name), covs.precision_factor(0).template cast<double>(), -1);
          break;
        case CovarianceType::Diagonal: {
          const Eigen::MatrixXd given = number_table(*factors, K, d, name);
          for (int k = 0; k < K; ++k)
            check(given.row(k), covs.inverse_standard_deviations().row(k).template cast<double>(), k);
          break;
        }
        case CovarianceType::Spherical: {
          const Eigen::VectorXd given = numbers(*factors, K, name, K_numbers);
          for (int k = 0; k < K; ++k)
            check(given.row(k), covs.inverse_standard_deviations().row(k).template cast<double>(), k);
          break;
        }
      }
    }
    return model;
  } catch (const FormatError&) {
    throw;
  } catch (const std::invalid_argument& error) {
    rethrow_as_format_error(error);
  }
}

inline nlohmann::json parse_document(std::istream& in) {
  try {
    return nlohmann::json::parse(in);  // strict: nothing but white space may follow the model
  } catch (const nlohmann::json::exception& error) {
    std::string what = error.what();
    if (what.find("invalid literal") != std::string::npos) what += " (NaN and Infinity are not JSON numbers)";
    format_error("not a valid JSON document (truncated or damaged?): " + what);
  }
}

template <typename Scalar, int Dim>
GaussianMixture<Scalar, Dim> load_json_from_stream(std::istream& in) {
  return model_from_json<Scalar, Dim>(parse_document(in));
}

// The FormatError `error` (of load_json) again, as one of `function`, naming the file `path` if not empty:
// "gaussmix: load_bayesian_json: 'model.json': ...".
[[noreturn]] inline void rename_format_error(const FormatError& error, const std::string& function,
                                             const std::string& path) {
  const std::string what = error.what();
  const std::string prefix = "gaussmix: load_json: ";
  const std::string rest = what.rfind(prefix, 0) == 0 ? what.substr(prefix.size()) : what;
  throw FormatError("gaussmix: " + function + ": " + (path.empty() ? std::string() : "'" + path + "': ") + rest);
}

template <typename Scalar, int Dim>
BayesianGaussianMixture<Scalar, Dim> load_bayesian_json_from_stream(std::istream& in, const std::string& path) {
  try {
    return bayesian_model_from_json<Scalar, Dim>(parse_document(in));
  } catch (const FormatError& error) {
    rename_format_error(error, "load_bayesian_json", path);
  }
}

}  // namespace detail::io

/// Writes a fitted model to `out` as JSON (format "gaussmix-model", version 1; see
/// docs/model_format.md). Numbers are written so that load_json gives back identical parameters.
/// Throws std::logic_error if the model has no parameters, std::runtime_error if writing fails.
template <typename Scalar, int Dim>
void save_json(const GaussianMixture<Scalar, Dim>& model, std::ostream& out) {
  detail::io::save_json_to_stream(model, out, nullptr);
}

/// As save_json(model, out), also recording the fit's outcome (converged, n_iter, lower_bound,
/// stopped) in a "fit" object; load_json ignores it.
template <typename Scalar, int Dim>
void save_json(const GaussianMixture<Scalar, Dim>& model, std::ostream& out, const FitResult& fit) {
  detail::io::save_json_to_stream(model, out, &fit);
}

/// Writes a fitted model to the file `path` (created or replaced). Throws std::logic_error if the
/// model has no parameters, std::runtime_error if the file cannot be written.
template <typename Scalar, int Dim>
void save_json(const GaussianMixture<Scalar, Dim>& model, const std::string& path) {
  detail::io::save_json_to_path(model, path, nullptr);
}

/// As save_json(model, path), also recording the fit's outcome in a "fit" object.
template <typename Scalar, int Dim>
void save_json(const GaussianMixture<Scalar, Dim>& model, const std::string& path, const FitResult& fit) {
  detail::io::save_json_to_path(model, path, &fit);
}

/// Reads a GaussianMixture written by save_json (or by hand, or from scikit-learn; see
/// docs/model_format.md) from `in`, which must hold one JSON document and nothing after it; a
/// BayesianGaussianMixture file is refused (load_bayesian_json reads it). The parameters are set
/// through set_parameters, so they are validated as there, and come back bit for bit as saved when
/// Scalar is the one they were saved with. The saved options (tol, reg_covar, ...) are restored.
/// \tparam Scalar float or double (a double file loads into float if every number fits)
/// \tparam Dim the model's compile-time dimension; must equal the file's n_features unless Dynamic
/// Throws gaussmix::FormatError (a std::invalid_argument), message starting "gaussmix: load_json:",
/// for anything wrong with the content; nothing is returned then.
template <typename Scalar = double, int Dim = Eigen::Dynamic>
GaussianMixture<Scalar, Dim> load_json(std::istream& in) {
  return detail::io::load_json_from_stream<Scalar, Dim>(in);
}

/// As load_json(in), from the file `path`. Throws std::runtime_error if it cannot be opened.
template <typename Scalar = double, int Dim = Eigen::Dynamic>
GaussianMixture<Scalar, Dim> load_json(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("gaussmix: load_json: cannot open '" + path + "' for reading");
  try {
    return detail::io::load_json_from_stream<Scalar, Dim>(in);
  } catch (const FormatError& error) {
    detail::io::rename_format_error(error, "load_json", path);  // "gaussmix: load_json: 'model.json': ..."
  }
}

/// Writes a BayesianGaussianMixture (fitted, or after m_step) to `out` as JSON (format
/// "gaussmix-bayesian-model", version 1; see docs/model_format.md): scikit-learn's weights_, means_,
/// covariances_ and precisions_cholesky_, the posterior (weight_concentration, mean_precision,
/// degrees_of_freedom, lower bound), the given and the resolved priors and the options, so that
/// load_bayesian_json gives back a model that scores, predicts and continues fitting (warm_start)
/// bit for bit as this one. Throws std::logic_error if the model has no posterior, std::runtime_error
/// if writing fails.
template <typename Scalar, int Dim>
void save_json(const BayesianGaussianMixture<Scalar, Dim>& model, std::ostream& out) {
  detail::io::save_json_to_stream(model, out, nullptr);
}

/// As save_json(model, out), also recording the fit's outcome in a "fit" object (information only).
template <typename Scalar, int Dim>
void save_json(const BayesianGaussianMixture<Scalar, Dim>& model, std::ostream& out, const FitResult& fit) {
  detail::io::save_json_to_stream(model, out, &fit);
}

/// As save_json(model, out), to the file `path` (created or replaced).
template <typename Scalar, int Dim>
void save_json(const BayesianGaussianMixture<Scalar, Dim>& model, const std::string& path) {
  detail::io::save_json_to_path(model, path, nullptr);
}

/// As save_json(model, path), also recording the fit's outcome in a "fit" object.
template <typename Scalar, int Dim>
void save_json(const BayesianGaussianMixture<Scalar, Dim>& model, const std::string& path, const FitResult& fit) {
  detail::io::save_json_to_path(model, path, &fit);
}

/// Reads a BayesianGaussianMixture written by save_json from `in` (one JSON document). Every field
/// is checked as load_json checks its own, the posterior is set through set_posterior, and "weights"
/// and "precisions_cholesky" must agree with it. Saved and loaded with the same Scalar, the model is
/// bit for bit the one saved.
/// \tparam Scalar float or double \tparam Dim the file's n_features or Eigen::Dynamic
/// Throws gaussmix::FormatError (a std::invalid_argument), message starting
/// "gaussmix: load_bayesian_json:", for anything wrong, a GaussianMixture file included.
template <typename Scalar = double, int Dim = Eigen::Dynamic>
BayesianGaussianMixture<Scalar, Dim> load_bayesian_json(std::istream& in) {
  return detail::io::load_bayesian_json_from_stream<Scalar, Dim>(in, "");
}

/// As load_bayesian_json(in), from the file `path`. Throws std::runtime_error if it cannot be opened.
template <typename Scalar = double, int Dim = Eigen::Dynamic>
BayesianGaussianMixture<Scalar, Dim> load_bayesian_json(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("gaussmix: load_bayesian_json: cannot open '" + path + "' for reading");
  return detail::io::load_bayesian_json_from_stream<Scalar, Dim>(in, path);
}

}  // namespace gaussmix
