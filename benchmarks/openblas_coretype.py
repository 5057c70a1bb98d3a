#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The OPENBLAS_CORETYPE the peers' commands need on this machine, shared by run_benchmarks.py,
bench_bayesian.sh and bench_python.py. Run alone, prints it (or nothing: OpenBLAS's own choice is right).
"""
import os
import subprocess

# OpenBLAS 0.3.21 does not recognise every CPU: on an unknown one it falls back to a generic SSE3
# kernel ("Prescott"), several times slower, and numpy, scipy and Armadillo would be timed with it.
GENERIC_OPENBLAS_KERNELS = {"prescott", "core2", "penryn", "dunnington", "nehalem", "atom", "katmai",
                            "coppermine", "northwood", "banias", "generic"}


def peer_openblas_coretype():
    """(core type to force for the peers or None, the kernel OpenBLAS detects, why)."""
    if os.environ.get("BENCH_OPENBLAS_CORETYPE"):
        return os.environ["BENCH_OPENBLAS_CORETYPE"], None, "BENCH_OPENBLAS_CORETYPE"
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    try:
        out = subprocess.run(["/usr/bin/python3", "-c", "import numpy, threadpoolctl; print(next((i['architecture'] "
                              "for i in threadpoolctl.threadpool_info() if i.get('internal_api') == 'openblas'), ''))"],
                             env=env, capture_output=True, text=True, timeout=120).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None, None, "numpy not available"
    flags = set()
    try:
        with open("/proc/cpuinfo") as f:
            flags = set(next((l for l in f if l.startswith("flags")), "").split())
    except OSError:
        pass
    if out.lower() in GENERIC_OPENBLAS_KERNELS:
        if "avx512f" in flags:
            return "SkylakeX", out, f"OpenBLAS detects {out} (generic) on this CPU; it has AVX-512"
        if "avx2" in flags:
            return "Haswell", out, f"OpenBLAS detects {out} (generic) on this CPU; it has AVX2"
    return None, out, "OpenBLAS's own detection"


if __name__ == "__main__":
    print(peer_openblas_coretype()[0] or "")
