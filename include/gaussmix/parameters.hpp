// SPDX-License-Identifier: MIT
#pragma once

#include <Eigen/Core>

#include "covariance.hpp"

namespace gaussmix {

/// The parameters of a mixture: weights \f$\pi_k\f$, means \f$\mu_k\f$ and covariances \f$\Sigma_k\f$.
/// Built whole and swapped in whole, so a failing update never leaves a model half-changed.
template <typename Scalar, int Dim = Eigen::Dynamic>
struct Parameters {
  Eigen::Matrix<Scalar, Eigen::Dynamic, 1> weights;  ///< K, sum to 1
  Eigen::Matrix<Scalar, Eigen::Dynamic, Dim> means;  ///< K x d
  Covariances<Scalar, Dim> covariances;              ///< K covariances with their factors

  int n_components() const { return static_cast<int>(weights.size()); }  ///< K
  int n_features() const { return static_cast<int>(means.cols()); }     ///< d
  bool empty() const { return weights.size() == 0; }                     ///< no parameters yet
};

}  // namespace gaussmix
