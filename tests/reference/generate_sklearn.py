"""Generate the scikit-learn reference fixtures used by tests/test_sklearn_agreement.cpp.

Regenerate (needs Debian's python3-sklearn, i.e. the system interpreter):

    /usr/bin/python3 tests/reference/generate_sklearn.py

It rewrites em_full.json, em_diag.json, em_spherical.json, em_tied.json and
em_default_fit.json next to this script. The output is deterministic (numpy
RandomState with fixed seeds; scikit-learn runs with random_state=0).

Every case starts EM from fixed parameters (weights_init, means_init and
precisions_init = inverse of the stored dense covariances), runs exactly
max_iter in {1, 5, 50} iterations (tol=0) and records the fitted parameters
and the scikit-learn surface. Data and initial parameters lie on dyadic grids
(multiples of 2^-10 / 2^-12), so they are exact in float as well as double and
the float tests see the very same problem. Offset cases store data shifted by
1e6; scikit-learn is run on the exactly re-centred data (Sterbenz) because its
expanded-form diag/spherical/tied formulas lose digits at such an offset.

Each case is also re-run by an independent EM written here in long double
(80-bit on x86) with centred formulas; the largest relative difference to
scikit-learn is stored as "check.sklearn_vs_longdouble" (the accuracy of the
fixture) and the growth of a 1e-12 relative perturbation of the initial
parameters over the run as "check.perturbation_gain". Per step, "check" holds
what an ideal implementation in the test's precision achieves on the same
path: "float_simulation_error" for a simulated float implementation (float
E-step and parameters, sums in double), and for offset cases
"offset_rounding_error" for an exact EM whose means are rounded to doubles
near 1e6 after each M-step. The C++ test derives its tolerances from these
(see test_sklearn_agreement.cpp); they use the test's relative-error rule.
"""

import os

# One BLAS thread: multithreaded BLAS sums in a thread-dependent order, which moves the
# last digits of scikit-learn's results from run to run.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"):
    os.environ[_var] = "1"

import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import warnings  # noqa: E402
import zlib  # noqa: E402

import numpy as np  # noqa: E402
import scipy.linalg  # noqa: E402
import sklearn  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.mixture import GaussianMixture  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
N_TRAIN = 600
N_TEST = 50
K_TRUE = 7
REG_COVAR = 1e-6
MAX_ITERS = (1, 5, 50)
OFFSET = 1e6
# Cases per covariance type: (d, K, offset). full covers the whole d x K grid.
CASES = {
    "full": [(d, k, 0.0) for d in (1, 2, 5, 20) for k in (1, 2, 7)] + [(5, 2, OFFSET)],
    "diag": [(1, 2, 0.0), (2, 1, 0.0), (2, 7, 0.0), (5, 2, 0.0), (20, 2, 0.0), (20, 7, 0.0),
             (5, 7, OFFSET)],
    "spherical": [(1, 7, 0.0), (2, 2, 0.0), (5, 1, 0.0), (5, 7, 0.0), (20, 2, 0.0),
                  (2, 2, OFFSET)],
    "tied": [(1, 2, 0.0), (2, 7, 0.0), (5, 1, 0.0), (5, 7, 0.0), (20, 2, 0.0), (20, 7, 0.0),
             (5, 2, OFFSET)],
}


def quantize(a, bits):
    """Round to a multiple of 2^-bits (exact in float for |a| < 2^(24-bits))."""
    return np.round(np.asarray(a, dtype=np.float64) * 2.0**bits) / 2.0**bits


def quantize_weights(w):
    """Weights on the 2^-10 grid, positive, summing to exactly 1."""
    q = np.maximum(np.round(np.asarray(w) / np.sum(w) * 1024.0), 1.0)
    q[np.argmax(q)] += 1024.0 - q.sum()
    return q / 1024.0


def quantize_spd(c, bits=12):
    c = quantize(0.5 * (c + c.T), bits)
    assert np.all(c == c.T) and np.linalg.eigvalsh(c).min() > 0.05
    return c


