"""`autoenc preview` / `autoenc sources`, the --data.* options every command shares with fit, one-line config errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from jsonargparse import ArgumentParser

from autoenc.cli._generate import Generated
from autoenc.cli.main import main
from autoenc.cli.sources import describe_sources
from autoenc.core.config_errors import one_line_error
from autoenc.core.errors import UserError, find_user_error
from autoenc.core.png import image_grid
from autoenc.data import MNIST, SOURCES, Digits, ImageDataModule, Patches

CONFIGS = sorted((Path(__file__).parents[2] / "configs").glob("*.yaml"))


# -- one_line_error on jsonargparse's real messages -----------------------------------------
def jsonargparse_error(data: dict) -> Exception:
    parser = ArgumentParser(exit_on_error=False)
    parser.add_class_arguments(ImageDataModule, "data")
    try:
        instantiate = getattr(parser, "instantiate", None) or parser.instantiate_classes  # < 4.49
        instantiate(parser.parse_object({"data": data}))
    except Exception as err:  # noqa: BLE001 - the error is what we test
        return err
    raise AssertionError(f"{data} was accepted")


@pytest.mark.parametrize("data, expected", [
    ({"source": {"class_path": "autoenc.data.MNIST", "init_args": {"rot": 1}}},
     "data.source: MNIST does not accept option 'rot'; it accepts root, split, download, check_md5 "
     "(did you mean 'root'?)"),
    ({"source": {"class_path": "MNIST", "init_args": {"split": "bogus"}}},
     "data.source.init_args.split: expected one of 'all', 'train', 'test'; got bogus"),
    ({"image_size": "abc"}, "data.image_size: expected int or None; got abc"),
    ({"memory_budget_gb": "lots"}, "data.memory_budget_gb: expected float; got lots"),
    ({"imagesize": 16}, "data: unknown option 'imagesize'"),
    ({"source": {"class_path": "ImageFolder"}}, "data.source: ImageFolder needs option root"),
    ({"source": {"class_path": "CelebA", "init_args": {"crop": "big"}}},
     "data.source.init_args.crop: expected int or None; got big"),
    ({"source": {"class_path": "autoenc.data.Nope"}},
     "data.source: class_path 'autoenc.data.Nope' not found (module 'autoenc.data' has no attribute 'Nope')"),
    ({"source": 3}, "data.source: expected a name or a mapping with class_path (a subclass of "
                    "ImageSource) and init_args; got 3"),
    ({"source": {"class_path": "Patches", "init_args": {"count": 0}}}, "patches count must be an integer >= 1, got 0"),
])
def test_one_line_error_keeps_key_and_reason(data: dict, expected: str) -> None:
    err = jsonargparse_error(data)
    assert "\n" in str(err) or expected.startswith("data: ")  # the raw message is the problem
    assert one_line_error(err) == expected


def test_one_line_error_other_messages() -> None:
    assert one_line_error(ValueError("plain reason")) == "plain reason"
    assert one_line_error(ValueError("")) == "ValueError"
    assert one_line_error("Some problem:\n  the detail") == "Some problem: the detail"
    assert one_line_error("headline\n  more lines\n  and more") == "headline"


def test_find_user_error_digs_out_a_wrapped_constructor_error() -> None:
    err = jsonargparse_error({"source": {"class_path": "Patches", "init_args": {"count": 0}}})
    assert not isinstance(err, UserError)
    assert str(find_user_error(err)) == "patches count must be an integer >= 1, got 0"
    assert find_user_error(RuntimeError("x")) is None


# -- the --data.* options (as fit spells them) ------------------------------------------------
def _take(*, data: ImageDataModule) -> int:
    """A command that takes data.

    Args:
        data: the data.
    """
    return 0


DATA_COMMAND = Generated(_take, "autoenc test", data="always", data_defaults={"num_workers": 0})


def build_datamodule(*argv: str) -> ImageDataModule:
    return DATA_COMMAND.parse(list(argv))["data"]


def test_default_is_digits() -> None:
    module = build_datamodule()
    assert isinstance(module.source, Digits) and module.input_shape == (1, 8, 8) and module.num_workers == 0


def test_source_class_and_its_options() -> None:
    module = build_datamodule("--data.source", "Patches", "--data.image_size", "16", "--data.source.init_args.count",
                              "12", "--data.batch_size", "4", "--data.source.init_args.seed", "3")
    assert isinstance(module.source, Patches)
    assert module.source.options() == {"count": 12, "patch_size": None, "seed": 3}
    assert (module.image_size, module.batch_size, module.input_shape) == (16, 4, (3, 16, 16))


def test_values_are_yaml() -> None:
    module = build_datamodule("--data.source", "Sprites", "--data.source.init_args.shapes", "[0, 2]",
                              "--data.subset", "null", "--data.val_fraction", "0.5")
    assert module.source.shapes == [0, 2] and module.subset is None and module.val_fraction == 0.5


def test_a_later_source_replaces_the_earlier(tmp_path: Path) -> None:
    module = build_datamodule("--data.source", "Patches", "--data.source.init_args.count", "5",
                              "--data.source", "MNIST", "--data.source.init_args.root", str(tmp_path))
    assert isinstance(module.source, MNIST) and module.source.root == str(tmp_path)


def write_yaml(path: Path, content: object) -> str:
    path.write_text(yaml.safe_dump(content))
    return str(path)


def test_full_fit_config_uses_its_data_section(tmp_path: Path) -> None:
    config = {"name": "x", "seed_everything": 1,
              "data": {"source": {"class_path": "Patches", "init_args": {"count": 9}}, "image_size": 8},
              "model": {"class_path": "Whatever"}, "trainer": {"max_epochs": 1}}
    module = build_datamodule("--data", write_yaml(tmp_path / "fit.yaml", config), "--data.source.init_args.seed", "4")
    assert module.source.options() == {"count": 9, "patch_size": None, "seed": 4} and module.image_size == 8


def test_bare_data_section(tmp_path: Path) -> None:
    module = build_datamodule("--data", write_yaml(tmp_path / "d.yml", {"source": "digits", "subset": 50}),
                              "--data.batch_size", "7")
    assert module.subset == 50 and module.batch_size == 7


def test_config_file_with_a_data_section(tmp_path: Path) -> None:
    module = build_datamodule("-c", write_yaml(tmp_path / "c.yaml", {"data": {"source": "digits", "subset": 60}}))
    assert module.subset == 60


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.name)
def test_every_shipped_config_builds_its_data_module(config: Path) -> None:
    module = build_datamodule("--data", str(config))  # no data is read
    assert isinstance(module, ImageDataModule) and module.source.name in SOURCES


@pytest.mark.parametrize("argv, message", [
    (("--data.source", "digitz"), r"^unknown data source 'digitz'\. Did you mean 'digits'\? Known: celeba, cifar10, "),
    (("--data", "digits"), r"^--data takes a YAML file .*; for the source 'digits' write --data.source digits$"),
    (("--data.imagesize", "16"), r"^unrecognized arguments: --data.imagesize 16 \(did you mean '--data.image_size'\?\) "
                                r"\(see `autoenc test --help`\)$"),
    (("--data.image_size", "big"), r"^data.image_size: expected int or None; got big"),
    (("--data.image_size", "3"), r"^image_size must be an integer >= 4 or null \(the source's own size\), got 3$"),
    (("--data.source", "MNIST", "--data.source.init_args.rot", "1"), r"^data.source: MNIST does not accept option 'rot'"),
    (("--data", "missing.yaml"), r"^--data: no such file 'missing.yaml'; give a data section or a fit config"),
    (("--data.source", "image_folder"), r"^data source 'image_folder' needs option root: write --data.source ImageFolder "
                                        r"--data.source.init_args.root VALUE"),
])
def test_errors_are_one_line(argv: tuple[str, ...], message: str) -> None:
    with pytest.raises(UserError, match=message) as err:
        build_datamodule(*argv)
    assert "\n" not in str(err.value)


def test_a_source_name_takes_the_options_that_follow_it(tmp_path: Path) -> None:
    module = build_datamodule("--data.source", "image_folder", "--data.source.init_args.root", str(tmp_path))
    assert type(module.source).__name__ == "ImageFolder" and module.source.root == str(tmp_path)
    module = build_datamodule("--data.source=mnist", "--data.source.init_args.root", str(tmp_path))
    assert isinstance(module.source, MNIST) and module.source.root == str(tmp_path)


def test_bad_yaml_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("data: [unclosed\n")
    with pytest.raises(UserError, match=r"^cannot read config '.*bad.yaml' as YAML \(.*\)$"):
        build_datamodule("--data", str(bad))
    other = write_yaml(tmp_path / "other.yaml", {"model": {"latent_dim": 2}})
    with pytest.raises(UserError, match=r"^data: unknown option 'model.latent_dim'"):
        build_datamodule("--data", other)


# -- autoenc preview ---------------------------------------------------------------------------
def read_png(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        assert im.format == "PNG"
        return np.asarray(im)


def cell(grid: np.ndarray, i: int, columns: int, h: int, w: int, pad: int = 2, scale: int = 1) -> np.ndarray:
    """Cell ``i`` of a preview drawn ``scale`` x larger, without its top half (the label)."""
    top, left = (pad + (i // columns) * (h + pad)) * scale, (pad + (i % columns) * (w + pad)) * scale
    return grid[top + h * scale // 2 : top + h * scale, left : left + w * scale]


def upscaled(image: np.ndarray, scale: int) -> np.ndarray:
    """(H, W) -> the bottom half of it ``scale`` x larger, as a preview cell shows it."""
    big = image.repeat(scale, 0).repeat(scale, 1)
    return big[big.shape[0] // 2 :]


def test_preview_digits_grid(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "new" / "dir" / "preview.png"
    assert main(["preview", "--data.source", "digits", "--out", str(out), "--count", "10"]) == 0
    grid = read_png(out)
    assert grid.shape == (8 * (3 * 10 + 2), 8 * (4 * 10 + 2))  # 4 columns x 3 rows of 8 + 2 pad, drawn 8 x larger
    digits = Digits().load(None, None).images
    for i in (0, 9):
        assert np.array_equal(cell(grid, i, 4, 8, 8, scale=8), upscaled(digits[i, 0].numpy(), 8))
    assert np.all(cell(grid, 11, 4, 8, 8, scale=8) == 128)  # unused cell
    top = grid[16:27, 16:40]  # the label "0: 0" of the first cell: white text on black
    assert top.max() > 200 and top.min() == 0
    assert f"wrote {out}: 10 images of digits, 1 x 8 x 8, 3 x 4 grid" in capsys.readouterr().out
    assert sorted(p.name for p in out.parent.iterdir()) == ["preview.png"]  # no temporary left


def test_preview_real_mnist(shared_mnist: Path, tmp_path: Path) -> None:
    out = tmp_path / "mnist.png"
    assert main(["preview", "--data.source", "MNIST", "--data.source.init_args.root", str(shared_mnist),
                 "--data.source.init_args.split", "test",
                 "--count", "5", "--columns", "5", "--out", str(out)]) == 0
    grid = read_png(out)
    images = MNIST(root=str(shared_mnist), split="test").load(None, None)
    assert images.targets[:5].tolist() == [7, 2, 1, 0, 4]
    for i in range(5):
        assert np.array_equal(cell(grid, i, 5, 28, 28, scale=3), upscaled(images.images[i, 0].numpy(), 3))


def test_preview_rgb_resized_and_replacing(tmp_path: Path) -> None:
    out = tmp_path / "p.png"
    out.write_bytes(b"old")
    assert main(["preview", "--data.source", "Patches", "--data.source.init_args.count", "6", "--data.image_size", "12",
                 "--out", str(out), "--split", "val", "--count", "100"]) == 0
    grid = read_png(out)
    assert grid.ndim == 3 and grid.shape[2] == 3 and grid.shape[0] == 6 * (1 * 14 + 2)  # 1 val image of 6, 6 x larger


def test_preview_streams_only_what_it_shows(tmp_path: Path) -> None:
    from PIL import Image

    for i in range(4):
        Image.new("RGB", (10, 10), (60 * i, 0, 0)).save(tmp_path / f"{i}.png")
    (tmp_path / "3.png").write_text("broken, but not previewed")
    out = tmp_path / "out" / "f.png"
    assert main(["preview", "--data.source", "ImageFolder", "--data.source.init_args.root", str(tmp_path),
                 "--data.image_size", "8", "--count", "2", "--out", str(out)]) == 0
    assert read_png(out)[2 * 8 + 60, 2 * 8 + 60].tolist() == [0, 0, 0]  # 8 x 8 images drawn 8 x larger


@pytest.mark.parametrize("argv, message", [
    (["--data.source", "digitz"], "unknown data source 'digitz'. Did you mean 'digits'?"),
    (["--count", "0"], "--count must be an integer >= 1, got 0"),
    (["--out", "x.nope"], "unknown image type '.nope'; use a .png file"),
    (["--bogus", "1"], "unrecognized arguments: --bogus"),
    (["--data.source", "MNIST", "--data.source.init_args.rot", "1"], "data.source: MNIST does not accept option 'rot'"),
])
def test_preview_errors_exit_2_with_one_line(argv: list[str], message: str, tmp_path: Path,
                                             capsys: pytest.CaptureFixture) -> None:
    assert main(["preview", "--out", str(tmp_path / "x.png"), *argv] if "--out" not in argv
                else ["preview", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("autoenc preview: error: ") and message in err and err.count("\n") == 1
    assert not (tmp_path / "x.png").exists()


def test_image_grid_layout() -> None:
    images = torch.arange(3 * 2 * 2, dtype=torch.uint8).view(3, 1, 2, 2)
    grid = image_grid(images, ncol=2, pad=1, pad_value=9)
    assert grid.shape == (2 * 3 + 1, 2 * 3 + 1, 1)
    assert grid[1:3, 1:3, 0].tolist() == [[0, 1], [2, 3]] and grid[1:3, 4:6, 0].tolist() == [[4, 5], [6, 7]]
    assert grid[4:6, 1:3, 0].tolist() == [[8, 9], [10, 11]] and (grid[4:6, 4:6] == 9).all()
    lone = image_grid(images[:1], ncol=4, pad=1, pad_value=9)  # one image keeps its frame
    assert lone.shape == (4, 4, 1) and lone[1:3, 1:3, 0].tolist() == [[0, 1], [2, 3]] and lone[0].tolist() == [[9]] * 4
    with pytest.raises(ValueError, match=r"images must be \(N, C, H, W\)"):
        image_grid(torch.zeros(2, 2, 2), ncol=1)


# -- autoenc sources -----------------------------------------------------------------------------
def test_sources_lists_every_source_with_summary_and_options(capsys: pytest.CaptureFixture) -> None:
    assert main(["sources"]) == 0
    out = capsys.readouterr().out
    for name in SOURCES.list():
        assert f"\n{name}  (autoenc.data." in f"\n{out}"
    assert "mnist  (autoenc.data.MNIST)\n    MNIST handwritten digits (LeCun, Cortes, Burges)" in out
    assert "      root: str | None = None\n      split: Literal['all', 'train', 'test'] = 'all'" in out
    assert "image_folder  (autoenc.data.ImageFolder)" in out and "      root: str (required)" in out
    assert "digits  (autoenc.data.Digits)\n    scikit-learn's 1,797 handwritten digits" in out


def test_sources_pattern() -> None:
    text = describe_sources("*mnist")
    assert text.startswith("fashion_mnist  (") and "\nmnist  (" in text and "\ndigits  (" not in text
    with pytest.raises(UserError, match=r"no data source matches 'zzz'; known: celeba, "):
        describe_sources("zzz")
