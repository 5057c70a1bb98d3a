"""GaussianMixture.partial_fit: online (stepwise) EM over batches (C++ GaussianMixture::partial_fit)."""
import copy
import pickle

import numpy as np
import pytest

from conftest import mixture_data
from gaussmix import GaussianMixture

COVARIANCE_TYPES = ["full", "tied", "diag", "spherical"]
FITTED = ["weights_", "means_", "covariances_", "precisions_", "precisions_cholesky_"]


def assert_identical(a, b, rtol=0.0):
    for name in FITTED + ["lower_bound_", "n_iter_", "converged_", "n_features_in_"]:
        if rtol:
            np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=rtol, atol=rtol, err_msg=name)
        else:
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


def known_mixture(n, seed):
    """A known 3-component mixture in 3-D (weights 0.5, 0.3, 0.2; correlated covariances)."""
    rng = np.random.RandomState(seed)
    means = np.array([[0.0, 0.0, 0.0], [5.0, 1.0, -2.0], [-2.0, 6.0, 3.0]])
    factors = [np.array([[1.0, 0, 0], [0.5, 1.0, 0], [0.2, -0.3, 0.8]]), np.eye(3) * 0.7,
               np.array([[1.5, 0, 0], [-0.6, 0.9, 0], [0.0, 0.4, 1.2]])]
    z = rng.choice(3, size=n, p=[0.5, 0.3, 0.2])
    return means[z] + np.einsum("nij,nj->ni", np.array(factors)[z], rng.randn(n, 3))


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_partial_fit_reaches_the_full_fit_score(covariance_type):
    X = known_mixture(24000, seed=1)
    X_test = known_mixture(8000, seed=2)
    full = GaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(X)
    online = GaussianMixture(3, covariance_type=covariance_type, random_state=0)
    for epoch in range(2):
        for batch in np.array_split(X, 24):
            online.partial_fit(batch)
    full_score, online_score = full.score(X_test), online.score(X_test)
    # Sampling error of a held-out mean log density: its standard error over the test rows.
    standard_error = full.score_samples(X_test).std() / np.sqrt(len(X_test))
    assert abs(online_score - full_score) < standard_error, (online_score, full_score, standard_error)
    order = np.argsort(online.weights_)
    np.testing.assert_allclose(online.weights_[order], [0.2, 0.3, 0.5], atol=0.02)


@pytest.mark.filterwarnings("ignore:Initialization")
def test_first_call_initialises_as_fit_on_the_batch(X):
    online = GaussianMixture(3, random_state=5).partial_fit(X)
    # The first batch: fit with 16 initialisations (first_batch_n_init=None, n_init=1) of at most
    # first_batch_max_iter=3 iterations, bit for bit.
    assert_identical(online, GaussianMixture(3, random_state=5, n_init=16, max_iter=3).fit(X))
    assert online.n_features_in_ == 2
    chosen = GaussianMixture(3, random_state=5, first_batch_n_init=2, first_batch_max_iter=7).partial_fit(X)
    assert_identical(chosen, GaussianMixture(3, random_state=5, n_init=2, max_iter=7).fit(X))


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_after_fit_one_update_is_one_em_iteration(covariance_type, X):
    rng = np.random.RandomState(3)
    batch = X[rng.permutation(len(X))[:200]]
    online = GaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(X)
    step = GaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(X)
    before = online.score(batch)
    online.partial_fit(batch)
    step.set_params(warm_start=True, max_iter=1, tol=0.0)
    with pytest.warns(Warning):  # one iteration does not converge
        step.fit(batch)
    for name in FITTED:
        np.testing.assert_array_equal(getattr(online, name), getattr(step, name), err_msg=name)
    assert online.n_iter_ == 1 and online.lower_bound_ == pytest.approx(before, rel=1e-12)