def random_rotation(rng, d):
    q, r = np.linalg.qr(rng.randn(d, d))
    return q * np.sign(np.diag(r))


def true_mixture(d):
    """K_TRUE overlapping but distinguishable components (unit-ish scale, near the origin)."""
    rng = np.random.RandomState(1000 + d)
    scale = 3.0 / np.sqrt(2.0 * d) if d > 1 else 3.0
    means = []
    while len(means) < K_TRUE:  # rejection: pairwise distance >= 1.8 (about 2 sigma)
        m = scale * rng.randn(d)
        if all(np.linalg.norm(m - o) >= 1.8 for o in means):
            means.append(m)
    means = np.array(means)
    covs = np.array([r @ np.diag(rng.uniform(0.3, 1.5, d)) @ r.T
                     for r in (random_rotation(rng, d) for _ in range(K_TRUE))])
    weights = 1.0 + rng.rand(K_TRUE)
    weights /= weights.sum()
    return rng, weights, means, covs


def draw(rng, weights, means, covs, n):
    labels = rng.choice(len(weights), size=n, p=weights)
    X = np.empty((n, means.shape[1]))
    for k in range(len(weights)):
        idx = np.flatnonzero(labels == k)
        X[idx] = rng.multivariate_normal(means[k], covs[k], size=len(idx))
    return quantize(X, 10)


def make_dataset(d):
    rng, weights, means, covs = true_mixture(d)
    X = draw(rng, weights, means, covs, N_TRAIN)
    X_test = draw(rng, weights, means, covs, N_TEST)
    assert np.abs(X).max() < 2.0**11
    return X, X_test, (weights, means, covs)


def dense_by_type(covs, weights, cov_type):
    """K dense covariances of the given type, derived from K full matrices."""
    if cov_type == "full":
        out = covs
    elif cov_type == "diag":
        out = np.array([np.diag(np.diag(c)) for c in covs])
    elif cov_type == "spherical":
        out = np.array([np.mean(np.diag(c)) * np.eye(len(c)) for c in covs])
    else:
        tied = np.einsum("k,kij->ij", weights, covs)
        out = np.array([tied for _ in covs])
    return np.array([quantize_spd(c) for c in out])


def initial_parameters(d, K, cov_type, truth, X):
    """Perturbed from the truth; for K < K_TRUE broad components at a few true means."""
    w_true, m_true, c_true = truth
    rng = np.random.RandomState(7919 * d + 31 * K + zlib.crc32(cov_type.encode()) % 10007)
    if K == K_TRUE:
        weights = w_true * np.exp(0.3 * rng.randn(K))
        means = m_true + 0.35 * rng.randn(K, d)
        covs = np.array([c * np.exp(0.3 * rng.randn()) + 0.2 * np.eye(d) for c in c_true])
    else:
        weights = np.ones(K)
        picks = rng.choice(K_TRUE, size=K, replace=False)
        means = m_true[picks] + 0.35 * rng.randn(K, d)
        spread = np.cov(X.T).reshape(d, d)
        covs = np.array([0.6 * spread * np.exp(0.2 * rng.randn()) for _ in range(K)])
    weights = quantize_weights(weights)
    means = quantize(means, 10)
    covs = dense_by_type(covs, weights, cov_type)
    return weights, means, covs


def sklearn_precisions(covs, cov_type):
    if cov_type == "full":
        return np.array([np.linalg.inv(c) for c in covs])
    if cov_type == "diag":
        return np.array([1.0 / np.diag(c) for c in covs])
    if cov_type == "spherical":
        return np.array([1.0 / c[0, 0] for c in covs])
    return np.linalg.inv(covs[0])


def dense_covariances(gm):
    K, d = gm.means_.shape
    c = gm.covariances_
    if gm.covariance_type == "full":
        return np.array(c)
    if gm.covariance_type == "diag":
        return np.array([np.diag(v) for v in c])
    if gm.covariance_type == "spherical":
        return np.array([v * np.eye(d) for v in c])
    return np.array([c for _ in range(K)])


