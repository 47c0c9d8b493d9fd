"""File helpers shared by the dataset readers: checksums, locating files, atomic downloads."""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from autoenc.errors import DataError


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


def download(urls: Sequence[str], target: Path, md5: str | None) -> None:
    """Fetch ``target`` from the first URL that works, checking md5; the file appears only
    when complete and verified (downloaded to a temporary name, then renamed)."""
    from torchvision.datasets.utils import download_url

    target.parent.mkdir(parents=True, exist_ok=True)
    errors = []
    for url in urls:
        with tempfile.TemporaryDirectory(dir=target.parent, prefix=".download-") as tmp:
            try:
                download_url(url, tmp, filename=target.name, md5=None)
                verify_md5(Path(tmp) / target.name, md5)
            # OSError covers URLError; ValueError an unknown URL scheme; HTTPException a
            # connection dropped mid-body; RuntimeError torchvision's redirect/integrity errors.
            except (OSError, ValueError, RuntimeError, http.client.HTTPException) as err:
                errors.append(f"{url}: {str(err).splitlines()[0] if str(err) else type(err).__name__}")
                continue
            os.replace(Path(tmp) / target.name, target)
            return
    raise DataError(
        f"could not download {target.name} into {str(target.parent)!r} ({'; '.join(errors)}); "
        f"check your network, or place the file there yourself"
    )


def extract_archive_atomic(archive: Path, into: Path, top: str) -> None:
    """Extract ``archive`` (which holds folder ``top``) into ``into``: extracted to a temporary
    sibling first, so ``into/top`` never exists half-written."""
    from torchvision.datasets.utils import extract_archive

    with tempfile.TemporaryDirectory(dir=into, prefix=".extract-") as tmp:
        extract_archive(str(archive), tmp)
        dest = into / top
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(Path(tmp) / top, dest)
