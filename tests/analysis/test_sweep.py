"""A real sweep on digits (tiny MLP autoencoders, a few epochs): metrics, files, resume."""

from __future__ import annotations

import csv
import json
import math
import shutil
from pathlib import Path

import pytest
import yaml
from _tiny_configs import tiny_config

from autoenc.cli.main import main
from autoenc.workflows.sweep import make_plan, read_sweep, run_sweep
from autoenc.workflows.sweep.plan import MARKER, run_root, run_state

CONFIG = tiny_config("tiny_ae", "Autoencoder", 8)


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cfg") / "tiny_ae.yaml"
    path.write_text(yaml.safe_dump(CONFIG))
    return path


@pytest.fixture(scope="module")
def sweep_dir(config: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`autoenc sweep` of sizes 2 and 16 through the command line, trained once for the module."""
    out = tmp_path_factory.mktemp("sweeps") / "s"
    assert main(["sweep", str(config), "--latent_dims", "2,16", "--out", str(out), "--id_repeats", "0"]) == 0
    return out


def test_reconstruction_improves_with_latent_size(sweep_dir: Path) -> None:
    result = read_sweep(sweep_dir)
    two, sixteen = result.summary
    assert (two.latent_dim, sixteen.latent_dim) == (2, 16)
    # nats per image; a 2-d code loses clearly more of a digit than a 16-d one
    assert two.mean["recon"] > sixteen.mean["recon"] + 1.0
    assert sixteen.mean["twonn"] > two.mean["twonn"]
    assert sixteen.mean["probe_accuracy"] > two.mean["probe_accuracy"] > 0.1
    assert math.isnan(two.mean["neg_elbo"]) and math.isnan(two.mean["active_units"])  # a plain AE
    assert result.recommendation.latent_dim in (2, 16)


def test_outputs_are_written(sweep_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with open(sweep_dir / "sweep.csv") as f:
        rows = list(csv.DictReader(f))
    assert [(r["latent_dim"], r["seed"], r["mode"]) for r in rows] == [("2", "0", "separate"), ("16", "0", "separate")]
    assert all(float(r["recon"]) > 0 and r["kl"] == "" and int(r["n_val"]) == 270 for r in rows)
    data = json.loads((sweep_dir / "sweep.json").read_text())
    assert data["recommendation"]["rule"].startswith("the larger of")
    assert (sweep_dir / "sweep.png").stat().st_size > 10_000
    text = (sweep_dir / "recommendation.txt").read_text()
    assert text.startswith(f"recommended latent size: {data['recommendation']['latent_dim']}\nrule: ")
    for name in ("d2_s0", "d16_s0"):
        assert (sweep_dir / "runs" / name / "version_0" / "checkpoints" / "last.ckpt").is_file()
        assert (sweep_dir / "runs" / name / "version_0" / "metrics.csv").is_file()


def _mtimes(out: Path) -> dict[str, int]:
    return {str(p.relative_to(out)): p.stat().st_mtime_ns for p in out.rglob("*.ckpt")}


def test_second_invocation_trains_nothing(sweep_dir: Path, config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = _mtimes(sweep_dir)
    plan = make_plan(config, [2, 16], out=sweep_dir)
    result = run_sweep(plan, log=lambda s: None)
    assert [t.status for t in result.trained] == ["skipped", "skipped"]
    assert _mtimes(sweep_dir) == before
    assert result.recommendation == read_sweep(sweep_dir).recommendation


def test_half_finished_runs_resume_or_restart(sweep_dir: Path, config: Path) -> None:
    """No marker but a last.ckpt: resumed in its run directory (at max_epochs already, so
    nothing is left to train); no checkpoint at all: trained again from scratch.
    (Runs last: it changes the module's sweep directory.)"""
    plan = make_plan(config, [2, 16], out=sweep_dir)
    small, large = plan.runs()
    shutil.rmtree(run_root(plan, small) / "version_0" / "checkpoints")
    (run_root(plan, small) / MARKER).unlink()
    (run_root(plan, large) / MARKER).unlink()
    assert (run_state(plan, small), run_state(plan, large)) == ("new", "partial")
    kept = (run_root(plan, large) / "version_0" / "checkpoints" / "last.ckpt").stat().st_mtime_ns
    result = run_sweep(plan, log=lambda s: None, write=False)
    assert [t.status for t in result.trained] == ["trained", "resumed"]
    assert (run_state(plan, small), run_state(plan, large)) == ("done", "done")
    assert sorted(p.name for p in run_root(plan, small).iterdir()) == ["complete.json", "evaluation.json",
                                                                      "version_0"]
    assert not (run_root(plan, large) / "version_1").exists()  # resumed in place
    assert (run_root(plan, large) / "version_0" / "checkpoints" / "last.ckpt").stat().st_mtime_ns >= kept
    assert result.summary[0].mean["recon"] > result.summary[1].mean["recon"]
