// SPDX-License-Identifier: MIT
#pragma once

#include <Eigen/Core>
#include <algorithm>

#include "register_tile.hpp"

namespace gaussmix::detail {

// The second moment of the full-covariance statistics: S(a, b) += sum_i Q(i, a) D(i, b) for a >= b,
// for column-major blocks whose column length is a multiple of the packet size; the E-step passes
// D = Q = diag(sqrt r) (X - c), one buffer written once and read by both operands.
// Each 4 x 6 tile of S is a set of column dot products held in registers over the whole block, then
// reduced once. A symmetric rank update (Eigen's) first packs both operands, one of them transposed:
// for the d of mixtures (tens) that packing costs about as much as the arithmetic.
template <typename Scalar>
struct WeightedGram {
  using Packet = typename Eigen::internal::packet_traits<Scalar>::type;
  static constexpr int packet = Eigen::internal::unpacket_traits<Packet>::size;
  /// A tile: 4 columns of Q by 6 of D with 32 vector registers (24 accumulators + 4 + 1 operands),
  /// 3 by 4 with 16.
  static constexpr int q_cols = EIGEN_ARCH_DEFAULT_NUMBER_OF_REGISTERS >= 32 ? 4 : 3;
  static constexpr int d_cols = EIGEN_ARCH_DEFAULT_NUMBER_OF_REGISTERS >= 32 ? 6 : 4;

  /// Rows of a block of `rows` rows once padded to whole packets (the padding rows must hold zeros).
  static Eigen::Index padded_rows(Eigen::Index rows) { return (rows + packet - 1) / packet * packet; }

  /// The operand for one component: Q = diag(root_r) (x - c) for the first `rows` rows of x
  /// (column-major, leading dimension ldx), with zero rows up to padded_rows(rows) (leading
  /// dimension ld), so that Q^T Q = sum_i r_i (x_i - c)(x_i - c)^T; adds the first moment
  /// sum_i r_i (x_i - c) to first[j * first_stride]. One pass over x; root_r needs `rows` entries.
  static void prepare(const Scalar* x, Eigen::Index ldx, Eigen::Index rows, Eigen::Index d, const double* c,
                      Eigen::Index c_stride, const Scalar* root_r, Scalar* Q, Eigen::Index ld, double* first,
                      Eigen::Index first_stride) {
    using namespace Eigen::internal;
    const Eigen::Index full = rows / packet * packet, padded = padded_rows(rows);
    for (Eigen::Index j = 0; j < d; ++j) {
      const Scalar centre = static_cast<Scalar>(c[j * c_stride]);
      const Packet centre_packet = pset1<Packet>(centre);
      const Scalar* xj = x + j * ldx;
      Scalar* qj = Q + j * ld;
      Packet sum = pset1<Packet>(Scalar(0));
      for (Eigen::Index i = 0; i < full; i += packet) {
        const Packet root = ploadu<Packet>(root_r + i);
        const Packet qv = pmul(psub(ploadu<Packet>(xj + i), centre_packet), root);
        pstoreu(qj + i, qv);
        sum = pmadd(qv, root, sum);
      }
      Scalar tail = 0;
      for (Eigen::Index i = full; i < padded; ++i) {
        const Scalar qv = i < rows ? (xj[i] - centre) * root_r[i] : Scalar(0);
        qj[i] = qv;
        tail += i < rows ? qv * root_r[i] : Scalar(0);
      }
      first[j * first_stride] += static_cast<double>(sum_lanes(sum) + tail);
    }
  }

  /// S(a, b) += sum_{i < rows} Q(i, a) D(i, b) for d > a >= b; rows a multiple of `packet`; Q and D
  /// column-major with leading dimension ld, S column-major (double) with leading dimension lds.
  static void run(const Scalar* Q, const Scalar* D, Eigen::Index ld, Eigen::Index rows, Eigen::Index d, double* S,
                  Eigen::Index lds) {
    using namespace Eigen::internal;
    for (Eigen::Index a0 = 0; a0 < d; a0 += q_cols) {
      const Eigen::Index a_end = std::min<Eigen::Index>(a0 + q_cols, d);
      // Past d, a tile reads the last column again and drops the result: no edge-case kernel.
      const Scalar* q[q_cols];
      GAUSSMIX_UNROLL for (int m = 0; m < q_cols; ++m) q[m] = Q + std::min<Eigen::Index>(a0 + m, d - 1) * ld;
      for (Eigen::Index b0 = 0; b0 < a_end; b0 += d_cols) {
        const Scalar* dc[d_cols];
        GAUSSMIX_UNROLL for (int n = 0; n < d_cols; ++n) dc[n] = D + std::min<Eigen::Index>(b0 + n, d - 1) * ld;
        Packet acc[q_cols][d_cols];
        GAUSSMIX_UNROLL for (int m = 0; m < q_cols; ++m)
          GAUSSMIX_UNROLL for (int n = 0; n < d_cols; ++n) acc[m][n] = pset1<Packet>(Scalar(0));
        for (Eigen::Index i = 0; i < rows; i += packet) {
          Packet qv[q_cols];
          GAUSSMIX_UNROLL for (int m = 0; m < q_cols; ++m) {
            qv[m] = ploadu<Packet>(q[m] + i);
          }
          GAUSSMIX_UNROLL for (int n = 0; n < d_cols; ++n) {
            Packet dv = ploadu<Packet>(dc[n] + i);
            keep_in_register(dv);
            GAUSSMIX_UNROLL for (int m = 0; m < q_cols; ++m) acc[m][n] = pmadd(qv[m], dv, acc[m][n]);
          }
        }
        GAUSSMIX_UNROLL for (int m = 0; m < q_cols; ++m)
          GAUSSMIX_UNROLL for (int n = 0; n < d_cols; ++n) {
            const Eigen::Index a = a0 + m, b = b0 + n;
            if (a < d && b <= a) S[b * lds + a] += static_cast<double>(sum_lanes(acc[m][n]));
          }
      }
    }
  }
};

}  // namespace gaussmix::detail
