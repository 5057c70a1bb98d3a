// SPDX-License-Identifier: MIT
// What gaussmix-fit, gaussmix-predict and gaussmix-sample share: reading input, writing output,
// number formatting, flag helpers and the error handling of main().
#pragma once

#include <gaussmix/gaussmix.hpp>
#include <gaussmix/io.hpp>

#include <CLI/CLI.hpp>

#include <array>
#include <charconv>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include "csv.hpp"

namespace gaussmix_tools {

/// The whole content of `path`, or of standard input for "-". Throws ToolError if unreadable.
inline std::string read_input(const std::string& path) {
  if (path == "-") {
    std::ostringstream text;
    text << std::cin.rdbuf();
    return text.str();
  }
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (!std::filesystem::exists(status)) throw ToolError(path + ": no such file");
  if (std::filesystem::is_directory(status)) throw ToolError(path + ": is a directory, not a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ToolError(path + ": cannot open the file for reading");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw ToolError(path + ": reading the file failed");
  return text;
}

/// Writes `text` to `path`, or to standard output for "" or "-". Throws ToolError on failure.
inline void write_output(const std::string& path, const std::string& text) {
  if (path.empty() || path == "-") {
    std::cout << text;
    std::cout.flush();
    if (!std::cout) throw ToolError("writing to standard output failed");
    return;
  }
  std::ofstream out(path, std::ios::binary);
  if (!out) throw ToolError(path + ": cannot open the file for writing");
  out << text;
  out.close();
  if (!out) throw ToolError(path + ": writing the file failed");
}

/// The shortest text that reads back as the same double ("0.5", "1e-06", "0.30000000000000004").
inline std::string exact(double x) {
  std::array<char, 32> buffer{};
  const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), x);
  return std::string(buffer.data(), result.ptr);
}

/// `x` with `digits` significant digits, for people ("%.*g").
inline std::string rounded(double x, int digits = 6) {
  std::ostringstream out;
  out.precision(digits);
  out << x;
  return out.str();
}

/// Names accepted by --covariance, in scikit-learn's spelling.
inline const std::map<std::string, gaussmix::CovarianceType>& covariance_names() {
  static const std::map<std::string, gaussmix::CovarianceType> names = {
      {"full", gaussmix::CovarianceType::Full},
      {"diag", gaussmix::CovarianceType::Diagonal},
      {"spherical", gaussmix::CovarianceType::Spherical},
      {"tied", gaussmix::CovarianceType::Tied}};
  return names;
}

/// Names accepted by --init, in scikit-learn's spelling.
inline const std::map<std::string, gaussmix::InitMethod>& init_names() {
  static const std::map<std::string, gaussmix::InitMethod> names = {
      {"kmeans", gaussmix::InitMethod::KMeans},
      {"k-means++", gaussmix::InitMethod::KMeansPlusPlus},
      {"random", gaussmix::InitMethod::Random},
      {"random_from_data", gaussmix::InitMethod::RandomFromData}};
  return names;
}

/// A flag validator: a finite number >= `lo` (CLI11's own ranges print their limits in full).
inline CLI::Validator at_least(double lo) {
  return CLI::Validator(
      [lo](std::string& text) -> std::string {
        double value = 0;
        if (!parse_number(text, value)) return "'" + text + "' is not a finite number";
        if (value < lo) return "must be >= " + rounded(lo) + ", got " + text;
        return {};
      },
      lo > 0 ? "POSITIVE" : "NONNEGATIVE", "");
}

/// The CSV flags shared by the tools that read data.
struct CsvFlags {
  std::vector<std::string> columns;
  bool header = false;
  bool no_header = false;
  std::string delimiter = ",";
  bool missing = false;  // empty cells, NA and NaN read as NaN (gaussmix-fit --missing, gaussmix-predict --impute)

