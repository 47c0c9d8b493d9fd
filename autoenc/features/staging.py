"""Where a cache is built: a locked temporary sibling directory, renamed into place when complete.

A writer creates ``.NAME.XXXX.tmp`` beside the cache ``NAME`` and holds an exclusive ``flock`` on
that directory for as long as it writes. The kernel drops the lock when the writer's process
ends, however it ends (SIGKILL included), so a temporary directory whose lock can be taken
belongs to no running writer: it is stale, and the next build removes it. One whose lock is
held (another process, or another build in this one, is writing) is left alone.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from autoenc.atomic import ensure_parent, usual_modes
from autoenc.errors import CacheError

log = logging.getLogger(__name__)

SUFFIX = ".tmp"
KINDS = ("", "shards-", "old-")  # the cache being built, distributed shards, a replaced cache


def _open_dir(path: Path) -> int:
    return os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)


def _is_still(path: Path, fd: int) -> bool:
    """Whether ``path`` still names the directory open as ``fd`` (not removed or replaced)."""
    try:
        return os.path.samestat(os.fstat(fd), os.lstat(path))
    except FileNotFoundError:
        return False


def _make_locked(path: Path, kind: str) -> tuple[Path, int]:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    parent = ensure_parent(path).parent
    while True:
        try:
            tmp = Path(tempfile.mkdtemp(dir=parent, prefix=f".{path.name}.{kind}", suffix=SUFFIX))
        except OSError as err:
            raise CacheError(f"cannot create a directory in {str(parent)!r} ({err.strerror}); "
                             "choose another cache directory") from None
        fd = _open_dir(tmp)
        try:
            # Blocks only while a cleaner that took the lock in the instant after mkdtemp removes
            # the directory; then it is gone and another one is made.
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError as err:  # a file system without flock: cleaners cannot lock it either, so skip it
            log.warning("cannot lock %s (%s); a killed run's temporary directory here is not removed", tmp,
                        err.strerror)
            return tmp, fd
        if _is_still(tmp, fd):
            return tmp, fd
        os.close(fd)


@contextlib.contextmanager
def locked_temp_dir(path: str | os.PathLike, kind: str = "") -> Iterator[Path]:
    """A new directory ``.NAME.<kind>XXXX.tmp`` beside ``path``, locked while the block runs and
    removed when it ends (unless the block renamed it away).

    Raises:
        CacheError / UserError: the parent cannot be created or written (one line).
    """
    tmp, fd = _make_locked(Path(path), kind)
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        os.close(fd)


def remove_stale_temps(path: str | os.PathLike) -> list[Path]:
    """Remove the temporary directories ``.NAME.*.tmp`` beside ``path`` whose writer is gone.

    Returns:
        the directories removed (those whose lock was free), sorted.
    """
    path = Path(path)
    if not path.parent.is_dir():
        return []
    removed = []
    # only names this module makes (tempfile's 8 random characters, no dot): the temporaries of
    # a cache "c.x" beside "c" are not taken for those of "c"
    kinds = "|".join(map(re.escape, KINDS))
    ours = re.compile(rf"\.{re.escape(path.name)}\.({kinds})[a-z0-9_]{{8}}{re.escape(SUFFIX)}")
    for tmp in sorted(p for p in path.parent.iterdir() if ours.fullmatch(p.name)):
        try:
            fd = _open_dir(tmp)
        except OSError:  # not a directory, a symlink, or already gone: not ours to remove
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # held: a live writer
            os.close(fd)
            continue
        try:
            if _is_still(tmp, fd):
                shutil.rmtree(tmp, ignore_errors=True)
                removed.append(tmp)
                log.info("removed %s, left by an interrupted feature extraction", tmp)
        finally:
            os.close(fd)
    return removed


@contextlib.contextmanager
def staged_dir(path: str | os.PathLike, overwrite: bool = False) -> Iterator[Path]:
    """Yield a locked temporary sibling of ``path`` to fill; on success it replaces ``path`` by
    rename (an existing ``path`` only when ``overwrite``), on failure it is removed.

    Stale temporary siblings of earlier, killed builds are removed first.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise CacheError(f"{str(path)!r} already exists; pass overwrite (--overwrite) or choose another directory")
    remove_stale_temps(path)
    with locked_temp_dir(path) as tmp:
        yield tmp
        usual_modes(tmp)
        if path.exists():
            # The old cache goes under a temporary name first: were this process killed between
            # the two renames, the next build would find it stale and remove it.
            with locked_temp_dir(path, "old-") as old:
                os.replace(path, old)
                os.replace(tmp, path)
        else:
            os.replace(tmp, path)
