#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Per-call cost of gaussmix.GaussianMixture against sklearn.mixture.GaussianMixture on small data,
where the Python layer (argument checks, conversions, the call into C++) rather than the arithmetic
decides: by default workload (e)'s shape, 1,000 rows x 2 features, K = 2, full covariances (two
Gaussian blobs generated here, no workload file needed).

Each round times `--calls` back-to-back calls of one method on one class, gaussmix then
scikit-learn, method after method (interleaved, so a change in machine load hits both); the
table gives the median over `--rounds` rounds of the time per call and the ratio sklearn/gaussmix.
fit is 20 EM iterations from given starting parameters with tol = 0 (as bench_python.py), on both.

usage: PYTHONPATH=build/python /usr/bin/python3 benchmarks/bench_python_calls.py
           [--rows 1000] [--dims 2] [--components 2] [--cov full] [--calls 1000] [--rounds 7]
           [--methods predict,predict_proba,score_samples,score,fit] [--profile METHOD]
"""
import argparse
import cProfile
import pstats
import statistics
import time
import warnings

import numpy as np

import gaussmix
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture as SklearnGaussianMixture

try:
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover - a dependency of python3-sklearn
    threadpool_limits = None


def blobs(n, d, k, seed=0):
    rng = np.random.RandomState(seed)
    centres = rng.normal(scale=5.0, size=(k, d))
    labels = rng.randint(k, size=n)
    return np.ascontiguousarray(centres[labels] + rng.normal(size=(n, d)))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--dims", type=int, default=2)
    parser.add_argument("--components", type=int, default=2)
    parser.add_argument("--cov", default="full")
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--fit-calls", type=int, default=0, help="calls per round for fit (default calls / 20)")
    parser.add_argument("--methods", default="predict,predict_proba,score_samples,score,fit")
    parser.add_argument("--profile", default="", help="cProfile this gaussmix method instead of timing")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    warnings.filterwarnings("ignore", category=gaussmix.ConvergenceWarning)
    limits = threadpool_limits(1) if threadpool_limits else None  # noqa: F841  (kept alive)

    X = blobs(args.rows, args.dims, args.components)
    start = SklearnGaussianMixture(n_components=args.components, covariance_type=args.cov, random_state=0).fit(X)
    params = dict(
        n_components=args.components,
        covariance_type=args.cov,
        tol=0.0,
        max_iter=20,
        weights_init=start.weights_,
        means_init=start.means_,
        precisions_init=start.precisions_,
    )
    ours = gaussmix.GaussianMixture(**params).fit(X)
    theirs = SklearnGaussianMixture(**params).fit(X)
    assert np.array_equal(ours.predict(X), theirs.predict(X))
    assert np.allclose(ours.score_samples(X), theirs.score_samples(X), rtol=1e-9, atol=1e-9)

    def call(model, method):
        if method == "fit":
            return lambda: type(model)(**params).fit(X)
        return lambda: getattr(model, method)(X)

    if args.profile:
        fn = call(ours, args.profile)
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.calls):
            fn()
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
        return

    methods = args.methods.split(",")
    fit_calls = args.fit_calls or max(1, args.calls // 20)
    times = {(m, who): [] for m in methods for who in ("g", "s")}
    for _ in range(args.rounds + 1):  # the first round warms up and is not counted
        for m in methods:
            calls = fit_calls if m == "fit" else args.calls
            for who, model in (("g", ours), ("s", theirs)):
                fn = call(model, m)
                t0 = time.perf_counter()
                for _ in range(calls):
                    fn()
                times[(m, who)].append((time.perf_counter() - t0) / calls)
    print(
        f"{args.rows} x {args.dims}, K = {args.components}, {args.cov}; median of {args.rounds} rounds of "
        f"{args.calls} calls ({fit_calls} for fit), interleaved"
    )
    print(f"{'method':<14} {'gaussmix us':>12} {'sklearn us':>12} {'ratio':>7}")
    for m in methods:
        g = statistics.median(times[(m, "g")][1:])
        s = statistics.median(times[(m, "s")][1:])
        print(f"{m:<14} {g * 1e6:12.1f} {s * 1e6:12.1f} {s / g:6.1f}x")


if __name__ == "__main__":
    main()
