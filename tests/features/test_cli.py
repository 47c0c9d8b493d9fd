"""`autoenc features` and `autoenc probe`: the happy path, and one-line errors with exit 2."""

from __future__ import annotations

import json
import shutil

import pytest

from autoenc.cli.main import main


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _one_line_error(capsys, tmp_path, *argv, match):
    before = sorted(p.name for p in tmp_path.iterdir())
    code, out, err = _run(capsys, *argv)
    assert code == 2, (out, err)
    assert len(err.strip().splitlines()) == 1, err
    assert match in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written


def test_features_then_probe(capsys, trained_ckpt, tmp_path):
    code, out, _ = _run(capsys, "features", str(trained_ckpt), "--cache", str(tmp_path / "train"), "--split", "train",
                        "--progress", "false")
    assert code == 0 and "wrote" in out and "x 8 features of the train split (val_fraction 0.3, seed 0) with targets" in out
    code, out, _ = _run(capsys, "features", str(trained_ckpt), "--data.source", "digits", "--data.val_fraction", "0.3",
                        "--cache", str(tmp_path / "val"), "--progress", "false")
    assert code == 0 and "wrote" in out
    code, out, _ = _run(capsys, "features", str(trained_ckpt), "--data.source", "digits", "--data.val_fraction", "0.3",
                        "--cache", str(tmp_path / "val"))
    assert code == 0 and out.startswith("reused")
    code, out, _ = _run(capsys, "probe", str(tmp_path / "train"), "--test_cache", str(tmp_path / "val"),
                        "--json", str(tmp_path / "probe.json"))
    assert code == 0 and out.startswith("linear probe: accuracy")
    result = json.loads((tmp_path / "probe.json").read_text())
    assert result["accuracy"] > result["chance"] + 0.5 and len(result["report"]) == 10
    code, out, _ = _run(capsys, "probe", str(tmp_path / "val"), "--kind", "knn", "--k", "3")
    assert code == 0 and out.startswith("knn probe")


def test_shape_mismatch(capsys, trained_ckpt, tmp_path):
    _one_line_error(capsys, tmp_path, "features", str(trained_ckpt), "--data.source", "digits", "--data.image_size", "16",
                    "--cache", str(tmp_path / "c"), match="takes images (1, 8, 8) (C, H, W) but the data has (1, 16, 16)")


def test_stale_cache(capsys, trained_ckpt, tmp_path):
    assert main(["features", str(trained_ckpt), "--cache", str(tmp_path / "c"), "--progress", "false"]) == 0
    capsys.readouterr()
    _one_line_error(capsys, tmp_path, "features", str(trained_ckpt), "--cache", str(tmp_path / "c"), "--split", "all",
                    match="data.split: val in the cache, all requested")


def test_cache_path_is_a_file(capsys, trained_ckpt, tmp_path):
    (tmp_path / "c").write_text("x")
    _one_line_error(capsys, tmp_path, "features", str(trained_ckpt), "--cache", str(tmp_path / "c"),
                    match="is a file, not a directory")


@pytest.mark.parametrize("damaged", ["features.npy", "meta.json"])
def test_truncated_cache(capsys, trained_ckpt, tmp_path, damaged):
    assert main(["features", str(trained_ckpt), "--cache", str(tmp_path / "c"), "--progress", "false"]) == 0
    capsys.readouterr()
    file = tmp_path / "c" / damaged
    file.write_bytes(file.read_bytes()[:50])
    _one_line_error(capsys, tmp_path, "probe", str(tmp_path / "c"), match=f"{damaged}' is damaged")
    _one_line_error(capsys, tmp_path, "features", str(trained_ckpt), "--cache", str(tmp_path / "c"),
                    match=f"{damaged}' is damaged")


def test_probe_without_targets(capsys, trained_ckpt, tmp_path):
    assert main(["features", str(trained_ckpt), "--cache", str(tmp_path / "c"), "--progress", "false"]) == 0
    capsys.readouterr()
    meta = json.loads((tmp_path / "c" / "meta.json").read_text())
    meta["shapes"]["targets"] = None
    (tmp_path / "c" / "meta.json").write_text(json.dumps(meta))
    (tmp_path / "c" / "targets.npy").unlink()
    _one_line_error(capsys, tmp_path, "probe", str(tmp_path / "c"), match="has no targets")


def test_unknown_torchvision_model_and_node(capsys, tmp_path):
    _one_line_error(capsys, tmp_path, "features", "torchvision:resnt18", "--data.source", "digits", "--cache",
                    str(tmp_path / "c"), match="close names: resnet18")
    _one_line_error(capsys, tmp_path, "features", "torchvision:resnet18:layer9", "--data.source", "digits", "--cache",
                    str(tmp_path / "c"), match="has no node 'layer9'")


def test_weights_file_that_does_not_match(capsys, tmp_path):
    import torch

    torch.save({"fc.weight": torch.zeros(3, 3)}, tmp_path / "w.pth")
    _one_line_error(capsys, tmp_path, "features", "torchvision:resnet18", "--weights", str(tmp_path / "w.pth"),
                    "--data.source", "digits", "--cache", str(tmp_path / "c"), match="does not match torchvision resnet18")


def test_data_is_required_for_non_checkpoints(capsys, export_dir, tmp_path):
    _one_line_error(capsys, tmp_path, "features", str(export_dir), "--cache", str(tmp_path / "c"),
                    match="data options are required for")


