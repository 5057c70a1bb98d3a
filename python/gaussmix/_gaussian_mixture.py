"""gaussmix.GaussianMixture: scikit-learn 1.2's GaussianMixture surface over the C++ library.

The class only translates: scikit-learn's argument names and checks, attribute names and shapes.
Every computation is one call into gaussmix._core with the GIL released. Shared pieces (argument
checks, random_state -> seed, n_jobs -> threads, the attribute layout) are module functions so that
BayesianGaussianMixture, partial_fit and missing values can reuse them."""
import contextlib
import numbers
import os
import warnings

import numpy as np

from . import _core
from ._compat import (
    HAVE_SKLEARN,
    BaseEstimator,
    ConvergenceWarning,
    DensityMixin,
    NotFittedError,
    _check_sample_weight,
    check_array_numpy,
    check_is_fitted,
    check_random_state,
)

COVARIANCE_TYPES = {
    "full": _core.CovarianceType.Full,
    "tied": _core.CovarianceType.Tied,
    "diag": _core.CovarianceType.Diagonal,
    "spherical": _core.CovarianceType.Spherical,
}
INIT_METHODS = {
    "kmeans": _core.InitMethod.KMeans,
    "k-means++": _core.InitMethod.KMeansPlusPlus,
    "random": _core.InitMethod.Random,
    "random_from_data": _core.InitMethod.RandomFromData,
}
# The constructor's missing= values -> Options::missing.
MISSING_VALUES = {"reject": _core.MissingValues.Reject, "marginalise": _core.MissingValues.Marginalise}
# scikit-learn's message for a covariance that is not positive definite.
ESTIMATE_PRECISION_ERROR = (
    "Fitting the mixture model failed because some components have ill-defined empirical covariance (for instance "
    "caused by singleton or collapsed samples). Try to decrease the number of components, or increase reg_covar."
)
_MODEL_CLASSES = {np.dtype(np.float64): _core.Model64, np.dtype(np.float32): _core.Model32}


# --- shared helpers ------------------------------------------------------------------------------


def seed_from_random_state(random_state):
    """The library's 64-bit seed (Options::seed) for a scikit-learn random_state.

    An int n >= 0 is the seed itself, so random_state=42 fits as the C++ Options::seed = 42 does.
    None (numpy's global RandomState) or a RandomState instance: two 32-bit words drawn from it,
    high word first, which advances that generator as a scikit-learn fit would."""
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if not 0 <= random_state < 2**64:
            raise ValueError(f"random_state must be in [0, 2**64), got {random_state}")
        return int(random_state)
    rng = check_random_state(random_state)
    high, low = rng.randint(0, 2**32, size=2, dtype=np.uint64)
    return (int(high) << 32) | int(low)


def threads_from_n_jobs(n_jobs):
    """OpenMP threads for joblib's n_jobs convention: None -> 1, -1 -> all CPUs, -2 -> all but one."""
    if n_jobs is None:
        return 1
    if not isinstance(n_jobs, numbers.Integral) or isinstance(n_jobs, bool) or n_jobs == 0:
        raise ValueError(f"n_jobs must be None or a non-zero int, got {n_jobs!r}")
    if n_jobs > 0:
        return int(n_jobs)
    return max(1, (os.cpu_count() or 1) + 1 + int(n_jobs))


def c_array(X):
    """X as a C-contiguous array of its own dtype: a no-op (no copy) when it already is one."""
    return X if X.flags.c_contiguous else np.ascontiguousarray(X)


def _interval_error(estimator, name, value, rule):
    return ValueError(f"The '{name}' parameter of {type(estimator).__name__} must be {rule}. Got {value!r} instead.")


