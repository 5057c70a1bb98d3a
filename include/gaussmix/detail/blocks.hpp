// SPDX-License-Identifier: MIT
#pragma once

#include <Eigen/Core>
#include <algorithm>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace gaussmix::detail {

// Rows per block of Scalar values: a block of X is 128 KiB (so it and its per-component scratch stay
// within a few hundred KiB), and never fewer than 64 double rows so per-block overheads stay small.
// By bytes, not rows: float blocks have twice the rows, so each per-block cost (a kernel's register
// reductions, a product's packing) is spread over as many values as in double.
template <typename Scalar>
Eigen::Index block_rows(Eigen::Index d) {
  constexpr Eigen::Index bytes = sizeof(Scalar);
  return std::clamp<Eigen::Index>(131072 / bytes / std::max<Eigen::Index>(d, 1), 512 / bytes, 32768 / bytes);
}

// block.topRows(rows) = rows [start, start + rows) of X, cast to the block's scalar. The block is
// column-major; a row-major X is copied 16 rows at a time, so that the rows being read stay in L1
// while the columns are written (a plain assignment re-reads each row from L2 for every column).
template <class D, class Block>
void copy_rows(const Eigen::MatrixBase<D>& X, Eigen::Index start, Eigen::Index rows, Block& block) {
  using Scalar = typename Block::Scalar;
  if constexpr (bool(D::IsRowMajor) && D::ColsAtCompileTime != 1) {
    constexpr Eigen::Index tile = 16;
    for (Eigen::Index i = 0; i < rows; i += tile) {
      const Eigen::Index h = std::min(tile, rows - i);
      block.middleRows(i, h) = X.middleRows(start + i, h).template cast<Scalar>();
    }
  } else {
    block.topRows(rows) = X.middleRows(start, rows).template cast<Scalar>();
  }
}

// Calls fn(start, rows) for consecutive row ranges of [0, n), blocks of Scalar; the order is fixed.
template <typename Scalar, class Fn>
void for_each_block(Eigen::Index n, Eigen::Index d, Fn&& fn) {
  const Eigen::Index step = block_rows<Scalar>(d);
  for (Eigen::Index start = 0; start < n; start += step) fn(start, std::min(step, n - start));
}

// Upper bound on the chunks of a pass over the data: enough to balance threads, few enough to keep
// their partial sums small.
constexpr Eigen::Index max_chunks = 32;

// The fixed chunks of a pass over n rows of d columns: chunk c covers rows [bounds[c], bounds[c+1]),
// whole blocks each. They do not depend on the thread count, so neither do sums merged in chunk order.
template <typename Scalar>
std::vector<Eigen::Index> chunk_bounds(Eigen::Index n, Eigen::Index d) {
  const Eigen::Index step = block_rows<Scalar>(d);
  const Eigen::Index blocks = (n + step - 1) / step;
  const Eigen::Index chunks = std::min<Eigen::Index>(max_chunks, blocks);
  std::vector<Eigen::Index> bounds;
  if (chunks > 0) {
    const Eigen::Index blocks_per_chunk = (blocks + chunks - 1) / chunks;
    for (Eigen::Index b = 0; b < blocks; b += blocks_per_chunk) bounds.push_back(b * step);
  }
  bounds.push_back(n);
  return bounds;
}

// Threads a parallel pass may use (1 without OpenMP).
inline int max_threads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

// Calls fn(c, thread) for c in [0, chunks), whole chunks per thread; no parallel region for one chunk.
// fn must not throw (an exception cannot leave an OpenMP region): record failures per chunk instead.
template <class Fn>
void for_each_chunk(int chunks, Fn&& fn) {
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1) if (chunks > 1)
#endif
  for (int c = 0; c < chunks; ++c) {
    int thread = 0;
#ifdef _OPENMP
    thread = omp_get_thread_num();
#endif
    fn(c, thread);
  }
}

}  // namespace gaussmix::detail
