// SPDX-License-Identifier: MIT
// The EM invariants of properties_cases.hpp for double models (Dim = 2, 3, Eigen::Dynamic); the
// float half is test_properties_float.cpp.
#define GAUSSMIX_PROPERTY_TYPES Double2, Double3, DoubleX
#include "properties_cases.hpp"
