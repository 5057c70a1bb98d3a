"""gaussmix.BayesianGaussianMixture: scikit-learn's BayesianGaussianMixture over the C++ variational mixture."""
import copy
import pickle
import warnings

import numpy as np
import pytest

from conftest import mixture_data
from gaussmix import BayesianGaussianMixture, GaussianMixture, NotFittedError

COVARIANCE_TYPES = ["full", "tied", "diag", "spherical"]
WEIGHT_PRIORS = ["dirichlet_process", "dirichlet_distribution"]
POINT = ["weights_", "means_", "covariances_", "precisions_", "precisions_cholesky_"]
POSTERIOR = ["mean_precision_", "degrees_of_freedom_", "weight_concentration_prior_", "mean_precision_prior_",
             "mean_prior_", "degrees_of_freedom_prior_", "covariance_prior_"]


def soft_responsibilities(n, K, seed):
    rng = np.random.RandomState(seed)
    r = rng.uniform(size=(n, K)) + 0.05
    return r / r.sum(axis=1, keepdims=True)


def started(estimator, X, resp):
    """scikit-learn's recipe (tests/reference/generate_bayesian.py): _initialize from resp, then a
    warm-started fit from there. Runs unchanged on both classes."""
    if hasattr(estimator, "_check_parameters"):  # scikit-learn's _initialize reads the resolved priors
        estimator._check_parameters(X)
    estimator._initialize(X, resp)
    estimator.lower_bound_ = -np.inf
    estimator.converged_ = False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tol = 0: ConvergenceWarning on both sides
        return estimator.fit(X)


def assert_close(ours, theirs, rtol=1e-9):
    for name in POINT + POSTERIOR + ["lower_bound_", "n_iter_"]:
        a, b = np.asarray(getattr(ours, name)), np.asarray(getattr(theirs, name))
        assert a.shape == b.shape, name
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol, err_msg=name)
    wa, wb = ours.weight_concentration_, theirs.weight_concentration_
    assert type(wa) is type(wb)
    np.testing.assert_allclose(np.asarray(wa), np.asarray(wb), rtol=rtol, err_msg="weight_concentration_")


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("prior", WEIGHT_PRIORS)
@pytest.mark.parametrize("d", [1, 3])
def test_same_start_as_sklearn(covariance_type, prior, d):
    sklearn_mixture = pytest.importorskip("sklearn.mixture")
    X = mixture_data(n=300, seed=d, d=d)
    resp = soft_responsibilities(len(X), 5, seed=d)
    params = dict(n_components=5, covariance_type=covariance_type, weight_concentration_prior_type=prior, tol=0.0,
                  max_iter=30, warm_start=True, random_state=0)
    ours = started(BayesianGaussianMixture(**params), X, resp)
    theirs = started(sklearn_mixture.BayesianGaussianMixture(**params), X, resp)
    assert_close(ours, theirs)
    X_test = mixture_data(n=60, seed=10 + d, d=d)
    np.testing.assert_allclose(ours.score_samples(X_test), theirs.score_samples(X_test), rtol=1e-9)
    np.testing.assert_allclose(ours.predict_proba(X_test), theirs.predict_proba(X_test), atol=1e-9)
    np.testing.assert_array_equal(ours.predict(X_test), theirs.predict(X_test))
    assert ours.score(X_test) == pytest.approx(theirs.score(X_test), rel=1e-9)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_given_priors_as_sklearn(covariance_type):
    sklearn_mixture = pytest.importorskip("sklearn.mixture")
    X = mixture_data(n=240, seed=5, d=2)
    covariance_prior = {"full": np.array([[2.0, 0.3], [0.3, 1.0]]), "tied": np.array([[1.5, -0.2], [-0.2, 0.8]]),
                        "diag": np.array([0.5, 2.0]), "spherical": 1.7}[covariance_type]
    params = dict(n_components=4, covariance_type=covariance_type, weight_concentration_prior=0.3,
                  mean_precision_prior=0.5, mean_prior=[1.0, -2.0], degrees_of_freedom_prior=3.5,
                  covariance_prior=covariance_prior, tol=0.0, max_iter=25, warm_start=True)
    resp = soft_responsibilities(len(X), 4, seed=2)
    ours = started(BayesianGaussianMixture(**params), X, resp)
    theirs = started(sklearn_mixture.BayesianGaussianMixture(**params), X, resp)
    assert_close(ours, theirs)


