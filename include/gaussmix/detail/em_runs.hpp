// SPDX-License-Identifier: MIT
#pragma once

#include <chrono>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <utility>

#include "../options.hpp"
#include "random.hpp"

namespace gaussmix::detail {

// The EM loop of every fit: `runs` initialisations (seeds run_seed(options.seed, run)), each from
// start(rng) and iterated by step(model) -> its lower bound until |change| < options.tol, max_iter
// iterations, or the progress callback says stop; keep(model) takes the run with the highest last
// lower bound (the first on ties), whose FitResult is returned. `initial_bound` is the bound the
// first change is taken from. With `report`, options.verbose lines and options.callback as
// scikit-learn's verbose output. GaussianMixture's fit_with and first partial_fit batch, and
// BayesianGaussianMixture's fit, differ only in start, step and keep.
template <class Start, class Step, class Keep>
FitResult run_em(const Options& options, int runs, int max_iter, double initial_bound, bool report, Start&& start,
                 Step&& step, Keep&& keep) {
  std::ostream& log = options.verbose_stream ? *options.verbose_stream : std::cerr;
  FitResult best_result;
  for (int run = 0; run < runs; ++run) {
    const auto started = std::chrono::steady_clock::now();
    auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(); };
    if (report && options.verbose >= 1) log << "Initialization " << run << "\n";
    Random rng(run_seed(options.seed, static_cast<std::uint64_t>(run)));
    auto model = start(rng);
    FitResult result;
    double lower_bound = initial_bound;
    bool stop = false;
    for (int iteration = 1; iteration <= max_iter; ++iteration) {
      const double previous = lower_bound;
      lower_bound = step(model);
      result.history.push_back(lower_bound);
      result.n_iter = iteration;
      const double change = lower_bound - previous;
      if (report && options.verbose >= 2 && iteration % options.verbose_interval == 0)
        log << "  Iteration " << iteration << "\t time lapse " << elapsed() << "s\t ll change " << change << "\n";
      if (report && options.callback &&
          !options.callback(IterationInfo{run, iteration, lower_bound, change, elapsed()})) {
        result.stopped = stop = true;
        break;
      }
      if (std::abs(change) < options.tol) {
        result.converged = true;
        break;
      }
    }
    result.lower_bound = lower_bound;
    if (report && options.verbose >= 1)
      log << "Initialization " << (result.converged ? "converged" : "did not converge") << ": " << result.n_iter
          << " iterations\t time lapse " << elapsed() << "s\t lower bound " << lower_bound << "\n";
    if (run == 0 || lower_bound > best_result.lower_bound) {
      keep(std::move(model));
      best_result = std::move(result);
    }
    if (stop) break;
  }
  return best_result;
}

}  // namespace gaussmix::detail
