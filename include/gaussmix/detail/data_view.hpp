// SPDX-License-Identifier: MIT
// The data types the models' heavy members are compiled for: a plain strided view per scalar and
// storage order, so that a Matrix, a Map, a Ref or a block of rows of any of them all use one
// instantiation (each used to instantiate fit's whole EM again: ~15 s of g++ per type).
#pragma once

#include <Eigen/Core>
#include <type_traits>
#include <utility>

namespace gaussmix::detail {

/// True when X can be viewed without a copy: direct access to float or double with unit inner stride.
template <class D>
constexpr bool has_data_view =
    (bool(Eigen::internal::traits<D>::Flags & Eigen::DirectAccessBit)) && D::InnerStrideAtCompileTime == 1 &&
    (std::is_same_v<typename D::Scalar, double> || std::is_same_v<typename D::Scalar, float>);

/// The view of a D for which has_data_view holds (same scalar and storage order, any outer stride).
template <class D>
using DataView = Eigen::Ref<const Eigen::Matrix<typename D::Scalar, Eigen::Dynamic, Eigen::Dynamic,
                                                D::IsRowMajor ? Eigen::RowMajor : Eigen::ColMajor>,
                            0, Eigen::OuterStride<>>;

/// f(view of X) when X has one, else f(X) (lazy expressions: evaluated block by block, as before).
/// The values read are the same either way, so the results are too.
template <class D, class F>
decltype(auto) with_data_view(const Eigen::MatrixBase<D>& X, F&& f) {
  if constexpr (has_data_view<D>) {
    const DataView<D> view(X.derived());
    return std::forward<F>(f)(view);
  } else {
    return std::forward<F>(f)(X.derived());
  }
}

}  // namespace gaussmix::detail
