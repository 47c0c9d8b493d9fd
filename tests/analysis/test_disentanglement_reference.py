"""Our metrics against the reference port of disentanglement_lib (``disent``), through a fixture.

``tests/fixtures/disent_reference.json`` holds disent's values on fixed inputs, recorded by
``scripts/disent_reference.py`` where disent is installed (versions written beside them), so
these tests run in CI without disent. The inputs are recomputed here and checked against the
fixture's sha256 first."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from autoenc.measure.disentanglement import dci, dci_from_importance, mig, sap

FIXTURE = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "disent_reference.json").read_text())


def arrays(n: int, seed: int, sizes: tuple[int, ...] = (3, 6, 10), latents: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """The same inputs as scripts/disent_reference.py's ``arrays``."""
    rng = np.random.default_rng(seed)
    factors = np.stack([rng.integers(0, s, n) for s in sizes], axis=1)
    mix = rng.normal(size=(len(sizes), latents))
    codes = (factors - factors.mean(0)) / factors.std(0) @ mix + 0.5 * rng.normal(size=(n, latents))
    return codes, factors.astype(np.int64)


def case(name: str, columns: int | None = None) -> tuple[dict, np.ndarray, np.ndarray]:
    ref = FIXTURE["cases"][name]
    codes, factors = arrays(ref["n"], ref["seed"])
    factors = factors if columns is None else factors[:, :columns]
    h = hashlib.sha256()
    for part in (codes, factors):
        h.update(np.ascontiguousarray(part).tobytes())
    assert h.hexdigest() == ref["sha256"], "the inputs differ from those the fixture was recorded on"
    return ref, codes, factors


def test_fixture_says_where_it_came_from() -> None:
    assert FIXTURE["versions"]["disent"] and FIXTURE["versions"]["scikit-learn"]


def test_mig_equals_the_reference() -> None:
    ref, codes, factors = case("mig_sap")
    assert mig(codes, factors)["mig"] == pytest.approx(ref["mig"], abs=1e-12)


def test_sap_equals_the_reference_without_standardising() -> None:
    ref, codes, factors = case("mig_sap")
    split = ref["train"]
    ours = sap(codes[:split], factors[:split], codes[split:], factors[split:], standardize=False)["sap"]
    assert ours == pytest.approx(ref["sap_discrete"], abs=1e-12)


@pytest.mark.parametrize("name", ["dci", "dci_seed3"])
def test_dci_equals_the_reference(name: str) -> None:
    ref, codes, factors = case(name, 2)
    split = ref["train"]
    ours = dci(codes[:split], factors[:split], codes[split:], factors[split:], n_jobs=1)
    for key in ("disentanglement", "completeness", "informativeness_train", "informativeness_test"):
        # the same sklearn trees: equal up to the boosting's tie-breaking between runs
        assert ours[key] == pytest.approx(ref[key], abs=0.02), key


def test_dci_from_the_same_importances_equals_the_reference() -> None:
    ref = FIXTURE["importance"]
    d, c = dci_from_importance(np.array(ref["matrix"]))
    assert d == pytest.approx(ref["disentanglement"], abs=1e-9)
    assert c == pytest.approx(ref["completeness"], abs=1e-9)
