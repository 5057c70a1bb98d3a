// SPDX-License-Identifier: MIT
// Part 2 of the compiled instances (float, d dynamic: GaussianMixture).
// The build's own tests, examples and tools link these instead of compiling the same members
// each (include/gaussmix/compiled_instances.hpp, GAUSSMIX_COMPILED_INSTANCES in CMakeLists.txt).
#include <gaussmix/gaussmix.hpp>

GAUSSMIX_COMPILED_INSTANCES_2();
