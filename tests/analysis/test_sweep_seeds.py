"""Same seeds -> same sweep: a VAE sweep trained in this process and again in two child
processes (`--jobs 2`) measures the same numbers and recommends the same size."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from _tiny_configs import tiny_config

from autoenc.workflows.sweep import make_plan, run_sweep

CONFIG = tiny_config("tiny_vae", "VariationalAutoencoder", 5)


def test_same_seeds_same_recommendation_in_process_and_in_child_processes(tmp_path: Path) -> None:
    config = tmp_path / "vae.yaml"
    config.write_text(yaml.safe_dump(CONFIG))
    here = run_sweep(make_plan(config, [2, 8], out=tmp_path / "a"), log=lambda s: None)
    children = run_sweep(make_plan(config, [2, 8], out=tmp_path / "b"), jobs=2, log=lambda s: None)
    assert [t.status for t in children.trained] == ["trained", "trained"]
    assert (tmp_path / "b" / "runs" / "d8_s0" / "train.log").is_file()
    assert children.recommendation == here.recommendation
    for a, b in zip(here.rows, children.rows, strict=True):
        assert (a["latent_dim"], a["seed"]) == (b["latent_dim"], b["seed"])
        for key in ("recon", "neg_elbo", "kl", "twonn", "probe_accuracy"):
            # thread counts differ between the two (cpu_count vs cpu_count // 2): float sums may differ
            assert a[key] == pytest.approx(b[key], rel=2e-3, abs=1e-3), key
        assert a["active_units"] == b["active_units"]
    two, eight = here.rows
    assert two["neg_elbo"] == pytest.approx(two["recon"] + two["kl"])
    assert 1 <= two["active_units"] <= 2 and 1 <= eight["active_units"] <= 8
    assert eight["kl"] > 0 and children.variational and here.variational
