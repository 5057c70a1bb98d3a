"""NaN as missing values (missing="marginalise", C++ Options::missing = MissingValues::Marginalise)
and GaussianMixture.impute, against the numpy reference of tests/reference/generate_missing.py."""
import json
import os
import pickle

import numpy as np
import pytest

from conftest import mixture_data
from gaussmix import GaussianMixture

REFERENCE = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "reference", "missing.json")
FITTED = ["weights_", "means_", "covariances_", "precisions_", "precisions_cholesky_"]


def reference():
    with open(REFERENCE) as f:
        data = json.load(f)
    data["X"] = {name: np.array([[np.nan if v is None else v for v in row] for row in rows])
                 for name, rows in data["X"].items()}
    return data


def sklearn_shape(covariances, covariance_type):
    c = np.asarray(covariances)
    return {"full": c, "tied": c[0], "diag": np.einsum("kii->ki", c), "spherical": c[:, 0, 0]}[covariance_type]


def start(init, covariance_type):
    covariances = sklearn_shape(init["covariances"], covariance_type)
    precisions = np.linalg.inv(covariances) if covariance_type in ("full", "tied") else 1.0 / covariances
    return dict(weights_init=np.array(init["weights"]), means_init=np.array(init["means"]), precisions_init=precisions)


CASES = ["full_mcar30_weighted", "tied_block", "diag_mcar10", "spherical_mcar30"]


@pytest.mark.parametrize("name", CASES)
def test_agrees_with_the_numpy_reference(name):
    data = reference()
    case = next(c for c in data["cases"] if c["name"] == name)
    ctype = case["covariance_type"]
    X = data["X"][case["pattern"]]
    w = np.array(data["sample_weight"]) if case["weighted"] else None
    for step in case["steps"]:
        gmm = GaussianMixture(data["n_components"], covariance_type=ctype, missing="marginalise", tol=0.0,
                              max_iter=step["max_iter"], reg_covar=data["reg_covar"], **start(case["init"], ctype))
        with pytest.warns(Warning):  # tol = 0 never converges
            gmm.fit(X, sample_weight=w)
        np.testing.assert_allclose(gmm.weights_, step["weights"], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(gmm.means_, step["means"], rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(gmm.covariances_, sklearn_shape(step["covariances"], ctype), rtol=1e-9, atol=1e-9)
        assert gmm.lower_bound_ == pytest.approx(step["lower_bound"], rel=1e-9)
        if "score_samples" in step:
            rows = X[: data["n_scored"]]
            np.testing.assert_allclose(gmm.score_samples(rows), step["score_samples"], rtol=1e-9)
            np.testing.assert_allclose(gmm.impute(rows), step["impute"], rtol=1e-9, atol=1e-9)
            proba = gmm.predict_proba(rows)
            np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
            np.testing.assert_array_equal(gmm.predict(rows), proba.argmax(axis=1))


def with_holes(X, rate, seed):
    rng = np.random.RandomState(seed)
    holes = rng.uniform(size=X.shape) < rate
    holes[holes.all(axis=1), 0] = False  # every row keeps an observed entry
    out = X.copy()
    out[holes] = np.nan
    return out


def test_nan_is_rejected_by_default(X):
    holed = with_holes(X, 0.1, 0)
    with pytest.raises(ValueError, match="NaN"):
        GaussianMixture(3, random_state=0).fit(holed)
    fitted = GaussianMixture(3, random_state=0).fit(X)
    for method in ("score_samples", "predict", "predict_proba", "score", "partial_fit"):
        with pytest.raises(ValueError, match="NaN"):
            getattr(fitted, method)(holed)
    with pytest.raises(ValueError):
        GaussianMixture(3, missing="drop").fit(X)


def test_inf_is_rejected_with_marginalise(X):
    bad = X.copy()
    bad[4, 1] = np.inf
    gmm = GaussianMixture(3, random_state=0, missing="marginalise")
    with pytest.raises(ValueError):
        gmm.fit(bad)
    gmm.fit(X)
    for method in ("score_samples", "predict", "impute"):
        with pytest.raises(ValueError):
            getattr(gmm, method)(bad)
    all_missing = X[:5].copy()
    all_missing[2] = np.nan
    with pytest.raises(ValueError, match="every entry missing"):
        gmm.score_samples(all_missing)


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
def test_marginalise_without_nan_is_the_plain_fit(covariance_type, X):
    plain = GaussianMixture(3, covariance_type=covariance_type, random_state=1).fit(X)
    marginal = GaussianMixture(3, covariance_type=covariance_type, random_state=1, missing="marginalise").fit(X)
    for name in FITTED:
        np.testing.assert_array_equal(getattr(plain, name), getattr(marginal, name), err_msg=name)
    np.testing.assert_array_equal(plain.score_samples(X), marginal.score_samples(X))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fit_score_and_impute_with_holes(dtype):
    X = mixture_data(n=900, seed=3, d=3).astype(dtype)
    holed = with_holes(X, 0.2, 1)
    gmm = GaussianMixture(3, random_state=0, missing="marginalise").fit(holed)
    assert gmm.means_.dtype == dtype and np.isfinite(gmm.lower_bound_)
    scores = gmm.score_samples(holed)
    assert scores.shape == (900,) and np.isfinite(scores).all()
    assert gmm.predict(holed).shape == (900,)
    assert gmm.score(holed) == pytest.approx(scores.mean(), rel=1e-6)
    filled = gmm.impute(holed)
    assert filled.dtype == dtype and np.isfinite(filled).all()
    observed = ~np.isnan(holed)
    np.testing.assert_array_equal(filled[observed], holed[observed])  # only the NaN cells change
    assert np.isnan(holed).sum() > 0  # the input is not modified
    # The imputed values are closer to the truth than the column means.
    missing = ~observed
    column_means = np.nanmean(holed, axis=0)
    error = np.abs(filled - X)[missing].mean()
    baseline = np.abs(np.broadcast_to(column_means, X.shape) - X)[missing].mean()
    assert error < 0.8 * baseline  # 0.64 here: the clusters say where a row is, not its within-cluster offset
    # Pickled, the model still marginalises.
    again = pickle.loads(pickle.dumps(gmm))
    np.testing.assert_array_equal(again.score_samples(holed), scores)
    np.testing.assert_array_equal(again.impute(holed), filled)
    # partial_fit takes incomplete batches too.
    gmm.partial_fit(holed[:300])
    assert np.isfinite(gmm.means_).all()


def test_impute_on_a_model_fitted_without_missing(X):
    gmm = GaussianMixture(3, random_state=0).fit(X)
    holed = with_holes(X, 0.3, 2)
    filled = gmm.impute(holed)
    observed = ~np.isnan(holed)
    np.testing.assert_array_equal(filled[observed], holed[observed])
    assert np.isfinite(filled).all()
    np.testing.assert_array_equal(gmm.impute(X), X)  # nothing to fill


def test_check_estimator_allows_nan_when_marginalising():
    pytest.importorskip("sklearn")
    from sklearn.utils.estimator_checks import check_estimators_nan_inf

    assert GaussianMixture(missing="marginalise")._get_tags()["allow_nan"]
    assert not GaussianMixture()._get_tags()["allow_nan"]
    check_estimators_nan_inf("GaussianMixture", GaussianMixture())
