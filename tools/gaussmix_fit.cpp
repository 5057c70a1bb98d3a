// SPDX-License-Identifier: MIT
// gaussmix-fit: fits a Gaussian mixture to the numeric columns of a CSV file, prints a summary,
// and writes the model (JSON, docs/model_format.md) and optionally a plot (SVG).
//
//   gaussmix-fit data.csv -k 3 --covariance full --seed 1 -o model.json
//   gaussmix-fit data.csv -k 1:8 --plot fit.svg          (K chosen by BIC)
//   gaussmix-fit big.csv -k 5 --online 5000 -o model.json (streamed through partial_fit)
//   gaussmix-fit data.csv -k 10 --bayesian -o model.json  (variational; unneeded components switch off)

#include <gaussmix/gaussmix.hpp>
#include <gaussmix/io.hpp>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <limits>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#ifdef _WIN32
#include <io.h>
#define GAUSSMIX_ISATTY(fd) _isatty(fd)
#else
#include <unistd.h>
#define GAUSSMIX_ISATTY(fd) isatty(fd)
#endif

#include "common.hpp"
#include "tool_mains.hpp"
#include "csv.hpp"
#include "svg_plot.hpp"

namespace {

using namespace gaussmix_tools;
using Model = gaussmix::GaussianMixture<double>;
using BayesModel = gaussmix::BayesianGaussianMixture<double>;

// --bayesian: components with a larger expected weight are listed as active.
constexpr double kActiveWeight = 1e-2;

const char* const kProgram = "gaussmix-fit";

// "-k 3" or "-k 1:8".
struct ComponentRange {
  int lo = 0, hi = 0;
};

bool parse_positive(const std::string& text, int& value) {
  if (text.empty() || text.size() > 6 || text.find_first_not_of("0123456789") != std::string::npos) return false;
  value = std::stoi(text);
  return value >= 1;
}

// An empty string when `text` is a valid -k value, else what is wrong (CLI11 validator).
std::string parse_components(const std::string& text, ComponentRange& range) {
  const auto colon = text.find(':');
  if (colon == std::string::npos) {
    if (!parse_positive(text, range.lo)) return "-k must be a positive integer K or a range A:B, got '" + text + "'";
    range.hi = range.lo;
    return {};
  }
  if (!parse_positive(text.substr(0, colon), range.lo) || !parse_positive(text.substr(colon + 1), range.hi))
    return "-k range must be A:B with positive integers A <= B, got '" + text + "'";
  if (range.hi < range.lo) return "-k range A:B needs A <= B, got '" + text + "'";
  return {};
}

// Progress on stderr from the EM callback: one line per initialisation run when stderr is not a
// terminal, a line updated in place when it is, every iteration with --verbose.
class Progress {
 public:
  Progress(bool enabled, bool verbose, std::vector<std::string> fits, int n_init)
      : enabled_(enabled), verbose_(verbose), tty_(GAUSSMIX_ISATTY(2) != 0), fits_(std::move(fits)), n_init_(n_init) {}

  bool operator()(const gaussmix::IterationInfo& info) {
    if (!enabled_) return true;
    if (info.iteration == 1) {
      end_run();
      if (info.init == 0) ++fit_;
    }
    last_ = info;
    running_ = true;
    if (verbose_) {
      std::cerr << line() << "\n";
    } else if (tty_) {
      std::cerr << "\r" << line() << "\033[K" << std::flush;
    }
    return true;
  }

  // The last run's line, once the fit has returned.
  void finish() { end_run(); }

 private:
  std::string line() const {
    const std::size_t f = std::min<std::size_t>(static_cast<std::size_t>(std::max(fit_, 0)), fits_.size() - 1);
    std::ostringstream out;
    out << kProgram << ": " << fits_[f] << ", init " << last_.init + 1 << "/" << n_init_ << ", iteration "
        << last_.iteration << ", lower bound " << rounded(last_.lower_bound, 8);
    if (last_.iteration > 1) out << ", change " << rounded(last_.change, 3);
    return out.str();
  }
  void end_run() {
    if (!running_) return;
    if (!verbose_) std::cerr << (tty_ ? "" : line()) << "\n";
    running_ = false;
  }