def test_switches_off_unneeded_components():
    X = mixture_data(n=900, seed=3)  # three clusters
    bgm = BayesianGaussianMixture(n_components=8, random_state=0, max_iter=500).fit(X)
    assert bgm.converged_ and (bgm.weights_ > 0.02).sum() == 3
    np.testing.assert_allclose(bgm.weights_.sum(), 1.0)
    assert bgm.predict(X).shape == (900,) and bgm.predict_proba(X).shape == (900, 8)
    assert bgm.fit_predict(X).shape == (900,)
    Xs, ys = bgm.sample(50)
    assert Xs.shape == (50, 2) and ys.shape == (50,)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_attributes_as_sklearn(covariance_type, X):
    sklearn_mixture = pytest.importorskip("sklearn.mixture")
    ours = BayesianGaussianMixture(n_components=3, covariance_type=covariance_type, random_state=0).fit(X)
    theirs = sklearn_mixture.BayesianGaussianMixture(n_components=3, covariance_type=covariance_type,
                                                     random_state=0).fit(X)
    for name in POINT + POSTERIOR + ["weight_concentration_"]:
        a, b = getattr(ours, name), getattr(theirs, name)
        assert type(a) is type(b) or (np.isscalar(a) and np.isscalar(b)), name
        assert np.shape(a) == np.shape(b), name
    assert sorted(ours.get_params()) == sorted(list(theirs.get_params()) + ["n_jobs"])
    assert ours.n_features_in_ == 2


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("prior", WEIGHT_PRIORS)
def test_pickle_round_trip(covariance_type, prior, X):
    bgm = BayesianGaussianMixture(n_components=4, covariance_type=covariance_type,
                                  weight_concentration_prior_type=prior, random_state=1, max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bgm.fit(X)
    again = pickle.loads(pickle.dumps(bgm))
    assert_close(again, bgm, rtol=0)
    np.testing.assert_array_equal(again.score_samples(X), bgm.score_samples(X))
    again.__dict__.pop("_gaussmix_core", None)  # rebuilt from the posterior attributes
    np.testing.assert_array_equal(again.score_samples(X), bgm.score_samples(X))
    # A warm start continues identically from the restored posterior.
    copied = copy.deepcopy(bgm)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for m in (bgm, again, copied):
            m.set_params(warm_start=True, max_iter=3).fit(X)
    assert_close(again, bgm, rtol=0)
    assert_close(copied, bgm, rtol=0)


def test_float32_is_converted_once(X):
    a = BayesianGaussianMixture(n_components=3, random_state=0).fit(X.astype(np.float32))
    b = BayesianGaussianMixture(n_components=3, random_state=0).fit(X.astype(np.float32).astype(np.float64))
    assert a.means_.dtype == np.float64
    assert_close(a, b, rtol=0)
    X32 = X.astype(np.float32)
    np.testing.assert_array_equal(a.score_samples(X32), b.score_samples(X32.astype(np.float64)))


def test_sample_weight_of_ones_is_no_weight(X):
    a = BayesianGaussianMixture(n_components=3, random_state=0).fit(X)
    b = BayesianGaussianMixture(n_components=3, random_state=0).fit(X, sample_weight=np.ones(len(X)))
    assert_close(a, b, rtol=1e-12)
    with pytest.raises(ValueError):
        BayesianGaussianMixture(n_components=3).fit(X, sample_weight=-np.ones(len(X)))


def test_errors(X):
    with pytest.raises(NotFittedError):
        BayesianGaussianMixture().predict(X)
    with pytest.raises(ValueError):
        BayesianGaussianMixture(weight_concentration_prior_type="beta").fit(X)
    with pytest.raises(ValueError):
        BayesianGaussianMixture(weight_concentration_prior=-1.0).fit(X)
    with pytest.raises(ValueError, match="degrees_of_freedom_prior"):
        BayesianGaussianMixture(degrees_of_freedom_prior=0.5).fit(X)
    with pytest.raises(ValueError, match="means"):
        BayesianGaussianMixture(mean_prior=[0.0, 1.0, 2.0]).fit(X)
    with pytest.raises(ValueError, match="covariance_prior"):
        BayesianGaussianMixture(covariance_prior=np.eye(3)).fit(X)
    with pytest.raises(ValueError, match="positive-definite"):
        BayesianGaussianMixture(covariance_prior=-np.eye(2)).fit(X)
    with pytest.raises(ValueError, match="n_samples >= n_components"):
        BayesianGaussianMixture(n_components=5).fit(X[:4])
    fitted = BayesianGaussianMixture(n_components=2, random_state=0).fit(X)
    with pytest.raises(ValueError, match="features"):
        fitted.predict(X[:, :1])
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError):
        fitted.score_samples(bad)


def test_shares_the_estimator_base():
    from gaussmix._gaussian_mixture import MixtureBase

    assert issubclass(BayesianGaussianMixture, MixtureBase) and issubclass(GaussianMixture, MixtureBase)
    assert "score_samples" not in vars(BayesianGaussianMixture) and "sample" not in vars(BayesianGaussianMixture)


try:
    from sklearn.utils.estimator_checks import parametrize_with_checks
except ImportError:  # numpy-only installation
    parametrize_with_checks = None

if parametrize_with_checks is not None:

    @parametrize_with_checks([BayesianGaussianMixture(), BayesianGaussianMixture(n_components=2,
                                                                                 covariance_type="diag")])
    def test_sklearn_check_estimator(estimator, check):
        check(estimator)
