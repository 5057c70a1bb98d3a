// SPDX-License-Identifier: MIT
// Cost of an EM iteration with missing values (Options::missing = Marginalise) against the same iteration on
// complete data: N rows of a K-component full-covariance mixture in d dimensions (gaussmix's own sample of a
// fixed model), then a copy with a fraction of the entries missing completely at random.
//
//   bench_missing [N = 40000] [d = 16] [K = 8] [rate = 0.2] [reps = 5]
//
// Prints the median seconds of one EM iteration (fit with warm_start, max_iter = 1, from the same parameters)
// on the complete data and on the data with holes, and their ratio: wall-clock, and the thread's CPU time
// (on a loaded machine the wall clock of the longer run also counts the time slices it waited for, so the CPU
// ratio is the fairer one there). Alternates the two (complete, holes, complete, ...) so that load from other
// work hits both alike. One thread; run it on a quiet machine. The last line, `RESULT {json}`, is what
// run_benchmarks.py reads (docs/benchmarks.md, "Missing values").

#include "bench_common.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <gaussmix/gaussmix.hpp>
#include <limits>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

int main(int argc, char** argv) {
  const Eigen::Index N = argc > 1 ? std::atol(argv[1]) : 40000;
  const Eigen::Index d = argc > 2 ? std::atol(argv[2]) : 16;
  const int K = argc > 3 ? std::atoi(argv[3]) : 8;
  const double rate = argc > 4 ? std::atof(argv[4]) : 0.2;
  const int reps = argc > 5 ? std::atoi(argv[5]) : 5;
#ifdef _OPENMP
  omp_set_num_threads(1);
#endif
  gaussmix::Options o;
  o.n_components = K;
  gaussmix::GaussianMixtureXd truth(o);
  gaussmix::detail::Random rng(7);
  Eigen::MatrixXd means(K, d);
  std::vector<Eigen::MatrixXd> covariances;
  for (int k = 0; k < K; ++k) {
    for (Eigen::Index j = 0; j < d; ++j) means(k, j) = 4 * rng.normal();
    Eigen::MatrixXd A(d, d);
    for (Eigen::Index i = 0; i < A.size(); ++i) A(i) = 0.3 * rng.normal();
    covariances.push_back(A * A.transpose() + Eigen::MatrixXd::Identity(d, d));
  }
  truth.set_parameters(Eigen::VectorXd::Constant(K, 1.0 / K), means, covariances);
  const Eigen::MatrixXd X = truth.sample(N, 11);
  Eigen::MatrixXd holes = X;
  Eigen::Index missing = 0, incomplete = 0;
  for (Eigen::Index i = 0; i < N; ++i) {
    bool any = false;
    for (Eigen::Index j = 0; j < d; ++j)
      if (rng.uniform() < rate && j != i % d) {
        holes(i, j) = std::numeric_limits<double>::quiet_NaN();
        ++missing;
        any = true;
      }
    incomplete += any;
  }

  o.covariance_type = gaussmix::CovarianceType::Full;
  o.missing = gaussmix::MissingValues::Marginalise;
  o.warm_start = true;
  o.max_iter = 1;
  o.tol = 0;
  std::vector<double> complete, with_holes, complete_cpu, with_holes_cpu;
  auto iteration = [&](const Eigen::MatrixXd& data, std::vector<double>& wall, std::vector<double>& cpu) {
    gaussmix::GaussianMixtureXd model(o);
    model.set_parameters(truth.weights(), truth.means(), truth.covariances());
    const double cpu_start = bench::thread_cpu_seconds();
    const auto start = std::chrono::steady_clock::now();
    const gaussmix::FitResult result = model.fit(data);
    wall.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    cpu.push_back(bench::thread_cpu_seconds() - cpu_start);
    return result.lower_bound;
  };
  double bound_complete = 0, bound_holes = 0;
  for (int r = 0; r < reps; ++r) {
    bound_complete = iteration(X, complete, complete_cpu);
    bound_holes = iteration(holes, with_holes, with_holes_cpu);
  }
  const double a = bench::median(complete), b = bench::median(with_holes);
  const double a_cpu = bench::median(complete_cpu), b_cpu = bench::median(with_holes_cpu);
  std::printf("N = %ld, d = %ld, K = %d, %.1f%% of entries missing (%ld), %.1f%% of rows incomplete\n",
              static_cast<long>(N), static_cast<long>(d), K, 100.0 * missing / (N * d), static_cast<long>(missing),
              100.0 * incomplete / N);
  std::printf("one EM iteration, median of %d: complete %.4f s, with missing values %.4f s, ratio %.2f\n", reps, a, b,
              b / a);
  std::printf("thread CPU time, median of %d: complete %.4f s, with missing values %.4f s, ratio %.2f\n", reps, a_cpu,
              b_cpu, b_cpu / a_cpu);
  bench::Json json;
  json.add("peer", "gaussmix")
      .add("n", static_cast<long long>(N))
      .add("d", static_cast<long long>(d))
      .add("k", K)
      .add("rate", rate)
      .add("reps", reps)
      .add("missing_entries", static_cast<double>(missing) / static_cast<double>(N * d))
      .add("incomplete_rows", static_cast<double>(incomplete) / static_cast<double>(N))
      .add("complete_wall", complete)
      .add("missing_wall", with_holes)
      .add("complete_cpu", complete_cpu)
      .add("missing_cpu", with_holes_cpu)
      .add("median_complete_wall", a)
      .add("median_missing_wall", b)
      .add("median_complete_cpu", a_cpu)
      .add("median_missing_cpu", b_cpu)
      .add("lower_bound_complete", bound_complete)
      .add("lower_bound_missing", bound_holes);
  json.print();
  return std::isfinite(bound_complete) && std::isfinite(bound_holes) ? 0 : 1;
}
