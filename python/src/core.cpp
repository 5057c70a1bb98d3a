// SPDX-License-Identifier: MIT
// gaussmix._core: the thin compiled layer under the Python package. It holds the C++ calls only;
// argument checking, scikit-learn's names and attribute shapes live in gaussmix/_gaussian_mixture.py
// (GaussianMixture: Model64 / Model32) and gaussmix/_bayesian_mixture.py (BayesianGaussianMixture:
// BayesModel64, float64 only, so that the library's variational members are instantiated once).
//
// Arrays cross as Eigen::Ref<const row-major matrix> with noconvert(): a C-contiguous array of the
// model's scalar type is read in place, anything else is refused (the Python layer converts once,
// before the call). The GIL is released around every call into the library.
#include <pybind11/eigen.h>
#include <pybind11/iostream.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <gaussmix/gaussmix.hpp>
#include <gaussmix/stream.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace py = pybind11;

namespace {

using gaussmix::CovarianceType;
using gaussmix::FitResult;
using gaussmix::Options;

template <typename Scalar>
using RowMatrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <typename Scalar>
using RowRef = Eigen::Ref<const RowMatrix<Scalar>>;
using WeightRef = Eigen::Ref<const Eigen::VectorXd>;

// Sets the OpenMP thread count of the calling thread for the duration of one call (the ICV is
// per thread, so concurrent Python threads do not interfere). threads <= 0 keeps the current count.
class ThreadCount {
 public:
  explicit ThreadCount(int threads) {
#ifdef _OPENMP
    previous_ = omp_get_max_threads();
    if (threads > 0) omp_set_num_threads(threads);
#else
    (void)threads;
#endif
  }
  ~ThreadCount() {
#ifdef _OPENMP
    omp_set_num_threads(previous_);
#endif
  }
  ThreadCount(const ThreadCount&) = delete;
  ThreadCount& operator=(const ThreadCount&) = delete;

 private:
  int previous_ = 1;
};

// Progress lines (Options::verbose) go to Python's sys.stdout, as scikit-learn's print() does.
// pythonbuf takes the GIL itself when it flushes; it is created and destroyed with the GIL held.
struct VerboseSink {
  std::unique_ptr<py::detail::pythonbuf> buffer;
  std::unique_ptr<std::ostream> stream;
  explicit VerboseSink(Options& options) {
    if (options.verbose <= 0) return;
    buffer = std::make_unique<py::detail::pythonbuf>(py::module_::import("sys").attr("stdout"));
    stream = std::make_unique<std::ostream>(buffer.get());
    options.verbose_stream = stream.get();
  }
  ~VerboseSink() {
    if (stream) stream->flush();
  }
};

// Starting values given by the caller (scikit-learn's weights_init / means_init / precisions_init,
// the latter already turned into covariances): each replaces its part of every run's initialisation.
struct InitOverrides {
  std::optional<Eigen::VectorXd> weights;
  std::optional<Eigen::MatrixXd> means;
  std::optional<std::vector<Eigen::MatrixXd>> covariances;
  bool any() const { return weights || means || covariances; }
};

py::tuple fit_result(const FitResult& r) {
  return py::make_tuple(r.converged, r.n_iter, r.lower_bound, r.history);
}

/// One fitted (or parameterised) mixture of the given scalar type, dynamic dimension.
template <typename Scalar>
class Model {
 public:
  using Mixture = gaussmix::GaussianMixture<Scalar>;
  using Matrix = typename Mixture::Matrix;

  explicit Model(const Options& options) : model_(options) {}

