// SPDX-License-Identifier: MIT
#pragma once

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include "detail/blocks.hpp"
#include "detail/random.hpp"
#include "detail/validation.hpp"
#include "options.hpp"

namespace gaussmix {

namespace detail {

// Scratch of one thread of SquaredDistances: one block of rows.
struct DistanceWorkspace {
  Eigen::MatrixXd centred;  // d x rows: column i is x_i - origin (when not cached)
  Eigen::VectorXd norm;     // rows: ||x_i - origin||^2 (when not cached)
  Eigen::MatrixXd dist;     // rows x m: -2 x'_i . c'_k (column k: centre k's); see product_distance
  const double* block = nullptr;        // the block's d x rows centred rows (ws.centred or the cache)
  const double* block_norm = nullptr;   // their squared norms
  Eigen::Index d = 0;
  // At least rows: the nearest centre of each row (as a double, so the search vectorises) and its
  // squared distance, filled by SquaredDistances::for_each_nearest; then how many centres are within reach.
  Eigen::ArrayXd nearest, nearest_distance, reach, within;

  Eigen::Map<const Eigen::VectorXd> centred_row(Eigen::Index i) const { return {block + i * d, d}; }
  double norm_of(Eigen::Index i) const { return block_norm[i]; }
  Eigen::Index nearest_of(Eigen::Index i) const { return static_cast<Eigen::Index>(nearest(i)); }
};

// Squared Euclidean distances from every row of X to m centres at GEMM speed:
// ||x - c||^2 = ||x'||^2 + ||c'||^2 - 2 x'.c' with x' = x - o, c' = c - o about the data's mean o (so
// data far from the origin keeps its digits), one matrix product per block of rows. The product form
// can cancel: its error is at most bound(i, k); `exact` recomputes (x_i - c_k)^2 directly where that
// matters. The rows are cut into the E-step's fixed chunks, one per thread at a time.
template <class D>
class SquaredDistances {
 public:
  // Up to this many bytes, the centred rows and their norms are kept for all passes (k-means++ makes
  // K of them); beyond it each pass centres its blocks again, so memory stays flat in n.
  static constexpr double cache_bytes = 256.0 * 1024 * 1024;

  explicit SquaredDistances(const Eigen::MatrixBase<D>& X)
      : X_(X.derived()), bounds_(chunk_bounds<double>(X.rows(), X.cols())), workspaces_(max_threads()) {
    origin_ = X.template cast<double>().colwise().mean();
    if (!origin_.allFinite()) origin_.setZero();  // the sum overflowed: distances then overflow too
    // Rounding of the product form: n-term dot products and two additions, with a factor 2 to spare.
    epsilon_ = 4.0 * (static_cast<double>(X.cols()) + 3.0) * std::numeric_limits<double>::epsilon();
    if (8.0 * static_cast<double>(X.rows()) * static_cast<double>(X.cols() + 1) <= cache_bytes) {
      cached_.resize(X.cols(), X.rows());
      cached_norm_.resize(X.rows());
      for_each_chunk(chunks(), [&](int c, int) {
        const Eigen::Index start = bounds_[c], rows = bounds_[c + 1] - bounds_[c];
        cached_.middleCols(start, rows) = (X_.middleRows(start, rows).template cast<double>().rowwise() - origin_).transpose();
        cached_norm_.segment(start, rows) = cached_.middleCols(start, rows).colwise().squaredNorm().transpose();
      });
    }
  }

  int chunks() const { return static_cast<int>(bounds_.size()) - 1; }
  Eigen::Index chunk_begin(int c) const { return bounds_[c]; }
  Eigen::Index chunk_end(int c) const { return bounds_[c + 1]; }
  Eigen::Index rows() const { return X_.rows(); }

  // The centres (m x d) of the following passes.
  void set_centres(const Eigen::MatrixXd& centres) {
    centres_ = centres;
    centred_ = centres.rowwise() - origin_;
    centre_norm_ = centred_.rowwise().squaredNorm();
    centre_slack_ = epsilon_ * centre_norm_;
    max_centre_slack_ = centre_slack_.size() ? centre_slack_.maxCoeff() : 0.0;
  }

  const Eigen::RowVectorXd& origin() const { return origin_; }

