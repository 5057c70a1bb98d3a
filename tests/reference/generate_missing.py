#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Reference values for EM with missing values (NaN = missing at random), written with numpy alone
(independent of gaussmix), row by row from the textbook formulas (Ghahramani & Jordan 1994):

E-step: row i with observed entries o and missing entries m has log p(x_o) = log sum_k pi_k N(x_o | mu_ko,
Sigma_k,oo) and responsibilities r_ik from it. Per component the conditional mean of the missing part,
xhat_m = mu_km + Sigma_k,mo Sigma_k,oo^-1 (x_o - mu_ko), and the conditional covariance
C = Sigma_k,mm - Sigma_k,mo Sigma_k,oo^-1 Sigma_k,om (zero in the observed block).
M-step: N_k = sum_i w_i r_ik; mu_k = sum_i w_i r_ik xhat_ik / N_k;
S_k = sum_i w_i r_ik ((xhat_ik - mu_k)(xhat_ik - mu_k)^T + C_ik) / N_k, then per covariance type as
scikit-learn (reg_covar on the diagonal; diag keeps diag(S_k); spherical trace(S_k)/d; tied
sum_k N_k S_k / sum_k N_k); pi_k proportional to N_k + 10 eps.
The bound is the weighted mean of log p(x_o) at the last E-step. Each case starts from a fixed init and
runs 1 and 20 iterations. score_samples and impute (E[x_m | x_o] = sum_k r_ik xhat_ik) are given for the
first rows under the 20-iteration parameters. NaN is written as null.
Writes tests/reference/missing.json. Run: /usr/bin/python3 generate_missing.py
"""
import json
import os

import numpy as np

REG = 1e-6
EPS10 = 10 * np.finfo(float).eps
HERE = os.path.dirname(os.path.abspath(__file__))
N_SCORED = 15


def row_terms(x, weights, means, covs):
    """Per component: log pi_k + log N(x_o), xhat (d), C (d x d)."""
    o = ~np.isnan(x)
    m = ~o
    d = len(x)
    logs, xhats, conds = [], [], []
    for k in range(len(weights)):
        S = covs[k]
        Soo = S[np.ix_(o, o)]
        diff = x[o] - means[k][o]
        sol = np.linalg.solve(Soo, diff)
        sign, logdet = np.linalg.slogdet(Soo)
        assert sign > 0
        logs.append(np.log(weights[k]) - 0.5 * (o.sum() * np.log(2 * np.pi) + logdet + diff @ sol))
        xhat = x.copy()
        C = np.zeros((d, d))
        if m.any():
            Smo = S[np.ix_(m, o)]
            xhat[m] = means[k][m] + Smo @ sol
            C[np.ix_(m, m)] = S[np.ix_(m, m)] - Smo @ np.linalg.solve(Soo, Smo.T)
        xhats.append(xhat)
        conds.append(C)
    return np.array(logs), xhats, conds


def posterior(logs):
    top = logs.max()
    norm = top + np.log(np.exp(logs - top).sum())
    return np.exp(logs - norm), norm


def em_step(ctype, X, w, weights, means, covs):
    n, d = X.shape
    K = len(weights)
    N = np.zeros(K)
    bound = 0.0
    rows = []
    for i in range(n):
        logs, xhats, conds = row_terms(X[i], weights, means, covs)
        r, norm = posterior(logs)
        bound += w[i] * norm
        rows.append((r * w[i], xhats, conds))
        N += r * w[i]
    new_m = np.array([sum(g[k] * xh[k] for g, xh, _ in rows) / N[k] for k in range(K)])
    S = []
    for k in range(K):
        acc = np.zeros((d, d))
        for g, xh, C in rows:
            e = xh[k] - new_m[k]
            acc += g[k] * (np.outer(e, e) + C[k])
        S.append(acc / N[k])
    nk = N + EPS10
    new_w = nk / nk.sum()
    if ctype == "full":
        new_c = [s + REG * np.eye(d) for s in S]
    elif ctype == "diag":
        new_c = [np.diag(np.diag(s) + REG) for s in S]
    elif ctype == "spherical":
        new_c = [np.eye(d) * (np.trace(s) / d + REG) for s in S]
    else:
        c = sum(N[k] * S[k] for k in range(K)) / N.sum() + REG * np.eye(d)
        new_c = [c] * K
    return bound / w.sum(), new_w, new_m, new_c


def initial(ctype, rng, K, d):
    weights = np.array([0.4, 0.35, 0.25])
    means = np.array([[-1.5, 0.5, 0.0, 1.0], [1.0, 1.5, -0.5, 0.0], [0.5, -2.0, 1.0, -1.0]])
    covs = []
    for k in range(K):
        A = rng.normal(size=(d, d)) * 0.4
        covs.append(A @ A.T + (0.8 + 0.2 * k) * np.eye(d))
    if ctype == "tied":
        covs = [covs[0]] * K
    elif ctype == "diag":
        covs = [np.diag(np.diag(c)) for c in covs]
    elif ctype == "spherical":
        covs = [np.eye(d) * (np.trace(c) / d) for c in covs]
    return weights, means, covs


def nan_to_none(A):
    return [[None if np.isnan(v) else float(v) for v in row] for row in A]


def main():
    rng = np.random.default_rng(20261128)
    K, d, n = 3, 4, 150
    centres = np.array([[-2.0, 0.0, 0.5, 1.0], [1.5, 2.0, -1.0, 0.0], [1.0, -2.5, 1.5, -1.5]])
    z = rng.choice(K, size=n, p=[0.45, 0.35, 0.2])
    mix = np.array([[1.0, 0.4, 0.0, 0.0], [0.0, 0.8, 0.3, 0.0], [0.0, 0.0, 1.2, -0.4], [0.0, 0.0, 0.0, 0.9]])
    X = centres[z] + rng.normal(size=(n, d)) @ mix
    w = rng.uniform(0.2, 2.0, size=n)
    patterns = {}
    for name, rate in (("mcar10", 0.1), ("mcar30", 0.3)):
        M = rng.uniform(size=(n, d)) < rate
        for i in range(n):  # keep one observed entry per row
            if M[i].all():
                M[i, rng.integers(d)] = False
        patterns[name] = M
    B = np.zeros((n, d), dtype=bool)  # block pattern: a third of the rows lack their last two features
    B[: n // 3, 2:] = True
    B[n // 3: n // 2, 0] = True
    patterns["block"] = B
    data = {}
    for name, M in patterns.items():
        Xm = X.copy()
        Xm[M] = np.nan
        data[name] = Xm
    cases = []
    for ctype in ["full", "diag", "spherical", "tied"]:
        weights0, means0, covs0 = initial(ctype, np.random.default_rng(7), K, d)
        for pattern in ("mcar10", "mcar30", "block"):
            for weighted in ((False, True) if pattern == "mcar30" else (False,)):
                Xm = data[pattern]
                ww = w if weighted else np.ones(n)
                steps = []
                for max_iter in (1, 20):
                    weights, means, covs = weights0, means0, covs0
                    history = []
                    for _ in range(max_iter):
                        bound, weights, means, covs = em_step(ctype, Xm, ww, weights, means, covs)
                        history.append(bound)
                    step = dict(max_iter=max_iter, lower_bound=history[-1], history=history, weights=list(weights),
                                means=means.tolist(), covariances=[c.tolist() for c in covs])
                    if max_iter == 20:
                        scores, imputed = [], []
                        for i in range(N_SCORED):
                            logs, xhats, _ = row_terms(Xm[i], weights, means, covs)
                            r, norm = posterior(logs)
                            scores.append(float(norm))
                            imputed.append(sum(r[k] * xhats[k] for k in range(K)).tolist())
                        step["score_samples"] = scores
                        step["impute"] = imputed
                    steps.append(step)
                cases.append(dict(name=f"{ctype}_{pattern}" + ("_weighted" if weighted else ""), covariance_type=ctype,
                                  pattern=pattern, weighted=weighted,
                                  init=dict(weights=list(weights0), means=means0.tolist(),
                                            covariances=[c.tolist() for c in covs0]),
                                  steps=steps))
    out = dict(numpy_version=np.__version__, reg_covar=REG, n_components=K, n_scored=N_SCORED,
               X={name: nan_to_none(Xm) for name, Xm in data.items()}, sample_weight=w.tolist(), cases=cases)
    with open(os.path.join(HERE, "missing.json"), "w") as f:
        json.dump(out, f, indent=None, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
