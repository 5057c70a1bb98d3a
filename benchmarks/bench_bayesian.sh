#!/bin/sh
# SPDX-License-Identifier: MIT
# docs/benchmarks.md, "Bayesian mixture": per-iteration cost of gaussmix's BayesianGaussianMixture against its
# GaussianMixture (bench_bayesian) and scikit-learn's BayesianGaussianMixture (bench_sklearn_bayesian.py) on
# workloads (b) and (d), both weight priors, one thread everywhere. Prints the load average before and after
# and a markdown table.
#
# usage: benchmarks/bench_bayesian.sh BENCH_BAYESIAN_BINARY DATA_DIR [REPS=7] [ITERS=10]
#   (DATA_DIR holds b.bin and d.bin from make_data; BENCH_BAYESIAN_BINARY from the benchmarks' CMake build)
set -eu
bin=$1
data=$2
reps=${3:-7}
iters=${4:-10}
here=$(cd "$(dirname "$0")" && pwd)
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
out=$(mktemp)
coretype=$(/usr/bin/python3 "$here/openblas_coretype.py")
echo "load before: $(cat /proc/loadavg); OpenBLAS core type forced for scikit-learn: ${coretype:-none}"
for w in b d; do
  for prior in dp dirichlet; do
    echo "$w $prior $("$bin" "$data/$w.bin" --reps "$reps" --iters "$iters" --prior "$prior" | sed 's/^RESULT //')" >>"$out"
    # As run_benchmarks.py: OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE (set on some machines) force a slower
    # OpenBLAS kernel; unset for scikit-learn's command, unless OpenBLAS falls back to a generic kernel
    # on this CPU (openblas_coretype.py), where the right one is forced.
    echo "$w $prior $(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE ${coretype:+OPENBLAS_CORETYPE=$coretype} \
      /usr/bin/python3 "$here/bench_sklearn_bayesian.py" "$data/$w.bin" --reps "$reps" \
      --iters "$iters" --prior "$prior" | sed 's/^RESULT //')" >>"$out"
  done
done
echo "load after: $(cat /proc/loadavg)"
/usr/bin/python3 - "$out" <<'EOF'
import json, sys
rows = {}
for line in open(sys.argv[1]):
    w, prior, text = line.split(" ", 2)
    r = json.loads(text)
    rows.setdefault((w, prior), {})[r["peer"]] = r
print("OpenBLAS (scikit-learn):", rows[next(iter(rows))]["scikit-learn-bayesian"]["blas"])
print("| workload | prior | GaussianMixture | Bayesian (wall) | Bayesian / GM (wall; CPU) | scikit-learn BGM | sklearn / gaussmix | lower bounds agree |")
print("|---|---|---:|---:|---:|---:|---:|---:|")
for (w, prior), r in rows.items():
    g, s = r["gaussmix-bayesian"], r["scikit-learn-bayesian"]
    ms = lambda v: f"{1e3 * v:.1f} ms"
    rel = abs(g["lower_bound"] - s["lower_bound"]) / abs(s["lower_bound"])
    print(f"| ({w}) N={g['n']} d={g['d']} K={g['k']} | {prior} | {ms(g['gmm_median'])} | {ms(g['bayes_median'])} | "
          f"{g['ratio_wall']:.2f}x; {g['ratio_cpu']:.2f}x | {ms(s['median'])} | {s['median'] / g['bayes_median']:.1f}x | "
          f"{rel:.1e} |")
EOF
rm -f "$out"