def test_overwrite_rebuilds(capsys, trained_ckpt, tmp_path):
    assert main(["features", str(trained_ckpt), "--cache", str(tmp_path / "c"), "--progress", "false"]) == 0
    assert main(["features", str(trained_ckpt), "--cache", str(tmp_path / "c"), "--split", "all", "--overwrite", "true",
                 "--progress", "false"]) == 0
    assert "wrote" in capsys.readouterr().out
    assert json.loads((tmp_path / "c" / "meta.json").read_text())["data"]["split"] == "all"
    shutil.rmtree(tmp_path / "c")


def test_features_of_a_run_use_its_split_by_default(capsys, trained_ckpt, digits_dm, tmp_path):
    """The run was trained with val_fraction 0.3, seed 0: its "val" is those images, with or without --data."""
    val = digits_dm.arrays("val")
    for name, extra in (("own", []), ("data", ["--data.source", "digits"])):
        code, out, _ = _run(capsys, "features", str(trained_ckpt), *extra, "--cache", str(tmp_path / name),
                            "--progress", "false")
        assert code == 0 and "val_fraction 0.3, seed 0" in out, out
        meta = json.loads((tmp_path / name / "meta.json").read_text())
        assert meta["data"]["n"] == len(val) and meta["data"]["datamodule"]["val_fraction"] == 0.3
    code, out, _ = _run(capsys, "features", str(trained_ckpt), "--data.source", "digits", "--data.seed", "5",
                        "--cache", str(tmp_path / "other"), "--progress", "false")
    assert code == 0 and "val_fraction 0.3, seed 5" in out
    assert json.loads((tmp_path / "other" / "meta.json").read_text())["data"]["datamodule"]["seed"] == 5


def test_random_torchvision_weights_are_said_recorded_and_reused(capsys, tmp_path):
    argv = ["features", "torchvision:resnet18", "--data.source", "digits", "--data.subset", "200", "--cache",
            str(tmp_path / "c"), "--progress", "false"]
    code, out, _ = _run(capsys, *argv)
    assert code == 0 and out.startswith("wrote") and "random weights (seed 0)" in out, out
    assert json.loads((tmp_path / "c" / "meta.json").read_text())["encoder_weights"] == "random (seed 0)"
    code, out, err = _run(capsys, *argv)  # the same encoder again: the cache is reused, not refused
    assert code == 0 and out.startswith("reused"), (out, err)
    code, out, err = _run(capsys, *argv, "--seed", "1")
    assert code == 2 and "encoder.sha256" in err


def test_probe_output_and_a_closed_stdout(capsys, trained_ckpt, tmp_path, monkeypatch):
    import os
    import sys

    assert main(["features", str(trained_ckpt), "--cache", str(tmp_path / "c"), "--progress", "false"]) == 0
    capsys.readouterr()
    code, out, _ = _run(capsys, "probe", str(tmp_path / "c"))
    first = out.splitlines()[0]
    assert code == 0 and "95% CI" in first and "chance" in first and "held-out" in first
    # `autoenc probe ... | head -1`: the reader has gone before the output is written
    read, write = os.pipe()
    os.close(read)
    closed = os.fdopen(write, "w")
    monkeypatch.setattr(sys, "stdout", closed)
    code = main(["probe", str(tmp_path / "c")])
    monkeypatch.undo()
    assert code == 0
    assert capsys.readouterr().err == ""
    closed.close()  # flushes nothing: the broken pipe was replaced by /dev/null


def _image_folder(root, shade):
    import numpy as np
    from PIL import Image

    for label in ("a", "b"):
        (root / label).mkdir(parents=True)
        for i in range(6):
            pixels = np.full((12, 12, 3), shade + 40 * (label == "b") + i, dtype=np.uint8)
            Image.fromarray(pixels).save(root / label / f"{i}.png")
    return root


def test_run_data_options_given_override_only_what_they_name(capsys, tmp_path):
    """`autoenc features RUN --data.source.init_args.root DIR` reads DIR with every other data option
    of the run (image_size, channels, split), exactly as the same option does in `autoenc fit`."""
    import lightning as L
    import numpy as np

    from autoenc.data import ImageDataModule, ImageFolder
    from autoenc.models import Autoencoder

    trained_on = _image_folder(tmp_path / "train_images", 10)
    other = _image_folder(tmp_path / "other_images", 150)
    dm = ImageDataModule(ImageFolder(root=str(trained_on)), image_size=8, channels=1, val_fraction=0.5,
                         batch_size=4, num_workers=0)
    model = Autoencoder(dm.input_shape, latent_dim=2, encoder="mlp", net_options={"hidden": [8]})
    trainer = L.Trainer(accelerator="cpu", max_epochs=1, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=0)
    trainer.fit(model, dm)
    ckpt = tmp_path / "run.ckpt"
    trainer.save_checkpoint(ckpt)
    code, out, err = _run(capsys, "features", str(ckpt), "--cache", str(tmp_path / "c"),
                          "--data.source.init_args.root", str(other), "--progress", "false")
    assert code == 0, err
    meta = json.loads((tmp_path / "c" / "meta.json").read_text())
    module = meta["data"]["datamodule"]
    assert module["image_size"] == 8 and module["channels"] == 1 and module["val_fraction"] == 0.5
    assert str(other) in json.dumps(meta["data"]) and str(trained_on) not in json.dumps(meta["data"])
    assert meta["data"]["n"] == 6 and np.load(tmp_path / "c" / "features.npy").shape == (6, 2)
