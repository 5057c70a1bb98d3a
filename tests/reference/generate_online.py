#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Reference values for online (stepwise) EM, written with numpy alone (independent of gaussmix).

For each covariance type: starting parameters, then weighted batches; each step takes the batch's
normalised statistics under the current parameters (N_k / W, sum w r x / W, sum w r x x^T / W, about
the origin), blends them into the running ones with rho_t = (t + t0)^(-kappa) (rho_1 = 1), and runs
the M-step (+ reg_covar). Writes tests/reference/online_<type>.json. Run: /usr/bin/python3 generate_online.py
"""
import json
import os

import numpy as np

KAPPA, T0, REG = 0.6, 2.0, 1e-6
HERE = os.path.dirname(os.path.abspath(__file__))


def log_gauss(X, mean, cov):
    d = X.shape[1]
    L = np.linalg.cholesky(cov)
    z = np.linalg.solve(L, (X - mean).T)
    return -0.5 * (d * np.log(2 * np.pi) + (z * z).sum(0)) - np.log(np.diag(L)).sum()


def dense_covs(ctype, covs, K, d):
    if ctype == "full":
        return [np.array(c) for c in covs]
    if ctype == "tied":
        return [np.array(covs)] * K
    if ctype == "diag":
        return [np.diag(c) for c in covs]
    return [np.eye(d) * c for c in covs]


def estep(X, w, weights, means, covs):
    lp = np.stack([np.log(weights[k]) + log_gauss(X, means[k], covs[k]) for k in range(len(weights))], 1)
    m = lp.max(1, keepdims=True)
    norm = m[:, 0] + np.log(np.exp(lp - m).sum(1))
    r = np.exp(lp - norm[:, None]) * w[:, None]
    W = w.sum()
    N = r.sum(0) / W
    S = r.T @ X / W  # K x d, about the origin
    M = np.einsum("ik,ia,ib->kab", r, X, X) / W  # K x d x d, about the origin
    return N, S, M, float((w * norm).sum() / W)


def mstep(ctype, N, S, M, K, d):
    Nf = N + 10 * np.finfo(float).eps
    weights = Nf / Nf.sum()
    means = S / N[:, None]
    if ctype == "full":
        covs = [M[k] / N[k] - np.outer(means[k], means[k]) + REG * np.eye(d) for k in range(K)]
        out = [c.tolist() for c in covs]
    elif ctype == "tied":
        c = (M.sum(0) - sum(N[k] * np.outer(means[k], means[k]) for k in range(K))) / N.sum() + REG * np.eye(d)
        covs, out = [c] * K, c.tolist()
    elif ctype == "diag":
        v = [np.diag(M[k]) / N[k] - means[k] ** 2 + REG for k in range(K)]
        covs, out = [np.diag(x) for x in v], [x.tolist() for x in v]
    else:
        v = [(np.diag(M[k]) / N[k] - means[k] ** 2).mean() + REG for k in range(K)]
        covs, out = [np.eye(d) * x for x in v], v
    return weights, means, covs, out


def main():
    rng = np.random.default_rng(20261128)
    K, d, n, batches = 3, 3, 60, 5
    centres = np.array([[0.0, 0.0, 0.0], [4.0, 1.0, -2.0], [-3.0, 5.0, 1.0]]) + 100.0  # offset: tests the shifts
    for ctype in ["full", "diag", "spherical", "tied"]:
        data = [centres[rng.integers(0, K, n)] + rng.normal(size=(n, d)) * [1.0, 0.7, 1.3] for _ in range(batches)]
        wts = [rng.uniform(0.5, 2.0, n) for _ in range(batches)]
        weights = np.array([0.3, 0.3, 0.4])
        means = centres + rng.normal(scale=0.8, size=(K, d))
        if ctype == "full":
            start = [(np.eye(d) * 1.5).tolist() for _ in range(K)]
        elif ctype == "tied":
            start = (np.eye(d) * 1.5).tolist()
        elif ctype == "diag":
            start = [[1.5] * d for _ in range(K)]
        else:
            start = [1.5] * K
        doc = {"covariance_type": ctype, "n_components": K, "reg_covar": REG, "step_decay": KAPPA,
               "step_offset": T0, "weights": weights.tolist(), "means": means.tolist(), "covariances": start,
               "steps": []}
        covs = dense_covs(ctype, start, K, d)
        run = None
        for t in range(1, batches + 1):
            X, w = data[t - 1], wts[t - 1]
            N, S, M, ll = estep(X, w, weights, means, covs)
            rho = 1.0 if t == 1 else (t + T0) ** (-KAPPA)
            b = (N, S, M, ll)
            run = b if run is None else tuple((1 - rho) * a + rho * c for a, c in zip(run, b))
            weights, means, covs, out = mstep(ctype, run[0], run[1], run[2], K, d)
            second = run[2].sum(0).tolist() if ctype == "tied" else [m.tolist() for m in run[2]]
            doc["steps"].append({"X": X.tolist(), "sample_weight": w.tolist(), "rho": rho, "lower_bound": ll,
                                 "weight": run[0].tolist(), "first": run[1].tolist(), "second": second,
                                 "log_likelihood": float(run[3]), "weights": weights.tolist(),
                                 "means": means.tolist(), "covariances": out})
        with open(os.path.join(HERE, "online_%s.json" % ctype), "w") as f:
            json.dump(doc, f, indent=1)
            f.write("\n")


if __name__ == "__main__":
    main()