def check_common_params(estimator):
    """The checks of scikit-learn 1.2's _parameter_constraints for the mixture base class, with its
    messages (used with and without scikit-learn, so both modes raise the same ValueError)."""
    p = estimator

    def integral(v):
        return isinstance(v, numbers.Integral) and not isinstance(v, bool)

    def real(v):
        return isinstance(v, numbers.Real) and not isinstance(v, bool)

    if not (integral(p.n_components) and p.n_components >= 1):
        raise _interval_error(p, "n_components", p.n_components, "an int in the range [1, inf)")
    if not (real(p.tol) and p.tol >= 0):
        raise _interval_error(p, "tol", p.tol, "a float in the range [0.0, inf)")
    if not (real(p.reg_covar) and p.reg_covar >= 0):
        raise _interval_error(p, "reg_covar", p.reg_covar, "a float in the range [0.0, inf)")
    if not (integral(p.max_iter) and p.max_iter >= 0):
        raise _interval_error(p, "max_iter", p.max_iter, "an int in the range [0, inf)")
    if not (integral(p.n_init) and p.n_init >= 1):
        raise _interval_error(p, "n_init", p.n_init, "an int in the range [1, inf)")
    if not isinstance(p.init_params, str) or p.init_params not in INIT_METHODS:
        raise _interval_error(p, "init_params", p.init_params, f"a str among {sorted(INIT_METHODS)}")
    if not isinstance(p.covariance_type, str) or p.covariance_type not in COVARIANCE_TYPES:
        raise _interval_error(p, "covariance_type", p.covariance_type, f"a str among {sorted(COVARIANCE_TYPES)}")
    if not isinstance(p.warm_start, (bool, np.bool_)):
        raise _interval_error(p, "warm_start", p.warm_start, "an instance of 'bool'")
    if not (integral(p.verbose) or isinstance(p.verbose, (bool, np.bool_))) or p.verbose < 0:
        raise _interval_error(p, "verbose", p.verbose, "an int in the range [0, inf) or a bool")
    if not (integral(p.verbose_interval) and p.verbose_interval >= 1):
        raise _interval_error(p, "verbose_interval", p.verbose_interval, "an int in the range [1, inf)")
    if not (
        p.random_state is None
        or (integral(p.random_state))
        or isinstance(p.random_state, np.random.RandomState)
    ):
        raise _interval_error(p, "random_state", p.random_state, "an int, an instance of 'numpy.random.mtrand.RandomState' or None")
    threads_from_n_jobs(p.n_jobs)


def check_online_params(estimator):
    """The checks of GaussianMixture's partial_fit settings (learning_decay, learning_offset,
    learning_rate, first_batch_n_init, first_batch_max_iter), in scikit-learn's words."""
    p = estimator

    def real(v):
        return isinstance(v, numbers.Real) and not isinstance(v, bool)

    def integral(v):
        return isinstance(v, numbers.Integral) and not isinstance(v, bool)

    if not (real(p.learning_decay) and 0.5 < p.learning_decay <= 1):
        raise _interval_error(p, "learning_decay", p.learning_decay, "a float in the range (0.5, 1.0]")
    if not (real(p.learning_offset) and 0 <= p.learning_offset < float("inf")):
        raise _interval_error(p, "learning_offset", p.learning_offset, "a float in the range [0.0, inf)")
    if not (p.learning_rate is None or (real(p.learning_rate) and 0 < p.learning_rate <= 1)):
        raise _interval_error(p, "learning_rate", p.learning_rate, "a float in the range (0.0, 1.0] or None")
    if not (p.first_batch_n_init is None or (integral(p.first_batch_n_init) and p.first_batch_n_init >= 1)):
        raise _interval_error(p, "first_batch_n_init", p.first_batch_n_init, "an int in the range [1, inf) or None")
    if not (integral(p.first_batch_max_iter) and p.first_batch_max_iter >= 1):
        raise _interval_error(p, "first_batch_max_iter", p.first_batch_max_iter, "an int in the range [1, inf)")


def check_missing_param(estimator):
    if not isinstance(estimator.missing, str) or estimator.missing not in MISSING_VALUES:
        raise _interval_error(estimator, "missing", estimator.missing, f"a str among {sorted(MISSING_VALUES)}")


