# SPDX-License-Identifier: MIT
"""Time to solution: the section of docs/benchmarks.md that times what a user times, `fit(X)` with
default options, for gaussmix, scikit-learn and Armadillo. Used by run_benchmarks.py (its runs
are labelled "tts ..." in results.json, so the section can be run or re-rendered on its own).
"""
import os
import statistics

# Workloads of this section: the per-iteration ones plus well-separated data (make_data.cpp).
# name, N, d, K, covariance, description
WELL_SEPARATED = [
    ("f", 40000, 16, 16, "full", "16 components, means N(0, s² I) with s = √(700/d): well separated"),
    ("g", 50000, 40, 128, "diag", "128 diagonal components, well separated (speaker-model shape)"),
    ("h", 100000, 40, 256, "diag", "256 diagonal components, well separated"),
    ("i", 1000000, 2, 2, "full", "the mixture of (a), 1,000,000 samples (the first seed's mixture)"),
]
BIG = ("g", "h")  # scikit-learn takes 5-35 s per fit on these: fewer repetitions, no warm-up
SMALL_ROWS = 3000  # --small: every workload cut to its first rows (a check of the pipeline, not a measurement)
ARMA = {"km_iter": 10, "em_iter": 100, "tol": 1e-3, "var_floor": 1e-6}


def repetitions(name, threads, quick):
    """(repetitions, warm-up runs) of one peer on one workload. The 1-thread runs give the spread of
    the lower bound, so they have more seeds; at more threads only the time is new."""
    if quick:
        return 1, 0
    big = name in BIG
    if threads == 1:
        return (3, 0) if big else (5, 1)
    return (1, 0) if big else (3, 1)


def armadillo_repetitions(name, threads, quick):
    """Armadillo is 5-10x slower per iteration than gaussmix and runs more of them: one fit on the big ones."""
    if quick or name in BIG:
        return 1, 0
    return (3, 1) if threads == 1 else (1, 1)


def run(runner, exe, data_path, workloads, thread_counts, quick, small, have_arma, here):
    """Runs every peer; returns {(name, threads, peer): result}, peer in gaussmix, scikit-learn,
    Armadillo, gaussmix same start."""
    runs = {}
    for threads in thread_counts:
        print(f"== time to solution, {threads} thread(s)", flush=True)
        for name, n, *_ in workloads:
            rows = ["--rows", str(SMALL_ROWS)] if small and n > SMALL_ROWS else []
            path = data_path(name)
            r, warm = repetitions(name, threads, quick)
            common = [path, "--reps", str(r), "--warmup", str(warm), "--seed0", "0"] + rows
            start_file = os.path.join(os.path.dirname(path), f"{name}.sklearn_init.bin")
            save = ["--save-init", start_file] if threads == 1 else []
            runs[(name, threads, "scikit-learn")] = runner.run(
                f"tts sklearn {name} T={threads}",
                ["/usr/bin/python3", os.path.join(here, "bench_sklearn_tts.py")] + common + save, threads, timeout=3600)
            runs[(name, threads, "gaussmix")] = runner.run(
                f"tts gaussmix {name} T={threads}",
                [exe("bench_gaussmix_tts")] + common + ["--threads", str(threads), "--init-alone", str(int(threads == 1))],
                threads, unset_openblas=False, timeout=3600)
            if threads == 1:
                runs[(name, threads, "gaussmix same start")] = runner.run(
                    f"tts gaussmix same start {name} T=1",
                    [exe("bench_gaussmix_tts")] + common + ["--threads", "1", "--start", start_file], 1,
                    unset_openblas=False, timeout=3600)
            if have_arma:
                r, warm = armadillo_repetitions(name, threads, quick)
                cmd = [exe("bench_armadillo_tts"), path, "--reps", str(r), "--warmup", str(warm), "--seed0", "0",
                       "--threads", str(threads)] + rows
                cmd += ["--km-iter", str(ARMA["km_iter"]), "--em-iter", str(ARMA["em_iter"]), "--tol", str(ARMA["tol"]),
                        "--var-floor", str(ARMA["var_floor"])]
                runs[(name, threads, "Armadillo")] = runner.run(f"tts armadillo {name} T={threads}", cmd, threads,
                                                                timeout=3600)
    return runs


