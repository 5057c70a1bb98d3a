"""scikit-learn's estimator contract, pickling, model selection, sample weights, threads, zero copy."""
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest

import gaussmix
from conftest import mixture_data
from gaussmix import GaussianMixture, _core
from gaussmix._gaussian_mixture import c_array, seed_from_random_state

COVARIANCE_TYPES = ["full", "tied", "diag", "spherical"]
FITTED = ["weights_", "means_", "covariances_", "precisions_", "precisions_cholesky_"]


def assert_same_fit(a, b, exact=True):
    for name in FITTED:
        if exact:
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
        else:
            np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=1e-9, atol=1e-10, err_msg=name)
    assert a.n_iter_ == b.n_iter_ and a.converged_ == b.converged_


# --- scikit-learn's check_estimator ---

try:
    from sklearn.utils.estimator_checks import parametrize_with_checks
except ImportError:  # numpy-only installation
    parametrize_with_checks = None

if parametrize_with_checks is not None:

    @parametrize_with_checks([GaussianMixture(), GaussianMixture(n_components=2, covariance_type="diag")])
    def test_sklearn_check_estimator(estimator, check):
        check(estimator)


# --- pickling, clone, model selection ---


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_pickle_round_trip(covariance_type, X):
    gmm = GaussianMixture(3, covariance_type=covariance_type, random_state=1).fit(X)
    again = pickle.loads(pickle.dumps(gmm))
    assert_same_fit(gmm, again)
    assert again.get_params() == gmm.get_params()
    np.testing.assert_allclose(again.score_samples(X), gmm.score_samples(X), rtol=1e-13)
    np.testing.assert_array_equal(again.predict(X), gmm.predict(X))
    unfitted = pickle.loads(pickle.dumps(GaussianMixture(4, tol=1e-5)))
    assert unfitted.get_params()["n_components"] == 4 and not hasattr(unfitted, "means_")


def test_clone_and_grid_search_by_bic():
    rng = np.random.RandomState(8)
    X = np.vstack([rng.randn(150, 2) + c for c in ([0, 0], [10, 0], [0, 10])])
    sklearn = pytest.importorskip("sklearn")
    from sklearn.base import clone
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    gmm = GaussianMixture(2, covariance_type="diag", random_state=3).fit(X)
    copy = clone(gmm)
    assert copy.get_params() == gmm.get_params() and not hasattr(copy, "means_")

    from sklearn.mixture import GaussianMixture as SklearnGaussianMixture
    from sklearn.model_selection import KFold

    def search(estimator):
        folds = KFold(3, shuffle=True, random_state=0)
        grid = GridSearchCV(estimator, {"n_components": [1, 2, 3, 4, 5]}, scoring=lambda e, X_: -e.bic(X_), cv=folds)
        return grid.fit(X)

    ours = search(GaussianMixture(random_state=0))
    assert ours.best_params_ == {"n_components": 3}  # the data has three clusters
    assert ours.best_params_ == search(SklearnGaussianMixture(random_state=0)).best_params_
    assert isinstance(ours.best_estimator_, GaussianMixture) and ours.best_estimator_.n_components == 3

    pipe = make_pipeline(StandardScaler(), GaussianMixture(3, random_state=0)).fit(X)
    assert pipe.predict(X).shape == (X.shape[0],)
    assert np.isfinite(pipe.score(X))
    assert sklearn.__version__


