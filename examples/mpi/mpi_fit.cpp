// SPDX-License-Identifier: MIT
// Fits a Gaussian mixture to a raw binary file of rows split across MPI ranks: rank r of p reads
// only rows [r n / p, (r + 1) n / p). The ranks sum their sufficient statistics once per EM
// iteration (gaussmix/mpi.hpp); every rank ends with the same model, which rank 0 prints.
//
//   mpirun -np 4 ./mpi_fit data.f64 8 4
//   mpirun -np 4 ./mpi_fit data.f32 8 4 --covariance diag --max-iter 50
//
// FILE holds n rows of d values, row after row, float64 (or float32: --float32 or a name ending
// in .f32), in the machine's byte order; numpy writes one with X.astype('<f8').tofile('data.f64').

#include <mpi.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <gaussmix/gaussmix.hpp>
#include <gaussmix/mpi.hpp>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

namespace {

const char* const kUsage =
    "usage: mpirun -np P mpi_fit FILE D K [options]\n"
    "  FILE  n rows of D values, float64 (default) or float32 (--float32, or a name ending in .f32)\n"
    "  K     the number of components\n"
    "options:\n"
    "  --covariance full|diag|spherical|tied   (full)\n"
    "  --init kmeans|k-means++|random|random_from_data   (kmeans)\n"
    "  --max-iter N (100)   --tol T (1e-3)   --n-init N (1)   --seed S (0)\n"
    "  --reg-covar R (1e-6)   --reservoir ROWS (10000: rows sampled for the initialisation)\n"
    "Rank r of P reads rows [r n / P, (r + 1) n / P) of FILE.\n";

struct Arguments {
  std::string path;
  long d = 0;
  gaussmix::Options options;
  gaussmix::StreamOptions stream;
  bool float32 = false;
};

// Parses the command line; returns an error message, empty when all is well.
std::string parse(int argc, char** argv, Arguments& a) {
  std::vector<std::string> positional;
  auto number = [](const std::string& text, auto& out) {
    char* end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    if (text.empty() || *end != '\0') return false;
    out = static_cast<std::remove_reference_t<decltype(out)>>(v);
    return true;
  };
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--float32") {
      a.float32 = true;
      continue;
    }
    if (arg.rfind("--", 0) != 0) {
      positional.push_back(arg);
      continue;
    }
    if (i + 1 >= argc) return "missing a value after " + arg;
    const std::string value = argv[++i];
    bool ok = true;
    if (arg == "--covariance") {
      if (value == "full")
        a.options.covariance_type = gaussmix::CovarianceType::Full;
      else if (value == "diag")
        a.options.covariance_type = gaussmix::CovarianceType::Diagonal;
      else if (value == "spherical")
        a.options.covariance_type = gaussmix::CovarianceType::Spherical;
      else if (value == "tied")
        a.options.covariance_type = gaussmix::CovarianceType::Tied;
      else
        ok = false;
    } else if (arg == "--init") {
      if (value == "kmeans")
        a.options.init_params = gaussmix::InitMethod::KMeans;
      else if (value == "k-means++")
        a.options.init_params = gaussmix::InitMethod::KMeansPlusPlus;
      else if (value == "random")
        a.options.init_params = gaussmix::InitMethod::Random;
      else if (value == "random_from_data")
        a.options.init_params = gaussmix::InitMethod::RandomFromData;
      else
        ok = false;
    } else if (arg == "--max-iter") {
      ok = number(value, a.options.max_iter);
    } else if (arg == "--tol") {
      ok = number(value, a.options.tol);
    } else if (arg == "--n-init") {
      ok = number(value, a.options.n_init);
    } else if (arg == "--seed") {
      ok = number(value, a.options.seed);
    } else if (arg == "--reg-covar") {
      ok = number(value, a.options.reg_covar);
    } else if (arg == "--reservoir") {
      ok = number(value, a.stream.reservoir_size);
    } else {
      return "unknown option " + arg;
    }
    if (!ok) return "bad value '" + value + "' for " + arg;
  }
  if (positional.size() != 3) return "expected FILE D K";
  a.path = positional[0];
  if (!number(positional[1], a.d) || a.d < 1) return "D must be a positive integer";
  if (!number(positional[2], a.options.n_components)) return "K must be a positive integer";
  if (a.path.size() >= 4 && a.path.compare(a.path.size() - 4, 4, ".f32") == 0) a.float32 = true;
  return "";
}

