// SPDX-License-Identifier: MIT
#pragma once

#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
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
/// The rows are grouped by their pattern of missing entries: one Cholesky factor of \f$\Sigma_{k,oo}\f$ per
/// (component, pattern) per block. Computed in double whatever the Scalar.
template <typename Scalar, int Dim>
class MissingRows {
 public:
  /// Fills ws.log_prob(0:rows, k) = log pi_k + log N(x_i | k) for the rows in ws.x: weighted_log_prob for the
  /// block, then, for the rows with a NaN, the log marginal density of their observed entries (also kept here
  /// in double). Their NaNs in ws.x are replaced by the first mean, so that the block's kernels stay finite.
  /// With `conditionals`, also keeps what accumulate() and impute() need. Returns the number of rows with NaN;
  /// 0 means the block went through weighted_log_prob exactly as without missing values.
  Eigen::Index log_prob(const Parameters<Scalar, Dim>& p, Eigen::Index rows, EStepWorkspace<Scalar, Dim>& ws,
                        bool conditionals) {
    rows_.clear();
    groups_.clear();
    if (!ws.x.topRows(rows).hasNaN()) {
      weighted_log_prob(p, rows, ws);
      return 0;
    }
    const Eigen::Index d = ws.x.cols();
    const int K = p.n_components();
    for (Eigen::Index i = 0; i < rows; ++i)
      if (ws.x.row(i).hasNaN()) rows_.push_back(i);
    // Group by pattern: sort the rows by their missing mask (lexicographic), stable for a fixed order.
    const auto missing_at = [&](Eigen::Index i, Eigen::Index j) { return std::isnan(ws.x(i, j)); };
    std::stable_sort(rows_.begin(), rows_.end(), [&](Eigen::Index a, Eigen::Index b) {
      for (Eigen::Index j = 0; j < d; ++j)
        if (missing_at(a, j) != missing_at(b, j)) return missing_at(a, j) < missing_at(b, j);
      return false;
    });
    const Eigen::Index count = static_cast<Eigen::Index>(rows_.size());
    x_.resize(count, d);
    for (Eigen::Index t = 0; t < count; ++t) x_.row(t) = ws.x.row(rows_[t]).template cast<double>();
    for (Eigen::Index t = 0; t < count; ++t) {
      if (t > 0 && same_pattern(t - 1, t)) {
        groups_.back().end = t + 1;
        continue;
      }
      Group g;
      for (Eigen::Index j = 0; j < d; ++j) (std::isnan(x_(t, j)) ? g.missing : g.observed).push_back(static_cast<int>(j));
      g.begin = t;
      g.end = t + 1;
      groups_.push_back(std::move(g));
    }
    for (Eigen::Index i : rows_)
      for (Eigen::Index j = 0; j < d; ++j)
        if (std::isnan(ws.x(i, j))) ws.x(i, j) = p.means(0, j);
    weighted_log_prob(p, rows, ws);

    means_ = p.means.template cast<double>();
    log_prob_.resize(count, K);
    covariances_.resize(static_cast<std::size_t>(K));
    for (int k = 0; k < K; ++k) covariances_[static_cast<std::size_t>(k)] = p.covariances.dense_double(k);
    constexpr double log_2pi = 1.8378770664093454835606594728112;
    for (Group& g : groups_) {
      const Eigen::Index n_obs = static_cast<Eigen::Index>(g.observed.size()), size = g.end - g.begin;
      g.z.resize(static_cast<std::size_t>(K));
      g.v.resize(conditionals ? static_cast<std::size_t>(K) : 0);
      g.conditional.resize(conditionals ? static_cast<std::size_t>(K) : 0);
      for (int k = 0; k < K; ++k) {
        const Eigen::MatrixXd& sigma = covariances_[static_cast<std::size_t>(k)];
        const Eigen::LLT<Eigen::MatrixXd> llt(sigma(g.observed, g.observed));
        Eigen::MatrixXd& z = g.z[static_cast<std::size_t>(k)];
        z.resize(n_obs, size);
        for (Eigen::Index r = 0; r < size; ++r)
          z.col(r) = (x_.row(g.begin + r)(g.observed) - means_.row(k)(g.observed)).transpose();
        if (llt.info() != Eigen::Success) {
          // A principal sub-matrix of a positive definite matrix is one too; if rounding says otherwise,
          // the component gets zero density here (the caller reports rows with none left).
          log_prob_.block(g.begin, k, size, 1).setConstant(-std::numeric_limits<double>::infinity());
          z.setZero();
          if (conditionals) {
            g.v[static_cast<std::size_t>(k)].setZero(n_obs, static_cast<Eigen::Index>(g.missing.size()));
            g.conditional[static_cast<std::size_t>(k)] = sigma(g.missing, g.missing);
          }
          continue;
        }
        const auto L = llt.matrixL();
        L.solveInPlace(z);
        const double constant = std::log(static_cast<double>(p.weights(k))) - 0.5 * static_cast<double>(n_obs) * log_2pi -
                                llt.matrixLLT().diagonal().array().log().sum();
        for (Eigen::Index r = 0; r < size; ++r) log_prob_(g.begin + r, k) = constant - 0.5 * z.col(r).squaredNorm();
        if (conditionals) {
          // V = L^-1 Sigma_om: the regression Sigma_mo Sigma_oo^-1 (x_o - mu_o) is V^T z, the conditional
          // covariance Sigma_mm - V^T V.
          Eigen::MatrixXd v = sigma(g.observed, g.missing);
          L.solveInPlace(v);
          g.conditional[static_cast<std::size_t>(k)] = sigma(g.missing, g.missing);
          g.conditional[static_cast<std::size_t>(k)].noalias() -= v.transpose() * v;
          g.v[static_cast<std::size_t>(k)] = std::move(v);
        }
      }
    }
    for (Eigen::Index t = 0; t < count; ++t)
      ws.log_prob.row(rows_[t]).head(K) = log_prob_.row(t).template cast<Scalar>();
    return count;
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

  /// Block indices of the rows with NaN found by the last log_prob (grouped by pattern).
  const std::vector<Eigen::Index>& rows() const { return rows_; }

  /// Adds the expected sufficient statistics of the rows with NaN (after log_prob with conditionals) to
  /// `stats`, about stats.reference: weights w(start + i) (nullptr: 1), responsibilities from the double
  /// log densities, and log p(x_i,o) to the log-likelihood.
  void accumulate(Eigen::Index start, const Eigen::VectorXd* w, SufficientStatistics<Dim>& stats) {
    posterior();
    const Eigen::Index K = log_prob_.cols(), d = x_.cols();
    const bool dense = stats.type == CovarianceType::Full || stats.type == CovarianceType::Tied;
    Eigen::VectorXd e(d);
    for (std::size_t t = 0; t < rows_.size(); ++t) {
      const double weight = w ? (*w)(start + rows_[t]) : 1.0;
      stats.log_likelihood += weight * log_norm_(static_cast<Eigen::Index>(t));
      stats.total_weight += weight;
    }
    for (const Group& g : groups_) {
      const Eigen::Index size = g.end - g.begin;
      for (Eigen::Index k = 0; k < K; ++k) {
        const Eigen::MatrixXd& v = g.v[static_cast<std::size_t>(k)];
        const Eigen::MatrixXd& z = g.z[static_cast<std::size_t>(k)];
        typename SufficientStatistics<Dim>::MatrixD& target = dense ? stats.second[stats.type == CovarianceType::Full ? k : 0] : e_dummy_;
        double total = 0;
        for (Eigen::Index r = 0; r < size; ++r) {
          const Eigen::Index t = g.begin + r;
          const double weight = (w ? (*w)(start + rows_[static_cast<std::size_t>(t)]) : 1.0) * resp_(t, k);
          if (weight == 0) continue;
          for (int a : g.observed) e(a) = x_(t, a) - stats.reference(k, a);
          if (!g.missing.empty()) {
            const Eigen::VectorXd shift = v.transpose() * z.col(r);
            for (std::size_t m = 0; m < g.missing.size(); ++m) {
              const int a = g.missing[m];
              e(a) = (means_(k, a) - stats.reference(k, a)) + shift(static_cast<Eigen::Index>(m));
            }
          }
          stats.first.row(k) += weight * e.transpose();
          if (dense)
            target.template selfadjointView<Eigen::Lower>().rankUpdate(e, weight);
          else
            stats.second_diagonal.row(k) += weight * e.array().square().matrix().transpose();
          total += weight;
        }
        stats.weight(k) += total;
        if (g.missing.empty() || total == 0) continue;
        const Eigen::MatrixXd& c = g.conditional[static_cast<std::size_t>(k)];
        if (dense) {
          target(g.missing, g.missing) += total * c;
        } else {
          for (std::size_t m = 0; m < g.missing.size(); ++m)
            stats.second_diagonal(k, g.missing[m]) +=
                total * c(static_cast<Eigen::Index>(m), static_cast<Eigen::Index>(m));
        }
      }
    }
  }

  /// out.row(start + i) of each row with NaN gets its missing entries replaced by
  /// \f$E[x_m \mid x_o] = \sum_k r_{ik} \hat x_{k,m}\f$ (after log_prob with conditionals).
  template <class Out>
  void impute(Eigen::Index start, Out& out) {
    posterior();
    const Eigen::Index K = log_prob_.cols();
    for (const Group& g : groups_) {
      const Eigen::Index n_mis = static_cast<Eigen::Index>(g.missing.size());
      for (Eigen::Index r = 0; r < g.end - g.begin; ++r) {
        const Eigen::Index t = g.begin + r;
        Eigen::VectorXd value = Eigen::VectorXd::Zero(n_mis);
        for (Eigen::Index k = 0; k < K; ++k) {
          if (resp_(t, k) == 0) continue;
          value += resp_(t, k) * (means_.row(k)(g.missing).transpose() +
                                  g.v[static_cast<std::size_t>(k)].transpose() * g.z[static_cast<std::size_t>(k)].col(r));
        }
        for (Eigen::Index m = 0; m < n_mis; ++m)
          out(start + rows_[static_cast<std::size_t>(t)], g.missing[static_cast<std::size_t>(m)]) =
              static_cast<typename Out::Scalar>(value(m));
      }
    }
  }

 private:
  struct Group {
    std::vector<int> observed, missing;        // the pattern
    Eigen::Index begin = 0, end = 0;           // its rows: [begin, end) of rows_ / x_
    std::vector<Eigen::MatrixXd> z;            // per k: |o| x rows, L_k^-1 (x_o - mu_k,o)
    std::vector<Eigen::MatrixXd> v;            // per k: |o| x |m|, L_k^-1 Sigma_k,om
    std::vector<Eigen::MatrixXd> conditional;  // per k: |m| x |m|, Sigma_k,mm - V^T V
  };

  bool same_pattern(Eigen::Index a, Eigen::Index b) const {
    for (Eigen::Index j = 0; j < x_.cols(); ++j)
      if (std::isnan(x_(a, j)) != std::isnan(x_(b, j))) return false;
    return true;
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

  std::vector<Eigen::Index> rows_;  // block indices of the rows with NaN, grouped by pattern
  std::vector<Group> groups_;
  Eigen::MatrixXd x_;         // those rows in double, with their NaNs
  Eigen::MatrixXd log_prob_;  // log pi_k + log N(x_o | k), rows as rows_
  Eigen::MatrixXd resp_;      // responsibilities, rows as rows_
  Eigen::VectorXd log_norm_;  // log p(x_o)
  Eigen::MatrixXd means_;     // K x d in double
  std::vector<Eigen::MatrixXd> covariances_;  // K dense in double
  typename SufficientStatistics<Dim>::MatrixD e_dummy_;  // bound to `target` when there is no dense second moment
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