  // Fits a new model with `options`; with options.warm_start and a fitted `previous`, starts from it.
  // scikit-learn semantics the library's fit does not have, kept here in the binding:
  // - a warm start compares its first lower bound with the previous fit's (previous_lower_bound), so
  //   repeated warm fits with max_iter = 1 end up converged_;
  // - max_iter = 0 sets the initial parameters (weights_init / means_init / precisions_init over
  //   the init method's) and runs no iteration.
  static std::pair<std::shared_ptr<Model>, py::tuple> fit(Options options, RowRef<Scalar> X,
                                                          std::optional<WeightRef> sample_weight, int threads,
                                                          const Model* previous, double previous_lower_bound,
                                                          const InitOverrides& init) {
    VerboseSink sink(options);
    const bool warm = options.warm_start && previous && previous->model_.is_fitted();
    const bool init_only = options.max_iter == 0;
    if (init_only) options.max_iter = 1;  // the library requires >= 1; no iteration is run below
    bool stopped_converged = false;
    if (warm && std::isfinite(previous_lower_bound)) {
      const double tol = options.tol;
      options.callback = [previous_lower_bound, tol, &stopped_converged](const gaussmix::IterationInfo& info) {
        if (info.iteration == 1 && std::abs(info.lower_bound - previous_lower_bound) < tol) {
          stopped_converged = true;
          return false;
        }
        return true;
      };
    }
    auto next = std::make_shared<Model>(options);
    FitResult result;
    {
      py::gil_scoped_release release;
      ThreadCount scope(threads);
      if (warm) {
        const Mixture& old = previous->model_;
        next->model_.set_parameters(old.weights(), old.means(), old.covariances());
      }
      const bool plain_fit = !init_only && (!init.any() || warm);
      Eigen::VectorXd w;
      if (plain_fit) {
        if (sample_weight) w = *sample_weight;  // fit() checks and scales them
      } else {
        // The paths that bypass fit(): the same checks of X and of the weights, the same scaling.
        if (options.missing == gaussmix::MissingValues::Marginalise)
          gaussmix::detail::check_data_missing<Eigen::Dynamic, RowRef<Scalar>, Scalar>(X, "fit", 0, true);
        else
          gaussmix::detail::check_data<Eigen::Dynamic, RowRef<Scalar>, Scalar>(X, "fit", 0);
        if (sample_weight)
          w = gaussmix::detail::scaled_sample_weight(*sample_weight, X.rows(), options.n_components, "fit");
      }
      const Eigen::VectorXd* wp = sample_weight ? &w : nullptr;
      if (init_only) {
        result.converged = false;
        result.n_iter = 0;
        result.lower_bound = -std::numeric_limits<double>::infinity();
        if (!warm) {
          gaussmix::detail::Random rng(gaussmix::detail::run_seed(options.seed, 0));
          const RowMatrix<Scalar> filled = mean_filled(X, wp, options);
          const auto p = next->initial(filled.size() ? RowRef<Scalar>(filled) : X, wp, init, rng);
          std::vector<Matrix> covariances;
          for (int k = 0; k < p.n_components(); ++k) covariances.push_back(p.covariances.dense(k));
          next->model_.set_parameters(p.weights, p.means, covariances);
        }
      } else if (plain_fit) {
        result = sample_weight ? next->model_.fit(X, w) : next->model_.fit(X);
      } else {
        result = next->fit_with_overrides(X, wp, init);
      }
    }
    if (stopped_converged) result.converged = true;
    return {next, fit_result(result)};
  }

  // A model from given parameters (unpickling, or parameters set by hand).
  static std::shared_ptr<Model> from_parameters(const Options& options, const Eigen::VectorXd& weights,
                                                const Eigen::MatrixXd& means,
                                                const std::vector<Eigen::MatrixXd>& covariances) {
    auto m = std::make_shared<Model>(options);
    m->model_.set_parameters(weights, means, cast_all(covariances));
    return m;
  }

  // X with every NaN replaced by the conditional expectation given the row's observed entries.
  RowMatrix<Scalar> impute(RowRef<Scalar> X) const {
    py::gil_scoped_release release;
    return model_.impute(X);
  }

