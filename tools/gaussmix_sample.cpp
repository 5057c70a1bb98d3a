// SPDX-License-Identifier: MIT
// gaussmix-sample: draws samples from a model file (written by gaussmix-fit, save_json or by hand)
// and writes them as CSV, e.g. to make test data from a known mixture.
//
//   gaussmix-sample model.json -n 1000 --seed 1 -o data.csv

#include <gaussmix/gaussmix.hpp>
#include <gaussmix/io.hpp>

#include <CLI/CLI.hpp>

#include <sstream>
#include <string>
#include <vector>

#include "common.hpp"
#include "tool_mains.hpp"

int gaussmix_tools::sample_main(int argc, char** argv) {
  using namespace gaussmix_tools;
  CLI::App app{"Draws samples from a Gaussian mixture model file (gaussmix " + std::string(gaussmix::version_string) +
                   ") and writes them as CSV with a header row.",
               "gaussmix-sample"};
  std::string model_path, output;
  long long n = 0;
  std::uint64_t seed = 0;
  std::vector<std::string> names;
  bool labels = false;
  app.add_option("model", model_path, "Model file (JSON, docs/model_format.md)")->required();
  app.add_option("-n,--samples", n, "Number of samples")->required()->check(CLI::Range(0LL, 1000000000LL));
  app.add_option("--seed", seed, "Random seed (std::mt19937_64; same seed, same samples)")->capture_default_str();
  app.add_option("-o,--output", output, "Write the samples to this file instead of standard output");
  app.add_option("--names", names, "Column names, comma-separated (default: x0,x1,...)")->delimiter(',');
  app.add_flag("--labels", labels, "Add a last column 'component': the component each sample was drawn from");
  app.set_version_flag("--version", std::string(gaussmix::version_string));
  app.footer("Exit status: 0 success, 1 an error in the model or files, 2 bad flags.\n");

  return run_tool(app, argc, argv, [&] { with_model(model_path, [&](const auto& model) {
    const int d = model.n_features();
    if (!names.empty() && static_cast<int>(names.size()) != d)
      throw ToolError("--names gives " + std::to_string(names.size()) + " names, but the model has " +
                      std::to_string(d) + " features");
    for (int j = static_cast<int>(names.size()); j < d; ++j) names.push_back("x" + std::to_string(j));
    Eigen::VectorXi drawn;
    const auto X = model.sample(static_cast<Eigen::Index>(n), seed, drawn);

    std::ostringstream out;
    for (int j = 0; j < d; ++j) out << (j ? "," : "") << csv_field(names[static_cast<std::size_t>(j)]);
    out << (labels ? ",component\n" : "\n");
    for (Eigen::Index i = 0; i < X.rows(); ++i) {
      for (int j = 0; j < d; ++j) out << (j ? "," : "") << exact(X(i, j));
      if (labels) out << "," << drawn(i);
      out << "\n";
    }
    write_output(output, out.str());
  }); });
}
