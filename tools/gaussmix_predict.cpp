// SPDX-License-Identifier: MIT
// gaussmix-predict: reads a model written by gaussmix-fit (or save_json; a GaussianMixture or a
// BayesianGaussianMixture) and a CSV file, and writes, per row, the most probable component and the probability of each component as CSV.
//
//   gaussmix-predict model.json data.csv -o predictions.csv

#include <gaussmix/gaussmix.hpp>
#include <gaussmix/io.hpp>

#include <CLI/CLI.hpp>

#include <sstream>
#include <string>
#include <vector>

#include "common.hpp"
#include "csv.hpp"

int main(int argc, char** argv) {
  using namespace gaussmix_tools;
  CLI::App app{"Assigns the rows of a CSV file to the components of a Gaussian mixture model (gaussmix " +
                   std::string(gaussmix::version_string) +
                   "). Writes CSV: a header, then per data row the most probable component (0-based) and the "
                   "posterior probability of each component.",
               "gaussmix-predict"};
  std::string model_path, data_path, output;
  bool log_density = false;
  CsvFlags csv;
  app.add_option("model", model_path, "Model file written by gaussmix-fit -o (JSON; also with --bayesian)")->required();
  app.add_option("data", data_path, "CSV file, one sample per row ('-' reads standard input)")->required();
  app.add_option("-o,--output", output, "Write the predictions to this file instead of standard output");
  app.add_flag("--log-density", log_density,
               "Add a column log_density: log p(x) under the model (score_samples; for a Bayesian model scikit-learn's "
               "variational quantity)");
  csv.add_to(app);
  app.set_version_flag("--version", std::string(gaussmix::version_string));
  app.footer(
      "Output columns: label,p0,p1,...,p<K-1>[,log_density]; numbers are written in full precision.\n"
      "The chosen columns must be as many as the model's features, in the order it was fitted on.\n"
      "Exit status: 0 success, 1 an error in the data, model or files, 2 bad flags.\n");

  return run_tool(app, argc, argv, [&] { with_model(model_path, [&](const auto& model) {
    const Table table = csv.read(data_path);
    const std::string source = data_path == "-" ? "<stdin>" : data_path;
    if (table.values.cols() != model.n_features())
      throw ToolError(source + ": " + std::to_string(table.values.cols()) + " columns are chosen, but the model has " +
                      std::to_string(model.n_features()) + " features; choose them with --columns");
    const Eigen::Ref<const Eigen::MatrixXd> X = table.values;  // one column-major copy, as gaussmix-fit's
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
