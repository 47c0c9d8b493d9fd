"""The run directory: ``<runs_dir>/<name>/version_N/`` and what lives in it.

Layout of one run::

    version_N/
        config.yaml              the resolved config (LightningCLI)
        checkpoints/last.ckpt    the state after the last completed epoch (or the interrupt)
        checkpoints/best-*.ckpt  the best by val/loss
        metrics.csv              one row per logged step / epoch
        reconstructions/         a grid per validation epoch
        report/                  ``autoenc report``

Versions are reserved with an exclusive ``mkdir``: two processes that start together can
never share one (the loser of a race takes the next number).
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from autoenc.errors import UserError

__all__ = ["CHECKPOINTS", "LAST", "RunLocation", "find_last_checkpoint", "has_checkpoint", "locate_run",
           "remove_if_unused", "reserve_version", "versions"]

CHECKPOINTS = "checkpoints"
LAST = "last.ckpt"
_VERSION = re.compile(r"version_(\d+)")


@dataclass(frozen=True)
class RunLocation:
    """Where a run lives: ``runs_dir / name / f"version_{version}"``."""

    runs_dir: Path
    name: str
    version: int
    #: the outermost directory that reserving this version created (None: only version_N)
    created: Path | None = field(default=None, compare=False, repr=False)

    @property
    def path(self) -> Path:
        return self.runs_dir / self.name / f"version_{self.version}"

    @property
    def last_checkpoint(self) -> Path:
        return self.path / CHECKPOINTS / LAST


def versions(runs_dir: str | os.PathLike, name: str) -> list[int]:
    """The version numbers present under ``runs_dir/name``, ascending."""
    base = Path(runs_dir) / name
    if not base.is_dir():
        return []
    found = (_VERSION.fullmatch(d.name) for d in base.iterdir() if d.is_dir())
    return sorted(int(m.group(1)) for m in found if m)


def reserve_version(runs_dir: str | os.PathLike, name: str, attempts: int = 1000) -> RunLocation:
    """Create ``runs_dir/name/version_N`` for the smallest free N above every existing one,
    atomically: ``mkdir`` fails when another process took N first, and then N + 1 is tried.

    Raises:
        UserError: the directory cannot be created (a file in the way, no permission).
    """
    base = Path(runs_dir) / name
    created = next((p for p in reversed([base, *base.parents]) if not p.exists()), None)
    try:
        base.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise UserError(f"cannot create run directory {str(base)!r}: a file is in the way; "
                        "choose another --runs_dir or --name") from None
    except OSError as err:
        raise UserError(f"cannot create run directory {str(base)!r} ({err.strerror}); "
                        "choose another --runs_dir") from None
    existing = versions(runs_dir, name)
    start = existing[-1] + 1 if existing else 0
    for version in range(start, start + attempts):
        try:
            (base / f"version_{version}").mkdir()
        except FileExistsError:
            continue
        except OSError as err:
            raise UserError(f"cannot create run directory {str(base / f'version_{version}')!r} "
                            f"({err.strerror}); choose another --runs_dir") from None
        return RunLocation(Path(runs_dir), name, version, created)
    raise UserError(f"no free version under {str(base)!r} after {attempts} attempts; clean it up")


def has_checkpoint(run_path: str | os.PathLike) -> bool:
    """Whether a run directory holds any ``.ckpt`` (a run worth keeping)."""
    ckpts = Path(run_path) / CHECKPOINTS
    return ckpts.is_dir() and any(ckpts.glob("*.ckpt"))


def remove_if_unused(location: RunLocation) -> bool:
    """Delete a reserved version directory that holds no checkpoint (a fit that failed before
    its first epoch ended), and the directories reserving it created when that leaves them
    empty. Returns whether the version was removed."""
    path = location.path
    if not path.is_dir() or has_checkpoint(path):
        return False
    shutil.rmtree(path, ignore_errors=True)
    if location.created is not None:
        for parent in path.parents:
            try:
                parent.rmdir()  # only when empty
            except OSError:
                break
            if parent == location.created:
                break
    return True


def find_last_checkpoint(runs_dir: str | os.PathLike, name: str) -> RunLocation:
    """The newest ``version_N`` of run ``name`` that has ``checkpoints/last.ckpt``.

    Raises:
        UserError: there is none.
    """
    for version in reversed(versions(runs_dir, name)):
        location = RunLocation(Path(runs_dir), name, version)
        if location.last_checkpoint.is_file():
            return location
    raise UserError(f"--ckpt_path last: no {Path(runs_dir) / name}/version_*/{CHECKPOINTS}/{LAST} to resume; "
                    "start a run first or give the checkpoint's path")


def locate_run(checkpoint: str | os.PathLike) -> RunLocation | None:
    """The run a checkpoint file belongs to (``.../<name>/version_N/checkpoints/x.ckpt``), or
    None for a checkpoint kept elsewhere."""
    path = Path(checkpoint).resolve()
    run = path.parent.parent
    m = _VERSION.fullmatch(run.name)
    if path.parent.name != CHECKPOINTS or m is None:
        return None
    return RunLocation(run.parent.parent, run.parent.name, int(m.group(1)))
