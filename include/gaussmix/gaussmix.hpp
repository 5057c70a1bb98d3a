// SPDX-License-Identifier: MIT
// gaussmix: Gaussian mixture models fitted by EM. Header-only, C++17, on Eigen 3.4.
#pragma once

#include "bayesian_mixture.hpp"
#include "compiled_instances.hpp"
#include "conjugate_prior.hpp"
#include "covariance.hpp"
#include "estep.hpp"
#include "gaussian_mixture.hpp"
#include "init.hpp"
#include "initial_parameters.hpp"
#include "model_selection.hpp"
#include "mstep.hpp"
#include "options.hpp"
#include "parameters.hpp"
#include "statistics.hpp"
#include "stream.hpp"
#include "version.hpp"