# ---------------------------------------------------------------------------
# Independent long-double EM (centred formulas), used only to check the fixture.
LD = np.longdouble
LOG_2PI = np.log(LD(2.0) * LD(np.pi))


def ld_cholesky(a):
    d = a.shape[0]
    L = np.zeros_like(a)
    for j in range(d):
        s = a[j, j] - np.sum(L[j, :j] ** 2)
        L[j, j] = np.sqrt(s)
        for i in range(j + 1, d):
            L[i, j] = (a[i, j] - np.sum(L[i, :j] * L[j, :j])) / L[j, j]
    return L


def ld_log_gauss(X, mean, cov):
    L = ld_cholesky(cov)
    diff = X - mean  # n x d
    z = np.zeros_like(diff)
    for i in range(diff.shape[1]):
        z[:, i] = (diff[:, i] - z[:, :i] @ L[i, :i]) / L[i, i]
    return -0.5 * (X.shape[1] * LOG_2PI + 2 * np.sum(np.log(np.diag(L))) + np.sum(z * z, 1))


def ld_estep(X, w, m, c):
    lp = np.stack([np.log(w[k]) + ld_log_gauss(X, m[k], c[k]) for k in range(len(w))], 1)
    mx = lp.max(1, keepdims=True)
    norm = mx[:, 0] + np.log(np.sum(np.exp(lp - mx), 1))
    return norm, np.exp(lp - norm[:, None])


def ld_mstep(X, resp, cov_type, reg, round_offset=0.0):
    n, d = X.shape
    nk = resp.sum(0) + LD(10 * np.finfo(np.float64).eps)
    means = (resp.T @ X) / nk[:, None]
    if round_offset:  # what storing the means as doubles near the offset costs
        means = (means + LD(round_offset)).astype(np.float64).astype(LD) - LD(round_offset)
    full = []
    for k in range(len(nk)):
        diff = X - means[k]
        full.append((resp[:, k, None] * diff).T @ diff / nk[k])
    full = np.array(full)
    eye = np.eye(d, dtype=LD)
    if cov_type == "full":
        covs = full + reg * eye
    elif cov_type == "diag":
        covs = np.array([np.diag(np.diag(f)) + reg * eye for f in full])
    elif cov_type == "spherical":
        covs = np.array([(np.trace(f) / d + reg) * eye for f in full])
    else:
        tied = np.einsum("k,kij->ij", nk, full) / nk.sum() + reg * eye
        covs = np.array([tied for _ in full])
    w = nk / n
    return w / w.sum(), means, covs


def ld_em(X, X_test, w, m, c, cov_type, reg, round_offset=0.0):
    X, X_test = X.astype(LD), X_test.astype(LD)
    w, m, c = w.astype(LD), m.astype(LD), c.astype(LD)
    out = {}
    for it in range(1, max(MAX_ITERS) + 1):
        norm, resp = ld_estep(X, w, m, c)
        w, m, c = ld_mstep(X, resp, cov_type, reg, round_offset)
        if it in MAX_ITERS:
            s_test, p_test = ld_estep(X_test, w, m, c)
            out[it] = {"lower_bound": norm.mean(), "weights": w, "means": m,
                       "covariances": c, "score": ld_estep(X, w, m, c)[0].mean(),
                       "score_samples_test": s_test, "predict_proba_test": p_test}
    return out


def rel_err(a, b, floor_frac=1e-3, atol=0.0):
    """The C++ test's rule: max(|a-b| - atol, 0) / max(|b|, floor_frac * max|b|)."""
    a, b = np.asarray(a, dtype=LD), np.asarray(b, dtype=LD)
    floor = floor_frac * np.max(np.abs(b)) if b.size else 0.0
    den = np.maximum(np.abs(b), floor)
    den = np.where(den == 0, 1, den)
    return float(np.max(np.maximum(np.abs(a - b) - LD(atol), 0) / den))