  bool enabled_, verbose_, tty_;
  std::vector<std::string> fits_;
  int n_init_;
  int fit_ = -1;
  bool running_ = false;
  gaussmix::IterationInfo last_;
};

std::string fixed(double x, int decimals) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(decimals) << x;
  return out.str();
}

std::string pad(const std::string& s, std::size_t width, bool right = false) {
  if (s.size() >= width) return s;
  return right ? std::string(width - s.size(), ' ') + s : s + std::string(width - s.size(), ' ');
}

// Removes the spaces that padding leaves at the ends of lines.
std::string trim_lines(const std::string& text) {
  std::istringstream in(text);
  std::string line, out;
  while (std::getline(in, line)) {
    line.erase(line.find_last_not_of(' ') + 1);
    out += line + "\n";
  }
  return out;
}

// One row per listed component: its number, weight and mean.
std::string components_table(const std::vector<std::string>& names, const Eigen::VectorXd& weights,
                             const Eigen::MatrixXd& means, const std::vector<int>& listed) {
  std::ostringstream out;
  std::size_t width = 14;
  for (const std::string& name : names) width = std::max(width, name.size() + 2);
  out << pad("component", 11) << pad("weight", 12);
  for (const std::string& name : names) out << pad(name, width);
  out << "\n";
  for (const int k : listed) {
    out << pad(std::to_string(k), 9, true) << "  " << pad(rounded(weights(k), 5), 12);
    for (Eigen::Index j = 0; j < means.cols(); ++j) out << pad(rounded(means(k, j), 6), width);
    out << "\n";
  }
  return out.str();
}

std::vector<int> all_components(int K) {
  std::vector<int> out(static_cast<std::size_t>(K));
  for (int k = 0; k < K; ++k) out[static_cast<std::size_t>(k)] = k;
  return out;
}

// --prior: the prior's line of a summary (empty without one).
std::string prior_line(const gaussmix::Options& options) {
  if (!options.prior) return "";
  return "prior:           conjugate (MAP EM, Fraley & Raftery 2007), shrinkage " +
         rounded(options.prior->shrinkage.value_or(0.01)) +
         ", other hyperparameters mclust's defaults from the data; BIC and AIC are the likelihood's\n";
}

std::string summary(const Model& model, const gaussmix::FitResult& fit, const Table& table, const std::string& source,
                    const Eigen::Ref<const Eigen::MatrixXd>& X) {
  const int K = model.n_components();
  const double n = static_cast<double>(X.rows());
  const double log_l = model.log_likelihood(X);
  std::ostringstream out;
  out << "data:            " << source << ", " << X.rows() << " rows x " << X.cols() << " columns (";
  for (std::size_t j = 0; j < table.names.size(); ++j) out << (j ? ", " : "") << table.names[j];
  out << ")\n"
      << "model:           K = " << K << " components, " << gaussmix::to_string(model.covariance_type())
      << " covariance, seed " << model.options().seed << "\n"
      << prior_line(model.options()) << "converged:       " << (fit.converged ? "yes" : "NO") << ", after "
      << fit.n_iter << " iteration" << (fit.n_iter == 1 ? "" : "s") << " (tol " << rounded(model.options().tol)
      << ", max_iter " << model.options().max_iter << ")\n"
      << "log-likelihood:  " << fixed(log_l, 4) << " (per sample " << rounded(log_l / n, 8) << ")\n"
      << (model.options().prior ? "log posterior:   per sample " + rounded(fit.lower_bound, 8) +
                                      " (at the last E-step, up to a constant)\n"
                                : std::string())
      << "BIC:             " << fixed(model.bic(X), 4) << "\n"
      << "AIC:             " << fixed(model.aic(X), 4) << "\n"
      << "parameters:      " << model.n_parameters() << "\n\n";
  out << components_table(table.names, model.weights(), model.means(), all_components(K));
  return trim_lines(out.str());
}

