"""Our metrics against a reference port of disentanglement_lib (``disent``) on the same arrays.

Skipped when ``disent`` is not importable; it is not a dependency (it needs h5py and pulls
in lightning/torchvision). To run: ``pip install --no-deps disent h5py``."""

from __future__ import annotations

import numpy as np
import pytest

from autoenc.analysis.disentanglement import dci, dci_from_importance, mig, sap

pytest.importorskip("h5py")
disent_mig = pytest.importorskip("disent.metrics._mig")
disent_sap = pytest.importorskip("disent.metrics._sap")
disent_dci = pytest.importorskip("disent.metrics._dci")


def arrays(n: int = 1200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    factors = np.stack([rng.integers(0, s, n) for s in (3, 6, 10)], axis=1)
    codes = (factors - factors.mean(0)) / factors.std(0) @ rng.normal(size=(3, 5)) + 0.5 * rng.normal(size=(n, 5))
    return codes, factors


def test_mig_equals_the_reference() -> None:
    codes, factors = arrays()
    theirs = disent_mig._compute_mig(codes.T, factors.T)["mig.discrete_score"]
    assert mig(codes, factors)["mig"] == pytest.approx(theirs, abs=1e-12)


def test_sap_equals_the_reference_without_standardising() -> None:
    codes, factors = arrays()
    ours = sap(codes[:800], factors[:800], codes[800:], factors[800:], standardize=False)["sap"]
    theirs = disent_sap._compute_sap(codes[:800].T, factors[:800].T, codes[800:].T, factors[800:].T, False)
    assert ours == pytest.approx(theirs["sap.score"], abs=1e-12)


def test_dci_equals_the_reference() -> None:
    codes, factors = arrays(500)
    ours = dci(codes[:350], factors[:350, :2], codes[350:], factors[350:, :2], n_jobs=1)
    theirs = disent_dci._compute_dci(codes[:350].T, factors[:350, :2].T, codes[350:].T, factors[350:, :2].T)
    for mine, key in (("disentanglement", "dci.disentanglement"), ("completeness", "dci.completeness"),
                      ("informativeness_train", "dci.informativeness_train"),
                      ("informativeness_test", "dci.informativeness_test")):
        assert ours[mine] == pytest.approx(theirs[key], abs=0.02), mine
    # the same importance matrix gives the same D and C to rounding
    importance = ours.matrices["importance"]
    d, c = dci_from_importance(importance)
    assert d == pytest.approx(disent_dci._disentanglement(importance), abs=1e-9)
    assert c == pytest.approx(disent_dci._completeness(importance), abs=1e-9)
