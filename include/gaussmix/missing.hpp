// SPDX-License-Identifier: MIT
#pragma once

#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <optional>
#include <stdexcept>
#include <vector>

#include "detail/validation.hpp"
#include "estep.hpp"
#include "parameters.hpp"
#include "statistics.hpp"

namespace gaussmix {

/// The E-step of the rows of a block that have missing entries (NaN, Options::missing = Marginalise),
/// exact EM after Ghahramani & Jordan (1994). A row's density is the marginal of its observed entries o,
/// \f$\mathcal{N}(x_o \mid \mu_{k,o}, \Sigma_{k,oo})\f$; its expected statistics use the conditional mean
/// \f$\hat x_m = \mu_{k,m} + \Sigma_{k,mo} \Sigma_{k,oo}^{-1} (x_o - \mu_{k,o})\f$ and add the conditional covariance
/// \f$\Sigma_{k,mm} - \Sigma_{k,mo} \Sigma_{k,oo}^{-1} \Sigma_{k,om}\f$ to the second moment (docs/missing_and_constraints.md).
/// Each component's precision \f$\Lambda_k = \Sigma_k^{-1}\f$ is formed once per parameter set; a row with
/// few missing entries then needs only a \f$|m| \times |m|\f$ factor of \f$\Lambda_{k,mm}\f$ (Schur complement). Rows
/// with more missing than observed entries, and every row under an ill-conditioned \f$\Sigma_k\f$, take the
/// direct route instead: one Cholesky factor of \f$\Sigma_{k,oo}\f$ per (component, pattern) per block.
/// Computed in double whatever the Scalar.
template <typename Scalar, int Dim>
class MissingRows {
  using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

 public:
  /// Above this 1-norm condition number of \f$\Sigma_k\f$ the precision route's rounding (about
  /// \f$\kappa\,\epsilon\f$ relative) is not trusted, and component k's rows take the direct route.
  static constexpr double max_precision_condition = 1e6;

  /// Fills ws.log_prob(0:rows, k) = log pi_k + log N(x_i | k) for the rows in ws.x: weighted_log_prob for the
  /// block, then, for the rows with a NaN, the log marginal density of their observed entries (also kept here
  /// in double). Their NaNs in ws.x are replaced by the first mean, so that the block's kernels stay finite.
  /// With `conditionals`, also keeps what accumulate() and impute() need. Returns the number of rows with NaN;
  /// 0 means the block went through weighted_log_prob exactly as without missing values.
  Eigen::Index log_prob(const Parameters<Scalar, Dim>& p, Eigen::Index rows, EStepWorkspace<Scalar, Dim>& ws,
                        bool conditionals) {
    rows_.clear();
    if (!ws.x.topRows(rows).hasNaN()) {
      weighted_log_prob(p, rows, ws);
      return 0;
    }
    ws.centred_rows = -1;  // ws.x changes below: a centred block of it would be stale
    const Eigen::Index d = ws.x.cols();
    const int K = p.n_components();
    prepare(p);
    const bool any_ill = std::find(ill_.begin(), ill_.end(), true) != ill_.end();
    // The rows with NaN: those with at most as many missing as observed entries first (block order),
    // then the others. Only rows that take the direct route for some component are sorted by pattern.
    heavy_.clear();
    block_missing_.assign(static_cast<std::size_t>(rows), 0);
    for (Eigen::Index j = 0; j < d; ++j) {  // column by column: ws.x is column-major
      const Scalar* column = ws.x.col(j).data();
      for (Eigen::Index i = 0; i < rows; ++i) block_missing_[static_cast<std::size_t>(i)] += std::isnan(column[i]) ? 1 : 0;
    }
    for (Eigen::Index i = 0; i < rows; ++i) {
      const int n = block_missing_[static_cast<std::size_t>(i)];
      if (n > 0) (2 * n <= d ? rows_ : heavy_).push_back(i);
    }
    light_ = static_cast<Eigen::Index>(rows_.size());
    const auto missing_at = [&](Eigen::Index i, Eigen::Index j) { return std::isnan(ws.x(i, j)); };
    const auto by_pattern = [&](Eigen::Index a, Eigen::Index b) {
      for (Eigen::Index j = 0; j < d; ++j)
        if (missing_at(a, j) != missing_at(b, j)) return missing_at(a, j) < missing_at(b, j);
      return false;
    };
    if (any_ill) std::stable_sort(rows_.begin(), rows_.end(), by_pattern);
    std::stable_sort(heavy_.begin(), heavy_.end(), by_pattern);
    rows_.insert(rows_.end(), heavy_.begin(), heavy_.end());
    const Eigen::Index count = static_cast<Eigen::Index>(rows_.size());

    // Each row in double with 0 at its missing entries, and its pattern: missing indices, then observed.
    reserve(x_, ws.x.rows(), d);
    n_missing_.resize(static_cast<std::size_t>(count));
    pattern_.resize(static_cast<std::size_t>(count * d));
    offset_.resize(static_cast<std::size_t>(count + 1));
    offset_[0] = 0;
    missing_scratch_.resize(static_cast<std::size_t>(d + 1));
    observed_scratch_.resize(static_cast<std::size_t>(d + 1));
    for (Eigen::Index t = 0; t < count; ++t) {
      const Eigen::Index i = rows_[static_cast<std::size_t>(t)];
      int* pattern = &pattern_[static_cast<std::size_t>(t * d)];
      const int n_mis = block_missing_[static_cast<std::size_t>(i)];
      // Without branches (which the missing entries make unpredictable): each index goes to both lists,
      // only the right one advances.
      int missing = 0, observed = 0;
      for (Eigen::Index j = 0; j < d; ++j) {
        const double value = static_cast<double>(ws.x(i, j));
        const bool absent = std::isnan(value);
        x_(t, j) = absent ? 0.0 : value;
        missing_scratch_[static_cast<std::size_t>(missing)] = static_cast<int>(j);
        observed_scratch_[static_cast<std::size_t>(observed)] = static_cast<int>(j);
        missing += absent ? 1 : 0;
        observed += absent ? 0 : 1;
      }
      std::copy(missing_scratch_.begin(), missing_scratch_.begin() + n_mis, pattern);
      std::copy(observed_scratch_.begin(), observed_scratch_.begin() + observed, pattern + n_mis);
      n_missing_[static_cast<std::size_t>(t)] = n_mis;
      offset_[static_cast<std::size_t>(t + 1)] = offset_[static_cast<std::size_t>(t)] + n_mis * n_mis;
    }
    groups_.clear();
    if (any_ill) add_groups(0, light_);
    const std::size_t first_heavy_group = groups_.size();
    add_groups(light_, count);

    for (Eigen::Index t = 0; t < count; ++t) {
      const int* missing = &pattern_[static_cast<std::size_t>(t * d)];
      for (int a = 0; a < n_missing_[static_cast<std::size_t>(t)]; ++a)
        ws.x(rows_[static_cast<std::size_t>(t)], missing[a]) = p.means(0, missing[a]);
    }
    // The complete rows through the usual kernel, compacted so that the rows with NaN cost nothing there.
    const Eigen::Index n_complete = gather_complete(rows, ws, nullptr, 0);
    if (n_complete > 0) {
      weighted_log_prob(p, n_complete, *compact_);
      for (Eigen::Index c = 0; c < n_complete; ++c)
        ws.log_prob.row(complete_[static_cast<std::size_t>(c)]) = compact_->log_prob.row(c);
    }

    log_prob_.resize(count, K);
    conditionals_ = conditionals;
    shifts_.resize(static_cast<std::size_t>(K));
    if (conditionals) conditional_.resize(static_cast<std::size_t>(offset_.back() * K));
    for (int k = 0; k < K; ++k) reserve(shifts_[static_cast<std::size_t>(k)], ws.x.rows(), d);
    if (light_ > 0) {
      if (lanes_ == 4)
        precision_route<4>();
      else if (lanes_ == 8)
        precision_route<8>();
      else
        precision_route<0>();
    }
    for (int k = 0; k < K; ++k) {
      for (std::size_t g = ill_[static_cast<std::size_t>(k)] ? 0 : first_heavy_group; g < groups_.size(); ++g)
        direct_route(k, groups_[g]);
    }
    for (Eigen::Index t = 0; t < count; ++t)
      ws.log_prob.row(rows_[static_cast<std::size_t>(t)]).head(K) = log_prob_.row(t).template cast<Scalar>();
    return count;
  }

