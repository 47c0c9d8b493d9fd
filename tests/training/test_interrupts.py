"""Ctrl-C on a real `autoenc fit` process: exit 130, last.ckpt written, the resume line on
stderr, and the resumed run's first epoch timed from the resume (not from the machine's boot)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from _fit import CONFIGS

pytestmark = pytest.mark.slow

AUTOENC = Path(sys.executable).with_name("autoenc")
HERE = Path(__file__).resolve().parent
#: 256 digits, 85% for training in batches of 64: 4 steps an epoch.
TINY = ["-c", str(CONFIGS / "digits_ae.yaml"), "--data.subset", "256", "--model.init_args.net.init_args.hidden",
        "[16]", "--trainer.enable_progress_bar", "false"]


def run(*args: object, timeout: float = 240) -> tuple[int, str, str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]),
           "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([str(AUTOENC), *(str(a) for a in args)], env=env, capture_output=True, text=True,
                          timeout=timeout)
    return proc.returncode, proc.stdout, proc.stderr


def test_ctrl_c_exits_130_with_the_resume_line_and_the_resume_times_its_epoch(tmp_path: Path) -> None:
    args = [*TINY, "--runs_dir", tmp_path, "--name", "c", "--trainer.max_epochs", "3"]
    sigint = ["--trainer.callbacks+", "{class_path: _signals.SignalAt, init_args: {epoch: 1, batch: 2, "
              "signal_name: INT}}"]
    code, out, err = run("fit", *args, *sigint)
    last = tmp_path / "c" / "version_0" / "checkpoints" / "last.ckpt"
    assert code == 128 + signal.SIGINT, err
    assert "Traceback" not in err and "resume with --ckpt_path last" in err, err
    step = int(torch.load(last, map_location="cpu", weights_only=True)["global_step"])
    assert f"holds the state at step {step}" in err and 4 < step < 8  # inside the second epoch

    code, out, err = run("fit", *args, "--ckpt_path", "last")
    assert code == 0, err
    seconds = [float(s) for s in re.findall(r"epoch \d+/3 .*?([\d.]+) s$", out, flags=re.M)]
    assert len(seconds) == 2 and max(seconds) < 120, out  # the epochs it ran, each timed from its start
