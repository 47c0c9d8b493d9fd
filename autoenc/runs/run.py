"""The run directory: ``<runs_dir>/<name>/version_N/`` and what lives in it.

Layout of one run::

    version_N/
        config.yaml              the resolved config (LightningCLI)
        checkpoints/last.ckpt    the state after the last completed epoch (or the interrupt)
        checkpoints/best-*.ckpt  the best by val/loss
        metrics.csv              one row per logged step / epoch
        reconstructions/         grids: first and last epoch, then one per >= 2 s
        report/                  ``autoenc report``

Versions are reserved with an exclusive ``mkdir``: two processes that start together can
never share one (the loser of a race takes the next number). :class:`Run` opens a trained
run (a run directory or a checkpoint file) by reading its checkpoint once: the model, the
data module it was trained on, and what the checkpoint records.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autoenc.core.atomic import first_missing, make_dir, remove_empty
from autoenc.core.constraints import Constraint, Interval, Null, check_param
from autoenc.core.defaults import DEFAULT_BATCH_SIZE
from autoenc.core.errors import CheckpointError, UserError

if TYPE_CHECKING:
    import torch

    from autoenc.data.module import ImageDataModule
    from autoenc.models.autoencoder_module import AutoencoderModule

__all__ = ["CHECKPOINTS", "LAST", "FolderName", "Run", "RunLocation", "check_input_shape", "check_run_name",
           "find_last_checkpoint", "has_checkpoint", "locate_run", "open_with_data", "remove_if_unused",
           "reserve_version", "run_directory", "versions"]

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


class FolderName(Constraint):
    """One folder name that stays where it is put: no path separator, not ``.`` or ``..``, no NUL,
    at most ``limit`` bytes (the file systems' NAME_MAX)."""

    def __init__(self, limit: int = 255, note: str | None = None) -> None:
        super().__init__(note)
        self.limit = limit

    def is_satisfied_by(self, value: object) -> bool:
        if not isinstance(value, str) or value in ("", ".", "..") or "\0" in value:
            return False
        separators = {"/", os.sep, os.altsep or "/"}
        return not any(sep in value for sep in separators) and len(os.fsencode(value)) <= self.limit

    def describe(self) -> str:
        return f"one folder name (no '/', not '.' or '..', at most {self.limit} bytes)"


def check_run_name(name: object) -> str:
    """``name`` if it is one folder name, so ``<runs_dir>/<name>`` stays inside ``runs_dir``.

    Raises:
        UserError: "--name must be one folder name (...), got '../../x'".
    """
    return check_param("--name", [FolderName(note="the run goes to <runs_dir>/<name>/version_N")], name)


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
    check_run_name(name)
    base = Path(runs_dir) / name
    created = first_missing(base)
    try:
        make_dir(base)
    except UserError:
        remove_empty(base, created)  # leave no empty runs_dir behind
        raise
    existing = versions(runs_dir, name)
    start = existing[-1] + 1 if existing else 0
    for version in range(start, start + attempts):
        try:
            (base / f"version_{version}").mkdir()
        except FileExistsError:
            continue
        except OSError as err:
            remove_empty(base, created)
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
    remove_empty(path.parent, location.created)
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


def run_directory(checkpoint: str | os.PathLike) -> Path:
    """The run directory of a checkpoint file (``<run>/checkpoints/x.ckpt`` -> ``<run>``; a
    checkpoint kept elsewhere -> its folder)."""
    ckpt = Path(checkpoint)
    return ckpt.parent.parent if ckpt.parent.name == CHECKPOINTS else ckpt.parent


def _datamodule(ckpt: dict[str, Any], path: str | os.PathLike, overrides: dict[str, Any]) -> ImageDataModule:
    from autoenc.data.module import ImageDataModule

    hp = ckpt.get("datamodule_hyper_parameters")
    if not hp or "source" not in hp:
        raise CheckpointError(f"{str(path)!r} does not record its data; pass the data options explicitly")
    kwargs = {k: v for k, v in hp.items() if not k.startswith("_")}
    kwargs.update(overrides)
    return ImageDataModule(**kwargs)


def check_input_shape(model: AutoencoderModule, shape: tuple[int, ...]) -> None:
    """Refuse data whose (C, H, W) differs from the model's input_shape (naming both)."""
    if tuple(shape) != tuple(model.input_shape):
        raise UserError(
            f"data images are {tuple(shape)} but the model takes {tuple(model.input_shape)}; "
            "set data image_size/channels to match"
        )


@dataclass
class Run:
    """A trained run, read once from its checkpoint.

    Attributes:
        checkpoint: the checkpoint file read (a run directory gives its best, else last).
        path: the run directory (``checkpoint``'s folder for a checkpoint kept elsewhere).
        model: the model in eval mode on the CPU.
        datamodule: the data it was trained on (same source, size, split and seed).
        epoch, global_step: where training was when the checkpoint was written.
        hyperparameters: the model's constructor arguments.
    """

    checkpoint: Path
    path: Path
    model: AutoencoderModule
    datamodule: ImageDataModule
    epoch: int
    global_step: int
    hyperparameters: dict[str, Any]

    @classmethod
    def open(cls, path: str | os.PathLike, **data_overrides: Any) -> Run:
        """Open a run directory or a ``.ckpt`` file; ``data_overrides`` change the data module's
        options (e.g. ``batch_size=512``, ``subset=1000``), and data of another image shape is
        refused.

        Raises:
            CheckpointError: no checkpoint there, or not an autoenc checkpoint.
            UserError: the data options do not fit the model.
        """
        from autoenc.runs.checkpoints import build_model, read_checkpoint, resolve_checkpoint

        file = resolve_checkpoint(path)
        ckpt = read_checkpoint(file)
        model = build_model(ckpt, file)
        datamodule = _datamodule(ckpt, file, data_overrides)
        check_input_shape(model, datamodule.input_shape)
        hparams = {k: v for k, v in (ckpt.get("hyper_parameters") or {}).items() if not k.startswith("_")}
        return cls(file, run_directory(file), model, datamodule, int(ckpt.get("epoch", 0)),
                   int(ckpt.get("global_step", 0)), hparams)

    @property
    def config(self) -> dict[str, Any] | None:
        """The run's resolved ``config.yaml`` (None when the run has none)."""
        from autoenc.core.yaml_io import load_yaml

        file = self.path / "config.yaml"
        return load_yaml(file.read_text()) if file.is_file() else None

    @property
    def latent_dim(self) -> int:
        return int(self.model.latent_dim)

    def images(self, split: str = "val", count: int | None = None) -> torch.Tensor:
        """The first ``count`` (all when None) images of ``split`` (``train``, ``val``, ``all``):
        (N, C, H, W) float32 in [0, 1]."""
        check_param("count", [Interval(int, 0, None, closed="left"), Null()], count)
        arrays = self.datamodule.arrays(split)
        images = arrays.images if count is None else arrays.images[:count]
        return images.float().div_(255)

    def targets(self, split: str = "val", count: int | None = None) -> torch.Tensor | None:
        """Labels (N,) or factor values (N, F) of the same items as :meth:`images`, or None."""
        check_param("count", [Interval(int, 0, None, closed="left"), Null()], count)
        targets = self.datamodule.arrays(split).targets
        return targets if targets is None or count is None else targets[:count]

    def encode(self, images: torch.Tensor | None = None, split: str = "val",
               batch_size: int = DEFAULT_BATCH_SIZE) -> torch.Tensor:
        """``model.encode``'s codes (N, *latent_shape) of ``images`` ((N, C, H, W) float in [0, 1],
        or uint8 divided by 255; default: the whole ``split``), without gradients; a VAE gives its
        posterior means.

        Raises:
            TypeError: ``images`` is not a tensor or array.
            UserError: an empty batch, values outside [0, 1], another image shape than the model's.
        """
        from autoenc.core.image_inputs import unit_images
        from autoenc.models.encoding import encode_images

        check_param("batch_size", [Interval(int, 1, None, closed="left")], batch_size)
        x = self.images(split) if images is None else unit_images(images, "images")
        check_input_shape(self.model, tuple(x.shape[1:]))
        return encode_images(self.model.encode, x, batch_size)

    def __repr__(self) -> str:
        return (f"Run({str(self.path)!r}, {type(self.model).__name__}, latent_dim={self.latent_dim}, "
                f"epoch={self.epoch}, step={self.global_step})")


def open_with_data(path: str | os.PathLike, data: ImageDataModule | None, **data_overrides: Any
                   ) -> tuple[Run, ImageDataModule]:
    """:meth:`Run.open` and the data to use with its model: ``data``, refused when its images
    are not the model's input shape, or (None) the run's own."""
    opened = Run.open(path, **data_overrides)
    if data is not None:
        check_input_shape(opened.model, data.input_shape)
    return opened, opened.datamodule if data is None else data
