// SPDX-License-Identifier: MIT
// The EM invariants of properties_cases.hpp for float and double models (Dim = 2, 3, Eigen::Dynamic).
#define GAUSSMIX_PROPERTY_TYPES Double2, Double3, DoubleX, Float2, Float3, FloatX
#include "properties_cases.hpp"
