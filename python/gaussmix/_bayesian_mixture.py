"""gaussmix.BayesianGaussianMixture: scikit-learn 1.2's BayesianGaussianMixture over the C++ library's
variational mixture (gaussmix::BayesianGaussianMixture<double>).

It shares GaussianMixture's base class (MixtureBase: input checks, scoring, sample, pickling) and
module helpers; only the priors, the posterior attributes and the C++ calls are its own. Computed in
float64 only: float32 input is converted once (one compiled instance instead of two)."""
import numbers

import numpy as np

from . import _core
from ._compat import HAVE_SKLEARN, _check_sample_weight
from ._gaussian_mixture import (
    MixtureBase,
    _check_shape,
    _interval_error,
    base_options,
    c_array,
    check_common_params,
    common_constraints,
    covariances_to_dense,
    precision_error_as_sklearn,
    seed_from_random_state,
    threads_from_n_jobs,
)

WEIGHT_PRIORS = {
    "dirichlet_process": _core.WeightPrior.DirichletProcess,
    "dirichlet_distribution": _core.WeightPrior.DirichletDistribution,
}


def check_bayesian_params(estimator):
    """The checks of scikit-learn 1.2's BayesianGaussianMixture._parameter_constraints for its own
    arguments, with its messages (with and without scikit-learn)."""
    p = estimator

    def positive(v):
        return isinstance(v, numbers.Real) and not isinstance(v, bool) and v > 0

    if not isinstance(p.weight_concentration_prior_type, str) or p.weight_concentration_prior_type not in WEIGHT_PRIORS:
        raise _interval_error(p, "weight_concentration_prior_type", p.weight_concentration_prior_type,
                              f"a str among {sorted(WEIGHT_PRIORS)}")
    for name in ("weight_concentration_prior", "mean_precision_prior", "degrees_of_freedom_prior"):
        value = getattr(p, name)
        if not (value is None or positive(value)):
            raise _interval_error(p, name, value, "None or a float in the range (0.0, inf)")
    if isinstance(p.covariance_prior, numbers.Real) and not positive(p.covariance_prior):
        raise _interval_error(p, "covariance_prior", p.covariance_prior,
                              "None, an array-like or a float in the range (0.0, inf)")


