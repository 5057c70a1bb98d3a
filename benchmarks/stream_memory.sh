#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Reproduces the measurements of docs/scaling.md:
#  1. peak memory of a streamed fit (fit_source over BinaryFileSource) for files of 64 MiB, 256 MiB
#     and 2 GiB, each fitted under an address-space cap far below the file (prlimit --as);
#  2. the same 2 GiB fit with the file dropped from the page cache before every pass;
#  3. with --mpi-fit PATH (build/examples/mpi/mpi_fit, built with -DGAUSSMIX_BUILD_MPI=ON): seconds
#     per EM iteration with 1, 2 and 4 MPI ranks on a 256 MiB file, and 2 ranks on the 2 GiB file
#     under a cap per rank.
#
#   benchmarks/stream_memory.sh [--chunks 32] [--cap-mib 64] [--dir /tmp] [--mpi-fit PATH]
#
# --chunks: size of the large file in 64 MiB chunks (2^20 rows x 8 float64; 32 = 2 GiB).
# The data files are written to --dir and removed at the end. Needs g++, libeigen3-dev,
# util-linux (prlimit) and GNU time (/usr/bin/time, Debian package `time`). Linux only.
# Takes about 2 minutes on 2 idle cores (plus about 1 minute with --mpi-fit). Run it on a quiet
# machine: the load average is printed before every measurement.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
chunks=32
cap_mib=64
dir=${TMPDIR:-/tmp}
mpi_fit=""
while (($#)); do
  case $1 in
    --chunks) chunks=$2; shift 2 ;;
    --cap-mib) cap_mib=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    --mpi-fit) mpi_fit=$2; shift 2 ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "stream_memory.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
for tool in g++ prlimit /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "stream_memory.sh: $tool is missing" >&2; exit 1; }
done

work=$(mktemp -d "$dir/gaussmix_stream_memory.XXXXXX")
trap 'rm -rf "$work"' EXIT
big="$work/big.f64" small="$work/small.f64" tiny="$work/tiny.f64"
need_kib=$(((chunks + 5) * 65536 + 65536))
avail_kib=$(df -Pk "$work" | awk 'NR == 2 { print $4 }')
if ((avail_kib < need_kib)); then
  echo "stream_memory.sh: $work has $((avail_kib / 1024)) MiB free, needs $((need_kib / 1024)) MiB" >&2
  exit 1
fi
cap=$((cap_mib * 1048576))

echo "== machine"
lscpu | grep -E '^(Model name|CPU\(s\)|Thread|L3)' || true
grep MemTotal /proc/meminfo
uname -sr
g++ --version | head -n1

echo "== build: g++ -std=c++17 -O3 -DNDEBUG (what CMake's Release gives)"
g++ -std=c++17 -O3 -DNDEBUG -I"$repo/include" -I/usr/include/eigen3 "$repo/benchmarks/stream_memory.cpp" \
  -o "$work/stream_memory"

echo "== data: $chunks x 64 MiB, 4 x 64 MiB and 64 MiB of float64 rows, d = 8, K = 4"
"$work/stream_memory" write "$big" "$chunks"
"$work/stream_memory" write "$small" 4
"$work/stream_memory" write "$tiny" 1

fit() {  # FILE [--no-cache]
  echo "-- $(uptime)"
  echo "\$ prlimit --as=$cap stream_memory fit $(basename "$1") 8 4 3 ${2:-}"
  prlimit --as="$cap" /usr/bin/time -f "/usr/bin/time: wall %e s, max RSS %M KB" \
    "$work/stream_memory" fit "$1" 8 4 3 ${2:+"$2"}
}
echo "== streamed fits, K = 4 full, 3 EM iterations, address space capped at $cap_mib MiB"
fit "$tiny"
fit "$small"
fit "$big"
echo "== the large file again, dropped from the page cache before every pass"
fit "$big" --no-cache

if [[ -n $mpi_fit ]]; then
  as_root=()
  [[ $(id -u) -eq 0 ]] && as_root=(--allow-run-as-root)
  echo "== MPI: mpi_fit, K = 4 full, 4 iterations, 256 MiB file, 1, 2 and 4 ranks on $(nproc) cores"
  for p in 1 2 4; do
    echo "-- $(uptime)"
    echo "\$ mpirun -np $p --oversubscribe mpi_fit small.f64 8 4 --max-iter 4 --tol 0"
    mpirun "${as_root[@]}" -np "$p" --oversubscribe "$mpi_fit" "$small" 8 4 --max-iter 4 --tol 0
  done
  echo "== MPI: 2 ranks on the large file, address space capped at 128 MiB per rank"
  echo "-- $(uptime)"
  /usr/bin/time -f "/usr/bin/time (mpirun and its ranks): wall %e s, max RSS %M KB" \
    mpirun "${as_root[@]}" -np 2 prlimit --as=134217728 "$mpi_fit" "$big" 8 4 --max-iter 3 --tol 0
fi