  /// The complete rows of the last block (after log_prob and normalise(rows, ws)): their sums as
  /// gaussmix::accumulate gives them, weights w(start + i) (nullptr: 1), from a compact copy of those rows.
  void accumulate_complete(Eigen::Index start, Eigen::Index rows, const Eigen::VectorXd* w,
                           EStepWorkspace<Scalar, Dim>& ws, SufficientStatistics<Dim>& stats) {
    const Eigen::Index n_complete = gather_complete(rows, ws, w, start);
    if (n_complete == 0) return;
    for (Eigen::Index c = 0; c < n_complete; ++c) {
      const Eigen::Index i = complete_[static_cast<std::size_t>(c)];
      compact_->log_prob.row(c) = ws.log_prob.row(i);
      compact_->log_norm(c) = ws.log_norm(i);
    }
    gaussmix::accumulate(0, n_complete, &complete_weight_, *compact_, stats);
  }

  /// Known components (fit_with_labels): labels(start + i) >= 0 keeps only that component's term of row i.
  void apply_labels(const Eigen::VectorXi& labels, Eigen::Index start) {
    for (std::size_t t = 0; t < rows_.size(); ++t) {
      const int label = labels(start + rows_[t]);
      if (label < 0) continue;
      for (Eigen::Index k = 0; k < log_prob_.cols(); ++k)
        if (k != label) log_prob_(static_cast<Eigen::Index>(t), k) = -std::numeric_limits<double>::infinity();
    }
  }

  /// Block indices of the rows with NaN found by the last log_prob.
  const std::vector<Eigen::Index>& rows() const { return rows_; }

