// SPDX-License-Identifier: MIT
// gaussmix-predict: reads a model written by gaussmix-fit (or save_json; a GaussianMixture or a
// BayesianGaussianMixture) and a CSV file, and writes, per row, the most probable component and the probability of each component as CSV.
//
//   gaussmix-predict model.json data.csv -o predictions.csv

#include <gaussmix/gaussmix.hpp>
#include <gaussmix/io.hpp>

#include <CLI/CLI.hpp>

#include <sstream>
#include <type_traits>
#include <string>
#include <vector>

#include "common.hpp"
#include "tool_mains.hpp"
#include "csv.hpp"

int gaussmix_tools::predict_main(int argc, char** argv) {
  using namespace gaussmix_tools;
  CLI::App app{"Assigns the rows of a CSV file to the components of a Gaussian mixture model (gaussmix " +
                   std::string(gaussmix::version_string) +
                   "). Writes CSV: a header, then per data row the most probable component (0-based) and the "
                   "posterior probability of each component.",
               "gaussmix-predict"};
  std::string model_path, data_path, output;
  bool log_density = false, impute = false;
  CsvFlags csv;
  app.add_option("model", model_path, "Model file written by gaussmix-fit -o (JSON; also with --bayesian)")->required();
  app.add_option("data", data_path, "CSV file, one sample per row ('-' reads standard input)")->required();
  app.add_option("-o,--output", output, "Write the predictions to this file instead of standard output");
  app.add_flag("--log-density", log_density,
               "Add a column log_density: log p(x) under the model (score_samples; for a Bayesian model scikit-learn's "
               "variational quantity)");
  app.add_flag("--impute", impute,
               "Write the completed table instead: the chosen columns, each empty, NA or NaN cell replaced by its "
               "expected value given the row's observed cells under the model (GaussianMixture::impute)");
  csv.add_to(app);
  app.set_version_flag("--version", std::string(gaussmix::version_string));
  app.footer(
      "Output columns: label,p0,p1,...,p<K-1>[,log_density]; numbers are written in full precision.\n"
      "The chosen columns must be as many as the model's features, in the order it was fitted on.\n"
      "Exit status: 0 success, 1 an error in the data, model or files, 2 bad flags.\n");

  return run_tool(app, argc, argv, [&] { with_model(model_path, [&](const auto& model) {
    using ModelType = std::decay_t<decltype(model)>;
    constexpr bool mixture = std::is_same_v<ModelType, gaussmix::GaussianMixture<double>>;
    if constexpr (!mixture) {
      if (impute) throw ToolError("--impute needs a GaussianMixture model; " + model_path + " is a Bayesian mixture");
    } else {
      // Missing cells are read as NaN for --impute, and for a model fitted with --missing (it marginalises them).
      csv.missing = impute || model.options().missing == gaussmix::MissingValues::Marginalise;
    }
    const Table table = csv.read(data_path);
    const std::string source = data_path == "-" ? "<stdin>" : data_path;
    if (table.values.cols() != model.n_features())
      throw ToolError(source + ": " + std::to_string(table.values.cols()) + " columns are chosen, but the model has " +
                      std::to_string(model.n_features()) + " features; choose them with --columns");
    const Eigen::Ref<const Eigen::MatrixXd> X = table.values;  // one column-major copy, as gaussmix-fit's
    if constexpr (mixture) {
      if (impute) {
        const Eigen::MatrixXd completed = model.impute(X);
        std::ostringstream out;
        for (std::size_t j = 0; j < table.names.size(); ++j) out << (j ? "," : "") << csv_field(table.names[j]);
        out << "\n";
        for (Eigen::Index i = 0; i < completed.rows(); ++i) {
          for (Eigen::Index j = 0; j < completed.cols(); ++j) out << (j ? "," : "") << exact(completed(i, j));
          out << "\n";
        }
        write_output(output, out.str());
        return;
      }
    }
    const auto labels = model.predict(X);
    const auto proba = model.predict_proba(X);
    Eigen::VectorXd density;
    if (log_density) density = model.score_samples(X);

    std::ostringstream out;
    out << "label";
    for (int k = 0; k < model.n_components(); ++k) out << ",p" << k;
    if (log_density) out << ",log_density";
    out << "\n";
    for (Eigen::Index i = 0; i < X.rows(); ++i) {
      out << labels(i);
      for (int k = 0; k < model.n_components(); ++k) out << "," << exact(proba(i, k));
      if (log_density) out << "," << exact(density(i));
      out << "\n";
    }
    write_output(output, out.str());
  }); });
}