def step_diff(ref, other, floor_frac=1e-3, means_atol=None):
    """Worst rel_err over the quantities of one step (covariances judged matrix by matrix)."""
    worst = 0.0
    for q, b in ref.items():
        if q == "means" and means_atol is None:
            continue
        if q == "covariances":
            e = max(rel_err(other[q][k], b[k], floor_frac) for k in range(len(b)))
        elif q in ("lower_bound", "score"):
            e = rel_err(other[q], b, 1.0)
        else:
            e = rel_err(other[q], b, floor_frac, means_atol if q == "means" else 0.0)
        worst = max(worst, e)
    return worst


def max_diff(ref, other, **kw):
    return max(step_diff(ref[m], other[m], **kw) for m in MAX_ITERS)


# ---------------------------------------------------------------------------
# Simulated float implementation (float E-step with single-precision Cholesky and
# triangular solves, float parameters, sums in double: what DESIGN.md prescribes), to measure how closely any float implementation can follow the
# double reference along these EM paths.
F32 = np.float32
FLOAT_FLOOR_FRACTION = 1e-2  # the C++ test's floor for float (see test_sklearn_agreement.cpp)


def f32_estep(X, w, m, c):
    n, d = X.shape
    lp = np.empty((n, len(w)), F32)
    for k in range(len(w)):
        L = scipy.linalg.cholesky(c[k], lower=True)  # LAPACK in single precision
        z = scipy.linalg.solve_triangular(L, (X - m[k]).T, lower=True)
        assert L.dtype == F32 and z.dtype == F32
        const = F32(np.log(w[k])) + F32(-0.5 * d * np.log(2 * np.pi)) - F32(np.sum(np.log(np.diag(L))))
        lp[:, k] = const - F32(0.5) * np.sum(z * z, 0, dtype=F32)
    mx = lp.max(1, keepdims=True)
    e = np.exp(lp - mx)
    ssum = e.sum(1, keepdims=True)
    return (mx[:, 0] + np.log(ssum[:, 0])).astype(F32), (e / ssum).astype(F32)


def f32_mstep(X, resp, m_prev, cov_type, reg):
    n, d = X.shape
    nk = resp.astype(np.float64).sum(0) + 10 * np.finfo(F32).eps
    means = np.empty((len(nk), d))
    full = []
    for k in range(len(nk)):
        diff = (X - m_prev[k]).astype(np.float64)  # float differences, double sums
        r = resp[:, k].astype(np.float64)
        delta = r @ diff / nk[k]
        means[k] = m_prev[k] + delta
        full.append((diff * r[:, None]).T @ diff / nk[k] - np.outer(delta, delta))
    full = np.array(full)
    eye = np.eye(d)
    if cov_type == "full":
        covs = full + reg * eye
    elif cov_type == "diag":
        covs = np.array([np.diag(np.diag(f)) + reg * eye for f in full])
    elif cov_type == "spherical":
        covs = np.array([(np.trace(f) / d + reg) * eye for f in full])
    else:
        tied = np.einsum("k,kij->ij", nk, full) / nk.sum() + reg * eye
        covs = np.array([tied for _ in full])
    return (nk / nk.sum()).astype(F32), means.astype(F32), covs.astype(F32)


def f32_em(X, X_test, w, m, c, cov_type, reg):
    X, X_test = X.astype(F32), X_test.astype(F32)
    w, m, c = w.astype(F32), m.astype(F32), c.astype(F32)
    out = {}
    for it in range(1, max(MAX_ITERS) + 1):
        norm, resp = f32_estep(X, w, m, c)
        w, m, c = f32_mstep(X, resp, m, cov_type, reg)
        if it in MAX_ITERS:
            s_test, p_test = f32_estep(X_test, w, m, c)
            out[it] = {"lower_bound": norm.astype(np.float64).mean(), "weights": w, "means": m,
                       "covariances": c, "score": f32_estep(X, w, m, c)[0].astype(np.float64).mean(),
                       "score_samples_test": s_test, "predict_proba_test": p_test}
    return out


