"""The README's Python section: its install command is what python/ci_pip_install_test.sh runs, and
its example line runs."""
import os
import re

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def python_section():
    text = open(os.path.join(REPO, "README.md")).read()
    start = text.index("\n## Python\n")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def test_readme_install_command_is_the_one_ci_runs():
    section = python_section()
    (command,) = re.findall(r"```sh\n(.*?)\n```", section, re.S)
    venv, pip = [c.strip() for c in command.split("&&")]
    assert venv == "/usr/bin/python3 -m venv --system-site-packages venv"
    assert pip == "venv/bin/pip install --no-build-isolation ./python"
    script = open(os.path.join(REPO, "python", "ci_pip_install_test.sh")).read()
    assert '/usr/bin/python3 -m venv --system-site-packages "$tmp/venv"' in script
    assert '"$tmp/venv/bin/pip" install --no-build-isolation ./python' in script


def test_readme_example_runs():
    (code,) = re.findall(r"```python\n(.*?)\n```", python_section(), re.S)
    rng = np.random.RandomState(0)
    X = np.vstack([rng.randn(100, 2) + c for c in ([0, 0], [8, 0], [0, 8])])
    w = rng.uniform(0.5, 2.0, size=X.shape[0])
    scope = {"X": X, "w": w}
    exec(code, scope)
    gmm = scope["gmm"]
    assert gmm.converged_ and sorted(np.bincount(gmm.predict(X))) == [100, 100, 100]
