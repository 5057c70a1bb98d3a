// SPDX-License-Identifier: MIT
#pragma once

// What the register-tiled kernels (triangular_row_norms.hpp, weighted_gram.hpp) need from the compiler
// beyond Eigen's packet functions: their tiles of accumulators are small arrays, which must become
// registers, and a loaded operand must stay in one.

// Fully unrolls the next loop. GCC keeps an array of accumulators in registers only when every loop
// over it is unrolled; left to itself it kept a 4 x 6 tile on the stack (2.4x slower).
#if defined(__clang__)
#define GAUSSMIX_UNROLL _Pragma("unroll")
#elif defined(__GNUC__)
#define GAUSSMIX_UNROLL _Pragma("GCC unroll 16")
#else
#define GAUSSMIX_UNROLL
#endif

#include <Eigen/Core>

namespace gaussmix::detail {

// An empty asm statement that takes v in a vector register: GCC would otherwise fold the load of an
// operand into each multiply-add that uses it, several loads where one does (the kernel is then bound
// by loads, not arithmetic).
template <typename Packet>
inline void keep_in_register(Packet& v) {
#if defined(__GNUC__) && !defined(__clang__) && (defined(__x86_64__) || defined(__i386__)) && defined(__SSE2__)
  if constexpr (sizeof(Packet) >= 16) __asm__("" : "+v"(v));
#else
  (void)v;
#endif
}

// The sum of a packet's lanes (Eigen's predux). GCC 12 warns that AVX-512's half-extraction inside
// it reads an undefined value: that is the intrinsic's own don't-care operand, not ours.
template <typename Packet>
inline typename Eigen::internal::unpacket_traits<Packet>::type sum_lanes(const Packet& v) {
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
  return Eigen::internal::predux(v);
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
}

}  // namespace gaussmix::detail
