// SPDX-License-Identifier: MIT
// Part 3 of the compiled instances (double, d = 2: GaussianMixture and BayesianGaussianMixture (the examples)).
// The build's own tests, examples and tools link these instead of compiling the same members
// each (include/gaussmix/compiled_instances.hpp, GAUSSMIX_COMPILED_INSTANCES in CMakeLists.txt).
#include <gaussmix/gaussmix.hpp>

GAUSSMIX_COMPILED_INSTANCES_3();
