"""Atomic writes: a file or directory appears complete, or not at all.

Every writer here also keeps two promises the ``autoenc`` command relies on:

* a write that fails leaves no directory it created behind (parents are created on demand and
  removed again, when still empty, if the write fails);
* an ``OSError`` raised while writing names the path being written (a full disk reports no
  file name of its own), so :func:`file_error_message` can turn it into one line.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from autoenc.core.errors import UserError

_ADVICE = "choose another output path"


# -- file-system errors as one line -------------------------------------------------------------
def _nearest_existing(path: Path) -> Path:
    """The nearest existing ancestor-or-self of ``path`` (absolute)."""
    probe = path.absolute()
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return probe


def _file_in_the_way(path: Path) -> Path | None:
    """The nearest existing ancestor-or-self of ``path`` when it is not a directory."""
    probe = _nearest_existing(path)
    return probe if probe.exists() and not probe.is_dir() else None


def _reason(err: OSError, path: Path) -> str:
    """What is wrong at ``path``, in words, for the errno of ``err``."""
    code = err.errno
    if code in (errno.ENOTDIR, errno.EEXIST):
        blocker = _file_in_the_way(path)
        if blocker is not None:
            return f"{str(blocker)!r} is a file, not a directory"
    if code == errno.EISDIR:
        return "it is a directory"
    if code in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if code in (errno.ENOSPC, errno.EDQUOT):
        return "no space left on device (or quota exceeded)"
    if code == errno.EROFS:
        return "read-only file system"
    if code == errno.ENOENT:
        return "no such file or directory"
    return err.strerror or os.strerror(code) if code else str(err)


def _remedy(err: OSError) -> str:
    if err.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"free some space or {_ADVICE}"
    if err.errno == errno.ENOENT:
        return "check the path"
    return _ADVICE


def file_error_message(err: OSError) -> str | None:
    """One actionable line for a file-system error on a path, e.g. ``cannot write '/x/f/out.png':
    '/x/f' is a file, not a directory; choose another output path``; None when ``err`` names no
    path (and is not a full disk): that is a bug to show with its traceback, not a user error.
    For a rename the destination (``filename2``) is the path named."""
    name = err.filename2 if err.filename2 is not None else err.filename
    if name is None or isinstance(name, int):
        if err.errno in (errno.ENOSPC, errno.EDQUOT):
            return f"cannot write: {_reason(err, Path('.'))}; {_remedy(err)}"
        return None
    path = Path(os.fsdecode(name))
    verb = "cannot read or write" if err.errno == errno.ENOENT else "cannot write"
    return f"{verb} {str(path)!r}: {_reason(err, path)}; {_remedy(err)}"


@contextlib.contextmanager
def naming(path: str | os.PathLike) -> Iterator[None]:
    """Re-raise an ``OSError`` of the block that names no file as the same error naming ``path``
    (``write``/``fsync`` on a full disk give none)."""
    try:
        yield
    except OSError as err:
        if err.filename is not None or not err.errno:
            raise
        raise OSError(err.errno, err.strerror or os.strerror(err.errno), str(path)) from err


# -- directories created on demand -----------------------------------------------------------------
def first_missing(directory: Path) -> Path | None:
    """The highest ancestor-or-self of ``directory`` that does not exist: the first directory
    ``mkdir(parents=True)`` would create (None when ``directory`` exists)."""
    path = directory.absolute()
    nearest = _nearest_existing(path)
    return None if nearest == path else Path(*path.parts[: len(nearest.parts) + 1])


def remove_empty(directory: Path, top: Path | None) -> None:
    """Remove ``directory`` and its parents up to ``top`` while they are empty."""
    if top is None:
        return
    probe = directory.absolute()
    while True:
        try:
            probe.rmdir()
        except OSError:  # not empty (someone else wrote there), or never created
            return
        if probe == top or probe == probe.parent:
            return
        probe = probe.parent


def check_dir_creatable(directory: str | os.PathLike) -> Path:
    """Refuse, without creating anything, a directory that could not be created or written: its
    nearest existing ancestor-or-self must be a directory this process may write to. For a
    command to fail before hours of work rather than after.

    Raises:
        NotADirectoryError / PermissionError: naming ``directory`` (see :func:`file_error_message`).
    """
    directory = Path(directory).expanduser()
    probe = _nearest_existing(directory)
    if not probe.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(directory))
    if not os.access(probe, os.W_OK | os.X_OK):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(directory))
    return directory


def check_file_creatable(path: str | os.PathLike) -> Path:
    """:func:`check_dir_creatable` for the parent of file ``path``, and ``path`` is no directory.

    Raises:
        NotADirectoryError / PermissionError / IsADirectoryError: naming the path.
    """
    path = Path(path).expanduser()
    try:
        check_dir_creatable(path.parent)
    except OSError as err:  # name the file the user gave, not its parent
        raise type(err)(err.errno, err.strerror, str(path)) from None
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
    return path


@contextlib.contextmanager
def created_dir(directory: str | os.PathLike) -> Iterator[Path]:
    """Create ``directory`` (and parents) and yield it; if the block fails, remove again those of
    them that this call created and that are still empty, so a failed command leaves no empty
    output directory behind. Errors of ``mkdir`` propagate as ``OSError`` naming the path."""
    directory = Path(directory).expanduser()
    top = first_missing(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        yield directory
    except BaseException:
        remove_empty(directory, top)
        raise


def make_dir(directory: str | os.PathLike) -> Path:
    """Create ``directory`` (and parents) if missing; one UserError line saying why not (a
    file in the way, no permission, a full disk) and what to do."""
    directory = Path(directory).expanduser()
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UserError(f"cannot create directory {str(directory)!r}: {_reason(err, directory)}; "
                        f"{_remedy(err)}") from None
    return directory


def ensure_parent(path: str | os.PathLike) -> Path:
    """Create ``path``'s parent directory; a clear error when that is impossible."""
    path = Path(path)
    make_dir(path.parent)
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def usual_modes(root: Path) -> None:
    """Give ``root`` and everything below it the modes a plain ``mkdir`` / ``open`` would
    (0777 / 0666 less the umask): ``mkdtemp`` makes 0700 and some writers 0600, which would
    hide a finished cache or export from the user's group."""
    mask = _umask()
    for d, _, files in os.walk(root):
        os.chmod(d, 0o777 & ~mask)
        for name in files:
            os.chmod(os.path.join(d, name), 0o666 & ~mask)


