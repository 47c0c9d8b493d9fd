"""What command options accept, declared with :mod:`autoenc.core.constraints` (one wording
everywhere), and the two list types every command spells the same way.

Every parameter of a command function has its constraints in the ``params`` of its
:class:`~autoenc.cli._generate.Generated` (a test fails otherwise, scikit-learn's rule); they
are checked before the function runs, naming the option as it is spelled on the command line
(``--batch_size must be an integer >= 1, got 0``). Checks that need the machine (a device that
is there) are functions here.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from autoenc.core.constraints import (
    POSITIVE_INT,
    InstanceOf,
    Interval,
    ListOf,
    Null,
    Options,
    check_param,
)
from autoenc.core.errors import UserError

#: Seeds every generator we seed accepts: numpy and scikit-learn refuse negative ones, torch >= 2**64.
SEED = Interval(int, 0, 2**32, closed="left")
PATH = InstanceOf((str, Path), "a path")
OPTIONAL_PATH = [PATH, Null()]
NAME = InstanceOf(str, "a name")
FLAG = Options([True, False])
INDEX = Interval(int, 0, None, closed="left")
INDICES = [ListOf(INDEX), Null()]
COUNT = [POSITIVE_INT]
OPTIONAL_COUNT = [POSITIVE_INT, Null()]
SPLIT = [Options(["train", "val"])]
SPLIT_OR_ALL = [Options(["train", "val", "all"])]


class Finite(Interval):
    """An :class:`~autoenc.core.constraints.Interval` without the infinities."""

    def is_satisfied_by(self, value: object) -> bool:
        return super().is_satisfied_by(value) and math.isfinite(value)  # type: ignore[arg-type]


#: A finite real > 0.
POSITIVE = Finite(float, 0, None, closed="neither", note="finite")


def parse_list(value: Any, item: type) -> list[Any]:
    """``"2,4"``, ``"[2, 4]"``, ``"2"`` or a list -> list of ``item`` (int or str): the one list
    spelling of every command (``--dims 0,3`` = ``--dims [0,3]``)."""
    import yaml

    if isinstance(value, str):
        text = value.strip()
        value = yaml.safe_load(text) if text.startswith("[") else [v.strip() for v in text.split(",") if v.strip()]
        if item is int and isinstance(value, list):
            value = [_int(v) for v in value]
    if not isinstance(value, list | tuple) or not all(isinstance(v, item) and not isinstance(v, bool) for v in value):
        kind = "integers" if item is int else "names"
        raise ValueError(f"expected {kind} separated by commas, e.g. {'2,4' if item is int else 'a,b'} "
                         f"or [{'2, 4' if item is int else 'a, b'}]; got {value!r}")
    return list(value)


def _int(text: Any) -> Any:
    try:
        return int(text) if isinstance(text, str) else text
    except ValueError:
        return text


class Ints(list):
    """A list of integers on the command line: ``2,4`` or ``[2, 4]``."""


class Names(list):
    """A list of names on the command line: ``twonn,mle`` or ``[twonn, mle]``."""


def _register() -> None:
    from jsonargparse.typing import register_type

    register_type(Ints, serializer=list, deserializer=lambda v: Ints(parse_list(v, int)))
    register_type(Names, serializer=list, deserializer=lambda v: Names(parse_list(v, str)))


_register()


def check_device(text: str | None, name: str = "device") -> str | None:
    """A torch device string this machine has (None passes: the command picks one); a one-line
    error for a malformed name or a device that is not there."""
    if text is None:
        return None
    import torch

    flag = f"--{name}"
    try:
        device = torch.device(text)
    except (RuntimeError, ValueError):
        raise UserError(f"{flag} {text!r} names no torch device; write e.g. cpu, cuda or cuda:1") from None
    counts = {"cpu": 1, "cuda": torch.cuda.device_count(), "mps": int(torch.backends.mps.is_available())}
    count = counts.get(device.type, 0)
    if count == 0 or (device.index or 0) >= count:
        have = ", ".join(["cpu", *(f"cuda:{i}" for i in range(counts["cuda"])), *(["mps"] * counts["mps"])])
        raise UserError(f"{flag} {text!r}: no such device on this machine; it has {have}")
    return text


def check_accelerator(name: str, flag: str = "--accelerator") -> str:
    """A Lightning accelerator name this machine has (``auto`` always passes; ``gpu`` is cuda or
    mps), else a one-line error naming those it has."""
    from lightning.pytorch.accelerators import AcceleratorRegistry

    known = AcceleratorRegistry.available_accelerators()
    check_param(flag, [Options(["auto", "gpu", *known])], name)
    here = [n for n in known if AcceleratorRegistry[n]["accelerator"].is_available()]
    if name == "auto" or name in here or (name == "gpu" and {"cuda", "mps"} & set(here)):
        return name
    raise UserError(f"{flag} {name!r}: no such device on this machine; it has {', '.join(here)} (or use auto)")
