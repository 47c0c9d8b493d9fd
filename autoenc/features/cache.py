"""The on-disk feature cache: a directory that appears complete or not at all.

Layout (format 2)::

    DIR/features.npy   float32 (N, D), memory-mappable (np.load(..., mmap_mode="r"))
    DIR/targets.npy    (N,) int64 labels or (N, F) factors; absent when the data has none
    DIR/meta.json      format, encoder fingerprint, data fingerprint, shapes, checksums, build info

``meta["checksums"]`` holds the sha256 of each array file's bytes (header included). Opening a
cache checks the counts meta.json states against the arrays and, unless ``verify=False``, the
checksums (one more read of each file): an edited, truncated or swapped array is
refused, never silently used.

The fingerprint (``format``, ``encoder``, ``data``) says what the features are of: the
encoder's weights (sha256), layer and pooling; the data's source, split, N, transform and a
hash of the items. A request whose fingerprint differs from a cache's is refused with the
differing fields; ``meta["build"]`` (devices, batch size, time) is not part of it.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from autoenc.core.errors import CacheError

FORMAT = 2  # 2: meta.json records the sha256 of each array file
CHECKSUM = "sha256"
KIND = "autoenc-feature-cache"
FINGERPRINT_KEYS = ("format", "encoder", "data")
FEATURES, TARGETS, META = "features.npy", "targets.npy", "meta.json"
REBUILD = "rebuild it with `autoenc features ... --overwrite` (overwrite=True) or choose another cache directory"


@dataclass
class FeatureCache:
    """An opened cache.

    Attributes:
        path: the cache directory.
        features: (N, D) float32, memory-mapped read-only.
        targets: (N,) class labels or (N, F) factors (in memory), or None.
        meta: the parsed meta.json.
    """

    path: Path
    features: np.ndarray
    targets: np.ndarray | None
    meta: dict[str, Any] = field(repr=False)

    def __len__(self) -> int:
        return int(self.features.shape[0])

    @property
    def dim(self) -> int:
        """D, the feature size."""
        return int(self.features.shape[1])

    @property
    def target_names(self) -> list[str] | None:
        return self.meta.get("target_names")

    @property
    def fingerprint(self) -> dict[str, Any]:
        return {k: self.meta.get(k) for k in FINGERPRINT_KEYS}


def _check_location(path: Path) -> None:
    if path.exists() and not path.is_dir():
        raise CacheError(f"cache path {str(path)!r} is a file, not a directory; pass a directory path "
                         "(it is created) or remove the file")


def read_meta(path: str | os.PathLike) -> dict[str, Any]:
    """The meta.json of cache ``path``; a one-line CacheError when missing or damaged."""
    path = Path(path)
    _check_location(path)
    if not path.is_dir():
        raise CacheError(f"no feature cache at {str(path)!r}; build one with `autoenc features SOURCE --cache {path}`")
    try:
        text = (path / META).read_text()
    except FileNotFoundError:
        raise CacheError(f"{str(path)!r} is not a feature cache (no {META}); {REBUILD}") from None
    except OSError as err:
        raise CacheError(f"cannot read {str(path / META)!r} ({err.strerror}); check permissions") from None
    try:
        meta = json.loads(text)
    except ValueError as err:
        raise CacheError(f"{str(path / META)!r} is damaged (truncated or not JSON: {err}); {REBUILD}") from None
    if not isinstance(meta, dict) or meta.get("kind") != KIND:
        raise CacheError(f"{str(path / META)!r} is not a feature cache's meta.json; {REBUILD}")
    if meta.get("format") != FORMAT:
        raise CacheError(f"cache {str(path)!r} has format {meta.get('format')!r}, this autoenc reads format "
                         f"{FORMAT}; {REBUILD}")
    return meta


def _load_array(file: Path, mmap: bool, expected: list[int] | None) -> np.ndarray:
    try:
        array = np.load(file, mmap_mode="r" if mmap else None, allow_pickle=False)
    except FileNotFoundError:
        raise CacheError(f"{str(file)!r} is missing; {REBUILD}") from None
    except (ValueError, OSError, EOFError) as err:
        raise CacheError(f"{str(file)!r} is damaged ({str(err)[:100]}); {REBUILD}") from None
    if expected is not None and list(array.shape) != list(expected):
        raise CacheError(f"{str(file)!r} has shape {tuple(array.shape)} but meta.json says {tuple(expected)}; "
                         f"{REBUILD}")
    return array


def file_sha256(file: Path) -> str:
    """Hex sha256 of a file's bytes, read in chunks (memory stays flat for any size)."""
    with open(file, "rb") as f:
        return hashlib.file_digest(f, CHECKSUM).hexdigest()


def _check_counts(path: Path, meta: dict[str, Any], features: np.ndarray, targets: np.ndarray | None) -> None:
    rows = int(features.shape[0])
    n = (meta.get("data") or {}).get("n")
    if n != rows:
        raise CacheError(f"{str(path / META)!r} says data.n = {n} but {FEATURES} has {rows} rows; {REBUILD}")
    if targets is not None and int(targets.shape[0]) != rows:
        raise CacheError(f"{str(path / TARGETS)!r} has {targets.shape[0]} rows but {FEATURES} has {rows}; {REBUILD}")