template <typename T>
int run(const Arguments& a, int rank, int ranks) {
  // Opening the file is local to each rank: a rank that cannot read its slice stops them all.
  std::optional<gaussmix::BinaryFileSource<T>> slice;
  try {
    slice.emplace(gaussmix::BinaryFileSource<T>::part(a.path, a.d, rank, ranks));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mpi_fit: rank %d: %s\n", rank, e.what());
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  // Wall clock and this rank's CPU time after each EM iteration. On a busy machine the CPU time
  // shows what the wall time would be with a core per rank.
  std::vector<double> wall, cpu;
  gaussmix::Options options = a.options;
  options.callback = [&](const gaussmix::IterationInfo& info) {
    if (info.iteration == 1) {  // a new initialisation run
      wall.clear();
      cpu.clear();
    }
    wall.push_back(MPI_Wtime());
    cpu.push_back(static_cast<double>(std::clock()) / CLOCKS_PER_SEC);
    return true;  // the same answer on every rank, as fit_mpi requires
  };
  auto per_iteration = [](const std::vector<double>& t) {
    return t.size() > 1 ? (t.back() - t.front()) / static_cast<double>(t.size() - 1) : 0.0;
  };
  int status = 0;
  try {
    gaussmix::GaussianMixtureXd model(options);
    MPI_Barrier(MPI_COMM_WORLD);
    const double start = MPI_Wtime();
    const gaussmix::FitResult result = gaussmix::fit_mpi(model, *slice, MPI_COMM_WORLD, a.stream);
    const double seconds = MPI_Wtime() - start;
    const double my_cpu = per_iteration(cpu);
    double max_cpu = 0, sum_cpu = 0;
    MPI_Reduce(&my_cpu, &max_cpu, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
    MPI_Reduce(&my_cpu, &sum_cpu, 1, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
    if (rank == 0) {
      const long n = static_cast<long>(slice->file_rows());
      std::printf("mpi_fit: '%s': %ld rows x %ld (%s), %d ranks of about %ld rows\n", a.path.c_str(), n, a.d,
                  sizeof(T) == 4 ? "float32" : "float64", ranks, n / ranks);
      std::printf("mpi_fit: K = %d, %s covariances: %s after %d iterations, lower bound %.10g\n", model.n_components(),
                  gaussmix::to_string(model.covariance_type()), result.converged ? "converged" : "not converged",
                  result.n_iter, result.lower_bound);
      std::printf(
          "mpi_fit: %.3f s in all; per EM iteration (2nd to last): %.3f s wall, CPU %.3f s on the slowest "
          "rank, %.3f s summed over ranks\n",
          seconds, per_iteration(wall), max_cpu, sum_cpu);
      std::printf("mpi_fit: one MPI_Allreduce of %ld doubles per iteration\n",
                  static_cast<long>(gaussmix::mpi_doubles_per_iteration(model.covariance_type(), model.n_components(),
                                                                        model.n_features())));
      for (int k = 0; k < model.n_components(); ++k) {
        std::printf("  component %d: weight %.6f, mean", k, model.weights()(k));
        for (int j = 0; j < model.n_features(); ++j) std::printf(" %.6g", model.means()(k, j));
        std::printf("\n");
      }
    }
  } catch (const std::exception& e) {
    // fit_mpi throws the same exception on every rank: one report is enough.
    if (rank == 0) std::fprintf(stderr, "mpi_fit: %s\n", e.what());
    status = 1;
  }
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, ranks = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);
  Arguments a;
  const std::string problem = parse(argc, argv, a);
  int status = 0;
  if (!problem.empty()) {
    if (rank == 0) std::fprintf(stderr, "mpi_fit: %s\n%s", problem.c_str(), kUsage);
    status = 2;
  } else {
    status = a.float32 ? run<float>(a, rank, ranks) : run<double>(a, rank, ranks);
  }
  MPI_Finalize();
  return status;
}