// --bayesian: the variational fit's outcome and its active components (weight above kActiveWeight).
std::string bayesian_summary(const BayesModel& model, const gaussmix::FitResult& fit, const Table& table,
                             const std::string& source, const Eigen::Ref<const Eigen::MatrixXd>& X) {
  const int K = model.n_components();
  const std::vector<int> active = model.active_components(kActiveWeight);
  std::ostringstream out;
  out << "data:            " << source << ", " << X.rows() << " rows x " << X.cols() << " columns (";
  for (std::size_t j = 0; j < table.names.size(); ++j) out << (j ? ", " : "") << table.names[j];
  out << ")\n"
      << "model:           Bayesian (variational), K = " << K << " components at most, "
      << gaussmix::to_string(model.covariance_type()) << " covariance, "
      << gaussmix::to_string(model.priors().weight_prior) << " weight prior, seed " << model.options().seed << "\n"
      << "converged:       " << (fit.converged ? "yes" : "NO") << ", after " << fit.n_iter << " iteration"
      << (fit.n_iter == 1 ? "" : "s") << " (tol " << rounded(model.options().tol) << ", max_iter "
      << model.options().max_iter << ")\n"
      << "lower bound:     " << fixed(fit.lower_bound, 4) << " (evidence lower bound up to a constant)\n"
      << "score:           per sample " << rounded(static_cast<double>(model.score(X)), 8)
      << " (mean of score_samples)\n"
      << "active:          " << active.size() << " of " << K << " components (weight > " << rounded(kActiveWeight)
      << ")\n\n";
  out << components_table(table.names, model.weights(), model.means(), active);
  return trim_lines(out.str());
}

std::string selection_table(const gaussmix::ModelSelection<double>& selection) {
  std::ostringstream out;
  out << "Model selection by BIC (lower is better):\n"
      << pad("K", 5, true) << "  " << pad("covariance", 11) << pad("log-likelihood", 17, true) << pad("BIC", 15, true)
      << pad("parameters", 12, true) << pad("converged", 11, true) << pad("iterations", 12, true) << "\n";
  for (std::size_t i = 0; i < selection.table.size(); ++i) {
    const gaussmix::BicEntry& e = selection.table[i];
    out << pad(std::to_string(e.n_components), 5, true) << "  " << pad(gaussmix::to_string(e.covariance_type), 11);
    if (e.ok()) {
      out << pad(fixed(e.log_likelihood, 4), 17, true) << pad(fixed(e.bic, 4), 15, true)
          << pad(std::to_string(e.n_parameters), 12, true) << pad(e.converged ? "yes" : "no", 11, true)
          << pad(std::to_string(e.n_iter), 12, true) << (i == selection.best_index ? "   <- best" : "");
    } else {
      out << "  failed: " << without_library_prefix(e.error);
    }
    out << "\n";
  }
  return out.str();
}

