"""File helpers shared by the dataset readers: checksums, locating files, atomic downloads, and
the options of the sources read from a published dataset's files (:class:`DatasetFiles`)."""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, ClassVar

from autoenc.core.atomic import first_missing, remove_empty
from autoenc.core.constraints import BOOL, Constraint, InstanceOf, Null, Options, check_params
from autoenc.core.errors import DataError, first_line
from autoenc.data.source import ImageSource, default_root


def md5sum(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def verify_md5(path: Path, expected: str | None) -> None:
    """Raise DataError when ``path``'s md5 differs from ``expected`` (None: no check)."""
    if expected is None:
        return
    actual = md5sum(path)
    if actual != expected:
        raise DataError(
            f"md5 mismatch for {str(path)!r}: expected {expected}, got {actual}; the file is "
            "corrupt or a different version: delete it and download again (download: true), "
            "or set check_md5: false if you made it yourself"
        )


def find_file(dirs: Sequence[Path], names: Iterable[str]) -> Path | None:
    """The first existing ``dir/name`` over dirs (outer) and names (inner), else None."""
    names = list(names)
    for d in dirs:
        for n in names:
            p = d / n
            if p.is_file():
                return p
    return None


def fetch(url: str, dest: Path, timeout: float = 60.0, chunk: int = 1 << 20) -> None:
    """Copy ``url`` (http(s), ftp or file) to ``dest``, with a progress bar on a terminal.

    Raises:
        OSError (URLError, timeouts), ValueError (unknown scheme), http.client.HTTPException,
        DataError (fewer bytes than the server announced).
    """
    import urllib.request

    from tqdm import tqdm

    # Some dataset hosts refuse urllib's default agent.
    request = urllib.request.Request(url, headers={"User-Agent": "autoenc (python urllib)"})
    with urllib.request.urlopen(request, timeout=timeout) as response, open(dest, "wb") as out:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        with tqdm(total=total, unit="B", unit_scale=True, desc=dest.name, disable=None, leave=False) as bar:
            while block := response.read(chunk):
                out.write(block)
                bar.update(len(block))
    if total is not None and dest.stat().st_size != total:
        raise DataError(f"transfer cut short: {dest.stat().st_size} of {total} bytes")


def download(urls: Sequence[str], target: Path, md5: str | None) -> None:
    """Fetch ``target`` from the first URL that works, checking md5; the file appears only
    when complete and verified (downloaded to a temporary name, then renamed)."""
    created = first_missing(target.parent)
    target.parent.mkdir(parents=True, exist_ok=True)
    errors = []
    for url in urls:
        with tempfile.TemporaryDirectory(dir=target.parent, prefix=".download-") as tmp:
            part = Path(tmp) / target.name
            try:
                fetch(url, part)
                verify_md5(part, md5)
            # OSError covers URLError and timeouts; ValueError an unknown URL scheme and our
            # DataError (md5, short transfer); HTTPException a connection dropped mid-body.
            except (OSError, ValueError, http.client.HTTPException) as err:
                errors.append(f"{url}: {first_line(err)}")
                continue
            os.replace(part, target)
            return
    remove_empty(target.parent, created)  # the folders made for nothing
    raise DataError(
        f"could not download {target.name} into {str(target.parent)!r} ({'; '.join(errors)}); "
        f"check your network, or place the file there yourself"
    )


def extract_archive_atomic(archive: Path, into: Path, top: str) -> None:
    """Extract the tar ``archive`` (which holds folder ``top``) into ``into``: extracted to a
    temporary sibling first, so ``into/top`` never exists half-written. Members that would
    land outside the folder (absolute paths, ``..``, device files) are refused.

    Raises:
        DataError: unreadable archive, unsafe member, or no ``top`` folder in it.
    """
    import tarfile

    with tempfile.TemporaryDirectory(dir=into, prefix=".extract-") as tmp:
        try:
            with tarfile.open(archive) as tar:
                if hasattr(tarfile, "data_filter"):  # Python >= 3.11.4
                    tar.extractall(tmp, filter="data")
                else:  # pragma: no cover
                    tar.extractall(tmp)
        except (OSError, EOFError, tarfile.TarError) as err:
            reason = first_line(err).rstrip(":")
            raise DataError(
                f"cannot extract {str(archive)!r} ({reason}); delete it and download again"
            ) from None
        if not (Path(tmp) / top).is_dir():
            raise DataError(
                f"{str(archive)!r} does not hold the folder {top!r}; delete it and download again"
            )
        dest = into / top
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(Path(tmp) / top, dest)


class DatasetFiles(ImageSource):
    """Base of the sources read from a published dataset's files in ``root / folder``: the
    options ``root`` (None: :func:`default_root`), ``split`` (``all`` = every split present),
    ``download`` (fetch missing files in :meth:`prepare`) and ``check_md5``."""

    folder: ClassVar[str] = ""
    parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "root": [InstanceOf(str, "a folder path"), Null(note="$AUTOENC_DATA or ./data")],
        "split": [Options(("all", "train", "test"))], "download": [BOOL], "check_md5": [BOOL],
    }

    def _set_options(self, values: dict[str, Any]) -> None:
        """Check the constructor's arguments ``values`` (its ``locals()``) and keep them, in
        the declared order."""
        check_params(self.parameter_constraints, values, owner=self.name)
        for name in self.parameter_constraints:
            setattr(self, name, values[name])
        if self.root is None:
            self.root = default_root()

    def _dir(self) -> Path:
        return Path(self.root).expanduser() / self.folder

    def _wanted(self) -> list[str]:
        return ["train", "test"] if self.split == "all" else [self.split]
