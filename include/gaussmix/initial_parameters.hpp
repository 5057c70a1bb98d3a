// SPDX-License-Identifier: MIT
#pragma once

#include <Eigen/Core>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include "detail/random.hpp"
#include "detail/validation.hpp"
#include "init.hpp"
#include "mstep.hpp"
#include "options.hpp"
#include "parameters.hpp"

namespace gaussmix {

/// Starting parameters for one initialisation run, as scikit-learn's `_initialize_parameters`:
/// labels or responsibilities from `options.init_params`, then one M-step (with reg_covar) on them.
/// Every component keeps at least one sample. \param w sample weights (nullptr: all 1)
template <typename Scalar, int Dim, class D>
Parameters<Scalar, Dim> initial_parameters(const Eigen::MatrixBase<D>& X, const Eigen::VectorXd* w,
                                           const Options& options, detail::Random& rng) {
  const int K = options.n_components;
  const Eigen::Index n = X.rows();
  // Under Options::prior the first M-step is MAP too (a start on few points must not fail where EM would not),
  // with the prior resolved from the rows the initialisation sees.
  const std::optional<ResolvedPrior> prior = resolve_prior_from_data<Scalar, Dim>(X, w, options, "fit");
  auto m_step = [&](auto&& fill) {
    if (!prior)
      return maximise_responsibilities<Scalar, Dim>(X, w, K, options.covariance_type, options.reg_covar, nullptr, fill);
    const SufficientStatistics<Dim> stats = responsibility_statistics<Scalar, Dim>(
        X, w, K, options.covariance_type, fill, empty_component_weight<Scalar>());
    return maximise_map<Scalar, Dim>(stats, options.reg_covar, *prior);
  };
  auto from_labels = [&](const std::vector<int>& labels) {
    return m_step([&](Eigen::Index start, Eigen::Index rows, auto&& block) {
      block.setZero();
      for (Eigen::Index i = 0; i < rows; ++i) block(i, labels[start + i]) = Scalar(1);
    });
  };
  auto from_centres = [&](const std::vector<Eigen::Index>& seeds) {
    Eigen::MatrixXd centres(K, X.cols());
    for (int k = 0; k < K; ++k) centres.row(k) = X.row(seeds[k]).template cast<double>();
    std::vector<int> labels(n);
    assign_nearest(X, centres, labels, nullptr);
    for (int k = 0; k < K; ++k) labels[seeds[k]] = k;  // every component keeps its own seed point
    return from_labels(labels);
  };
  switch (options.init_params) {
    case InitMethod::KMeans:
      return from_labels(kmeans(X, w, K, rng).labels);
    case InitMethod::KMeansPlusPlus:
      return from_centres(kmeans_plus_plus(X, w, K, rng));
    case InitMethod::RandomFromData: {
      std::vector<Eigen::Index> candidates;  // rows that count, drawn without replacement
      for (Eigen::Index i = 0; i < n; ++i)
        if (!w || (*w)(i) > 0) candidates.push_back(i);
      for (int k = 0; k < K; ++k) std::swap(candidates[k], candidates[k + rng.index(candidates.size() - k)]);
      candidates.resize(K);
      return from_centres(candidates);
    }
    case InitMethod::Random: {
      // Both passes of the M-step must see the same responsibilities: replay one engine state.
      const detail::Random start_state = rng;
      detail::Random replay = start_state;
      Eigen::Index next_row = 0;
      return m_step([&](Eigen::Index start, Eigen::Index rows, auto&& block) {
        if (start == 0 && next_row != 0) replay = start_state;
        next_row = start + rows;
        for (Eigen::Index i = 0; i < rows; ++i) {
          for (int k = 0; k < K; ++k) block(i, k) = static_cast<Scalar>(replay.uniform());
          block.row(i) /= block.row(i).sum();
        }
      });
    }
  }
  throw std::logic_error(detail::message("fit: unknown init_params"));
}

}  // namespace gaussmix
