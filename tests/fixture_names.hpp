// SPDX-License-Identifier: MIT
// The names the reference fixtures use for gaussmix's enumerations (scikit-learn's spelling).
#pragma once

#include <gaussmix/options.hpp>

#include <stdexcept>
#include <string>

namespace gaussmix_test {

/// The CovarianceType that gaussmix::to_string spells `name` ("full", "diag", "spherical", "tied");
/// std::invalid_argument for any other name, so that a fixture with a typo fails instead of fitting Tied.
inline gaussmix::CovarianceType covariance_type_named(const std::string& name) {
  for (const gaussmix::CovarianceType type : {gaussmix::CovarianceType::Full, gaussmix::CovarianceType::Diagonal,
                                              gaussmix::CovarianceType::Spherical, gaussmix::CovarianceType::Tied})
    if (name == gaussmix::to_string(type)) return type;
  throw std::invalid_argument("gaussmix tests: unknown covariance_type \"" + name + "\" in a fixture");
}

}  // namespace gaussmix_test
