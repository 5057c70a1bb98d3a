import numpy as np
import pytest


def mixture_data(n=600, seed=0, d=2):
    """Three well-separated Gaussian clusters with different shapes (seeded)."""
    rng = np.random.RandomState(seed)
    centres = np.array([[0.0] * d, [6.0] + [1.0] * (d - 1), [-1.0] + [7.0] * (d - 1)])
    scales = [1.0, 0.5, 1.5]
    parts = [centres[k] + scales[k] * rng.randn(n // 3, d) @ np.diag(np.linspace(1, 2, d)) for k in range(3)]
    return np.vstack(parts)


@pytest.fixture
def X():
    return mixture_data()
