// SPDX-License-Identifier: MIT
// The EM invariants of properties_cases.hpp for float models (Dim = 2, 3, Eigen::Dynamic); the
// double half is test_properties_double.cpp.
#define GAUSSMIX_PROPERTY_TYPES Float2, Float3, FloatX
#include "properties_cases.hpp"
