"""``autoenc disentangle RUN`` end to end on tiny runs, through the CLI's one-line error path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autoenc.cli.disentangle import main as disentangle
from autoenc.core.errors import UserError

REPO = Path(__file__).resolve().parents[2]
FAST = ["--trainer.max_steps", "2", "--trainer.limit_val_batches", "1", "--trainer.enable_progress_bar", "false",
        "--trainer.enable_model_summary", "false", "--trainer.logger", "false"]
GRID = ("{class_path: Sprites, init_args: {orientations: [0, 20], pos_x: [0, 8, 16, 24], "
        "pos_y: [0, 8, 16, 24], scales: [0, 5]}}")  # 3 * 2 * 2 * 4 * 4 = 192 images


def fit(tmp: Path, *args: str) -> Path:
    from autoenc.cli.main import main

    assert main(["fit", *args, "--runs_dir", str(tmp), "--name", "run", *FAST]) == 0
    return tmp / "run" / "version_0"


def run_cli(argv: list[str]) -> tuple[int, str]:
    """What ``autoenc disentangle ARGV`` does: exit code and the one error line."""
    try:
        return disentangle(argv), ""
    except UserError as err:
        lines = str(err).strip().splitlines()
        assert len(lines) == 1, lines
        return 2, lines[0]


@pytest.fixture(scope="module")
def sprites_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fit(tmp_path_factory.mktemp("sprites"), "-c", str(REPO / "configs" / "sprites_tcvae_small.yaml"),
               "--data.source", GRID)


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fit(tmp_path_factory.mktemp("digits"), "-c", str(REPO / "configs" / "digits_vae.yaml"),
               "--data.subset", "200")


@pytest.mark.slow
def test_disentangle_writes_json_and_heat_maps(sprites_run: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    code, _ = run_cli([str(sprites_run), "--out", str(out), "--n", "400", "--vote_points", "20",
                       "--metrics", "[mig,sap,dci,factor_vae]", "--jobs", "1"])
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == ["disentanglement.json", "disentanglement_dci.png",
                                                     "disentanglement_mi.png"]
    data = json.loads((out / "disentanglement.json").read_text())
    assert data["factors"]["names"] == ["shape", "scale", "orientation", "pos_x", "pos_y"]
    assert data["factors"]["sizes"] == [3, 2, 2, 4, 4]
    assert set(data["scores"]) == {"mig", "sap", "disentanglement", "completeness", "informativeness_train",
                                   "informativeness_test", "factor_vae_train", "factor_vae_eval"}
    assert len(data["mutual_info_nats"]) == 8 and sorted(data["latent_order"]) == list(range(8))
    assert "mig " in capsys.readouterr().out
    # same seed, same numbers
    again = tmp_path / "again"
    run_cli([str(sprites_run), "--out", str(again), "--n", "400", "--metrics", "[mig,sap]"])
    first = json.loads((out / "disentanglement.json").read_text())["scores"]
    assert json.loads((again / "disentanglement.json").read_text())["scores"]["mig"] == first["mig"]


def test_labels_make_a_one_factor_ground_truth(digits_run: Path, tmp_path: Path) -> None:
    # as the docs show it: no --metrics, so every metric that works with one factor
    code, _ = run_cli([str(digits_run), "--labels", "true", "--out", str(tmp_path / "o"), "--n", "300",
                       "--repeats", "2"])
    data = json.loads((tmp_path / "o" / "disentanglement.json").read_text())
    assert code == 0 and data["factors"]["names"] == ["label"] and data["factors"]["sizes"] == [10]
    assert set(data["scores"]) == {"mig", "sap"} and len(data["spread"]["mig"]["values"]) == 2
    assert data["split"]["shared_images"] == 0
    code, line = run_cli([str(digits_run), "--labels", "true", "--out", str(tmp_path / "p"), "--n", "300",
                          "--metrics", "[mig,dci]"])
    assert code == 2 and "metric 'dci' needs at least 2 ground-truth factors and this one has 1" in line
    assert not (tmp_path / "p").exists()


@pytest.mark.parametrize(("args", "message"), [
    (["--n", "50"], "50 codes are too few: at least 100"),
    (["--metrics", "[mig,migg]"], "unknown disentanglement metric 'migg'"),
    (["--n", "0"], "--n must be an integer >= 1"),
    (["--labels", "true"], "--labels needs integer labels"),
    (["--factors", "[Smiling]"], "--factors picks label columns and needs --labels true"),
    (["--test_fraction", "1.5"], "--test_fraction must be a number in (0, 1), got 1.5"),
])
def test_bad_options_on_a_sprites_run_write_nothing(sprites_run: Path, tmp_path: Path, args: list[str],
                                                    message: str) -> None:
    out = tmp_path / "out"
    code, line = run_cli([str(sprites_run), "--out", str(out), "--vote_points", "5", "--metrics", "[mig]", *args]
                         if "--metrics" not in args else [str(sprites_run), "--out", str(out), *args])
    assert code == 2 and message in line
    assert not out.exists()


def test_a_run_without_factors_says_which_sources_have_them(digits_run: Path, tmp_path: Path) -> None:
    code, line = run_cli([str(digits_run), "--out", str(tmp_path / "out")])
    assert code == 2
    assert "data source 'digits' has no ground-truth factors; sources with factors: sprites" in line
    assert not (tmp_path / "out").exists()


def test_report_section_only_for_data_with_factors(sprites_run: Path, digits_run: Path) -> None:
    from autoenc.measure.codes import latent_stats
    from autoenc.measure.summary import summarize
    from autoenc.render.report_page import render_markdown
    from autoenc.runs.run import Run
    from autoenc.workflows.disentangle_run import disentanglement_section

    opened = Run.open(sprites_run)
    model, dm = opened.model, opened.datamodule
    section = disentanglement_section(model, dm, n=300)
    assert section is not None and set(section.scores) == {"mig", "sap"}
    assert [p.name for p in section.pictures] == ["disentanglement_mi.png"]
    val = dm.arrays("val")
    summary = summarize(model, val.images, latent_stats(model, val.images), "sprites", str(opened.checkpoint))
    page = render_markdown(summary, "run", ["disentanglement_mi.png"], section.notes, section.scores)
    assert "| disentanglement | mig " in page
    assert "## Disentanglement: mutual information with the ground-truth factors" in page
    digits = Run.open(digits_run)
    digits_model, digits_dm = digits.model, digits.datamodule
    assert disentanglement_section(digits_model, digits_dm) is None
