// SPDX-License-Identifier: MIT
// k-means initialisation: Lloyd's rounds against scikit-learn's KMeans from the same centres
// (tests/reference/kmeans.json, made by tests/reference/generate_kmeans.py), the GEMM-form
// distances against a direct brute-force oracle (offset data, exact ties), and thread-count
// independence.

#include <gaussmix/gaussmix.hpp>

#include <Eigen/Dense>
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <random>
#include <set>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "reference_fixture.hpp"

// A namespace of its own: the tests build as a few unity translation units (tests/CMakeLists.txt).
namespace gaussmix_test_kmeans {

namespace {

using gaussmix_test::load_json;
using gaussmix_test::to_matrix;
using gaussmix_test::to_vector;

// Nearest centre by direct (x - c)^2, ties to the lower index: the oracle.
void brute_force_nearest(const Eigen::MatrixXd& X, const Eigen::MatrixXd& centers, std::vector<int>& labels,
                         Eigen::VectorXd& distance) {
  labels.assign(X.rows(), -1);
  distance.resize(X.rows());
  for (Eigen::Index i = 0; i < X.rows(); ++i) {
    for (Eigen::Index k = 0; k < centers.rows(); ++k) {
      const double value = (X.row(i) - centers.row(k)).squaredNorm();
      if (labels[i] < 0 || value < distance(i)) {
        labels[i] = static_cast<int>(k);
        distance(i) = value;
      }
    }
  }
}

Eigen::MatrixXd blobs(std::mt19937_64& rng, Eigen::Index n, Eigen::Index d, int K, double separation, double spread,
                      double offset = 0) {
  std::normal_distribution<double> normal;
  Eigen::MatrixXd centres(K, d), X(n, d);
  for (Eigen::Index k = 0; k < K; ++k)
    for (Eigen::Index j = 0; j < d; ++j) centres(k, j) = separation * normal(rng);
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index j = 0; j < d; ++j) X(i, j) = offset + centres(i % K, j) + spread * normal(rng);
  return X;
}

}  // namespace

TEST_CASE("lloyd: the labels, centres and rounds of scikit-learn's KMeans from the same centres", "[init][kmeans]") {
  const auto fixture = load_json("kmeans.json");
  for (const auto& c : fixture["cases"]) {
    const std::string name = c["name"].get<std::string>();
    INFO("case " << name);
    const Eigen::MatrixXd X = to_matrix(c["X"]);
    const Eigen::MatrixXd start = to_matrix(c["initial_centers"]);
    const Eigen::MatrixXd expected_centers = to_matrix(c["centers"]);
    const Eigen::VectorXd expected_labels = to_vector(c["labels"]);
    Eigen::VectorXd w;
    if (c.contains("sample_weight")) w = to_vector(c["sample_weight"]);
    const gaussmix::KMeansResult r = gaussmix::lloyd(X, c.contains("sample_weight") ? &w : nullptr, start,
                                                     c["max_iter"].get<int>(), c["tol"].get<double>());
    CHECK(r.n_rounds == c["n_iter"].get<int>());
    int mismatched = 0;
    for (Eigen::Index i = 0; i < X.rows(); ++i) mismatched += r.labels[i] != static_cast<int>(expected_labels(i));
    CHECK(mismatched == 0);
    // Centres: relative to their distance from the data's mean, so the 1e6 offset case is held to
    // the digits the data have.
    const Eigen::RowVectorXd mean = X.colwise().mean();
    double worst = 0;
    for (Eigen::Index k = 0; k < start.rows(); ++k)
      for (Eigen::Index j = 0; j < X.cols(); ++j) {
        const double scale = 1.0 + std::abs(expected_centers(k, j) - mean(j)) +
                             1e-6 * std::abs(expected_centers(k, j));  // 1e6 offset: double's resolution there
        worst = std::max(worst, std::abs(r.centers(k, j) - expected_centers(k, j)) / scale);
      }
    CHECK(worst < 1e-10);

    // The same from float, row-major storage (a Map over a row-major buffer, no copy).
    if (name.rfind("offset", 0) != 0) {
      const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> Xf = X.cast<float>();
      const gaussmix::KMeansResult rf = gaussmix::lloyd(
          Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(Xf.data(), Xf.rows(),
                                                                                                Xf.cols()),
          c.contains("sample_weight") ? &w : nullptr, start, c["max_iter"].get<int>(), c["tol"].get<double>());
      int float_mismatched = 0;
      for (Eigen::Index i = 0; i < X.rows(); ++i) float_mismatched += rf.labels[i] != r.labels[i];
      CHECK(float_mismatched <= X.rows() / 100);  // float data: a few boundary points may change side
    }
  }
}

