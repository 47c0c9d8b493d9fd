"""Checkpoint callbacks that keep and remove a run's files by what the files are, not by how
their paths are spelled.

Lightning's :class:`~lightning.pytorch.callbacks.ModelCheckpoint` decides which file to remove
by comparing path strings: a run written as ``runs/ae/version_0/checkpoints`` and resumed
through ``../proj/runs/ae/...`` (or from another working directory) names the same
``last.ckpt`` twice, so the callback removed the file it had just written, and reloaded none
of its best-k bookkeeping (the dirpath "changed"), so old ``best-*.ckpt`` files piled up.
Here the directory is the resolved path, and a resumed state whose checkpoint lies in this
directory has its file names re-rooted onto it, whatever spelling wrote them.
"""

from __future__ import annotations

import os
from typing import Any

from lightning.pytorch.callbacks import ModelCheckpoint

__all__ = ["RunCheckpoint", "rebase_checkpoint_state"]

#: The state entries of ModelCheckpoint that name files in its directory.
_PATH_KEYS = ("best_model_path", "kth_best_model_path", "last_model_path")


def _local(path: str) -> bool:
    return "://" not in str(path)


def _resolved(path: str | os.PathLike) -> str:
    return os.path.realpath(os.path.expanduser(os.fspath(path)))


def rebase_checkpoint_state(state: dict[str, Any], dirpath: str, resumed_from: str | os.PathLike | None
                            ) -> dict[str, Any]:
    """``state`` (a ModelCheckpoint's saved state) with the files it names moved onto ``dirpath``
    when the checkpoint resumed from (``resumed_from``) lies in ``dirpath``: those files were
    written in this very directory, under whatever spelling (relative to another working
    directory, through ``..``, before the run was moved). Other states are returned as they are."""
    old = state.get("dirpath")
    if not old or not dirpath or resumed_from is None or not (_local(old) and _local(dirpath)):
        return state
    if os.path.dirname(_resolved(resumed_from)) != _resolved(dirpath):
        return state

    def move(path: Any) -> Any:
        if not isinstance(path, str) or not path:
            return path
        inside = os.path.normpath(os.path.dirname(path)) == os.path.normpath(old)
        return os.path.join(dirpath, os.path.basename(path)) if inside else path

    rebased = dict(state, dirpath=dirpath)
    for key in _PATH_KEYS:
        if key in rebased:
            rebased[key] = move(rebased[key])
    if isinstance(state.get("best_k_models"), dict):
        rebased["best_k_models"] = {move(k): v for k, v in state["best_k_models"].items()}
    return rebased


class RunCheckpoint(ModelCheckpoint):
    """:class:`~lightning.pytorch.callbacks.ModelCheckpoint` over the resolved directory (see the
    module docstring), so a resume keeps ``last.ckpt`` and replaces, not piles up, the best."""

    _resumed_from: str | None = None

    @property
    def state_key(self) -> str:
        # The best checkpoint keeps the key Lightning's ModelCheckpoint gave it, so runs written
        # before this class resume with their best-k bookkeeping, and readers of the recorded
        # score (autoenc.runs.checkpoints) find it; subclasses keep their own names.
        own = type(self).__qualname__
        key = super().state_key
        return "ModelCheckpoint" + key[len(own):] if type(self) is RunCheckpoint and key.startswith(own) else key

    def setup(self, trainer, pl_module, stage: str) -> None:
        super().setup(trainer, pl_module, stage)
        if self.dirpath is not None and _local(str(self.dirpath)):
            self.dirpath = _resolved(self.dirpath)

    def on_load_checkpoint(self, trainer, pl_module, checkpoint: dict[str, Any]) -> None:
        # called just before load_state_dict, which is not given the trainer
        self._resumed_from = trainer.ckpt_path
        super().on_load_checkpoint(trainer, pl_module, checkpoint)

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        super().load_state_dict(rebase_checkpoint_state(state_dict, str(self.dirpath or ""), self._resumed_from))