def online_options(estimator, options):
    """Sets options.online (Options::online, partial_fit's step sizes) from the estimator's arguments."""
    online = options.online
    online.step_decay = float(estimator.learning_decay)
    online.step_offset = float(estimator.learning_offset)
    online.constant_step = None if estimator.learning_rate is None else float(estimator.learning_rate)
    online.first_batch_n_init = 0 if estimator.first_batch_n_init is None else int(estimator.first_batch_n_init)
    online.first_batch_max_iter = int(estimator.first_batch_max_iter)
    return options


def base_options(estimator, seed):
    """_core.Options from the common constructor arguments."""
    o = _core.Options()
    o.n_components = int(estimator.n_components)
    o.covariance_type = COVARIANCE_TYPES[estimator.covariance_type]
    o.tol = float(estimator.tol)
    o.reg_covar = float(estimator.reg_covar)
    o.max_iter = int(estimator.max_iter)
    o.n_init = int(estimator.n_init)
    o.init_params = INIT_METHODS[estimator.init_params]
    o.seed = seed
    o.warm_start = bool(estimator.warm_start)
    o.verbose = int(estimator.verbose)
    o.verbose_interval = int(estimator.verbose_interval)
    return o


def covariances_to_sklearn(stack, covariance_type):
    """(K, d, d) dense covariances -> scikit-learn's covariances_ shape for the type."""
    if covariance_type == "full":
        return stack
    if covariance_type == "tied":
        return stack[0].copy()
    if covariance_type == "diag":
        return np.ascontiguousarray(np.einsum("kii->ki", stack))
    return stack[:, 0, 0].copy()


def covariances_to_dense(covariances, covariance_type, n_components, n_features):
    """scikit-learn's covariances_ shape -> list of K dense d x d float64 matrices."""
    c = np.asarray(covariances, dtype=np.float64)
    if covariance_type == "full":
        return [np.ascontiguousarray(m) for m in c]
    if covariance_type == "tied":
        return [c] * n_components
    if covariance_type == "diag":
        return [np.diag(row) for row in c]
    return [np.eye(n_features) * v for v in c]


def precisions_cholesky_from(covariances, covariance_type):
    """scikit-learn's precisions_cholesky_ from covariances_: L^{-T} with L L^T = covariance for
    full and tied (Cholesky factor and a triangular solve, never an inverse), 1/sqrt otherwise."""
    c = np.asarray(covariances, dtype=np.float64)
    if covariance_type == "full":
        K, d, _ = c.shape
        return _core.precision_factors(np.ascontiguousarray(c.reshape(K * d, d)), d).reshape(K, d, d)
    if covariance_type == "tied":
        return _core.precision_factors(np.ascontiguousarray(c), c.shape[0])
    return 1.0 / np.sqrt(c)


def precisions_from_cholesky(prec_chol, covariance_type):
    if covariance_type == "full":
        return np.einsum("kij,klj->kil", prec_chol, prec_chol)
    if covariance_type == "tied":
        return prec_chol @ prec_chol.T
    return prec_chol**2


def covariances_from_precisions(precisions, covariance_type, n_components, n_features):
    """K dense covariances from scikit-learn's precisions_init: through the Cholesky factor C of
    each precision (C C^T = P gives Sigma = C^{-T} C^{-1} = R R^T with R = C^{-T})."""
    p = np.asarray(precisions, dtype=np.float64)
    if covariance_type in ("full", "tied"):
        stack = p if covariance_type == "full" else p[np.newaxis]
        k, d, _ = stack.shape
        R = _core.precision_factors(np.ascontiguousarray(stack.reshape(k * d, d)), d).reshape(k, d, d)
        covs = [r @ r.T for r in R]
        return covs * n_components if covariance_type == "tied" else covs
    return covariances_to_dense(1.0 / p, covariance_type, n_components, n_features)


@contextlib.contextmanager
def precision_error_as_sklearn():
    """A covariance that is not positive definite: scikit-learn's sentence first (so code matching
    its message still matches), then gaussmix's naming the component."""
    try:
        yield
    except _core.NumericalError as error:
        if "positive definite" not in str(error):
            raise
        raise _core.NumericalError(f"{ESTIMATE_PRECISION_ERROR} ({error})") from None


