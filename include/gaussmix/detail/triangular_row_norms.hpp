// SPDX-License-Identifier: MIT
#pragma once

#include <Eigen/Core>
#include <algorithm>

#include "register_tile.hpp"

namespace gaussmix::detail {

// The Mahalanobis kernel of the full-covariance density: out_i = || (x_i - m) U ||^2 for the rows of a
// column-major block, U upper triangular. A general triangular product (Eigen's) packs the block, writes
// the n x d product and reads it again for the norms; for the d of mixtures (tens) packing costs about
// as much as the arithmetic. Here each tile of rows is centred into a small contiguous buffer (the
// "packing", fused with x - m), multiplied by U panel by panel in registers, and only the norms leave
// them. docs/maths.md, "The full-covariance kernels".
template <typename Scalar>
struct TriangularRowNorms {
  using Packet = typename Eigen::internal::packet_traits<Scalar>::type;
  static constexpr int packet = Eigen::internal::unpacket_traits<Packet>::size;
  static constexpr bool wide = EIGEN_ARCH_DEFAULT_NUMBER_OF_REGISTERS >= 32;
  /// A tile is tile_packets x panel_cols accumulators (+ the tile's row packets + 1 broadcast) in
  /// registers: 3 x 8 with 32 registers, 3 x 4 with 16. Packets of 16 (float with AVX-512) take 4 x 6:
  /// 64-row tiles divide the E-step's blocks (256 rows at d = 64), where 48-row tiles left a third of
  /// the last one empty (20 % slower at d = 64).
  static constexpr int tile_packets = wide && packet >= 16 ? 4 : 3;
  static constexpr int tile_rows = tile_packets * packet;
  static constexpr int panel_cols = wide ? (packet >= 16 ? 6 : 8) : 4;

  /// Scalars of scratch that `run` needs for d features.
  static Eigen::Index scratch_size(Eigen::Index d) {
    return tile_rows * d + (d + panel_cols) * (d + panel_cols);
  }

  /// Copies the upper triangle of U (column-major, leading dimension ldu; its lower part is not
  /// read) into panels of panel_cols columns, row by row, with zeros below the diagonal and past d:
  /// the kernel then needs no edge cases. Returns the panels' size.
  static Eigen::Index pack_panels(const Scalar* U, Eigen::Index ldu, Eigen::Index d, Scalar* panels) {
    Scalar* out = panels;
    for (Eigen::Index j0 = 0; j0 < d; j0 += panel_cols) {
      const Eigen::Index depth = std::min<Eigen::Index>(j0 + panel_cols, d);
      for (Eigen::Index l = 0; l < depth; ++l)
        GAUSSMIX_UNROLL for (int c = 0; c < panel_cols; ++c) {
          const Eigen::Index j = j0 + c;
          *out++ = (j < d && l <= j) ? U[j * ldu + l] : Scalar(0);
        }
    }
    return out - panels;
  }

  /// out[i] = sum_j ((x_i - mean) U)_j^2 for i < rows; x column-major with leading dimension ldx.
  static void run(const Scalar* x, Eigen::Index ldx, Eigen::Index rows, Eigen::Index d, const Scalar* mean,
                  const Scalar* U, Eigen::Index ldu, Scalar* out, Scalar* scratch) {
    using namespace Eigen::internal;
    Scalar* tile = scratch;
    Scalar* panels = scratch + tile_rows * d;
    pack_panels(U, ldu, d, panels);
    for (Eigen::Index i0 = 0; i0 < rows; i0 += tile_rows) {
      const Eigen::Index h = std::min<Eigen::Index>(tile_rows, rows - i0);
      // The tile, centred: tile[l * tile_rows + r] = x(i0 + r, l) - mean_l; rows past the block are 0.
      if (h == tile_rows) {
        for (Eigen::Index l = 0; l < d; ++l) {
          const Packet m = pset1<Packet>(mean[l]);
          const Scalar* column = x + l * ldx + i0;
          GAUSSMIX_UNROLL for (int p = 0; p < tile_packets; ++p)
            pstoreu(tile + l * tile_rows + p * packet, psub(ploadu<Packet>(column + p * packet), m));
        }
      } else {
        for (Eigen::Index l = 0; l < d; ++l)
          for (Eigen::Index r = 0; r < tile_rows; ++r)
            tile[l * tile_rows + r] = r < h ? x[l * ldx + i0 + r] - mean[l] : Scalar(0);
      }
      Packet norm[tile_packets];
      GAUSSMIX_UNROLL for (int p = 0; p < tile_packets; ++p) norm[p] = pset1<Packet>(Scalar(0));
      const Scalar* panel = panels;
      for (Eigen::Index j0 = 0; j0 < d; j0 += panel_cols) {
        // Columns j0.. of U have zeros below row j0 + panel_cols - 1: the panel's depth.
        const Eigen::Index depth = std::min<Eigen::Index>(j0 + panel_cols, d);
        Packet acc[tile_packets][panel_cols];
        GAUSSMIX_UNROLL for (int p = 0; p < tile_packets; ++p)
          GAUSSMIX_UNROLL for (int c = 0; c < panel_cols; ++c) acc[p][c] = pset1<Packet>(Scalar(0));
        const Scalar* a = tile;
        for (Eigen::Index l = 0; l < depth; ++l, a += tile_rows, panel += panel_cols) {
          Packet row[tile_packets];
          GAUSSMIX_UNROLL for (int p = 0; p < tile_packets; ++p) {
            row[p] = ploadu<Packet>(a + p * packet);
            keep_in_register(row[p]);
          }
          GAUSSMIX_UNROLL for (int c = 0; c < panel_cols; ++c) {
            const Packet u = pset1<Packet>(panel[c]);
            GAUSSMIX_UNROLL for (int p = 0; p < tile_packets; ++p) acc[p][c] = pmadd(row[p], u, acc[p][c]);
          }
        }
        GAUSSMIX_UNROLL for (int c = 0; c < panel_cols; ++c)
          GAUSSMIX_UNROLL for (int p = 0; p < tile_packets; ++p) norm[p] = pmadd(acc[p][c], acc[p][c], norm[p]);
      }
      if (h == tile_rows) {
        GAUSSMIX_UNROLL for (int p = 0; p < tile_packets; ++p) pstoreu(out + i0 + p * packet, norm[p]);
      } else {
        Scalar last[tile_rows];
        GAUSSMIX_UNROLL for (int p = 0; p < tile_packets; ++p) pstoreu(last + p * packet, norm[p]);
        std::copy(last, last + h, out + i0);
      }
    }
  }
};

}  // namespace gaussmix::detail
