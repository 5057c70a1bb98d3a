#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Reference values for MAP EM under a conjugate prior (Options::prior), written with numpy and scipy
alone (independent of gaussmix): dense responsibilities, the posterior-mode M-step of Fraley & Raftery
(2007) written out from the responsibility-weighted mean xbar_k and scatter W_k about it, and the log
prior density from scipy.stats' own densities.

Prior: mu_k | Sigma_k ~ N(mu_P, Sigma_k / kappa), Sigma_k ~ IW(nu, Lambda) (full; tied: one IW for the
shared matrix, K normals); diag: sigma2_kj ~ IG(nu/2, Lambda_jj/2), mu_kj ~ N(mu_Pj, sigma2_kj / kappa);
spherical: sigma2_k ~ IG(nu/2, lambda/2), mu_k ~ N(mu_P, sigma2_k I / kappa). No prior on the weights.
Defaults (mclust's defaultPrior): kappa = 0.01, mu_P = mean of X, nu = d + 2, Lambda = cov(X, ddof 1) /
K^(2/d) for full and tied, (trace(cov) / d) / K^(2/d) times I for diag and spherical. Sample weights are
divided by their largest first (as gaussmix does), and weight every sum (the mean and covariance too).

Bound of an iteration: (sum_i w_i log p(x_i) + log p(theta)) / sum_i w_i at the E-step's parameters.
Each case starts from its init and runs 1 and 20 iterations (tol = 0). Writes tests/reference/map_prior.json.
Run: /usr/bin/python3 generate_map_prior.py
"""
import json
import os

import numpy as np
from scipy import stats

REG = 1e-6
EPS10 = 10 * np.finfo(float).eps
HERE = os.path.dirname(os.path.abspath(__file__))


def log_gauss(X, mean, cov):
    d = X.shape[1]
    L = np.linalg.cholesky(cov)
    z = np.linalg.solve(L, (X - mean).T)
    return -0.5 * (d * np.log(2 * np.pi) + (z * z).sum(0)) - np.log(np.diag(L)).sum()


def estep(X, w, weights, means, covs):
    K = len(weights)
    lp = np.stack([np.log(weights[k]) + log_gauss(X, means[k], covs[k]) for k in range(K)], 1)
    m = lp.max(1, keepdims=True)
    norm = m[:, 0] + np.log(np.exp(lp - m).sum(1))
    return np.exp(lp - norm[:, None]), float((w * norm).sum())


def default_prior(ctype, X, w, K, given):
    d = X.shape[1]
    mean = (w[:, None] * X).sum(0) / w.sum()
    cov = ((w[:, None] * (X - mean)).T @ (X - mean)) / (w.sum() - 1)
    fac = K ** (-2.0 / d)
    if ctype in ("full", "tied"):
        scale = fac * cov
    else:
        scale = fac * np.trace(cov) / d * np.eye(d)
    prior = dict(shrinkage=0.01, mean=mean, dof=d + 2.0, scale=scale)
    prior.update(given)
    return prior


def log_prior(ctype, prior, means, covs):
    kappa, mu_p, nu, scale = prior["shrinkage"], prior["mean"], prior["dof"], prior["scale"]
    K, d = means.shape
    total = 0.0
    if ctype in ("full", "tied"):
        for k in range(1 if ctype == "tied" else K):
            total += stats.invwishart(df=nu, scale=scale).logpdf(covs[k])
        for k in range(K):
            total += stats.multivariate_normal(mean=mu_p, cov=covs[k] / kappa).logpdf(means[k])
        return total
    for k in range(K):
        if ctype == "diag":
            for j in range(d):
                s2 = covs[k][j, j]
                total += stats.invgamma(nu / 2, scale=scale[j, j] / 2).logpdf(s2)
                total += stats.norm(mu_p[j], np.sqrt(s2 / kappa)).logpdf(means[k][j])
        else:
            s2 = covs[k][0, 0]
            total += stats.invgamma(nu / 2, scale=scale[0, 0] / 2).logpdf(s2)
            total += stats.norm(mu_p, np.sqrt(s2 / kappa)).logpdf(means[k]).sum()
    return total


def map_mstep(ctype, X, w, r, prior):
    K, d = r.shape[1], X.shape[1]
    kappa, mu_p, nu, scale = prior["shrinkage"], prior["mean"], prior["dof"], prior["scale"]
    rw = r * w[:, None]
    N = rw.sum(0)
    nk = N + EPS10
    new_w = nk / nk.sum()
    xbar = [rw[:, k] @ X / N[k] for k in range(K)]
    W = [(rw[:, k, None] * (X - xbar[k])).T @ (X - xbar[k]) for k in range(K)]
    new_m = np.array([(N[k] * xbar[k] + kappa * mu_p) / (N[k] + kappa) for k in range(K)])
    # the prior's pull of the mean: kappa N_k / (N_k + kappa) (xbar_k - mu_P)(xbar_k - mu_P)^T
    P = [kappa * N[k] / (N[k] + kappa) * np.outer(xbar[k] - mu_p, xbar[k] - mu_p) for k in range(K)]
    if ctype == "full":
        covs = [(scale + W[k] + P[k]) / (nu + N[k] + d + 2) + REG * np.eye(d) for k in range(K)]
    elif ctype == "tied":
        c = (scale + sum(W) + sum(P)) / (nu + N.sum() + d + K + 1) + REG * np.eye(d)
        covs = [c] * K
    elif ctype == "diag":
        covs = [np.diag((np.diag(scale) + np.diag(W[k]) + np.diag(P[k])) / (nu + N[k] + 3) + REG) for k in range(K)]
    else:
        covs = [np.eye(d) * ((scale[0, 0] + np.trace(W[k]) + np.trace(P[k])) / (nu + (N[k] + 1) * d + 2) + REG)
                for k in range(K)]
    return new_w, new_m, covs


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


def given_prior(ctype, d):
    if ctype in ("full", "tied"):
        scale = np.array([[0.9, 0.2, -0.1], [0.2, 0.7, 0.05], [-0.1, 0.05, 1.1]])
    elif ctype == "diag":
        scale = np.diag([0.5, 0.8, 1.2])
    else:
        scale = 0.7 * np.eye(d)
    return dict(shrinkage=0.5, mean=np.array([0.3, -0.2, 0.1]), dof=6.5, scale=scale)


def main():
    rng = np.random.default_rng(20261128)
    K, d, n = 3, 3, 240
    centres = np.array([[-2.0, 0.0, 0.5], [1.5, 2.0, -1.0], [1.0, -2.5, 1.5]])
    z = rng.choice(K, size=n, p=[0.45, 0.35, 0.2])
    # a small third cluster: the prior's pull on it is visible
    X = centres[z] + rng.normal(size=(n, d)) @ np.diag([1.0, 0.7, 1.3])
    sample_weight = rng.uniform(0.2, 2.0, size=n)
    cases = []
    for ctype in ["full", "diag", "spherical", "tied"]:
        weights0, means0, covs0 = initial(ctype, np.random.default_rng(7), K, d)
        for name, given, weighted in [("default", {}, False), ("given", given_prior(ctype, d), False),
                                      ("default_weighted", {}, True)]:
            w = sample_weight / sample_weight.max() if weighted else np.ones(n)
            prior = default_prior(ctype, X, w, K, given)
            steps = []
            for max_iter in (1, 20):
                weights, means, covs = weights0, means0, covs0
                history = []
                for _ in range(max_iter):
                    r, loglik = estep(X, w, weights, means, covs)
                    history.append((loglik + log_prior(ctype, prior, means, covs)) / w.sum())
                    weights, means, covs = map_mstep(ctype, X, w, r, prior)
                steps.append(dict(max_iter=max_iter, lower_bound=history[-1], history=history,
                                  weights=list(weights), means=means.tolist(), covariances=[c.tolist() for c in covs]))
            out_given = {}
            if given:
                out_given = dict(shrinkage=given["shrinkage"], mean=given["mean"].tolist(),
                                 degrees_of_freedom=given["dof"], scale=given["scale"].tolist())
            cases.append(dict(name=f"{ctype}_{name}", covariance_type=ctype, weighted=weighted, given=out_given,
                              resolved=dict(shrinkage=prior["shrinkage"], mean=prior["mean"].tolist(),
                                            degrees_of_freedom=prior["dof"], scale=prior["scale"].tolist()),
                              init=dict(weights=list(weights0), means=means0.tolist(),
                                        covariances=[c.tolist() for c in covs0]),
                              steps=steps))
    out = dict(numpy_version=np.__version__, reg_covar=REG, n_components=K, X=X.tolist(),
               sample_weight=sample_weight.tolist(), cases=cases)
    with open(os.path.join(HERE, "map_prior.json"), "w") as f:
        json.dump(out, f, indent=None, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
