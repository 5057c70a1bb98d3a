// SPDX-License-Identifier: MIT
// Online EM (GaussianMixture::partial_fit) against batch EM on N rows of a 5-component mixture in d = 4
// (gaussmix's own sample of a fixed model, held in memory: N x d doubles).
//
//   bench_online [N = 10000000] [batch = 5000] [d = 4] [K = 5] [reps = 5] [cost]
//
// `cost` stops after part 1. Part 1 alternates reps passes and reps batch iterations (pass, iteration, pass,
// ...) so that load from other work on a shared machine hits both alike, and prints the medians; also the
// one-off cost of partial_fit's first call on an unfitted model (not part of a pass: it starts the stream).
//
// Prints:
//   1. cost: seconds of one pass of partial_fit over the N rows in batches, and of one batch EM
//      iteration (fit with warm_start, max_iter = 1) over the same rows from the same parameters; ratio.
//   2. time to within 1e-3 nats per sample of the batch optimum (full EM to tol 1e-7 on the N rows):
//      mini-batch (partial_fit, default Options::online, passes until reached, the full-data
//      log-likelihood checked every tenth of a pass, off the clock) vs full-batch EM (per-iteration
//      times from the progress callback); both start from the same parameters (k-means on the first batch).
// One thread for both (the comparison is per core); run it on a quiet machine.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <gaussmix/gaussmix.hpp>
#include <string>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace {

using Model = gaussmix::GaussianMixtureXd;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

}  // namespace

int main(int argc, char** argv) {
  const Eigen::Index N = argc > 1 ? std::atol(argv[1]) : 10000000;
  const Eigen::Index B = argc > 2 ? std::atol(argv[2]) : 5000;
  const int d = argc > 3 ? std::atoi(argv[3]) : 4, K = argc > 4 ? std::atoi(argv[4]) : 5;
  const int reps = argc > 5 ? std::atoi(argv[5]) : 5;
  const bool cost_only = argc > 6 && std::string(argv[6]) == "cost";
  if (N < B || B < K || d < 1 || K < 1 || reps < 1) {
    std::fprintf(stderr, "usage: bench_online [N >= batch] [batch >= K] [d] [K] [reps >= 1] [cost]\n");
    return 2;
  }
#ifdef _OPENMP
  omp_set_num_threads(1);
#endif
  // The truth: means on a ring of radius 4 in the first two coordinates, correlated covariances.
  gaussmix::Options o;
  o.n_components = K;
  Model truth(o);
  Eigen::VectorXd w = Eigen::VectorXd::LinSpaced(K, 1.0, 2.0);
  w /= w.sum();
  Eigen::MatrixXd means = Eigen::MatrixXd::Zero(K, d);
  std::vector<Eigen::MatrixXd> covs;
  for (int k = 0; k < K; ++k) {
    means(k, 0) = 4 * std::cos(6.283185307179586 * k / K);
    if (d > 1) means(k, 1) = 4 * std::sin(6.283185307179586 * k / K);
    Eigen::MatrixXd c = Eigen::MatrixXd::Identity(d, d) * (0.6 + 0.1 * k);
    if (d > 1) c(0, 1) = c(1, 0) = 0.2;
    covs.push_back(c);
  }
  truth.set_parameters(w, means, covs);
  const Eigen::MatrixXd X = truth.sample(N, 1);
  std::printf("N = %ld rows, d = %d, K = %d, batches of %ld rows\n", static_cast<long>(N), d, K, static_cast<long>(B));

  // Common start: the initialisation partial_fit's first call makes (k-means on the first batch).
  Model start(o);
  {
    gaussmix::detail::Random rng(gaussmix::detail::run_seed(o.seed, 0));
    const auto p = gaussmix::initial_parameters<double, Eigen::Dynamic>(X.topRows(B), nullptr, o, rng);
    std::vector<Eigen::MatrixXd> c;
    for (int k = 0; k < K; ++k) c.push_back(p.covariances.dense(k));
    start.set_parameters(p.weights, p.means, c);
  }

  // 1. Cost of a pass, interleaved with batch iterations; medians.
  gaussmix::Options one = o;
  one.warm_start = true;
  one.max_iter = 1;
  std::vector<double> passes, iterations, firsts;
  Clock::time_point t;
  for (int r = 0; r < reps; ++r) {
    Model online = start;
    t = Clock::now();
    for (Eigen::Index b = 0; b < N; b += B) online.partial_fit(X.middleRows(b, std::min(B, N - b)));
    passes.push_back(seconds_since(t));
    Model batch_step(one);
    batch_step.set_parameters(start.weights(), start.means(), start.covariances());
    t = Clock::now();
    batch_step.fit(X);
    iterations.push_back(seconds_since(t));
    Model unfitted(o);  // the one-off first call: Options::online.first_batch_n_init starts on one batch
    t = Clock::now();
    unfitted.partial_fit(X.topRows(B));
    firsts.push_back(seconds_since(t));
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
  };
  const double pass_seconds = median(passes), iteration_seconds = median(iterations);
  std::printf(
      "one pass of partial_fit: %.3f s; one batch EM iteration: %.3f s; ratio %.2f (medians of %d, interleaved)\n",
      pass_seconds, iteration_seconds, pass_seconds / iteration_seconds, reps);
  for (int r = 0; r < reps; ++r) std::printf("  rep %d: pass %.3f s, iteration %.3f s\n", r, passes[r], iterations[r]);
  std::printf("first call on an unfitted model (initialisation from one batch, once per stream): %.3f s\n",
              median(firsts));
  if (cost_only) return 0;

  // 2. Time to within 1e-3 of the batch optimum.
  gaussmix::Options full = o;
  full.warm_start = true;
  full.tol = 1e-7;
  full.max_iter = 2000;
  std::vector<double> at;
  full.callback = [&](const gaussmix::IterationInfo& info) {
    at.push_back(info.elapsed_seconds);
    return true;
  };
  Model batch(full);
  batch.set_parameters(start.weights(), start.means(), start.covariances());
  const gaussmix::FitResult fitted = batch.fit(X);
  const double optimum = batch.score(X);
  double batch_reached = -1;
  for (std::size_t i = 0; i < fitted.history.size(); ++i)
    if (fitted.history[i] >= optimum - 1e-3) {  // history[i]: the parameters after i M-steps
      batch_reached = i == 0 ? 0 : at[i - 1];
      break;
    }
  std::printf("batch optimum %.8f (full EM, %d iterations, %.2f s); batch EM within 1e-3 after %.3f s\n", optimum,
              fitted.n_iter, at.empty() ? 0.0 : at.back(), batch_reached);

  Model mini = start;
  double clock = 0, reached = -1;
  const Eigen::Index check_every = std::max<Eigen::Index>(1, (N / B) / 10);
  Eigen::Index updates = 0;
  for (int pass = 0; pass < 5 && reached < 0; ++pass)
    for (Eigen::Index b = 0; b < N && reached < 0; b += B) {
      t = Clock::now();
      mini.partial_fit(X.middleRows(b, std::min(B, N - b)));
      clock += seconds_since(t);
      if (++updates % check_every == 0 && mini.score(X) >= optimum - 1e-3) reached = clock;
    }
  std::printf("mini-batch within 1e-3 after %.3f s (%ld updates = %.2f passes); final gap %.2e\n", reached,
              static_cast<long>(updates), static_cast<double>(updates * B) / static_cast<double>(N),
              optimum - mini.score(X));
  return 0;
}
