// SPDX-License-Identifier: MIT
// Writes the benchmark workloads (data + initial parameters) once, from fixed seeds, so every
// peer reads identical bytes. Usage: make_data OUTDIR
//
// Randomness: std::mt19937_64 (the same stream on every platform) with our own uniform and
// Box-Muller transforms (the std distributions are not portable).
//
//   name  N        d   K   covariance  data
//   a     200000   2   2   full        0.3 N((0,0),[[1,.5],[.5,1]]) + 0.7 N((2.5,0),[[1,-.5],[-.5,1]])
//   b     40000    16  16  full        random mixture (see random_mixture)
//   c     16000    64  8   full        random mixture
//   d     32000    32  64  diagonal    random mixture with diagonal covariances
//   e     1000     2   2   full        the mixture of (a), another seed
//   f     40000    16  16  full        well-separated random mixture (time to solution)
//   g     50000    40  128 diagonal    well-separated, diagonal (speaker-model shape)
//   h     100000   40  256 diagonal    well-separated, diagonal
//   i     1000000  2   2   full        the mixture of (a), another seed (the "first seed" mixture)
//
// Well-separated: means N(0, s^2 I) with s = sqrt(700 / d), so two means are typically
// sqrt(2 d) s = sqrt(1400) ~ 37 apart, against standard deviations of about 1: a sample's log
// responsibility for another component is mostly far below -708, where double underflows to
// subnormal numbers (-745 to -708: 2-4 % of all responsibilities of f, g, h) or to zero.
//
// Initial parameters (the same for every peer): weights 1/K; means = K distinct rows of X drawn
// with the workload's seed; every covariance = the covariance of all of X (its diagonal for a
// diagonal workload). EM is still moving after 20 iterations from there, so no peer's own
// convergence test can stop it early.
#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "bench_common.hpp"

namespace {

class Random {
 public:
  explicit Random(std::uint64_t seed) : engine_(seed) {}
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  std::uint64_t index(std::uint64_t n) { return static_cast<std::uint64_t>(uniform() * static_cast<double>(n)); }
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u1;
    do u1 = uniform();
    while (u1 == 0.0);
    const double u2 = uniform();
    const double r = std::sqrt(-2.0 * std::log(u1));
    spare_ = r * std::sin(6.283185307179586 * u2);
    has_spare_ = true;
    return r * std::cos(6.283185307179586 * u2);
  }

 private:
  std::mt19937_64 engine_;
  double spare_ = 0;
  bool has_spare_ = false;
};

struct Mixture {
  std::vector<double> weights;
  std::vector<Eigen::VectorXd> means;
  std::vector<Eigen::MatrixXd> covs;
};

Mixture two_component_2d() {
  Mixture m;
  m.weights = {0.3, 0.7};
  m.means = {Eigen::Vector2d(0, 0), Eigen::Vector2d(2.5, 0)};
  Eigen::Matrix2d c0, c1;
  c0 << 1, 0.5, 0.5, 1;
  c1 << 1, -0.5, -0.5, 1;
  m.covs = {c0, c1};
  return m;
}

// K components in d dimensions: means N(0, s^2 I) with s = 4 / sqrt(2 d) (neighbouring components
// overlap; `separated`: s = sqrt(700 / d), see above), weights proportional to 0.5 + U(0, 1); full covariances B B^T / d + 0.2 I with B
// standard normal (condition number ~ 20 to 40), diagonal ones with variances U(0.3, 1.5).
Mixture random_mixture(Random& rng, int d, int K, bool diagonal, bool separated) {
  Mixture m;
  const double s = separated ? std::sqrt(700.0 / d) : 4.0 / std::sqrt(2.0 * d);
  double total = 0;
  for (int k = 0; k < K; ++k) {
    m.weights.push_back(0.5 + rng.uniform());
    total += m.weights.back();
    Eigen::VectorXd mean(d);
    for (int j = 0; j < d; ++j) mean(j) = s * rng.normal();
    m.means.push_back(mean);
    Eigen::MatrixXd cov = Eigen::MatrixXd::Zero(d, d);
    if (diagonal) {
      for (int j = 0; j < d; ++j) cov(j, j) = 0.3 + 1.2 * rng.uniform();
    } else {
      Eigen::MatrixXd B(d, d);
      for (int i = 0; i < d; ++i)
        for (int j = 0; j < d; ++j) B(i, j) = rng.normal();
      cov = B * B.transpose() / d;
      cov.diagonal().array() += 0.2;
    }
    m.covs.push_back(cov);
  }
  for (auto& w : m.weights) w /= total;
  return m;
}