  void add_to(CLI::App& app) {
    app.add_option("--columns", columns,
                   "Columns to use, comma-separated: 0-based indices (0,2) or header names (eruptions,waiting); "
                   "default: all")
        ->delimiter(',');
    auto* h = app.add_flag("--header", header,
                           "The first row is a header (default: detected, a header when none of its cells is a number)");
    auto* nh = app.add_flag("--no-header", no_header, "The first row is data");
    h->excludes(nh);
    app.add_option("--delimiter", delimiter, "Field separator: one character, or 'tab'")
        ->check(CLI::Validator(
            [](std::string& text) -> std::string {
              if (text == "tab" || text == "\\t") return {};
              if (text.size() != 1 || text == "\"" || text == "\n" || text == "\r")
                return "must be one character (not a quote or line break) or 'tab', got '" + text + "'";
              return {};
            },
            "CHAR", ""))
        ->capture_default_str();
  }

  char delimiter_char() const { return delimiter == "tab" || delimiter == "\\t" ? '\t' : delimiter[0]; }

  HeaderMode mode() const { return header ? HeaderMode::Yes : no_header ? HeaderMode::No : HeaderMode::Auto; }

  Table read(const std::string& path) const {
    const std::string source = path == "-" ? "<stdin>" : path;
    Table table = read_table(read_input(path), source, delimiter_char(), mode(), columns, missing);
    if (table.values.rows() == 0) throw ToolError(source + ": the file has a header but no data rows");
    return table;
  }
};

/// A CSV field as written: quoted when it holds a comma, a quote or a line break.
inline std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (const char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

/// A library message without its "gaussmix: " prefix (the tool prints its own name first).
inline std::string without_library_prefix(const std::string& what) {
  const std::string prefix = "gaussmix: ";
  return what.rfind(prefix, 0) == 0 ? what.substr(prefix.size()) : what;
}

/// Runs `load` (a load_json or load_bayesian_json call); a FormatError becomes a ToolError naming `path`.
template <class Load>
auto load_or_explain(const std::string& path, Load&& load) {
  try {
    return load();
  } catch (const gaussmix::FormatError& e) {
    std::string what = e.what();
    for (const std::string prefix : {"gaussmix: load_json: ", "gaussmix: load_bayesian_json: "})
      if (what.rfind(prefix, 0) == 0) what.erase(0, prefix.size());
    throw ToolError(path + ": cannot load the model: " + what);
  }
}

/// Calls `body` with the model in the JSON file `path`: a GaussianMixture<double>, or a
/// BayesianGaussianMixture<double> when the file's "format" is "gaussmix-bayesian-model" (both have
/// predict, predict_proba, score_samples and sample). Throws ToolError naming the file.
template <class Body>
void with_model(const std::string& path, Body&& body) {
  const std::string text = read_input(path);
  // Only a peek at "format": a file that does not parse is reported by load_json.
  const nlohmann::json doc = nlohmann::json::parse(text, nullptr, false);
  const bool bayesian = doc.is_object() && doc.contains("format") && doc["format"] == gaussmix::bayesian_model_format_name;
  std::istringstream in(text);
  if (bayesian)
    body(load_or_explain(path, [&] { return gaussmix::load_bayesian_json<double>(in); }));
  else
    body(load_or_explain(path, [&] { return gaussmix::load_json<double>(in); }));
}

/// Parses the flags and runs `body`; prints every error as "<program>: <message>" on stderr.
/// Exit codes: 0 success (and --help), 1 an error in the data, model or files, 2 bad flags.
inline int run_tool(CLI::App& app, int argc, char** argv, const std::function<void()>& body) {
  const std::string name = app.get_name();
  app.failure_message([name](const CLI::App*, const CLI::Error& e) {
    return name + ": " + e.what() + "\nRun '" + name + " --help' for the flags.\n";
  });
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  }
  try {
    body();
    return 0;
  } catch (const ToolError& e) {
    std::cerr << name << ": " << e.what() << "\n";
  } catch (const std::exception& e) {
    std::cerr << name << ": " << without_library_prefix(e.what()) << "\n";
  }
  return 1;
}

}  // namespace gaussmix_tools