  /// Adds the expected sufficient statistics of the rows with NaN (after log_prob with conditionals) to
  /// `stats`, about stats.reference: weights w(start + i) (nullptr: 1), responsibilities from the double
  /// log densities, and log p(x_i,o) to the log-likelihood.
  void accumulate(Eigen::Index start, const Eigen::VectorXd* w, SufficientStatistics<Dim>& stats) {
    posterior();
    const Eigen::Index K = log_prob_.cols(), d = x_.cols(), count = log_prob_.rows();
    const bool dense = stats.type == CovarianceType::Full || stats.type == CovarianceType::Tied;
    weight_.resize(count);
    for (Eigen::Index t = 0; t < count; ++t) {
      weight_(t) = w ? (*w)(start + rows_[static_cast<std::size_t>(t)]) : 1.0;
      stats.log_likelihood += weight_(t) * log_norm_(t);
      stats.total_weight += weight_(t);
    }
    // sum_t w_t r_tk C_tk for all k at once (k-fastest, as conditional_): lower triangle, or diagonal.
    const std::size_t KK = static_cast<std::size_t>(K);
    conditional_sum_.assign(static_cast<std::size_t>(d * d) * KK, 0.0);
    rw_.resize(K);
    for (Eigen::Index t = 0; t < count; ++t) {
      const int m = n_missing_[static_cast<std::size_t>(t)];
      const int* const mis = &pattern_[static_cast<std::size_t>(t * d)];
      for (Eigen::Index k = 0; k < K; ++k) rw_(k) = weight_(t) * resp_(t, k);
      const std::size_t offset = static_cast<std::size_t>(offset_[static_cast<std::size_t>(t)]);
      for (int i = 0; i < m; ++i)
        for (int j = dense ? 0 : i; j <= i; ++j)
          add_product(&conditional_sum_[static_cast<std::size_t>(mis[i] * d + mis[j]) * KK], rw_.data(),
                      &conditional_[(offset + static_cast<std::size_t>(i * m + j)) * KK], static_cast<int>(K));
    }
    reserve(centred_, x_.rows(), d);
    for (Eigen::Index k = 0; k < K; ++k) {
      // Every row's expected x - c_k at once, then the same sums as for complete rows.
      // When the reference is the E-step's mean (fit: always), x_hat - c_k is the shift itself: one pass
      // over it fewer.
      const auto shift = shifts_[static_cast<std::size_t>(k)].topRows(count);
      const bool about_mean = means_.row(k) == stats.reference.row(k);
      auto e = centred_.topRows(count);
      if (!about_mean) e = shift.rowwise() + (means_.row(k) - stats.reference.row(k));
      rw_ = weight_.cwiseProduct(resp_.col(k));
      const double total = rw_.sum();
      stats.weight(k) += total;
      if (total == 0) continue;
      if (about_mean)
        stats.first.row(k).noalias() += rw_.transpose() * shift;
      else
        stats.first.row(k).noalias() += rw_.transpose() * e;
      if (dense) {
        auto& target = stats.second[stats.type == CovarianceType::Full ? static_cast<std::size_t>(k) : 0];
        if (about_mean)
          e.array() = shift.array().colwise() * rw_.array().sqrt();
        else
          e.array().colwise() *= rw_.array().sqrt();
        target.template selfadjointView<Eigen::Lower>().rankUpdate(e.transpose());
      } else if (about_mean) {
        stats.second_diagonal.row(k).noalias() += rw_.transpose() * shift.array().square().matrix();
      } else {
        stats.second_diagonal.row(k).noalias() += rw_.transpose() * e.array().square().matrix();
      }
      // The conditional covariances summed below, in the missing block of each row.
      for (Eigen::Index a = 0; a < d; ++a) {
        const double* const sum = &conditional_sum_[static_cast<std::size_t>(a * d) * KK + static_cast<std::size_t>(k)];
        if (dense) {
          auto& target = stats.second[stats.type == CovarianceType::Full ? static_cast<std::size_t>(k) : 0];
          for (Eigen::Index b = 0; b <= a; ++b) target(a, b) += sum[static_cast<std::size_t>(b) * KK];
        } else {
          stats.second_diagonal(k, a) += sum[static_cast<std::size_t>(a) * KK];
        }
      }
    }
  }

  /// out.row(start + i) of each row with NaN gets its missing entries replaced by
  /// \f$E[x_m \mid x_o] = \sum_k r_{ik} \hat x_{k,m}\f$ (after log_prob with conditionals).
  template <class Out>
  void impute(Eigen::Index start, Out& out) {
    posterior();
    const Eigen::Index K = log_prob_.cols(), d = x_.cols();
    for (Eigen::Index t = 0; t < log_prob_.rows(); ++t) {
      const int* mis = &pattern_[static_cast<std::size_t>(t * d)];
      for (int a = 0; a < n_missing_[static_cast<std::size_t>(t)]; ++a) {
        double value = 0;
        for (Eigen::Index k = 0; k < K; ++k)
          if (resp_(t, k) != 0) value += resp_(t, k) * (means_(k, mis[a]) + shifts_[static_cast<std::size_t>(k)](t, mis[a]));
        out(start + rows_[static_cast<std::size_t>(t)], mis[a]) = static_cast<typename Out::Scalar>(value);
      }
    }
  }

 private:
  struct Group {
    Eigen::Index begin = 0, end = 0;  // rows [begin, end) of rows_ / x_ share a pattern
  };

