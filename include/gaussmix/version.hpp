// gaussmix: Gaussian mixture models fitted by EM, header-only, on Eigen.
// SPDX-License-Identifier: MIT
#pragma once

// The one place the version is written; CMake parses these three lines.
#define GAUSSMIX_VERSION_MAJOR 0
#define GAUSSMIX_VERSION_MINOR 1
#define GAUSSMIX_VERSION_PATCH 0

namespace gaussmix {
/// Version of the headers in use, "major.minor.patch".
inline constexpr const char* version_string = "0.1.0";
}  // namespace gaussmix
