"""Ctrl-C and SIGTERM on a real `autoenc sweep` process: the sweep says it was interrupted and
that rerunning the same command resumes it, with the signal's exit code."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import lightning as L
import pytest
import yaml

from autoenc.core.errors import UserError

pytestmark = pytest.mark.slow

AUTOENC = Path(sys.executable).with_name("autoenc")
SIGNALS = Path(__file__).resolve().parents[1] / "training"  # _signals.SignalAt


@pytest.mark.parametrize("name", ["INT", "TERM"])
def test_interrupted_sweep_says_rerun_resumes(tmp_path: Path, name: str) -> None:
    config = tmp_path / "tiny.yaml"
    config.write_text(yaml.safe_dump({
        "name": "tiny", "seed_everything": 0,
        "data": {"source": "digits", "batch_size": 32, "subset": 128},
        "model": {"class_path": "Autoencoder", "init_args": {"net": {"class_path": "MLPNet", "init_args": {"hidden": [8]}}}},
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


class FailAtStart(L.Callback):
    """A fit that fails before its first checkpoint."""

    def on_train_start(self, trainer, pl_module) -> None:
        raise UserError("the data went away")


def _tiny_plan(tmp_path: Path, sizes: list[int], callbacks: list | None = None):
    from autoenc.workflows.sweep import make_plan

    config = tmp_path / "tiny.yaml"
    config.write_text("# Cost: ~40 s for 60 epochs on 2 CPU cores\n" + yaml.safe_dump({
        "name": "tiny", "data": {"source": "digits", "batch_size": 32, "subset": 128},
        "model": {"class_path": "Autoencoder", "init_args": {"net": {"class_path": "MLPNet", "init_args": {"hidden": [8]}}}},
        "trainer": {"max_epochs": 2, "enable_progress_bar": False, **({"callbacks": callbacks} if callbacks else {})},
    }))
    return make_plan(config, sizes, 1, out=tmp_path / "s", max_epochs=3)


def test_a_sweep_says_what_it_will_cost_first(tmp_path: Path) -> None:
    from autoenc.workflows.sweep.sweep_cost import sweep_cost_line

    line = sweep_cost_line(_tiny_plan(tmp_path, list(range(1, 3001))))
    # 40 s for 60 epochs -> 2 s for the sweep's 3 epochs a run, 6,000 s for 3,000 runs
    assert line.startswith("3000 of 3000 runs to train (3000 sizes x 1 seed)") and "about 100 min in all" in line, line


def test_a_sweep_failing_before_any_checkpoint_leaves_nothing(tmp_path: Path) -> None:
    from autoenc.workflows.sweep import run_sweep

    plan = _tiny_plan(tmp_path, [2, 3], callbacks=[{"class_path": f"{__name__}.FailAtStart"}])
    lines: list[str] = []
    with pytest.raises(UserError, match="the data went away"):
        run_sweep(plan, log=lines.append)
    assert lines[0].startswith("2 of 2 runs to train")
    assert not plan.out.exists()