  // For every block of every chunk, chunks in parallel: fills ws.dist (rows x m) for rows
  // start.. and calls fn(c, start, rows, ws). fn must not throw. The squared norms are added where
  // the distances are read (product_distance), not in passes of their own over the table.
  template <class Fn>
  void for_each_block(Fn&& fn) {
    const Eigen::Index step = block_rows<double>(X_.cols());
    for_each_chunk(chunks(), [&](int c, int thread) {
      DistanceWorkspace& ws = workspaces_[thread];
      for (Eigen::Index start = bounds_[c]; start < bounds_[c + 1]; start += step) {
        const Eigen::Index rows = std::min(step, bounds_[c + 1] - start);
        ws.d = X_.cols();
        if (cached_.size() > 0) {
          ws.block = cached_.data() + start * ws.d;
          ws.block_norm = cached_norm_.data() + start;
        } else {
          ws.centred = (X_.middleRows(start, rows).template cast<double>().rowwise() - origin_).transpose();
          ws.norm = ws.centred.colwise().squaredNorm().transpose();
          ws.block = ws.centred.data();
          ws.block_norm = ws.norm.data();
        }
        const Eigen::Map<const Eigen::MatrixXd> block(ws.block, ws.d, rows);
        ws.dist.noalias() = -2.0 * block.transpose() * centred_.transpose();
        fn(c, start, rows, ws);
      }
    });
  }

  // As for_each_block, with every row's nearest centre found first (see find_nearest): fn reads
  // ws.nearest_of(i) and ws.nearest_distance(i).
  template <class Fn>
  void for_each_nearest(Fn&& fn) {
    for_each_block([&](int c, Eigen::Index start, Eigen::Index rows, DistanceWorkspace& ws) {
      find_nearest(ws, start, rows);
      fn(c, start, rows, static_cast<const DistanceWorkspace&>(ws));
    });
  }

  // Largest error of product_distance(ws, i, k) (row i of the block, centre k).
  double bound(const DistanceWorkspace& ws, Eigen::Index i, Eigen::Index k) const {
    return epsilon_ * (ws.norm_of(i) + centre_norm_(k));
  }

  // ||x_row - c_k||^2 computed directly.
  double exact(Eigen::Index row, Eigen::Index k) const {
    return (X_.row(row).template cast<double>() - centres_.row(k)).squaredNorm();
  }

  // ||x'_i||^2 + ||c'_k||^2 - 2 x'_i . c'_k for row i of the block, in that order of additions.
  double product_distance(const DistanceWorkspace& ws, Eigen::Index i, Eigen::Index k) const {
    return (ws.dist(i, k) + ws.norm_of(i)) + centre_norm_(k);
  }

  // The product-form distance, recomputed directly when it may have lost most of its digits.
  double distance(const DistanceWorkspace& ws, Eigen::Index start, Eigen::Index i, Eigen::Index k) const {
    const double value = product_distance(ws, i, k);
    return value > 2 * bound(ws, i, k) ? value : exact(start + i, k);
  }

  // The nearest centre of every row of the block (ties to the lower index, as exact distances would
  // give) and its squared distance, into ws.nearest and ws.nearest_distance. Centres whose distance
  // may be within rounding of the best are compared exactly. Column by column, so that the compiler
  // vectorises across rows: each row's smallest entry and its first index, then how many centres' lower
  // error bounds reach the best one's upper bound; only a row with more than one is rescanned.
  void find_nearest(DistanceWorkspace& ws, Eigen::Index start, Eigen::Index rows) const {
    const Eigen::Index m = ws.dist.cols();
    // Grown only: a chunk's last, shorter block must not reallocate them at every Lloyd round.
    if (ws.nearest.size() < rows) {
      ws.nearest.resize(rows);
      ws.nearest_distance.resize(rows);
      ws.reach.resize(rows);
      ws.within.resize(rows);
    }
    double* best = ws.nearest_distance.data();
    double* index = ws.nearest.data();
    double* reach = ws.reach.data();
    double* within = ws.within.data();
    const double* norm = ws.block_norm;
    const double* table = ws.dist.data();  // rows x m, column-major: column k starts at k * rows
    // 64 rows at a time, so that the second pass over the K columns reads them from L1. The updates
    // are arithmetic (min, and index += [better] (k - index)) with plain stores: a conditional store
    // becomes a masked one, which the next column's load of the same entry then waits for.
    constexpr Eigen::Index strip = 64;
    for (Eigen::Index first = 0; first < rows; first += strip) {
      const Eigen::Index last = std::min(rows, first + strip);
      for (Eigen::Index i = first; i < last; ++i) {
        best[i] = (table[i] + norm[i]) + centre_norm_(0);
        index[i] = 0;
      }
      for (Eigen::Index k = 1; k < m; ++k) {
        const double* column = table + k * rows;
        const double centre_norm = centre_norm_(k), position = static_cast<double>(k);
        for (Eigen::Index i = first; i < last; ++i) {
          const double value = (column[i] + norm[i]) + centre_norm;
          const double old = best[i];
          const double better = value < old ? 1.0 : 0.0;
          index[i] += better * (position - index[i]);
          best[i] = std::min(value, old);
        }
      }
      for (Eigen::Index i = first; i < last; ++i) {
        reach[i] = best[i] + 2 * epsilon_ * norm[i] + max_centre_slack_;
        within[i] = 0;
      }
      for (Eigen::Index k = 0; k < m; ++k) {
        const double* column = table + k * rows;
        const double centre_norm = centre_norm_(k), slack = centre_slack_(k);
        for (Eigen::Index i = first; i < last; ++i)
          within[i] += ((column[i] + norm[i]) + centre_norm) - slack <= reach[i] ? 1.0 : 0.0;
      }
    }
    for (Eigen::Index i = 0; i < rows; ++i) {
      if (within[i] <= 1) {
        best[i] = distance(ws, start, i, ws.nearest_of(i));
        continue;
      }
      Eigen::Index exact_best = -1;
      double exact_value = 0;
      for (Eigen::Index k = 0; k < m; ++k) {
        if (product_distance(ws, i, k) - centre_slack_(k) > reach[i]) continue;
        const double value = exact(start + i, k);
        if (exact_best < 0 || value < exact_value) {
          exact_best = k;
          exact_value = value;
        }
      }
      index[i] = static_cast<double>(exact_best);
      best[i] = exact_value;
    }
  }

