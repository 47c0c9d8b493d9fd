"""MNIST-format sources: the real test set, the IDX reader, checksums, layouts, downloads."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch
from _datafiles import MNIST_NAMES, idx_bytes, write_idx, write_mnist

from autoenc.core.errors import DataError, UserError
from autoenc.data import MNIST, FashionMNIST, read_idx
from autoenc.data.files import md5sum, verify_md5

# Per-class counts of the official MNIST test set (LeCun et al.), a known answer.
MNIST_TEST_CLASS_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


# -- the real MNIST test set -------------------------------------------------------------
def test_real_mnist_test_set(shared_mnist: Path) -> None:
    data = MNIST(root=str(shared_mnist), split="test").load(None, None)  # md5 checked by default
    assert data.images.shape == (10_000, 1, 28, 28) and data.images.dtype == torch.uint8
    assert data.targets[:5].tolist() == [7, 2, 1, 0, 4]
    assert torch.bincount(data.targets).tolist() == MNIST_TEST_CLASS_COUNTS
    assert (int(data.images.min()), int(data.images.max())) == (0, 255)
    assert data.target_names == [str(i) for i in range(10)]
    assert data.description == {"source": "mnist", "splits": ["test"]}


def test_real_mnist_files_match_torchvision_md5(shared_mnist: Path) -> None:
    raw = shared_mnist / "MNIST" / "raw"
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        verify_md5(raw / name, MNIST.md5s[name])  # raises on mismatch
    assert MNIST.md5s["t10k-images-idx3-ubyte.gz"] == "9fb629c4189551a2d022fa330f9573f3"


def test_split_all_uses_the_splits_present(shared_mnist: Path) -> None:
    source = MNIST(root=str(shared_mnist))  # only the test split is in the shared folder
    assert source.load(14, None).description["splits"] == ["test"]


def test_missing_split_says_where_to_put_the_files(shared_mnist: Path) -> None:
    where = str(shared_mnist / "MNIST" / "raw")
    with pytest.raises(DataError, match=r"mnist files not found: put train-images-idx3-ubyte\[\.gz\], "
                       rf"train-labels-idx1-ubyte\[\.gz\] in '{where}' \(or set root\), or set download: true"):
        MNIST(root=str(shared_mnist), split="train").load(None, None)


# -- the IDX reader ----------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.uint8, np.int8, ">i2", ">i4", ">f4", ">f8"])
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_read_idx_round_trip(tmp_path: Path, dtype, suffix: str) -> None:
    array = (np.arange(2 * 3 * 5) - 7).reshape(2, 3, 5).astype(dtype)
    if np.dtype(dtype) == np.uint8:
        array = np.arange(30, dtype=np.uint8).reshape(2, 3, 5)
    back = read_idx(write_idx(tmp_path / f"x-idx3{suffix}", array))
    assert back.shape == (2, 3, 5) and back.dtype.isnative
    np.testing.assert_array_equal(back, array)


def test_truncated_idx_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "t10k-images-idx3-ubyte"
    path.write_bytes(idx_bytes(np.zeros((3, 28, 28), np.uint8))[:-100])
    with pytest.raises(DataError, match=rf"'{path}' is truncated or padded: 2268 bytes, the header says 2368"):
        read_idx(path)


def test_truncated_idx_inside_gzip_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros((3, 28, 28), np.uint8))[:10]))
    with pytest.raises(DataError, match=rf"'{path}' is truncated \(incomplete header\)"):
        read_idx(path)


def test_cut_gzip_stream_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.ones((3, 28, 28), np.uint8)))[:40])
    with pytest.raises(DataError, match=rf"cannot read '{path}'.*download it again"):
        read_idx(path)


def test_not_an_idx_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello, world")
    with pytest.raises(DataError, match=rf"'{path}' is not an IDX file \(bad magic number\)"):
        read_idx(path)


# -- sources over files the test writes --------------------------------------------------
@pytest.mark.parametrize("gz", [False, True])
def test_reads_raw_and_gzipped_files(tmp_path: Path, gz: bool) -> None:
    images, labels = write_mnist(tmp_path / "MNIST" / "raw", n=7, gz=gz)
    data = MNIST(root=str(tmp_path), split="test", check_md5=False).load(None, None)
    assert torch.equal(data.images[:, 0], torch.from_numpy(images))
    assert data.targets.dtype == torch.int64 and data.targets.tolist() == labels.tolist()


@pytest.mark.parametrize("where", ["MNIST/raw", "raw", "."])
def test_files_are_found_in_each_layout(tmp_path: Path, where: str) -> None:
    write_mnist(tmp_path / where, n=5, gz=False)
    assert len(MNIST(root=str(tmp_path), split="test").load(None, None)) == 5


def test_both_splits_are_concatenated_train_first(tmp_path: Path) -> None:
    raw = tmp_path / "FashionMNIST" / "raw"
    train, _ = write_mnist(raw, n=6, split="train", seed=1)
    test, _ = write_mnist(raw, n=4, split="test", seed=2)
    data = FashionMNIST(root=str(tmp_path), check_md5=False).load(None, None)
    assert data.description["splits"] == ["train", "test"]
    assert torch.equal(data.images[:, 0], torch.from_numpy(np.concatenate([train, test])))
    assert data.target_names[9] == "Ankle boot"


def test_resize_and_channels(tmp_path: Path) -> None:
    write_mnist(tmp_path / "MNIST" / "raw", n=3)
    data = MNIST(root=str(tmp_path), split="test", check_md5=False).load(16, 3)
    assert data.images.shape == (3, 3, 16, 16)
    assert torch.equal(data.images[:, 0], data.images[:, 2])


def test_wrong_md5_for_a_known_name_is_refused_unless_check_md5_false(tmp_path: Path) -> None:
    raw = tmp_path / "MNIST" / "raw"
    write_mnist(raw, n=3, gz=True)
    image_file = raw / "t10k-images-idx3-ubyte.gz"
    with pytest.raises(DataError, match=rf"md5 mismatch for '{image_file}': expected "
                       r"9fb629c4189551a2d022fa330f9573f3, got [0-9a-f]{32}.*check_md5: false"):
        MNIST(root=str(tmp_path), split="test").load(None, None)
    assert len(MNIST(root=str(tmp_path), split="test", check_md5=False).load(None, None)) == 3


def test_raw_files_have_no_md5_to_check(tmp_path: Path) -> None:
    write_mnist(tmp_path / "MNIST" / "raw", n=3, gz=False)
    assert len(MNIST(root=str(tmp_path), split="test").load(None, None)) == 3


def test_images_and_labels_of_different_lengths(tmp_path: Path) -> None:
    raw = tmp_path / "MNIST" / "raw"
    write_mnist(raw, n=4, gz=False)
    write_idx(raw / "t10k-labels-idx1-ubyte", np.zeros(3, np.uint8))
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte' and '.*t10k-labels-idx1-ubyte' do not match"):
        MNIST(root=str(tmp_path), split="test").load(None, None)


def test_missing_files_message(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=rf"mnist files not found: put train-images-idx3-ubyte\[\.gz\], .*"
                       rf"t10k-labels-idx1-ubyte\[\.gz\] in '{tmp_path / 'MNIST' / 'raw'}' "
                       r"\(or set root\), or set download: true$"):
        MNIST(root=str(tmp_path)).load(None, None)


def test_bad_split_is_refused() -> None:
    with pytest.raises(UserError, match=r"mnist split must be one of 'all', 'train', 'test', got 'val'"):
        MNIST(split="val")  # type: ignore[arg-type]


def test_root_defaults_to_autoenc_data(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AUTOENC_DATA", str(tmp_path))
    assert MNIST().root == str(tmp_path)


# -- downloads from a local mirror -------------------------------------------------------
@pytest.fixture
def mirror(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder served as a file:// mirror holding the test split's two .gz files, with
    ``MNIST.md5s`` pointing at their checksums."""
    folder = tmp_path / "mirror"
    write_mnist(folder, n=5, gz=True, seed=3)
    monkeypatch.setattr(MNIST, "mirrors", [folder.as_uri() + "/"])
    md5s = {n + ".gz": md5sum(folder / (n + ".gz")) for n in MNIST_NAMES["test"]}
    monkeypatch.setattr(MNIST, "md5s", md5s)
    return folder


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


