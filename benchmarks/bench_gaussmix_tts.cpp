// SPDX-License-Identifier: MIT
// gaussmix time to solution on one workload: what a user times, `fit(X)` with the default
// Options (tol 1e-3, reg_covar 1e-6, max_iter 100, n_init 1, k-means init) and only
// n_components / covariance_type set. Repetition r uses Options::seed = seed0 + r, so the same
// runs give the time and the spread of the final lower bound over n_init = 1 restarts.
//
// Init / EM split, within the timed fit: Options::callback (a no-op that reads the clock, the only
// option added) stamps the end of every EM iteration; iteration 1 ends after the initialisation
// plus one iteration, so init = end of iteration 1 - duration of iteration 2 (every iteration does
// the same work) and EM = fit time - init. Cross-check, not timed with the fit: each repetition
// also runs the initialisation alone, through the public fit_with() with initial_parameters()
// (what fit() calls, same seed and random stream) and an expectation that aborts at its first
// call ("init_alone_times" in the output; --init-alone 0 skips it).
//
// --start PARAMS ("same start"): warm_start from the parameters in PARAMS (scikit-learn's own
// initial parameters, written by bench_sklearn_tts.py), otherwise the same default Options: the
// EM loop alone, from exactly scikit-learn's start.
//
// usage: bench_gaussmix_tts FILE [--reps 5] [--warmup 1] [--seed0 0] [--threads T] [--rows N]
//                                [--start PARAMS] [--init-alone 1]
#include <Eigen/Core>
#include <algorithm>
#include <cstdio>
#include <gaussmix/gaussmix.hpp>
#include <string>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "bench_common.hpp"

namespace {

using Model = gaussmix::GaussianMixture<double>;
using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

struct InitDone {};  // thrown by the expectation of the init-only run: the initialisation is over

gaussmix::Options default_options(const bench::Workload& w) {
  gaussmix::Options options;  // every other field keeps its default
  options.n_components = static_cast<int>(w.k);
  options.covariance_type = w.diagonal ? gaussmix::CovarianceType::Diagonal : gaussmix::CovarianceType::Full;
  return options;
}

// Seconds spent by fit()'s initialisation for this seed (the model is left unchanged).
double time_init(const Eigen::Map<const RowMajor>& X, const gaussmix::Options& options) {
  Model model(options);
  const double t0 = bench::now_seconds();
  double t1 = t0;
  try {
    model.fit_with(
        [&](auto& rng) { return gaussmix::initial_parameters<double, Eigen::Dynamic>(X, nullptr, model.options(), rng); },
        [&](const auto&, auto&) {
          t1 = bench::now_seconds();
          throw InitDone{};
        });
  } catch (const InitDone&) {
  }
  return t1 - t0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const bench::Args args(argc, argv);
    if (args.path.empty()) {
      std::fprintf(stderr, "usage: bench_gaussmix_tts FILE [--reps R] [--seed0 S] [--threads T] [--start PARAMS]\n");
      return 2;
    }
#ifdef _OPENMP
    const long long requested = args.get_int("threads", 0);
    if (requested > 0) omp_set_num_threads(static_cast<int>(requested));
#endif
    const bench::Workload w = bench::read_workload(args.path, static_cast<std::uint64_t>(args.get_int("rows", 0)));
    const Eigen::Map<const RowMajor> X(w.x.data(), static_cast<Eigen::Index>(w.n), static_cast<Eigen::Index>(w.d));
    const int reps = static_cast<int>(args.get_int("reps", 5));
    const int warmup = static_cast<int>(args.get_int("warmup", 1));
    const long long seed0 = args.get_int("seed0", 0);
    const std::string start = args.get("start", "");
    const bool with_init_alone = args.get_int("init-alone", 1) != 0;

    // Same start: scikit-learn's initial parameters, given with set_parameters (outside the clock).
    Eigen::VectorXd start_weights;
    RowMajor start_means;
    std::vector<Model::Matrix> start_covs;
    if (!start.empty()) {
      const bench::Parameters p = bench::read_parameters(start);
      if (p.d != w.d || p.k != w.k || p.diagonal != w.diagonal)
        throw std::runtime_error(start + ": parameters do not match the workload");
      const int K = static_cast<int>(p.k), d = static_cast<int>(p.d);
      start_weights = Eigen::Map<const Eigen::VectorXd>(p.weights.data(), K);
      start_means = Eigen::Map<const RowMajor>(p.means.data(), K, d);
      for (int k = 0; k < K; ++k)
        start_covs.push_back(Eigen::Map<const RowMajor>(p.covs.data() + static_cast<std::size_t>(k) * d * d, d, d));
    }

    std::vector<double> fit_times, init_times, em_times, init_alone_times, lower_bounds, iters, converged, seeds;
    std::vector<double> stamps;  // end of each EM iteration, seconds after fit() was called
    for (int rep = -warmup; rep < reps; ++rep) {
      gaussmix::Options options = default_options(w);
      options.seed = static_cast<std::uint64_t>(seed0 + (rep < 0 ? 0 : rep));
      double t0 = 0;
      options.callback = [&](const gaussmix::IterationInfo&) {
        stamps.push_back(bench::now_seconds() - t0);
        return true;
      };
      Model model(options);
      double init_alone = 0;
      if (start.empty()) {
        if (with_init_alone) init_alone = time_init(X, options);
      } else {
        options.warm_start = true;
        model = Model(options);
        model.set_parameters(start_weights, start_means, start_covs);
      }
      stamps.clear();
      t0 = bench::now_seconds();
      const gaussmix::FitResult result = model.fit(X);
      const double t1 = bench::now_seconds();
      if (rep < 0) continue;
      // Same start: no initialisation in the fit, all of it is EM.
      double init = 0;
      if (start.empty() && stamps.size() >= 2) init = std::max(0.0, 2 * stamps[0] - stamps[1]);
      fit_times.push_back(t1 - t0);
      init_times.push_back(init);
      em_times.push_back(t1 - t0 - init);
      init_alone_times.push_back(init_alone);
      lower_bounds.push_back(result.lower_bound);
      iters.push_back(result.n_iter);
      converged.push_back(result.converged ? 1 : 0);
      seeds.push_back(static_cast<double>(options.seed));
    }

    int threads = 1;
#ifdef _OPENMP
    threads = omp_get_max_threads();
#endif
    bench::Json json;
    json.add("peer", "gaussmix")
        .add("mode", start.empty() ? "default" : "same start")
        .add("threads", threads)
        .add("n", w.n)
        .add("d", w.d)
        .add("k", w.k)
        .add("seeds", seeds)
        .add("fit_times", fit_times)
        .add("init_times", init_times)
        .add("em_times", em_times)
        .add("init_alone_times", init_alone_times)
        .add("iters", iters)
        .add("converged", converged)
        .add("lower_bounds", lower_bounds)
        .add("median", bench::median(fit_times))
        .add("median_init", bench::median(init_times))
        .add("median_em", bench::median(em_times));
    json.print();
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_gaussmix_tts: %s\n", e.what());
    return 1;
  }
}
