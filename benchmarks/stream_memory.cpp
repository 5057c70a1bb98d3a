// SPDX-License-Identifier: MIT
// Peak memory of a streamed fit (fit_source over a BinaryFileSource) does not depend on the number
// of rows: write a large float64 file, fit it under an address-space cap, print peak RSS and the
// time per EM iteration. benchmarks/stream_memory.sh runs the whole demonstration; the figures are
// in docs/scaling.md.
//
//   stream_memory write FILE CHUNKS            CHUNKS x 2^20 rows of d = 8 float64 from a fixed
//                                              K = 4 mixture (32 chunks = 2 GiB)
//   stream_memory fit FILE D K MAX_ITER [--no-cache] [--float32]
//                                              fit_source with K full covariances, tol = 0 (exactly
//                                              MAX_ITER iterations); --no-cache evicts the file from
//                                              the page cache before the fit and after every
//                                              iteration, so every pass reads the disk
//
// Linux only (getrusage, /proc/self/status, posix_fadvise).

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <fstream>
#include <gaussmix/gaussmix.hpp>
#include <string>
#include <vector>

namespace {

// The mixture of docs/scaling.md: K = 4, d = 8, weights 0.4 0.3 0.2 0.1, correlated covariances.
gaussmix::GaussianMixtureXd truth() {
  const int d = 8, K = 4;
  gaussmix::Options o;
  o.n_components = K;
  gaussmix::GaussianMixtureXd model(o);
  Eigen::MatrixXd means(K, d);
  std::vector<Eigen::MatrixXd> covariances;
  for (int k = 0; k < K; ++k) {
    for (int j = 0; j < d; ++j) means(k, j) = 5.0 * std::sin(1.0 + 3 * k + j);
    Eigen::MatrixXd L = Eigen::MatrixXd::Identity(d, d) * (0.5 + 0.2 * k);
    for (int i = 1; i < d; ++i) L(i, i - 1) = 0.3 * std::cos(k + i);
    covariances.push_back(L * L.transpose());
  }
  model.set_parameters(Eigen::Vector4d(0.4, 0.3, 0.2, 0.1), means, covariances);
  return model;
}

int write(const char* path, int chunks) {
  const gaussmix::GaussianMixtureXd model = truth();
  std::ofstream out(path, std::ios::binary);
  if (!out) {
    std::fprintf(stderr, "stream_memory: cannot write '%s'\n", path);
    return 1;
  }
  for (int c = 0; c < chunks; ++c) {
    const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> rows =
        model.sample(1 << 20, 1000 + static_cast<std::uint64_t>(c));
    out.write(reinterpret_cast<const char*>(rows.data()), static_cast<std::streamsize>(rows.size() * sizeof(double)));
  }
  out.close();
  if (!out) {
    std::fprintf(stderr, "stream_memory: writing '%s' failed (disk full?)\n", path);
    return 1;
  }
  std::printf("wrote %s: %ld rows x 8 float64, %ld bytes\n", path, static_cast<long>(chunks) << 20,
              (static_cast<long>(chunks) << 20) * 64);
  return 0;
}

// Drops the file's pages from the page cache (only this file's), so the next pass reads the disk.
void evict(const char* path) {
  const int fd = ::open(path, O_RDONLY);
  if (fd < 0) return;
  ::fdatasync(fd);
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  ::close(fd);
}

double cpu_seconds() { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }

template <typename T>
int fit(const char* path, long d, int K, int max_iter, bool no_cache) {
  gaussmix::Options o;
  o.n_components = K;
  o.max_iter = max_iter;
  o.tol = 0;  // exactly max_iter iterations
  std::vector<double> wall, cpu;
  o.callback = [&](const gaussmix::IterationInfo&) {
    wall.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count());
    cpu.push_back(cpu_seconds());
    if (no_cache) evict(path);
    return true;
  };
  gaussmix::GaussianMixtureXd model(o);
  gaussmix::BinaryFileSource<T> source(path, d);
  if (no_cache) evict(path);
  const double start = std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  const double cpu_start = cpu_seconds();
  const gaussmix::FitResult r = gaussmix::fit_source(model, source);
  const double total = wall.back() - start;
  auto per_iteration = [](const std::vector<double>& t) {
    return t.size() > 1 ? (t.back() - t.front()) / static_cast<double>(t.size() - 1) : 0.0;
  };
  const double bytes = static_cast<double>(source.n_rows()) * static_cast<double>(d) * sizeof(T);
  std::printf("file: %s, %ld rows x %ld %s = %.0f MiB; K = %d full, %s\n", path, static_cast<long>(source.n_rows()), d,
              sizeof(T) == 4 ? "float32" : "float64", bytes / 1048576.0, K,
              no_cache ? "page cache dropped before every pass" : "file in the page cache if it fits");
  std::printf("fit: %d iterations, lower bound %.10f, %.2f s in all (sample pass + init + iteration 1: %.2f s)\n",
              r.n_iter, r.lower_bound, total, wall.front() - start);
  std::printf("per EM iteration (2nd to last): %.3f s wall, %.3f s CPU, %.0f MB/s read\n", per_iteration(wall),
              per_iteration(cpu), per_iteration(wall) > 0 ? bytes / 1e6 / per_iteration(wall) : 0.0);
  std::printf("CPU in all: %.2f s\n", cpu.back() - cpu_start);
  std::printf("weights:");
  for (int k = 0; k < model.n_components(); ++k) std::printf(" %.4f", model.weights()(k));
  std::printf("\n");
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::printf("peak RSS (getrusage ru_maxrss): %ld KiB\n", static_cast<long>(usage.ru_maxrss));
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmPeak", 0) == 0 || line.rfind("VmHWM", 0) == 0) std::printf("%s\n", line.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "write" && argc == 4) return write(argv[2], std::atoi(argv[3]));
    if (mode == "fit" && argc >= 6) {
      bool no_cache = false, float32 = false;
      for (int i = 6; i < argc; ++i) {
        const std::string flag = argv[i];
        if (flag == "--no-cache")
          no_cache = true;
        else if (flag == "--float32")
          float32 = true;
        else
          return std::fprintf(stderr, "stream_memory: unknown option %s\n", argv[i]), 2;
      }
      const long d = std::atol(argv[3]);
      const int K = std::atoi(argv[4]), max_iter = std::atoi(argv[5]);
      return float32 ? fit<float>(argv[2], d, K, max_iter, no_cache) : fit<double>(argv[2], d, K, max_iter, no_cache);
    }
    std::fprintf(stderr,
                 "usage: stream_memory write FILE CHUNKS_OF_2^20_ROWS\n"
                 "       stream_memory fit FILE D K MAX_ITER [--no-cache] [--float32]\n");
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "stream_memory: %s\n", e.what());
    return 1;
  }
}