  // y[k] += a[k] b[k] and y[k] -= a[k] b[k] for k < K (W > 0: k < W, a width known to the compiler): the
  // loops over components of precision_route, with the no-alias promise that lets the compiler vectorise them.
  template <int W = 0>
  static void add_product(double* __restrict y, const double* __restrict a, const double* __restrict b, int K) {
    const int n = W > 0 ? W : K;
    for (int k = 0; k < n; ++k) y[k] += a[k] * b[k];
  }
  template <int W = 0>
  static void subtract_product(double* __restrict y, const double* __restrict a, const double* __restrict b, int K) {
    const int n = W > 0 ? W : K;
    for (int k = 0; k < n; ++k) y[k] -= a[k] * b[k];
  }

  // b_i = sum_j Lambda(mis[i], obs[j]) delta_j for i < R, W lanes each (lambda_all_'s layout): R independent
  // sums side by side, each added in the order of j (so the same bits as one at a time).
  template <int W, int R>
  static void lambda_delta(const double* __restrict lambda, const int* mis, const int* obs, int n_obs,
                           const double* __restrict delta, double* __restrict b, Eigen::Index d) {
    const std::size_t KK = W, row = static_cast<std::size_t>(d) * KK;
    const double* rows[R];
    for (int r = 0; r < R; ++r) rows[r] = lambda + static_cast<std::size_t>(mis[r]) * row;
    double sum[R][W] = {};
    for (int j = 0; j < n_obs; ++j) {
      const std::size_t column = static_cast<std::size_t>(obs[j]) * KK;
      const double* const dj = delta + static_cast<std::size_t>(j) * KK;
      for (int r = 0; r < R; ++r)
        for (int k = 0; k < W; ++k) sum[r][k] += rows[r][column + static_cast<std::size_t>(k)] * dj[k];
    }
    for (int r = 0; r < R; ++r)
      for (int k = 0; k < W; ++k) b[static_cast<std::size_t>(r) * KK + static_cast<std::size_t>(k)] = sum[r][k];
  }

  template <class M>
  static void reserve(M& m, Eigen::Index rows, Eigen::Index cols) {
    if (m.rows() != rows || m.cols() != cols) m.resize(rows, cols);
  }

  // Copies the rows of the block without NaN (block_missing_ of the last log_prob) to compact_->x and
  // their weights (w(start + i), or 1) to complete_weight_; returns their number.
  Eigen::Index gather_complete(Eigen::Index rows, const EStepWorkspace<Scalar, Dim>& ws, const Eigen::VectorXd* w,
                               Eigen::Index start) {
    if (!compact_ || compact_->x.rows() != ws.x.rows() || compact_->x.cols() != ws.x.cols() ||
        compact_->log_prob.cols() != ws.log_prob.cols())
      compact_.emplace(ws.x.rows(), ws.x.cols(), ws.log_prob.cols());
    compact_->centred_rows = -1;  // its x is rewritten below
    complete_.clear();
    for (Eigen::Index i = 0; i < rows; ++i)
      if (block_missing_[static_cast<std::size_t>(i)] == 0) complete_.push_back(i);
    const Eigen::Index n = static_cast<Eigen::Index>(complete_.size());
    complete_weight_.resize(n);
    for (Eigen::Index c = 0; c < n; ++c) {
      const Eigen::Index i = complete_[static_cast<std::size_t>(c)];
      compact_->x.row(c) = ws.x.row(i);
      complete_weight_(c) = w ? (*w)(start + i) : 1.0;
    }
    return n;
  }

  // Per component, once per parameter set (the blocks of a pass share it): Sigma_k, Lambda_k = U_k U_k^T,
  // log det Sigma_k, and whether Sigma_k is too ill-conditioned for the precision route.
  void prepare(const Parameters<Scalar, Dim>& p) {
    const int K = p.n_components();
    const Eigen::Index d = p.n_features();
    bool same = static_cast<int>(sigma_.size()) == K && means_.rows() == K && means_.cols() == d &&
                log_weights_.size() == K && means_ == p.means.template cast<double>() &&
                weights_ == p.weights.template cast<double>();
    for (int k = 0; same && k < K; ++k) same = sigma_[static_cast<std::size_t>(k)] == p.covariances.dense_double(k);
    if (same) return;
    weights_ = p.weights.template cast<double>();
    log_weights_ = weights_.array().log();
    means_ = p.means.template cast<double>();
    sigma_.resize(static_cast<std::size_t>(K));
    lambda_.resize(static_cast<std::size_t>(K));
    factor_.resize(static_cast<std::size_t>(K));
    log_det_.setZero(K);
    ill_.assign(static_cast<std::size_t>(K), false);
    for (int k = 0; k < K; ++k) {
      const std::size_t kk = static_cast<std::size_t>(k);
      sigma_[kk] = p.covariances.dense_double(k);
      const Eigen::LLT<Eigen::MatrixXd> llt(sigma_[kk]);
      if (llt.info() != Eigen::Success) {
        ill_[kk] = true;
        continue;
      }
      const Eigen::MatrixXd inverse_factor =
          llt.matrixL().solve(Eigen::MatrixXd::Identity(d, d));  // L^-1, lower triangular
      factor_[kk] = inverse_factor.transpose();                    // U = L^-T
      lambda_[kk].noalias() = factor_[kk] * inverse_factor;        // U U^T
      log_det_(k) = 2 * llt.matrixLLT().diagonal().array().log().sum();
      const double condition = sigma_[kk].cwiseAbs().colwise().sum().maxCoeff() *
                               lambda_[kk].cwiseAbs().colwise().sum().maxCoeff();
      ill_[kk] = !(condition <= max_precision_condition) || !lambda_[kk].allFinite();
    }
    // k-fastest copies for precision_route, lanes_ components wide: K rounded up to 4 or 8 when it is at
    // most that, so that every loop over components there has a width known to the compiler. An
    // ill-conditioned component, and each padding lane, gets the identity and mean 0 there (the direct
    // route replaces an ill component's results; padding lanes are never read).
    lanes_ = K <= 4 ? 4 : K <= 8 ? 8 : K;
    const Eigen::Index L = lanes_;
    lambda_all_.resize(static_cast<std::size_t>(d * d * L));
    means_t_.resize(static_cast<std::size_t>(d * L));
    for (Eigen::Index k = 0; k < L; ++k) {
      const std::size_t kk = static_cast<std::size_t>(k);
      const bool identity = k >= K || ill_[kk];
      for (Eigen::Index i = 0; i < d; ++i) {
        means_t_[static_cast<std::size_t>(i * L + k)] = k < K ? means_(k, i) : 0.0;
        for (Eigen::Index j = 0; j < d; ++j)
          lambda_all_[static_cast<std::size_t>((i * d + j) * L + k)] = identity ? (i == j ? 1.0 : 0.0) : lambda_[kk](i, j);
      }
    }
  }

