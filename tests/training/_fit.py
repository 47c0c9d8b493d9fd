"""Helpers of the training tests: in-process `autoenc fit` calls with quiet, fast settings."""

from __future__ import annotations

import csv
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CONFIGS = REPO / "configs"
#: No progress bar (its output is not ours to test) and Lightning's summary off.
#: The shared run (conftest's vae_run): digits_vae.yaml with a small net, 256 images, two epochs.
VAE_RUN_ARGS = ["--data.subset", "256", "--model.init_args.net.init_args.hidden", "[32]",
                "--trainer.max_epochs", "2", "--trainer.log_every_n_steps", "1"]

QUIET = ["--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false"]


def fit(*args: object) -> int:
    """``autoenc fit ARGS`` in this process; returns the exit code."""
    from autoenc.cli.main import main

    return main(["fit", *(str(a) for a in args), *QUIET])


def read_metrics(run_dir: Path) -> list[dict[str, str]]:
    """The rows of ``run_dir/metrics.csv``."""
    with open(run_dir / "metrics.csv", newline="") as f:
        return list(csv.DictReader(f))


def column(rows: list[dict[str, str]], key: str) -> list[float]:
    """The non-empty values of ``key`` in file order."""
    return [float(r[key]) for r in rows if r.get(key) not in (None, "")]
