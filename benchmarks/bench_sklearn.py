#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""scikit-learn's GaussianMixture on one workload file (see bench_common.hpp for the format).

Two things are done, and both are reported:
  * check: GaussianMixture(weights_init, means_init, precisions_init, max_iter=iters, tol=0,
    reg_covar=reg).fit(X) through the public API; its score(X) (mean log-likelihood under the
    final parameters) is what the orchestrator compares with gaussmix;
  * timing: exactly what fit() runs per iteration, without its initialisation and its final
    extra E-step: the model's state is set from the initial parameters (as _initialize does with
    *_init), then `iters` times `log_prob_norm, log_resp = gm._e_step(X); gm._m_step(X, log_resp)`
    (fit_predict's loop body minus the lower-bound bookkeeping), timed as a whole and divided by
    `iters`. The looped model's score must equal fit()'s.

Threads: numpy's BLAS only (scikit-learn's GMM has no threading of its own); set with
OPENBLAS_NUM_THREADS / OMP_NUM_THREADS by the caller, reported through threadpoolctl.

usage: bench_sklearn.py FILE [--reps 5] [--warmup 1] [--iters 20] [--rows N] [--reg 0]
"""
import argparse
import json
import statistics
import sys
import time
import warnings

import numpy as np
import sklearn
from scipy import linalg
from sklearn.mixture import GaussianMixture

try:
    from threadpoolctl import threadpool_info
except ImportError:  # pragma: no cover - python3-threadpoolctl is a dependency of python3-sklearn
    threadpool_info = None


def read_workload(path, rows=0):
    with open(path, "rb") as f:
        magic = f.read(8)
        if magic != b"GMXBENCH":
            raise SystemExit(f"{path}: not a workload file")
        n, d, k, diagonal = np.frombuffer(f.read(32), dtype="<u8")
        n, d, k = int(n), int(d), int(k)
        x = np.fromfile(f, dtype="<f8", count=n * d).reshape(n, d)
        weights = np.fromfile(f, dtype="<f8", count=k)
        means = np.fromfile(f, dtype="<f8", count=k * d).reshape(k, d)
        covs = np.fromfile(f, dtype="<f8", count=k * d * d).reshape(k, d, d)
    if rows and rows < n:
        x = np.ascontiguousarray(x[:rows])
    return x, weights, means, covs, bool(diagonal)


def main():
    warnings.filterwarnings("ignore", message="Initialization 1 did not converge")
    parser = argparse.ArgumentParser()
    parser.add_argument("path")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--iters", type=int, default=20)
    parser.add_argument("--rows", type=int, default=0)
    parser.add_argument("--reg", type=float, default=0.0)
    args = parser.parse_args()

    X, weights, means, covs, diagonal = read_workload(args.path, args.rows)
    K = len(weights)
    if diagonal:
        cov_type = "diag"
        variances = np.array([np.diag(c) for c in covs])
        precisions = 1.0 / variances
    else:
        cov_type = "full"
        precisions = np.array([linalg.inv(c) for c in covs])

    def model():
        return GaussianMixture(
            n_components=K,
            covariance_type=cov_type,
            tol=0.0,
            reg_covar=args.reg,
            max_iter=args.iters,
            n_init=1,
            init_params="random_from_data",  # ignored: all three *_init are given
            weights_init=weights,
            means_init=means,
            precisions_init=precisions,
        )

    # The public path, for the agreement check.
    fitted = model().fit(X)
    fit_score = float(fitted.score(X))
    fit_iters = int(fitted.n_iter_)

    # The timed path: the iterations alone.
    def set_initial_state(gm):
        gm.weights_ = weights.copy()
        gm.means_ = means.copy()
        if diagonal:
            gm.precisions_cholesky_ = np.sqrt(precisions)
        else:
            gm.precisions_cholesky_ = np.array([linalg.cholesky(p, lower=True) for p in precisions])

    times = []
    lower_bounds = []
    gm = None
    for rep in range(-args.warmup, args.reps):
        gm = model()
        set_initial_state(gm)
        history = []
        t0 = time.perf_counter()
        for _ in range(args.iters):
            log_prob_norm, log_resp = gm._e_step(X)
            gm._m_step(X, log_resp)
            history.append(log_prob_norm)
        t1 = time.perf_counter()
        if rep >= 0:
            times.append((t1 - t0) / args.iters)
        lower_bounds = history
    loop_score = float(gm.score(X))

    blas = []
    if threadpool_info is not None:
        for info in threadpool_info():
            blas.append(
                {
                    key: info.get(key)
                    for key in ("user_api", "internal_api", "version", "threading_layer", "architecture", "num_threads")
                }
            )
    result = {
        "peer": "scikit-learn",
        "n": int(X.shape[0]),
        "d": int(X.shape[1]),
        "k": K,
        "iters": args.iters,
        "fit_iters": fit_iters,
        "times": times,
        "median": statistics.median(times),
        "score": fit_score,
        "loop_score": loop_score,
        "lower_bound": float(fitted.lower_bound_),
        "history": [float(v) for v in lower_bounds],
        "threads": max([b["num_threads"] or 1 for b in blas] or [1]),
        "blas": blas,
        "version": sklearn.__version__,
        "numpy": np.__version__,
    }
    print("RESULT " + json.dumps(result), flush=True)
    return 0 if fit_iters == args.iters and abs(loop_score - fit_score) <= 1e-9 * max(1.0, abs(fit_score)) else 1


if __name__ == "__main__":
    sys.exit(main())