  // Groups of equal patterns among rows [begin, end) (sorted by pattern).
  void add_groups(Eigen::Index begin, Eigen::Index end) {
    const Eigen::Index d = x_.cols();
    for (Eigen::Index t = begin; t < end; ++t) {
      const bool same = t > begin && n_missing_[static_cast<std::size_t>(t)] == n_missing_[static_cast<std::size_t>(t - 1)] &&
                        std::equal(&pattern_[static_cast<std::size_t>(t * d)], &pattern_[static_cast<std::size_t>(t * d + d)],
                                   &pattern_[static_cast<std::size_t>((t - 1) * d)]);
      if (same)
        groups_.back().end = t + 1;
      else
        groups_.push_back(Group{t, t + 1});
    }
  }

  // Rows [0, light_) under every component from the Lambda_k: with delta = x - mu_k (0 where missing) and
  // b = Lambda_mo delta_o, the conditional mean offset is y = -Lambda_mm^-1 b, the conditional covariance
  // Lambda_mm^-1, log det Sigma_oo = log det Sigma + log det Lambda_mm, and the Mahalanobis term is
  // |U^T (delta_o, y)|^2 (a sum of squares at y's minimum, so y's rounding enters only to second order).
  // A row's K small factorisations share its pattern, so they run side by side: every scalar step of
  // the |m| x |m| Cholesky is a loop over k, which the compiler vectorises (lambda_all_ is k-fastest).
  // W > 0: lanes_ == W, the width of every loop over components known to the compiler; W = 0: lanes_ == K.
  template <int W>
  void precision_route() {
    const Eigen::Index d = x_.cols(), n = light_;
    const int K = static_cast<int>(log_weights_.size());
    const int L = W > 0 ? W : lanes_;  // lanes: components, then padding
    using LaneArray = Eigen::Array<double, (W > 0 ? W : Eigen::Dynamic), 1>;
    const std::size_t KK = static_cast<std::size_t>(L);
    small_.resize(KK * static_cast<std::size_t>(d * d + 4 * d + 3));
    double* const A = small_.data();                         // |m| x |m| x K: Lambda_mm's factors
    double* const delta = A + KK * static_cast<std::size_t>(d * d);  // |o| x K: x_o - mu_k,o
    double* const u = delta + KK * static_cast<std::size_t>(d);      // |m| x K: b, then y
    double* const v = u + KK * static_cast<std::size_t>(d);          // |m| x K: scratch
    double* const acc = v + KK * static_cast<std::size_t>(d);        // K: scratch
    double* const pivots = acc + KK;                                 // K: product of the pivots
    double* const log_det = pivots + KK;                           // K: log det Lambda_mm
    double* const bad = log_det + KK;                              // K: nonzero where a pivot failed
    const double* const lambda = lambda_all_.data();
    const double* const mu = means_t_.data();
    constexpr double log_2pi = 1.8378770664093454835606594728112;
    for (int k = 0; k < K; ++k)
      shifts_[static_cast<std::size_t>(k)].topRows(n) = x_.topRows(n).rowwise() - means_.row(k);
    for (Eigen::Index t = 0; t < n; ++t) {
      const int m = n_missing_[static_cast<std::size_t>(t)];
      const int* const mis = &pattern_[static_cast<std::size_t>(t * d)];
      const int* const obs = mis + m;
      const int n_obs = static_cast<int>(d) - m;
      const double* const x = &x_(t, 0);
      for (int j = 0; j < n_obs; ++j) {
        const double value = x[obs[j]];
        const double* const mu_j = mu + static_cast<std::size_t>(obs[j]) * KK;
        double* const dj = delta + static_cast<std::size_t>(j) * KK;
        for (int k = 0; k < L; ++k) dj[k] = value - mu_j[k];
      }
      if constexpr (W > 0) {  // the hottest loop here: up to four entries of b at once, all lanes in registers
        int i = 0;
        for (; i + 4 <= m; i += 4) lambda_delta<W, 4>(lambda, mis + i, obs, n_obs, delta, u + static_cast<std::size_t>(i) * KK, d);
        for (; i + 2 <= m; i += 2) lambda_delta<W, 2>(lambda, mis + i, obs, n_obs, delta, u + static_cast<std::size_t>(i) * KK, d);
        for (; i < m; ++i) lambda_delta<W, 1>(lambda, mis + i, obs, n_obs, delta, u + static_cast<std::size_t>(i) * KK, d);
      }
      for (int i = 0; W == 0 && i < m; ++i) {
        double* const bi = u + static_cast<std::size_t>(i) * KK;
        // Four components at a time in registers (the hottest loop here), then the rest one by one.
        const double* const row = lambda + static_cast<std::size_t>(mis[i]) * static_cast<std::size_t>(d) * KK;
        int k0 = 0;
        for (; k0 + 4 <= K; k0 += 4) {
          double b0 = 0, b1 = 0, b2 = 0, b3 = 0;
          for (int j = 0; j < n_obs; ++j) {
            const double* const l = row + static_cast<std::size_t>(obs[j]) * KK + k0;
            const double* const dj = delta + static_cast<std::size_t>(j) * KK + k0;
            b0 += l[0] * dj[0];
            b1 += l[1] * dj[1];
            b2 += l[2] * dj[2];
            b3 += l[3] * dj[3];
          }
          bi[k0] = b0;
          bi[k0 + 1] = b1;
          bi[k0 + 2] = b2;
          bi[k0 + 3] = b3;
        }
        for (; k0 < K; ++k0) {
          double b0 = 0;
          for (int j = 0; j < n_obs; ++j)
            b0 += row[static_cast<std::size_t>(obs[j]) * KK + k0] * delta[static_cast<std::size_t>(j) * KK + k0];
          bi[k0] = b0;
        }
      }
      // Cholesky of each Lambda_k,mm (lower triangle; the diagonal holds 1 / L_ii), the product of the
      // pivots for log det Lambda_mm (one log per row and component; rescaled before it could overflow).
      for (int k = 0; k < L; ++k) {
        pivots[k] = 1;
        log_det[k] = 0;
        bad[k] = 0;
      }
      const auto at = [&](int i, int j) { return A + static_cast<std::size_t>(i * m + j) * KK; };
      for (int i = 0; i < m; ++i) {
        for (int j = 0; j <= i; ++j) {
          double* const aij = at(i, j);
          const double* const l = lambda + (static_cast<std::size_t>(mis[i]) * static_cast<std::size_t>(d) +
                                            static_cast<std::size_t>(mis[j])) * KK;
          for (int k = 0; k < L; ++k) aij[k] = l[k];
          for (int p = 0; p < j; ++p) {
            const double* const aip = at(i, p);
            const double* const ajp = at(j, p);
            subtract_product<W>(aij, aip, ajp, L);
          }
          if (j < i) {
            const double* const ajj = at(j, j);
            for (int k = 0; k < L; ++k) aij[k] *= ajj[k];
          } else {
            int rescale = 0;
            for (int k = 0; k < L; ++k) {
              const double s = aij[k];
              bad[k] += (s > 0 && s < std::numeric_limits<double>::infinity()) ? 0.0 : 1.0;
              pivots[k] *= s;
              rescale |= (pivots[k] > 1e-200 && pivots[k] < 1e200) ? 0 : 1;
            }
            // 1 / sqrt(s) through Eigen's packet sqrt (the same IEEE results): std::sqrt keeps this loop
            // scalar, as it may have to set errno.
            Eigen::Map<LaneArray> diagonal(aij, L);
            diagonal = 1.0 / diagonal.sqrt();  // elementwise
            for (int k = 0; rescale != 0 && k < L; ++k)
              if (!(pivots[k] > 1e-200 && pivots[k] < 1e200)) {
                log_det[k] += std::log(pivots[k]);
                pivots[k] = 1;
              }
          }
        }
      }
      // y = -(L L^T)^-1 b: forward, then back substitution.
      for (int i = 0; i < m; ++i) {
        double* const ui = u + static_cast<std::size_t>(i) * KK;
        for (int p = 0; p < i; ++p) {
          const double* const aip = at(i, p);
          const double* const up = u + static_cast<std::size_t>(p) * KK;
          subtract_product<W>(ui, aip, up, L);
        }
        const double* const aii = at(i, i);
        for (int k = 0; k < L; ++k) ui[k] *= aii[k];
      }
      for (int i = m - 1; i >= 0; --i) {
        double* const ui = u + static_cast<std::size_t>(i) * KK;
        for (int p = i + 1; p < m; ++p) {
          const double* const api = at(p, i);
          const double* const up = u + static_cast<std::size_t>(p) * KK;
          subtract_product<W>(ui, api, up, L);
        }
        const double* const aii = at(i, i);
        for (int k = 0; k < L; ++k) ui[k] *= aii[k];
      }
      // log of the K pivot products at once (Eigen's packet log, within an ulp of std::log's).
      Eigen::Map<LaneArray>(acc, L) = Eigen::Map<const LaneArray>(pivots, L).log();
      for (int k = 0; k < K; ++k) {
        const std::size_t kk = static_cast<std::size_t>(k);
        double* const shift = &shifts_[kk](t, 0);
        if (bad[k] != 0) {  // not seen under the condition bound; as the direct route, zero density
          log_prob_(t, k) = -std::numeric_limits<double>::infinity();
          for (int i = 0; i < m; ++i) shift[mis[i]] = 0;
          continue;
        }
        for (int i = 0; i < m; ++i) shift[mis[i]] = -u[static_cast<std::size_t>(i) * KK + kk];
        log_prob_(t, k) = log_weights_(k) - 0.5 * (static_cast<double>(n_obs) * log_2pi + log_det_(k) + log_det[k] + acc[k]);
      }
      if (!conditionals_) continue;
      // Lambda_mm^-1 = L^-T L^-1: invert L in place (lower triangle), then the symmetric product.
      for (int i = 0; i < m; ++i) {
        const double* const aii = at(i, i);
        for (int j = 0; j < i; ++j) {
          double* const vj = v + static_cast<std::size_t>(j) * KK;
          for (int k = 0; k < L; ++k) vj[k] = 0;
          for (int p = j; p < i; ++p) {
            const double* const aip = at(i, p);
            const double* const apj = at(p, j);
            subtract_product<W>(vj, aip, apj, L);
          }
        }
        for (int j = 0; j < i; ++j) {
          double* const aij = at(i, j);
          const double* const vj = v + static_cast<std::size_t>(j) * KK;
          for (int k = 0; k < L; ++k) aij[k] = vj[k] * aii[k];
        }
      }
      const std::size_t offset = static_cast<std::size_t>(offset_[static_cast<std::size_t>(t)]);
      for (int i = 0; i < m; ++i)
        for (int j = 0; j <= i; ++j) {
          for (int k = 0; k < L; ++k) acc[k] = 0;
          for (int p = i; p < m; ++p) {
            const double* const api = at(p, i);
            const double* const apj = at(p, j);
            add_product<W>(acc, api, apj, L);
          }
          double* const s = &conditional_[(offset + static_cast<std::size_t>(i * m + j)) * static_cast<std::size_t>(K)];
          for (int k = 0; k < K; ++k) s[k] = bad[k] != 0 ? 0.0 : acc[k];
        }
    }
    for (int k = 0; k < K; ++k) {
      const std::size_t kk = static_cast<std::size_t>(k);
      if (ill_[kk]) continue;  // the direct route overwrites these rows
      reserve(product_, x_.rows(), d);
      product_.topRows(n).noalias() = shifts_[kk].topRows(n) * factor_[kk].template triangularView<Eigen::Upper>();
      log_prob_.col(k).head(n) -= 0.5 * product_.topRows(n).rowwise().squaredNorm();
    }
  }

