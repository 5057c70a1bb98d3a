// SPDX-License-Identifier: MIT
// The new-user check of partial_fit: random mixtures the library was not tuned on, 10^6 rows
// streamed in batches of 5,000 through partial_fit with default Options (n_components set, Full),
// gap to the true model's held-out log-likelihood (100,000 rows) in nats per sample; seconds of the
// first call (initialisation) and of the other 199 calls.
//
//   g++ -O2 -std=c++17 -fopenmp -I include -I /usr/include/eigen3 benchmarks/online_new_user.cpp -o online_new_user
//   ./online_new_user [--batch-fit] [--first-n-init R] [--first-max-iter M] K:d:seed ...
//
// --batch-fit also runs fit() with default options on all 10^6 rows (slow: tens of seconds per mixture).
// --first-n-init / --first-max-iter set Options::online.first_batch_n_init / first_batch_max_iter
// (default: the library's defaults); R = 1, M = 1 is partial_fit before the robust first batch.
//
// The mixtures (K components in d dimensions from `seed`, gaussmix::detail::Random, so reproducible):
//   weights   u_k ~ U(0.3, 1), normalised (the largest at most ~3.3x the smallest);
//   covariances  Q diag(l) Q^T, Q a random rotation (QR of a Gaussian matrix), l_j = exp(U(-1, 1))
//                (standard deviations 0.6-1.6 along random axes: correlated, unequal shapes);
//   means     N(0, s^2 I) with s = 1.5 K^(1/d), redrawn until every pair is >= 2.5 apart, so
//             neighbours overlap moderately (2.5 is about two standard deviations of the widest axis).
// Held-out rows: truth.sample(100000, seed + 1); stream: truth.sample(10^6, seed + 2), in order.

#include <Eigen/QR>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <gaussmix/gaussmix.hpp>
#include <string>
#include <vector>

namespace {

using Model = gaussmix::GaussianMixtureXd;

Model random_mixture(int K, int d, std::uint64_t seed) {
  gaussmix::detail::Random rng(seed);
  Eigen::VectorXd w(K);
  for (int k = 0; k < K; ++k) w(k) = 0.3 + 0.7 * rng.uniform();
  w /= w.sum();
  std::vector<Eigen::MatrixXd> covs;
  for (int k = 0; k < K; ++k) {
    Eigen::MatrixXd G(d, d);
    for (int i = 0; i < d; ++i)
      for (int j = 0; j < d; ++j) G(i, j) = rng.normal();
    const Eigen::MatrixXd Q = Eigen::HouseholderQR<Eigen::MatrixXd>(G).householderQ();
    Eigen::VectorXd l(d);
    for (int j = 0; j < d; ++j) l(j) = std::exp(2 * rng.uniform() - 1);
    Eigen::MatrixXd c = Q * l.asDiagonal() * Q.transpose();
    covs.push_back(0.5 * (c + c.transpose()));
  }
  const double s = 1.5 * std::pow(static_cast<double>(K), 1.0 / d);
  Eigen::MatrixXd means(K, d);
  for (bool apart = false; !apart;) {
    for (int k = 0; k < K; ++k)
      for (int j = 0; j < d; ++j) means(k, j) = s * rng.normal();
    apart = true;
    for (int a = 0; a < K; ++a)
      for (int b = a + 1; b < K; ++b) apart = apart && (means.row(a) - means.row(b)).norm() >= 2.5;
  }
  gaussmix::Options o;
  o.n_components = K;
  Model truth(o);
  truth.set_parameters(w, means, covs);
  return truth;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

int main(int argc, char** argv) {
  bool batch_fit = false;
  int first_n_init = -1, first_max_iter = -1;
  std::vector<std::string> specs;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--batch-fit"))
      batch_fit = true;
    else if (!std::strcmp(argv[i], "--first-n-init") && i + 1 < argc)
      first_n_init = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--first-max-iter") && i + 1 < argc)
      first_max_iter = std::atoi(argv[++i]);
    else
      specs.push_back(argv[i]);
  }
  if (specs.empty()) {
    std::fprintf(stderr, "usage: online_new_user [--batch-fit] [--first-n-init R] [--first-max-iter M] K:d:seed ...\n");
    return 2;
  }
  const Eigen::Index N = 1000000, B = 5000;
  std::printf("%4s %2s %8s  %10s %10s %8s %7s %7s", "K", "d", "seed", "truth", "online", "gap", "first_s", "rest_s");
  if (batch_fit) std::printf(" %10s %8s %6s", "fit", "fit_gap", "fit_s");
  std::printf("\n");
  for (const std::string& spec : specs) {
    int K = 0, d = 0;
    unsigned long long seed = 0;
    if (std::sscanf(spec.c_str(), "%d:%d:%llu", &K, &d, &seed) != 3 || K < 1 || d < 1) {
      std::fprintf(stderr, "bad mixture '%s' (K:d:seed)\n", spec.c_str());
      return 2;
    }
    const Model truth = random_mixture(K, d, seed);
    const Eigen::MatrixXd held_out = truth.sample(100000, seed + 1);
    const Eigen::MatrixXd X = truth.sample(N, seed + 2);
    const double best = truth.score(held_out);

    gaussmix::Options o;  // what a new user writes
    o.n_components = K;
    o.covariance_type = gaussmix::CovarianceType::Full;
    if (first_n_init >= 0) o.online.first_batch_n_init = first_n_init;
    if (first_max_iter >= 0) o.online.first_batch_max_iter = first_max_iter;
    Model online(o);
    auto t = std::chrono::steady_clock::now();
    online.partial_fit(X.topRows(B));
    const double first_seconds = seconds_since(t);
    t = std::chrono::steady_clock::now();
    for (Eigen::Index b = B; b < N; b += B) online.partial_fit(X.middleRows(b, B));
    const double rest_seconds = seconds_since(t);
    const double reached = online.score(held_out);
    std::printf("%4d %2d %8llu  %10.5f %10.5f %8.5f %7.3f %7.3f", K, d, seed, best, reached, best - reached,
                first_seconds, rest_seconds);
    if (batch_fit) {
      gaussmix::Options f;
      f.n_components = K;
      Model fitted(f);
      t = std::chrono::steady_clock::now();
      fitted.fit(X);
      const double fit_seconds = seconds_since(t);
      const double fit_score = fitted.score(held_out);
      std::printf(" %10.5f %8.5f %6.1f", fit_score, best - fit_score, fit_seconds);
    }
    std::printf("\n");
    std::fflush(stdout);
  }
  return 0;
}
