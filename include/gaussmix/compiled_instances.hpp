// SPDX-License-Identifier: MIT
// Optional: compile the heavy members of the models once instead of in every translation unit.
//
// The library stays header-only. A project with many translation units that fit or score can
// define GAUSSMIX_EXTERN_TEMPLATES in all of them: each then declares the members listed below
// (fit's EM, partial_fit, the scorers, e_step, m_step, sample; for the models below, on float or
// double data of either storage order; and the E-step, M-step and initialisation kernels under EM, which
// fit_source and fit_mpi reach too) extern instead of compiling them, and one translation unit defines them with
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

// The kernels under fit's EM for GaussianMixture<S, DIM> (E-step, M-step, prior, initialisation from a
// column-major sample), which the streamed fits (fit_source, fit_mpi) and every other caller reach too.
#define GAUSSMIX_KERNEL_TEMPLATES(EXTERN, S, DIM)                                                                  \
  EXTERN template void gaussmix::diagonal_log_prob_product<S, DIM>(const gaussmix::Parameters<S, DIM>&,            \
                                                                   Eigen::Index, gaussmix::EStepWorkspace<S, DIM>&); \
  EXTERN template void gaussmix::weighted_log_prob<S, DIM>(const gaussmix::Parameters<S, DIM>&, Eigen::Index,      \
                                                           gaussmix::EStepWorkspace<S, DIM>&);                     \
  EXTERN template void gaussmix::normalise<S, DIM>(Eigen::Index, gaussmix::EStepWorkspace<S, DIM>&);               \
  EXTERN template void gaussmix::accumulate<S, DIM>(Eigen::Index, Eigen::Index, const Eigen::VectorXd*,            \
                                                    gaussmix::EStepWorkspace<S, DIM>&,                             \
                                                    gaussmix::SufficientStatistics<DIM>&);                         \
  EXTERN template gaussmix::Parameters<S, DIM> gaussmix::maximise<S, DIM>(                                         \
      const gaussmix::SufficientStatistics<DIM>&, double, const gaussmix::Parameters<S, DIM>*,                     \
      const gaussmix::FixedParameters*);                                                                           \
  EXTERN template gaussmix::Parameters<S, DIM> gaussmix::maximise_map<S, DIM>(                                     \
      const gaussmix::SufficientStatistics<DIM>&, double, const gaussmix::ResolvedPrior&);                         \
  EXTERN template double gaussmix::log_prior_density<S, DIM>(const gaussmix::Parameters<S, DIM>&,                  \
                                                             const gaussmix::ResolvedPrior&);                      \
  EXTERN template gaussmix::Parameters<S, DIM> gaussmix::initial_parameters<S, DIM, Eigen::Matrix<S, -1, DIM>>(    \
      const Eigen::MatrixBase<Eigen::Matrix<S, -1, DIM>>&, const Eigen::VectorXd*, const gaussmix::Options&,       \
      gaussmix::detail::Random&)
// Kernels that depend on the dimension only.
#define GAUSSMIX_DIM_TEMPLATES(EXTERN, DIM)                                                                 \
  EXTERN template gaussmix::ResolvedPrior gaussmix::resolve_prior<DIM>(                                     \
      const gaussmix::ConjugatePrior&, const gaussmix::SufficientStatistics<DIM>&, gaussmix::CovarianceType, \
      int, const char*)

// The compiled set, in three parts of similar weight (a parallel build compiles them side by side).
// Row-major data is what numpy and CSV readers give.
#define GAUSSMIX_COMPILED_INSTANCES_1(EXTERN)                           \
  GAUSSMIX_MIXTURE_TEMPLATES(EXTERN, gaussmix::GaussianMixtureXd);      \
  GAUSSMIX_MIXTURE_ROWS_TEMPLATES(EXTERN, gaussmix::GaussianMixtureXd); \
  GAUSSMIX_MIXTURE_TEMPLATES(EXTERN, gaussmix::GaussianMixture2d);     \
  GAUSSMIX_KERNEL_TEMPLATES(EXTERN, double, Eigen::Dynamic);            \
  GAUSSMIX_KERNEL_TEMPLATES(EXTERN, double, 2);                         \
  GAUSSMIX_DIM_TEMPLATES(EXTERN, Eigen::Dynamic);                       \
  GAUSSMIX_DIM_TEMPLATES(EXTERN, 2)
#define GAUSSMIX_COMPILED_INSTANCES_2(EXTERN)                           \
  GAUSSMIX_MIXTURE_TEMPLATES(EXTERN, gaussmix::GaussianMixtureXf);      \
  GAUSSMIX_MIXTURE_ROWS_TEMPLATES(EXTERN, gaussmix::GaussianMixtureXf); \
  GAUSSMIX_MIXTURE_TEMPLATES(EXTERN, gaussmix::GaussianMixture2f);     \
  GAUSSMIX_KERNEL_TEMPLATES(EXTERN, float, Eigen::Dynamic);             \
  GAUSSMIX_KERNEL_TEMPLATES(EXTERN, float, 2)
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