  // One partial_fit call: an online (stepwise) EM update of `previous` (or, without parameters, the first
  // batch's fit with `options`). `previous` is updated in place when its options give the same update;
  // otherwise a new model with `options` takes over its parameters and running statistics. On a throw
  // nothing changes (the library's guarantee).
  static std::pair<std::shared_ptr<Model>, py::tuple> partial_fit(const Options& options, RowRef<Scalar> X,
                                                                  std::optional<WeightRef> sample_weight, int threads,
                                                                  std::shared_ptr<Model> previous) {
    std::shared_ptr<Model> next = previous;
    if (!previous || !same_update(previous->model_.options(), options)) {
      next = std::make_shared<Model>(options);
      if (previous && previous->model_.is_fitted()) next->take_state(previous->model_);
    }
    FitResult result;
    {
      py::gil_scoped_release release;
      ThreadCount scope(threads);
      result = sample_weight ? next->model_.partial_fit(X, *sample_weight) : next->model_.partial_fit(X);
    }
    return {next, fit_result(result)};
  }

  // partial_fit's running statistics for pickling: None, or (steps, reference, weight, first, second
  // (list), second_diagonal, log_likelihood, total_weight).
  py::object online_state() const {
    if (model_.online_steps() == 0) return py::none();
    const auto& s = model_.online_statistics();
    return py::make_tuple(model_.online_steps(), Eigen::MatrixXd(s.reference), s.weight, Eigen::MatrixXd(s.first),
                          std::vector<Eigen::MatrixXd>(s.second.begin(), s.second.end()),
                          Eigen::MatrixXd(s.second_diagonal), s.log_likelihood, s.total_weight);
  }
  void set_online_state(std::int64_t steps, const Eigen::MatrixXd& reference, const Eigen::VectorXd& weight,
                        const Eigen::MatrixXd& first, const std::vector<Eigen::MatrixXd>& second,
                        const Eigen::MatrixXd& second_diagonal, double log_likelihood, double total_weight) {
    gaussmix::SufficientStatistics<Eigen::Dynamic> s;
    s.type = model_.covariance_type();
    s.reference = reference;
    s.weight = weight;
    s.first = first;
    s.second = second;
    s.second_diagonal = second_diagonal;
    s.log_likelihood = log_likelihood;
    s.total_weight = total_weight;
    model_.set_online_state(s, steps);
  }

  Eigen::VectorXd weights() const { return model_.weights().template cast<double>(); }
  RowMatrix<Scalar> means() const { return model_.means(); }
  // K x d x d as a (K*d) x d stack; the Python layer reshapes and reduces to the type's shape.
  RowMatrix<Scalar> covariances() const {
    const int K = model_.n_components(), d = model_.n_features();
    RowMatrix<Scalar> out(static_cast<Eigen::Index>(K) * d, d);
    for (int k = 0; k < K; ++k) out.middleRows(static_cast<Eigen::Index>(k) * d, d) = model_.covariance(k);
    return out;
  }
  int n_parameters() const { return model_.n_parameters(); }
  int n_features() const { return model_.n_features(); }
  Mixture& mixture() { return model_; }

  Eigen::Matrix<Scalar, Eigen::Dynamic, 1> score_samples(RowRef<Scalar> X) const {
    py::gil_scoped_release release;
    return model_.score_samples(X);
  }
  Eigen::VectorXi predict(RowRef<Scalar> X) const {
    py::gil_scoped_release release;
    return model_.predict(X);
  }
  // Column-major n x K, as the library computes it: returned as a Fortran-ordered array without the
  // transposing copy (a second n x K allocation, slow to fault in when n x K is large).
  typename Mixture::Responsibilities predict_proba(RowRef<Scalar> X) const {
    py::gil_scoped_release release;
    return model_.predict_proba(X);
  }
  std::pair<RowMatrix<Scalar>, Eigen::VectorXi> sample(Eigen::Index n, std::uint64_t seed) const {
    py::gil_scoped_release release;
    Eigen::VectorXi labels;
    RowMatrix<Scalar> X = model_.sample(n, seed, labels);
    return {std::move(X), std::move(labels)};
  }

