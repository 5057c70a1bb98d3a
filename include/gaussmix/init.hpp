// SPDX-License-Identifier: MIT
#pragma once

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "detail/blocks.hpp"
#include "detail/random.hpp"
#include "detail/validation.hpp"
#include "options.hpp"

namespace gaussmix {

namespace detail {

// out(i) = w_i * ||x_i - c||^2 (w = nullptr means 1), computed block by block.
template <class D>
void weighted_squared_distances(const Eigen::MatrixBase<D>& X, const Eigen::VectorXd* w, const Eigen::RowVectorXd& c,
                                Eigen::VectorXd& out) {
  Eigen::MatrixXd block;
  for_each_block(X.rows(), X.cols(), [&](Eigen::Index start, Eigen::Index rows) {
    block = X.middleRows(start, rows).template cast<double>();
    out.segment(start, rows) = (block.rowwise() - c).rowwise().squaredNorm();
    if (w) out.segment(start, rows).array() *= w->segment(start, rows).array();
  });
}

// Index i drawn with probability mass(i) / mass.sum(); mass >= 0 with a positive sum.
inline Eigen::Index draw_index(const Eigen::VectorXd& mass, double total, Random& rng) {
  const double target = rng.uniform() * total;
  double running = 0;
  Eigen::Index last_positive = 0;
  for (Eigen::Index i = 0; i < mass.size(); ++i) {
    if (mass(i) <= 0) continue;
    running += mass(i);
    last_positive = i;
    if (running > target) return i;
  }
  return last_positive;  // rounding left target just past the running sum
}

}  // namespace detail

/// Greedy k-means++ seeding (Arthur and Vassilvitskii 2007, with 2 + ln K candidate trials per
/// centre as scikit-learn does): returns K row indices of X, drawn with probability proportional
/// to w_i times the squared distance to the nearest centre chosen so far. When every point with
/// positive weight already coincides with a centre, the remaining indices are distinct rows drawn
/// uniformly among those with positive weight. \param w sample weights (nullptr: all 1)
template <class D>
std::vector<Eigen::Index> kmeans_plus_plus(const Eigen::MatrixBase<D>& X, const Eigen::VectorXd* w, int K,
                                           detail::Random& rng) {
  const Eigen::Index n = X.rows();
  std::vector<Eigen::Index> chosen;
  chosen.reserve(K);
  const Eigen::VectorXd uniform_mass = w ? *w : Eigen::VectorXd::Ones(n);
  chosen.push_back(detail::draw_index(uniform_mass, uniform_mass.sum(), rng));
  Eigen::VectorXd closest(n), candidate(n), best(n);
  detail::weighted_squared_distances(X, w, X.row(chosen[0]).template cast<double>(), closest);
  const int trials = 2 + static_cast<int>(std::log(static_cast<double>(K)));
  while (static_cast<int>(chosen.size()) < K) {
    const double potential = closest.sum();
    if (!std::isfinite(potential))
      throw NumericalError(
          detail::message("fit: squared distances between samples overflow double (|x| beyond ~1e154); "
                          "scale the data before fitting"));
    if (!(potential > 0)) {  // all mass sits on chosen points: take distinct unchosen rows
      Eigen::VectorXd mass = uniform_mass;
      for (Eigen::Index i : chosen) mass(i) = 0;
      if (!(mass.sum() > 0)) mass.setOnes();
      for (Eigen::Index i : chosen) mass(i) = 0;
      chosen.push_back(detail::draw_index(mass, mass.sum(), rng));
      continue;
    }
    double best_potential = std::numeric_limits<double>::infinity();
    Eigen::Index best_index = -1;
    for (int t = 0; t < trials; ++t) {
      const Eigen::Index index = detail::draw_index(closest, potential, rng);
      detail::weighted_squared_distances(X, w, X.row(index).template cast<double>(), candidate);
      candidate = candidate.cwiseMin(closest);
      const double total = candidate.sum();
      if (total < best_potential) {
        best_potential = total;
        best_index = index;
        best.swap(candidate);
      }
    }
    chosen.push_back(best_index);
    closest.swap(best);
  }
  return chosen;
}

/// Result of `kmeans`: centres (K x d), the label of every row, and how it stopped.
struct KMeansResult {
  Eigen::MatrixXd centers;   ///< K x d
  std::vector<int> labels;   ///< n: the centre of every row
  int n_rounds = 0;          ///< Lloyd rounds run
  bool converged = false;    ///< whether the labels stopped changing
};

/// Assigns every row of X to its nearest centre (ties to the lower index); returns, per row, the
/// squared distance to that centre in `distance` (if not null).
template <class D>
void assign_nearest(const Eigen::MatrixBase<D>& X, const Eigen::MatrixXd& centers, std::vector<int>& labels,
                    Eigen::VectorXd* distance) {
  Eigen::MatrixXd block, dist;
  detail::for_each_block(X.rows(), X.cols(), [&](Eigen::Index start, Eigen::Index rows) {
    block = X.middleRows(start, rows).template cast<double>();
    dist.resize(rows, centers.rows());
    for (Eigen::Index k = 0; k < centers.rows(); ++k)
      dist.col(k) = (block.rowwise() - centers.row(k)).rowwise().squaredNorm();
    for (Eigen::Index i = 0; i < rows; ++i) {
      Eigen::Index k;
      const double best = dist.row(i).minCoeff(&k);
      labels[start + i] = static_cast<int>(k);
      if (distance) (*distance)(start + i) = best;
    }
  });
}

/// Lloyd's k-means, seeded by k-means++, weighted by w (nullptr: all 1). Stops when no label
/// changes or after `max_rounds`. A cluster left without weight is moved onto the positive-weight
/// point farthest from its own centre, so every cluster keeps at least one point.
template <class D>
KMeansResult kmeans(const Eigen::MatrixBase<D>& X, const Eigen::VectorXd* w, int K, detail::Random& rng,
                    int max_rounds = 300) {
  const Eigen::Index n = X.rows(), d = X.cols();
  KMeansResult r;
  r.centers.resize(K, d);
  const std::vector<Eigen::Index> seeds = kmeans_plus_plus(X, w, K, rng);
  for (int k = 0; k < K; ++k) r.centers.row(k) = X.row(seeds[k]).template cast<double>();
  r.labels.assign(n, -1);
  std::vector<int> previous;
  Eigen::VectorXd distance(n), count(K);
  Eigen::MatrixXd sums(K, d);
  for (r.n_rounds = 1; r.n_rounds <= max_rounds; ++r.n_rounds) {
    previous = r.labels;
    assign_nearest(X, r.centers, r.labels, &distance);
    count.setZero();
    for (Eigen::Index i = 0; i < n; ++i) count(r.labels[i]) += w ? (*w)(i) : 1.0;
    for (int k = 0; k < K; ++k) {
      if (count(k) > 0) continue;
      Eigen::Index far = -1;  // positive-weight point farthest from its centre, in a cluster that can spare it
      for (Eigen::Index i = 0; i < n; ++i) {
        const double wi = w ? (*w)(i) : 1.0;
        if (wi > 0 && count(r.labels[i]) > wi && (far < 0 || distance(i) > distance(far))) far = i;
      }
      if (far < 0) break;  // fewer positive-weight points than clusters: the caller checked n >= K
      const double wf = w ? (*w)(far) : 1.0;
      count(r.labels[far]) -= wf;
      count(k) += wf;
      r.labels[far] = k;
      distance(far) = 0;
      r.centers.row(k) = X.row(far).template cast<double>();
    }
    if (r.labels == previous) {
      r.converged = true;
      break;
    }
    // New centres as old centre + mean offset, which keeps digits for data far from the origin.
    sums.setZero();
    for (Eigen::Index i = 0; i < n; ++i) {
      const int k = r.labels[i];
      sums.row(k) += (w ? (*w)(i) : 1.0) * (X.row(i).template cast<double>() - r.centers.row(k));
    }
    for (int k = 0; k < K; ++k)
      if (count(k) > 0) r.centers.row(k) += sums.row(k) / count(k);
  }
  r.n_rounds = std::min(r.n_rounds, max_rounds);
  return r;
}

}  // namespace gaussmix
