// SPDX-License-Identifier: MIT
// Optional: compile the heavy members of the models once instead of in every translation unit.
//
// The library stays header-only. A project with many translation units that fit or score can
// define GAUSSMIX_EXTERN_TEMPLATES in all of them: each then declares the members listed below
// (fit's EM, partial_fit, the scorers, e_step, m_step, sample; for the models below, on float or
// double data of either storage order) extern instead of compiling them, and one translation unit defines them with
// GAUSSMIX_INSTANTIATE_COMPILED_INSTANCES() (docs/install.md, "Compile time"). g++ 12 -O3 on examples/demo.cpp: 20.5
// CPU-s, of which 15 are fit's instantiation. Calls with other types compile as usual. Every translation unit must use
// the same compiler flags (OpenMP on or off alike).
#pragma once

#include "bayesian_mixture.hpp"
#include "detail/data_view.hpp"
#include "gaussian_mixture.hpp"

namespace gaussmix {

/// Convenience aliases, as for GaussianMixture.
using BayesianGaussianMixtureXd = BayesianGaussianMixture<double>;
using BayesianGaussianMixtureXf = BayesianGaussianMixture<float>;
using BayesianGaussianMixture2d = BayesianGaussianMixture<double, 2>;

namespace detail {
/// The two data views of a model's scalar (detail/data_view.hpp): every matrix, Map, Ref or block of
/// rows of that scalar reaches the heavy members as one of these.
template <class Model>
using ColumnMajorView = DataView<Eigen::Matrix<typename Model::Weights::Scalar, Eigen::Dynamic, Eigen::Dynamic>>;
template <class Model>
using RowMajorView =
    DataView<Eigen::Matrix<typename Model::Weights::Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>;
}  // namespace detail

}  // namespace gaussmix

// The members of GaussianMixture MODEL that take data of type DATA (EXTERN: `extern` or empty).
#define GAUSSMIX_MIXTURE_DATA_TEMPLATES(EXTERN, MODEL, DATA)                                                        \
  EXTERN template ::gaussmix::FitResult MODEL::fit_weighted<DATA>(const Eigen::MatrixBase<DATA>&,                   \
                                                                  const Eigen::VectorXd*);                          \
  EXTERN template ::gaussmix::FitResult MODEL::partial_fit_weighted<DATA>(const Eigen::MatrixBase<DATA>&,           \
                                                                          const Eigen::VectorXd*);                  \
  EXTERN template ::gaussmix::FitResult MODEL::fit_labelled<DATA>(const Eigen::MatrixBase<DATA>&,                   \
                                                                  const Eigen::VectorXd*, const Eigen::VectorXi&);  \
  EXTERN template double MODEL::total_log_likelihood_view<DATA>(const Eigen::MatrixBase<DATA>&, const char*) const; \
  EXTERN template MODEL::ColumnVector::Scalar MODEL::e_step_view<DATA>(const Eigen::MatrixBase<DATA>&,              \
                                                                       MODEL::Responsibilities&) const;             \
  EXTERN template void MODEL::m_step_view<DATA>(const Eigen::MatrixBase<DATA>&, const MODEL::Responsibilities&);    \
  EXTERN template MODEL::ColumnVector MODEL::score_samples_view<DATA>(const Eigen::MatrixBase<DATA>&) const;        \
  EXTERN template MODEL::Labels MODEL::predict_view<DATA>(const Eigen::MatrixBase<DATA>&) const;                    \
  EXTERN template MODEL::Responsibilities MODEL::predict_proba_view<DATA>(const Eigen::MatrixBase<DATA>&) const;   \
  EXTERN template MODEL::Samples MODEL::impute_view<DATA>(const Eigen::MatrixBase<DATA>&) const

// The members of BayesianGaussianMixture MODEL that take data of type DATA.
#define GAUSSMIX_BAYESIAN_DATA_TEMPLATES(EXTERN, MODEL, DATA)                                                    \
  EXTERN template ::gaussmix::FitResult MODEL::fit_weighted<DATA>(const Eigen::MatrixBase<DATA>&,                \
                                                                  const Eigen::VectorXd*);                       \
  EXTERN template MODEL::ColumnVector::Scalar MODEL::e_step_view<DATA>(const Eigen::MatrixBase<DATA>&,           \
                                                                       MODEL::Responsibilities&) const;          \
  EXTERN template void MODEL::m_step_view<DATA>(const Eigen::MatrixBase<DATA>&, const MODEL::Responsibilities&); \
  EXTERN template MODEL::ColumnVector MODEL::score_samples_view<DATA>(const Eigen::MatrixBase<DATA>&) const;     \
  EXTERN template MODEL::ColumnVector::Scalar MODEL::score_view<DATA>(const Eigen::MatrixBase<DATA>&) const;     \
  EXTERN template MODEL::Labels MODEL::predict_view<DATA>(const Eigen::MatrixBase<DATA>&) const

