// SPDX-License-Identifier: MIT
// Lets a Dirichlet-process mixture choose K: BayesianGaussianMixture with K = 10 components on
// data from 4 well separated Gaussians keeps 4 of them and switches the other 6 off; on the Old
// Faithful eruptions it keeps 2 or 3.
//
//   bayesian_k [path/to/faithful.csv]
//
// Without an argument it reads faithful.csv from GAUSSMIX_EXAMPLES_DATA_DIR (set by CMake).

#include <gaussmix/gaussmix.hpp>

#include <Eigen/Core>

#include <cstdio>
#include <exception>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using Points = gaussmix::BayesianGaussianMixture<double, 2>::Samples;  // n x 2

Points read_faithful(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::string line;
  if (!std::getline(in, line) || line.rfind("eruptions,waiting", 0) != 0)
    throw std::runtime_error(path + ": expected the header \"eruptions,waiting\"");
  std::vector<double> values;
  while (std::getline(in, line)) {
    if (line.empty() || line == "\r") continue;
    std::istringstream fields(line);
    double eruptions = 0, waiting = 0;
    char comma = 0;
    if (!(fields >> eruptions >> comma >> waiting) || comma != ',') throw std::runtime_error(path + ": bad line");
    values.push_back(eruptions);
    values.push_back(waiting);
  }
  const Eigen::Index n = static_cast<Eigen::Index>(values.size() / 2);
  return Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, 2, Eigen::RowMajor>>(values.data(), n, 2);
}

// Fits K = 10 with the Dirichlet-process prior and prints the components with weight > 1%.
void report(const char* title, const Points& X) {
  gaussmix::Options options;
  options.n_components = 10;
  options.max_iter = 1000;
  options.n_init = 3;
  options.seed = 1;
  gaussmix::BayesianGaussianMixture<double, 2> model(options);
  const gaussmix::FitResult result = model.fit(X);
  const std::vector<int> active = model.active_components(0.01);
  std::printf("%s: %zu of %d components active (lower bound %.4f, %d iterations%s)\n", title, active.size(),
              options.n_components, result.lower_bound, result.n_iter, result.converged ? "" : ", not converged");
  for (int k : active)
    std::printf("  component %d: weight %.3f  mean (%8.3f, %8.3f)\n", k, model.weights()(k), model.means()(k, 0),
                model.means()(k, 1));
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
    // 4 separated components of 250 points each (weights 0.25).
    gaussmix::Options o;
    o.n_components = 4;
    gaussmix::GaussianMixture<double, 2> truth(o);
    Eigen::Matrix<double, 4, 2> means;
    means << 0, 0, 10, 0, 0, 10, 10, 10;
    const Eigen::Matrix2d unit = Eigen::Matrix2d::Identity();
    truth.set_parameters(Eigen::Vector4d::Constant(0.25), means, {unit, unit, unit, unit});
    report("4 separated components", truth.sample(1000, 42));
    report("Old Faithful", read_faithful(path));
  } catch (const std::exception& error) {
    std::cerr << "bayesian_k: " << error.what() << "\n";
    return 1;
  }
  return 0;
}
