"""`autoenc sweep --size_option`: one model per latent_channels (spatial VAE) or per k (TopK), and
the refusals (an option the model does not take, --ordered with channels or k)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from autoenc.cli.main import main
from autoenc.workflows.sweep import make_plan, read_sweep

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
TINY = ["--max_epochs", "1", "--id_repeats", "0", "--fit", "{data.subset: 300}"]


def _sweep(config: str, option: str, sizes: str, out: Path) -> Path:
    assert main(["sweep", str(CONFIGS / config), "--size_option", option, "--latent_dims", sizes,
                 "--out", str(out), *TINY]) == 0
    return out


def _rows(out: Path) -> list[dict[str, str]]:
    with open(out / "sweep.csv") as f:
        return list(csv.DictReader(f))


def test_sweep_over_latent_channels(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = _sweep("digits_spatial_vae.yaml", "latent_channels", "1,2", tmp_path / "s")
    rows = _rows(out)
    # 16x16 digits through two conv stages: codes of C x 4 x 4 numbers
    assert [(r["size_option"], r["latent_dim"], r["code_size"]) for r in rows] == [
        ("latent_channels", "1", "16"), ("latent_channels", "2", "32")]
    assert all(r["run"].startswith(f"runs/c{r['latent_dim']}_s0/") and r["neg_elbo"] != "" for r in rows)
    result = read_sweep(out)
    assert result.size_option == "latent_channels" and result.sizes == [1, 2]
    assert result.recommendation.latent_dim in (1, 2)
    text = (out / "recommendation.txt").read_text()
    assert text.startswith("recommended latent_channels: ") and text.splitlines()[4].split()[0] == "latent_channels"
    assert (out / "sweep.png").stat().st_size > 0
    assert "recommended latent_channels:" in capsys.readouterr().out


def test_sweep_over_k(tmp_path: Path) -> None:
    out = _sweep("digits_topk.yaml", "k", "2,4", tmp_path / "s")
    rows = _rows(out)
    assert [(r["size_option"], r["latent_dim"], r["code_size"]) for r in rows] == [("k", "2", "32"), ("k", "4", "32")]
    assert all(r["run"].startswith(f"runs/k{r['latent_dim']}_s0/") and r["kl"] == "" for r in rows)
    for size in (2, 4):  # each run trained with its k
        hparams = (next((out / "runs" / f"k{size}_s0").glob("version_*")) / "hparams.yaml").read_text()
        assert f"k: {size}" in hparams
    data = json.loads((out / "sweep.json").read_text())
    assert data["size_option"] == "k" and data["latent_dims"] == [2, 4]
    assert data["recommendation"]["latent_dim"] in (2, 4)


def test_plan_sets_the_swept_option(tmp_path: Path) -> None:
    plan = make_plan(CONFIGS / "digits_topk.yaml", [8, 2], out=tmp_path / "s", size_option="k")
    run = plan.runs()[0]
    options = plan.fit_overrides(run, resume=False)
    assert run.name == "k2_s0" and options["model.init_args.k"] == 2 and "model.init_args.latent_dim" not in options
    assert plan.prefixes(run) is None and plan.record()["size_option"] == "k"
    assert "size_option" not in make_plan(CONFIGS / "digits_ae.yaml", [2], out=tmp_path / "t").record()


def _fails(argv: list[str], capsys: pytest.CaptureFixture[str], match: str) -> None:
    assert main(["sweep", *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert match in err[0], err[0]


@pytest.mark.parametrize(("config", "extra", "match"), [
    ("digits_vae.yaml", ["--size_option", "k"],
     "--size_option k: model VariationalAutoencoder does not take k; it takes latent_dim, latent_channels"),
    ("digits_topk.yaml", ["--size_option", "k", "--ordered", "true"],
     "--ordered sweeps latent_dim only (a TopK code is sparse"),
    ("digits_spatial_vae.yaml", ["--size_option", "latent_channels", "--ordered", "true"],
     "--ordered sweeps latent_dim only (prefix evaluation cuts flat units"),
    ("digits_ae.yaml", ["--size_option", "width"], "size_option"),
])
def test_refusals(config: str, extra: list[str], match: str, tmp_path: Path,
                  capsys: pytest.CaptureFixture[str]) -> None:
    _fails([str(CONFIGS / config), "--latent_dims", "2,4", "--out", str(tmp_path / "s"), *extra], capsys, match)
    assert not (tmp_path / "s").exists()
