#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# One command for the gaussmix benchmarks: installs what is missing (Debian packages, as root),
# builds benchmarks/ standalone in benchmarks/build, writes the workloads, runs gaussmix and its
# peers (scikit-learn, Armadillo, OpenCV), checks that they agree and writes docs/benchmarks.md.
#
#   benchmarks/run_all.sh                 the full run (~10-15 minutes on 2 idle cores, plus ~8 for the
#                                         time-to-solution section)
#   benchmarks/run_all.sh --quick         1 repetition of everything: a smoke test of the pipeline
#   benchmarks/run_all.sh --note "text"   a note printed at the top of the report
#   benchmarks/run_all.sh --only-time-to-solution   run only that section; the others are reused from
#                                         benchmarks/build/results.json of an earlier run (if any)
#   benchmarks/run_all.sh --skip-time-to-solution   everything but that section (reused if measured before)
#   benchmarks/run_all.sh --small         time to solution on the first 3,000 rows of each workload:
#                                         a check of the pipeline that measures nothing
#
# Environment: BENCH_ARCH (default native) is the -march of every C++ driver; BENCH_NO_INSTALL=1
# skips the package check; BENCH_OUT changes the report's path (default docs/benchmarks.md).
# Run it on a quiet machine: the report warns when the load average was high.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
build="$here/build"
arch=${BENCH_ARCH-native}
out=${BENCH_OUT:-$repo/docs/benchmarks.md}

packages=(g++ cmake libeigen3-dev libarmadillo-dev libopencv-dev libopenblas-dev
          python3-sklearn python3-threadpoolctl python3-scipy time)
if [[ -z "${BENCH_NO_INSTALL:-}" ]]; then
  missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    echo "== installing: ${missing[*]}"
    if [[ $(id -u) -ne 0 ]]; then
      echo "run as root, or install them first: apt-get install ${missing[*]}" >&2
      exit 1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
fi

headers_before=$(/usr/bin/python3 -B -c "import sys; sys.path.insert(0, '$here'); import run_benchmarks; print(run_benchmarks.include_hash())")
echo "== building (-O3 -march=${arch:-default}) in $build"
cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release -DGAUSSMIX_BENCH_ARCH="$arch" >/dev/null
cmake --build "$build" -j"$(nproc)"
# The phase-by-phase profile uses the kernel API of estep.hpp/mstep.hpp; if that changed, skip it.
cmake --build "$build" --target profile_breakdown -j"$(nproc)" ||
  { echo "profile_breakdown did not build: its section is skipped"; rm -f "$build/profile_breakdown"; }

echo "== writing the workloads"
mkdir -p "$build/data"
"$build/make_data" "$build/data"

echo "== running (progress below; raw output in $build/run_log.txt)"
exec /usr/bin/python3 "$here/run_benchmarks.py" --build "$build" --out "$out" --arch "$arch" \
  --include-hash-before-build "$headers_before" \
  --command "benchmarks/run_all.sh${*:+ $*}" "$@"