# --- sample weights, threads, dtypes ---


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_sample_weights_equal_duplicated_rows(covariance_type, X):
    rng = np.random.RandomState(5)
    w = rng.randint(0, 4, size=X.shape[0])
    precisions = {"full": np.array([np.eye(2)] * 3), "tied": np.eye(2), "diag": np.ones((3, 2)), "spherical": np.ones(3)}
    # The same start and the same number of iterations (tol = 0): the same EM sequence in exact arithmetic.
    start = dict(
        weights_init=[0.3, 0.3, 0.4],
        means_init=[[0.0, 0.0], [6.0, 1.0], [-1.0, 7.0]],
        precisions_init=precisions[covariance_type],
        tol=0.0,
        max_iter=30,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        weighted = GaussianMixture(3, covariance_type=covariance_type, **start).fit(X, sample_weight=w)
        duplicated = GaussianMixture(3, covariance_type=covariance_type, **start).fit(np.repeat(X, w, axis=0))
    for name in FITTED:
        np.testing.assert_allclose(getattr(weighted, name), getattr(duplicated, name), rtol=1e-9, atol=1e-10)
    assert abs(weighted.lower_bound_ - duplicated.lower_bound_) < 1e-10


@pytest.mark.skipif(not _core.openmp, reason="the extension was built without OpenMP")
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_thread_count_gives_identical_results(covariance_type):
    X = mixture_data(n=30000, d=4, seed=2)
    fits = [GaussianMixture(3, covariance_type=covariance_type, random_state=7, n_jobs=j).fit(X) for j in (1, 2, 4)]
    for other in fits[1:]:
        assert_same_fit(fits[0], other, exact=True)
        assert other.lower_bound_ == fits[0].lower_bound_


def test_float32_fitted_in_float32(X):
    X32 = X.astype(np.float32)
    g32 = GaussianMixture(3, random_state=0).fit(X32)
    g64 = GaussianMixture(3, random_state=0).fit(X)
    for name in FITTED:
        assert getattr(g32, name).dtype == np.float32, name
        np.testing.assert_allclose(getattr(g32, name), getattr(g64, name), rtol=1e-3, atol=1e-3)
    assert g32.score_samples(X32).dtype == np.float32
    assert g32.predict_proba(X).dtype == np.float32  # float64 input is converted to the model's type


# --- no copies ---


def test_c_contiguous_arrays_are_read_in_place():
    X = np.random.RandomState(0).rand(50, 3)
    assert c_array(X) is X
    assert _core.data_address_f64(X) == X.ctypes.data
    X32 = X.astype(np.float32)
    assert c_array(X32) is X32 and _core.data_address_f32(X32) == X32.ctypes.data
    view = X[10:20]  # a C-contiguous slice is used as is too
    assert _core.data_address_f64(c_array(view)) == view.ctypes.data
    F = np.asfortranarray(X)
    assert c_array(F) is not F and c_array(F).flags.c_contiguous  # other layouts: one conversion
    with pytest.raises(TypeError):  # the binding never converts silently
        _core.data_address_f64(F)
    with pytest.raises(TypeError):
        _core.data_address_f64(X32)
    readonly = X.copy()
    readonly.setflags(write=False)
    assert _core.data_address_f64(readonly) == readonly.ctypes.data


def test_fast_path_takes_plain_arrays_only(X):
    """predict & c. hand a C-contiguous array of the model's dtype straight to C++ (the fast path);
    anything else goes through the full checks, with the same results."""
    fitted = GaussianMixture(2, random_state=0).fit(X)
    model = fitted._core_model()
    assert fitted._fast_model(X) is model
    assert fitted._fast_model(X[5:50]) is model  # a contiguous slice of rows
    for other in (np.asfortranarray(X), X[::2], X.astype(np.float32), X.tolist(), X[0], X[:0], X[:, :1]):
        assert fitted._fast_model(other) is None
    for method in ("predict", "predict_proba", "score_samples", "score"):
        fast = getattr(fitted, method)(X)
        for other in (np.asfortranarray(X), X.tolist()):
            np.testing.assert_array_equal(getattr(fitted, method)(other), fast, err_msg=method)
    fitted32 = GaussianMixture(2, random_state=0).fit(X.astype(np.float32))
    assert fitted32._fast_model(X.astype(np.float32)) is fitted32._core_model()
    assert fitted32._fast_model(X) is None  # float64 into a float32 model: converted first
    np.testing.assert_array_equal(fitted32.predict(X), fitted32.predict(X.astype(np.float32)))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_score_is_the_mean_of_score_samples(X, dtype):
    """score computes ndarray.mean's result (value and type) without calling it."""
    fitted = GaussianMixture(3, random_state=0).fit(X.astype(dtype))
    for rows in (X[:1], X[:7], X):
        rows = rows.astype(dtype)
        expected = fitted.score_samples(rows).mean()
        assert fitted.score(rows) == expected and type(fitted.score(rows)) is type(expected)


def test_fast_path_keeps_the_checks_and_messages(X):
    """Bad input that qualifies for the fast path still gets the full checks' error."""
    with pytest.raises(gaussmix.NotFittedError):
        GaussianMixture().score_samples(X)
    fitted = GaussianMixture(2, random_state=0).fit(X)
    from gaussmix import _compat

    for bad, message in ((np.nan, "NaN"), (np.inf, "infinity" if _compat.HAVE_SKLEARN else "NaN or infinity")):
        Xbad = X.copy()
        Xbad[7, 1] = bad
        assert fitted._fast_model(Xbad) is not None
        for method in ("predict", "predict_proba", "score_samples", "score"):
            # scikit-learn's message (or the numpy-only stand-in's), not the library's.
            with pytest.raises(ValueError, match=f"Input X contains {message}"):
                getattr(fitted, method)(Xbad)
    with pytest.raises(ValueError, match="X has 3 features, but GaussianMixture is expecting 2 features"):
        fitted.predict(np.ones((4, 3)))
    with pytest.raises(ValueError, match="0 sample"):
        fitted.predict(X[:0])
    with pytest.raises(ValueError, match="2D array"):
        fitted.predict(X[0])


def test_fast_path_follows_replaced_parameters(X):
    """Fitted attributes replaced by hand rebuild the C++ model, on the fast path too."""
    fitted = GaussianMixture(2, random_state=0).fit(X)
    before = fitted.predict(X)
    fitted.means_ = fitted.means_[::-1].copy()
    fitted.weights_ = fitted.weights_[::-1].copy()
    fitted.covariances_ = fitted.covariances_[::-1].copy()
    assert fitted._fast_model(X) is None  # the cached C++ model is stale
    np.testing.assert_array_equal(fitted.predict(X), 1 - before)
    assert fitted._fast_model(X) is fitted._core_model()


def test_fast_path_and_feature_names(X):
    """Fitted with column names: a plain array at predict warns as scikit-learn does (full checks)."""
    pytest.importorskip("sklearn")

    class Frame:  # the part of a DataFrame scikit-learn reads: columns and the values
        def __init__(self, values, columns):
            self.values, self.columns = values, np.asarray(columns, dtype=object)

        def __array__(self, dtype=None):
            return self.values if dtype is None else self.values.astype(dtype)

        def __len__(self):
            return len(self.values)

        @property
        def shape(self):
            return self.values.shape

    fitted = GaussianMixture(2, random_state=0).fit(Frame(X, ["a", "b"]))
    assert list(fitted.feature_names_in_) == ["a", "b"]
    assert fitted._fast_model(X) is None
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        fitted.predict(X)


def test_parameter_checks_skip_sklearns_validation_only_when_it_would_pass(X, monkeypatch):
    """fit skips scikit-learn's _validate_params (slow on small data) only for parameters it
    surely accepts; anything else still gets its InvalidParameterError and message."""
    sklearn_validation = pytest.importorskip("sklearn.utils._param_validation")
    calls = []
    original = GaussianMixture._validate_params
    monkeypatch.setattr(GaussianMixture, "_validate_params", lambda self: calls.append(1) or original(self))
    given = dict(weights_init=[0.5, 0.5], means_init=np.array([[0, 0], [6, 1]]), precisions_init=(1.0, 2.0))
    for params in ({}, dict(random_state=2**32 - 1), dict(random_state=np.random.RandomState(0), n_jobs=2),
                   dict(covariance_type="spherical", tol=1e-4, verbose=False, warm_start=np.bool_(True), **given)):
        GaussianMixture(2, **params).fit(X)
    assert calls == []
    invalid = [dict(n_components=0), dict(n_components=2.0), dict(tol=-1.0), dict(tol=float("nan")),
               dict(covariance_type="banana"), dict(init_params=None), dict(random_state=2**32),
               dict(random_state="seed"), dict(weights_init="abc"), dict(verbose=-1), dict(n_jobs=1.5)]
    for params in invalid:
        name = next(iter(params))
        with pytest.raises(sklearn_validation.InvalidParameterError,
                           match=f"The '{name}' parameter of GaussianMixture must be"):
            GaussianMixture(**params).fit(X)
    assert len(calls) == len(invalid)

    class Subclass(GaussianMixture):
        pass

    Subclass(2).fit(X)  # subclasses always take scikit-learn's validation
    assert len(calls) == len(invalid) + 1


# --- behaviour users see ---


def test_errors_and_warnings(X):
    with pytest.raises(gaussmix.NotFittedError):
        GaussianMixture().predict(X)
    with pytest.raises(ValueError, match="n_components"):
        GaussianMixture(n_components=0).fit(X)
    with pytest.raises(ValueError, match="covariance_type"):
        GaussianMixture(covariance_type="banana").fit(X)
    with pytest.raises(ValueError, match="n_samples >= n_components"):
        GaussianMixture(n_components=5).fit(X[:4])
    with pytest.raises(ValueError, match="weights"):
        GaussianMixture(3, weights_init=[0.5, 0.5, 0.5]).fit(X)
    with pytest.raises(ValueError, match="sample_weight|weight"):
        GaussianMixture(2).fit(X, sample_weight=-np.ones(X.shape[0]))
    given = dict(weights_init=[0.5, 0.5], means_init=[[0, 0], [6, 1]], precisions_init=np.ones(2))
    with pytest.raises(ValueError, match="weight"):  # also when the starting parameters are given
        GaussianMixture(2, covariance_type="spherical", **given).fit(X, sample_weight=-np.ones(X.shape[0]))
    with pytest.raises(ValueError, match="weight"):
        GaussianMixture(2, covariance_type="spherical", max_iter=0, **given).fit(X, sample_weight=-np.ones(X.shape[0]))
    with pytest.warns(gaussmix.ConvergenceWarning):
        GaussianMixture(3, max_iter=1, random_state=0).fit(X)
    # A degenerate covariance (all points equal, no regularisation) is a ValueError, as in scikit-learn.
    with pytest.raises(ValueError):
        GaussianMixture(1, reg_covar=0.0).fit(np.ones((10, 2)))
    fitted = GaussianMixture(2, random_state=0).fit(X)
    with pytest.raises(ValueError, match="features"):
        fitted.predict(X[:, :1])


def test_warm_start_continues(X):
    cold = GaussianMixture(3, random_state=0, max_iter=6, tol=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cold.fit(X)
        warm = GaussianMixture(3, random_state=0, max_iter=2, tol=0, warm_start=True)
        for _ in range(3):
            warm.fit(X)
    for name in FITTED:
        np.testing.assert_allclose(getattr(cold, name), getattr(warm, name), rtol=1e-10, atol=1e-12)


def test_max_iter_zero_keeps_the_starting_parameters(X):
    start = dict(weights_init=[0.2, 0.3, 0.5], means_init=[[0.0, 0.0], [6.0, 1.0], [-1.0, 7.0]])
    gmm = GaussianMixture(3, covariance_type="diag", max_iter=0, random_state=0, **start).fit(X)
    np.testing.assert_array_equal(gmm.weights_, start["weights_init"])
    np.testing.assert_array_equal(gmm.means_, start["means_init"])
    assert gmm.n_iter_ == 0 and not gmm.converged_ and gmm.lower_bound_ == -np.inf
    # The covariances are those of the init method, as one fit iteration would start from.
    assert np.all(gmm.covariances_ > 0)


def test_verbose_prints_to_stdout(X, capsys):
    GaussianMixture(2, random_state=0, verbose=2, verbose_interval=1).fit(X)
    out = capsys.readouterr().out
    assert "Initialization 0" in out and "Iteration 1" in out and "converged" in out


def test_random_state_seeds():
    assert seed_from_random_state(42) == 42
    a, b = np.random.RandomState(3), np.random.RandomState(3)
    assert seed_from_random_state(a) == seed_from_random_state(b)
    assert seed_from_random_state(a) != seed_from_random_state(np.random.RandomState(3))  # a advanced


def test_sample_is_grouped_by_component_and_seeded(X):
    gmm = GaussianMixture(3, random_state=0).fit(X)
    Xs, y = gmm.sample(3000)
    assert Xs.shape == (3000, 2) and np.all(np.diff(y) >= 0)
    np.testing.assert_array_equal(gmm.sample(10)[0], gmm.sample(10)[0])  # int random_state: same draw
    for k in range(3):
        share = np.mean(y == k)
        assert abs(share - gmm.weights_[k]) < 4 * np.sqrt(gmm.weights_[k] * (1 - gmm.weights_[k]) / 3000)
        assert np.all(np.abs(Xs[y == k].mean(axis=0) - gmm.means_[k]) < 0.2)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_fit_file_equals_in_memory_fit(tmp_path, dtype):
    X = mixture_data(n=900, d=3, seed=4).astype(dtype)
    path = tmp_path / "rows.bin"
    X.tofile(path)
    streamed = gaussmix.fit_file(path, 3, dtype=dtype, buffer_rows=100, n_components=3, random_state=2)
    in_memory = GaussianMixture(3, random_state=2).fit(X)
    assert streamed.means_.dtype == np.dtype(dtype)
    tol = 1e-10 if dtype == "float64" else 1e-4
    for name in FITTED:
        np.testing.assert_allclose(getattr(streamed, name), getattr(in_memory, name), rtol=tol, atol=tol)
    assert streamed.n_features_in_ == 3
    with pytest.raises(ValueError):
        gaussmix.fit_file(path, 7, dtype=dtype)  # file size is not a multiple of 7 values


def test_numpy_only_mode(tmp_path):
    """Without scikit-learn, numpy alone fits and predicts, and the exceptions keep their meaning."""
    code = """
import sys
sys.modules['sklearn'] = None  # make 'import sklearn' fail
import numpy as np, gaussmix
from gaussmix import _compat
assert not _compat.HAVE_SKLEARN
X = np.vstack([np.random.RandomState(0).randn(100, 2), np.random.RandomState(1).randn(100, 2) + 6])
g = gaussmix.GaussianMixture(2, random_state=0)
try:
    g.predict(X)
    raise SystemExit('no NotFittedError')
except gaussmix.NotFittedError:
    pass
g.fit(X)
assert sorted(np.bincount(g.predict(X))) == [100, 100]
Xnan = X.copy()
Xnan[3, 0] = np.nan
try:
    g.predict(Xnan)
    raise SystemExit('no ValueError for NaN')
except ValueError as error:
    assert 'Input X contains NaN' in str(error), error
assert g.get_params()['n_components'] == 2 and 'n_components=2' in repr(g)
g.partial_fit(X[:50])
m = gaussmix.GaussianMixture(2, random_state=0, missing='marginalise').fit(Xnan)
assert np.isfinite(m.impute(Xnan)).all() and np.isfinite(m.score_samples(Xnan)).all()
b = gaussmix.BayesianGaussianMixture(n_components=4, random_state=0).fit(X)
assert (b.weights_ > 0.05).sum() == 2 and b.predict(X).shape == (200,)
try:
    gaussmix.GaussianMixture(0).fit(X)
    raise SystemExit('no ValueError')
except ValueError:
    pass
print('ok')
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
