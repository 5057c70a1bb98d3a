// SPDX-License-Identifier: MIT
#pragma once

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "detail/blocks.hpp"
#include "detail/exponential.hpp"
#include "detail/sum_in_double.hpp"
#include "detail/weighted_gram.hpp"
#include "parameters.hpp"
#include "statistics.hpp"

namespace gaussmix {

/// Scratch of the E-step kernel for blocks of up to `rows` rows; allocated once per pass.
template <typename Scalar, int Dim = Eigen::Dynamic>
struct EStepWorkspace {
  using Block = Eigen::Matrix<Scalar, Eigen::Dynamic, Dim>;             ///< rows x d
  using Table = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;  ///< rows x K
  using Column = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;              ///< rows x 1

  ///@{
  /// rows x d; scaled has its rows padded to whole SIMD packets (padded_rows), for the statistics
  /// kernel (detail::WeightedGram).
  Block x, diff, scaled;
  ///@}
  Table log_prob;                          ///< rows x K: log pi_k + log N(x_i | k), then responsibilities
  Column log_norm;                         ///< rows: log p(x_i)
  Column weighted;                         ///< rows: w_i r_ik for one k
  Table weighted_resp;                     ///< rows x K: w_i r_ik (the product form's weighted statistics)
  Table coefficients;                      ///< K x 2d: [p_kj (mu_kj - r_j), -p_kj / 2] (product form)
  Column mean_term;                        ///< K: sum_j p_kj (mu_kj - r_j)^2
  Column constant;                         ///< K: log pi_k - d/2 log(2 pi) + log det U_k
  Table centred_pair;                      ///< rows x 2d: [x' x'^2], x' = x - centre (product form)
  Table moments;                           ///< K x 2d: R^T [x' x'^2] (diagonal statistics in product form)
  /// Rows of centred_pair that hold the block's [x' x'^2], left by the product-form density for the
  /// statistics of the same block (accumulate_diagonal_product); -1 when they are stale.
  Eigen::Index centred_rows = -1;
  Eigen::Matrix<Scalar, 1, Dim> centre;  ///< the block mean those rows are centred on
  Column kernel_scratch;                 ///< Covariances::log_density's kernel scratch (d > 8)
  std::vector<int> guarded;              ///< product form: the columns that may hold entries to recompute

  /// `rows` rounded up to a multiple of 16, which is a whole number of packets for every SIMD width.
  static Eigen::Index padded_rows(Eigen::Index rows) { return (rows + 15) / 16 * 16; }

