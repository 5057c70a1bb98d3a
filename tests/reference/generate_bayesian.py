#!/usr/bin/python3
"""Reference values for gaussmix::BayesianGaussianMixture from scikit-learn 1.2.1.

For every covariance type x weight prior x d in {1, 2, 5} x K in {1, 3, 8} and two starting
responsibilities (soft: random rows normalised; hard: one-hot labels), scikit-learn's
BayesianGaussianMixture is started with _initialize(X, resp) (what gaussmix's m_step does on an
unfitted model) and run with warm_start, tol = 0 for max_iter in {1, 5, 50}. Written to
tests/reference/bayes_<type>.json. Run with /usr/bin/python3 (Debian's sklearn).
"""
import json
import os
import warnings

import numpy as np
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import BayesianGaussianMixture

assert sklearn.__version__ == "1.2.1", sklearn.__version__
warnings.simplefilter("ignore", ConvergenceWarning)

HERE = os.path.dirname(os.path.abspath(__file__))
TYPES = ["full", "diag", "spherical", "tied"]
PRIORS = ["dirichlet_process", "dirichlet_distribution"]
STEPS = [1, 5, 50]
N, N_TEST = 60, 8


def data(rng, d):
    # Four well separated clusters of unequal size and spread.
    centres = rng.normal(scale=6.0, size=(4, d))
    sizes = [24, 16, 12, 8]
    X = np.vstack([c + rng.normal(scale=0.5 + 0.4 * j, size=(s, d)) for j, (c, s) in enumerate(zip(centres, sizes))])
    rng.shuffle(X)
    X_test = centres[rng.integers(0, 4, N_TEST)] + rng.normal(size=(N_TEST, d))
    return X, X_test


def start(rng, n, K, kind):
    if kind == "soft":
        r = rng.uniform(size=(n, K)) + 0.05
        return r / r.sum(axis=1, keepdims=True)
    labels = np.arange(n) % K
    rng.shuffle(labels)
    r = np.zeros((n, K))
    r[np.arange(n), labels] = 1.0
    return r


def state(m, X_test):
    wc = m.weight_concentration_
    wc = np.column_stack(wc) if isinstance(wc, tuple) else wc[:, None]
    dof = np.broadcast_to(m.degrees_of_freedom_, (m.n_components,))
    return {
        "n_iter": int(m.n_iter_),
        "lower_bound": float(m.lower_bound_),
        "weights": m.weights_.tolist(),
        "means": m.means_.tolist(),
        "covariances": np.asarray(m.covariances_).tolist(),
        "weight_concentration": wc.tolist(),
        "mean_precision": np.asarray(m.mean_precision_).tolist(),
        "degrees_of_freedom": dof.tolist(),
        "score_samples": m.score_samples(X_test).tolist(),
        "predict_proba": m.predict_proba(X_test).tolist(),
    }


def run(X, X_test, resp, cov, prior, K, max_iter):
    m = BayesianGaussianMixture(n_components=K, covariance_type=cov, weight_concentration_prior_type=prior,
                                tol=0.0, max_iter=max_iter, warm_start=True, reg_covar=1e-6, random_state=0)
    m._check_parameters(X)
    m._initialize(X, resp)
    m.lower_bound_ = -np.inf
    m.converged_ = False
    m.fit(X)
    return state(m, X_test)


def main():
    for cov in TYPES:
        cases = []
        seed = 1000 * TYPES.index(cov)
        for prior in PRIORS:
            for d in (1, 2, 5):
                for K in (1, 3, 8):
                    seed += 1
                    rng = np.random.default_rng(seed)
                    X, X_test = data(rng, d)
                    case = {"name": f"{cov}_{prior}_d{d}_k{K}", "covariance_type": cov, "weight_prior": prior,
                            "n_components": K, "reg_covar": 1e-6, "X": X.tolist(), "X_test": X_test.tolist(),
                            "starts": []}
                    for kind in ("soft", "hard"):
                        resp = start(rng, len(X), K, kind)
                        steps = [dict(max_iter=s, **run(X, X_test, resp, cov, prior, K, s)) for s in STEPS]
                        case["starts"].append({"kind": kind, "resp": resp.tolist(), "steps": steps})
                    cases.append(case)
        with open(os.path.join(HERE, f"bayes_{cov}.json"), "w") as f:
            json.dump({"generator": "generate_bayesian.py", "sklearn": sklearn.__version__, "cases": cases}, f,
                      separators=(",", ":"))


if __name__ == "__main__":
    main()