def test_download_fetches_verifies_and_places_the_files(tmp_path: Path, mirror: Path) -> None:
    root = tmp_path / "root"
    source = MNIST(root=str(root), split="test", download=True)
    source.prepare()
    assert files_under(root / "MNIST" / "raw") == sorted(n + ".gz" for n in MNIST_NAMES["test"])
    data = source.load(None, None)  # md5s checked against the (patched) known sums
    expected = read_idx(mirror / "t10k-images-idx3-ubyte.gz")
    assert torch.equal(data.images[:, 0], torch.from_numpy(expected))


def test_download_falls_back_to_the_next_mirror(tmp_path: Path, mirror: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(MNIST, "mirrors", [(tmp_path / "nowhere").as_uri() + "/", *MNIST.mirrors])
    source = MNIST(root=str(tmp_path / "root"), split="test", download=True)
    source.prepare()
    assert len(source.load(None, None)) == 5


def test_failing_mirror_gives_a_clear_error_and_leaves_nothing(tmp_path: Path, mirror: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    bad = (tmp_path / "nowhere").as_uri() + "/"
    monkeypatch.setattr(MNIST, "mirrors", [bad])
    root = tmp_path / "root"
    with pytest.raises(DataError, match=rf"could not download t10k-images-idx3-ubyte.gz into "
                       rf"'{root / 'MNIST' / 'raw'}' \({bad}t10k-images-idx3-ubyte.gz: .*No such file.*\); "
                       r"check your network, or place the file there yourself"):
        MNIST(root=str(root), split="test", download=True).prepare()
    assert not root.exists()  # the folders the failed download made are gone too
    (tmp_path / "kept").mkdir()
    with pytest.raises(DataError):
        MNIST(root=str(tmp_path / "kept"), split="test", download=True).prepare()
    assert (tmp_path / "kept").is_dir() and files_under(tmp_path / "kept") == []


def test_corrupt_download_is_not_kept(tmp_path: Path, mirror: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(MNIST.md5s, "t10k-images-idx3-ubyte.gz", hashlib.md5(b"other").hexdigest())
    root = tmp_path / "root"
    with pytest.raises(DataError, match=r"could not download t10k-images-idx3-ubyte.gz .*md5 mismatch"):
        MNIST(root=str(root), split="test", download=True).prepare()
    assert "MNIST/raw/t10k-images-idx3-ubyte.gz" not in files_under(root)
    assert not [p for p in files_under(root) if ".download-" in p]


def test_download_without_md5_check(tmp_path: Path, mirror: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(MNIST.md5s, "t10k-images-idx3-ubyte.gz", hashlib.md5(b"other").hexdigest())
    source = MNIST(root=str(tmp_path / "root"), split="test", download=True, check_md5=False)
    source.prepare()
    assert len(source.load(None, None)) == 5


def test_prepare_downloads_nothing_when_files_exist_or_download_is_off(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(MNIST, "mirrors", [(tmp_path / "nowhere").as_uri() + "/"])
    MNIST(root=str(tmp_path / "a"), split="test").prepare()  # download off: no attempt
    assert not (tmp_path / "a").exists()
    write_mnist(tmp_path / "b" / "raw", n=3, gz=False)
    MNIST(root=str(tmp_path / "b"), split="test", download=True).prepare()  # present: no attempt
