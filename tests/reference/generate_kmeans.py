"""Generate the scikit-learn KMeans reference used by tests/test_kmeans.cpp.

Regenerate (needs Debian's python3-sklearn, i.e. the system interpreter):

    /usr/bin/python3 tests/reference/generate_kmeans.py

It rewrites kmeans.json next to this script. Each case runs scikit-learn's Lloyd k-means
(KMeans(init=<given centres>, n_init=1, algorithm="lloyd")) from fixed initial centres, so
gaussmix::lloyd can be compared with it from the same start: labels, centres and the number of
rounds (scikit-learn's n_iter_), which shows the stopping rule (no label change, or a total
squared centre shift <= tol x mean column variance) is the same. Data are deterministic
(numpy RandomState with fixed seeds) and chosen so that no cluster empties (scikit-learn
relocates empty clusters differently from gaussmix).
"""

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"):
    os.environ[_var] = "1"

import json  # noqa: E402

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from sklearn.cluster import KMeans  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def blobs(rng, n, d, K, separation, spread):
    centres = separation * rng.standard_normal((K, d))
    labels = rng.randint(0, K, size=n)
    return centres[labels] + spread * rng.standard_normal((n, d))


def case(name, X, K, rng, tol=1e-4, max_iter=300, weights=None):
    # Initial centres: K distinct rows of X, fixed by the seed.
    rows = rng.choice(X.shape[0], size=K, replace=False)
    init = X[rows].copy()
    km = KMeans(n_clusters=K, init=init, n_init=1, max_iter=max_iter, tol=tol, algorithm="lloyd")
    km.fit(X, sample_weight=weights)
    counts = np.bincount(km.labels_, minlength=K)
    assert counts.min() > 0, f"{name}: a cluster emptied"
    out = {
        "name": name,
        "tol": tol,
        "max_iter": max_iter,
        "X": X.tolist(),
        "initial_centers": init.tolist(),
        "labels": km.labels_.tolist(),
        "centers": km.cluster_centers_.tolist(),
        "n_iter": int(km.n_iter_),
    }
    if weights is not None:
        out["sample_weight"] = weights.tolist()
    return out


def main():
    rng = np.random.RandomState(20261128)
    cases = [
        # Overlapping clusters: stops on the centre shift before the labels settle.
        case("overlapping_d3_k5", blobs(rng, 1500, 3, 5, 1.5, 1.0), 5, rng),
        # Well separated: the labels settle (strict convergence).
        case("separated_d8_k6", blobs(rng, 1200, 8, 6, 6.0, 0.5), 6, rng),
        # Far from the origin: 1e6 offset, unit clusters 3 apart (cancellation in ||x||^2 - 2 x.c + ||c||^2).
        case("offset_1e6_d2_k4", 1e6 + blobs(rng, 1000, 2, 4, 3.0, 1.0), 4, rng),
        # Sample weights.
        case("weighted_d4_k4", blobs(rng, 800, 4, 4, 2.0, 1.0), 4, rng,
             weights=rng.uniform(0.1, 3.0, size=800)),
        # Cut short by max_iter.
        case("max_iter_3_d2_k6", blobs(rng, 900, 2, 6, 1.0, 1.0), 6, rng, max_iter=3),
        # Tighter tolerance: more rounds.
        case("tol_1e-8_d5_k7", blobs(rng, 1000, 5, 7, 1.2, 1.0), 7, rng, tol=1e-8),
    ]
    with open(os.path.join(HERE, "kmeans.json"), "w") as f:
        json.dump({"generator": "tests/reference/generate_kmeans.py", "sklearn": sklearn.__version__,
                   "cases": cases}, f, separators=(",", ":"))


if __name__ == "__main__":
    main()
