#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""gaussmix <-> scikit-learn through the model file, with the snippets of docs/model_format.md.

1. gaussmix_export_model fits the four covariance types in C++ and saves each model, the data and
   gaussmix's own label, log density and probabilities per row.
2. The first ```python block of the doc (load_gaussmix) loads each model into scikit-learn, whose
   score_samples and predict_proba must match gaussmix's to 1e-10 and predict exactly.
3. The other way: scikit-learn fits each type, the second block (save_gaussmix) writes it, gaussmix
   loads it (gaussmix_export_model score) and must match scikit-learn to 1e-10 too.
4. The same both ways for BayesianGaussianMixture (four types x both weight priors), with the doc's
   load_gaussmix_bayesian and save_gaussmix_bayesian.

Exits 77 (CTest SKIP_RETURN_CODE) when this Python cannot import numpy, scipy and scikit-learn.
"""
import argparse
import os
import re
import subprocess
import sys

SKIP = 77
TOLERANCE = 1e-10
TYPES = ("full", "diag", "spherical", "tied")
PRIORS = ("dirichlet_process", "dirichlet_distribution")


def doc_snippets(doc_path):
    """The ```python blocks of the doc, in order."""
    with open(doc_path, encoding="utf-8") as f:
        return re.findall(r"^```python\n(.*?)^```", f.read(), flags=re.S | re.M)


def read_scores(path, np):
    table = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    return table[:, 0].astype(int), table[:, 1], table[:, 2:]


def compare(what, labels, log_density, proba, gm, X, np):
    """Failures (strings) of scikit-learn's gm against gaussmix's numbers on X."""
    failures = []
    d_density = np.max(np.abs(gm.score_samples(X) - log_density))
    d_proba = np.max(np.abs(gm.predict_proba(X) - proba))
    same_labels = np.array_equal(gm.predict(X), labels)
    print(f"{what:60s} max |score_samples diff| = {d_density:.2e}, max |predict_proba diff| = {d_proba:.2e}, "
          f"predict {'identical' if same_labels else 'DIFFERS'}")
    if not d_density <= TOLERANCE:
        failures.append(f"{what}: score_samples differs by {d_density:.3e} > {TOLERANCE}")
    if not d_proba <= TOLERANCE:
        failures.append(f"{what}: predict_proba differs by {d_proba:.3e} > {TOLERANCE}")
    if not same_labels:
        failures.append(f"{what}: predict differs")
    return failures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exporter", required=True, help="the gaussmix_export_model executable")
    parser.add_argument("--doc", required=True, help="docs/model_format.md")
    parser.add_argument("--workdir", required=True, help="a directory for the files exchanged")
    args = parser.parse_args()

    try:
        import numpy as np
        import scipy  # noqa: F401  (the doc's snippet uses scipy.linalg)
        import sklearn
        from sklearn.mixture import BayesianGaussianMixture, GaussianMixture
    except ImportError as error:
        print(f"SKIPPED: {sys.executable} cannot import numpy, scipy and scikit-learn ({error}); "
              "install python3-sklearn to run this test")
        return SKIP
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, scikit-learn {sklearn.__version__}")

    # The snippets that define the four functions, found by name (the doc has other python blocks).
    wanted = ("load_gaussmix", "save_gaussmix", "load_gaussmix_bayesian", "save_gaussmix_bayesian")
    namespace = {}
    for number, snippet in enumerate(doc_snippets(args.doc), start=1):
        if any(re.search(rf"^def {name}\(", snippet, flags=re.M) for name in wanted):
            exec(compile(snippet, f"{args.doc} (python block {number})", "exec"), namespace)
    missing = [name for name in wanted if name not in namespace]
    if missing:
        print(f"FAILED: {args.doc} should define {', '.join(missing)} in its python blocks")
        return 1
    load_gaussmix, save_gaussmix = namespace["load_gaussmix"], namespace["save_gaussmix"]
    load_bayesian, save_bayesian = namespace["load_gaussmix_bayesian"], namespace["save_gaussmix_bayesian"]

    os.makedirs(args.workdir, exist_ok=True)
    subprocess.run([args.exporter, "export", args.workdir], check=True)
    data = os.path.join(args.workdir, "data.csv")
    X = np.loadtxt(data, delimiter=",", skiprows=1)
    failures = []

    for covariance_type in TYPES:  # gaussmix -> scikit-learn
        gm = load_gaussmix(os.path.join(args.workdir, f"model_{covariance_type}.json"))
        if gm.covariance_type != covariance_type or gm.n_components != 3:
            failures.append(f"{covariance_type}: loaded as {gm.covariance_type} with K = {gm.n_components}")
        labels, log_density, proba = read_scores(os.path.join(args.workdir, f"expected_{covariance_type}.csv"), np)
        failures += compare(f"gaussmix -> sklearn, {covariance_type}", labels, log_density, proba, gm, X, np)

    for covariance_type in TYPES:  # scikit-learn -> gaussmix
        gm = GaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(X)
        model = os.path.join(args.workdir, f"sklearn_{covariance_type}.json")
        scores = os.path.join(args.workdir, f"sklearn_{covariance_type}_scored_by_gaussmix.csv")
        save_gaussmix(gm, model)
        subprocess.run([args.exporter, "score", model, data, scores], check=True)
        labels, log_density, proba = read_scores(scores, np)
        failures += compare(f"sklearn -> gaussmix, {covariance_type}", labels, log_density, proba, gm, X, np)

    for covariance_type in TYPES:
        for prior in PRIORS:
            name = f"bayes_{covariance_type}_{prior}"
            bgm = load_bayesian(os.path.join(args.workdir, f"{name}.json"))  # gaussmix -> scikit-learn
            if bgm.covariance_type != covariance_type or bgm.weight_concentration_prior_type != prior:
                failures.append(f"{name}: loaded as {bgm.covariance_type}, {bgm.weight_concentration_prior_type}")
            labels, log_density, proba = read_scores(os.path.join(args.workdir, f"expected_{name}.csv"), np)
            failures += compare(f"gaussmix -> sklearn, {name}", labels, log_density, proba, bgm, X, np)

            bgm = BayesianGaussianMixture(n_components=5, covariance_type=covariance_type,  # and back
                                          weight_concentration_prior_type=prior, max_iter=500,
                                          random_state=0).fit(X)
            model = os.path.join(args.workdir, f"sklearn_{name}.json")
            scores = os.path.join(args.workdir, f"sklearn_{name}_scored_by_gaussmix.csv")
            save_bayesian(bgm, model)
            subprocess.run([args.exporter, "score", model, data, scores], check=True)
            labels, log_density, proba = read_scores(scores, np)
            failures += compare(f"sklearn -> gaussmix, {name}", labels, log_density, proba, bgm, X, np)

    for failure in failures:
        print("FAILED:", failure)
    cases = 2 * len(TYPES) + 2 * len(TYPES) * len(PRIORS)
    failed = len({f.split(':')[0] for f in failures})
    print(f"{cases - failed} passed, {failed} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
