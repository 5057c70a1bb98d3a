#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""scikit-learn time to solution on one workload file (format: bench_common.hpp).

What a user times: GaussianMixture(n_components=K, covariance_type=..., random_state=seed).fit(X)
with every other argument at its default (tol 1e-3, reg_covar 1e-6, max_iter 100, n_init 1,
init_params "kmeans"). Repetition r uses random_state = seed0 + r.

Init / EM split of the same fit: the estimator's `_initialize_parameters` (which fit calls once per
initialisation: KMeans(n_clusters=K, n_init=1, random_state).fit(X), labels to responsibilities,
one M-step) is wrapped by an instance attribute that times it; EM = fit time - init time (the EM
loop, the final E-step and fit's input checks).

--save-init PATH writes the initial parameters of the first timed repetition (weights, means and
covariances right after `_initialize_parameters`, before the first E-step) in the parameter-file
format of bench_common.hpp, so gaussmix can start from exactly the same point.

Threads: OpenBLAS inside numpy and scikit-learn's OpenMP (KMeans), both set by the caller with
OPENBLAS_NUM_THREADS / OMP_NUM_THREADS; reported through threadpoolctl.

usage: bench_sklearn_tts.py FILE [--reps 5] [--warmup 1] [--seed0 0] [--rows N] [--save-init PATH]
"""
import argparse
import json
import statistics
import sys
import time
import warnings

import numpy as np
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture

from bench_sklearn import read_workload

try:
    from threadpoolctl import threadpool_info
except ImportError:  # pragma: no cover - python3-threadpoolctl is a dependency of python3-sklearn
    threadpool_info = None


def write_parameters(path, weights, means, covariances, diagonal):
    k, d = means.shape
    if diagonal:
        dense = np.zeros((k, d, d))
        for j in range(k):
            dense[j] = np.diag(covariances[j])
    else:
        dense = covariances
    with open(path, "wb") as f:
        f.write(b"GMXPARAM")
        f.write(np.array([d, k, int(diagonal)], dtype="<u8").tobytes())
        for a in (weights, means, dense):
            f.write(np.ascontiguousarray(a, dtype="<f8").tobytes())


def main():
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    parser = argparse.ArgumentParser()
    parser.add_argument("path")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--seed0", type=int, default=0)
    parser.add_argument("--rows", type=int, default=0)
    parser.add_argument("--save-init", default="")
    args = parser.parse_args()

    X, weights, _, _, diagonal = read_workload(args.path, args.rows)
    K = len(weights)

    fit_times, init_times, em_times, lower_bounds, iters, converged, seeds = [], [], [], [], [], [], []
    for rep in range(-args.warmup, args.reps):
        seed = args.seed0 + max(rep, 0)
        gm = GaussianMixture(n_components=K, covariance_type="diag" if diagonal else "full", random_state=seed)
        initialise = gm._initialize_parameters
        spent = []
        start = {}

        def timed_initialise(X, random_state, gm=gm, initialise=initialise, spent=spent, start=start):
            t = time.perf_counter()
            initialise(X, random_state)
            spent.append(time.perf_counter() - t)
            start.update(weights=gm.weights_.copy(), means=gm.means_.copy(), covariances=gm.covariances_.copy())

        gm._initialize_parameters = timed_initialise  # fit calls self._initialize_parameters(X, random_state)
        t0 = time.perf_counter()
        gm.fit(X)
        t1 = time.perf_counter()
        if len(spent) != 1:
            raise SystemExit(f"_initialize_parameters ran {len(spent)} times, expected 1")
        if rep < 0:
            continue
        if rep == 0 and args.save_init:
            write_parameters(args.save_init, start["weights"], start["means"], start["covariances"], diagonal)
        fit_times.append(t1 - t0)
        init_times.append(spent[0])
        em_times.append(t1 - t0 - spent[0])
        lower_bounds.append(float(gm.lower_bound_))
        iters.append(int(gm.n_iter_))
        converged.append(int(gm.converged_))
        seeds.append(seed)

    blas = []
    if threadpool_info is not None:
        for info in threadpool_info():
            blas.append({key: info.get(key) for key in ("user_api", "internal_api", "version", "threading_layer", "architecture",
                                                     "num_threads")})
    result = {
        "peer": "scikit-learn",
        "n": int(X.shape[0]),
        "d": int(X.shape[1]),
        "k": K,
        "seeds": seeds,
        "fit_times": fit_times,
        "init_times": init_times,
        "em_times": em_times,
        "iters": iters,
        "converged": converged,
        "lower_bounds": lower_bounds,
        "median": statistics.median(fit_times),
        "median_init": statistics.median(init_times),
        "median_em": statistics.median(em_times),
        "threads": max([b["num_threads"] or 1 for b in blas] or [1]),
        "blas": blas,
        "version": sklearn.__version__,
    }
    print("RESULT " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