# -- atomic writers ---------------------------------------------------------------------------------
@contextlib.contextmanager
def atomic_file(path: str | os.PathLike, mode: str = "wb") -> Iterator:
    """Open a temporary sibling of ``path`` for writing; rename it onto ``path`` on success,
    delete it (and any parent directory created for it) on failure.

    Raises:
        UserError: the parent directory cannot be created (one line).
        OSError: writing failed; it names ``path`` (see :func:`file_error_message`).
    """
    path = Path(path)
    with _in_new_parent(path):
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the usual mode
            with os.fdopen(fd, mode) as f:
                yield f
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise


@contextlib.contextmanager
def _in_new_parent(path: Path) -> Iterator[None]:
    """Create ``path``'s parent (one UserError line when impossible) for the block, whose
    ``OSError`` then names ``path``; if the block fails, remove the directories created."""
    top = first_missing(path.parent)
    try:
        ensure_parent(path)
        with naming(path):
            yield
    except BaseException:
        remove_empty(path.parent, top)
        raise


def refuse_existing(path: str | os.PathLike, overwrite: bool, error: type[UserError] = UserError) -> Path:
    """``path`` (user-expanded) unless it exists and ``overwrite`` is false: then ``error``, one
    line saying how to replace it."""
    path = Path(path).expanduser()
    if path.exists() and not overwrite:
        raise error(f"{str(path)!r} already exists; pass overwrite (--overwrite) or choose another directory")
    return path


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary sibling directory to fill; rename it to ``path`` on success (replacing
    an existing directory only when ``overwrite``), delete it on failure."""
    path = refuse_existing(path, overwrite)
    with _in_new_parent(path):
        try:
            tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
        except OSError as err:  # name the directory asked for, not the temporary name beside it
            raise UserError(f"cannot write directory {str(path)!r}: {_reason(err, path.parent)}; "
                            f"{_remedy(err)}") from None
        try:
            yield tmp
            usual_modes(tmp)
            if path.exists():
                old = path.with_name(f".{path.name}.old-{os.getpid()}")
                os.replace(path, old)
                os.replace(tmp, path)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(tmp, path)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise


@contextlib.contextmanager
def staged_files(out: str | os.PathLike) -> Iterator[Path]:
    """Yield an empty staging directory for the files of one command; when the block succeeds,
    move each of them into directory ``out`` (created) with an atomic rename, so ``out`` gains
    all of them or none: a failure (an error, a full disk, Ctrl-C) deletes the staging directory
    and any directory created for ``out``. The staging directory lies inside ``out`` (same file
    system, so renames are atomic), named ``.staging-XXXX.tmp``.

    Raises:
        OSError: ``out`` cannot be created or written, or a name is taken by a directory there
            (checked before anything is moved); it names the path.
    """
    with created_dir(out) as directory:
        with naming(directory):
            stage = Path(tempfile.mkdtemp(dir=directory, prefix=".staging-", suffix=".tmp"))
        try:
            yield stage
            names = sorted(p.name for p in stage.iterdir())
            for name in names:  # everything that can fail, before the first rename
                if (directory / name).is_dir():
                    raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(directory / name))
                with naming(directory / name), open(stage / name, "rb") as f:
                    os.fsync(f.fileno())
            for name in names:
                os.replace(stage / name, directory / name)
        finally:
            shutil.rmtree(stage, ignore_errors=True)
