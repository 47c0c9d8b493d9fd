"""scikit-learn's rule: every public constructor parameter of a registered model, of the data
module and of every registered data source has a declared constraint
(``parameter_constraints``), so refusals share one wording (autoenc.core.constraints)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from autoenc.core.constraints import Interval, constructor_parameters, undeclared_parameters
from autoenc.data import SOURCES
from autoenc.data.module import ImageDataModule
from autoenc.models import MODELS, AutoencoderModule

PACKAGE = Path(__file__).parents[1] / "autoenc"
CLASSES = {f"model {n}": MODELS.get(n) for n in MODELS.list()} | {"ImageDataModule": ImageDataModule}
CLASSES |= {f"source {n}": SOURCES.get(n) for n in SOURCES.list()}


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_every_constructor_parameter_has_a_declared_constraint(name: str) -> None:
    missing = undeclared_parameters(CLASSES[name])
    assert not missing, f"{name}: no constraint declared for {missing}; add them to its parameter_constraints"


def test_the_rule_sees_forwarded_parameters_and_fails_on_a_missing_one() -> None:
    class Child(AutoencoderModule):
        parameter_constraints = {"depth": [Interval(int, 1, None)]}

        def __init__(self, input_shape, depth: int = 2, width: int = 3, **kwargs) -> None:
            super().__init__(input_shape, **kwargs)

    names = constructor_parameters(Child)
    assert names[:3] == ["input_shape", "depth", "width"] and "latent_dim" in names and "compile" in names
    assert undeclared_parameters(Child) == ["width"]


@pytest.mark.parametrize("folder", ["models", "data"])
def test_no_hand_written_must_be_messages_for_parameters(folder: str) -> None:
    """Parameter refusals come from autoenc.core.constraints; what may still say "must" by hand
    checks arrays (their dtype or shape), not parameters."""
    found = []
    for file in sorted((PACKAGE / folder).rglob("*.py")):
        for number, line in enumerate(file.read_text().splitlines(), 1):
            if re.search(r"""f?["'].*\bmust (not )?(be|have)\b""", line) and not re.search(r"dtype|shape|^\s*#", line):
                found.append(f"{file.relative_to(PACKAGE)}:{number}: {line.strip()}")
    assert found == []