 private:
  // Whether partial_fit on a model with options `a` updates as one with options `b` would.
  static bool same_update(const Options& a, const Options& b) {
    return a.n_components == b.n_components && a.covariance_type == b.covariance_type && a.reg_covar == b.reg_covar &&
           a.missing == b.missing && a.online.step_decay == b.online.step_decay &&
           a.online.step_offset == b.online.step_offset && a.online.constant_step == b.online.constant_step;
  }

  // The parameters and partial_fit's running statistics of `other` (a model of the same type).
  void take_state(const Mixture& other) {
    model_.set_parameters(other.weights(), other.means(), other.covariances());
    if (other.online_steps() > 0) model_.set_online_state(other.online_statistics(), other.online_steps());
  }

  static std::vector<Matrix> cast_all(const std::vector<Eigen::MatrixXd>& given) {
    std::vector<Matrix> out;
    out.reserve(given.size());
    for (const auto& c : given) out.push_back(c.template cast<Scalar>());
    return out;
  }

  // What the initialisers see under MissingValues::Marginalise, as the library's fit: X with each NaN
  // replaced by its column's (weighted) observed mean; empty when there is no NaN (X itself is used).
  static RowMatrix<Scalar> mean_filled(const RowRef<Scalar>& X, const Eigen::VectorXd* w, const Options& options) {
    RowMatrix<Scalar> out;
    if (options.missing == gaussmix::MissingValues::Marginalise && X.hasNaN()) {
      out = X;
      gaussmix::detail::fill_with_column_means(out, w, "fit");
    }
    return out;
  }

  // One run's starting parameters: the library's initialisation (the same engine per run as fit)
  // for what the caller did not give, then the caller's values. X: without NaN (mean_filled).
  gaussmix::Parameters<Scalar, Eigen::Dynamic> initial(const RowRef<Scalar>& X, const Eigen::VectorXd* w,
                                                       const InitOverrides& init, gaussmix::detail::Random& rng) const {
    const Options& options = model_.options();
    gaussmix::Parameters<Scalar, Eigen::Dynamic> p;
    if (!(init.weights && init.means && init.covariances))
      p = gaussmix::initial_parameters<Scalar, Eigen::Dynamic>(X, w, options, rng);
    if (init.weights) p.weights = init.weights->template cast<Scalar>();
    if (init.means) p.means = init.means->template cast<Scalar>();
    if (init.covariances)
      p.covariances = gaussmix::Covariances<Scalar, Eigen::Dynamic>::from_dense(
          options.covariance_type, static_cast<int>(X.cols()), cast_all(*init.covariances));
    return p;
  }

  // fit() with part of each run's starting parameters given by the caller.
  FitResult fit_with_overrides(const RowRef<Scalar>& X, const Eigen::VectorXd* w, const InitOverrides& init) {
    gaussmix::BlockedExpectation<Scalar, Eigen::Dynamic, RowRef<Scalar>> expectation(X, w,
                                                                                   model_.options().n_components);
    expectation.set_missing(model_.options().missing == gaussmix::MissingValues::Marginalise);
    const RowMatrix<Scalar> filled = mean_filled(X, w, model_.options());
    const RowRef<Scalar> start = filled.size() ? RowRef<Scalar>(filled) : X;
    return model_.fit_with([&](gaussmix::detail::Random& rng) { return initial(start, w, init, rng); }, expectation);
  }

