"""gaussmix.GaussianMixture against scikit-learn's from the same starting parameters."""
import numpy as np
import pytest

sklearn_mixture = pytest.importorskip("sklearn.mixture")

from conftest import mixture_data  # noqa: E402
from gaussmix import GaussianMixture  # noqa: E402

COVARIANCE_TYPES = ["full", "tied", "diag", "spherical"]


def start(covariance_type, d, K=3):
    weights = np.array([0.2, 0.3, 0.5])
    means = np.array([[0.5] * d, [5.0] * d, [-1.0] + [6.0] * (d - 1)])[:K]
    precision = {
        "full": np.array([np.eye(d) * (k + 1.0) + 0.1 for k in range(K)]),
        "tied": np.eye(d) * 0.7 + 0.05,
        "diag": np.array([np.linspace(0.5, 1.5, d) * (k + 1) for k in range(K)]),
        "spherical": np.array([0.5, 1.0, 2.0]),
    }[covariance_type]
    return dict(weights_init=weights, means_init=means, precisions_init=precision)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("d", [2, 5])
def test_same_start_same_fit(covariance_type, d):
    X = mixture_data(d=d, seed=d)
    params = dict(n_components=3, covariance_type=covariance_type, tol=1e-8, max_iter=300, **start(covariance_type, d))
    ours = GaussianMixture(**params).fit(X)
    theirs = sklearn_mixture.GaussianMixture(**params).fit(X)
    assert ours.converged_ == theirs.converged_
    assert ours.n_iter_ == theirs.n_iter_
    for name in ["weights_", "means_", "covariances_", "precisions_cholesky_", "precisions_"]:
        a, b = getattr(ours, name), getattr(theirs, name)
        assert a.shape == b.shape, name
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9, err_msg=name)
    assert abs(ours.lower_bound_ - theirs.lower_bound_) < 1e-9
    np.testing.assert_allclose(ours.score_samples(X), theirs.score_samples(X), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-9)
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))
    assert abs(ours.bic(X) - theirs.bic(X)) < 1e-6 * abs(theirs.bic(X))
    assert abs(ours.aic(X) - theirs.aic(X)) < 1e-6 * abs(theirs.aic(X))
    assert ours._n_parameters() == theirs._n_parameters()


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_attribute_shapes_and_dtypes(covariance_type, X):
    ours = GaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(X)
    theirs = sklearn_mixture.GaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(X)
    for name in ["weights_", "means_", "covariances_", "precisions_", "precisions_cholesky_"]:
        assert getattr(ours, name).shape == getattr(theirs, name).shape, name
        assert getattr(ours, name).dtype == getattr(theirs, name).dtype, name
    assert ours.n_features_in_ == theirs.n_features_in_ == 2
    assert type(ours.converged_) is bool and isinstance(ours.n_iter_, int)