 private:
  const D& X_;
  std::vector<Eigen::Index> bounds_;
  std::vector<DistanceWorkspace> workspaces_;  // one per thread
  Eigen::RowVectorXd origin_;
  Eigen::MatrixXd cached_;       // d x n centred rows (empty beyond cache_bytes)
  Eigen::VectorXd cached_norm_;  // n: their squared norms
  Eigen::MatrixXd centres_, centred_;
  Eigen::VectorXd centre_norm_, centre_slack_;  // ||c'_k||^2 and epsilon ||c'_k||^2
  double max_centre_slack_ = 0;
  double epsilon_ = 0;
};

// Index i drawn with probability mass(i) / total, given the running sums cumulative(i) of mass
// (mass >= 0, total > 0): the first i whose running sum exceeds a uniform draw times total.
inline Eigen::Index draw_index(const Eigen::VectorXd& cumulative, double total, Random& rng) {
  const double target = rng.uniform() * total;
  const double* first = cumulative.data();
  const double* last = first + cumulative.size();
  const double* hit = std::upper_bound(first, last, target);
  if (hit != last) return hit - first;
  // Rounding left target at or past the last running sum: the last row with positive mass.
  Eigen::Index i = cumulative.size() - 1;
  while (i > 0 && !(cumulative(i) > cumulative(i - 1))) --i;
  return i;
}

// Running sums of mass, in row order.
inline void running_sums(const Eigen::VectorXd& mass, Eigen::VectorXd& cumulative) {
  cumulative.resize(mass.size());
  double running = 0;
  for (Eigen::Index i = 0; i < mass.size(); ++i) cumulative(i) = running += mass(i);
}

}  // namespace detail

/// Greedy k-means++ seeding (Arthur and Vassilvitskii 2007, with 2 + ln K candidate trials per
/// centre as scikit-learn does): returns K row indices of X, drawn with probability proportional
/// to w_i times the squared distance to the nearest centre chosen so far. When every point with
/// positive weight already coincides with a centre, the remaining indices are distinct rows drawn
/// uniformly among those with positive weight. The distances to all the trials of one step are one
/// matrix product per block (see docs/maths.md, k-means). \param w sample weights (nullptr: all 1)
template <class D>
std::vector<Eigen::Index> kmeans_plus_plus(const Eigen::MatrixBase<D>& X, const Eigen::VectorXd* w, int K,
                                           detail::Random& rng) {
  const Eigen::Index n = X.rows(), d = X.cols();
  std::vector<Eigen::Index> chosen;
  chosen.reserve(K);
  const Eigen::VectorXd uniform_mass = w ? *w : Eigen::VectorXd::Ones(n);
  Eigen::VectorXd cumulative;
  detail::running_sums(uniform_mass, cumulative);
  chosen.push_back(detail::draw_index(cumulative, uniform_mass.sum(), rng));

  detail::SquaredDistances<D> distances(X);
  const int chunks = distances.chunks();
  Eigen::VectorXd closest(n);
  distances.set_centres(X.row(chosen[0]).template cast<double>());
  distances.for_each_block([&](int, Eigen::Index start, Eigen::Index rows, const detail::DistanceWorkspace& ws) {
    for (Eigen::Index i = 0; i < rows; ++i)
      closest(start + i) = (w ? (*w)(start + i) : 1.0) * distances.distance(ws, start, i, 0);
  });

  const int trials = 2 + static_cast<int>(std::log(static_cast<double>(K)));
  Eigen::MatrixXd candidates(trials, d);
  std::vector<Eigen::Index> candidate_index(trials);
  // Row t: min(closest_i, w_i ||x_i - candidate_t||^2), so the chosen one needs no second pass.
  Eigen::MatrixXd trial_closest(trials, n);
  Eigen::MatrixXd chunk_potential(chunks, trials);  // per chunk, summed in chunk order
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
      detail::running_sums(mass, cumulative);
      chosen.push_back(detail::draw_index(cumulative, mass.sum(), rng));
      continue;
    }
    detail::running_sums(closest, cumulative);
    for (int t = 0; t < trials; ++t) {
      candidate_index[t] = detail::draw_index(cumulative, potential, rng);
      candidates.row(t) = X.row(candidate_index[t]).template cast<double>();
    }
    distances.set_centres(candidates);
    chunk_potential.setZero();
    distances.for_each_block([&](int c, Eigen::Index start, Eigen::Index rows, const detail::DistanceWorkspace& ws) {
      for (Eigen::Index i = 0; i < rows; ++i) {
        const double wi = w ? (*w)(start + i) : 1.0;
        for (int t = 0; t < trials; ++t)
          trial_closest(t, start + i) = std::min(closest(start + i), wi * distances.distance(ws, start, i, t));
      }
      chunk_potential.row(c) += trial_closest.middleCols(start, rows).rowwise().sum().transpose();
    });
    const Eigen::RowVectorXd trial_potential = chunk_potential.colwise().sum();
    int best = 0;
    for (int t = 1; t < trials; ++t)
      if (trial_potential(t) < trial_potential(best)) best = t;
    chosen.push_back(candidate_index[best]);
    closest = trial_closest.row(best).transpose();
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
/// squared distance to that centre in `distance` (if not null). One matrix product per block, with
/// near ties and cancelled distances recomputed directly, so the labels are those of exact distances.
template <class D>
void assign_nearest(const Eigen::MatrixBase<D>& X, const Eigen::MatrixXd& centers, std::vector<int>& labels,
                    Eigen::VectorXd* distance) {
  detail::SquaredDistances<D> distances(X);
  distances.set_centres(centers);
  distances.for_each_nearest([&](int, Eigen::Index start, Eigen::Index rows, const detail::DistanceWorkspace& ws) {
    for (Eigen::Index i = 0; i < rows; ++i) {
      labels[start + i] = static_cast<int>(ws.nearest_of(i));
      if (distance) (*distance)(start + i) = ws.nearest_distance(i);
    }
  });
}

/// Lloyd's k-means from the given centres (K x d), weighted by w (nullptr: all 1), with
/// scikit-learn's stopping rule: stop when no label changes, or when the centres moved by at most
/// tol x (mean variance of the columns of X) in total squared distance (the labels are then taken
/// once more from the final centres), or after `max_rounds`. A cluster left without weight is moved
/// onto the positive-weight point farthest from its own centre, so every cluster keeps at least one
/// point. Distances are one matrix product per block (see SquaredDistances; the labels are those of
/// exact distances); threads take whole chunks of rows and sums are merged in chunk order, so the
/// result does not depend on the thread count.
template <class D>
KMeansResult lloyd(const Eigen::MatrixBase<D>& X, const Eigen::VectorXd* w, const Eigen::MatrixXd& initial_centers,
                   int max_rounds = 300, double tol = 1e-4) {
  const Eigen::Index n = X.rows(), d = X.cols();
  const int K = static_cast<int>(initial_centers.rows());
  KMeansResult r;
  r.centers = initial_centers;
  r.labels.assign(n, -1);

  detail::SquaredDistances<D> distances(X);
  const int chunks = distances.chunks();
  // Calls fn(c, i) for every row i of chunk c, chunks in parallel.
  auto for_each_row = [&](auto&& fn) {
    detail::for_each_chunk(chunks, [&](int c, int) {
      for (Eigen::Index i = distances.chunk_begin(c); i < distances.chunk_end(c); ++i) fn(c, i);
    });
  };
  // scikit-learn's tolerance: tol times the mean over columns of the (unweighted) variance of X.
  std::vector<Eigen::RowVectorXd> chunk_square(chunks, Eigen::RowVectorXd::Zero(d));
  const Eigen::RowVectorXd column_mean = X.template cast<double>().colwise().mean();
  for_each_row([&](int c, Eigen::Index i) {
    chunk_square[c] += (X.row(i).template cast<double>() - column_mean).array().square().matrix();
  });
  Eigen::RowVectorXd square = Eigen::RowVectorXd::Zero(d);
  for (const auto& s : chunk_square) square += s;
  const double shift_tol = tol * square.mean() / static_cast<double>(std::max<Eigen::Index>(n, 1));

  std::vector<int> previous;
  Eigen::VectorXd distance(n), count(K);
  Eigen::MatrixXd sums(d, K), old_centers;
  // Per chunk: weight and sum of w (x - origin) of the rows labelled k (column k), merged in chunk order.
  const Eigen::RowVectorXd& origin = distances.origin();
  std::vector<Eigen::MatrixXd> chunk_sums(chunks, Eigen::MatrixXd(d, K));
  std::vector<Eigen::VectorXd> chunk_count(chunks, Eigen::VectorXd(K));
  auto add_row = [&](int c, Eigen::Index i) {
    const int k = r.labels[i];
    const double wi = w ? (*w)(i) : 1.0;
    chunk_count[c](k) += wi;
    chunk_sums[c].col(k) += wi * (X.row(i).template cast<double>() - origin).transpose();
  };
  auto merge = [&] {
    count.setZero();
    sums.setZero();
    for (int c = 0; c < chunks; ++c) {
      count += chunk_count[c];
      sums += chunk_sums[c];
    }
  };
  auto clear = [&] {
    for (int c = 0; c < chunks; ++c) {
      chunk_count[c].setZero();
      chunk_sums[c].setZero();
    }
  };
  bool labels_current = true;  // r.labels were taken from r.centers
  for (r.n_rounds = 1; r.n_rounds <= max_rounds; ++r.n_rounds) {
    previous.swap(r.labels);
    r.labels.resize(n);
    distances.set_centres(r.centers);
    clear();
    distances.for_each_nearest([&](int c, Eigen::Index start, Eigen::Index rows, const detail::DistanceWorkspace& ws) {
      for (Eigen::Index i = 0; i < rows; ++i) {
        const Eigen::Index k = ws.nearest_of(i);
        r.labels[start + i] = static_cast<int>(k);
        distance(start + i) = ws.nearest_distance(i);
        const double wi = w ? (*w)(start + i) : 1.0;
        chunk_count[c](k) += wi;
        chunk_sums[c].col(k) += wi * ws.centred_row(i);
      }
    });
    labels_current = true;
    merge();
    bool moved = false;
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
      moved = true;
    }
    if (r.labels == previous) {
      r.converged = true;
      break;
    }
    if (moved) {  // rare: the sums are retaken for the new labels and centres
      clear();
      for_each_row(add_row);
      merge();
    }
    // New centres: the weighted means, summed about the data's mean so far-off data keeps its digits.
    old_centers = r.centers;
    for (int k = 0; k < K; ++k)
      if (count(k) > 0) r.centers.row(k) = origin + sums.col(k).transpose() / count(k);
    labels_current = false;
    if ((r.centers - old_centers).squaredNorm() <= shift_tol) {
      r.converged = true;
      break;
    }
  }
  r.n_rounds = std::min(r.n_rounds, max_rounds);
  if (!labels_current) {
    // The labels of the final centres, unless they would empty a cluster the round kept (identical
    // points tie at every centre and all go to the first): then the round's labels stay.
    std::vector<int> final_labels(n);
    assign_nearest(X, r.centers, final_labels, nullptr);
    Eigen::VectorXd final_count = Eigen::VectorXd::Zero(K);
    for (Eigen::Index i = 0; i < n; ++i) final_count(final_labels[i]) += w ? (*w)(i) : 1.0;
    if ((final_count.array() > 0).count() >= (count.array() > 0).count()) r.labels.swap(final_labels);
  }
  return r;
}

/// k-means as scikit-learn's KMeans(n_init = 1) runs it for GaussianMixture's default init:
/// k-means++ seeding, then `lloyd` (stopping rule and tolerance as there).
template <class D>
KMeansResult kmeans(const Eigen::MatrixBase<D>& X, const Eigen::VectorXd* w, int K, detail::Random& rng,
                    int max_rounds = 300, double tol = 1e-4) {
  const std::vector<Eigen::Index> seeds = kmeans_plus_plus(X, w, K, rng);
  Eigen::MatrixXd centers(K, X.cols());
  for (int k = 0; k < K; ++k) centers.row(k) = X.row(seeds[k]).template cast<double>();
  return lloyd(X, w, centers, max_rounds, tol);
}

}  // namespace gaussmix