  /// For blocks of detail::block_rows<Scalar>(d) rows, d features, K components.
  EStepWorkspace(Eigen::Index d, Eigen::Index K) : EStepWorkspace(detail::block_rows<Scalar>(d), d, K) {}
  /// For blocks of up to `rows` rows, d features, K components.
  EStepWorkspace(Eigen::Index rows, Eigen::Index d, Eigen::Index K)
      : x(rows, d), diff(rows, d), scaled(padded_rows(rows), d), log_prob(rows, K), log_norm(rows), weighted(rows) {}
};

/// From this many components on, Diagonal and Spherical densities are taken in product form (see
/// diagonal_log_prob_product): one matrix product per block instead of K passes over it.
constexpr int diagonal_product_min_components = 8;

namespace detail {
// centred[i] = x[i] - c and squared[i] = centred[i]^2: centre_block's pass over one column, in a
// function of its own so that the compiler knows the arrays do not overlap and vectorises it.
template <typename Scalar>
void centre_column(const Scalar* __restrict x, Scalar c, Scalar* __restrict centred, Scalar* __restrict squared,
                   Eigen::Index rows) {
  for (Eigen::Index i = 0; i < rows; ++i) {
    const Scalar t = x[i] - c;
    centred[i] = t;
    squared[i] = t * t;
  }
}
}  // namespace detail

/// The product form's centred block: ws.centre = the mean of the first `rows` rows of ws.x and
/// ws.centred_pair(0:rows) = [x' x'^2] with x' = x - centre; marks them valid (ws.centred_rows).
template <typename Scalar, int Dim>
void centre_block(Eigen::Index rows, EStepWorkspace<Scalar, Dim>& ws) {
  const Eigen::Index d = ws.x.cols();
  if (ws.centred_pair.rows() != ws.x.rows() || ws.centred_pair.cols() != 2 * d) ws.centred_pair.resize(ws.x.rows(), 2 * d);
  const auto x = ws.x.topRows(rows);
  ws.centre.resize(d);
  // Column by column, so that each column of x is read from L2 once and then from L1.
  for (Eigen::Index j = 0; j < d; ++j) {
    ws.centre(j) = x.col(j).mean();
    detail::centre_column(x.col(j).data(), ws.centre(j), ws.centred_pair.col(j).data(),
                          ws.centred_pair.col(d + j).data(), rows);
  }
  ws.centred_rows = rows;
}

/// Diagonal and Spherical: ws.log_prob(0:rows, k) = log pi_k + log N(x_i | k) as in weighted_log_prob,
/// from sum_j p_kj (x_ij - mu_kj)^2 = sum_j p_kj x'_ij^2 - 2 sum_j p_kj mu'_kj x'_ij + sum_j p_kj mu'_kj^2
/// with x' = x - r, mu' = mu - r about the block's mean r: one matrix product per block,
/// [x' x'^2] [P mu', -P/2]^T, added to the per-component constants. The expanded form can cancel where
/// clusters are far apart relative to their spread; its error is at most 3 (d + 2) eps (q + m), with
/// q = sum_j p_kj x'_ij^2 and m = sum_j p_kj mu'_kj^2, and q + m <= 2 maha + 3 m (Cauchy-Schwarz), so
/// every entry that matters for the responsibilities (within 40 nats of the row's best) and may have
/// lost more than three bits to that bound is recomputed directly, as the per-component path does.
template <typename Scalar, int Dim>
void diagonal_log_prob_product(const Parameters<Scalar, Dim>& p, Eigen::Index rows, EStepWorkspace<Scalar, Dim>& ws) {
  const int K = p.n_components();
  const Eigen::Index d = p.n_features();
  const Scalar log_2pi_term = Scalar(-0.5 * d * 1.8378770664093454835606594728112);
  const auto& inverse_sd = p.covariances.inverse_standard_deviations();  // K x d or K x 1
  const auto x = ws.x.topRows(rows);
  centre_block(rows, ws);
  const auto& r = ws.centre;
  // [p_kj (mu_kj - r_j), -p_kj / 2] with p = 1 / sigma^2, the right half written first.
  ws.coefficients.resize(K, 2 * d);
  auto minus_half_precision = ws.coefficients.rightCols(d);
  if (inverse_sd.cols() == 1)
    minus_half_precision = (Scalar(-0.5) * inverse_sd.col(0).array().square()).matrix().replicate(1, d);
  else
    minus_half_precision = Scalar(-0.5) * inverse_sd.array().square().matrix();
  ws.coefficients.leftCols(d) = (p.means.rowwise() - r).cwiseProduct(Scalar(-2) * minus_half_precision);
  ws.mean_term = ws.coefficients.leftCols(d).cwiseProduct(p.means.rowwise() - r).rowwise().sum();
  ws.constant.resize(K);
  auto log_prob = ws.log_prob.topRows(rows);
  // The product is added to log pi_k + ... - m_k / 2: filling the columns with it costs what the
  // zeroing before a plain product would.
  for (int k = 0; k < K; ++k) {
    ws.constant(k) = std::log(p.weights(k)) + log_2pi_term + p.covariances.log_det_precision_factor(k);
    log_prob.col(k).setConstant(ws.constant(k) - Scalar(0.5) * ws.mean_term(k));
  }
  log_prob.noalias() += ws.centred_pair.topRows(rows) * ws.coefficients.transpose();
  // An entry's error bound is gamma (2 maha + 3 m) / (1 - 2 gamma), maha = 2 (constant - value) its
  // computed squared Mahalanobis distance (so that q, which the product does not give, is not needed).
  const Scalar gamma = Scalar(3 * (d + 2)) * std::numeric_limits<Scalar>::epsilon();
  const Scalar scale = gamma / (Scalar(1) - Scalar(2) * gamma);
  // An entry is inexact (below) exactly when its maha < threshold_k, i.e. its value lies above
  // constant_k - threshold_k / 2, where threshold_k = (3 m scale - 8 gamma) / (8 gamma - 2 scale).
  // So a column whose entries are all finite and whose largest value is below that needs no look
  // entry by entry: on overlapping clusters (m small) that is every column, and the floor and the
  // guard below are skipped. The threshold is taken 1 % wider, to be safe from its own rounding.
  ws.guarded.clear();
  const Scalar denominator = Scalar(8) * gamma - Scalar(2) * scale;
  for (int k = 0; k < K; ++k) {
    const auto column = log_prob.col(k).array();
    const Scalar threshold = (Scalar(3) * ws.mean_term(k) * scale - Scalar(8) * gamma) / denominator;
    const bool finite = (column - column).sum() == Scalar(0);  // inf - inf and NaN give NaN
    if (!finite || (threshold > 0 && column.maxCoeff() > ws.constant(k) - Scalar(0.505) * threshold))
      ws.guarded.push_back(k);
  }
  if (ws.guarded.empty()) return;
  // Each row's floor, from its best entry (the first on ties): column by column while the column is
  // in cache, since the table is column-major (a row scan strides by the block height). ws.log_norm
  // and ws.weighted are free until normalise(): the best value and its error bound, then the floor.
  // Branch-free, so that the compiler vectorises it.
  Scalar* best = ws.log_norm.data();
  Scalar* best_error = ws.weighted.data();
  for (int k = 0; k < K; ++k) {
    const Scalar* value = log_prob.col(k).data();
    const Scalar two_constant = Scalar(2) * ws.constant(k), three_m = Scalar(3) * ws.mean_term(k);
    if (k == 0) {
      for (Eigen::Index i = 0; i < rows; ++i) {
        best[i] = value[i];
        best_error[i] = Scalar(2) * (two_constant - Scalar(2) * value[i]) + three_m;
      }
      continue;
    }
    for (Eigen::Index i = 0; i < rows; ++i) {
      const bool better = value[i] > best[i];
      best_error[i] = better ? Scalar(2) * (two_constant - Scalar(2) * value[i]) + three_m : best_error[i];
      best[i] = better ? value[i] : best[i];
    }
  }
  Scalar* floor = best;
  for (Eigen::Index i = 0; i < rows; ++i) floor[i] = best[i] - scale * std::abs(best_error[i]) - Scalar(40);
  for (int k : ws.guarded) {
    // A branch-free pass that the compiler vectorises finds whether the column has any entry to
    // recompute; only then the scalar pass below. The same tests as that pass, NaN included.
    const Scalar* value = log_prob.col(k).data();
    const Scalar constant_k = ws.constant(k), three_m = Scalar(3) * ws.mean_term(k);
    int any = 0;
    for (Eigen::Index i = 0; i < rows; ++i) {
      const Scalar maha = std::abs(Scalar(2) * (constant_k - value[i]));
      const Scalar error = scale * (Scalar(2) * maha + three_m);
      const bool relevant = !(value[i] + error < floor[i]);
      const bool inexact = error > Scalar(8) * gamma * (Scalar(1) + maha);
      const bool not_finite = !(value[i] - value[i] == Scalar(0));
      any |= static_cast<int>(relevant & (inexact | not_finite));
    }
    if (!any) continue;
    for (Eigen::Index i = 0; i < rows; ++i) {
      const Scalar maha = std::abs(Scalar(2) * (constant_k - log_prob(i, k)));
      const Scalar error = scale * (Scalar(2) * maha + three_m);
      if (log_prob(i, k) + error < floor[i]) continue;  // negligible responsibility, error included
      if (!(error > Scalar(8) * gamma * (Scalar(1) + maha)) && std::isfinite(log_prob(i, k))) continue;
      Scalar direct = 0;
      for (Eigen::Index j = 0; j < d; ++j) {
        const Scalar t = (x(i, j) - p.means(k, j)) * inverse_sd(k, inverse_sd.cols() == 1 ? 0 : j);
        direct += t * t;
      }
      log_prob(i, k) = constant_k - Scalar(0.5) * direct;
    }
  }
}

/// Fills ws.log_prob(0:rows, k) = log pi_k + log N(x_i | mu_k, Sigma_k) for the rows in ws.x.
template <typename Scalar, int Dim>
void weighted_log_prob(const Parameters<Scalar, Dim>& p, Eigen::Index rows, EStepWorkspace<Scalar, Dim>& ws) {
  const int K = p.n_components();
  const CovarianceType type = p.covariances.type();
  ws.centred_rows = -1;
  if (K >= diagonal_product_min_components && (type == CovarianceType::Diagonal || type == CovarianceType::Spherical)) {
    diagonal_log_prob_product(p, rows, ws);
    return;
  }
  const Scalar log_2pi_term = Scalar(-0.5 * p.n_features() * 1.8378770664093454835606594728112);
  for (int k = 0; k < K; ++k) {
    const Scalar constant = std::log(p.weights(k)) + log_2pi_term + p.covariances.log_det_precision_factor(k);
    p.covariances.log_density(ws.x.topRows(rows), p.means.row(k), k, constant, ws.log_prob.col(k).head(rows),
                              ws.diff.topRows(rows), ws.scaled.topRows(rows), ws.kernel_scratch);
  }
}

/// log of the cut-off below which the E-step sets a responsibility to exactly 0, so that no subnormal
/// number reaches the responsibilities or the statistics (see `normalise`): 2 K times the smallest
/// normal number divided by epsilon, about 2e-292 K for double and 2e-31 K for float.
template <typename Scalar>
Scalar responsibility_log_cutoff(Eigen::Index K) {
  using limits = std::numeric_limits<Scalar>;
  return static_cast<Scalar>(std::log(2 * static_cast<double>(limits::min()) / static_cast<double>(limits::epsilon())) +
                             std::log(static_cast<double>(std::max<Eigen::Index>(K, 1))));
}

namespace detail {
// value[i] = max(exp(max(value[i] - top[i], cutoff)) - floor, 0), added to sum[i] (or written to it when
// `first`): normalise's pass for one column in double, in a function of its own so that the compiler
// knows the arrays do not overlap and vectorises it.
inline void exp_column(double* __restrict value, const double* __restrict top, double* __restrict sum,
                       Eigen::Index rows, double cutoff, double floor, bool first) {
  for (Eigen::Index i = 0; i < rows; ++i) {
    const double shifted = value[i] - top[i];
    const double e = exp_normal_range(shifted < cutoff ? cutoff : shifted) - floor;
    value[i] = e < 0.0 ? 0.0 : e;
  }
  if (first) {
    for (Eigen::Index i = 0; i < rows; ++i) sum[i] = value[i];
  } else {
    for (Eigen::Index i = 0; i < rows; ++i) sum[i] += value[i];
  }
}
}  // namespace detail

/// Turns ws.log_prob rows into responsibilities in place (log-sum-exp) and writes log p(x_i) to
/// ws.log_norm. A row whose density is zero under every component (log p = -inf) gets -inf and
/// uniform responsibilities; callers treat a non-finite log p as an error.
template <typename Scalar, int Dim>
void normalise(Eigen::Index rows, EStepWorkspace<Scalar, Dim>& ws) {
  // Whole-block array operations, so exp and log run vectorised down the columns.
  auto log_prob = ws.log_prob.topRows(rows).array();
  auto top = ws.log_norm.head(rows).array();
  auto sum = ws.weighted.head(rows).array();
  const Eigen::Index K = log_prob.cols();
  top = log_prob.col(0);
  for (Eigen::Index k = 1; k < K; ++k) top = top.max(log_prob.col(k));
  const bool all_finite = top.isFinite().all();
  // Rows with zero density everywhere (top = -inf) are fixed up below; they are rare, so the list
  // may allocate. Their exp is not trusted to be 0: Eigen's packet exp clamps exp(-inf) to ~1e-308.
  std::vector<Eigen::Index> zero_density;
  if (!all_finite) {
    for (Eigen::Index i = 0; i < rows; ++i)
      if (!(top(i) > -std::numeric_limits<Scalar>::infinity())) zero_density.push_back(i);
    top = top.isFinite().select(top, Scalar(0));
  }
  // Subnormal numbers are 10-100x slower in every operation, and well-separated clusters would make
  // them by the million here (exp of -708 to -745 in double). So exp's argument is clamped at `cutoff`
  // (exp itself never forms one) and floor ~= exp(cutoff), a few ulps above it, is subtracted: what
  // was at or below the cut-off becomes exactly 0, the rest is unchanged but for <= floor (~1e-291 K
  // absolute in double), and a kept value is at least an ulp of floor, >= 2 K x the smallest normal
  // number, so after the division by the row sum (<= K) it is still normal. Branch-free, so Eigen
  // vectorises it (its select() is not vectorised); a NaN stays NaN (max keeps its first argument).
  const Scalar cutoff = responsibility_log_cutoff<Scalar>(K);
  const Scalar floor = std::exp(cutoff) * (Scalar(1) + Scalar(8) * std::numeric_limits<Scalar>::epsilon());
  for (Eigen::Index k = 0; k < K; ++k) {
    auto column = log_prob.col(k);
    if constexpr (std::is_same_v<Scalar, double>) {
      if (all_finite) {
        // The same with an exp that needs no division (detail::exp_normal_range; its argument is in
        // [cutoff, 0] here, or NaN); `v < c ? c : v` keeps v when v is NaN, as max() above does.
        detail::exp_column(column.data(), top.data(), sum.data(), rows, cutoff, floor, k == 0);
        continue;
      }
    }
    column = ((column - top).max(cutoff).exp() - floor).max(Scalar(0));
    if (k == 0)
      sum = column;
    else
      sum += column;
  }
  top += sum.log();
  if (!all_finite)
    for (Eigen::Index i = 0; i < rows; ++i)
      if (!(sum(i) > 0)) zero_density.push_back(i);
  // One division per row, then products: a division per entry took a third of this function. The
  // sum is >= 1 - floor (the row's best term) and <= K, so a kept value times 1/sum stays normal.
  sum = Scalar(1) / sum;  // elementwise
  for (Eigen::Index k = 0; k < K; ++k) log_prob.col(k) *= sum;
  if (all_finite) return;
  for (Eigen::Index i : zero_density) {
    log_prob.row(i).setConstant(Scalar(1) / Scalar(log_prob.cols()));
    top(i) = -std::numeric_limits<Scalar>::infinity();
  }
}

/// The Diagonal/Spherical part of `accumulate` for many components, as matrix products
/// per block: with x' = x - r about the block's mean r and R the weighted responsibilities (rows x K),
/// A = R^T x' and B = R^T x'^2, and with c_kj = reference_kj - r_j (N_k = sum_i R_ik),
///   sum_i R_ik (x_ij - ref_kj) = A_kj - c_kj N_k,  sum_i R_ik (x_ij - ref_kj)^2 = B_kj - 2 c_kj A_kj + c_kj^2 N_k.
/// The second can cancel when a component's rows lie far from r relative to their spread; an entry
/// whose terms exceed 2^8 times its value (more than 8 bits lost against the direct sum, whose terms
/// are all >= 0) is summed directly instead, as the per-component path does.
template <typename Scalar, int Dim>
void accumulate_diagonal_product(Eigen::Index start, Eigen::Index rows, const Eigen::VectorXd* w,
                                 EStepWorkspace<Scalar, Dim>& ws, SufficientStatistics<Dim>& stats) {
  const int K = stats.n_components();
  const auto x = ws.x.topRows(rows);
  const Eigen::Index d = x.cols();
  // The density of this block (product form) left [x' x'^2] about the same mean: the same values.
  if (ws.centred_rows != rows) centre_block(rows, ws);
  ws.centred_rows = -1;
  const auto pair = ws.centred_pair.topRows(rows);
  const auto& r = ws.centre;
  // Unweighted rows use the responsibilities in place; weighted ones a scaled copy.
  if (w) {
    ws.weighted_resp.resize(ws.log_prob.rows(), K);
    ws.weighted_resp.topRows(rows) =
        ws.log_prob.topRows(rows).array().colwise() * w->segment(start, rows).template cast<Scalar>().array();
  }
  const auto resp = (w ? ws.weighted_resp : ws.log_prob).topRows(rows);
  // One product with [x' x'^2], so R is packed once, in slices of rows whose packed [x' x'^2] stays
  // within Eigen's stack limit (128 KiB): a larger one is allocated, and page-faulted, at every call.
  const Eigen::Index slice = std::max<Eigen::Index>(8, 131072 / static_cast<Eigen::Index>(2 * d * sizeof(Scalar)));
  ws.moments.resize(K, 2 * d);
  for (Eigen::Index first = 0; first < rows; first += slice) {
    const Eigen::Index n = std::min(slice, rows - first);
    if (first == 0)
      ws.moments.noalias() = resp.middleRows(first, n).transpose() * pair.middleRows(first, n);
    else
      ws.moments.noalias() += resp.middleRows(first, n).transpose() * pair.middleRows(first, n);
  }
  // float keeps 4 bits fewer of its 24 than double of its 53 (bits lost <= 4: 2^4).
  const double max_loss = std::is_same_v<Scalar, double> ? 256 : 16;
  for (int k = 0; k < K; ++k) {
    const auto weighted = resp.col(k);
    const double n = detail::sum_in_double(weighted);
    stats.weight(k) += n;
    for (Eigen::Index j = 0; j < d; ++j) {
      const double c = stats.reference(k, j) - static_cast<double>(r(j));
      const double a = static_cast<double>(ws.moments(k, j)), b = static_cast<double>(ws.moments(k, d + j));
      const double second = b - 2 * c * a + c * c * n;
      if (second * max_loss >= b + 2 * std::abs(c * a) + c * c * n) {  // false for NaN too
        stats.first(k, j) += a - c * n;
        stats.second_diagonal(k, j) += second;
        continue;
      }
      const auto centred = x.col(j).array() - static_cast<Scalar>(stats.reference(k, j));
      stats.first(k, j) += static_cast<double>((weighted.array() * centred).sum());
      stats.second_diagonal(k, j) += static_cast<double>((weighted.array() * centred.square()).sum());
    }
  }
}

/// Adds a block's contribution to `stats`: the `rows` rows of ws.x (rows start.. of the data), with
/// responsibilities in ws.log_prob (after `normalise`), log p(x_i) in ws.log_norm and sample weights
/// w(start..) (nullptr: all 1). The moments are taken about stats.reference.
template <typename Scalar, int Dim>
void accumulate(Eigen::Index start, Eigen::Index rows, const Eigen::VectorXd* w, EStepWorkspace<Scalar, Dim>& ws,
                SufficientStatistics<Dim>& stats) {
  const int K = stats.n_components();
  const auto x = ws.x.topRows(rows);
  auto weighted = ws.weighted.head(rows);
  auto diff = ws.diff.topRows(rows);
  if (w) {
    const auto wb = w->segment(start, rows);
    stats.log_likelihood += (wb.array() * ws.log_norm.head(rows).template cast<double>().array()).sum();
    stats.total_weight += wb.sum();
  } else {
    stats.log_likelihood += ws.log_norm.head(rows).template cast<double>().sum();
    stats.total_weight += static_cast<double>(rows);
  }
  const Eigen::Index d = x.cols();
  const bool dense = stats.type == CovarianceType::Full || stats.type == CovarianceType::Tied;
  // Products pay off unless most responsibilities are 0 (separated clusters: the sparse path below).
  if (!dense && K >= diagonal_product_min_components &&
      (ws.log_prob.topRows(rows).array() != Scalar(0)).count() * 8 >= rows * K) {
    accumulate_diagonal_product(start, rows, w, ws, stats);
    return;
  }
  for (int k = 0; k < K; ++k) {
    if (w)
      weighted = ws.log_prob.col(k).head(rows).cwiseProduct(w->segment(start, rows).template cast<Scalar>());
    else
      weighted = ws.log_prob.col(k).head(rows);
    stats.weight(k) += detail::sum_in_double(weighted);
    if (!dense) {
      // Well-separated clusters leave most responsibilities exactly 0 (see normalise): then only the
      // rows that count are visited, so a block costs O(rows d) in all rather than per component.
      // float: a block's sums in float (vectorised; Eigen does not vectorise a sum cast to double,
      // which made this 10x slower), added to the double statistics, as the full-covariance kernel does.
      const Eigen::Index nonzero = (weighted.array() != Scalar(0)).count();
      if (nonzero * 8 < rows) {
        for (Eigen::Index i = 0; i < rows; ++i) {
          const Scalar r = weighted(i);
          if (r == Scalar(0)) continue;
          for (Eigen::Index j = 0; j < d; ++j) {
            const Scalar centred = x(i, j) - static_cast<Scalar>(stats.reference(k, j));
            stats.first(k, j) += r * centred;
            stats.second_diagonal(k, j) += r * centred * centred;
          }
        }
        continue;
      }
      // Two fused reductions per column, straight from x: no n x d difference block to write.
      for (Eigen::Index j = 0; j < d; ++j) {
        const auto centred = x.col(j).array() - static_cast<Scalar>(stats.reference(k, j));
        stats.first(k, j) += static_cast<double>((weighted.array() * centred).sum());
        stats.second_diagonal(k, j) += static_cast<double>((weighted.array() * centred.square()).sum());
      }
      continue;
    }
    if (dense && d > Covariances<Scalar, Dim>::small_dimension) {
      auto& target = stats.second[stats.type == CovarianceType::Full ? k : 0];
      // Q = diag(sqrt(w r_k)) (x - c_k), padded with zero rows to whole packets, then the lower
      // triangle of Q^T Q by the register-tiled kernel: it reads Q in place, with no packing.
      using Gram = detail::WeightedGram<Scalar>;
      const Eigen::Index padded = Gram::padded_rows(rows);
      weighted = weighted.cwiseSqrt();
      Gram::prepare(x.data(), ws.x.outerStride(), rows, d, stats.reference.data() + k, stats.reference.outerStride(),
                    weighted.data(), ws.scaled.data(), ws.scaled.outerStride(), stats.first.data() + k,
                    stats.first.outerStride());
      Gram::run(ws.scaled.data(), ws.scaled.data(), ws.scaled.outerStride(), padded, d, target.data(),
                target.outerStride());
      continue;
    }
    diff = x.rowwise() - stats.reference.row(k).template cast<Scalar>();
    auto& target = stats.second[stats.type == CovarianceType::Full ? k : 0];
    if (d <= Covariances<Scalar, Dim>::small_dimension) {
      // d(d+1)/2 weighted column dot products: cheaper than a rank update's packing for small d.
      for (Eigen::Index a = 0; a < d; ++a) {
        auto t = ws.scaled.col(a).head(rows).array();
        t = weighted.array() * diff.col(a).array();
        stats.first(k, a) += t.template cast<double>().sum();
        for (Eigen::Index b = 0; b <= a; ++b)
          target(a, b) += (t.template cast<double>() * diff.col(b).array().template cast<double>()).sum();
      }
      continue;
    }
  }
}

/// Runs the E-step over X block by block (fixed order); after each block, ws holds its rows in
/// ws.x, responsibilities in ws.log_prob and log p(x_i) in ws.log_norm, and fn(start, rows) is called.
template <typename Scalar, int Dim, class D, class Fn>
void for_each_expectation(const Eigen::MatrixBase<D>& X, const Parameters<Scalar, Dim>& p,
                          EStepWorkspace<Scalar, Dim>& ws, Fn&& fn) {
  detail::for_each_block<Scalar>(X.rows(), X.cols(), [&](Eigen::Index start, Eigen::Index rows) {
    detail::copy_rows(X, start, rows, ws.x);
    weighted_log_prob(p, rows, ws);
    normalise(rows, ws);
    fn(start, rows);
  });
}

template <typename Scalar, int Dim>
class MissingRows;  // missing.hpp: the E-step of rows with NaN (Options::missing = Marginalise)

/// Sufficient statistics of a whole in-memory data set under given parameters, the E-step of
/// `fit`. The rows are cut into a fixed number of chunks (independent of the thread count); with
/// OpenMP each thread takes whole chunks, and the chunk sums are merged in chunk order, so the
/// result is bit-identical for any number of threads. Workspaces are allocated once, here.
template <typename Scalar, int Dim, class D>
class BlockedExpectation {
 public:
  /// X: n x d data; w: sample weights (n) or nullptr; K: components. `reuse`: per-thread workspaces kept by
  /// the caller across calls (resized here if they do not fit), or nullptr for workspaces of this object.
  BlockedExpectation(const Eigen::MatrixBase<D>& X, const Eigen::VectorXd* w, int K,
                     std::vector<EStepWorkspace<Scalar, Dim>>* reuse = nullptr)
      : X_(X.derived()), w_(w), bounds_(detail::chunk_bounds<Scalar>(X.rows(), X.cols())) {
    chunk_stats_.resize(bounds_.size() - 1);
    bad_row_.assign(bounds_.size() - 1, -1);
    reuse_ = reuse;
    auto& workspaces = this->workspaces();
    const auto fits = [&](const EStepWorkspace<Scalar, Dim>& ws) {
      return ws.x.rows() == detail::block_rows<Scalar>(X.cols()) && ws.x.cols() == X.cols() && ws.log_prob.cols() == K;
    };
    if (static_cast<int>(workspaces.size()) != detail::max_threads() ||
        !std::all_of(workspaces.begin(), workspaces.end(), fits)) {
      workspaces.clear();
      for (int t = 0; t < detail::max_threads(); ++t) workspaces.emplace_back(X.cols(), K);
    }
  }

