"""``autoenc reconstruct | traverse | sample | interpolate | latent-map | report`` in-process on a
tiny run trained once (``autoenc fit --report true``): files written, one-line errors with exit
code 2 and nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from PIL import Image

from autoenc.cli.main import main

CONFIG = Path(__file__).resolve().parents[2] / "configs" / "digits_vae.yaml"
LATENT = 3


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    """A VAE run on 300 digits, one short epoch, with its report written by ``fit --report``."""
    runs = tmp_path_factory.mktemp("runs")
    code = main(["fit", "-c", str(CONFIG), "--runs_dir", str(runs), "--name", "tiny",
                 "--model.init_args.latent_dim", str(LATENT), "--model.init_args.net.init_args.hidden",
                 "[32]", "--data.subset", "300", "--data.num_workers", "0",
                 "--trainer.max_epochs", "2", "--trainer.enable_progress_bar", "false",
                 "--trainer.logger", "true", "--trainer.log_every_n_steps", "1", "--report", "true"])
    assert code == 0
    return runs / "tiny" / "version_0"


def test_fit_report_writes_the_whole_report(run):
    out = run / "report"
    names = {"report.md", "summary.json", "training_curve.png", "reconstructions.png", "traversal.png",
             "traversal.gif", "samples.png", "interpolation.png", "latent_map.png"}
    assert names <= {p.name for p in out.iterdir()}
    md = (out / "report.md").read_text()
    assert f"| latent size | {LATENT} |" in md and "active units" in md and "nats/image" in md
    for name in names - {"report.md", "summary.json"}:
        assert f"]({name})" in md
    summary = json.loads((out / "summary.json").read_text())
    assert summary["latent_dim"] == LATENT and 0 <= summary["active_units"] <= LATENT
    assert summary["data"] == "digits, validation split, 45 images"
    assert summary["terms"]["neg_elbo"] == pytest.approx(summary["terms"]["recon"] + summary["terms"]["kl"], rel=1e-5)


def test_report_command_to_another_directory(run, tmp_path, capsys):
    assert main(["report", str(run), "--out", str(tmp_path / "r"), "--seed", "1"]) == 0
    assert (tmp_path / "r" / "report.md").is_file()
    assert "wrote" in capsys.readouterr().out


@pytest.mark.parametrize(("argv", "files"), [
    (["reconstruct", "--indices", "[0,3,5]"], ["reconstructions.png"]),
    (["traverse", "--dims", "[2,0]", "--steps", "4", "--gif_steps", "9", "--count", "1"],
     ["traversal.png", "traversal.gif"]),
    (["sample", "--count", "9", "--split", "train"], ["samples.png"]),
    (["interpolate", "--pairs", "[[0,1],[2,3]]", "--method", "linear"], ["interpolation.png"]),
    (["latent-map", "--color_by", "label"], ["latent_map.png"]),
])
def test_commands_write_their_files(run, tmp_path, argv, files):
    out = tmp_path / "out"
    assert main([argv[0], str(run), *argv[1:], "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(files)
    if "traversal.gif" in files:
        with Image.open(out / "traversal.gif") as gif:
            assert gif.n_frames == 2 * (9 - 1)


def test_checkpoint_file_and_data_override(run, tmp_path):
    ckpt = next((run / "checkpoints").glob("best*.ckpt"))
    out = tmp_path / "o"
    assert main(["reconstruct", str(ckpt), "--count", "2", "--data.batch_size", "7", "--out", str(out)]) == 0
    assert (out / "reconstructions.png").is_file()


def test_default_output_is_inside_the_run(run):
    assert main(["sample", str(run), "--count", "4"]) == 0
    assert (run / "look" / "samples.png").is_file()


def test_help_lists_the_commands(capsys):
    assert main(["--help"]) == 0
    text = capsys.readouterr().out
    for name in ("reconstruct", "traverse", "sample", "interpolate", "latent-map", "report"):
        assert f"  {name} " in text


@pytest.fixture
def not_ours(tmp_path) -> Path:
    path = tmp_path / "other.ckpt"
    torch.save({"state_dict": {"w": torch.zeros(2)}}, path)
    return path


@pytest.mark.parametrize(("argv", "message"), [
    (["traverse", "{run}", "--dims", f"[{LATENT}]"],
     rf"latent dimension {LATENT} is out of range: the model has latent_dim {LATENT}, so use 0..{LATENT - 1}"),
    (["traverse", "{run}", "--steps", "1"], r"--steps must be an integer >= 2"),
    (["interpolate", "{run}", "--steps", "0"], r"--steps must be an integer >= 2"),
    (["reconstruct", "{run}", "--indices", "[45]"], r"image index 45 is out of range: the split has 45 images"),
    (["interpolate", "{run}", "--pairs", "0-1"], r"^autoenc interpolate: error: pairs: expected"),
    (["reconstruct", "{run}", "--data.image_size", "16"],
     r"data images are \(1, 16, 16\) but the model takes \(1, 8, 8\)"),
    (["sample", "{run}", "--data.source", "digits", "--data.channels", "3"],
     r"data images are \(3, 8, 8\) but the model takes \(1, 8, 8\)"),
    (["reconstruct", "{run}", "--out", "{file}/sub"], r"cannot create output directory .* is a file"),
    (["traverse", "{not_ours}"], r"is not an autoenc checkpoint"),
    (["report", "{empty}"], r"no checkpoint in"),
    (["latent-map", "{run}", "--color_by", "scale"], r"has class labels only"),
    (["sample", "{run}", "--count", "0"], r"--count must be an integer >= 1"),
])
def test_bad_input_is_one_line_exit_2_and_nothing_written(run, not_ours, tmp_path, capsys, argv, message):
    (tmp_path / "file").write_text("x")
    (tmp_path / "empty").mkdir()
    out = tmp_path / "out"
    values = {"run": run, "not_ours": not_ours, "file": tmp_path / "file", "empty": tmp_path / "empty"}
    argv = [a.format(**values) for a in argv]
    if "--out" not in argv:
        argv += ["--out", str(out)]
    before = sorted(p.name for p in tmp_path.iterdir())
    assert main(argv) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"autoenc {argv[0]}: error: ")
    assert __import__("re").search(message, lines[0]), lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written
    assert not out.exists()
