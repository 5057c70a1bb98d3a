// Fits a 2-component model with an installed gaussmix and prints the weights.
// Exits non-zero if the fit does not recover the mixture it generated.
#include <gaussmix/gaussmix.hpp>
#include <gaussmix/version.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>

static_assert(__cplusplus >= 201703L, "gaussmix::gaussmix must require C++17 of its users");

// Built twice: linked to gaussmix::gaussmix (never OpenMP) and to gaussmix::openmp (always OpenMP).
#if defined(GAUSSMIX_CONSUMER_OPENMP) && !defined(_OPENMP)
#error "gaussmix::openmp must compile its users with OpenMP"
#elif !defined(GAUSSMIX_CONSUMER_OPENMP) && defined(_OPENMP)
#error "gaussmix::gaussmix must not turn OpenMP on for its users"
#endif

namespace {

// Portable standard normal draws: std::mt19937_64 plus Box-Muller (std distributions
// differ between standard libraries).
class Normal {
 public:
  explicit Normal(std::uint64_t seed) : engine_(seed) {}
  double operator()() {
    const double u1 = uniform_open();
    const double u2 = uniform_open();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

 private:
  double uniform_open() { return (static_cast<double>(engine_() >> 11) + 0.5) * 0x1.0p-53; }
  std::mt19937_64 engine_;
};

}  // namespace

int main() {
  // 200 points around (0, 0) and 100 around (6, 3): true weights 2/3 and 1/3.
  const int n_first = 200;
  const int n_second = 100;
  Eigen::MatrixXd X(n_first + n_second, 2);
  Normal normal(42);
  for (int i = 0; i < X.rows(); ++i) {
    const bool first = i < n_first;
    X(i, 0) = (first ? 0.0 : 6.0) + normal();
    X(i, 1) = (first ? 0.0 : 3.0) + 0.5 * normal();
  }

  gaussmix::Options options;
  options.n_components = 2;
  options.seed = 7;
  gaussmix::GaussianMixture2d model(options);
  const gaussmix::FitResult result = model.fit(X);

  const auto& w = model.weights();
  std::printf("gaussmix %s%s: converged=%s after %d iterations, mean log-likelihood %.4f\n",
              gaussmix::version_string,
#ifdef _OPENMP
              " (OpenMP)",
#else
              "",
#endif
              result.converged ? "yes" : "no", result.n_iter,
              result.lower_bound);
  std::printf("weights: %.4f %.4f\n", w(0), w(1));

  const double big = std::max(w(0), w(1));
  const double small = std::min(w(0), w(1));
  const bool ok = result.converged && std::abs(big - 2.0 / 3.0) < 0.05 &&
                  std::abs(small - 1.0 / 3.0) < 0.05;
  std::printf("%s\n", ok ? "OK" : "FAILED: expected weights near 0.6667 and 0.3333");
  return ok ? 0 : 1;
}
