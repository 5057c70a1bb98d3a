#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Reference values for constrained EM (fixed parameters, known labels), written with numpy alone
(independent of gaussmix): dense responsibilities, the M-step written out directly from them.

Constraints (component indices): fixed weights keep their value and the free weights share the mass
1 - sum(fixed) in proportion to N_k (+ 10 eps, as scikit-learn's floor); a fixed mean keeps its value and
the component's free covariance is the responsibility-weighted second moment about it; a fixed covariance
keeps its value (no reg_covar). Labels: row i with label l >= 0 has r_i = e_l and contributes
log pi_l + log N(x_i | l) to the bound; -1 rows are ordinary EM rows. Each case starts from its init
and runs 1 and 20 iterations (tol = 0); the bound is that of the last E-step, the parameters those of the
last M-step. Writes tests/reference/constraints.json. Run: /usr/bin/python3 generate_constraints.py
"""
import json
import os

import numpy as np

REG = 1e-6
EPS10 = 10 * np.finfo(float).eps
HERE = os.path.dirname(os.path.abspath(__file__))


def log_gauss(X, mean, cov):
    d = X.shape[1]
    L = np.linalg.cholesky(cov)
    z = np.linalg.solve(L, (X - mean).T)
    return -0.5 * (d * np.log(2 * np.pi) + (z * z).sum(0)) - np.log(np.diag(L)).sum()


def estep(X, w, labels, weights, means, covs):
    K = len(weights)
    lp = np.stack([np.log(weights[k]) + log_gauss(X, means[k], covs[k]) for k in range(K)], 1)
    m = lp.max(1, keepdims=True)
    norm = m[:, 0] + np.log(np.exp(lp - m).sum(1))
    r = np.exp(lp - norm[:, None])
    known = labels >= 0
    r[known] = np.eye(K)[labels[known]]
    norm[known] = lp[known, labels[known]]
    return r, float((w * norm).sum() / w.sum())


def mstep(ctype, X, w, r, weights, means, covs, fw, fm, fc):
    K, d = r.shape[1], X.shape[1]
    rw = r * w[:, None]
    N = rw.sum(0)
    nk = N + EPS10
    if fw:
        left = 1 - sum(weights[j] for j in fw)
        free = [k for k in range(K) if k not in fw]
        new_w = np.array(weights, dtype=float)
        new_w[free] = left * nk[free] / nk[free].sum()
    else:
        new_w = nk / nk.sum()
    new_m = np.array([means[k] if k in fm else rw[:, k] @ X / N[k] for k in range(K)])
    # second moment of each component about its (new or fixed) mean
    M = [(rw[:, k, None] * (X - new_m[k])).T @ (X - new_m[k]) for k in range(K)]
    if ctype == "tied":
        if fc:
            new_c = [covs[0]] * K
        else:
            c = sum(M) / N.sum() + REG * np.eye(d)
            new_c = [c] * K
    else:
        new_c = []
        for k in range(K):
            if k in fc:
                new_c.append(covs[k])
                continue
            S = M[k] / N[k]
            if ctype == "full":
                new_c.append(S + REG * np.eye(d))
            elif ctype == "diag":
                new_c.append(np.diag(np.diag(S) + REG))
            else:
                new_c.append(np.eye(d) * (np.trace(S) / d + REG))
    return new_w, new_m, new_c


def initial(ctype, rng, K, d):
    weights = np.array([0.5, 0.3, 0.2])
    means = np.array([[-1.5, 0.5, 0.0], [1.0, 1.5, -0.5], [0.5, -2.0, 1.0]])
    covs = []
    for k in range(K):
        A = rng.normal(size=(d, d)) * 0.3
        covs.append(A @ A.T + (0.8 + 0.2 * k) * np.eye(d))
    if ctype == "tied":
        covs = [covs[0]] * K
    elif ctype == "diag":
        covs = [np.diag(np.diag(c)) for c in covs]
    elif ctype == "spherical":
        covs = [np.eye(d) * (np.trace(c) / d) for c in covs]
    return weights, means, covs


def main():
    rng = np.random.default_rng(20261128)
    K, d, n = 3, 3, 240
    centres = np.array([[-2.0, 0.0, 0.5], [1.5, 2.0, -1.0], [1.0, -2.5, 1.5]])
    z = rng.choice(K, size=n, p=[0.45, 0.35, 0.2])
    X = centres[z] + rng.normal(size=(n, d)) @ np.diag([1.0, 0.7, 1.3])
    w = rng.uniform(0.2, 2.0, size=n)
    labels = np.full(n, -1)
    picked = rng.choice(n, size=n // 10, replace=False)
    labels[picked] = z[picked]
    scenarios = [
        ("fixed_weights", dict(fw=[0], fm=[], fc=[]), False, False),
        ("fixed_means", dict(fw=[], fm=[1], fc=[]), False, False),
        ("fixed_covariances", dict(fw=[], fm=[], fc=[2]), False, False),
        ("fixed_mixed_weighted", dict(fw=[1, 2], fm=[0, 2], fc=[0]), True, False),
        ("labels", dict(fw=[], fm=[], fc=[]), False, True),
        ("labels_weighted_fixed_mean", dict(fw=[], fm=[2], fc=[]), True, True),
    ]
    cases = []
    for ctype in ["full", "diag", "spherical", "tied"]:
        init_rng = np.random.default_rng(7)
        weights0, means0, covs0 = initial(ctype, init_rng, K, d)
        for name, fixed, weighted, labelled in scenarios:
            fixed = dict(fixed)
            if ctype == "tied" and fixed["fc"]:
                fixed["fc"] = list(range(K))  # one shared matrix: all or none
            ww = w if weighted else np.ones(n)
            ll = labels if labelled else np.full(n, -1)
            steps = []
            for max_iter in (1, 20):
                weights, means, covs = weights0, means0, covs0
                history = []
                for _ in range(max_iter):
                    r, bound = estep(X, ww, ll, weights, means, covs)
                    history.append(bound)
                    weights, means, covs = mstep(ctype, X, ww, r, weights, means, covs, **fixed)
                steps.append(dict(max_iter=max_iter, lower_bound=history[-1], history=history,
                                  weights=list(weights), means=means.tolist(), covariances=[c.tolist() for c in covs]))
            cases.append(dict(name=f"{ctype}_{name}", covariance_type=ctype, fixed_weights=fixed["fw"],
                              fixed_means=fixed["fm"], fixed_covariances=fixed["fc"], weighted=weighted,
                              labelled=labelled, init=dict(weights=list(weights0), means=means0.tolist(),
                                                           covariances=[c.tolist() for c in covs0]),
                              steps=steps))
    out = dict(numpy_version=np.__version__, reg_covar=REG, n_components=K, X=X.tolist(),
               sample_weight=w.tolist(), labels=labels.tolist(), cases=cases)
    with open(os.path.join(HERE, "constraints.json"), "w") as f:
        json.dump(out, f, indent=None, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
