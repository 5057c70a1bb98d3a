// SPDX-License-Identifier: MIT
// Cost of a BayesianGaussianMixture iteration against a GaussianMixture iteration of the same size, on one
// workload file (bench_common.hpp; docs/benchmarks.md, "Bayesian mixture"). Both start from the workload's
// initial parameters: GaussianMixture from them (set_parameters, warm_start); BayesianGaussianMixture from
// m_step(X, resp) with resp their responsibilities (scikit-learn's _initialize(X, resp), what
// bench_sklearn_bayesian.py does), then warm_start. Each rep times fit(X) with tol = 0 and max_iter = iters
// (every iteration: E-step, M-step and the lower bound), divided by iters; the model is copied outside the
// clock. GaussianMixture and Bayesian reps alternate so that load from other work hits both alike. Wall
// clock and the thread's CPU time (the fairer one on a loaded machine). One thread.
//
// usage: bench_bayesian FILE [--reps 5] [--warmup 1] [--iters 10] [--rows N] [--reg 1e-6]
//                            [--prior dp|dirichlet]
// Prints one RESULT line of JSON: medians, ratio, and the Bayesian lower bound after iters iterations
// (bench_sklearn_bayesian.py prints scikit-learn's from the same start, for the agreement check).
#include <Eigen/Core>
#include <cstdio>
#include <ctime>
#include <gaussmix/gaussmix.hpp>
#include <string>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "bench_common.hpp"

namespace {

int run(const bench::Args& args) {
  const bench::Workload w = bench::read_workload(args.path, static_cast<std::uint64_t>(args.get_int("rows", 0)));
  const int K = static_cast<int>(w.k), d = static_cast<int>(w.d);
  const int iters = static_cast<int>(args.get_int("iters", 10));
  const int reps = static_cast<int>(args.get_int("reps", 5));
  const int warmup = static_cast<int>(args.get_int("warmup", 1));
  const bool dp = args.get("prior", "dp") == "dp";
  using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const Eigen::Map<const RowMajor> X(w.x.data(), static_cast<Eigen::Index>(w.n), d);

  gaussmix::Options options;
  options.n_components = K;
  options.covariance_type = w.diagonal ? gaussmix::CovarianceType::Diagonal : gaussmix::CovarianceType::Full;
  options.reg_covar = std::stod(args.get("reg", "1e-6"));
  options.max_iter = iters;
  options.tol = 0;  // never converged: exactly `iters` iterations
  options.warm_start = true;

  Eigen::VectorXd weights(K);
  Eigen::MatrixXd means(K, d);
  std::vector<Eigen::MatrixXd> covs;
  for (int k = 0; k < K; ++k) {
    weights(k) = w.weights[k];
    for (int j = 0; j < d; ++j) means(k, j) = w.means[k * d + j];
    Eigen::MatrixXd c(d, d);
    for (int i = 0; i < d; ++i)
      for (int j = 0; j < d; ++j) c(i, j) = w.covs[(k * d + i) * d + j];
    covs.push_back(c);
  }
  gaussmix::GaussianMixtureXd start(options);
  start.set_parameters(weights, means, covs);
  gaussmix::BayesianPriors priors;
  priors.weight_prior = dp ? gaussmix::WeightPrior::DirichletProcess : gaussmix::WeightPrior::DirichletDistribution;
  gaussmix::BayesianGaussianMixtureXd bayes_start(options, priors);
  bayes_start.m_step(X, start.predict_proba(X));

  std::vector<double> gmm_wall, gmm_cpu, bayes_wall, bayes_cpu;
  gaussmix::FitResult gmm_result{}, bayes_result{};
  for (int rep = -warmup; rep < reps; ++rep) {
    gaussmix::GaussianMixtureXd gmm = start;
    double t0 = bench::now_seconds(), c0 = bench::thread_cpu_seconds();
    gmm_result = gmm.fit(X);
    double t1 = bench::now_seconds(), c1 = bench::thread_cpu_seconds();
    if (rep >= 0) {
      gmm_wall.push_back((t1 - t0) / iters);
      gmm_cpu.push_back((c1 - c0) / iters);
    }
    gaussmix::BayesianGaussianMixtureXd bayes = bayes_start;
    t0 = bench::now_seconds();
    c0 = bench::thread_cpu_seconds();
    bayes_result = bayes.fit(X);
    t1 = bench::now_seconds();
    c1 = bench::thread_cpu_seconds();
    if (rep >= 0) {
      bayes_wall.push_back((t1 - t0) / iters);
      bayes_cpu.push_back((c1 - c0) / iters);
    }
  }
  int threads = 1;
#ifdef _OPENMP
  threads = omp_get_max_threads();
#endif
  const double gw = bench::median(gmm_wall), gc = bench::median(gmm_cpu);
  const double bw = bench::median(bayes_wall), bc = bench::median(bayes_cpu);
  bench::Json json;
  json.add("peer", "gaussmix-bayesian")
      .add("prior", dp ? "dirichlet_process" : "dirichlet_distribution")
      .add("threads", threads)
      .add("n", w.n)
      .add("d", w.d)
      .add("k", w.k)
      .add("iters", iters)
      .add("gmm_wall", gmm_wall)
      .add("bayes_wall", bayes_wall)
      .add("gmm_median", gw)
      .add("gmm_cpu_median", gc)
      .add("bayes_median", bw)
      .add("bayes_cpu_median", bc)
      .add("ratio_wall", bw / gw)
      .add("ratio_cpu", bc / gc)
      .add("lower_bound", bayes_result.lower_bound)
      .add("history", bayes_result.history)
      .add("gmm_lower_bound", gmm_result.lower_bound);
  json.print();
  return bayes_result.n_iter == iters && gmm_result.n_iter == iters ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const bench::Args args(argc, argv);
    if (args.path.empty()) {
      std::fprintf(stderr, "usage: bench_bayesian FILE [--reps R] [--iters I] [--prior dp|dirichlet] ...\n");
      return 2;
    }
#ifdef _OPENMP
    omp_set_num_threads(1);
#endif
    return run(args);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_bayesian: %s\n", e.what());
    return 1;
  }
}
