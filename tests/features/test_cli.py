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
                        "--no-progress")
    assert code == 0 and "wrote" in out and "x 8 features of the train split with targets" in out
    code, out, _ = _run(capsys, "features", str(trained_ckpt), "--data", "digits", "--set", "val_fraction=0.3",
                        "--cache", str(tmp_path / "val"), "--no-progress")
    assert code == 0 and "wrote" in out
    code, out, _ = _run(capsys, "features", str(trained_ckpt), "--data", "digits", "--set", "val_fraction=0.3",
                        "--cache", str(tmp_path / "val"))
    assert code == 0 and out.startswith("reused")
    code, out, _ = _run(capsys, "probe", str(tmp_path / "train"), "--test-cache", str(tmp_path / "val"),
                        "--json", str(tmp_path / "probe.json"))
    assert code == 0 and out.startswith("linear probe: accuracy")
    result = json.loads((tmp_path / "probe.json").read_text())
    assert result["accuracy"] > result["chance"] + 0.5 and len(result["report"]) == 10
    code, out, _ = _run(capsys, "probe", str(tmp_path / "val"), "--kind", "knn", "--k", "3")
    assert code == 0 and out.startswith("knn probe")


def test_script_wraps_the_command(trained_ckpt, tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).parents[2] / "scripts" / "extract_features.py"
    done = subprocess.run([sys.executable, str(script), "--help"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "--cache" in done.stdout and "autoenc features" in done.stdout


def test_shape_mismatch(capsys, trained_ckpt, tmp_path):
    _one_line_error(capsys, tmp_path, "features", str(trained_ckpt), "--data", "digits", "--set", "image_size=16",
                    "--cache", str(tmp_path / "c"), match="takes images (1, 8, 8) (C, H, W) but the data has (1, 16, 16)")


def test_stale_cache(capsys, trained_ckpt, tmp_path):
    assert main(["features", str(trained_ckpt), "--cache", str(tmp_path / "c"), "--no-progress"]) == 0
    capsys.readouterr()
    _one_line_error(capsys, tmp_path, "features", str(trained_ckpt), "--cache", str(tmp_path / "c"), "--split", "all",
                    match="data.split: val in the cache, all requested")


def test_cache_path_is_a_file(capsys, trained_ckpt, tmp_path):
    (tmp_path / "c").write_text("x")
    _one_line_error(capsys, tmp_path, "features", str(trained_ckpt), "--cache", str(tmp_path / "c"),
                    match="is a file, not a directory")


@pytest.mark.parametrize("damaged", ["features.npy", "meta.json"])
def test_truncated_cache(capsys, trained_ckpt, tmp_path, damaged):
    assert main(["features", str(trained_ckpt), "--cache", str(tmp_path / "c"), "--no-progress"]) == 0
    capsys.readouterr()
    file = tmp_path / "c" / damaged
    file.write_bytes(file.read_bytes()[:50])
    _one_line_error(capsys, tmp_path, "probe", str(tmp_path / "c"), match=f"{damaged}' is damaged")
    _one_line_error(capsys, tmp_path, "features", str(trained_ckpt), "--cache", str(tmp_path / "c"),
                    match=f"{damaged}' is damaged")


def test_probe_without_targets(capsys, trained_ckpt, tmp_path):
    assert main(["features", str(trained_ckpt), "--cache", str(tmp_path / "c"), "--no-progress"]) == 0
    capsys.readouterr()
    meta = json.loads((tmp_path / "c" / "meta.json").read_text())
    meta["shapes"]["targets"] = None
    (tmp_path / "c" / "meta.json").write_text(json.dumps(meta))
    (tmp_path / "c" / "targets.npy").unlink()
    _one_line_error(capsys, tmp_path, "probe", str(tmp_path / "c"), match="has no targets")


def test_unknown_torchvision_model_and_node(capsys, tmp_path):
    _one_line_error(capsys, tmp_path, "features", "torchvision:resnt18", "--data", "digits", "--cache",
                    str(tmp_path / "c"), match="close names: resnet18")
    _one_line_error(capsys, tmp_path, "features", "torchvision:resnet18:layer9", "--data", "digits", "--cache",
                    str(tmp_path / "c"), match="has no node 'layer9'")


def test_weights_file_that_does_not_match(capsys, tmp_path):
    import torch

    torch.save({"fc.weight": torch.zeros(3, 3)}, tmp_path / "w.pth")
    _one_line_error(capsys, tmp_path, "features", "torchvision:resnet18", "--weights", str(tmp_path / "w.pth"),
                    "--data", "digits", "--cache", str(tmp_path / "c"), match="does not match torchvision resnet18")


def test_data_is_required_for_non_checkpoints(capsys, export_dir, tmp_path):
    _one_line_error(capsys, tmp_path, "features", str(export_dir), "--cache", str(tmp_path / "c"),
                    match="--data is required")


def test_overwrite_rebuilds(capsys, trained_ckpt, tmp_path):
    assert main(["features", str(trained_ckpt), "--cache", str(tmp_path / "c"), "--no-progress"]) == 0
    assert main(["features", str(trained_ckpt), "--cache", str(tmp_path / "c"), "--split", "all", "--overwrite",
                 "--no-progress"]) == 0
    assert "wrote" in capsys.readouterr().out
    assert json.loads((tmp_path / "c" / "meta.json").read_text())["data"]["split"] == "all"
    shutil.rmtree(tmp_path / "c")