class BayesianGaussianMixture(MixtureBase):
    """Variational Bayesian Gaussian mixture: scikit-learn 1.2's
    ``sklearn.mixture.BayesianGaussianMixture``, computed by the gaussmix C++ library. Same
    constructor arguments, methods and fitted attributes; in addition ``sample_weight`` in
    :meth:`fit` (frequency weights) and ``n_jobs`` (OpenMP threads, bit-identical results). Fitted
    in float64 whatever the input's dtype (float32 input is converted once). See docs/python.md."""

    if HAVE_SKLEARN:
        try:
            from numbers import Real

            from sklearn.utils._param_validation import Interval, StrOptions

            _parameter_constraints = {
                **common_constraints(),
                "weight_concentration_prior_type": [StrOptions(set(WEIGHT_PRIORS))],
                "weight_concentration_prior": [None, Interval(Real, 0.0, None, closed="neither")],
                "mean_precision_prior": [None, Interval(Real, 0.0, None, closed="neither")],
                "mean_prior": [None, "array-like"],
                "degrees_of_freedom_prior": [None, Interval(Real, 0.0, None, closed="neither")],
                "covariance_prior": [None, "array-like", Interval(Real, 0.0, None, closed="neither")],
            }
            del Real, Interval, StrOptions
        except ImportError:
            pass

    def __init__(
        self,
        *,
        n_components=1,
        covariance_type="full",
        tol=1e-3,
        reg_covar=1e-6,
        max_iter=100,
        n_init=1,
        init_params="kmeans",
        weight_concentration_prior_type="dirichlet_process",
        weight_concentration_prior=None,
        mean_precision_prior=None,
        mean_prior=None,
        degrees_of_freedom_prior=None,
        covariance_prior=None,
        random_state=None,
        warm_start=False,
        verbose=0,
        verbose_interval=10,
        n_jobs=None,
    ):
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.tol = tol
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.weight_concentration_prior_type = weight_concentration_prior_type
        self.weight_concentration_prior = weight_concentration_prior
        self.mean_precision_prior = mean_precision_prior
        self.mean_prior = mean_prior
        self.degrees_of_freedom_prior = degrees_of_freedom_prior
        self.covariance_prior = covariance_prior
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.verbose_interval = verbose_interval
        self.n_jobs = n_jobs

    # --- arguments ---

    def _check_params(self):
        if HAVE_SKLEARN and hasattr(self, "_parameter_constraints"):
            self._validate_params()
        check_common_params(self)
        check_bayesian_params(self)
        if self.max_iter == 0:
            raise ValueError(
                "gaussmix: BayesianGaussianMixture needs max_iter >= 1 (max_iter=0, the initial posterior "
                "alone, is GaussianMixture only)"
            )

    def _options(self, seed):
        return base_options(self, seed)

    def _priors(self, n_features):
        """_core.BayesianPriors from the constructor's prior arguments, checked against d with
        scikit-learn's messages (None: the library resolves scikit-learn's default from X)."""
        d = n_features
        q = _core.BayesianPriors()
        q.weight_prior = WEIGHT_PRIORS[self.weight_concentration_prior_type]
        if self.weight_concentration_prior is not None:
            q.weight_concentration = float(self.weight_concentration_prior)
        if self.mean_precision_prior is not None:
            q.mean_precision = float(self.mean_precision_prior)
        if self.mean_prior is not None:
            mean = np.asarray(self.mean_prior, dtype=np.float64)
            _check_shape(mean, (d,), "means")
            q.mean = mean
        if self.degrees_of_freedom_prior is not None:
            if not self.degrees_of_freedom_prior > d - 1.0:
                raise ValueError(
                    "The parameter 'degrees_of_freedom_prior' should be greater than %d, but got %.3f."
                    % (d - 1, self.degrees_of_freedom_prior)
                )
            q.degrees_of_freedom = float(self.degrees_of_freedom_prior)
        if self.covariance_prior is not None:
            ct = self.covariance_type
            if ct == "spherical":
                q.covariance = np.eye(d) * float(self.covariance_prior)
            else:
                c = np.asarray(self.covariance_prior, dtype=np.float64)
                _check_shape(c, (d, d) if ct in ("full", "tied") else (d,), "%s covariance_prior" % ct)
                if ct == "diag":
                    if np.any(c <= 0):
                        raise ValueError("'diag covariance_prior' should be positive")
                    c = np.diag(c)
                elif not np.allclose(c, c.T) or np.any(np.linalg.eigvalsh(c) <= 0.0):
                    raise ValueError("'%s covariance_prior' should be symmetric, positive-definite" % ct)
                q.covariance = c
        return q

    # --- fitting ---

    def _fit(self, X, sample_weight):
        self._check_params()
        X = self._check_X(X, reset=True, ensure_min_samples=2)
        n, d = X.shape
        if n < self.n_components:
            raise ValueError(
                "Expected n_samples >= n_components but got n_components = %d, n_samples = %d"
                % (self.n_components, n)
            )
        priors = self._priors(d)
        weights = None
        if sample_weight is not None:
            weights = c_array(_check_sample_weight(sample_weight, X, dtype=np.float64).astype(np.float64, copy=False))
        X = c_array(X.astype(np.float64, copy=False))
        warm = self.warm_start and self._is_fitted()
        previous = self._core_model() if warm else None
        options = self._options(seed_from_random_state(self.random_state))
        with precision_error_as_sklearn():
            model, result = _core.BayesModel64.fit(
                options, priors, X, weights, threads_from_n_jobs(self.n_jobs), previous
            )
        self._set_fitted(model, result, np.float64)
        self._warn_not_converged(warm)
        return self

    def _initialize(self, X, resp):
        """scikit-learn's private _initialize(X, resp): the priors resolved from X and the posterior
        from the responsibilities resp (n, K), no iteration (C++ m_step on an unfitted model). A
        following fit with warm_start=True continues from it, as scikit-learn's does: this is how
        both are started from the same point (tests/reference/generate_bayesian.py)."""
        self._check_params()
        X = c_array(self._check_X(X, reset=True).astype(np.float64, copy=False))
        resp = np.asarray(resp, dtype=np.float64)
        model = _core.BayesModel64.initialize(self._options(0), self._priors(X.shape[1]), X, resp)
        self._set_fitted(model, (False, 0, -np.inf, []), np.float64)

    # --- the C++ model ---

    def _set_fitted(self, model, result, dtype):
        super()._set_fitted(model, result, dtype)
        wc = np.asarray(model.weight_concentration())
        if self.weight_concentration_prior_type == "dirichlet_process":
            self.weight_concentration_ = (wc[:, 0].copy(), wc[:, 1].copy())
        else:
            self.weight_concentration_ = wc[:, 0].copy()
        self.mean_precision_ = np.asarray(model.mean_precision())
        dof = np.asarray(model.degrees_of_freedom())
        self.degrees_of_freedom_ = np.float64(dof[0]) if self.covariance_type == "tied" else dof
        r = model.resolved_priors()
        self.weight_concentration_prior_ = float(r.weight_concentration)
        self.mean_precision_prior_ = float(r.mean_precision)
        self.mean_prior_ = np.asarray(r.mean).copy()
        self.degrees_of_freedom_prior_ = float(r.degrees_of_freedom)
        c = np.asarray(r.covariance)
        self.covariance_prior_ = {
            "full": c.copy(), "tied": c.copy(), "diag": np.diag(c).copy(), "spherical": float(c[0, 0])
        }[self.covariance_type]

    def _core_model(self):
        """The C++ model behind the fitted attributes; rebuilt from the posterior attributes after
        unpickling or when weights_ / means_ / covariances_ were replaced."""
        key = (id(self.weights_), id(self.means_), id(self.covariances_))
        cached = self.__dict__.get("_gaussmix_core")
        if cached is not None and cached[0] == key:
            return cached[1]
        K, d = self.means_.shape
        wc = self.weight_concentration_
        wc = np.column_stack(wc) if isinstance(wc, tuple) else np.asarray(wc)[:, np.newaxis]
        resolved = _core.BayesianPriors()
        resolved.weight_prior = WEIGHT_PRIORS[self.weight_concentration_prior_type]
        resolved.weight_concentration = float(self.weight_concentration_prior_)
        resolved.mean_precision = float(self.mean_precision_prior_)
        resolved.mean = np.asarray(self.mean_prior_, dtype=np.float64)
        resolved.degrees_of_freedom = float(self.degrees_of_freedom_prior_)
        prior = np.asarray(self.covariance_prior_, dtype=np.float64)
        if self.covariance_type == "diag":
            prior = np.diag(prior)
        elif self.covariance_type == "spherical":
            prior = np.eye(d) * float(prior)
        resolved.covariance = prior
        model = _core.BayesModel64.from_posterior(
            self._options(0),
            self._priors(d),
            np.asarray(wc, dtype=np.float64),
            np.asarray(self.mean_precision_, dtype=np.float64),
            np.broadcast_to(np.asarray(self.degrees_of_freedom_, dtype=np.float64), (K,)).copy(),
            np.asarray(self.means_, dtype=np.float64),
            covariances_to_dense(self.covariances_, self.covariance_type, K, d),
            resolved,
            float(getattr(self, "lower_bound_", -np.inf)),
        )
        self.__dict__["_gaussmix_core"] = (key, model)
        return model

    def _more_tags(self):
        return {"preserves_dtype": [np.float64]}
