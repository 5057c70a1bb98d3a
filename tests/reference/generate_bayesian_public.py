#!/usr/bin/python3
"""The "new user" check of BayesianGaussianMixture on public data sets gaussmix was not tuned on:
scikit-learn's bundled iris, wine and breast_cancer (sklearn.datasets.load_*). For each data set
and covariance type, scikit-learn 1.2.1 starts from fixed random responsibilities (_initialize,
what gaussmix's m_step does on an unfitted model) and runs 100 iterations (tol = 0) with its
defaults otherwise (K = 6, Dirichlet process). Written to tests/reference/bayes_public.json.
"""
import json
import os
import warnings

import numpy as np
import sklearn
from sklearn import datasets
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import BayesianGaussianMixture

from generate_bayesian import state

assert sklearn.__version__ == "1.2.1", sklearn.__version__
warnings.simplefilter("ignore", ConvergenceWarning)
HERE = os.path.dirname(os.path.abspath(__file__))
K, MAX_ITER = 6, 100


def main():
    cases, data = [], {}
    for name in ("iris", "wine", "breast_cancer"):
        X = getattr(datasets, "load_" + name)().data.astype(np.float64)
        rng = np.random.default_rng(7)
        resp = rng.uniform(size=(len(X), K))
        resp /= resp.sum(axis=1, keepdims=True)
        X_test = X[rng.choice(len(X), 10, replace=False)]
        data[name] = {"X": X.tolist(), "resp": resp.tolist(), "X_test": X_test.tolist()}
        for cov in ("full", "diag", "spherical", "tied"):
            m = BayesianGaussianMixture(n_components=K, covariance_type=cov, tol=0.0, max_iter=MAX_ITER,
                                        warm_start=True, random_state=0)
            m._check_parameters(X)
            m._initialize(X, resp)
            m.lower_bound_ = -np.inf
            m.converged_ = False
            m.fit(X)
            cases.append({"name": f"{name}_{cov}", "covariance_type": cov, "weight_prior": "dirichlet_process",
                          "n_components": K, "reg_covar": 1e-6, "data": name,
                          "starts": [{"kind": "soft",
                                      "steps": [dict(max_iter=MAX_ITER, **state(m, X_test))]}]})
    with open(os.path.join(HERE, "bayes_public.json"), "w") as f:
        json.dump({"generator": "generate_bayesian_public.py", "sklearn": sklearn.__version__, "data": data,
                   "cases": cases}, f,
                  separators=(",", ":"))


if __name__ == "__main__":
    main()
