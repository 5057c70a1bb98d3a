// SPDX-License-Identifier: MIT
#pragma once

#include <Eigen/Core>
#include <cmath>
#include <sstream>
#include <stdexcept>
#include <string>

namespace gaussmix::detail {

template <class... Parts>
std::string message(const Parts&... parts) {
  std::ostringstream out;
  out << "gaussmix: ";
  (out << ... << parts);
  return out.str();
}

// Checks a data matrix: at least one row, d columns (d = expected, or Dim when fixed), all finite.
// `expected_d` <= 0 means "any d".
// With a Scalar, values must also be finite once converted to it (double data given to a float model).
template <int Dim, class D, typename Scalar = typename D::Scalar>
void check_data(const Eigen::MatrixBase<D>& X, const char* where, Eigen::Index expected_d) {
  if (X.rows() == 0) throw std::invalid_argument(message(where, ": X has no rows"));
  if (X.cols() == 0) throw std::invalid_argument(message(where, ": X has no columns"));
  if (Dim != Eigen::Dynamic && X.cols() != Dim)
    throw std::invalid_argument(message(where, ": X has ", X.cols(), " columns but the model's Dim is ", Dim));
  if (expected_d > 0 && X.cols() != expected_d)
    throw std::invalid_argument(
        message(where, ": X has ", X.cols(), " columns but the model has ", expected_d, " features"));
  if (!X.allFinite()) {
    for (Eigen::Index i = 0; i < X.rows(); ++i)
      for (Eigen::Index j = 0; j < X.cols(); ++j)
        if (!std::isfinite(static_cast<double>(X(i, j))))
          throw std::invalid_argument(
              message(where, ": X(", i, ", ", j, ") = ", X(i, j), " is not finite (NaN or Inf)"));
  }
}

// Checks sample weights: one per row, finite, >= 0, and at least `min_positive` of them > 0.
template <class W>
void check_sample_weight(const Eigen::MatrixBase<W>& w, Eigen::Index n, Eigen::Index min_positive, const char* where) {
  if (w.size() != n || (w.rows() != 1 && w.cols() != 1))
    throw std::invalid_argument(message(where, ": sample_weight has ", w.size(), " entries, X has ", n, " rows"));
  Eigen::Index positive = 0;
  for (Eigen::Index i = 0; i < n; ++i) {
    const double value = static_cast<double>(w(i));
    if (!std::isfinite(value) || value < 0)
      throw std::invalid_argument(message(where, ": sample_weight(", i, ") = ", value, " must be finite and >= 0"));
    positive += value > 0;
  }
  if (positive < min_positive)
    throw std::invalid_argument(message(where, ": only ", positive,
                                        " samples have positive weight, need at least n_components = ", min_positive));
}

}  // namespace gaussmix::detail
