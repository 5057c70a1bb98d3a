#!/usr/bin/env bash
# The README's pip install of the Python package, exactly as documented, in a fresh venv made from
# Debian's /usr/bin/python3 (offline: --no-build-isolation uses Debian's setuptools and pybind11),
# then `import gaussmix` from another directory, a smoke fit and a subset of the pytest suite
# against the installed package. Usage: bash python/ci_pip_install_test.sh (from anywhere).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gaussmix-pip.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# Work on a clean copy of the tracked files, as a fresh clone would be (no build/ directory).
git -C "$repo" ls-files -z | (cd "$repo" && xargs -0 tar -cf - --no-recursion) | tar -xf - -C "$tmp" --one-top-level=src
cd "$tmp/src"

# --- the documented commands (README.md, "Python") ---
/usr/bin/python3 -m venv --system-site-packages "$tmp/venv"
"$tmp/venv/bin/pip" install --no-build-isolation ./python

# --- checks, from another directory so the checkout's python/ is not on sys.path ---
cd "$tmp"
"$tmp/venv/bin/python" - <<'PY'
import numpy as np
import gaussmix
from gaussmix import GaussianMixture
print("gaussmix", gaussmix.__version__, "from", gaussmix.__file__, "openmp:", gaussmix._core.openmp)
assert "/venv/" in gaussmix.__file__, gaussmix.__file__
rng = np.random.RandomState(0)
X = np.vstack([rng.randn(300, 2), rng.randn(300, 2) + 6])
gmm = GaussianMixture(n_components=2, random_state=0).fit(X)
assert gmm.converged_ and sorted(np.bincount(gmm.predict(X))) == [300, 300]
print("smoke fit ok: weights", gmm.weights_, "lower bound", gmm.lower_bound_)
PY
"$tmp/venv/bin/python" -m pytest -q -p no:cacheprovider "$tmp/src/python/tests" \
  -k "same_start_same_fit or pickle or sample_weights or zero or read_in_place or numpy_only or fit_file"
