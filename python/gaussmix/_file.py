"""gaussmix.fit_file: fit a GaussianMixture to a raw binary file larger than memory."""
import os

import numpy as np

from . import _core
from ._gaussian_mixture import GaussianMixture, base_options, seed_from_random_state, threads_from_n_jobs


def fit_file(path, n_features, *, dtype="float64", reservoir_size=10000, buffer_rows=None, estimator=None, **params):
    """Fits a GaussianMixture to the rows of a raw binary file without loading it.

    The file holds n rows of ``n_features`` values of ``dtype`` (float64 or float32), row after row,
    no header, machine byte order: what ``X.astype(dtype).tofile(path)`` writes. The file is read
    once per EM iteration through a buffer of ``buffer_rows`` rows (default about 1 MiB); the
    initialisation runs on a uniform sample of ``reservoir_size`` rows (all rows when the file has
    no more, and then the fit equals ``GaussianMixture.fit`` on the loaded data). float32 files are
    fitted in float32. ``params`` are GaussianMixture's constructor arguments; or pass an
    unfitted ``estimator``. warm_start, weights_init, means_init and precisions_init are not used.
    Returns the fitted estimator."""
    if estimator is None:
        estimator = GaussianMixture(**params)
    elif params:
        estimator.set_params(**params)
    estimator._check_params()
    dtype = np.dtype(dtype)
    if dtype not in (np.dtype(np.float64), np.dtype(np.float32)):
        raise ValueError(f"fit_file: dtype must be float64 or float32, got {dtype}")
    if int(n_features) < 1:
        raise ValueError(f"fit_file: n_features must be >= 1, got {n_features}")
    call = _core.fit_file64 if dtype == np.float64 else _core.fit_file32
    options = base_options(estimator, seed_from_random_state(estimator.random_state))
    options.warm_start = False
    model, result = call(
        options,
        os.fspath(path),
        int(n_features),
        int(reservoir_size),
        -1 if buffer_rows is None else int(buffer_rows),
        threads_from_n_jobs(estimator.n_jobs),
    )
    estimator.n_features_in_ = int(n_features)
    estimator.__dict__.pop("feature_names_in_", None)
    estimator._set_fitted(model, result, dtype)
    return estimator