def _check_shape(param, shape, name):
    if param.shape != shape:
        raise ValueError(f"The parameter '{name}' should have the shape of {shape}, but got {param.shape}")


def check_initial_values(estimator, n_features):
    """weights_init / means_init / precisions_init checked as scikit-learn does (same messages);
    returns a _core.InitOverrides with the precisions turned into covariances."""
    K = estimator.n_components
    init = _core.InitOverrides()
    if estimator.weights_init is not None:
        w = np.asarray(estimator.weights_init, dtype=np.float64)
        _check_shape(w, (K,), "weights")
        if w.min() < 0.0 or w.max() > 1.0:
            # Word for word scikit-learn 1.2's message, which prints the minimum first.
            raise ValueError(
                "The parameter 'weights' should be in the range [0, 1], but got max value %.5f, min value %.5f"
                % (w.min(), w.max())
            )
        if not np.allclose(np.abs(1.0 - np.sum(w)), 0.0):
            raise ValueError("The parameter 'weights' should be normalized, but got sum(weights) = %.5f" % np.sum(w))
        init.weights = w
    if estimator.means_init is not None:
        m = np.asarray(estimator.means_init, dtype=np.float64)
        _check_shape(m, (K, n_features), "means")
        init.means = m
    if estimator.precisions_init is not None:
        p = np.asarray(estimator.precisions_init, dtype=np.float64)
        shapes = {
            "full": (K, n_features, n_features),
            "tied": (n_features, n_features),
            "diag": (K, n_features),
            "spherical": (K,),
        }
        ct = estimator.covariance_type
        _check_shape(p, shapes[ct], "%s precision" % ct)
        if ct in ("full", "tied"):
            for m in p if ct == "full" else [p]:
                if not np.allclose(m, m.T) or np.any(np.linalg.eigvalsh(m) <= 0.0):
                    raise ValueError("'%s precision' should be symmetric, positive-definite" % ct)
        elif np.any(np.less_equal(p, 0.0)):
            raise ValueError("'%s precision' should be positive" % ct)
        init.covariances = covariances_from_precisions(p, ct, K, n_features)
    return init


# --- the estimator -------------------------------------------------------------------------------


def common_constraints():
    """scikit-learn 1.2's _parameter_constraints of its mixture base class, plus n_jobs (gaussmix):
    what GaussianMixture and BayesianGaussianMixture share. ImportError without _param_validation."""
    from numbers import Integral, Real

    from sklearn.utils._param_validation import Interval, StrOptions

    return {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0.0, None, closed="left")],
        "reg_covar": [Interval(Real, 0.0, None, closed="left")],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "init_params": [StrOptions(set(INIT_METHODS))],
        "random_state": ["random_state"],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
        "verbose_interval": [Interval(Integral, 1, None, closed="left")],
        "covariance_type": [StrOptions(set(COVARIANCE_TYPES))],
        "n_jobs": [Integral, None],
    }