def _ok(result):
    return result is not None and not result.get("failed") and result.get("fit_times")


def _time(s):
    if s is None:
        return "–"
    if s >= 10:
        return f"{s:.1f} s"
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.1f} ms"
    return f"{s * 1e6:.0f} µs"


def _split(result):
    """'init + EM' of the median fit's components (medians of each, so they need not add up exactly)."""
    return f"{_time(result['median_init'])} + {_time(result['median_em'])}"


def _iters(result):
    """Median (min–max) iterations; flags fits that did not reach tol or that Armadillo reported as failed."""
    it = [int(v) for v in result["iters"]]
    med = statistics.median(it)
    med = int(med) if med == int(med) else med
    text = f"{med}" if min(it) == max(it) else f"{med} ({min(it)}–{max(it)})"
    missed = sum(1 for c in result.get("converged", []) if not c)
    if missed:
        text += f", {missed} of {len(it)} not converged"
    failed = sum(1 for c in result.get("ok", []) if not c)
    if failed:
        text += f", learn() false in {failed} of {len(it)}"
    return text


def _ratio(peer, ours):
    if not (_ok(peer) and _ok(ours)) or ours["median"] <= 0:
        return "–"
    return f"{peer['median'] / ours['median']:.2f}×"


def _spread(result):
    if not _ok(result):
        return "–"
    lb = result["lower_bounds"]
    if len(lb) == 1:
        return f"{lb[0]:.6f}"
    return f"{min(lb):.6f} / {statistics.median(lb):.6f} / {max(lb):.6f}"


