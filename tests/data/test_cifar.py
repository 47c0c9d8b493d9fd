"""CIFAR-10 from python batch files the test writes; the restricted unpickler; downloads."""

from __future__ import annotations

import io
import os
import pickle
import re
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch
from _datafiles import cifar_batch, write_cifar

from autoenc.core.errors import DataError, UserError
from autoenc.data import CIFAR10
from autoenc.data.cifar import read_cifar_batch
from autoenc.data.files import md5sum

TRAIN = ("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5")


def folder(root: Path) -> Path:
    return root / "cifar-10-batches-py"


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_batch_layout_is_planes_of_rows(tmp_path: Path, protocol: int) -> None:
    batches = write_cifar(folder(tmp_path), per_batch=2, protocol=protocol, names=("test_batch",))
    images, labels = read_cifar_batch(folder(tmp_path) / "test_batch")
    data = batches["test_batch"]["data"]
    assert images.shape == (2, 3, 32, 32) and images.dtype == np.uint8
    # pixel (c, y, x) of image i is data[i, 1024 c + 32 y + x]: R plane, G plane, B plane
    for i, c, y, x in [(0, 0, 0, 0), (1, 1, 5, 7), (1, 2, 31, 31), (0, 2, 3, 30)]:
        assert images[i, c, y, x] == data[i, 1024 * c + 32 * y + x]
    assert labels.dtype == np.int64 and labels.tolist() == batches["test_batch"]["labels"]


def test_splits(tmp_path: Path) -> None:
    batches = write_cifar(folder(tmp_path), per_batch=3)
    for split, names in [("train", TRAIN), ("test", ("test_batch",)), ("all", (*TRAIN, "test_batch"))]:
        data = CIFAR10(root=str(tmp_path), split=split, check_md5=False).load(None, None)
        assert data.images.shape == (3 * len(names), 3, 32, 32)
        assert data.targets.tolist() == [v for n in names for v in batches[n]["labels"]]
        first = batches[names[0]]["data"][0].reshape(3, 32, 32)
        assert torch.equal(data.images[0], torch.from_numpy(first))
        assert data.target_names[0] == "airplane" and data.target_names[9] == "truck"


def test_split_all_with_only_the_test_batch(tmp_path: Path) -> None:
    write_cifar(folder(tmp_path), per_batch=2, names=("test_batch",))
    data = CIFAR10(root=str(tmp_path), check_md5=False).load(8, 1)
    assert data.images.shape == (2, 1, 8, 8) and data.description["splits"] == ["test"]


def test_md5_is_checked_by_default(tmp_path: Path) -> None:
    write_cifar(folder(tmp_path), per_batch=2, names=("test_batch",))
    with pytest.raises(DataError, match=r"md5 mismatch for '.*test_batch': expected [0-9a-f]{32}"):
        CIFAR10(root=str(tmp_path), split="test").load(None, None)


def test_missing_files_say_where_and_how(tmp_path: Path) -> None:
    write_cifar(folder(tmp_path), per_batch=2, names=("test_batch",))
    where = re.escape(str(folder(tmp_path)))
    with pytest.raises(DataError, match=rf"cifar10 files not found: put data_batch_1, .*data_batch_5 in "
                       rf"'{where}' \(or set root\), or set download: true"):
        CIFAR10(root=str(tmp_path), split="train", check_md5=False).load(None, None)