class MixtureBase(DensityMixin, BaseEstimator):
    """What GaussianMixture and BayesianGaussianMixture share: the checks of X, fit / fit_predict
    around the subclass's _fit, the scoring methods and their fast path, sample, the point-parameter
    attributes (weights_, means_, covariances_, precisions_*, converged_, n_iter_, lower_bound_) and
    pickling. A subclass gives _check_params, _fit and _core_model (the C++ model behind its
    attributes, rebuilt from them after unpickling)."""

    # --- input checks ---

    def _check_X(self, X, *, reset, ensure_min_samples=1, allow_nan=None):
        """X as scikit-learn checks it (feature names, n_features_in_, finiteness), float64 or float32.

        allow_nan: NaN passes (as missing values; Inf still fails); None: when missing="marginalise"."""
        if allow_nan is None:
            allow_nan = getattr(self, "missing", "reject") == "marginalise"
        if HAVE_SKLEARN:
            X = self._validate_data(
                X,
                dtype=[np.float64, np.float32],
                ensure_min_samples=ensure_min_samples,
                reset=reset,
                force_all_finite="allow-nan" if allow_nan else True,
            )
        else:
            X = check_array_numpy(X, ensure_min_samples=ensure_min_samples, allow_nan=allow_nan)
            if reset:
                self.n_features_in_ = X.shape[1]
            elif X.shape[1] != self.n_features_in_:
                raise ValueError(
                    f"X has {X.shape[1]} features, but {type(self).__name__} is expecting "
                    f"{self.n_features_in_} features as input."
                )
        return X

    def _is_fitted(self):
        return hasattr(self, "converged_")

    def _scoring_input(self, X):
        """Checks fitted state and X; returns (core model, C-contiguous X in the model's dtype)."""
        check_is_fitted(self)
        X = self._check_X(X, reset=False)
        dtype = self.means_.dtype
        X = c_array(X if X.dtype == dtype else X.astype(dtype))
        return self._core_model(), X

    def _fast_model(self, X):
        """The C++ model when X can go to it as is, else None (then _scoring_input checks X).

        The fast path of predict & c. on small data, where scikit-learn's generic checks would cost
        several times the computation: X is a plain numpy array, 2-D, C-contiguous, of the model's
        dtype, with at least one row and n_features_in_ columns; the model was fitted without feature
        names (else scikit-learn's warnings apply) and its C++ model is current. Finiteness is left
        to the C++ call, which checks every value; on any ValueError from it the caller goes the
        slow way, so bad input still gets scikit-learn's message."""
        if type(X) is not np.ndarray:
            return None
        state = self.__dict__
        cached = state.get("_gaussmix_core")
        if cached is None or "feature_names_in_" in state:
            return None
        means = state.get("means_")
        if (
            cached[0] != (id(state.get("weights_")), id(means), id(state.get("covariances_")))
            or X.ndim != 2
            or X.dtype != means.dtype
            or X.shape[0] == 0
            or X.shape[1] != state.get("n_features_in_")
            or not X.flags.c_contiguous
        ):
            return None
        return cached[1]

    def _score_call(self, method, X):
        """_core model `method` on X: the fast path when X qualifies (_fast_model), else the full
        checks first. A ValueError on the fast path (NaN or Inf in X, or the library's own checks)
        repeats the call the slow way, which raises scikit-learn's error for bad input."""
        model = self._fast_model(X)
        if model is not None:
            try:
                return getattr(model, method)(X)
            except ValueError:
                pass
        model, X = self._scoring_input(X)
        return getattr(model, method)(X)

    def _set_fitted(self, model, result, dtype):
        """Fitted attributes from a C++ model and its FitResult tuple."""
        converged, n_iter, lower_bound, _history = result
        K = self.n_components
        d = model.n_features()
        stack = np.asarray(model.covariances()).reshape(K, d, d)
        self.weights_ = np.asarray(model.weights(), dtype=dtype)
        self.means_ = np.asarray(model.means())
        self.covariances_ = covariances_to_sklearn(stack, self.covariance_type)
        prec_chol = precisions_cholesky_from(
            covariances_to_sklearn(stack.astype(np.float64), self.covariance_type), self.covariance_type
        )
        self.precisions_cholesky_ = prec_chol.astype(dtype, copy=False)
        self.precisions_ = precisions_from_cholesky(prec_chol, self.covariance_type).astype(dtype, copy=False)
        self.converged_ = bool(converged)
        self.n_iter_ = int(n_iter)
        self.lower_bound_ = float(lower_bound)
        self.__dict__.pop("_gaussmix_online", None)
        self.__dict__["_gaussmix_core"] = ((id(self.weights_), id(self.means_), id(self.covariances_)), model)

    def __getstate__(self):
        state = super().__getstate__() if hasattr(super(), "__getstate__") else self.__dict__.copy()
        state = dict(state)
        cached = state.pop("_gaussmix_core", None)  # rebuilt from the fitted attributes on first use
        if cached is not None and cached[0] == (id(self.weights_), id(self.means_), id(self.covariances_)):
            self._save_model_state(state, cached[1])
        return state

    def _save_model_state(self, state, model):
        """Adds to a pickled state what the fitted attributes do not hold (a subclass hook)."""

    # --- fitting ---

    def fit(self, X, y=None, sample_weight=None):
        """Fits the mixture by EM (``n_init`` runs, the best lower bound kept).

        sample_weight: optional non-negative weight per row (a weight of 2 counts a row twice)."""
        self._fit(X, sample_weight)
        return self

    def fit_predict(self, X, y=None, sample_weight=None):
        """Fits, then returns the most probable component of each row of X."""
        self._fit(X, sample_weight)
        return self.predict(X)

    def score_samples(self, X):
        """Log density log p(x) of each row of X (n,)."""
        return self._score_call("score_samples", X)

    def score(self, X, y=None):
        """Mean log density per row of X."""
        log_density = self.score_samples(X)
        # What ndarray.mean computes (numpy's _mean: the pairwise sum, divided, in the array's
        # type), without its ~5 us of generic handling.
        total = np.add.reduce(log_density)
        return total.dtype.type(total / log_density.shape[0])

    def predict(self, X):
        """Most probable component of each row of X (n,)."""
        return self._score_call("predict", X).astype(np.int64, copy=False)

    def predict_proba(self, X):
        """Posterior probability of each component for each row of X (n, n_components)."""
        return self._score_call("predict_proba", X)

    def sample(self, n_samples=1):
        """n_samples rows drawn from the mixture, grouped by component as scikit-learn returns them;
        returns (X, y). The draw is seeded from random_state (see seed_from_random_state)."""
        check_is_fitted(self)
        if not isinstance(n_samples, numbers.Integral) or n_samples < 1:
            raise ValueError(
                "Invalid value for 'n_samples': %d . The sampling requires at least one sample." % n_samples
            )
        X, labels = self._core_model().sample(int(n_samples), seed_from_random_state(self.random_state))
        order = np.argsort(labels, kind="stable")
        return X[order], labels[order].astype(np.int64, copy=False)

    def _warn_not_converged(self, warm):
        if not self.converged_ and self.max_iter > 0:
            warnings.warn(
                "Initialization %d did not converge. Try different init parameters, or increase max_iter, "
                "tol or check for degenerate data." % (1 if warm else self.n_init),
                ConvergenceWarning,
            )