template <class AnyModel>
PlotData plot_data(const AnyModel& model, const Table& table, const std::string& source,
                   const Eigen::Ref<const Eigen::MatrixXd>& X) {
  PlotData plot;
  const Eigen::VectorXi labels = model.predict(X);
  // Beyond 20000 points an SVG gets heavy: plot an evenly spaced subset (every `stride`-th row).
  const Eigen::Index stride = std::max<Eigen::Index>(1, (X.rows() + 19999) / 20000);
  const Eigen::Index shown = (X.rows() + stride - 1) / stride;
  plot.points.resize(shown, 2);
  plot.labels.resize(shown);
  for (Eigen::Index i = 0; i < shown; ++i) {
    plot.points.row(i) = X.row(i * stride).template head<2>();
    plot.labels(i) = labels(i * stride);
  }
  const auto means = model.means();
  for (int k = 0; k < model.n_components(); ++k) {
    plot.means.push_back(means.row(k).template head<2>().transpose());
    plot.covariances.push_back(model.covariance(k).template topLeftCorner<2, 2>());
    plot.weights.push_back(model.weights()(k));
  }
  plot.x_label = table.names[0];
  plot.y_label = table.names[1];
  plot.title = "Gaussian mixture: K = " + std::to_string(model.n_components()) + ", " +
               gaussmix::to_string(model.covariance_type()) + " covariance";
  // the file's name without its directories: the picture may be shown far from where it was made
  plot.subtitle = source.substr(source.find_last_of("/\\") + 1) + ", " + std::to_string(X.rows()) + " points";
  if (stride > 1) plot.subtitle += " (every " + std::to_string(stride) + "th shown)";
  if (X.cols() > 2)
    plot.subtitle += "; columns 1-2 of " + std::to_string(X.cols()) + ", marginal ellipses";
  return plot;
}

// --online: the CSV read line by line, batches of `batch` rows through partial_fit; only a batch is
// held. A record must sit on one line (a quoted field may not hold a line break). Fills `layout`
// (columns, names; no values) and `rows`; returns n_iter = batches, lower_bound = the mean over all
// rows of their log-likelihood under the parameters before their batch's update.
gaussmix::FitResult fit_online(Model& model, const std::string& path, const CsvFlags& csv, Eigen::Index batch,
                               bool progress, Table& layout, Eigen::Index& rows) {
  const std::string source = path == "-" ? "<stdin>" : path;
  std::ifstream file;
  if (path != "-") {
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (!std::filesystem::exists(status)) throw ToolError(path + ": no such file");
    if (std::filesystem::is_directory(status)) throw ToolError(path + ": is a directory, not a file");
    file.open(path, std::ios::binary);
    if (!file) throw ToolError(path + ": cannot open the file for reading");
  }
  std::istream& in = path == "-" ? std::cin : file;
  const char delimiter = csv.delimiter_char();
  Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> buffer;
  Eigen::Index filled = 0, d = 0;
  long line_number = 0, batches = 0;
  double total = 0;
  rows = 0;
  auto flush = [&] {
    if (filled == 0) return;
    if (!model.is_fitted() && filled < model.n_components())
      throw ToolError(source + ": " + std::to_string(filled) + " data row" + (filled == 1 ? " is" : "s are") +
                      " too few for K = " + std::to_string(model.n_components()) +
                      " components (the first batch needs at least K rows)");
    // Column-major, as the in-memory fits: one copy per batch, and the E-step's compiled instance.
    const Eigen::Ref<const Eigen::MatrixXd> batch = buffer.topRows(filled);
    const gaussmix::FitResult step = model.partial_fit(batch);
    total += step.lower_bound * static_cast<double>(filled);
    rows += filled;
    filled = 0;
    ++batches;
    if (progress && (batches % 100 == 0 || (batches & (batches - 1)) == 0))
      std::cerr << kProgram << ": online, batch " << batches << ", " << rows << " rows, batch lower bound "
                << rounded(step.lower_bound, 8) << "\n";
  };
  bool first = true;
  std::vector<std::string> fields;
  for (std::string line; std::getline(in, line);) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line_number == 1 && line.compare(0, 3, "\xEF\xBB\xBF") == 0) line.erase(0, 3);
    if (trim(line).empty()) continue;
    if (std::count(line.begin(), line.end(), '"') % 2 != 0)
      throw ToolError(source + ": line " + std::to_string(line_number) +
                      ": a quoted field spans lines, which --online does not read; fit without --online");
    if (first) {  // header detection and the chosen columns, as without --online
      layout = read_table(line, source, delimiter, csv.mode(), csv.columns);
      d = static_cast<Eigen::Index>(layout.indices.size());
      buffer.resize(batch, d);
      if (layout.values.rows() == 1) buffer.row(filled++) = layout.values.row(0);
      layout.values.resize(0, d);
      first = false;
      continue;
    }
    CsvReader reader(line, delimiter, source);
    long ignored = 0;
    reader.next(fields, ignored);
    if (static_cast<int>(fields.size()) != layout.file_columns)
      throw ToolError(source + ": line " + std::to_string(line_number) + " has " + std::to_string(fields.size()) +
                      (fields.size() == 1 ? " field" : " fields") + ", but the first row has " +
                      std::to_string(layout.file_columns) + " (ragged rows)");
    for (Eigen::Index j = 0; j < d; ++j) {
      const int column = layout.indices[static_cast<std::size_t>(j)];
      double value = 0;
      if (!parse_number(fields[static_cast<std::size_t>(column)], value)) {
        const std::string_view cell = trim(fields[static_cast<std::size_t>(column)]);
        throw ToolError(source + ": line " + std::to_string(line_number) + ", column " + std::to_string(column + 1) +
                        " ('" + layout.names[static_cast<std::size_t>(j)] + "'): " +
                        (cell.empty() ? std::string("is empty") : "'" + std::string(cell) + "' is not a finite number"));
      }
      buffer(filled, j) = value;
    }
    if (++filled == batch) flush();
  }
  if (in.bad()) throw ToolError(source + ": reading the file failed");
  if (first) throw ToolError(source + ": the file has no data");
  flush();
  if (rows == 0) throw ToolError(source + ": the file has a header but no data rows");
  gaussmix::FitResult result;
  result.n_iter = static_cast<int>(std::min<long>(batches, std::numeric_limits<int>::max()));
  result.lower_bound = total / static_cast<double>(rows);
  return result;
}

