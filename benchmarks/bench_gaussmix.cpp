// SPDX-License-Identifier: MIT
// gaussmix on one workload: R timed fits of exactly `iters` EM iterations (warm start from the
// workload's initial parameters, tol = 0 so the convergence test never stops it), each timed
// around fit() alone (set_parameters is outside the clock). Prints one RESULT line of JSON.
//
// usage: bench_gaussmix FILE [--reps 5] [--warmup 1] [--iters 20] [--threads T] [--rows N]
//                            [--scalar double|float] [--dim dynamic|fixed] [--layout row|col]
//                            [--reg 0] [--mode fit|load]
//   --scalar float converts the data to float once, outside the clock (a float user has float data).
//   --dim fixed uses GaussianMixture<double, 2> (d must be 2; double only).
//   --layout row passes an Eigen::Map over the file's row-major buffer (no copy); col copies the
//   data into a column-major matrix first, outside the clock.
#include <Eigen/Core>
#include <cstdio>
#include <gaussmix/gaussmix.hpp>
#include <string>
#include <type_traits>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "bench_common.hpp"

namespace {

template <typename Scalar, int Dim, class XType>
int run(const bench::Workload& w, const XType& X, const bench::Args& args) {
  using Model = gaussmix::GaussianMixture<Scalar, Dim>;
  const int K = static_cast<int>(w.k), d = static_cast<int>(w.d);
  const int iters = static_cast<int>(args.get_int("iters", 20));
  const int reps = static_cast<int>(args.get_int("reps", 5));
  const int warmup = static_cast<int>(args.get_int("warmup", 1));

  gaussmix::Options options;
  options.n_components = K;
  options.covariance_type = w.diagonal ? gaussmix::CovarianceType::Diagonal : gaussmix::CovarianceType::Full;
  options.reg_covar = std::stod(args.get("reg", "0"));
  options.max_iter = iters;
  options.tol = 0;  // never converged: exactly `iters` iterations
  options.warm_start = true;

  Eigen::Matrix<Scalar, Eigen::Dynamic, 1> weights(K);
  Eigen::Matrix<Scalar, Eigen::Dynamic, Dim> means(K, d);
  std::vector<typename Model::Matrix> covs;
  for (int k = 0; k < K; ++k) {
    weights(k) = static_cast<Scalar>(w.weights[k]);
    for (int j = 0; j < d; ++j) means(k, j) = static_cast<Scalar>(w.means[k * d + j]);
    typename Model::Matrix c(d, d);
    for (int i = 0; i < d; ++i)
      for (int j = 0; j < d; ++j) c(i, j) = static_cast<Scalar>(w.covs[(k * d + i) * d + j]);
    covs.push_back(c);
  }

  std::vector<double> per_iteration;
  gaussmix::FitResult result{};
  Model model(options);
  for (int rep = -warmup; rep < reps; ++rep) {
    model = Model(options);
    model.set_parameters(weights, means, covs);
    const double t0 = bench::now_seconds();
    result = model.fit(X);
    const double t1 = bench::now_seconds();
    if (rep >= 0) per_iteration.push_back((t1 - t0) / iters);
  }

  // Mean log-likelihood of X under the final parameters (after `iters` M-steps), in double.
  const double score = static_cast<double>(model.score(X));
  bench::Hash hash;
  for (int k = 0; k < K; ++k) {
    hash.add(static_cast<double>(model.weights()(k)));
    const auto mu = model.means();
    for (int j = 0; j < d; ++j) hash.add(static_cast<double>(mu(k, j)));
    const auto c = model.covariance(k);
    for (int i = 0; i < d; ++i)
      for (int j = 0; j < d; ++j) hash.add(static_cast<double>(c(i, j)));
  }
  for (double h : result.history) hash.add(h);

  int threads = 1;
#ifdef _OPENMP
  threads = omp_get_max_threads();
#endif
  bench::Json json;
  json.add("peer", "gaussmix")
      .add("scalar", sizeof(Scalar) == 4 ? "float" : "double")
      .add("dim", Dim == Eigen::Dynamic ? "dynamic" : "fixed")
      .add("layout", args.get("layout", "row"))
      .add("threads", threads)
      .add("n", w.n)
      .add("d", w.d)
      .add("k", w.k)
      .add("iters", result.n_iter)
      .add("times", per_iteration)
      .add("median", bench::median(per_iteration))
      .add("score", score)
      .add("lower_bound", result.lower_bound)
      .add("history", result.history)
      .add("hash", hash.hex());
  json.print();
  return result.n_iter == iters ? 0 : 1;
}

// Only the variants the report uses are instantiated (each costs build time): double with a
// dynamic or fixed (2) dimension, float with a dynamic one; the column-major copy for double only.
template <typename Scalar, int Dim, bool WithColumnMajor>
int dispatch_layout(const bench::Workload& w, const bench::Args& args) {
  using RowMajor = Eigen::Matrix<Scalar, Eigen::Dynamic, Dim, Dim == 1 ? Eigen::ColMajor : Eigen::RowMajor>;
  using ColMajor = Eigen::Matrix<Scalar, Eigen::Dynamic, Dim>;
  const auto n = static_cast<Eigen::Index>(w.n), d = static_cast<Eigen::Index>(w.d);
  std::vector<Scalar> converted;  // float: the data converted once; double: the file's buffer itself
  if constexpr (!std::is_same_v<Scalar, double>) converted.assign(w.x.begin(), w.x.end());
  const Scalar* data = nullptr;
  if constexpr (std::is_same_v<Scalar, double>)
    data = w.x.data();
  else
    data = converted.data();
  Eigen::Map<const RowMajor> X(data, n, d);
  if (args.get("layout", "row") == "col") {
    if constexpr (WithColumnMajor) {
      const ColMajor copy = X;
      return run<Scalar, Dim>(w, copy, args);
    } else {
      throw std::runtime_error("--layout col is built for --scalar double --dim dynamic only");
    }
  }
  return run<Scalar, Dim>(w, X, args);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const bench::Args args(argc, argv);
    if (args.path.empty()) {
      std::fprintf(stderr, "usage: bench_gaussmix FILE [--reps R] [--threads T] [--scalar double|float] ...\n");
      return 2;
    }
#ifdef _OPENMP
    const long long threads = args.get_int("threads", 0);
    if (threads > 0) omp_set_num_threads(static_cast<int>(threads));
#endif
    const bench::Workload w = bench::read_workload(args.path, static_cast<std::uint64_t>(args.get_int("rows", 0)));
    if (args.get("mode", "fit") == "load") {  // baseline for the peak-memory measurement
      bench::Json().add("peer", "gaussmix").add("mode", "load").add("n", w.n).print();
      return 0;
    }
    const bool fixed = args.get("dim", "dynamic") == "fixed";
    if (fixed && w.d != 2) throw std::runtime_error("--dim fixed needs d = 2");
    if (args.get("scalar", "double") == "float") {
      if (fixed) throw std::runtime_error("--dim fixed is built for --scalar double only");
      return dispatch_layout<float, Eigen::Dynamic, false>(w, args);
    }
    if (fixed) return dispatch_layout<double, 2, false>(w, args);
    return dispatch_layout<double, Eigen::Dynamic, true>(w, args);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_gaussmix: %s\n", e.what());
    return 1;
  }
}
