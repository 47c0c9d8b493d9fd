"""Ctrl-C and SIGTERM on a real `autoenc sweep` process: the sweep says it was interrupted and
that rerunning the same command resumes it, with the signal's exit code."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.slow

AUTOENC = Path(sys.executable).with_name("autoenc")
SIGNALS = Path(__file__).resolve().parents[1] / "training"  # _signals.SignalAt


@pytest.mark.parametrize("name", ["INT", "TERM"])
def test_interrupted_sweep_says_rerun_resumes(tmp_path: Path, name: str) -> None:
    config = tmp_path / "tiny.yaml"
    config.write_text(yaml.safe_dump({
        "name": "tiny", "seed_everything": 0,
        "data": {"source": "digits", "batch_size": 32, "subset": 128},
        "model": {"class_path": "Autoencoder", "init_args": {"encoder": "mlp", "net_options": {"hidden": [8]}}},
        "trainer": {"max_epochs": 2, "enable_progress_bar": False, "callbacks": [
            {"class_path": "_signals.SignalAt", "init_args": {"epoch": 1, "batch": 1, "signal_name": name}}]},
    }))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SIGNALS), os.environ.get("PYTHONPATH", "")]),
           "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([str(AUTOENC), "sweep", str(config), "--latent_dims", "2", "--out", str(tmp_path / "s"),
                           "--id_repeats", "0"], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 128 + getattr(signal, f"SIG{name}"), proc.stderr
    assert "interrupted" in proc.stderr and "run the same sweep command again to resume" in proc.stderr, proc.stderr
    assert "error: 1" not in proc.stderr and "None" not in proc.stderr and "Traceback" not in proc.stderr
    assert list((tmp_path / "s").rglob("last.ckpt")), "the interrupted run keeps its state"