  /// Known components (fit_with_labels): labels(i) in [0, K) makes row i's responsibilities one-hot
  /// and its log-likelihood term log pi_l + log N(x_i | l); -1 leaves the row to the E-step. nullptr: none.
  /// The vector must outlive the calls.
  void set_labels(const Eigen::VectorXi* labels) { labels_ = labels; }

  /// Options::missing = Marginalise: rows with NaN contribute their expected statistics (MissingRows);
  /// blocks without NaN take the same path as without it.
  void set_missing(bool marginalise) {
    missing_.clear();
    if (marginalise) missing_.resize(static_cast<std::size_t>(detail::max_threads()));
  }

  /// Fills `stats` (reset by the caller to the E-step's means) with the sums over all rows.
  /// Throws NumericalError if a row has zero density under every component.
  void operator()(const Parameters<Scalar, Dim>& p, SufficientStatistics<Dim>& stats) {
    const int chunks = static_cast<int>(chunk_stats_.size());
    // Each chunk's sums are zeroed by the thread that fills them: with K d x d moments per chunk
    // (Full), zeroing and merging them on one thread was most of what kept the second one idle. Only
    // a reset that allocates runs here, as an exception cannot leave the threads.
    const Eigen::Index K = stats.reference.rows(), d = stats.reference.cols();
    for (auto& c : chunk_stats_)
      if (!c.has_shape(stats.type, K, d)) c.reset(stats.type, stats.reference);
    detail::for_each_chunk(chunks, [&](int c, int thread) {
      chunk_stats_[c].reset(stats.type, stats.reference);
      run_chunk(p, c, workspaces()[thread], missing_.empty() ? nullptr : &missing_[static_cast<std::size_t>(thread)]);
    });
    for (int c = 0; c < chunks; ++c)
      if (bad_row_[c] >= 0)
        throw NumericalError(detail::message("fit: sample ", bad_row_[c],
                                             " has zero density under every component; the data may be too "
                                             "extreme for the Scalar type"));
    merge_chunks(stats);
  }