  // The rows of group g under component k from one Cholesky factor of Sigma_k,oo: with z = L^-1 (x_o - mu_o)
  // and V = L^-1 Sigma_om, the conditional mean offset is V^T z and the conditional covariance Sigma_mm - V^T V.
  void direct_route(int k, const Group& g) {
    const std::size_t kk = static_cast<std::size_t>(k);
    const Eigen::Index d = x_.cols(), size = g.end - g.begin;
    const int n_mis = n_missing_[static_cast<std::size_t>(g.begin)];
    const int* pattern = &pattern_[static_cast<std::size_t>(g.begin * d)];
    const std::vector<int> missing(pattern, pattern + n_mis), observed(pattern + n_mis, pattern + d);
    const Eigen::Index n_obs = static_cast<Eigen::Index>(observed.size());
    const Eigen::MatrixXd& sigma = sigma_[kk];
    RowMajor& shift = shifts_[kk];
    Eigen::MatrixXd z(n_obs, size);
    for (Eigen::Index r = 0; r < size; ++r) {
      shift.row(g.begin + r) = x_.row(g.begin + r) - means_.row(k);
      for (int m : missing) shift(g.begin + r, m) = 0;
      z.col(r) = shift.row(g.begin + r)(observed).transpose();
    }
    Eigen::MatrixXd conditional = sigma(missing, missing);
    const Eigen::LLT<Eigen::MatrixXd> llt(sigma(observed, observed));
    if (llt.info() != Eigen::Success) {
      // A principal sub-matrix of a positive definite matrix is one too; if rounding says otherwise,
      // the component gets zero density here (the caller reports rows with none left).
      log_prob_.block(g.begin, k, size, 1).setConstant(-std::numeric_limits<double>::infinity());
    } else {
      const auto L = llt.matrixL();
      L.solveInPlace(z);
      constexpr double log_2pi = 1.8378770664093454835606594728112;
      const double constant = log_weights_(k) - 0.5 * static_cast<double>(n_obs) * log_2pi -
                              llt.matrixLLT().diagonal().array().log().sum();
      for (Eigen::Index r = 0; r < size; ++r) log_prob_(g.begin + r, k) = constant - 0.5 * z.col(r).squaredNorm();
      Eigen::MatrixXd v = sigma(observed, missing);
      L.solveInPlace(v);
      conditional.noalias() -= v.transpose() * v;
      const Eigen::MatrixXd offsets = v.transpose() * z;  // |m| x rows
      for (Eigen::Index r = 0; r < size; ++r)
        for (int m = 0; m < n_mis; ++m) shift(g.begin + r, missing[static_cast<std::size_t>(m)]) = offsets(m, r);
    }
    if (!conditionals_) return;
    const std::size_t KK = static_cast<std::size_t>(log_weights_.size());
    for (Eigen::Index r = 0; r < size; ++r) {
      double* const c = &conditional_[static_cast<std::size_t>(offset_[static_cast<std::size_t>(g.begin + r)]) * KK + kk];
      for (int a = 0; a < n_mis; ++a)
        for (int b = 0; b <= a; ++b) c[static_cast<std::size_t>(a * n_mis + b) * KK] = conditional(a, b);
    }
  }

