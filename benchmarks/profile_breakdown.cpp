// SPDX-License-Identifier: MIT
// Where one EM iteration of gaussmix spends its time, one thread, by phase of the library's own
// kernels (the E-step pieces of estep.hpp and the M-step of mstep.hpp, called in the order
// BlockedExpectation::run_chunk and fit_with call them):
//   copy       ws.x = the block's rows of X (cast to Scalar)
//   density    weighted_log_prob: per component x - mu, the product with the precision factor,
//              the row-wise squared norm (Full) or the scaled squares (Diagonal)
//   normalise  log-sum-exp per row: max, exp, sum, log, the division
//   accumulate per component N_k, the first moment and the second moments (rank update)
//   m-step     maximise(): means, covariances, their Cholesky factors
// Each phase is timed around its call for every block (4096-row blocks or fewer: the clock's
// cost is negligible). The result must equal fit()'s up to rounding: the driver checks the score.
// This program uses the kernel API of estep.hpp/mstep.hpp; it is built on its own target
// (EXCLUDE_FROM_ALL) so that a change of that API cannot break the benchmark build.
//
// usage: profile_breakdown FILE [--iters 20] [--scalar double|float] [--rows N]
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <gaussmix/gaussmix.hpp>
#include <string>
#include <vector>

#include "bench_common.hpp"

namespace {

template <typename Scalar>
int run(const bench::Workload& w, const bench::Args& args) {
  using Model = gaussmix::GaussianMixture<Scalar>;
  using RowMajor = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const int K = static_cast<int>(w.k), d = static_cast<int>(w.d);
  const Eigen::Index n = static_cast<Eigen::Index>(w.n);
  const int iters = static_cast<int>(args.get_int("iters", 20));
  const auto type = w.diagonal ? gaussmix::CovarianceType::Diagonal : gaussmix::CovarianceType::Full;

  std::vector<Scalar> buffer(w.x.begin(), w.x.end());
  Eigen::Map<const RowMajor> X(buffer.data(), n, d);

  gaussmix::Options options;
  options.n_components = K;
  options.covariance_type = type;
  options.reg_covar = 0;
  options.max_iter = iters;
  options.tol = 0;
  options.warm_start = true;
  Eigen::Matrix<Scalar, Eigen::Dynamic, 1> weights(K);
  Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic> means(K, d);
  std::vector<typename Model::Matrix> covs;
  for (int k = 0; k < K; ++k) {
    weights(k) = static_cast<Scalar>(w.weights[k]);
    for (int j = 0; j < d; ++j) means(k, j) = static_cast<Scalar>(w.means[k * d + j]);
    typename Model::Matrix c(d, d);
    for (int i = 0; i < d; ++i)
      for (int j = 0; j < d; ++j) c(i, j) = static_cast<Scalar>(w.covs[(k * d + i) * d + j]);
    covs.push_back(c);
  }
  Model model(options);
  model.set_parameters(weights, means, covs);

  // The same iterations as fit(), phase by phase, on one thread.
  gaussmix::Parameters<Scalar, Eigen::Dynamic> p;
  p.weights = weights;
  p.means = means;
  p.covariances = gaussmix::Covariances<Scalar, Eigen::Dynamic>::from_dense(type, d, covs);
  gaussmix::EStepWorkspace<Scalar, Eigen::Dynamic> ws(d, K);
  gaussmix::SufficientStatistics<Eigen::Dynamic> stats;
  const Eigen::Index step = gaussmix::detail::block_rows<Scalar>(d);
  double t_copy = 0, t_density = 0, t_normalise = 0, t_accumulate = 0, t_mstep = 0, t_reset = 0;
  const double start_all = bench::now_seconds();
  for (int it = 0; it < iters; ++it) {
    double t0 = bench::now_seconds();
    stats.reset(type, p.means);
    t_reset += bench::now_seconds() - t0;
    for (Eigen::Index start = 0; start < n; start += step) {
      const Eigen::Index rows = std::min(step, n - start);
      const double a = bench::now_seconds();
      gaussmix::detail::copy_rows(X, start, rows, ws.x);
      const double b = bench::now_seconds();
      gaussmix::weighted_log_prob(p, rows, ws);
      const double c = bench::now_seconds();
      gaussmix::normalise(rows, ws);
      const double e = bench::now_seconds();
      gaussmix::accumulate(start, rows, nullptr, ws, stats);
      const double f = bench::now_seconds();
      t_copy += b - a;
      t_density += c - b;
      t_normalise += e - c;
      t_accumulate += f - e;
    }
    t0 = bench::now_seconds();
    p = gaussmix::maximise<Scalar, Eigen::Dynamic>(stats, 0.0, &p);
    t_mstep += bench::now_seconds() - t0;
  }
  const double total = bench::now_seconds() - start_all;

  model.fit(X);
  const double fit_score = static_cast<double>(model.score(X));
  Model replica(options);
  std::vector<typename Model::Matrix> final_covs;
  for (int k = 0; k < K; ++k) final_covs.push_back(p.covariances.dense(k));
  replica.set_parameters(p.weights, p.means, final_covs);
  const double score = static_cast<double>(replica.score(X));

  bench::Json()
      .add("peer", "gaussmix breakdown")
      .add("scalar", sizeof(Scalar) == 4 ? "float" : "double")
      .add("n", w.n)
      .add("d", w.d)
      .add("k", w.k)
      .add("per_iteration", total / iters)
      .add("copy", t_copy / iters)
      .add("density", t_density / iters)
      .add("normalise", t_normalise / iters)
      .add("accumulate", t_accumulate / iters)
      .add("mstep", (t_mstep + t_reset) / iters)
      .add("score", score)
      .add("fit_score", fit_score)
      .print();
  // fit() merges 32 chunk sums, this loop one running sum: equal up to rounding.
  return std::abs(score - fit_score) <= 1e-10 * std::max(1.0, std::abs(fit_score)) ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const bench::Args args(argc, argv);
    const bench::Workload w = bench::read_workload(args.path, static_cast<std::uint64_t>(args.get_int("rows", 0)));
    if (args.get("scalar", "double") == "float") return run<float>(w, args);
    return run<double>(w, args);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "profile_breakdown: %s\n", e.what());
    return 1;
  }
}
