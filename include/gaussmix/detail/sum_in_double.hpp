// SPDX-License-Identifier: MIT
#pragma once

#include <Eigen/Core>
#include <type_traits>

namespace gaussmix::detail {

// The sum of a contiguous vector in double. For double it is Eigen's sum (vectorised). For float,
// Eigen does not vectorise a sum cast to double: one dependent scalar add per value, which made
// the per-component sums N_k the slowest part of a float E-step. Independent double accumulators
// (which the compiler may vectorise) remove that chain; the result does not depend on the
// compiler's choice.
template <class D>
double sum_in_double(const Eigen::DenseBase<D>& v) {
  using Scalar = typename D::Scalar;
  if constexpr (std::is_same_v<Scalar, double>) {
    return v.sum();
  } else {
    static_assert(int(D::InnerStrideAtCompileTime) == 1, "sum_in_double needs a contiguous vector");
    const Scalar* p = v.derived().data();
    const Eigen::Index n = v.size();
    // 16 lanes: as 4 vectors of 4 doubles, enough independent adds to hide their latency.
    double lane[16] = {};
    Eigen::Index i = 0;
    for (; i + 16 <= n; i += 16)
      for (int l = 0; l < 16; ++l) lane[l] += static_cast<double>(p[i + l]);
    double tail = 0;
    for (; i < n; ++i) tail += static_cast<double>(p[i]);
    for (int width = 8; width >= 1; width /= 2)
      for (int l = 0; l < width; ++l) lane[l] += lane[l + width];
    return lane[0] + tail;
  }
}

}  // namespace gaussmix::detail