std::string online_summary(const Model& model, const gaussmix::FitResult& fit, const Table& layout,
                           const std::string& source, Eigen::Index rows, Eigen::Index batch) {
  const auto& online = model.options().online;
  std::ostringstream out;
  out << "data:            " << source << ", " << rows << " rows x " << layout.names.size() << " columns (";
  for (std::size_t j = 0; j < layout.names.size(); ++j) out << (j ? ", " : "") << layout.names[j];
  out << "), streamed\n"
      << "model:           K = " << model.n_components() << " components, "
      << gaussmix::to_string(model.covariance_type()) << " covariance, seed " << model.options().seed << "\n"
      << prior_line(model.options()) << "online:          " << fit.n_iter << " partial_fit update" << (fit.n_iter == 1 ? "" : "s")
      << " of up to " << batch << " rows (step sizes (t + " << rounded(online.step_offset) << ")^-"
      << rounded(online.step_decay) << ")\n"
      << "log-likelihood:  per sample " << rounded(fit.lower_bound, 8)
      << " (each row under the parameters before its batch's update)\n"
      << "parameters:      " << model.n_parameters() << "\n\n";
  out << components_table(layout.names, model.weights(), model.means(), all_components(model.n_components()));
  return trim_lines(out.str());
}

}  // namespace