def test_sample_weight_counts_rows(X):
    batch, weight = X[:150], np.tile([1.0, 2.0, 0.5], 50)
    duplicated = np.repeat(batch, [2, 4, 1] * 50, axis=0)  # weights x 2: same proportions
    a = GaussianMixture(3, random_state=0).fit(X).partial_fit(batch, sample_weight=weight)
    b = GaussianMixture(3, random_state=0).fit(X).partial_fit(duplicated)
    for name in FITTED:
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=1e-10, atol=1e-12, err_msg=name)


def test_learning_rate_and_settings_changed_between_calls(X):
    batches = np.array_split(X, 6)
    a = GaussianMixture(3, random_state=0, learning_rate=0.3)
    for b in batches:
        a.partial_fit(b)
    # The first update has nothing to blend (rho = 1), so changing the step size after it is the same;
    # the running statistics go over to the model with the new settings.
    b = GaussianMixture(3, random_state=0).partial_fit(batches[0]).set_params(learning_rate=0.3)
    for batch in batches[1:]:
        b.partial_fit(batch)
    assert_identical(a, b)
    c = GaussianMixture(3, random_state=0)
    for batch in batches:
        c.partial_fit(batch)
    assert not np.array_equal(a.means_, c.means_)  # the decaying schedule differs from rho = 0.3


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_pickle_after_partial_fit_continues_identically(covariance_type, dtype):
    X = mixture_data(n=1200, seed=4).astype(dtype)
    batches = np.array_split(X, 8)
    gmm = GaussianMixture(3, covariance_type=covariance_type, random_state=2)
    for batch in batches[:4]:
        gmm.partial_fit(batch)
    assert gmm.means_.dtype == dtype
    restored = pickle.loads(pickle.dumps(gmm))
    copied = copy.deepcopy(gmm)
    assert_identical(restored, gmm)
    for batch in batches[4:]:
        gmm.partial_fit(batch)
        restored.partial_fit(batch)
        copied.partial_fit(batch)
    # float64: bit for bit. float32 diag / spherical: the library's M-step takes the precision factors
    # of the variances in double, a reloaded model of the variances rounded to float (1 ulp apart).
    rtol = 2e-6 if dtype == np.float32 else 0.0
    assert_identical(restored, gmm, rtol)
    assert_identical(copied, gmm, rtol)
    # Without the running statistics (a fitted model rebuilt from its attributes alone) the stream
    # would restart with rho = 1: a different model. So the statistics did travel.
    fresh = GaussianMixture(3, covariance_type=covariance_type, random_state=2)
    for batch in batches[:4]:
        fresh.partial_fit(batch)
    fresh.__dict__.pop("_gaussmix_core")
    for batch in batches[4:]:
        fresh.partial_fit(batch)
    assert np.abs(fresh.means_ - gmm.means_).max() > 1e-4


def test_partial_fit_errors(X):
    gmm = GaussianMixture(3, random_state=0)
    with pytest.raises(ValueError, match="n_samples >= n_components"):
        gmm.partial_fit(X[:2])
    assert not hasattr(gmm, "means_")
    with pytest.raises(ValueError):
        gmm.partial_fit(X[:, 0])  # 1-D
    gmm.partial_fit(X[:100])
    means = gmm.means_.copy()
    with pytest.raises(ValueError, match="features"):
        gmm.partial_fit(np.hstack([X[:50], X[:50, :1]]))
    bad = X[:50].copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError):
        gmm.partial_fit(bad)
    with pytest.raises(ValueError):
        gmm.partial_fit(X[:50], sample_weight=np.ones(49))
    with pytest.raises(ValueError):
        gmm.partial_fit(X[:50], sample_weight=-np.ones(50))
    np.testing.assert_array_equal(gmm.means_, means)  # nothing changed
    gmm.partial_fit(X[:1])  # one row is a batch once the model has parameters
    for name, value in [("learning_decay", 0.5), ("learning_decay", 1.5), ("learning_offset", -1.0),
                        ("learning_rate", 0.0), ("learning_rate", 2.0), ("first_batch_n_init", 0),
                        ("first_batch_max_iter", 0)]:
        with pytest.raises(ValueError, match=name):
            GaussianMixture(3, **{name: value}).partial_fit(X)
