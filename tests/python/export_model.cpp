// SPDX-License-Identifier: MIT
// Test helper for sklearn_interop.py (not an example):
//   gaussmix_export_model export DIR          fits the four covariance types to generated 3-D data;
//                                            writes DIR/data.csv, DIR/model_<type>.json and
//                                            DIR/expected_<type>.csv (label, log_density, p0..p2);
//                                            and a BayesianGaussianMixture (K = 5) per type and weight
//                                            prior: DIR/bayes_<type>_<prior>.json, expected_bayes_<...>.csv
//   gaussmix_export_model score MODEL DATA OUT  loads MODEL (JSON, either kind) and writes OUT as above
//                                            for DATA
// Every number is written in full (shortest round-trip text), so Python reads exactly these values.

#include <gaussmix/gaussmix.hpp>
#include <gaussmix/io.hpp>

#include <Eigen/Core>
#include <nlohmann/json.hpp>

#include <array>
#include <charconv>
#include <exception>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace {

using Model = gaussmix::GaussianMixtureXd;
using BayesModel = gaussmix::BayesianGaussianMixture<double>;

std::string exact(double x) {
  std::array<char, 32> buffer{};
  const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), x);
  return std::string(buffer.data(), result.ptr);
}

void write(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.close();
  if (!out) throw std::runtime_error("cannot write " + path);
}

std::string matrix_csv(const Eigen::MatrixXd& X) {
  std::ostringstream out;
  for (Eigen::Index j = 0; j < X.cols(); ++j) out << (j ? "," : "") << "x" << j;
  out << "\n";
  for (Eigen::Index i = 0; i < X.rows(); ++i) {
    for (Eigen::Index j = 0; j < X.cols(); ++j) out << (j ? "," : "") << exact(X(i, j));
    out << "\n";
  }
  return out.str();
}

// label, log_density, p0..p<K-1> for every row of X.
template <class AnyModel>
std::string scores_csv(const AnyModel& model, const Eigen::MatrixXd& X) {
  const Eigen::VectorXi labels = model.predict(X);
  const Eigen::VectorXd log_density = model.score_samples(X);
  const Eigen::MatrixXd proba = model.predict_proba(X);
  std::ostringstream out;
  out << "label,log_density";
  for (int k = 0; k < model.n_components(); ++k) out << ",p" << k;
  out << "\n";
  for (Eigen::Index i = 0; i < X.rows(); ++i) {
    out << labels(i) << "," << exact(log_density(i));
    for (int k = 0; k < model.n_components(); ++k) out << "," << exact(proba(i, k));
    out << "\n";
  }
  return out.str();
}

Eigen::MatrixXd read_csv(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::string line;
  std::getline(in, line);  // header
  std::vector<std::vector<double>> rows;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::vector<double> row;
    std::stringstream fields(line);
    std::string field;
    while (std::getline(fields, field, ',')) row.push_back(std::stod(field));
    rows.push_back(row);
  }
  Eigen::MatrixXd X(static_cast<Eigen::Index>(rows.size()), rows.empty() ? 0 : static_cast<Eigen::Index>(rows[0].size()));
  for (Eigen::Index i = 0; i < X.rows(); ++i)
    for (Eigen::Index j = 0; j < X.cols(); ++j) X(i, j) = rows[static_cast<std::size_t>(i)].at(static_cast<std::size_t>(j));
  return X;
}

// 600 points in 3-D from three correlated components, away from the origin.
Eigen::MatrixXd generated_data() {
  gaussmix::Options options;
  options.n_components = 3;
  Model truth(options);
  Eigen::MatrixXd means(3, 3);
  means << 3, -2, 10,  //
      6, 1, 12,        //
      1, 2, 8;
  std::vector<Eigen::MatrixXd> covs(3);
  covs[0] = Eigen::Matrix3d{{1.0, 0.3, 0.1}, {0.3, 0.8, -0.2}, {0.1, -0.2, 1.5}};
  covs[1] = Eigen::Matrix3d{{0.5, -0.1, 0.0}, {-0.1, 1.2, 0.4}, {0.0, 0.4, 0.9}};
  covs[2] = Eigen::Matrix3d{{2.0, 0.6, 0.3}, {0.6, 0.7, 0.1}, {0.3, 0.1, 0.6}};
  truth.set_parameters(Eigen::Vector3d(0.25, 0.35, 0.4), means, covs);
  return truth.sample(600, 2024);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::vector<std::string> args(argv + 1, argv + argc);
    if (args.size() == 2 && args[0] == "export") {
      const std::string dir = args[1];
      const Eigen::MatrixXd X = generated_data();
      write(dir + "/data.csv", matrix_csv(X));
      for (const auto type : {gaussmix::CovarianceType::Full, gaussmix::CovarianceType::Diagonal,
                              gaussmix::CovarianceType::Spherical, gaussmix::CovarianceType::Tied}) {
        gaussmix::Options options;
        options.n_components = 3;
        options.covariance_type = type;
        options.seed = 5;
        Model model(options);
        const gaussmix::FitResult fit = model.fit(X);
        const std::string name = gaussmix::to_string(type);
        gaussmix::save_json(model, dir + "/model_" + name + ".json", fit);
        write(dir + "/expected_" + name + ".csv", scores_csv(model, X));
        for (const auto prior : {gaussmix::WeightPrior::DirichletProcess, gaussmix::WeightPrior::DirichletDistribution}) {
          options.n_components = 5;  // more than the data's 3: some get weights near 0
          gaussmix::BayesianPriors priors;
          priors.weight_prior = prior;
          BayesModel bayes(options, priors);
          const gaussmix::FitResult bayes_fit = bayes.fit(X);
          const std::string bayes_name = "bayes_" + name + "_" + gaussmix::to_string(prior);
          gaussmix::save_json(bayes, dir + "/" + bayes_name + ".json", bayes_fit);
          write(dir + "/expected_" + bayes_name + ".csv", scores_csv(bayes, X));
        }
      }
      return 0;
    }
    if (args.size() == 4 && args[0] == "score") {
      std::ifstream in(args[1]);
      const nlohmann::json doc = nlohmann::json::parse(in);
      if (doc.value("format", "") == gaussmix::bayesian_model_format_name)
        write(args[3], scores_csv(gaussmix::load_bayesian_json(args[1]), read_csv(args[2])));
      else
        write(args[3], scores_csv(gaussmix::load_json(args[1]), read_csv(args[2])));
      return 0;
    }
    std::cerr << "usage: gaussmix_export_model export DIR | score MODEL DATA OUT\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "gaussmix_export_model: " << e.what() << "\n";
    return 1;
  }
}
