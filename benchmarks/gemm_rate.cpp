// SPDX-License-Identifier: MIT
// The machine's double-precision GEMM rate: C = A B with 2048 x 2048 matrices, best of R runs,
// 2 n^3 flops each. Eigen's own kernels (compiled with the same flags as the gaussmix driver; with
// -fopenmp Eigen runs its product on OMP_NUM_THREADS threads) and, when built with
// GEMM_WITH_OPENBLAS, OpenBLAS's cblas_dgemm (threads from OPENBLAS_NUM_THREADS).
//
// usage: gemm_rate [--n 2048] [--reps 3] [--threads T] [--which eigen|openblas]
#include <Eigen/Core>
#include <cstdio>
#include <string>

#ifdef _OPENMP
#include <omp.h>
#endif
#ifdef GEMM_WITH_OPENBLAS
#include <cblas.h>
extern "C" char* openblas_get_corename(void);
extern "C" int openblas_get_num_threads(void);
extern "C" void openblas_set_num_threads(int);
#endif

#include "bench_common.hpp"

int main(int argc, char** argv) {
  const bench::Args args(argc, argv);
  const int n = static_cast<int>(args.get_int("n", 2048));
  const int reps = static_cast<int>(args.get_int("reps", 3));
  const int threads = static_cast<int>(args.get_int("threads", 0));
  const std::string which = args.get("which", "eigen");
  Eigen::MatrixXd A = Eigen::MatrixXd::Random(n, n), B = Eigen::MatrixXd::Random(n, n), C(n, n);
  const double flops = 2.0 * n * static_cast<double>(n) * n;
  double best = 1e300;
  std::string kernel = "eigen";
  int used_threads = 1;
  if (which == "openblas") {
#ifdef GEMM_WITH_OPENBLAS
    if (threads > 0) openblas_set_num_threads(threads);
    for (int r = 0; r < reps + 1; ++r) {
      const double t0 = bench::now_seconds();
      cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0, A.data(), n, B.data(), n, 0.0, C.data(), n);
      const double t = bench::now_seconds() - t0;
      if (r > 0 && t < best) best = t;
    }
    kernel = std::string("openblas ") + openblas_get_corename();
    used_threads = openblas_get_num_threads();
    const Eigen::MatrixXd check = A.topRows(64) * B;  // OpenBLAS must agree with Eigen
    if (!C.topRows(64).isApprox(check, 1e-12)) {
      std::fprintf(stderr, "gemm_rate: OpenBLAS result differs from Eigen's\n");
      return 1;
    }
#else
    std::fprintf(stderr, "gemm_rate: built without OpenBLAS\n");
    return 1;
#endif
  } else {
#ifdef _OPENMP
    if (threads > 0) omp_set_num_threads(threads);
#endif
    used_threads = Eigen::nbThreads();
    for (int r = 0; r < reps + 1; ++r) {
      const double t0 = bench::now_seconds();
      C.noalias() = A * B;
      const double t = bench::now_seconds() - t0;
      if (r > 0 && t < best) best = t;
    }
  }
  bench::Json()
      .add("peer", "gemm")
      .add("kernel", kernel)
      .add("threads", used_threads)
      .add("n", static_cast<long long>(n))
      .add("seconds", best)
      .add("gflops", flops / best * 1e-9)
      .add("checksum", C.sum())
      .print();
  return 0;
}
