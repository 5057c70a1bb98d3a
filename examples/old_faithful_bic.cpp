// SPDX-License-Identifier: MIT
// Chooses the number of components and the covariance type of a Gaussian mixture for the Old
// Faithful eruptions by BIC, as R's mclustBIC does: every K = 1..6 with every covariance type.
//
//   old_faithful_bic [path/to/faithful.csv]
//
// Without an argument it reads faithful.csv from GAUSSMIX_EXAMPLES_DATA_DIR (set by CMake).

#include <gaussmix/gaussmix.hpp>

#include <Eigen/Core>

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

// Reads a CSV file with the header "eruptions,waiting" and two numeric columns.
Eigen::MatrixXd read_faithful(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::string line;
  if (!std::getline(in, line) || line.rfind("eruptions,waiting", 0) != 0)
    throw std::runtime_error(path + ": expected the header \"eruptions,waiting\"");
  std::vector<double> values;
  for (int number = 2; std::getline(in, line); ++number) {
    if (line.empty() || line == "\r") continue;
    std::istringstream fields(line);
    double eruptions = 0, waiting = 0;
    char comma = 0;
    if (!(fields >> eruptions >> comma >> waiting) || comma != ',')
      throw std::runtime_error(path + ":" + std::to_string(number) + ": expected two numbers separated by a comma");
    values.push_back(eruptions);
    values.push_back(waiting);
  }
  const Eigen::Index n = static_cast<Eigen::Index>(values.size() / 2);
  return Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, 2, Eigen::RowMajor>>(values.data(), n, 2);
}

}  // namespace

int main(int argc, char** argv) {
#ifdef GAUSSMIX_EXAMPLES_DATA_DIR
  std::string path = std::string(GAUSSMIX_EXAMPLES_DATA_DIR) + "/faithful.csv";
#else
  std::string path = "faithful.csv";
#endif
  if (argc > 1) path = argv[1];
  try {
    const Eigen::MatrixXd X = read_faithful(path);
    const std::vector<gaussmix::CovarianceType> types = gaussmix::all_covariance_types();
    // BIC compares maximised likelihoods: 10 k-means starts per fit keep EM out of poor local maxima.
    gaussmix::Options base;
    base.n_init = 10;
    const auto selection = gaussmix::select_model(X, 1, 6, types, base);

    std::printf("Old Faithful: %ld eruptions (duration and waiting time, minutes)\n", static_cast<long>(X.rows()));
    std::printf("BIC = -2 log L + p log n, lower is better (* = chosen)\n\n   K");
    for (std::size_t t = 0; t < types.size(); ++t)
      std::printf(t + 1 < types.size() ? " %10s " : " %10s\n", gaussmix::to_string(types[t]));
    char cell[32];
    for (int K = 1; K <= 6; ++K) {
      std::string row = std::to_string(K);
      row.insert(0, 4 - row.size(), ' ');
      for (const auto type : types) {
        const gaussmix::BicEntry& e = selection.entry(K, type);
        if (e.ok())
          std::snprintf(cell, sizeof cell, " %10.2f%c", e.bic, &e == &selection.best_entry() ? '*' : ' ');
        else
          std::snprintf(cell, sizeof cell, " %10s ", "failed");
        row += cell;
      }
      row.erase(row.find_last_not_of(' ') + 1);
      std::printf("%s\n", row.c_str());
    }

    const gaussmix::BicEntry& best = selection.best_entry();
    const auto& model = selection.best;
    std::printf("\nChosen: %s covariance, K = %d (BIC %.2f, %d parameters, %d EM iterations)\n",
                gaussmix::to_string(best.covariance_type), best.n_components, best.bic, best.n_parameters, best.n_iter);
    std::printf("   k  weight   mean (eruptions, waiting)   covariance [[e, ew], [ew, w]]\n");
    for (int k = 0; k < model.n_components(); ++k) {
      const Eigen::Matrix2d c = model.covariance(k);
      std::printf("%4d  %6.3f   (%6.3f, %7.3f)          [[%6.3f, %6.3f], [%6.3f, %7.3f]]\n", k, model.weights()(k),
                  model.means()(k, 0), model.means()(k, 1), c(0, 0), c(0, 1), c(1, 0), c(1, 1));
    }
  } catch (const std::exception& error) {
    std::cerr << "old_faithful_bic: " << error.what() << "\n";
    return EXIT_FAILURE;
  }
  return EXIT_SUCCESS;
}
