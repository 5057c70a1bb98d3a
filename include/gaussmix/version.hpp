// gaussmix: Gaussian mixture models fitted by EM, header-only, on Eigen.
// SPDX-License-Identifier: MIT
#pragma once

// The one place the version is written; CMake parses these three lines.
#define GAUSSMIX_VERSION_MAJOR 0
#define GAUSSMIX_VERSION_MINOR 1
#define GAUSSMIX_VERSION_PATCH 0

// version_string is spelled from the three numbers above, so it cannot disagree with them.
#define GAUSSMIX_DETAIL_STRING(x) #x
#define GAUSSMIX_DETAIL_VERSION(major, minor, patch) \
  GAUSSMIX_DETAIL_STRING(major) "." GAUSSMIX_DETAIL_STRING(minor) "." GAUSSMIX_DETAIL_STRING(patch)

namespace gaussmix {
/// Version of the headers in use, "major.minor.patch".
inline constexpr const char* version_string =
    GAUSSMIX_DETAIL_VERSION(GAUSSMIX_VERSION_MAJOR, GAUSSMIX_VERSION_MINOR, GAUSSMIX_VERSION_PATCH);
}  // namespace gaussmix
