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

}  // namespace gaussmix::detail
