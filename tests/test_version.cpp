// SPDX-License-Identifier: MIT
// The version is written once, in gaussmix/version.hpp; CMake reads it from there (project VERSION,
// gaussmixConfigVersion.cmake, gaussmix.pc, the .deb). This checks that the three agree.
#include <gaussmix/version.hpp>

#include <catch2/catch.hpp>

#include <string>

// A namespace of its own: the tests build as a few unity translation units (tests/CMakeLists.txt).
namespace gaussmix_test_version {

TEST_CASE("version: version_string, the GAUSSMIX_VERSION_* macros and CMake's project version agree", "[version]") {
  const std::string macros = std::to_string(GAUSSMIX_VERSION_MAJOR) + "." + std::to_string(GAUSSMIX_VERSION_MINOR) +
                             "." + std::to_string(GAUSSMIX_VERSION_PATCH);
  CHECK(std::string(gaussmix::version_string) == macros);
  CHECK(std::string(gaussmix::version_string) == GAUSSMIX_PROJECT_VERSION);  // from tests/CMakeLists.txt
}

}  // namespace gaussmix_test_version
