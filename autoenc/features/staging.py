"""Where a cache is built: a locked temporary sibling directory, renamed into place when complete.

A writer creates ``.NAME.XXXX.tmp`` beside the cache ``NAME`` and holds an exclusive lock on
the file ``.NAME.XXXX.tmp.lock`` beside it for as long as it writes (``filelock``: ``flock`` on
POSIX, ``msvcrt.locking`` on Windows). The operating system drops the lock when the writer's
process ends, however it ends (SIGKILL included), so a temporary directory whose lock can be
taken belongs to no running writer: it is stale, and the next build removes it with its lock
file. One whose lock is held (another process, or another build in this one, is writing) is
left alone.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock, Timeout

from autoenc.core.atomic import ensure_parent, refuse_existing, usual_modes
from autoenc.core.errors import CacheError

log = logging.getLogger(__name__)

SUFFIX = ".tmp"
KINDS = ("", "shards-", "old-")  # the cache being built, distributed shards, a replaced cache


def _lock_of(tmp: Path) -> FileLock:
    """The lock guarding the temporary directory ``tmp``: the file ``tmp`` + ``.lock``."""
    return FileLock(f"{tmp}.lock")


def _unlock(lock: FileLock | None, tmp: Path) -> None:
    """Release ``lock`` (if held) and remove its file: the directory it guarded is gone."""
    if lock is not None and lock.is_locked:
        lock.release(force=True)
    with contextlib.suppress(OSError):
        os.unlink(f"{tmp}.lock")


def _make_locked(path: Path, kind: str) -> tuple[Path, FileLock | None]:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    parent = ensure_parent(path).parent
    while True:
        try:
            tmp = Path(tempfile.mkdtemp(dir=parent, prefix=f".{path.name}.{kind}", suffix=SUFFIX))
        except OSError as err:
            raise CacheError(f"cannot create a directory in {str(parent)!r} ({err.strerror}); "
                             "choose another cache directory") from None
        lock = _lock_of(tmp)
        try:
            # Blocks only while a cleaner that took the lock in the instant after mkdtemp removes
            # the directory; then it is gone and another one is made.
            lock.acquire()
        except (OSError, NotImplementedError) as err:  # a file system without locks: cleaners cannot lock either
            log.warning("cannot lock %s (%s); a killed run's temporary directory here is not removed", tmp, err)
            return tmp, None
        if tmp.is_dir():
            return tmp, lock
        _unlock(lock, tmp)


@contextlib.contextmanager
def locked_temp_dir(path: str | os.PathLike, kind: str = "") -> Iterator[Path]:
    """A new directory ``.NAME.<kind>XXXX.tmp`` beside ``path``, locked while the block runs and
    removed when it ends (unless the block renamed it away), with its lock file.

    Raises:
        CacheError / UserError: the parent cannot be created or written (one line).
    """
    tmp, lock = _make_locked(Path(path), kind)
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        _unlock(lock, tmp)


def remove_stale_temps(path: str | os.PathLike) -> list[Path]:
    """Remove the temporary directories ``.NAME.*.tmp`` beside ``path`` whose writer is gone,
    and their lock files.

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
        if tmp.is_symlink() or not tmp.is_dir():  # not a directory of ours to remove
            continue
        lock = _lock_of(tmp)
        try:
            lock.acquire(timeout=0)
        except (Timeout, OSError, NotImplementedError):  # held by a live writer, or cannot lock here: leave it
            continue
        try:
            if tmp.is_dir() and not tmp.is_symlink():
                shutil.rmtree(tmp, ignore_errors=True)
                removed.append(tmp)
                log.info("removed %s, left by an interrupted feature extraction", tmp)
        finally:
            _unlock(lock, tmp)
    return removed


@contextlib.contextmanager
def staged_dir(path: str | os.PathLike, overwrite: bool = False) -> Iterator[Path]:
    """Yield a locked temporary sibling of ``path`` to fill; on success it replaces ``path`` by
    rename (an existing ``path`` only when ``overwrite``), on failure it is removed.

    Stale temporary siblings of earlier, killed builds are removed first.
    """
    path = refuse_existing(path, overwrite, CacheError)
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
