"""Sources over image files: image_folder and CelebA (a tiny fake of torchvision's layout)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
from _datafiles import CELEBA_ATTRS, write_celeba, write_image

from autoenc.core.errors import DataError, UserError
from autoenc.data import CelebA, ImageFolder
from autoenc.data.image_files import ImageFileDataset, load_into_memory


def q(path: Path) -> str:
    """``path`` as it appears (repr-quoted) in messages, escaped for a regex."""
    return re.escape(repr(str(path)))


def close(image: torch.Tensor, colour: tuple[int, ...], tol: int = 6) -> bool:
    """Every pixel of (C, H, W) ``image`` within ``tol`` of ``colour`` (JPEG is lossy)."""
    return bool(((image.int() - torch.tensor(colour).view(-1, 1, 1)).abs() <= tol).all())


# -- image_folder ---------------------------------------------------------------------------
@pytest.fixture
def classes(tmp_path: Path) -> Path:
    root = tmp_path / "classes"
    for i in range(2):
        write_image(root / "cat" / f"c{i}.png", (200, 10 * i, 0))
    for i in range(3):
        write_image(root / "dog" / f"d{i}.jpg", (0, 0, 200), (10, 12))
    (root / "dog" / "notes.txt").write_text("not an image")
    (root / ".hidden").mkdir()
    write_image(root / ".hidden" / "x.png", (1, 2, 3))
    (root / "empty").mkdir()
    return root


def test_class_subfolders_are_labels(classes: Path) -> None:
    data = ImageFolder(root=str(classes)).load(8, None)
    assert data.images.shape == (5, 3, 8, 8)
    assert data.targets.tolist() == [0, 0, 1, 1, 1] and data.target_names == ["cat", "dog"]
    assert close(data.images[1], (200, 10, 0), tol=0) and close(data.images[4], (0, 0, 200))


def test_images_without_subfolders_have_no_targets(tmp_path: Path) -> None:
    for i in range(3):
        write_image(tmp_path / f"{i}.png", (i, i, i), (6, 6))
    data = ImageFolder(root=str(tmp_path)).load(None, None)
    assert data.images.shape == (3, 3, 6, 6) and data.targets is None and data.target_names is None
    assert data.images[2].unique().tolist() == [2]


def test_resize_keeps_the_centre_square(tmp_path: Path) -> None:
    from PIL import Image

    im = Image.new("RGB", (30, 10), (255, 0, 0))  # wide: red sides, green centre square
    im.paste((0, 255, 0), (10, 0, 20, 10))
    im.save(tmp_path / "wide.png")
    data = ImageFolder(root=str(tmp_path)).load(5, None)
    assert data.images.shape == (1, 3, 5, 5)
    # resized whole, then cropped: the filter blends a little red into the edge columns only
    assert close(data.images[0, :, :, 1:4], (0, 255, 0), tol=0)
    assert close(data.images[0], (0, 255, 0), tol=40)


def test_crop_before_resize(tmp_path: Path) -> None:
    from PIL import Image

    im = Image.new("RGB", (20, 20), (0, 0, 255))
    im.paste((255, 255, 0), (6, 6, 14, 14))  # 8 x 8 yellow centre
    im.save(tmp_path / "x.png")
    data = ImageFolder(root=str(tmp_path), crop=8).load(4, None)
    assert close(data.images[0], (255, 255, 0), tol=0)


@pytest.mark.parametrize("channels, expected", [(1, (76,)), (3, (255, 0, 0)), (None, (255, 0, 0))])
def test_channels(tmp_path: Path, channels, expected) -> None:
    write_image(tmp_path / "red.png", (255, 0, 0))
    source = ImageFolder(root=str(tmp_path))
    data = source.load(4, channels)
    assert data.shape == source.output_shape(4, channels) == (len(expected), 4, 4)
    assert close(data.images[0], expected, tol=0)  # PIL's L = BT.601 luma: 0.299 * 255 = 76


def test_grey_images_become_rgb_by_default(tmp_path: Path) -> None:
    write_image(tmp_path / "g.png", 90)
    data = ImageFolder(root=str(tmp_path)).load(None, None)
    assert data.shape == (3, 10, 12) and close(data.images[0], (90, 90, 90), tol=0)


def test_two_channels_are_refused(tmp_path: Path) -> None:
    write_image(tmp_path / "g.png", 90)
    with pytest.raises(UserError, match=r"channels must be one of 1, 3 \(grey or RGB\) or null \(the source's own\), got 2"):
        ImageFolder(root=str(tmp_path)).load(8, 2)


def test_different_sizes_need_image_size(tmp_path: Path) -> None:
    write_image(tmp_path / "a.png", (1, 1, 1), (8, 8))
    write_image(tmp_path / "b.png", (1, 1, 1), (9, 8))
    with pytest.raises(DataError, match=r"images have different sizes .*; set data.image_size to resize them"):
        ImageFolder(root=str(tmp_path)).load(None, None)
    assert ImageFolder(root=str(tmp_path)).load(8, None).images.shape == (2, 3, 8, 8)


def test_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "readme.txt").write_text("no images here")
    with pytest.raises(DataError, match=rf"no images \(png, jpg, jpeg, bmp, \.\.\.\) found in {q(tmp_path)} "
                       r"or its subfolders; put images there or point root elsewhere"):
        ImageFolder(root=str(tmp_path)).load(8, None)


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=rf"image folder {q(tmp_path / 'nope')} does not exist; "
                       r"set data.source.root"):
        ImageFolder(root=str(tmp_path / "nope")).output_shape(8, None)


@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_truncated_image_names_the_file(tmp_path: Path, suffix: str) -> None:
    write_image(tmp_path / f"a{suffix}", (1, 2, 3), (64, 64))
    bad = write_image(tmp_path / f"b{suffix}", (1, 2, 3), (64, 64))
    from PIL import Image

    Image.effect_noise((64, 64), 80).convert("RGB").save(bad)  # incompressible: cut bytes matter
    bad.write_bytes(bad.read_bytes()[: bad.stat().st_size // 2])
    with pytest.raises(DataError, match=rf"cannot read image {q(bad)} \(.*\); remove or replace the file"):
        ImageFolder(root=str(tmp_path)).load(16, None)


def test_unreadable_image_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "fake.png"
    bad.write_text("this is not a png")
    with pytest.raises(DataError, match=rf"cannot read image {q(bad)}"):
        ImageFolder(root=str(tmp_path)).load(16, None)


def test_unreadable_image_decoded_by_a_worker_process_is_named(tmp_path: Path) -> None:
    # >= 2,000 files are decoded by worker processes; the error must still be one line
    # naming the file, not DataLoader's "Caught DataError in DataLoader worker process 0".
    good = write_image(tmp_path / "good.png", (5, 5, 5), (4, 4))
    bad = tmp_path / "bad.png"
    bad.write_text("broken")
    dataset = ImageFileDataset([good] * 2_100 + [bad], None, None, 3)
    with pytest.raises(DataError, match=rf"^cannot read image {q(bad)} .*remove or replace the file$"):
        load_into_memory(dataset, workers=2, batch_size=512)


def test_crop_must_be_at_least_4() -> None:
    with pytest.raises(UserError, match=r"image_folder crop must be an integer >= 4 \(pixels\) or null \(no crop\), got 2"):
        ImageFolder(root=".", crop=2)


# -- CelebA -----------------------------------------------------------------------------------
def test_celeba_reads_images_and_attributes(tmp_path: Path) -> None:
    colours, attrs = write_celeba(tmp_path)
    data = CelebA(root=str(tmp_path), crop=None, check_md5=False).load(8, None)
    assert data.images.shape == (6, 3, 8, 8)
    assert data.targets.tolist() == attrs.tolist() and data.target_names == list(CELEBA_ATTRS)
    for image, colour in zip(data.images, colours, strict=True):
        assert close(image, colour)
    assert CelebA(root=str(tmp_path), check_md5=False).output_shape(None, None) == (3, 64, 64)


@pytest.mark.parametrize("split, rows", [("train", [0, 1, 2]), ("valid", [3, 4]), ("test", [5]),
                                         ("all", [0, 1, 2, 3, 4, 5])])
def test_celeba_split_selection(tmp_path: Path, split: str, rows: list[int]) -> None:
    colours, attrs = write_celeba(tmp_path)
    data = CelebA(root=str(tmp_path), split=split, crop=None, check_md5=False).load(4, 1)
    assert data.images.shape == (len(rows), 1, 4, 4)
    assert data.targets.tolist() == attrs[rows].tolist()
    first = colours[rows[0]]
    luma = round(0.299 * first[0] + 0.587 * first[1] + 0.114 * first[2])
    assert close(data.images[0], (luma,))


def test_celeba_crop_keeps_the_centre(tmp_path: Path) -> None:
    from PIL import Image

    write_celeba(tmp_path, partition=(0,), size=(40, 48))
    path = tmp_path / "celeba" / "img_align_celeba" / "000001.jpg"
    im = Image.new("RGB", (40, 48), (0, 0, 255))
    im.paste((255, 255, 255), (10, 14, 30, 34))  # 20 x 20 white centre
    im.save(path, quality=100)
    data = CelebA(root=str(tmp_path), crop=16, check_md5=False).load(8, None)
    assert close(data.images[0], (255, 255, 255), tol=10)


def test_celeba_stream_matches_load(tmp_path: Path) -> None:
    write_celeba(tmp_path)
    source = CelebA(root=str(tmp_path), split="valid", crop=None, check_md5=False)
    data, stream = source.load(8, None), source.stream(8, None)
    assert len(stream) == 2
    assert torch.equal(stream[1][0], data.images[1]) and torch.equal(stream[1][1], data.targets[1])


def test_celeba_md5_is_checked_by_default(tmp_path: Path) -> None:
    write_celeba(tmp_path)
    with pytest.raises(DataError, match=r"md5 mismatch for '.*list_attr_celeba.txt'.*check_md5: false"):
        CelebA(root=str(tmp_path)).load(8, None)


def test_celeba_missing_files(tmp_path: Path) -> None:
    (tmp_path / "celeba").mkdir()
    with pytest.raises(DataError, match=r"celeba files not found: put list_attr_celeba.txt, img_align_celeba, "
                       rf"list_eval_partition.txt in {q(tmp_path / 'celeba')} \(or set root\), or set download: true"):
        CelebA(root=str(tmp_path), split="test", check_md5=False).load(8, None)


def test_celeba_truncated_attribute_list(tmp_path: Path) -> None:
    write_celeba(tmp_path)
    attr = tmp_path / "celeba" / "list_attr_celeba.txt"
    attr.write_text("\n".join(attr.read_text().splitlines()[:5]))
    with pytest.raises(DataError, match=rf"{q(attr)} is truncated: header says 6 rows; download it again"):
        CelebA(root=str(tmp_path), check_md5=False).load(8, None)


def test_celeba_missing_image_is_named(tmp_path: Path) -> None:
    write_celeba(tmp_path)
    gone = tmp_path / "celeba" / "img_align_celeba" / "000002.jpg"
    gone.unlink()
    with pytest.raises(DataError, match=rf"cannot read image {q(gone)}"):
        CelebA(root=str(tmp_path), check_md5=False).load(8, None)


def test_celeba_empty_split(tmp_path: Path) -> None:
    write_celeba(tmp_path, partition=(0, 0))
    with pytest.raises(DataError, match=r"celeba split 'test' is empty in"):
        CelebA(root=str(tmp_path), split="test", check_md5=False).load(8, None)


def test_celeba_failed_download_says_what_to_place_where(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import torchvision.datasets as tvd

    def no_gdown(*args, **kwargs):
        raise RuntimeError("To download files from GDrive, 'gdown' is required.\nmore")

    monkeypatch.setattr(tvd, "CelebA", no_gdown)
    with pytest.raises(DataError, match=r"^could not download celeba with torchvision \(To download files from "
                       r"GDrive, 'gdown' is required\.\); download img_align_celeba\.zip \(unzipped\), "
                       rf"list_attr_celeba\.txt and list_eval_partition\.txt yourself into {q(tmp_path / 'celeba')}$"):
        CelebA(root=str(tmp_path), download=True).prepare()