# ---------------------------------------------------------------------------
def run_case(cov_type, d, K, offset, data):
    X, X_test, truth = data
    w0, m0, c0 = initial_parameters(d, K, cov_type, truth, X)
    name = f"{cov_type}_d{d}_k{K}" + ("_offset" if offset else "")
    steps = []
    sk = {}
    for max_iter in MAX_ITERS:
        gm = GaussianMixture(n_components=K, covariance_type=cov_type, tol=0.0,
                             reg_covar=REG_COVAR, max_iter=max_iter, random_state=0,
                             weights_init=w0, means_init=m0,
                             precisions_init=sklearn_precisions(c0, cov_type))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            gm.fit(X)  # X is the re-centred data for offset cases (exact)
        assert gm.n_iter_ == max_iter
        covs = dense_covariances(gm)
        proba = gm.predict_proba(X_test)
        step = {
            "max_iter": max_iter,
            "n_iter": int(gm.n_iter_),
            "converged": bool(gm.converged_),
            "lower_bound": float(gm.lower_bound_),
            "weights": gm.weights_.tolist(),
            "means": (gm.means_ + offset).tolist(),
            "covariances": covs.tolist(),
            "score": float(gm.score(X)),
            "bic": float(gm.bic(X)),
            "aic": float(gm.aic(X)),
            "n_parameters": int(gm._n_parameters()),
            "score_samples_test": gm.score_samples(X_test).tolist(),
            "predict_proba_test": proba.tolist(),
            "predict_test": gm.predict(X_test).tolist(),
        }
        if offset:
            step["means_centered"] = gm.means_.tolist()
        steps.append(step)
        sk[max_iter] = {"lower_bound": gm.lower_bound_, "weights": gm.weights_,
                        "means": gm.means_, "covariances": covs, "score": gm.score(X),
                        "score_samples_test": gm.score_samples(X_test),
                        "predict_proba_test": proba}
        min_nk = gm.weights_.min() * N_TRAIN
        min_eig = min(np.linalg.eigvalsh(c).min() for c in covs)
        assert min_nk > 5 and min_eig > 1e-3, (name, min_nk, min_eig)

    ref = ld_em(X, X_test, w0, m0, c0, cov_type, REG_COVAR)
    check = {"sklearn_vs_longdouble": max_diff(ref, sk, means_atol=0.0)}
    rng = np.random.RandomState(5)
    eps = 1e-12
    # Perturbation gain: shift the initial means by ~1e-12 and scale covariances by (1 + 1e-12).
    pert = ld_em(X, X_test, w0, m0 + eps * rng.randn(K, d), c0 * (1 + eps), cov_type, REG_COVAR)
    check["perturbation_gain"] = max_diff(ref, pert, means_atol=0.0) / eps
    if offset:
        # An exact EM whose means are rounded to doubles near the offset after every M-step;
        # means compared centred with the C++ test's absolute slack of two units there.
        rounded = ld_em(X, X_test, w0, m0, c0, cov_type, REG_COVAR, round_offset=offset)
        resolution = 2 * (np.nextafter(offset, 2 * offset) - offset)
        for st, m in zip(steps, MAX_ITERS):
            st["check"] = {"offset_rounding_error": step_diff(ref[m], rounded[m], means_atol=resolution)}
    else:
        sim = f32_em(X, X_test, w0, m0, c0, cov_type, REG_COVAR)
        for st, m in zip(steps, MAX_ITERS):
            st["check"] = {"float_simulation_error": step_diff(sk[m], sim[m], FLOAT_FLOOR_FRACTION, 0.0)}
    for key in ("offset_rounding_error", "float_simulation_error"):
        if key in steps[0]["check"]:
            check[key] = max(st["check"][key] for st in steps)
    print(f"{name:28s} " + " ".join(f"{k}={v:.2e}" for k, v in check.items()), flush=True)

    def dense(c):
        return np.asarray(c).tolist()

    return {
        "name": name,
        "dataset": f"d{d}" + ("_offset" if offset else ""),
        "covariance_type": cov_type,
        "n_components": K,
        "n_features": d,
        "reg_covar": REG_COVAR,
        "offset": offset,
        "init": {"weights": w0.tolist(), "means": (m0 + offset).tolist(),
                 "covariances": dense(c0)},
        "check": check,
        "steps": steps,
    }