TEST_CASE("assign_nearest: the labels and distances of exact distances, also where the product form cancels",
          "[init][kmeans]") {
  std::mt19937_64 rng(5);
  SECTION("1e6 offset, clusters 1e-3 wide and 1 apart") {
    const Eigen::MatrixXd X = blobs(rng, 9000, 6, 12, 1.0, 1e-3, 1e6);
    Eigen::MatrixXd centres(12, 6);
    for (int k = 0; k < 12; ++k) centres.row(k) = X.row(k * 7);
    std::vector<int> labels(X.rows()), expected;
    Eigen::VectorXd distance(X.rows()), expected_distance;
    gaussmix::assign_nearest(X, centres, labels, &distance);
    brute_force_nearest(X, centres, expected, expected_distance);
    CHECK(labels == expected);
    CHECK(((distance - expected_distance).array().abs() <= 1e-6 * expected_distance.array() + 1e-300).all());
  }
  SECTION("exact ties go to the lower index") {
    // Points on the bisector of two centres, on a grid where every distance is exact.
    Eigen::MatrixXd X(5000, 3), centres(4, 3);
    centres << -1, 0, 0, 1, 0, 0, 0, 5, 0, 0, -5, 0;
    for (Eigen::Index i = 0; i < X.rows(); ++i) X.row(i) << 0.0, std::ldexp(double(i % 64) - 32, -5), double(i % 3);
    std::vector<int> labels(X.rows()), expected;
    Eigen::VectorXd distance(X.rows()), expected_distance;
    gaussmix::assign_nearest(X, centres, labels, &distance);
    brute_force_nearest(X, centres, expected, expected_distance);
    CHECK(labels == expected);
    CHECK(distance == expected_distance);
  }
  SECTION("many centres, overlapping clusters") {
    const Eigen::MatrixXd X = blobs(rng, 6000, 10, 40, 1.0, 1.0);
    const Eigen::MatrixXd centres = X.topRows(40);
    std::vector<int> labels(X.rows()), expected;
    Eigen::VectorXd distance(X.rows()), expected_distance;
    gaussmix::assign_nearest(X, centres, labels, &distance);
    brute_force_nearest(X, centres, expected, expected_distance);
    CHECK(labels == expected);
    CHECK(((distance - expected_distance).array().abs() <= 1e-12 * (1 + expected_distance.array())).all());
  }
}

TEST_CASE("kmeans_plus_plus: one seed per well-separated cluster", "[init][kmeans]") {
  std::mt19937_64 rng(11);
  const int K = 20;
  const Eigen::MatrixXd X = blobs(rng, 8000, 5, K, 100.0, 1.0);  // row i belongs to cluster i % K
  for (std::uint64_t seed : {0u, 1u, 2u}) {
    gaussmix::detail::Random random(seed);
    const std::vector<Eigen::Index> seeds = gaussmix::kmeans_plus_plus(X, nullptr, K, random);
    std::set<Eigen::Index> clusters;
    for (Eigen::Index i : seeds) clusters.insert(i % K);
    CHECK(clusters.size() == static_cast<std::size_t>(K));
  }
}

TEST_CASE("k-means is bit-identical for 1, 2 and 4 OpenMP threads", "[init][kmeans][openmp]") {
#ifdef _OPENMP
  std::mt19937_64 rng(3);
  const Eigen::MatrixXd X = blobs(rng, 30000, 8, 24, 2.0, 1.0);  // many chunks
  Eigen::VectorXd w = Eigen::VectorXd::LinSpaced(X.rows(), 0.5, 2.0);
  const int saved = omp_get_max_threads();
  std::vector<gaussmix::KMeansResult> results;
  for (int threads : {1, 2, 4}) {
    omp_set_num_threads(threads);
    gaussmix::detail::Random random(42);
    results.push_back(gaussmix::kmeans(X, &w, 24, random));
  }
  omp_set_num_threads(saved);
  for (std::size_t t = 1; t < results.size(); ++t) {
    CHECK(results[t].labels == results[0].labels);
    CHECK(results[t].centers == results[0].centers);
    CHECK(results[t].n_rounds == results[0].n_rounds);
  }
#else
  WARN("built without OpenMP: the k-means thread-count test is skipped");
#endif
}

}  // namespace gaussmix_test_kmeans
