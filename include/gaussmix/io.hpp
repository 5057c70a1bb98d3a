// SPDX-License-Identifier: MIT
// Optional header: saves and loads a fitted GaussianMixture as JSON. It needs nlohmann/json 3
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

#include "gaussian_mixture.hpp"
#include "options.hpp"
#include "version.hpp"

namespace gaussmix {

/// A model file that cannot be loaded: not JSON, truncated, another format or version, wrong
/// shapes, non-finite numbers, or parameters the model rejects. Messages start with
/// "gaussmix: load_json:".
class FormatError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// The value of the "format" field of a model file.
inline constexpr const char* model_format_name = "gaussmix-model";
/// The "version" of the model files this header writes, and the only one it reads.
inline constexpr int model_format_version = 1;

namespace detail::io {

using ordered_json = nlohmann::ordered_json;

[[noreturn]] inline void format_error(const std::string& what) { throw FormatError("gaussmix: load_json: " + what); }

// Re-throws a library error ("gaussmix: set_parameters: ...") as a FormatError of load_json.
[[noreturn]] inline void rethrow_as_format_error(const std::exception& error) {
  std::string what = error.what();
  for (const char* prefix : {"gaussmix: ", "set_parameters: "})
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

template <typename Scalar, int Dim>
ordered_json model_to_json(const GaussianMixture<Scalar, Dim>& model, const FitResult* fit) {
  if (!model.is_fitted())
    throw std::logic_error(
        "gaussmix: save_json: the model has no parameters yet; call fit() or set_parameters() first");
  const int K = model.n_components(), d = model.n_features();
  const CovarianceType type = model.covariance_type();
  const auto means = model.means();
  const auto covariances = model.covariances();

  ordered_json covs = ordered_json::array();
  switch (type) {
    case CovarianceType::Full:
      for (int k = 0; k < K; ++k) {
        ordered_json matrix = ordered_json::array();
        for (int i = 0; i < d; ++i) matrix.push_back(json_row(covariances[k].row(i)));
        covs.push_back(std::move(matrix));
      }
      break;
    case CovarianceType::Tied:
      for (int i = 0; i < d; ++i) covs.push_back(json_row(covariances[0].row(i)));
      break;
    case CovarianceType::Diagonal:
      for (int k = 0; k < K; ++k) covs.push_back(json_row(covariances[k].diagonal()));
      break;
    case CovarianceType::Spherical:
      for (int k = 0; k < K; ++k) covs.push_back(static_cast<double>(covariances[k](0, 0)));
      break;
  }
  ordered_json means_json = ordered_json::array();
  for (int k = 0; k < K; ++k) means_json.push_back(json_row(means.row(k)));

  const Options& o = model.options();
  ordered_json doc;
  doc["format"] = model_format_name;
  doc["version"] = model_format_version;
  doc["gaussmix_version"] = version_string;
  doc["scalar"] = std::is_same_v<Scalar, float> ? "float" : "double";
  doc["covariance_type"] = to_string(type);
  doc["n_components"] = K;
  doc["n_features"] = d;
  doc["weights"] = json_row(model.weights());
  doc["means"] = std::move(means_json);
  doc["covariances"] = std::move(covs);
  doc["options"] = {{"tol", o.tol},
                    {"reg_covar", o.reg_covar},
                    {"max_iter", o.max_iter},
                    {"n_init", o.n_init},
                    {"init_params", to_string(o.init_params)},
                    {"seed", o.seed},
                    {"warm_start", o.warm_start}};
  doc["options"]["online"] = {{"step_decay", o.online.step_decay}, {"step_offset", o.online.step_offset}};
  if (o.online.constant_step) doc["options"]["online"]["constant_step"] = *o.online.constant_step;
  if (model.online_steps() > 0) doc["online_state"] = online_state_to_json(model);
  if (fit) {
    doc["fit"] = {{"converged", fit->converged}, {"n_iter", fit->n_iter}, {"stopped", fit->stopped}};
    // A run that stopped before its first E-step has no lower bound; JSON has no -inf.
    if (std::isfinite(fit->lower_bound)) doc["fit"]["lower_bound"] = fit->lower_bound;
  }
  return doc;
}

template <typename Scalar, int Dim>
void save_json_to_stream(const GaussianMixture<Scalar, Dim>& model, std::ostream& out, const FitResult* fit) {
  std::ostringstream text;  // built whole first: a failure here writes nothing
  write_json(text, model_to_json(model, fit), 0);
  text << "\n";
  out << text.str();
  out.flush();
  if (!out) throw std::runtime_error("gaussmix: save_json: writing the model failed");
}

template <typename Scalar, int Dim>
void save_json_to_path(const GaussianMixture<Scalar, Dim>& model, const std::string& path, const FitResult* fit) {
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

template <typename Scalar, int Dim>
GaussianMixture<Scalar, Dim> model_from_json(const nlohmann::json& doc) {
  using Model = GaussianMixture<Scalar, Dim>;
  using Matrix = typename Model::Matrix;
  if (!doc.is_object()) format_error("the file holds a JSON " + std::string(doc.type_name()) + ", not a model object");

  const auto format = doc.find("format");
  if (format == doc.end())
    format_error("no \"format\" field; this is not a gaussmix model file (expected \"format\": \"" +
                 std::string(model_format_name) + "\")");
  if (!format->is_string() || format->get<std::string>() != model_format_name)
    format_error("\"format\" is " + format->dump() + ", expected \"" + model_format_name +
                 "\"; this is not a gaussmix model file");
  const nlohmann::json& version = require_field(doc, "version");
  if (!version.is_number_integer() || version.get<std::int64_t>() != model_format_version)
    format_error("unsupported \"version\" " + version.dump() + "; this gaussmix (" + version_string +
                 ") reads version " + std::to_string(model_format_version));

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

  try {
    Model model(options);                               // validates the options
    model.set_parameters(weights, means, covariances);  // symmetry, type shape, positive definiteness
    const auto state = doc.find("online_state");
    if (state != doc.end()) read_online_state(*state, model, type, K, d);
    return model;
  } catch (const FormatError&) {
    throw;
  } catch (const std::invalid_argument& error) {
    rethrow_as_format_error(error);
  }
}

template <typename Scalar, int Dim>
GaussianMixture<Scalar, Dim> load_json_from_stream(std::istream& in) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(in);  // strict: nothing but white space may follow the model
  } catch (const nlohmann::json::exception& error) {
    std::string what = error.what();
    if (what.find("invalid literal") != std::string::npos) what += " (NaN and Infinity are not JSON numbers)";
    format_error("not a valid JSON document (truncated or damaged?): " + what);
  }
  return model_from_json<Scalar, Dim>(doc);
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

/// Reads a model written by save_json (or by hand, or from scikit-learn; see docs/model_format.md)
/// from `in`, which must hold one JSON document and nothing after it. The parameters are set
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
    // Name the file: "gaussmix: load_json: 'model.json': ..."
    const std::string what = error.what();
    const std::string prefix = "gaussmix: load_json: ";
    throw FormatError(prefix + "'" + path + "': " + what.substr(prefix.size()));
  }
}

}  // namespace gaussmix