def header(extra):
    out = {
        "generator": "tests/reference/generate_sklearn.py",
        "sklearn_version": sklearn.__version__,
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
    }
    out.update(extra)
    return out


def write(fname, obj):
    path = os.path.join(HERE, fname)
    with open(path, "w") as f:
        json.dump(obj, f, separators=(",", ":"), allow_nan=False)
        f.write("\n")
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


def default_fit_fixture():
    """A well-separated mixture: scikit-learn's default fit (k-means init, tol=1e-3)."""
    rng = np.random.RandomState(42)
    d, K = 2, 3
    means = np.array([[0.0, 0.0], [20.0, 0.0], [0.0, 20.0]])
    covs = np.array([[[1.0, 0.3], [0.3, 0.8]], [[0.6, -0.2], [-0.2, 1.2]], [[0.9, 0.0], [0.0, 0.9]]])
    weights = np.array([0.3, 0.45, 0.25])
    X = draw(rng, weights, means, covs, 300)
    cases = []
    for cov_type in ("full", "diag", "spherical", "tied"):
        gm = GaussianMixture(n_components=K, covariance_type=cov_type, random_state=0, n_init=1)
        gm.fit(X)
        assert gm.converged_
        cases.append({
            "name": f"default_{cov_type}_d{d}_k{K}",
            "covariance_type": cov_type,
            "n_components": K,
            "n_features": d,
            "converged": bool(gm.converged_),
            "n_iter": int(gm.n_iter_),
            "lower_bound": float(gm.lower_bound_),
            "weights": gm.weights_.tolist(),
            "means": gm.means_.tolist(),
            "covariances": dense_covariances(gm).tolist(),
        })
        print(f"default_{cov_type}: n_iter={gm.n_iter_} lower_bound={gm.lower_bound_!r}")
    write("em_default_fit.json", header({
        "description": "scikit-learn GaussianMixture(n_components=3, covariance_type=t, "
                       "random_state=0) default fit (kmeans init, tol=1e-3, n_init=1) on "
                       "well-separated data; parameters are in scikit-learn's component order",
        "X": X.tolist(), "cases": cases}))


def main():
    np.seterr(all="raise", under="ignore")
    datasets = {d: make_dataset(d) for d in (1, 2, 5, 20)}
    for cov_type, specs in CASES.items():
        cases, used = [], {}
        for d, K, offset in specs:
            data = datasets[d]
            case = run_case(cov_type, d, K, offset, data)
            # offset cases: stored data is X + 1e6, exact since X lies on the 2^-10 grid
            used[case["dataset"]] = {"n_features": d, "offset": offset,
                                     "X": (data[0] + offset).tolist(),
                                     "X_test": (data[1] + offset).tolist()}
            cases.append(case)
        write(f"em_{cov_type}.json", header({
            "covariance_type": cov_type,
            "description": "GaussianMixture(n_components=K, covariance_type, weights_init, "
                           "means_init, precisions_init=inv(init.covariances), max_iter, tol=0, "
                           "reg_covar, random_state=0); covariances stored dense (K x d x d). "
                           "Offset cases: data and means are stored shifted by 'offset'; "
                           "scikit-learn ran on the exactly re-centred data.",
            "datasets": used, "cases": cases}))
    default_fit_fixture()


if __name__ == "__main__":
    sys.exit(main())
