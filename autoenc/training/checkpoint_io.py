"""Checkpoint IO that serialises a training state once: the second file written for the same
state (``last.ckpt`` right after the new best, at the end of the same epoch) is a byte copy
of the first instead of a second ``torch.save``.

The best and the last checkpoint of an epoch are written in the same hook for the same state
(Lightning saves both at the end of the training epoch when validation runs every epoch), so
their contents are equal; on a small model the serialisation is a large part of an epoch
(docs/benchmarks.md, the digits profile). Equal means: the same tensors (same storage, not
modified in place since: the version counter every in-place write bumps) and equal plain
values everywhere else (loop progress, callback states, hyper-parameters). Anything that
cannot be compared counts as changed, so the fallback is the ordinary save.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import torch

from autoenc.core.atomic import atomic_file
from autoenc.runs.checkpoints import AtomicCheckpointIO


class ReusingCheckpointIO(AtomicCheckpointIO):
    """:class:`AtomicCheckpointIO` (temporary file + rename) that copies the file it wrote
    last when asked to save the same state again under another name."""

    def __init__(self) -> None:
        super().__init__()
        self._previous: tuple[Path, Any, tuple[int, int]] | None = None

    def save_checkpoint(self, checkpoint: dict[str, Any], path: str | os.PathLike, storage_options: Any = None) -> None:
        key = state_key(checkpoint)
        source = self._unchanged_previous(key)
        target = Path(path)
        if source is None:
            super().save_checkpoint(checkpoint, target, storage_options)
        elif source.resolve() != target.resolve():
            with open(source, "rb") as src, atomic_file(target) as dst:
                shutil.copyfileobj(src, dst)
        # (else: the same state to the same file, which already holds it)
        stat = target.stat()
        self._previous = (target, key, (stat.st_size, stat.st_mtime_ns)) if key is not None else None

    def remove_checkpoint(self, path: str | os.PathLike) -> None:
        if self._previous is not None and Path(path).resolve() == self._previous[0].resolve():
            self._previous = None
        super().remove_checkpoint(path)

    def _unchanged_previous(self, key: Any) -> Path | None:
        """The file written last, when it holds the state ``key`` and nobody touched it since."""
        if key is None or self._previous is None:
            return None
        path, previous_key, (size, mtime) = self._previous
        try:
            stat = path.stat()
            same = previous_key == key
        except (OSError, RuntimeError, TypeError, ValueError):
            return None
        return path if same is True and (stat.st_size, stat.st_mtime_ns) == (size, mtime) else None


def state_key(checkpoint: Any) -> Any:
    """A comparable stand-in for a checkpoint: tensors become (storage address, version
    counter, shape, dtype, device, strides), containers are walked, numbers and strings are
    kept (compared with ``==``), other objects stand for themselves (identity). None when the
    checkpoint holds a tensor this cannot follow (nested, sparse)."""
    try:
        return _key(checkpoint)
    except _Uncomparable:
        return None


class _Uncomparable(Exception):
    pass


def _key(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        if value.is_nested or value.layout != torch.strided:
            raise _Uncomparable
        # _version counts in-place writes (optimizer steps included); torch has no public
        # name for it, and comparing values would cost as much as saving them on a large model
        return ("tensor", value.data_ptr(), value._version, tuple(value.shape), value.dtype, str(value.device),
                value.stride(), value.storage_offset())
    if isinstance(value, dict):
        return ("dict", type(value).__name__, tuple((k, _key(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return (type(value).__name__, tuple(_key(v) for v in value))
    if value is None or isinstance(value, str | bytes | int | float | bool | complex | torch.dtype | torch.device):
        return value
    if isinstance(value, set | frozenset):
        return frozenset(_key(v) for v in value)
    # other objects (a data source in the hyper-parameters, numpy arrays): the same object,
    # by identity, since their == may be missing or elementwise
    return ("object", type(value).__qualname__, id(value))