 private:
  void run_chunk(const Parameters<Scalar, Dim>& p, int c, EStepWorkspace<Scalar, Dim>& ws,
                 MissingRows<Scalar, Dim>* missing) {
    const Eigen::Index step = detail::block_rows<Scalar>(X_.cols());
    bad_row_[c] = -1;
    for (Eigen::Index start = bounds_[c]; start < bounds_[c + 1]; start += step) {
      const Eigen::Index rows = std::min(step, bounds_[c + 1] - start);
      detail::copy_rows(X_, start, rows, ws.x);
      Eigen::Index incomplete = 0;
      if (missing)
        incomplete = missing->log_prob(p, rows, ws, true);
      else
        weighted_log_prob(p, rows, ws);
      if (labels_) {
        apply_labels(start, rows, ws);
        if (incomplete > 0) missing->apply_labels(*labels_, start);
      }
      normalise(rows, ws);
      for (Eigen::Index i = 0; i < rows && bad_row_[c] < 0; ++i)
        if (!std::isfinite(ws.log_norm(i))) bad_row_[c] = start + i;
      if (incomplete == 0) {
        accumulate(start, rows, w_, ws, chunk_stats_[c]);
        continue;
      }
      // The complete rows as always, then the others' expected sums.
      missing->accumulate_complete(start, rows, w_, ws, chunk_stats_[c]);
      missing->accumulate(start, w_, chunk_stats_[c]);
    }
  }