class _Payload:
    """Unpickling this would run a shell command."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


@pytest.mark.parametrize("make", [
    lambda marker: {"data": _Payload(marker), "labels": [0]},
    lambda marker: _Payload(marker),
])
def test_a_pickle_that_runs_code_is_refused(tmp_path: Path, make) -> None:
    marker = tmp_path / "pwned"
    path = folder(tmp_path) / "test_batch"
    path.parent.mkdir(parents=True)
    path.write_bytes(pickle.dumps(make(marker)))
    with pytest.raises(DataError, match=r"test_batch' is not a readable CIFAR-10 batch \(refusing to load "
                       r"(posix|os|nt)\.system\); download it again"):
        CIFAR10(root=str(tmp_path), split="test", check_md5=False).load(None, None)
    assert not marker.exists()


def test_other_globals_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "test_batch"
    path.write_bytes(pickle.dumps({"data": np.zeros((1, 3072), np.uint8), "labels": [0],
                                   "extra": io.BytesIO}))
    with pytest.raises(DataError, match=r"refusing to load _io\.BytesIO"):
        read_cifar_batch(path)


@pytest.mark.parametrize("content, reason", [
    (lambda b: b[: len(b) // 2], "truncated"),
    (lambda b: pickle.dumps({"data": np.zeros((2, 100), np.uint8), "labels": [0, 1]}), "reshape"),
    (lambda b: pickle.dumps({"labels": [0]}), "data"),
    (lambda b: pickle.dumps([1, 2, 3]), "list indices"),
])
def test_damaged_batches_name_the_file(tmp_path: Path, content, reason: str) -> None:
    path = tmp_path / "data_batch_1"
    path.write_bytes(content(pickle.dumps(cifar_batch(2, seed=0))))
    with pytest.raises(DataError, match=rf"'{re.escape(str(path))}' is not a readable CIFAR-10 batch \(.*{reason}"):
        read_cifar_batch(path)


def test_label_count_must_match(tmp_path: Path) -> None:
    path = tmp_path / "data_batch_1"
    path.write_bytes(pickle.dumps({"data": np.zeros((2, 3072), np.uint8), "labels": [0]}))
    with pytest.raises(DataError, match=r"2 images but 1 labels"):
        read_cifar_batch(path)


def test_bad_split() -> None:
    with pytest.raises(UserError, match=r"cifar10 split must be one of 'all', 'train', 'test', got 'val'"):
        CIFAR10(split="val")  # type: ignore[arg-type]


# -- download + extraction from a local archive -------------------------------------------
@pytest.fixture
def archive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cifar-10-python.tar.gz holding tiny batches, served at a file:// URL."""
    import torchvision.datasets as tvd

    write_cifar(folder(tmp_path / "src"), per_batch=2)
    path = tmp_path / "served" / "cifar-10-python.tar.gz"
    path.parent.mkdir()
    with tarfile.open(path, "w:gz") as tar:
        tar.add(folder(tmp_path / "src"), arcname="cifar-10-batches-py")
    monkeypatch.setattr(tvd.CIFAR10, "url", path.as_uri())
    monkeypatch.setattr(tvd.CIFAR10, "tgz_md5", md5sum(path))
    return path


def test_download_and_extract(tmp_path: Path, archive: Path) -> None:
    source = CIFAR10(root=str(tmp_path / "root"), download=True, check_md5=False)
    source.prepare()
    assert sorted(p.name for p in folder(tmp_path / "root").iterdir()) == sorted([*TRAIN, "test_batch"])
    assert not list((tmp_path / "root").glob(".extract-*")) and not list((tmp_path / "root").glob(".download-*"))
    assert len(source.load(None, None)) == 12


def test_archive_with_the_wrong_md5_is_not_kept(tmp_path: Path, archive: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    import torchvision.datasets as tvd

    monkeypatch.setattr(tvd.CIFAR10, "tgz_md5", "0" * 32)
    with pytest.raises(DataError, match=r"could not download cifar-10-python.tar.gz .*md5 mismatch"):
        CIFAR10(root=str(tmp_path / "root"), download=True).prepare()
    assert not (tmp_path / "root").exists()  # the folder the failed download made is gone too


def test_damaged_archive_is_reported(tmp_path: Path, archive: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "cifar-10-python.tar.gz").write_bytes(b"not a tar file")
    with pytest.raises(DataError, match=r"cannot extract '.*cifar-10-python.tar.gz' \(file could not be "
                       r"opened successfully\); delete it and download again$") as err:
        CIFAR10(root=str(root), download=True).prepare()
    assert "\n" not in str(err.value)
    assert not folder(root).exists()


def _tar_with(path: Path, members: dict[str, bytes]) -> None:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_archive_without_the_folder_is_reported(tmp_path: Path, archive: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    _tar_with(root / "cifar-10-python.tar.gz", {"other/data_batch_1": b"x"})
    with pytest.raises(DataError, match=r"does not hold the folder 'cifar-10-batches-py'"):
        CIFAR10(root=str(root), download=True, check_md5=False).prepare()
    assert sorted(p.name for p in root.iterdir()) == ["cifar-10-python.tar.gz"]


def test_archive_members_outside_the_folder_are_refused(tmp_path: Path, archive: Path) -> None:
    root = tmp_path / "deep" / "root"
    root.mkdir(parents=True)
    _tar_with(root / "cifar-10-python.tar.gz", {"../../escaped.txt": b"x", "cifar-10-batches-py/test_batch": b"x"})
    with pytest.raises(DataError, match=r"cannot extract .*outside the destination"):
        CIFAR10(root=str(root), download=True, check_md5=False).prepare()
    assert not (tmp_path / "escaped.txt").exists() and not folder(root).exists()
