#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Python-level times of gaussmix.GaussianMixture against sklearn.mixture.GaussianMixture on the
benchmark workloads (a)-(e): the public fit (20 EM iterations from the workload's initial
parameters, tol = 0), predict and score_samples, in the same process, interleaved rep by rep,
medians reported. Python overhead (argument checks, conversions) is included on both sides.

Threads: gaussmix n_jobs = --threads; scikit-learn's BLAS limited to --threads with threadpoolctl.
Both fits must end at the same mean log-likelihood (checked, reported).

Short calls: a call that takes less than --min-time (default 0.05 s; the small workload (e), where
predict takes tens of microseconds) is repeated back to back until --min-time is filled, and the
mean time per call of those repetitions is that rep's time, as timeit does, the same for both
classes. One call of tens of microseconds, timed alone right after a fit of the other class, mostly
measures cold caches and timer noise. --min-time 0 times one call per rep.

The workload files come from make_data (see benchmarks/README.md):
    cmake -S benchmarks -B benchmarks/build && cmake --build benchmarks/build --target make_data
    benchmarks/build/make_data benchmarks/build/data
usage: bench_python.py [--data benchmarks/build/data] [--workloads abcde] [--reps 5] [--rows N]
                       [--threads 1] [--reg 0] [--min-time 0.05] [--out report.md]
"""
import argparse
import os
import statistics
import sys
import time
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from openblas_coretype import peer_openblas_coretype  # noqa: E402

# numpy's OpenBLAS reads OPENBLAS_CORETYPE when it loads. Where OpenBLAS falls back to a generic kernel
# on this CPU, scikit-learn would be timed with it: restart once with the right one forced, as
# run_benchmarks.py does for its peers (and without a forced kernel left set in the environment).
if "GAUSSMIX_BENCH_CORETYPE" not in os.environ:
    _forced = peer_openblas_coretype()[0] or ""
    _env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    _env["GAUSSMIX_BENCH_CORETYPE"] = _forced or "none"
    if _forced:
        _env["OPENBLAS_CORETYPE"] = _forced
    os.execve(sys.executable, [sys.executable] + sys.argv, _env)

import numpy as np  # noqa: E402
from bench_sklearn import read_workload  # noqa: E402  (the one reader of the workload format)

import gaussmix  # noqa: E402
from sklearn import __version__ as sklearn_version  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.mixture import GaussianMixture as SklearnGaussianMixture  # noqa: E402

try:
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover - a dependency of python3-sklearn
    threadpool_limits = None


MIN_TIME = 0.05  # --min-time


def timed(fn):
    """(seconds per call, the first call's result): one call, or when it took less than MIN_TIME,
    the mean over back-to-back repetitions filling MIN_TIME (see the top of the file)."""
    t0 = time.perf_counter()
    out = fn()
    t = time.perf_counter() - t0
    if t >= MIN_TIME:
        return t, out
    calls = max(2, int(MIN_TIME / max(t, 1e-7)))
    t0 = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - t0) / calls, out


def main():
    global MIN_TIME
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=os.path.join(HERE, "build", "data"))
    parser.add_argument("--workloads", default="abcde")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--iters", type=int, default=20)
    parser.add_argument("--rows", type=int, default=0, help="use only the first N rows (a quick check)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--reg", type=float, default=0.0, help="reg_covar (0 as the C++ benchmarks; use 1e-6 with --rows)")
    parser.add_argument("--min-time", type=float, default=MIN_TIME,
                        help="repeat calls shorter than this many seconds and take the mean (0: one call)")
    parser.add_argument("--out", default="", help="also write the markdown table to this file")
    args = parser.parse_args()
    MIN_TIME = args.min_time
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    warnings.filterwarnings("ignore", category=gaussmix.ConvergenceWarning)

    lines = [
        f"gaussmix {gaussmix.__version__} (OpenMP: {gaussmix._core.openmp}) vs scikit-learn {sklearn_version}, "
        f"{args.threads} thread(s), median of {args.reps}, {args.iters} EM iterations per fit"
        + (f", calls under {args.min_time:g} s repeated and averaged" if args.min_time > 0 else "")
        + f", OpenBLAS core type forced: {os.environ.get('GAUSSMIX_BENCH_CORETYPE', 'none')}"
        + (f", first {args.rows} rows" if args.rows else ""),
        "",
        "| workload | N | d | K | cov | fit gaussmix | fit sklearn | ratio | predict gaussmix | predict sklearn "
        "| ratio | score_samples gaussmix | score_samples sklearn | ratio | score(X) gaussmix − sklearn |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    limits = threadpool_limits(args.threads) if threadpool_limits else None
    for name in args.workloads:
        path = os.path.join(args.data, f"{name}.bin")
        if not os.path.exists(path):
            sys.exit(f"{path} not found: write the workloads first (see the top of {__file__})")
        X, weights, means, covs, diagonal = read_workload(path, args.rows)
        K, d = means.shape
        cov_type = "diag" if diagonal else "full"
        precisions = (
            np.array([1.0 / np.diag(c) for c in covs]) if diagonal else np.array([np.linalg.inv(c) for c in covs])
        )
        params = dict(
            n_components=K,
            covariance_type=cov_type,
            tol=0.0,
            reg_covar=args.reg,
            max_iter=args.iters,
            weights_init=weights,
            means_init=means,
            precisions_init=precisions,
        )
        times = {key: [] for key in ("fit_g", "fit_s", "pred_g", "pred_s", "ss_g", "ss_s")}
        ours = theirs = None
        for _ in range(args.reps + 1):  # the first round warms up and is not counted
            t_fg, ours = timed(lambda: gaussmix.GaussianMixture(n_jobs=args.threads, **params).fit(X))
            t_fs, theirs = timed(lambda: SklearnGaussianMixture(**params).fit(X))
            t_pg, _ = timed(lambda: ours.predict(X))
            t_ps, _ = timed(lambda: theirs.predict(X))
            t_sg, _ = timed(lambda: ours.score_samples(X))
            t_ss, _ = timed(lambda: theirs.score_samples(X))
            for key, t in zip(times, (t_fg, t_fs, t_pg, t_ps, t_sg, t_ss)):
                times[key].append(t)
        med = {key: statistics.median(v[1:]) for key, v in times.items()}
        delta = float(ours.score(X) - theirs.score(X))

        def ms(t):
            return f"{t * 1e3:.3g} ms"

        lines.append(
            f"| ({name}) | {X.shape[0]} | {d} | {K} | {cov_type} | {ms(med['fit_g'])} | {ms(med['fit_s'])} | "
            f"{med['fit_s'] / med['fit_g']:.1f}x | {ms(med['pred_g'])} | {ms(med['pred_s'])} | "
            f"{med['pred_s'] / med['pred_g']:.1f}x | {ms(med['ss_g'])} | {ms(med['ss_s'])} | "
            f"{med['ss_s'] / med['ss_g']:.1f}x | {delta:.2g} |"
        )
        print(lines[-1], flush=True)
    if limits is not None:
        limits.unregister() if hasattr(limits, "unregister") else None
    text = "\n".join(lines) + "\n"
    print()
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