  Mixture model_;
};

// K dense d x d matrices as one (K*d) x d stack (the Python layer reshapes and reduces to the type's shape).
template <typename Matrix>
RowMatrix<typename Matrix::Scalar> stack(const std::vector<Matrix>& matrices) {
  const Eigen::Index K = static_cast<Eigen::Index>(matrices.size()), d = K ? matrices[0].rows() : 0;
  RowMatrix<typename Matrix::Scalar> out(K * d, d);
  for (Eigen::Index k = 0; k < K; ++k) out.middleRows(k * d, d) = matrices[static_cast<std::size_t>(k)];
  return out;
}

/// The variational mixture (scikit-learn's BayesianGaussianMixture), float64 only: the Python layer
/// converts float32 input once (one instantiation of the library's members instead of two).
class BayesModel {
 public:
  using Mixture = gaussmix::BayesianGaussianMixture<double>;

  BayesModel(const Options& options, const gaussmix::BayesianPriors& priors) : model_(options, priors) {}

  // Fits a new model; with options.warm_start and a fitted `previous`, continues from its posterior
  // (and its lower bound, as scikit-learn's warm start does).
  static std::pair<std::shared_ptr<BayesModel>, py::tuple> fit(Options options, const gaussmix::BayesianPriors& priors,
                                                               RowRef<double> X, std::optional<WeightRef> sample_weight,
                                                               int threads, const BayesModel* previous) {
    VerboseSink sink(options);
    auto next = std::make_shared<BayesModel>(options, priors);
    FitResult result;
    {
      py::gil_scoped_release release;
      ThreadCount scope(threads);
      if (options.warm_start && previous && previous->model_.is_fitted()) next->take_posterior(previous->model_);
      result = sample_weight ? next->model_.fit(X, *sample_weight) : next->model_.fit(X);
    }
    return {next, fit_result(result)};
  }

  // scikit-learn's _initialize(X, resp): the priors resolved from X, the posterior from resp (m_step
  // on an unfitted model); a warm-started fit continues from it.
  static std::shared_ptr<BayesModel> initialize(const Options& options, const gaussmix::BayesianPriors& priors,
                                                RowRef<double> X, const Eigen::MatrixXd& resp) {
    auto next = std::make_shared<BayesModel>(options, priors);
    py::gil_scoped_release release;
    next->model_.m_step(X, resp);
    return next;
  }

  // A model from its posterior (unpickling): the library's set_posterior.
  static std::shared_ptr<BayesModel> from_posterior(const Options& options, const gaussmix::BayesianPriors& priors,
                                                    const Eigen::MatrixXd& weight_concentration,
                                                    const Eigen::VectorXd& mean_precision,
                                                    const Eigen::VectorXd& degrees_of_freedom,
                                                    const Eigen::MatrixXd& means,
                                                    const std::vector<Eigen::MatrixXd>& covariances,
                                                    const gaussmix::BayesianPriors& resolved, double lower_bound) {
    auto next = std::make_shared<BayesModel>(options, priors);
    next->model_.set_posterior(weight_concentration, mean_precision, degrees_of_freedom, means, covariances, resolved,
                               lower_bound);
    return next;
  }

  Eigen::VectorXd weights() const { return model_.weights(); }
  RowMatrix<double> means() const { return model_.means(); }
  RowMatrix<double> covariances() const { return stack(model_.covariances()); }
  Eigen::MatrixXd weight_concentration() const { return model_.weight_concentration(); }
  Eigen::VectorXd mean_precision() const { return model_.mean_precision(); }
  Eigen::VectorXd degrees_of_freedom() const { return model_.degrees_of_freedom(); }
  gaussmix::BayesianPriors resolved_priors() const { return model_.resolved_priors(); }
  double lower_bound() const { return model_.lower_bound(); }
  int n_features() const { return model_.n_features(); }

  Eigen::VectorXd score_samples(RowRef<double> X) const {
    py::gil_scoped_release release;
    return model_.score_samples(X);
  }
  Eigen::VectorXi predict(RowRef<double> X) const {
    py::gil_scoped_release release;
    return model_.predict(X);
  }
  Mixture::Responsibilities predict_proba(RowRef<double> X) const {
    py::gil_scoped_release release;
    return model_.predict_proba(X);
  }
  std::pair<RowMatrix<double>, Eigen::VectorXi> sample(Eigen::Index n, std::uint64_t seed) const {
    py::gil_scoped_release release;
    Eigen::VectorXi labels;
    RowMatrix<double> X = model_.sample(n, seed, labels);
    return {std::move(X), std::move(labels)};
  }