bench::Workload sample(const Mixture& m, std::uint64_t n, bool diagonal, Random& rng) {
  const int K = static_cast<int>(m.weights.size());
  const int d = static_cast<int>(m.means[0].size());
  std::vector<Eigen::MatrixXd> factor;
  for (const auto& c : m.covs) factor.push_back(c.llt().matrixL());
  bench::Workload w;
  w.n = n;
  w.d = static_cast<std::uint64_t>(d);
  w.k = static_cast<std::uint64_t>(K);
  w.diagonal = diagonal;
  w.x.resize(n * d);
  Eigen::VectorXd z(d);
  for (std::uint64_t i = 0; i < n; ++i) {
    double u = rng.uniform();
    int k = 0;
    while (k < K - 1 && u >= m.weights[k]) u -= m.weights[k++];
    for (int j = 0; j < d; ++j) z(j) = rng.normal();
    const Eigen::VectorXd x = m.means[k] + factor[k] * z;
    for (int j = 0; j < d; ++j) w.x[i * d + j] = x(j);
  }
  // Initial parameters: uniform weights, K distinct rows as means, the data covariance.
  Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> X(w.x.data(), n, d);
  const Eigen::RowVectorXd centre = X.colwise().mean();
  const Eigen::MatrixXd centred = X.rowwise() - centre;
  Eigen::MatrixXd global = centred.transpose() * centred / static_cast<double>(n);
  if (diagonal) global = Eigen::MatrixXd(global.diagonal().asDiagonal());
  std::vector<std::uint64_t> chosen;
  while (chosen.size() < static_cast<std::size_t>(K)) {
    const std::uint64_t i = rng.index(n);
    bool seen = false;
    for (auto c : chosen) seen = seen || c == i;
    if (!seen) chosen.push_back(i);
  }
  for (int k = 0; k < K; ++k) {
    w.weights.push_back(1.0 / K);
    for (int j = 0; j < d; ++j) w.means.push_back(X(static_cast<Eigen::Index>(chosen[k]), j));
    for (int i = 0; i < d; ++i)
      for (int j = 0; j < d; ++j) w.covs.push_back(global(i, j));
  }
  return w;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_data OUTDIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  struct Spec {
    const char* name;
    std::uint64_t n;
    int d, K;
    bool diagonal;
    std::uint64_t seed;
    bool separated;
  };
  const Spec specs[] = {{"a", 200000, 2, 2, false, 1001, false},   {"b", 40000, 16, 16, false, 1002, false},
                        {"c", 16000, 64, 8, false, 1003, false},    {"d", 32000, 32, 64, true, 1004, false},
                        {"e", 1000, 2, 2, false, 1005, false},      {"f", 40000, 16, 16, false, 1006, true},
                        {"g", 50000, 40, 128, true, 1007, true},    {"h", 100000, 40, 256, true, 1008, true},
                        {"i", 1000000, 2, 2, false, 1009, false}};
  for (const auto& s : specs) {
    Random rng(s.seed);
    const Mixture m = s.d == 2 ? two_component_2d() : random_mixture(rng, s.d, s.K, s.diagonal, s.separated);
    const bench::Workload w = sample(m, s.n, s.diagonal, rng);
    const std::string path = dir + "/" + s.name + ".bin";
    bench::write_workload(path, w);
    std::printf("%s: N=%llu d=%d K=%d %s -> %s\n", s.name, static_cast<unsigned long long>(s.n), s.d, s.K,
                s.diagonal ? "diagonal" : "full", path.c_str());
  }
  return 0;
}
