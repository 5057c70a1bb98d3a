// SPDX-License-Identifier: MIT
// Armadillo time to solution on one workload: gmm_full / gmm_diag
// learn(X, K, eucl_dist, random_subset, km_iter, em_iter, var_floor, print_mode = true) with its
// own k-means initialisation, after arma_rng::set_seed(seed0 + r) for repetition r.
//
// Armadillo has no default km_iter / em_iter and no tolerance: EM stops when the mean
// log-likelihood changes by <= machine epsilon. To time it as the other peers are timed
// (tol 1e-3 on the change of the mean log-likelihood, at most 100 iterations) its progress output
// is read as it is printed: a stream buffer stamps the time of every line, and at the first EM
// iteration whose change is below --tol it stops learn() by throwing from the stream (the
// iterations up to there are exactly Armadillo's). The line "EM: n_threads" is printed between the
// initialisation (K random samples as seeds, k-means, initial covariances) and the first EM iteration: the
// init / EM split of the same run.
//
// usage: bench_armadillo_tts FILE [--reps 3] [--warmup 0] [--seed0 0] [--threads T] [--rows N]
//                                 [--km-iter 10] [--em-iter 100] [--tol 1e-3] [--var-floor 1e-6]
#include <armadillo>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <streambuf>
#include <string>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "bench_common.hpp"

namespace {

struct Converged {};  // thrown through learn() when the change falls below tol

// Collects Armadillo's progress lines with the time each one ended; throws Converged on the first
// EM iteration whose mean log-likelihood changed by less than tol.
class StampedLines : public std::streambuf {
 public:
  explicit StampedLines(double tol) : tol_(tol) {}
  double em_started = -1;               // time of the "EM: n_threads" line
  std::vector<double> history, stamps;  // avg_log_p and time of each EM iteration line
  int km_iterations = 0;

 protected:
  int_type overflow(int_type c) override {
    if (c == traits_type::eof()) return traits_type::not_eof(c);
    if (c != '\n') {
      line_.push_back(static_cast<char>(c));
      return c;
    }
    const double now = bench::now_seconds();
    std::string line;
    line.swap(line_);
    if (line.find("k-means") != std::string::npos && line.find("iteration") != std::string::npos) ++km_iterations;
    if (line.find("EM: n_threads") != std::string::npos) em_started = now;
    const auto at = line.find("avg_log_p:");
    if (line.find("EM: iteration") != std::string::npos && at != std::string::npos) {
      history.push_back(std::stod(line.substr(at + 10)));
      stamps.push_back(now);
      const std::size_t n = history.size();
      if (n >= 2 && std::abs(history[n - 1] - history[n - 2]) < tol_) throw Converged{};
    }
    return c;
  }

 private:
  double tol_;
  std::string line_;
};

template <class Model>
int run(const bench::Workload& w, const bench::Args& args, bool diagonal) {
  const arma::uword K = w.k, d = w.d, n = w.n;
  const int reps = static_cast<int>(args.get_int("reps", 3));
  const int warmup = static_cast<int>(args.get_int("warmup", 0));
  const long long seed0 = args.get_int("seed0", 0);
  const auto km_iter = static_cast<arma::uword>(args.get_int("km-iter", 10));
  const auto em_iter = static_cast<arma::uword>(args.get_int("em-iter", 100));
  const double tol = std::stod(args.get("tol", "1e-3"));
  const double var_floor = std::stod(args.get("var-floor", "1e-6"));

  // The row-major N x d file buffer is a column-major d x N matrix: one sample per column, no copy.
  const arma::mat X(const_cast<double*>(w.x.data()), d, n, /*copy_aux_mem=*/false, /*strict=*/true);
  std::vector<double> fit_times, init_times, em_times, lower_bounds, iters, km_iters, converged, seeds, ok;
  for (int rep = -warmup; rep < reps; ++rep) {
    const long long seed = seed0 + (rep < 0 ? 0 : rep);
    arma::arma_rng::set_seed(static_cast<arma::arma_rng::seed_type>(seed));
    Model model;
    StampedLines lines(tol);
    std::streambuf* saved = std::cout.rdbuf(&lines);
    const std::ios_base::fmtflags flags = std::cout.flags();
    const std::streamsize precision = std::cout.precision(17);  // Armadillo prints through std::cout
    std::cout.exceptions(std::ios::badbit);  // let Converged through the stream
    bool status = true, stopped_at_tol = false;
    const double t0 = bench::now_seconds();
    try {
      status = model.learn(X, K, arma::eucl_dist, arma::random_subset, km_iter, em_iter, var_floor, true);
    } catch (const Converged&) {
      stopped_at_tol = true;
    }
    const double t1 = stopped_at_tol ? lines.stamps.back() : bench::now_seconds();
    std::cout.exceptions(std::ios::goodbit);
    std::cout.clear();
    std::cout.rdbuf(saved);
    std::cout.flags(flags);
    std::cout.precision(precision);
    if (rep < 0) continue;
    const double init = lines.em_started > 0 ? lines.em_started - t0 : 0;
    fit_times.push_back(t1 - t0);
    init_times.push_back(init);
    em_times.push_back(t1 - t0 - init);
    lower_bounds.push_back(lines.history.empty() ? 0.0 : lines.history.back());
    iters.push_back(static_cast<double>(lines.history.size()));
    km_iters.push_back(lines.km_iterations);
    converged.push_back(stopped_at_tol ? 1 : 0);
    ok.push_back(status ? 1 : 0);
    seeds.push_back(static_cast<double>(seed));
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
      .add("km_iter", static_cast<int>(km_iter))
      .add("em_iter", static_cast<int>(em_iter))
      .add("tol", tol)
      .add("var_floor", var_floor)
      .add("seeds", seeds)
      .add("fit_times", fit_times)
      .add("init_times", init_times)
      .add("em_times", em_times)
      .add("iters", iters)
      .add("km_iters", km_iters)
      .add("converged", converged)
      .add("ok", ok)
      .add("lower_bounds", lower_bounds)
      .add("median", bench::median(fit_times))
      .add("median_init", bench::median(init_times))
      .add("median_em", bench::median(em_times))
      .add("version", arma::arma_version::as_string());
  json.print();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const bench::Args args(argc, argv);
    if (args.path.empty()) {
      std::fprintf(stderr, "usage: bench_armadillo_tts FILE [--reps R] [--seed0 S] [--threads T] ...\n");
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
    std::fprintf(stderr, "bench_armadillo_tts: %s\n", e.what());
    return 1;
  }
}
