"""pip build of the gaussmix Python package: the extension gaussmix._core (pybind11, OpenMP) over the
header-only library in ../include, and the pure-Python package in gaussmix/.

Offline, from Debian's packages alone (python3-dev python3-pybind11 python3-setuptools python3-venv
libeigen3-dev g++), from the repository root:

    /usr/bin/python3 -m venv --system-site-packages venv
    venv/bin/pip install --no-build-isolation ./python
"""
import os
import re
import sys

from pybind11.setup_helpers import Pybind11Extension, build_ext
from setuptools import setup

here = os.path.dirname(os.path.abspath(__file__))
include = os.path.join(os.path.dirname(here), "include")
if not os.path.isfile(os.path.join(include, "gaussmix", "gaussmix.hpp")):
    sys.exit(f"gaussmix: the C++ headers are not at {include}; build from a checkout of the repository")


def version():
    text = open(os.path.join(include, "gaussmix", "version.hpp")).read()
    parts = [re.search(rf"#define GAUSSMIX_VERSION_{p} (\d+)", text).group(1) for p in ("MAJOR", "MINOR", "PATCH")]
    return ".".join(parts)


def eigen_include():
    for candidate in (os.environ.get("EIGEN3_INCLUDE_DIR"), "/usr/include/eigen3", "/usr/local/include/eigen3"):
        if candidate and os.path.isfile(os.path.join(candidate, "Eigen", "Core")):
            return candidate
    sys.exit("gaussmix: Eigen 3.4 not found (Debian: apt-get install libeigen3-dev; or set EIGEN3_INCLUDE_DIR)")


# Built on the machine that runs it, so for its instruction set by default (AVX2/FMA where present);
# GAUSSMIX_MARCH= (empty) builds for the compiler's default target, e.g. for a shared venv.
march = os.environ.get("GAUSSMIX_MARCH", "native")
openmp = [] if os.environ.get("GAUSSMIX_NO_OPENMP") else ["-fopenmp"]
extension = Pybind11Extension(
    "gaussmix._core",
    [os.path.relpath(os.path.join(here, "src", "core.cpp"), here)],
    include_dirs=[include, eigen_include()],
    define_macros=[("EIGEN_DONT_PARALLELIZE", None)],
    # -g0: Python's own CFLAGS carry -g, and debug info for this Eigen-heavy module nearly doubles the
    # compile (measured 192 -> 111 CPU-s with g++ 12) and the .so; GAUSSMIX_DEBUG=1 keeps it.
    extra_compile_args=["-O3"] + ([] if os.environ.get("GAUSSMIX_DEBUG") else ["-g0"])
    + ([f"-march={march}"] if march else []) + openmp,
    extra_link_args=openmp,
    cxx_std=17,
)

setup(
    name="gaussmix",
    version=version(),
    description="Gaussian mixture models fitted by EM in C++: a drop-in for scikit-learn's GaussianMixture",
    license="MIT",
    packages=["gaussmix"],
    package_dir={"gaussmix": os.path.relpath(os.path.join(here, "gaussmix"), here)},
    ext_modules=[extension],
    cmdclass={"build_ext": build_ext},
    install_requires=["numpy"],
    extras_require={"sklearn": ["scikit-learn"]},
    python_requires=">=3.8",
    zip_safe=False,
)