// A GaussianMixture MODEL: sample (named by its template-id: clang's -Wpedantic refuses a typedef there),
// and the members for column-major data (and row-major with ROWS).
#define GAUSSMIX_MIXTURE_TEMPLATES(EXTERN, MODEL)                                                   \
  EXTERN template MODEL::Samples                                                                    \
  gaussmix::GaussianMixture<MODEL::ColumnVector::Scalar, MODEL::Vector::RowsAtCompileTime>::sample( \
      Eigen::Index, std::uint64_t, MODEL::Labels&) const;                                           \
  GAUSSMIX_MIXTURE_DATA_TEMPLATES(EXTERN, MODEL, gaussmix::detail::ColumnMajorView<MODEL>)
#define GAUSSMIX_MIXTURE_ROWS_TEMPLATES(EXTERN, MODEL) \
  GAUSSMIX_MIXTURE_DATA_TEMPLATES(EXTERN, MODEL, gaussmix::detail::RowMajorView<MODEL>)
#define GAUSSMIX_BAYESIAN_TEMPLATES(EXTERN, MODEL) \
  GAUSSMIX_BAYESIAN_DATA_TEMPLATES(EXTERN, MODEL, gaussmix::detail::ColumnMajorView<MODEL>)
#define GAUSSMIX_BAYESIAN_ROWS_TEMPLATES(EXTERN, MODEL) \
  GAUSSMIX_BAYESIAN_DATA_TEMPLATES(EXTERN, MODEL, gaussmix::detail::RowMajorView<MODEL>)

// The compiled set, in three parts of similar weight (a parallel build compiles them side by side).
// Row-major data is what numpy and CSV readers give.
#define GAUSSMIX_COMPILED_INSTANCES_1(EXTERN)                           \
  GAUSSMIX_MIXTURE_TEMPLATES(EXTERN, gaussmix::GaussianMixtureXd);      \
  GAUSSMIX_MIXTURE_ROWS_TEMPLATES(EXTERN, gaussmix::GaussianMixtureXd); \
  GAUSSMIX_MIXTURE_TEMPLATES(EXTERN, gaussmix::GaussianMixture2d)
#define GAUSSMIX_COMPILED_INSTANCES_2(EXTERN)                           \
  GAUSSMIX_MIXTURE_TEMPLATES(EXTERN, gaussmix::GaussianMixtureXf);      \
  GAUSSMIX_MIXTURE_ROWS_TEMPLATES(EXTERN, gaussmix::GaussianMixtureXf); \
  GAUSSMIX_MIXTURE_TEMPLATES(EXTERN, gaussmix::GaussianMixture2f)
#define GAUSSMIX_COMPILED_INSTANCES_3(EXTERN)                                    \
  GAUSSMIX_BAYESIAN_TEMPLATES(EXTERN, gaussmix::BayesianGaussianMixtureXd);      \
  GAUSSMIX_BAYESIAN_ROWS_TEMPLATES(EXTERN, gaussmix::BayesianGaussianMixtureXd); \
  GAUSSMIX_BAYESIAN_TEMPLATES(EXTERN, gaussmix::BayesianGaussianMixtureXf);      \
  GAUSSMIX_BAYESIAN_TEMPLATES(EXTERN, gaussmix::BayesianGaussianMixture2d)

/// Defines the compiled set: write `GAUSSMIX_INSTANTIATE_COMPILED_INSTANCES();` at namespace scope in
/// exactly one translation unit of the program (or the three parts in three units).
#define GAUSSMIX_INSTANTIATE_COMPILED_INSTANCES() \
  GAUSSMIX_COMPILED_INSTANCES_1();                \
  GAUSSMIX_COMPILED_INSTANCES_2();                \
  GAUSSMIX_COMPILED_INSTANCES_3()

#ifdef GAUSSMIX_EXTERN_TEMPLATES
GAUSSMIX_COMPILED_INSTANCES_1(extern);
GAUSSMIX_COMPILED_INSTANCES_2(extern);
GAUSSMIX_COMPILED_INSTANCES_3(extern);
#endif