 private:
  void take_posterior(const Mixture& other) {
    model_.set_posterior(other.weight_concentration(), other.mean_precision(), other.degrees_of_freedom(),
                         other.means(), other.covariances(), other.resolved_priors(), other.lower_bound());
  }

  Mixture model_;
};

// Streams a raw binary file of float32 or float64 rows through fit_source, fitted in that type.
template <typename FileScalar, typename Scalar>
std::pair<std::shared_ptr<Model<Scalar>>, py::tuple> fit_file(Options options, const std::string& path,
                                                               Eigen::Index n_features, Eigen::Index reservoir_size,
                                                               Eigen::Index buffer_rows, int threads);

template <typename Scalar>
void bind_model(py::module_& m, const char* name) {
  using M = Model<Scalar>;
  py::class_<M, std::shared_ptr<M>>(m, name)
      .def_static("fit", &M::fit, py::arg("options"), py::arg("X").noconvert(), py::arg("sample_weight").noconvert(),
                  py::arg("threads"), py::arg("previous"), py::arg("previous_lower_bound"), py::arg("init"))
      .def_static("from_parameters", &M::from_parameters, py::arg("options"), py::arg("weights"), py::arg("means"),
                  py::arg("covariances"))
      .def_static("partial_fit", &M::partial_fit, py::arg("options"), py::arg("X").noconvert(),
                  py::arg("sample_weight").noconvert(), py::arg("threads"), py::arg("previous"))
      .def("online_state", &M::online_state)
      .def("set_online_state", &M::set_online_state, py::arg("steps"), py::arg("reference"), py::arg("weight"),
           py::arg("first"), py::arg("second"), py::arg("second_diagonal"), py::arg("log_likelihood"),
           py::arg("total_weight"))
      .def("weights", &M::weights)
      .def("means", &M::means)
      .def("covariances", &M::covariances)
      .def("n_parameters", &M::n_parameters)
      .def("n_features", &M::n_features)
      .def("score_samples", &M::score_samples, py::arg("X").noconvert())
      .def("predict", &M::predict, py::arg("X").noconvert())
      .def("predict_proba", &M::predict_proba, py::arg("X").noconvert())
      .def("impute", &M::impute, py::arg("X").noconvert())
      .def("sample", &M::sample, py::arg("n"), py::arg("seed"));
}

// Lower-triangular Cholesky factor L of each covariance and the precision factor L^{-T} (upper),
// by a triangular solve: scikit-learn's precisions_cholesky_ for full and tied covariances.
RowMatrix<double> precision_factors(const RowMatrix<double>& stacked, Eigen::Index d) {
  if (d < 1 || stacked.cols() != d || stacked.rows() % d != 0)
    throw std::invalid_argument("gaussmix: precision_factors: expected a stack of d x d matrices");
  RowMatrix<double> out(stacked.rows(), d);
  for (Eigen::Index k = 0; k < stacked.rows() / d; ++k) {
    Eigen::LLT<Eigen::MatrixXd> llt(Eigen::MatrixXd(stacked.middleRows(k * d, d)));
    if (llt.info() != Eigen::Success)
      throw gaussmix::NumericalError("gaussmix: covariance " + std::to_string(k) + " is not positive definite");
    Eigen::MatrixXd inverse_factor = Eigen::MatrixXd::Identity(d, d);
    llt.matrixL().solveInPlace(inverse_factor);  // L^{-1}
    out.middleRows(k * d, d) = inverse_factor.transpose();
  }
  return out;
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "gaussmix's compiled core; use gaussmix.GaussianMixture";
  m.attr("__version__") = gaussmix::version_string;
#ifdef _OPENMP
  m.attr("openmp") = true;
#else
  m.attr("openmp") = false;
#endif

  // NumericalError is a ValueError, as scikit-learn reports an ill-defined covariance.
  py::register_exception<gaussmix::NumericalError>(m, "NumericalError", PyExc_ValueError);
  // A call in the wrong order (std::logic_error) cannot come from the Python layer, which checks
  // first; it is still mapped so that it never surfaces as a bare RuntimeError.
  static py::exception<std::logic_error> logic_error(m, "LogicError", PyExc_RuntimeError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const std::invalid_argument& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const std::logic_error& e) {
      logic_error(e.what());
    }
  });

  py::enum_<CovarianceType>(m, "CovarianceType")
      .value("Full", CovarianceType::Full)
      .value("Diagonal", CovarianceType::Diagonal)
      .value("Spherical", CovarianceType::Spherical)
      .value("Tied", CovarianceType::Tied);
  py::enum_<gaussmix::InitMethod>(m, "InitMethod")
      .value("KMeans", gaussmix::InitMethod::KMeans)
      .value("KMeansPlusPlus", gaussmix::InitMethod::KMeansPlusPlus)
      .value("Random", gaussmix::InitMethod::Random)
      .value("RandomFromData", gaussmix::InitMethod::RandomFromData);

  py::enum_<gaussmix::MissingValues>(m, "MissingValues")
      .value("Reject", gaussmix::MissingValues::Reject)
      .value("Marginalise", gaussmix::MissingValues::Marginalise);
  py::class_<gaussmix::OnlineOptions>(m, "OnlineOptions")
      .def(py::init<>())
      .def_readwrite("step_decay", &gaussmix::OnlineOptions::step_decay)
      .def_readwrite("step_offset", &gaussmix::OnlineOptions::step_offset)
      .def_readwrite("constant_step", &gaussmix::OnlineOptions::constant_step)
      .def_readwrite("first_batch_n_init", &gaussmix::OnlineOptions::first_batch_n_init)
      .def_readwrite("first_batch_max_iter", &gaussmix::OnlineOptions::first_batch_max_iter);

  py::class_<Options>(m, "Options")
      .def(py::init<>())
      .def_readwrite("n_components", &Options::n_components)
      .def_readwrite("covariance_type", &Options::covariance_type)
      .def_readwrite("tol", &Options::tol)
      .def_readwrite("reg_covar", &Options::reg_covar)
      .def_readwrite("max_iter", &Options::max_iter)
      .def_readwrite("n_init", &Options::n_init)
      .def_readwrite("init_params", &Options::init_params)
      .def_readwrite("seed", &Options::seed)
      .def_readwrite("warm_start", &Options::warm_start)
      .def_readwrite("verbose", &Options::verbose)
      .def_readwrite("verbose_interval", &Options::verbose_interval)
      .def_readwrite("online", &Options::online)
      .def_readwrite("missing", &Options::missing);

  py::class_<InitOverrides>(m, "InitOverrides")
      .def(py::init<>())
      .def_readwrite("weights", &InitOverrides::weights)
      .def_readwrite("means", &InitOverrides::means)
      .def_readwrite("covariances", &InitOverrides::covariances);

  py::enum_<gaussmix::WeightPrior>(m, "WeightPrior")
      .value("DirichletProcess", gaussmix::WeightPrior::DirichletProcess)
      .value("DirichletDistribution", gaussmix::WeightPrior::DirichletDistribution);
  using gaussmix::BayesianPriors;
  py::class_<BayesianPriors>(m, "BayesianPriors")
      .def(py::init<>())
      .def_readwrite("weight_prior", &BayesianPriors::weight_prior)
      .def_readwrite("weight_concentration", &BayesianPriors::weight_concentration)
      .def_readwrite("mean_precision", &BayesianPriors::mean_precision)
      .def_readwrite("mean", &BayesianPriors::mean)
      .def_readwrite("degrees_of_freedom", &BayesianPriors::degrees_of_freedom)
      .def_readwrite("covariance", &BayesianPriors::covariance);

  py::class_<BayesModel, std::shared_ptr<BayesModel>>(m, "BayesModel64")
      .def_static("fit", &BayesModel::fit, py::arg("options"), py::arg("priors"), py::arg("X").noconvert(),
                  py::arg("sample_weight").noconvert(), py::arg("threads"), py::arg("previous"))
      .def_static("initialize", &BayesModel::initialize, py::arg("options"), py::arg("priors"),
                  py::arg("X").noconvert(), py::arg("resp"))
      .def_static("from_posterior", &BayesModel::from_posterior, py::arg("options"), py::arg("priors"),
                  py::arg("weight_concentration"), py::arg("mean_precision"), py::arg("degrees_of_freedom"),
                  py::arg("means"), py::arg("covariances"), py::arg("resolved"), py::arg("lower_bound"))
      .def("weights", &BayesModel::weights)
      .def("means", &BayesModel::means)
      .def("covariances", &BayesModel::covariances)
      .def("weight_concentration", &BayesModel::weight_concentration)
      .def("mean_precision", &BayesModel::mean_precision)
      .def("degrees_of_freedom", &BayesModel::degrees_of_freedom)
      .def("resolved_priors", &BayesModel::resolved_priors)
      .def("lower_bound", &BayesModel::lower_bound)
      .def("n_features", &BayesModel::n_features)
      .def("score_samples", &BayesModel::score_samples, py::arg("X").noconvert())
      .def("predict", &BayesModel::predict, py::arg("X").noconvert())
      .def("predict_proba", &BayesModel::predict_proba, py::arg("X").noconvert())
      .def("sample", &BayesModel::sample, py::arg("n"), py::arg("seed"));

  bind_model<double>(m, "Model64");
  bind_model<float>(m, "Model32");

  m.def("fit_file64", &fit_file<double, double>, py::arg("options"), py::arg("path"), py::arg("n_features"),
        py::arg("reservoir_size"), py::arg("buffer_rows"), py::arg("threads"));
  m.def("fit_file32", &fit_file<float, float>, py::arg("options"), py::arg("path"), py::arg("n_features"),
        py::arg("reservoir_size"), py::arg("buffer_rows"), py::arg("threads"));
  m.def("precision_factors", &precision_factors, py::arg("stacked"), py::arg("d"));

  // For the zero-copy test: the address the library reads, as seen through the same binding.
  m.def(
      "data_address_f64", [](RowRef<double> X) { return reinterpret_cast<std::uintptr_t>(X.data()); },
      py::arg("X").noconvert());
  m.def(
      "data_address_f32", [](RowRef<float> X) { return reinterpret_cast<std::uintptr_t>(X.data()); },
      py::arg("X").noconvert());
}

namespace {
template <typename FileScalar, typename Scalar>
std::pair<std::shared_ptr<Model<Scalar>>, py::tuple> fit_file(Options options, const std::string& path,
                                                               Eigen::Index n_features, Eigen::Index reservoir_size,
                                                               Eigen::Index buffer_rows, int threads) {
  VerboseSink sink(options);
  options.warm_start = false;
  auto next = std::make_shared<Model<Scalar>>(options);
  FitResult result;
  {
    py::gil_scoped_release release;
    ThreadCount scope(threads);
    gaussmix::BinaryFileSource<FileScalar> source(path, n_features);
    if (buffer_rows > 0) source.set_buffer_rows(buffer_rows);
    gaussmix::StreamOptions stream;
    stream.reservoir_size = reservoir_size;
    result = gaussmix::fit_source(next->mixture(), source, stream);
  }
  return {next, fit_result(result)};
}
}  // namespace
