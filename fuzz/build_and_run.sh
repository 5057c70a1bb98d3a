#!/usr/bin/env bash
# Builds fuzz/fit_fuzzer.cpp with clang++ (libFuzzer + AddressSanitizer + UBSan) and runs it.
#   bash fuzz/build_and_run.sh [SECONDS] [extra libFuzzer flags...]     (default: 60 seconds)
#   bash fuzz/build_and_run.sh 0 /tmp/gaussmix-fuzz/artifacts/crash-...  (replay one input)
#   bash fuzz/build_and_run.sh build                                      (only build the binary)
# Needs Debian's clang and libclang-rt-14-dev (libFuzzer and the sanitizer runtimes) and libeigen3-dev.
# Work files go to $GAUSSMIX_FUZZ_DIR (default /tmp/gaussmix-fuzz): the binary, the growing corpus and
# artifacts/ with any crashing input. $GAUSSMIX_FUZZ_FLAGS adds compiler flags, e.g.
# -DGAUSSMIX_FUZZ_SKIP_KNOWN to skip inputs of bugs already reported (use its own GAUSSMIX_FUZZ_DIR). Exits non-zero when the fuzzer finds a contract violation, a
# crash, a sanitizer report, a timeout or an out-of-memory.
set -euo pipefail

seconds=${1:-60}
if (($# > 0)); then shift; fi
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
work=${GAUSSMIX_FUZZ_DIR:-/tmp/gaussmix-fuzz}
cxx=${GAUSSMIX_FUZZ_CXX:-clang++}
mkdir -p "$work/corpus" "$work/artifacts"

eigen_flags=$(pkg-config --cflags eigen3 2>/dev/null || echo "-I/usr/include/eigen3")
binary="$work/fit_fuzzer"
# Rebuild when the target or any header is newer than the binary.
if [[ ! -x $binary ]] || [[ -n $(find "$here/fit_fuzzer.cpp" "$repo/include" -newer "$binary" -print -quit) ]]; then
  echo "building $binary"
  # -O1 keeps the sanitizers fast enough; -fno-sanitize-recover makes every UBSan report fatal.
  # -gline-tables-only: the reports' file:line, without the full debug info that cost a third more
  # compile (clang 14: 221 -> 165 CPU-s); GAUSSMIX_FUZZ_FLAGS=-g brings it back for a debugger.
  # shellcheck disable=SC2086
  "$cxx" -std=c++17 -gline-tables-only -O1 -fno-omit-frame-pointer \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    -Wall -Wextra -Wpedantic \
    -I "$repo/include" $eigen_flags ${GAUSSMIX_FUZZ_FLAGS:-} \
    "$here/fit_fuzzer.cpp" -o "$binary"
fi

if [[ $seconds == build ]]; then exit 0; fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

if [[ $seconds == 0 ]]; then
  # Replay mode: the remaining arguments are inputs (or libFuzzer flags).
  exec "$binary" "$@"
fi

# The first corpus directory receives new inputs; the committed seeds are only read.
exec "$binary" -max_total_time="$seconds" -max_len=4096 -timeout=20 -rss_limit_mb=2048 \
  -print_final_stats=1 -artifact_prefix="$work/artifacts/" "$@" "$work/corpus" "$here/corpus"
