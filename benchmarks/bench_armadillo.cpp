// SPDX-License-Identifier: MIT
// Armadillo's gmm_full / gmm_diag on one workload: R timed calls of
// learn(X, K, eucl_dist, keep_existing, km_iter = 0, em_iter = iters, var_floor, print_mode = true)
// after set_params() with the workload's initial parameters. Compiled with -fopenmp, so
// Armadillo's OpenMP E-step is used (threads = OMP_NUM_THREADS or --threads).
//
// Armadillo has no switch to turn its convergence test off: EM stops when the mean
// log-likelihood changes by <= machine epsilon. We capture its per-iteration output (print_mode)
// and report the number of iterations it really ran; the orchestrator rejects a run that stopped
// early. var_floor (a clamp on the variances, not an addition) defaults to 0, which Armadillo
// replaces by DBL_MIN: no clamping, like reg_covar = 0 for the other peers.
//
// usage: bench_armadillo FILE [--reps 3] [--warmup 1] [--iters 20] [--threads T] [--rows N] [--var-floor 0]
#include <armadillo>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "bench_common.hpp"

namespace {

// Parses "gmm_xxx::learn(): EM: iteration:    3   avg_log_p: -2.87" lines.
std::vector<double> parse_history(const std::string& text) {
  std::vector<double> history;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    const auto at = line.find("avg_log_p:");
    if (line.find("iteration:") == std::string::npos || at == std::string::npos) continue;
    history.push_back(std::stod(line.substr(at + 10)));
  }
  return history;
}

template <class Model>
int run(const bench::Workload& w, const bench::Args& args, bool diagonal) {
  const arma::uword K = w.k, d = w.d, n = w.n;
  const int iters = static_cast<int>(args.get_int("iters", 20));
  const int reps = static_cast<int>(args.get_int("reps", 3));
  const int warmup = static_cast<int>(args.get_int("warmup", 1));
  const double var_floor = std::stod(args.get("var-floor", "0"));

  // The row-major N x d file buffer is a column-major d x N matrix: one sample per column, no copy.
  const arma::mat X(const_cast<double*>(w.x.data()), d, n, /*copy_aux_mem=*/false, /*strict=*/true);
  arma::mat means(d, K);
  arma::rowvec hefts(K);
  arma::cube fcovs(d, d, K);
  arma::mat dcovs(d, K);
  for (arma::uword k = 0; k < K; ++k) {
    hefts(k) = w.weights[k];
    for (arma::uword j = 0; j < d; ++j) means(j, k) = w.means[k * d + j];
    for (arma::uword i = 0; i < d; ++i)
      for (arma::uword j = 0; j < d; ++j) fcovs(i, j, k) = w.covs[(k * d + i) * d + j];
    for (arma::uword j = 0; j < d; ++j) dcovs(j, k) = w.covs[(k * d + j) * d + j];
  }

  std::vector<double> per_iteration;
  std::vector<double> history;
  double score = 0;
  bool ok = true;
  for (int rep = -warmup; rep < reps; ++rep) {
    Model model;
    if constexpr (std::is_same_v<Model, arma::gmm_diag>)
      model.set_params(means, dcovs, hefts);
    else
      model.set_params(means, fcovs, hefts);
    std::ostringstream captured;
    std::streambuf* saved = std::cout.rdbuf(captured.rdbuf());
    const std::streamsize precision = std::cout.precision(17);  // Armadillo prints through std::cout
    const double t0 = bench::now_seconds();
    ok = model.learn(X, K, arma::eucl_dist, arma::keep_existing, 0, static_cast<arma::uword>(iters), var_floor, true);
    const double t1 = bench::now_seconds();
    std::cout.rdbuf(saved);
    std::cout.precision(precision);
    history = parse_history(captured.str());
    if (rep >= 0) per_iteration.push_back((t1 - t0) / iters);
    score = model.avg_log_p(X);
  }

  int threads = 1;
#ifdef _OPENMP
  threads = omp_get_max_threads();
#endif
  bench::Json json;
  json.add("peer", diagonal ? "armadillo gmm_diag" : "armadillo gmm_full")
      .add("threads", threads)
      .add("n", w.n)
      .add("d", w.d)
      .add("k", w.k)
      .add("ok", ok)
      .add("iters", static_cast<int>(history.size()))
      .add("times", per_iteration)
      .add("median", bench::median(per_iteration))
      .add("score", score)
      .add("lower_bound", history.empty() ? 0.0 : history.back())
      .add("history", history)
      .add("version", arma::arma_version::as_string());
  json.print();
  return ok && static_cast<int>(history.size()) == iters ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const bench::Args args(argc, argv);
    if (args.path.empty()) {
      std::fprintf(stderr, "usage: bench_armadillo FILE [--reps R] [--threads T] ...\n");
      return 2;
    }
#ifdef _OPENMP
    const long long threads = args.get_int("threads", 0);
    if (threads > 0) omp_set_num_threads(static_cast<int>(threads));
#endif
    const bench::Workload w = bench::read_workload(args.path, static_cast<std::uint64_t>(args.get_int("rows", 0)));
    if (w.diagonal) return run<arma::gmm_diag>(w, args, true);
    return run<arma::gmm_full>(w, args, false);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_armadillo: %s\n", e.what());
    return 1;
  }
}