  // Responsibilities and log p(x_o) of the rows with NaN from the double table (log-sum-exp).
  void posterior() {
    const Eigen::Index count = log_prob_.rows();
    resp_.resize(count, log_prob_.cols());
    log_norm_.resize(count);
    for (Eigen::Index t = 0; t < count; ++t) {
      const double top = log_prob_.row(t).maxCoeff();
      if (!std::isfinite(top)) {  // zero density everywhere: the caller has reported it already
        resp_.row(t).setConstant(1.0 / static_cast<double>(log_prob_.cols()));
        log_norm_(t) = top;
        continue;
      }
      resp_.row(t) = (log_prob_.row(t).array() - top).exp();
      const double sum = resp_.row(t).sum();
      resp_.row(t) /= sum;
      log_norm_(t) = top + std::log(sum);
    }
  }

  // The current parameter set (prepare).
  Eigen::VectorXd weights_, log_weights_, log_det_;
  Eigen::MatrixXd means_;                            // K x d
  std::vector<Eigen::MatrixXd> sigma_, lambda_, factor_;  // per k: Sigma_k, Lambda_k, U_k (Lambda_k = U_k U_k^T)
  std::vector<bool> ill_;                            // per k: direct route for every row
  int lanes_ = 0;                                    // components side by side in precision_route: K, or 4 or 8
  std::vector<double> lambda_all_, means_t_;         // Lambda_k(i, j) at (i d + j) L + k; mu_k(i) at i L + k (L = lanes_)
  // The last block's rows with NaN; capacity kept across blocks.
  std::vector<Eigen::Index> rows_, heavy_;  // block indices: light rows, then heavy rows (sorted by pattern)
  Eigen::Index light_ = 0;                  // rows_[0, light_) have at most d/2 missing entries
  std::vector<int> block_missing_;          // per row of the block: its number of NaN
  std::vector<int> n_missing_;              // per row: |m|
  std::vector<int> pattern_;                // per row, d entries: its missing indices, then its observed ones
  std::vector<int> missing_scratch_, observed_scratch_;  // log_prob: one row's two lists (d + 1 entries)
  std::vector<Eigen::Index> offset_;        // per row: start of its |m| x |m| block in conditional_ (times K)
  std::vector<Group> groups_;               // the rows of the direct route, by pattern
  RowMajor x_;                              // the rows in double, 0 where missing
  std::vector<RowMajor> shifts_;            // per k: x_hat - mu_k (observed: x - mu, missing: conditional mean - mu)
  std::vector<double> conditional_;  // each row's conditional covariances: (i, j <= i) of row t, k at (offset_t + i |m| + j) K + k
  std::vector<double> conditional_sum_;  // accumulate: sum_t w_t r_tk C_tk(a, b) at (a d + b) K + k
  bool conditionals_ = false;
  Eigen::MatrixXd log_prob_;  // log pi_k + log N(x_o | k), rows as rows_
  Eigen::MatrixXd resp_;      // responsibilities, rows as rows_
  Eigen::VectorXd log_norm_;  // log p(x_o)
  Eigen::VectorXd weight_, rw_;  // accumulate: w_i, then w_i r_ik
  RowMajor centred_, product_;   // scratch: x_hat - c_k; shift U_k
  std::vector<double> small_;    // scratch of one row: Lambda_mm's factors, b, y (K of each)
  std::optional<EStepWorkspace<Scalar, Dim>> compact_;  // the block's complete rows, for the usual kernels
  std::vector<Eigen::Index> complete_;                  // their block indices
  Eigen::VectorXd complete_weight_;                     // their weights
};

namespace detail {

/// Replaces each NaN of X by the mean of its column's observed values (weighted by w, if given): the data
/// the initialisers see under Options::missing = Marginalise. std::invalid_argument for a column with none.
template <class M>
void fill_with_column_means(M& X, const Eigen::VectorXd* w, const char* where) {
  for (Eigen::Index j = 0; j < X.cols(); ++j) {
    double sum = 0, total = 0;
    for (Eigen::Index i = 0; i < X.rows(); ++i) {
      if (std::isnan(X(i, j))) continue;
      const double weight = w ? (*w)(i) : 1.0;
      sum += weight * static_cast<double>(X(i, j));
      total += weight;
    }
    if (!(total > 0))
      throw std::invalid_argument(message(where, ": column ", j, " of X has no observed value (with positive weight)"));
    const double mean = sum / total;
    for (Eigen::Index i = 0; i < X.rows(); ++i)
      if (std::isnan(X(i, j))) X(i, j) = static_cast<typename M::Scalar>(mean);
  }
}

}  // namespace detail

}  // namespace gaussmix
