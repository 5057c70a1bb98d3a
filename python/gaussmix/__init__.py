"""gaussmix: Gaussian mixture models fitted by EM in C++, with scikit-learn's GaussianMixture and
BayesianGaussianMixture API.

    from gaussmix import GaussianMixture   # instead of: from sklearn.mixture import GaussianMixture
"""
from . import _core
from ._compat import ConvergenceWarning, NotFittedError
from ._core import NumericalError
from ._bayesian_mixture import BayesianGaussianMixture
from ._file import fit_file
from ._gaussian_mixture import GaussianMixture

__version__ = _core.__version__
__all__ = [
    "GaussianMixture",
    "BayesianGaussianMixture",
    "fit_file",
    "NumericalError",
    "NotFittedError",
    "ConvergenceWarning",
    "__version__",
]
