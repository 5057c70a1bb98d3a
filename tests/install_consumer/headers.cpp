// Includes gaussmix's public headers and prints the version, instantiating no model code: the cheap
// check that an installed package's headers and CMake target are complete (.ci/run builds it against
// the .deb in /usr; main.cpp, the full fit, is built against an install prefix).
#include <gaussmix/gaussmix.hpp>
#include <gaussmix/version.hpp>

#include <cstdio>

static_assert(__cplusplus >= 201703L, "gaussmix::gaussmix must require C++17 of its users");

int main() {
  std::printf("gaussmix %s: headers complete\n", gaussmix::version_string);
  return 0;
}
