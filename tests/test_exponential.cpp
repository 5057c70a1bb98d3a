// SPDX-License-Identifier: MIT
// detail::exp_normal_range, the exp of the E-step's log-sum-exp in double, against exp in long double:
// within its documented error over its whole range, normal results, NaN kept.

#include <gaussmix/gaussmix.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <random>

namespace gaussmix_test_exponential {

namespace {

// |approx - exact| in units of the last place of the correctly rounded result.
double ulp_error(double x, double approx) {
  const long double exact = std::exp(static_cast<long double>(x));
  const double rounded = static_cast<double>(exact);
  const double ulp = std::nextafter(rounded, std::numeric_limits<double>::infinity()) - rounded;
  return static_cast<double>(std::fabs(static_cast<long double>(approx) - exact) / ulp);
}

}  // namespace

TEST_CASE("exp_normal_range is within 1.25 ulp of exp over [-708, 709] and its results are normal",
          "[exponential]") {
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> whole(-708.0, 709.0), small(-1.0, 1.0);
  double worst = 0;
  long subnormal = 0;
  const auto check = [&](double x) {
    const double y = gaussmix::detail::exp_normal_range(x);
    worst = std::max(worst, ulp_error(x, y));
    subnormal += std::fpclassify(y) != FP_NORMAL;
  };
  for (int i = 0; i < 200000; ++i) {
    check(whole(rng));
    check(small(rng));
  }
  // The ends, zero, and around the multiples of ln 2 / 2 where the reduced argument changes sign.
  for (double x : {-708.0, 709.0, 0.0, -0.0, 1e-300, -1e-300, std::log(std::numeric_limits<double>::min())})
    if (x >= -708.0 && x <= 709.0) check(x);
  for (int n = -1020; n <= 1020; ++n) {
    const double edge = (n + 0.5) * 0.69314718055994530942;
    for (double x : {std::nextafter(edge, -1e300), edge, std::nextafter(edge, 1e300)})
      if (x >= -708.0 && x <= 709.0) check(x);
  }
  INFO("largest error " << worst << " ulp");
  CHECK(worst <= 1.25);
  CHECK(subnormal == 0);
  CHECK(gaussmix::detail::exp_normal_range(0.0) == 1.0);
  CHECK(std::isnan(gaussmix::detail::exp_normal_range(std::numeric_limits<double>::quiet_NaN())));
}

}  // namespace gaussmix_test_exponential
