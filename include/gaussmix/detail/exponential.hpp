// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <cstring>

namespace gaussmix::detail {

// exp(x) for x in [-708, 709], where the result is a normal double; error below 1.25 ulp (1.12 measured,
// tests/test_exponential.cpp). NaN gives NaN; outside the range the result is undefined (callers clamp).
// Written so that GCC and Clang vectorise a loop calling it: Eigen's packet exp for double divides
// once per packet (a Pade form), and that division was most of the E-step's log-sum-exp. Here:
// exp(x) = 2^n exp(r), n = round(x / ln 2), r = x - n ln 2 (two-part ln 2, |r| <= 0.35), and exp(r)
// by its Taylor polynomial of degree 13 (truncation below 5e-18 relative). docs/maths.md has the derivation.
inline double exp_normal_range(double x) {
  constexpr double log2e = 1.4426950408889634074;
  constexpr double ln2_hi = 6.93147180369123816490e-01;  // ln 2 to 32 bits: n ln2_hi is exact
  constexpr double ln2_lo = 1.90821492927058770002e-10;
  constexpr double shifter = 0x1.8p52;  // adding it rounds to an integer, kept in the low mantissa bits
  const double shifted = x * log2e + shifter;
  const double n = shifted - shifter;
  const double r = (x - n * ln2_hi) - n * ln2_lo;
  double p = 1.0 / 6227020800.0;  // 1/13!
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  // 2^n from n's bits: the low 12 bits of (n + 1023) are the biased exponent (n in [-1022, 1023]).
  std::uint64_t bits;
  std::memcpy(&bits, &shifted, sizeof bits);
  bits = (bits + 1023) << 52;
  double scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

}  // namespace gaussmix::detail