class GaussianMixture(MixtureBase):
    """Gaussian mixture fitted by EM: scikit-learn 1.2's ``sklearn.mixture.GaussianMixture``, computed
    by the gaussmix C++ library. Same constructor arguments, methods and fitted attributes; in
    addition ``sample_weight`` in :meth:`fit`, ``n_jobs`` (OpenMP threads; results are bit-identical
    for any count) and float32 input fitted in float32. See docs/python.md."""

    if HAVE_SKLEARN:
        try:  # scikit-learn's own checks and messages; check_common_params repeats them without it
            from numbers import Integral, Real

            from sklearn.utils._param_validation import Interval, StrOptions

            _parameter_constraints = {
                **common_constraints(),
                "weights_init": ["array-like", None],
                "means_init": ["array-like", None],
                "precisions_init": ["array-like", None],
                "learning_decay": [Interval(Real, 0.5, 1.0, closed="right")],
                "learning_offset": [Interval(Real, 0.0, None, closed="left")],
                "learning_rate": [Interval(Real, 0.0, 1.0, closed="right"), None],
                "first_batch_n_init": [Interval(Integral, 1, None, closed="left"), None],
                "first_batch_max_iter": [Interval(Integral, 1, None, closed="left")],
                "missing": [StrOptions(set(MISSING_VALUES))],
            }
            del Integral, Real, Interval, StrOptions
        except ImportError:  # a scikit-learn without _param_validation
            pass

    def __init__(
        self,
        n_components=1,
        *,
        covariance_type="full",
        tol=1e-3,
        reg_covar=1e-6,
        max_iter=100,
        n_init=1,
        init_params="kmeans",
        weights_init=None,
        means_init=None,
        precisions_init=None,
        random_state=None,
        warm_start=False,
        verbose=0,
        verbose_interval=10,
        n_jobs=None,
        learning_decay=0.6,
        learning_offset=2.0,
        learning_rate=None,
        first_batch_n_init=None,
        first_batch_max_iter=3,
        missing="reject",
    ):
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.tol = tol
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.weights_init = weights_init
        self.means_init = means_init
        self.precisions_init = precisions_init
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.verbose_interval = verbose_interval
        self.n_jobs = n_jobs
        self.learning_decay = learning_decay
        self.learning_offset = learning_offset
        self.learning_rate = learning_rate
        self.first_batch_n_init = first_batch_n_init
        self.first_batch_max_iter = first_batch_max_iter
        self.missing = missing

    def _check_params(self):
        if HAVE_SKLEARN and hasattr(self, "_parameter_constraints"):
            # scikit-learn's _validate_params costs ~0.3 ms a fit (a signature inspection, constraint
            # objects): skipped when the cheaper check_common_params accepts parameters that
            # scikit-learn surely accepts too; otherwise it runs first, for its error and message.
            if self._sklearn_surely_accepts():
                try:
                    check_common_params(self)
                    check_online_params(self)
                    check_missing_param(self)
                    return
                except ValueError:
                    pass
            self._validate_params()
        check_common_params(self)
        check_online_params(self)
        check_missing_param(self)

    def _options(self, seed):
        """_core.Options from every constructor argument."""
        options = online_options(self, base_options(self, seed))
        options.missing = MISSING_VALUES[self.missing]
        return options

    def _sklearn_surely_accepts(self):
        """Whether _parameter_constraints accept the parameters that check_common_params does not
        look at or accepts more widely than scikit-learn: random_state (scikit-learn: [0, 2**32 - 1])
        and the *_init arrays. check_common_params is stricter than the constraints in every other
        parameter. Only for this class: a subclass may have other parameters or constraints."""
        if type(self) is not GaussianMixture:
            return False
        rs = self.random_state
        if not (rs is None or isinstance(rs, np.random.RandomState) or (type(rs) is int and 0 <= rs < 2**32)):
            return False
        return all(v is None or type(v) in (np.ndarray, list, tuple) for v in
                   (self.weights_init, self.means_init, self.precisions_init))

    def _core_model(self):
        """The C++ model behind the fitted attributes; rebuilt from them after unpickling or when
        weights_ / means_ / covariances_ were replaced by hand."""
        key = (id(self.weights_), id(self.means_), id(self.covariances_))
        cached = self.__dict__.get("_gaussmix_core")
        if cached is not None and cached[0] == key:
            return cached[1]
        d = self.means_.shape[1]
        options = self._options(0)
        model_class = _MODEL_CLASSES[np.dtype(self.means_.dtype)]
        model = model_class.from_parameters(
            options,
            np.asarray(self.weights_, dtype=np.float64),
            np.asarray(self.means_, dtype=np.float64),
            covariances_to_dense(self.covariances_, self.covariance_type, self.n_components, d),
        )
        # partial_fit's running statistics, saved by __getstate__: the stream continues where it was.
        online = self.__dict__.pop("_gaussmix_online", None)
        if online is not None:
            model.set_online_state(*online)
        self.__dict__["_gaussmix_core"] = (key, model)
        return model

    def partial_fit(self, X, y=None, sample_weight=None):
        """One online (stepwise) EM update from the batch X (gaussmix only).

        The batch's statistics under the current parameters are blended into running statistics,
        s <- (1 - rho_t) s + rho_t s_batch, then the M-step is taken from s; rho_t =
        (t + learning_offset) ** -learning_decay, or learning_rate for every update when it is set.
        On an unfitted estimator the first call initialises: it equals fit(X) with
        n_init=first_batch_n_init (None: n_init if > 1, else 16) and max_iter=first_batch_max_iter.
        After fit (or unpickling a fitted estimator without running statistics) the next call has
        nothing to blend and equals one EM iteration on X. Sets lower_bound_ to the batch's mean
        log-likelihood under the parameters before the update, n_iter_ to 1 (the first call: fit's).
        Every batch must have n_features_in_ columns; X is converted to the fitted dtype."""
        self._check_params()
        first = not self._is_fitted()
        X = self._check_X(X, reset=first)
        n, d = X.shape
        if first and n < self.n_components:
            raise ValueError(
                "Expected n_samples >= n_components but got n_components = %d, n_samples = %d"
                % (self.n_components, n)
            )
        weights = None
        if sample_weight is not None:
            weights = c_array(_check_sample_weight(sample_weight, X, dtype=np.float64).astype(np.float64, copy=False))
        if first:
            previous = None
            seed = seed_from_random_state(self.random_state)
        else:
            previous = self._core_model()
            seed = 0  # a model with parameters draws nothing
            if X.dtype != self.means_.dtype:
                X = X.astype(self.means_.dtype)
        X = c_array(X)
        model_class = _MODEL_CLASSES[X.dtype]
        with precision_error_as_sklearn():
            model, result = model_class.partial_fit(
                self._options(seed), X, weights, threads_from_n_jobs(self.n_jobs), previous
            )
        self._set_fitted(model, result, X.dtype)
        return self

    def _fit(self, X, sample_weight):
        self._check_params()
        X = self._check_X(X, reset=True, ensure_min_samples=2)
        n, d = X.shape
        if n < self.n_components:
            raise ValueError(
                "Expected n_samples >= n_components but got n_components = %d, n_samples = %d"
                % (self.n_components, n)
            )
        init = check_initial_values(self, d)
        weights = None
        if sample_weight is not None:
            weights = c_array(_check_sample_weight(sample_weight, X, dtype=np.float64).astype(np.float64, copy=False))
        X = c_array(X)
        model_class = _MODEL_CLASSES[X.dtype]
        previous = None
        warm = self.warm_start and self._is_fitted()
        if warm:
            previous = self._core_model()
            if not isinstance(previous, model_class):  # warm start across dtypes: same parameters
                previous = model_class.from_parameters(
                    base_options(self, 0),
                    np.asarray(self.weights_, dtype=np.float64),
                    np.asarray(self.means_, dtype=np.float64),
                    covariances_to_dense(self.covariances_, self.covariance_type, self.n_components, d),
                )
        options = self._options(seed_from_random_state(self.random_state))
        previous_lower_bound = self.lower_bound_ if warm else float("nan")
        with precision_error_as_sklearn():
            model, result = model_class.fit(
                options, X, weights, threads_from_n_jobs(self.n_jobs), previous, previous_lower_bound, init
            )
        self._set_fitted(model, result, X.dtype)
        self._warn_not_converged(warm)
        return self

    def impute(self, X):
        """X with each NaN replaced by its conditional expectation given the row's observed entries
        under the fitted mixture, sum_k r_ik (mu_k,m + Sigma_k,mo Sigma_k,oo^-1 (x_o - mu_k,o)) with
        r_ik the posterior given x_o (gaussmix only). Other entries are returned as they are, in a new
        array of the model's dtype. NaN is accepted whatever ``missing`` (a model fitted on complete
        data imputes too); Inf and rows with every entry NaN raise ValueError."""
        check_is_fitted(self)
        X = self._check_X(X, reset=False, allow_nan=True)
        dtype = self.means_.dtype
        X = c_array(X if X.dtype == dtype else X.astype(dtype))
        return self._core_model().impute(X)

    def _n_parameters(self):
        """Free parameters of the model (scikit-learn's private name, used by bic and aic)."""
        return self._core_model().n_parameters()

    def bic(self, X):
        """Bayesian information criterion on X (lower is better)."""
        return -2 * self.score(X) * X.shape[0] + self._n_parameters() * np.log(X.shape[0])

    def aic(self, X):
        """Akaike information criterion on X (lower is better)."""
        return -2 * self.score(X) * X.shape[0] + 2 * self._n_parameters()

    def _more_tags(self):
        return {"preserves_dtype": [np.float64, np.float32], "allow_nan": self.missing == "marginalise"}

    def _save_model_state(self, state, model):
        online = model.online_state()  # partial_fit's running statistics, if any
        if online is not None:
            state["_gaussmix_online"] = online