int gaussmix_tools::fit_main(int argc, char** argv) {
  CLI::App app{
      "Fits a Gaussian mixture model by EM (gaussmix " + std::string(gaussmix::version_string) +
          ") to the numeric columns of a CSV file, one sample per row. Prints a summary to standard output, "
          "progress to standard error, and writes the model as JSON (docs/model_format.md).",
      kProgram};
  std::string data_path, components_text, output, plot_path;
  std::vector<std::string> covariance_flag{"full"};
  std::string init = "kmeans";
  gaussmix::Options defaults;
  double tol = defaults.tol, reg_covar = defaults.reg_covar;
  int max_iter = defaults.max_iter, n_init = defaults.n_init;
  std::uint64_t seed = 0;
  bool quiet = false, verbose = false;
  long online_batch = 0;
  CsvFlags csv;

  app.add_option("data", data_path, "CSV file, one sample per row ('-' reads standard input)")->required();
  ComponentRange range;
  app.add_option("-k,--components", components_text,
                 "Number of components K, or a range A:B to fit every K in it and keep the lowest BIC")
      ->required()
      ->check(CLI::Validator([&range](std::string& s) { return parse_components(s, range); }, "K|A:B", ""));
  app.add_option("--covariance", covariance_flag,
                 "Covariance type: full, diag, spherical or tied; several, comma-separated, are compared by BIC")
      ->delimiter(',')
      ->check(CLI::IsMember({"full", "diag", "spherical", "tied"}))
      ->capture_default_str();
  app.add_option("--seed", seed, "Random seed of the initialisation (same seed and data, same result)")
      ->capture_default_str();
  app.add_option("--n-init", n_init, "Initialisations per fit; the best lower bound is kept")
      ->check(at_least(1))
      ->capture_default_str();
  app.add_option("--init", init, "Initialisation: kmeans, k-means++, random or random_from_data")
      ->check(CLI::IsMember({"kmeans", "k-means++", "random", "random_from_data"}))
      ->capture_default_str();
  app.add_option("--max-iter", max_iter, "EM iterations per initialisation at most")
      ->check(at_least(1))
      ->capture_default_str();
  app.add_option("--tol", tol, "Convergence threshold on the change of the mean log-likelihood per sample")
      ->check(at_least(0))
      ->capture_default_str();
  app.add_option("--reg-covar", reg_covar, "Added to every covariance diagonal; raise it if a fit fails")
      ->check(at_least(0))
      ->capture_default_str();
  app.add_option("-o,--output", output, "Write the fitted model to this JSON file ('-': standard output)");
  app.add_option("--plot", plot_path,
                 "Write an SVG plot: the first two chosen columns, points coloured by component, 1- and 2-sigma "
                 "ellipses and means");
  app.add_option("--online", online_batch,
                 "Stream the CSV (or standard input) through online EM (partial_fit) in batches of this many rows, "
                 "holding only a batch in memory: for files larger than memory. One K and one covariance type; "
                 "no --plot; a record must sit on one line")
      ->check(at_least(1));
  bool use_prior = false;
  double prior_shrinkage = 0.01;
  app.add_flag("--prior", use_prior,
               "MAP EM under a conjugate prior with mclust's default hyperparameters (Fraley & Raftery 2007): no "
               "component can collapse onto a few points; BIC and AIC stay the likelihood's criteria");
  app.add_option("--prior-shrinkage", prior_shrinkage,
                 "With --prior: its shrinkage kappa_P > 0, how many samples' worth the prior mean counts")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  std::string bayesian;
  app.add_option("--bayesian", bayesian,
                 "Fit a Bayesian (variational) mixture, scikit-learn's BayesianGaussianMixture, with a Dirichlet "
                 "process (dp, the default) or Dirichlet distribution (dirichlet) prior on the weights: -k is an "
                 "upper bound, and components the data do not need get weights near 0. One K and one covariance type")
      ->expected(0, 1)
      ->default_str("dp")
      ->check(CLI::IsMember({"dp", "dirichlet"}));
  app.add_flag("--missing", csv.missing,
               "Read empty cells, NA and NaN as missing values and fit by exact EM on each row's observed entries "
               "(Options::missing = Marginalise); without it such a cell is an error");
  csv.add_to(app);
  auto* quiet_flag = app.add_flag("-q,--quiet", quiet, "No progress on standard error");
  app.add_flag("-v,--verbose", verbose, "Progress for every EM iteration")->excludes(quiet_flag);
  app.set_version_flag("--version", std::string(gaussmix::version_string));
  app.footer(
      "Examples:\n"
      "  gaussmix-fit data.csv -k 3 --covariance full --seed 1 -o model.json\n"
      "  gaussmix-fit data.csv -k 1:8 --columns eruptions,waiting --plot fit.svg\n"
      "  gaussmix-fit big.csv -k 5 --online 5000 -o model.json\n"
      "  gaussmix-fit data.csv -k 10 --bayesian -o model.json\n"
      "  gaussmix-fit data.csv -k 4 --prior --reg-covar 0 -o model.json\n"
      "  gaussmix-fit holes.csv -k 3 --missing -o model.json\n"
      "Exit status: 0 success, 1 an error in the data or files, 2 bad flags.\n");

  return run_tool(app, argc, argv, [&] {
    const std::string source = data_path == "-" ? "<stdin>" : data_path;
    const bool bayes = app.count("--bayesian") > 0;
    if (bayes && online_batch > 0) throw ToolError("--bayesian and --online cannot be combined");
    if (bayes && use_prior) throw ToolError("--bayesian has its own priors; it cannot be combined with --prior");
    if (app.count("--prior-shrinkage") > 0 && !use_prior) throw ToolError("--prior-shrinkage needs --prior");
    std::optional<gaussmix::ConjugatePrior> prior;
    if (use_prior) {
      prior = gaussmix::ConjugatePrior{};
      prior->shrinkage = prior_shrinkage;
    }
    if (csv.missing && (bayes || online_batch > 0 || !plot_path.empty()))
      throw ToolError(std::string("--missing cannot be combined with ") +
                      (bayes ? "--bayesian" : online_batch > 0 ? "--online" : "--plot"));
    if (bayes && range.lo != range.hi)
      throw ToolError("--bayesian fits one K, an upper bound on the components it keeps, but -k gives the range " +
                      components_text);
    if (bayes && covariance_flag.size() != 1)
      throw ToolError("--bayesian fits one covariance type, but --covariance gives several");
    if (online_batch > 0) {
      if (range.lo != range.hi) throw ToolError("--online fits one K, but -k gives the range " + components_text);
      if (covariance_flag.size() != 1) throw ToolError("--online fits one covariance type, but --covariance gives several");
      if (!plot_path.empty()) throw ToolError("--online does not keep the data, so it cannot --plot it");
      if (online_batch < range.lo)
        throw ToolError("--online " + std::to_string(online_batch) + ": a batch must have at least K = " +
                        std::to_string(range.lo) + " rows (the first one initialises the model)");
      gaussmix::Options options;
      options.n_components = range.lo;
      options.covariance_type = covariance_names().at(covariance_flag[0]);
      options.tol = tol;
      options.reg_covar = reg_covar;
      options.max_iter = max_iter;
      options.n_init = n_init;
      options.init_params = init_names().at(init);
      options.seed = seed;
      options.prior = prior;
      Model model(options);
      Table layout;
      Eigen::Index rows = 0;
      gaussmix::FitResult fit;
      try {
        fit = fit_online(model, data_path, csv, online_batch, !quiet, layout, rows);
      } catch (const gaussmix::NumericalError& e) {
        throw ToolError(without_library_prefix(e.what()) + " (here: --reg-covar, now " + rounded(reg_covar) + ")");
      }
      std::ostringstream report;
      report << online_summary(model, fit, layout, source, rows, online_batch);
      if (!output.empty()) {
        std::ostringstream json;
        gaussmix::save_json(model, json, fit);
        write_output(output, json.str());
        if (output != "-") report << "\nmodel written to " << output << "\n";
      }
      (output == "-" ? std::cerr : std::cout) << report.str() << std::flush;
      return;
    }
    if (!plot_path.empty() && csv.columns.size() == 1)
      throw ToolError("--plot needs two columns, but --columns chooses one");
    const Table table = csv.read(data_path);
    const Eigen::Ref<const Eigen::MatrixXd> X = table.values;  // one column-major copy for the fits
    if (!plot_path.empty() && X.cols() < 2)
      throw ToolError("--plot needs two columns, but the data has " + std::to_string(X.cols()));
    if (X.rows() < range.hi)
      throw ToolError(source + ": " + std::to_string(X.rows()) + " data row" + (X.rows() == 1 ? " is" : "s are") +
                      " too few for K = " + std::to_string(range.hi) + " components (need at least K rows)");

    std::vector<gaussmix::CovarianceType> types;
    for (const std::string& name : covariance_flag) {
      const auto type = covariance_names().at(name);
      if (std::find(types.begin(), types.end(), type) != types.end())
        throw ToolError("--covariance: '" + name + "' is given twice");
      types.push_back(type);
    }
    std::vector<std::string> fits;
    for (int K = range.lo; K <= range.hi; ++K)
      for (const auto type : types) fits.push_back("K=" + std::to_string(K) + " " + gaussmix::to_string(type));
    Progress progress(!quiet, verbose, fits, n_init);

    gaussmix::Options options;
    options.tol = tol;
    options.reg_covar = reg_covar;
    options.max_iter = max_iter;
    options.n_init = n_init;
    options.init_params = init_names().at(init);
    options.seed = seed;
    if (csv.missing) options.missing = gaussmix::MissingValues::Marginalise;
    options.callback = [&progress](const gaussmix::IterationInfo& info) { return progress(info); };

    std::ostringstream report;
    // The model file, the plot and the report, for either kind of model.
    auto write_results = [&](const auto& model, const gaussmix::FitResult& fit) {
      if (!output.empty()) {
        std::ostringstream json;
        gaussmix::save_json(model, json, fit);
        write_output(output, json.str());
        if (output != "-") report << "\nmodel written to " << output << "\n";
      }
      if (!plot_path.empty()) {
        write_output(plot_path, render_svg(plot_data(model, table, source, X)));
        report << (output.empty() || output == "-" ? "\n" : "") << "plot written to " << plot_path << "\n";
      }
      // With the model on standard output, the summary goes to standard error.
      (output == "-" ? std::cerr : std::cout) << report.str() << std::flush;
    };
    if (bayes) {
      options.n_components = range.lo;
      options.covariance_type = types[0];
      gaussmix::BayesianPriors priors;
      priors.weight_prior =
          bayesian == "dirichlet" ? gaussmix::WeightPrior::DirichletDistribution : gaussmix::WeightPrior::DirichletProcess;
      BayesModel model(options, priors);
      gaussmix::FitResult fit;
      try {
        fit = model.fit(X);
        progress.finish();
      } catch (const gaussmix::NumericalError& e) {
        progress.finish();
        throw ToolError(without_library_prefix(e.what()) + " (here: --reg-covar, now " + rounded(reg_covar) + ")");
      }
      report << bayesian_summary(model, fit, table, source, X);
      write_results(model, fit);
      return;
    }
    options.prior = prior;
    Model model;
    gaussmix::FitResult fit;
    try {
      if (fits.size() == 1) {
        options.n_components = range.lo;
        options.covariance_type = types[0];
        model = Model(options);
        fit = model.fit(X);
        progress.finish();
      } else {
        auto selection = gaussmix::select_model<double>(X, range.lo, range.hi, types, options);
        progress.finish();
        report << selection_table(selection) << "\n";
        const gaussmix::BicEntry& best = selection.best_entry();
        fit.converged = best.converged;
        fit.n_iter = best.n_iter;
        fit.lower_bound = best.lower_bound;
        model = std::move(selection.best);
      }
    } catch (const gaussmix::NumericalError& e) {
      progress.finish();
      throw ToolError(without_library_prefix(e.what()) + " (here: --reg-covar, now " + rounded(reg_covar) + ")");
    }
    report << summary(model, fit, table, source, X);
    write_results(model, fit);
  });
}