def _check_sums(path: Path, meta: dict[str, Any], names: list[str]) -> None:
    sums = meta.get("checksums") or {}
    if sums.get("algorithm", CHECKSUM) != CHECKSUM:
        raise CacheError(f"{str(path / META)!r} records {sums.get('algorithm')!r} checksums, this autoenc checks "
                         f"{CHECKSUM}; {REBUILD}")
    for name in names:
        recorded = sums.get(name)
        if not isinstance(recorded, str):
            raise CacheError(f"{str(path / META)!r} records no {CHECKSUM} of {name}; {REBUILD}")
        found = file_sha256(path / name)
        if found != recorded:
            raise CacheError(f"{str(path / name)!r} does not match the {CHECKSUM} meta.json recorded "
                             f"({recorded[:12]} recorded, {found[:12]} found): it was edited or damaged after "
                             f"it was written; {REBUILD}")


def open_cache(path: str | os.PathLike, verify: bool = True) -> FeatureCache:
    """Open cache ``path`` (features memory-mapped), checking it against its meta.json.

    Args:
        verify: also check each array file against the sha256 in meta.json (one read of each);
            False only for a cache this process has just written.

    Raises:
        CacheError: missing, a file, not a cache, or damaged: truncated arrays or meta.json,
            counts that disagree, or an array whose checksum differs (edited after writing).
    """
    path = Path(path)
    meta = read_meta(path)
    shapes = meta.get("shapes") or {}
    features = _load_array(path / FEATURES, True, shapes.get("features"))
    if features.dtype != np.float32 or features.ndim != 2:
        raise CacheError(f"{str(path / FEATURES)!r} is not float32 (N, D); {REBUILD}")
    targets = None
    if shapes.get("targets") is not None:
        targets = _load_array(path / TARGETS, False, shapes["targets"])
    _check_counts(path, meta, features, targets)
    if verify:
        _check_sums(path, meta, [FEATURES] + ([TARGETS] if targets is not None else []))
    return FeatureCache(path, features, targets, meta)


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out or {prefix: {}}
    return {prefix: value}


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True) if not isinstance(value, str) else value
    if len(text) == 64 and all(c in "0123456789abcdef" for c in text):  # a sha256
        return text[:12]
    return text if len(text) <= 40 else text[:37] + "..."


def fingerprint_differences(cached: dict[str, Any], requested: dict[str, Any]) -> list[str]:
    """Human-readable differences between two fingerprints, e.g.
    ``"encoder.sha256: 1a2b3c4d5e6f in the cache, 9f8e7d6c5b4a requested"``."""
    a = _flatten({k: cached.get(k) for k in FINGERPRINT_KEYS})
    b = _flatten({k: requested.get(k) for k in FINGERPRINT_KEYS})
    return [f"{key}: {_short(a.get(key))} in the cache, {_short(b.get(key))} requested"
            for key in sorted(set(a) | set(b)) if a.get(key) != b.get(key)]


def existing_cache(path: str | os.PathLike, request: dict[str, Any], overwrite: bool) -> FeatureCache | None:
    """A cache at ``path`` that matches ``request`` (to reuse), or None when one must be built.

    Raises:
        CacheError: ``path`` is a file; or, without ``overwrite``, a cache with other fingerprints,
            a damaged cache, or a non-empty directory that is not a cache; with ``overwrite``, a
            non-empty directory that is not a cache (never deleted).
    """
    path = Path(path)
    _check_location(path)
    if not path.exists():
        return None
    looks_like_cache = any((path / name).exists() for name in (META, FEATURES))
    if not looks_like_cache:
        if any(path.iterdir()):
            raise CacheError(f"{str(path)!r} is a non-empty directory that is not a feature cache; "
                             "choose another cache directory (it is never overwritten)")
        return None
    if overwrite:
        return None
    cache = open_cache(path)
    diffs = fingerprint_differences(cache.meta, request)
    if diffs:
        raise CacheError(f"feature cache {str(path)!r} was built for another request ({'; '.join(diffs)}); {REBUILD}")
    return cache


def write_meta(directory: Path, meta: dict[str, Any]) -> None:
    """Write meta.json last, so a directory without it is never taken for a cache, with the
    sha256 of each array file already in ``directory``."""
    sums = {"algorithm": CHECKSUM}
    sums.update({name: file_sha256(directory / name) for name in (FEATURES, TARGETS) if (directory / name).is_file()})
    (directory / META).write_text(json.dumps({**meta, "checksums": sums}, indent=2, sort_keys=True) + "\n")


def save_targets(directory: Path, targets: np.ndarray | None) -> None:
    if targets is not None:
        np.save(directory / TARGETS, np.ascontiguousarray(targets), allow_pickle=False)


def fsync_dir(directory: Path) -> None:
    """Flush every file of ``directory`` to disk before it is renamed into place."""
    for file in directory.iterdir():
        with open(file, "rb") as f:
            os.fsync(f.fileno())