def report(w, runs, workloads, thread_counts, have_arma, meta, file_hash):
    """Appends the section's lines through w(); meta: the run that measured it (quick, small, load,
    elapsed, command, finished, reused)."""
    quick, small = meta.get("quick", False), meta.get("small", False)
    w("## Time to solution (default options)")
    w("")
    w("What a user times: one `fit(X)` with the default options (tol 1e-3 on the change of the mean "
      "log-likelihood, reg_covar 1e-6, max_iter 100, n_init 1, k-means initialisation) and only the number of "
      "components and the covariance type set. Unlike the per-iteration tables, every peer starts from its "
      "own initialisation and stops by its own test, so the times include the initialisation and depend on the "
      "number of iterations it takes.")
    w("")
    if small:
        w(f"> **Pipeline check (`--small`).** Every workload was cut to its first {SMALL_ROWS:,} rows and run once: "
          "the numbers below only show that the section works, they measure nothing.")
        w("")
    w("- **gaussmix**: `GaussianMixture<double>(options).fit(X)` on an `Eigen::Map` over the file's row-major "
      "buffer, `Options` default but `n_components`, `covariance_type`, `seed` and a `callback` that only reads the "
      "clock. Init, from the same fit: the end of iteration 1 minus the duration of iteration 2 (every iteration "
      "does the same work; `fit()` always runs at least 2); EM = fit − init. (Cross-check at 1 thread, in "
      "results.json as `init_alone_times`: the initialisation run alone through the public `fit_with()` and "
      "`initial_parameters()` with the same seed, before each timed fit.)")
    w("- **scikit-learn**: `GaussianMixture(n_components=K, covariance_type=..., random_state=seed).fit(X)`. "
      "Init: the estimator's `_initialize_parameters` (KMeans with `n_init=1`, then one M-step) timed inside that "
      "same fit by an instance-level wrapper; EM = fit − init (EM loop, final E-step, input checks).")
    if have_arma:
        w(f"- **Armadillo**: `gmm_full`/`gmm_diag` `learn(X, K, eucl_dist, random_subset, km_iter = "
          f"{ARMA['km_iter']}, em_iter = {ARMA['em_iter']}, var_floor = {ARMA['var_floor']:g}, print_mode = true)` "
          "after `arma_rng::set_seed(seed)`. Armadillo has no default seeding, iteration counts or tolerance (EM "
          "stops when the change is <= machine epsilon), so we chose its documentation example's seeding and "
          "k-means iterations (`random_subset`: K random samples, then 10 k-means iterations; `random_spread` costs "
          "~K² N d, 7 s for (h) cut to 3,000 rows), scikit-learn's max_iter (100) and, for tol, stop it at the first iteration "
          f"whose change is below {ARMA['tol']:g}: its progress lines are read as they are printed and the clock "
          "stops at that iteration's line (the fit is aborted there; the iterations are Armadillo's own). "
          "`var_floor` is a clamp on the variances, not an addition like reg_covar. Init: seeding, k-means "
          "and initial covariances, up to its `EM: n_threads` line in the same run.")
    w("- Repetitions: seeds 0, 1, …, R − 1, one fit each, in one process per peer, workload and thread count; "
      "times are medians over the seeds (so over different starts: iteration counts differ). R = "
      f"{'1' if quick else '5 (3 at 2 threads)'}, "
      f"{'1' if quick else '3 (1 at 2 threads)'} for the big {', '.join(f'({b})' for b in BIG)}; Armadillo "
      f"{'1' if quick else '3 (1 at 2 threads), 1 on the big ones'}. "
      "Threads: `OMP_NUM_THREADS` = `OPENBLAS_NUM_THREADS` = the count (scikit-learn: OpenBLAS and KMeans' OpenMP).")
    w("- Lower bound: the mean log-likelihood per sample at the last E-step (scikit-learn's `lower_bound_`, "
      "gaussmix's `FitResult::lower_bound`, Armadillo's printed `avg_log_p` of the stopping iteration). "
      "Ratio = peer median fit time / gaussmix median fit time, at the same thread count, from the same run.")
    if "elapsed" in meta:
        when = ""
        if meta.get("reused"):
            when = (f" It was measured by an earlier run (`{meta.get('command')}`, headers `{meta.get('headers')}`) "
                    f"than the sections above.")
        w(f"- This section took {meta['elapsed'] / 60:.1f} minutes; load average {meta['load_start'][0]:.2f} at "
          f"its start, {meta['load_end'][0]:.2f} at its end.{when}")
    w("")
    shown = {n for n, *_ in workloads}
    extra = [wl for wl in WELL_SEPARATED if wl[0] in shown]
    if extra:
        w("| workload | N | d | K | covariance | data | file SHA-256 (first 12) |")
        w("|---|---:|---:|---:|---|---|---|")
        for name, n, d, k, cov, desc in extra:
            w(f"| ({name}) | {n:,} | {d} | {k} | {cov} | {desc} | `{file_hash(name)}` |")
        w("")
        w("Well separated: two means are typically √1400 ≈ 37 apart against standard deviations of about 1 "
          "(full covariances B Bᵀ/d + 0.2 I, diagonal variances U(0.3, 1.5)); weights ∝ 0.5 + U(0, 1). At "
          "scikit-learn's fitted parameters (first 20,000 rows, seed 0) a sample's log responsibility for another "
          "component has median −1280 (f), −950 (g, h); 2–4 % of all responsibilities are subnormal doubles "
          "(between e^−745 and e^−708) and ~80 % underflow to 0. (a)–(e) are the per-iteration workloads.")
        w("")

    for threads in thread_counts:
        w(f"### Time to solution, {threads} thread{'s' if threads > 1 else ''}")
        w("")
        header = "| workload | gaussmix fit | init + EM | iterations | scikit-learn fit | init + EM | iterations | ratio |"
        rule = "|---|---:|---:|---:|---:|---:|---:|---:|"
        if have_arma:
            header += " Armadillo fit | init + EM | iterations | ratio |"
            rule += "---:|---:|---:|---:|"
        w(header)
        w(rule)
        for name, *_ in workloads:
            ours = runs.get((name, threads, "gaussmix"))
            row = f"| ({name}) |"
            for peer in ("gaussmix", "scikit-learn") + (("Armadillo",) if have_arma else ()):
                r = runs.get((name, threads, peer))
                if not _ok(r):
                    row += " failed | | |" + ("" if peer == "gaussmix" else " |")
                    continue
                row += f" {_time(r['median'])} | {_split(r)} | {_iters(r)} |"
                if peer != "gaussmix":
                    row += f" {_ratio(r, ours)} |"
            w(row)
        w("")

    w("### Final lower bounds from the default initialisation (1 thread)")
    w("")
    w("Min / median / max over the seeds of the timed runs (n_init = 1 each): each peer's own k-means with "
      "different seeds. gaussmix at 1 and at all threads must give bit-identical lower bounds for the same seed.")
    w("")
    last = thread_counts[-1]
    header = "| workload | gaussmix | scikit-learn |"
    rule = "|---|---:|---:|"
    if have_arma:
        header += " Armadillo |"
        rule += "---:|"
    header += " gaussmix median − scikit-learn median |"
    rule += "---:|"
    if last > 1:
        header += f" gaussmix 1 vs {last} threads identical |"
        rule += "---|"
    w(header)
    w(rule)
    for name, *_ in workloads:
        g, s = runs.get((name, 1, "gaussmix")), runs.get((name, 1, "scikit-learn"))
        row = f"| ({name}) | {_spread(g)} | {_spread(s)} |"
        if have_arma:
            row += f" {_spread(runs.get((name, 1, 'Armadillo')))} |"
        if _ok(g) and _ok(s):
            row += f" {statistics.median(g['lower_bounds']) - statistics.median(s['lower_bounds']):+.2e} |"
        else:
            row += " – |"
        if last > 1:
            many = runs.get((name, last, "gaussmix"))
            if _ok(g) and _ok(many):
                n = min(len(g["lower_bounds"]), len(many["lower_bounds"]))
                same = g["lower_bounds"][:n] == many["lower_bounds"][:n] and g["seeds"][:n] == many["seeds"][:n]
                row += f" {'yes' if same else 'NO'} (seeds {', '.join(str(int(v)) for v in many['seeds'][:n])}) |"
            else:
                row += " – |"
        w(row)
    w("")

    w("### Same start: gaussmix from scikit-learn's initial parameters (1 thread)")
    w("")
    w("scikit-learn's weights, means and covariances right after its own initialisation (seed 0: KMeans, one "
      "M-step) are given to gaussmix with `set_parameters` and `warm_start = true`, default options otherwise; "
      "both then run EM to tol 1e-3. Same start, same stopping rule: the final lower bounds should agree to "
      "rounding and the iteration counts match. EM times: scikit-learn's EM part of its seed-0 fit (EM loop, "
      "final E-step, input checks), gaussmix's whole warm-started `fit()` (median of its repetitions).")
    w("")
    w("| workload | scikit-learn iterations | scikit-learn lower bound | gaussmix iterations | gaussmix lower bound "
      "| gaussmix − scikit-learn | scikit-learn EM | gaussmix EM | ratio |")
    w("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, *_ in workloads:
        s, g = runs.get((name, 1, "scikit-learn")), runs.get((name, 1, "gaussmix same start"))
        if not (_ok(s) and _ok(g)):
            w(f"| ({name}) | failed | | | | | | | |")
            continue
        s_lb, s_it, s_em = s["lower_bounds"][0], int(s["iters"][0]), s["em_times"][0]
        g_lb, g_it = g["lower_bounds"][0], int(g["iters"][0])
        w(f"| ({name}) | {s_it} | {s_lb:.10f} | {g_it} | {g_lb:.10f} | {g_lb - s_lb:+.1e} | {_time(s_em)} | "
          f"{_time(g['median'])} | {s_em / g['median']:.2f}× |")
    w("")


def problems(runs):
    """Runs that failed (no result)."""
    return [f"time to solution: {peer} on ({name}) at {threads} thread(s)" for (name, threads, peer), r in runs.items()
            if not _ok(r)]