  // stats += every chunk's sums, in chunk order. The Full second moments (K d x d per chunk) are merged
  // one component per task on the threads: each sum still runs over the chunks in order, so the
  // result is the same bit for bit as stats += chunk_stats_[c] for c = 0, 1, ...
  void merge_chunks(SufficientStatistics<Dim>& stats) {
    const int chunks = static_cast<int>(chunk_stats_.size());
    const int moments = static_cast<int>(stats.second.size());
    if (moments < 2 || chunks < 2 || detail::max_threads() < 2) {
      for (int c = 0; c < chunks; ++c) stats += chunk_stats_[c];
      return;
    }
    detail::for_each_chunk(moments, [&](int k, int) {
      for (int c = 0; c < chunks; ++c) stats.second[k] += chunk_stats_[c].second[k];
    });
    for (int c = 0; c < chunks; ++c) stats.add_all_but_second(chunk_stats_[c]);
  }

  // A labelled row keeps only its component's term: normalise() then gives exactly r = one-hot (the
  // others are exp(-inf) = 0, 1 - floor rounds to 1) and log p = log pi_l + log N(x_i | l) unchanged.
  void apply_labels(Eigen::Index start, Eigen::Index rows, EStepWorkspace<Scalar, Dim>& ws) const {
    const Eigen::Index K = ws.log_prob.cols();
    for (Eigen::Index i = 0; i < rows; ++i) {
      const int label = (*labels_)(start + i);
      if (label < 0) continue;
      for (Eigen::Index k = 0; k < K; ++k)
        if (k != label) ws.log_prob(i, k) = -std::numeric_limits<Scalar>::infinity();
    }
  }

  const D& X_;
  const Eigen::VectorXd* w_;
  const Eigen::VectorXi* labels_ = nullptr;
  std::vector<Eigen::Index> bounds_;  // chunk c covers rows [bounds_[c], bounds_[c+1])
  std::vector<SufficientStatistics<Dim>> chunk_stats_;
  std::vector<Eigen::Index> bad_row_;  // first row with log p = -inf, per chunk
  // One per thread: the caller's (reuse_, kept across calls) or this object's own.
  std::vector<EStepWorkspace<Scalar, Dim>>& workspaces() { return reuse_ ? *reuse_ : own_workspaces_; }
  std::vector<EStepWorkspace<Scalar, Dim>>* reuse_ = nullptr;
  std::vector<EStepWorkspace<Scalar, Dim>> own_workspaces_;
  std::vector<MissingRows<Scalar, Dim>> missing_;  // one per thread when rows may have NaN; empty otherwise
};

}  // namespace gaussmix

#include "missing.hpp"  // MissingRows, used by BlockedExpectation (it includes this header first)
