"""Checks of command options that types alone cannot state, declared with
:mod:`autoenc.constraints` (one wording everywhere); each names the option as it is spelled on
the command line (``--batch_size must be an integer >= 1, got 0``)."""

from __future__ import annotations

from autoenc.constraints import Interval, check_param
from autoenc.errors import UserError

#: Seeds every generator we seed accepts: numpy and scikit-learn refuse negative ones, torch >= 2**64.
SEED = Interval(int, 0, 2**32, closed="left")


def at_least(value: int, minimum: int, name: str) -> int:
    """``value`` when it is an integer >= ``minimum``, else a UserError naming ``--name``."""
    return check_param(f"--{name}", [Interval(int, minimum, None, closed="left")], value)


def positive_number(value: float, name: str) -> float:
    """``value`` when it is a number > 0, else a UserError naming ``--name``."""
    return check_param(f"--{name}", [Interval(float, 0, None, closed="neither")], value)


def check_seed(value: int, name: str = "seed") -> int:
    """An integer in [0, 2**32)."""
    return check_param(f"--{name}", [SEED], value)


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
        raise UserError(f"{flag} must be a torch device such as cpu, cuda or cuda:1, got {text!r}") from None
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
    here = [n for n in known if AcceleratorRegistry[n]["accelerator"].is_available()]
    if name == "auto" or name in here or (name == "gpu" and {"cuda", "mps"} & set(here)):
        return name
    if name != "gpu" and name not in known:
        raise UserError(f"{flag} must be one of auto, gpu, {', '.join(known)}, got {name!r}")
    raise UserError(f"{flag} {name!r}: no such device on this machine; it has {', '.join(here)} (or use auto)")
