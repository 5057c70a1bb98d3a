"""scikit-learn's base classes, exceptions and validators when it is importable; small numpy-only
stand-ins otherwise, so that fitting and predicting need numpy alone."""
import inspect
import numbers

import numpy as np

try:
    from sklearn.base import BaseEstimator, DensityMixin
    from sklearn.exceptions import ConvergenceWarning, NotFittedError
    from sklearn.utils import check_random_state
    from sklearn.utils.validation import _check_sample_weight, check_is_fitted

    HAVE_SKLEARN = True
except ImportError:  # numpy-only mode
    HAVE_SKLEARN = False

    class NotFittedError(ValueError, AttributeError):
        """Raised when a method needs a fitted estimator (scikit-learn's class of the same name)."""

    class ConvergenceWarning(UserWarning):
        """Warns that EM stopped at max_iter before converging."""

    class BaseEstimator:
        """get_params / set_params / repr from the constructor's signature, as scikit-learn's."""

        @classmethod
        def _get_param_names(cls):
            signature = inspect.signature(cls.__init__)
            return sorted(p.name for p in signature.parameters.values() if p.name != "self" and p.kind != p.VAR_KEYWORD)

        def get_params(self, deep=True):
            return {name: getattr(self, name) for name in self._get_param_names()}

        def set_params(self, **params):
            valid = self._get_param_names()
            for key, value in params.items():
                if key not in valid:
                    raise ValueError(f"Invalid parameter {key!r} for estimator {self}. Valid parameters are: {valid!r}.")
                setattr(self, key, value)
            return self

        def __repr__(self):
            defaults = {p.name: p.default for p in inspect.signature(type(self).__init__).parameters.values()}
            changed = []
            for name, value in self.get_params().items():
                default = defaults.get(name)
                if value is default or (isinstance(value, (int, float, str)) and value == default):
                    continue
                changed.append(f"{name}={value!r}")
            return f"{type(self).__name__}({', '.join(changed)})"

    class DensityMixin:
        """Marks a density estimator (scikit-learn's mixin)."""

        _estimator_type = "DensityEstimator"

    def check_random_state(seed):
        if seed is None or seed is np.random:
            return np.random.mtrand._rand
        if isinstance(seed, numbers.Integral):
            return np.random.RandomState(seed)
        if isinstance(seed, np.random.RandomState):
            return seed
        raise ValueError(f"{seed!r} cannot be used to seed a numpy.random.RandomState instance")

    def check_is_fitted(estimator, attributes=None):
        fitted = [v for v in vars(estimator) if v.endswith("_") and not v.startswith("__")]
        if not fitted:
            raise NotFittedError(
                f"This {type(estimator).__name__} instance is not fitted yet. Call 'fit' with appropriate "
                "arguments before using this estimator."
            )

    def _check_sample_weight(sample_weight, X, dtype=None):
        n = X.shape[0]
        if sample_weight is None:
            return np.ones(n, dtype=np.float64)
        if isinstance(sample_weight, numbers.Number):
            return np.full(n, sample_weight, dtype=np.float64)
        sample_weight = np.asarray(sample_weight, dtype=np.float64)
        if sample_weight.ndim != 1:
            raise ValueError("Sample weights must be 1D array or scalar")
        if sample_weight.shape != (n,):
            raise ValueError(f"sample_weight.shape == {sample_weight.shape}, expected {(n,)}!")
        return sample_weight


def check_array_numpy(
    X, *, dtype_keep=(np.float64, np.float32), ensure_min_samples=1, ensure_finite=True, allow_nan=False
):
    """numpy-only X check: 2-D, numeric, finite (or, with allow_nan, NaN or finite), float64 or
    float32 (others become float64)."""
    X = np.asarray(X)
    if X.dtype.kind not in "biuf":
        if X.dtype.kind == "c":
            raise ValueError("Complex data not supported")
        X = X.astype(np.float64)
    if X.ndim != 2:
        raise ValueError(
            f"Expected 2D array, got {X.ndim}D array instead. Reshape your data either using array.reshape(-1, 1) "
            "if your data has a single feature or array.reshape(1, -1) if it contains a single sample."
        )
    if X.dtype not in dtype_keep:
        X = X.astype(np.float64)
    if X.shape[0] < ensure_min_samples:
        raise ValueError(
            f"Found array with {X.shape[0]} sample(s) (shape={X.shape}) while a minimum of {ensure_min_samples} "
            "is required."
        )
    if X.shape[1] < 1:
        raise ValueError(f"Found array with 0 feature(s) (shape={X.shape}) while a minimum of 1 is required.")
    if ensure_finite and allow_nan and np.isinf(X).any():
        raise ValueError("Input X contains infinity or a value too large for dtype('float64').")
    if ensure_finite and not allow_nan and not np.isfinite(X).all():
        raise ValueError("Input X contains NaN or infinity.")
    return X
