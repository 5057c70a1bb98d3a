#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""scikit-learn's BayesianGaussianMixture on one workload file (bench_common.hpp), the peer of bench_bayesian.

The same start as bench_bayesian: resp = the responsibilities of the workload's initial parameters (a
GaussianMixture with weights_, means_ and precisions_cholesky_ set from them), then
`bgm._check_parameters(X); bgm._initialize(X, resp)` (what fit() does after its own initialisation).
Timed: `iters` times fit()'s loop body, `log_prob_norm, log_resp = bgm._e_step(X); bgm._m_step(X, log_resp);
bgm._compute_lower_bound(log_resp, log_prob_norm)`, as a whole, divided by `iters`; medians of `reps`.
The last lower bound is printed for the agreement check with gaussmix's.

Threads: numpy's BLAS only; the caller sets OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 (reported through
threadpoolctl).

usage: bench_sklearn_bayesian.py FILE [--reps 5] [--warmup 1] [--iters 10] [--rows N] [--reg 1e-6]
                                      [--prior dp|dirichlet]
"""
import argparse
import json
import statistics
import sys
import time

import numpy as np
import sklearn
from scipy import linalg
from sklearn.mixture import BayesianGaussianMixture, GaussianMixture

from bench_sklearn import read_workload

try:
    from threadpoolctl import threadpool_info
except ImportError:  # pragma: no cover
    threadpool_info = None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("path")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--iters", type=int, default=10)
    parser.add_argument("--rows", type=int, default=0)
    parser.add_argument("--reg", type=float, default=1e-6)
    parser.add_argument("--prior", choices=["dp", "dirichlet"], default="dp")
    args = parser.parse_args()

    X, weights, means, covs, diagonal = read_workload(args.path, args.rows)
    K = len(weights)
    cov_type = "diag" if diagonal else "full"
    start = GaussianMixture(n_components=K, covariance_type=cov_type)
    start.weights_ = weights.copy()
    start.means_ = means.copy()
    if diagonal:
        start.precisions_cholesky_ = 1.0 / np.sqrt(np.array([np.diag(c) for c in covs]))
    else:
        start.precisions_cholesky_ = np.array(
            [linalg.solve_triangular(linalg.cholesky(c, lower=True), np.eye(c.shape[0]), lower=True).T for c in covs]
        )
    resp = start.predict_proba(X)
    prior = "dirichlet_process" if args.prior == "dp" else "dirichlet_distribution"

    times = []
    lower_bound = None
    for rep in range(-args.warmup, args.reps):
        bgm = BayesianGaussianMixture(
            n_components=K,
            covariance_type=cov_type,
            weight_concentration_prior_type=prior,
            tol=0.0,
            reg_covar=args.reg,
            max_iter=args.iters,
        )
        bgm._check_parameters(X)
        bgm._initialize(X, resp)
        t0 = time.perf_counter()
        for _ in range(args.iters):
            log_prob_norm, log_resp = bgm._e_step(X)
            bgm._m_step(X, log_resp)
            lower_bound = bgm._compute_lower_bound(log_resp, log_prob_norm)
        t1 = time.perf_counter()
        if rep >= 0:
            times.append((t1 - t0) / args.iters)

    blas = []
    if threadpool_info is not None:
        for info in threadpool_info():
            blas.append({key: info.get(key) for key in ("user_api", "internal_api", "version", "architecture", "num_threads")})
    result = {
        "peer": "scikit-learn-bayesian",
        "prior": prior,
        "n": int(X.shape[0]),
        "d": int(X.shape[1]),
        "k": K,
        "iters": args.iters,
        "times": times,
        "median": statistics.median(times),
        "lower_bound": float(lower_bound),
        "threads": max([b["num_threads"] or 1 for b in blas] or [1]),
        "blas": blas,
        "version": sklearn.__version__,
        "numpy": np.__version__,
    }
    print("RESULT " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
