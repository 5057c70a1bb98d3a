// SPDX-License-Identifier: MIT
#pragma once

#include <Eigen/Core>
#include <algorithm>

namespace gaussmix::detail {

// Rows per block: a block of X plus its per-component scratch stays within a few hundred KiB,
// and never fewer than 64 rows so per-block overheads stay small.
inline Eigen::Index block_rows(Eigen::Index d) {
  return std::clamp<Eigen::Index>(16384 / std::max<Eigen::Index>(d, 1), 64, 4096);
}

// Calls fn(start, rows) for consecutive row ranges of [0, n); the order is fixed.
template <class Fn>
void for_each_block(Eigen::Index n, Eigen::Index d, Fn&& fn) {
  const Eigen::Index step = block_rows(d);
  for (Eigen::Index start = 0; start < n; start += step) fn(start, std::min(step, n - start));
}

}  // namespace gaussmix::detail
