"""What only real processes show: concurrent fits, a kill -9 mid-epoch and its resume, SIGTERM,
and multi-process (DDP, gloo) training through the `autoenc` command, resumed too."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from _fit import CONFIGS, column, fit, read_metrics

pytestmark = pytest.mark.slow

AUTOENC = Path(sys.executable).with_name("autoenc")
HERE = Path(__file__).resolve().parent
#: 256 digits, 85% for training in batches of 64: 4 steps an epoch.
TINY = ["-c", str(CONFIGS / "digits_ae.yaml"), "--data.subset", "256", "--model.init_args.net.init_args.hidden",
        "[16]", "--trainer.log_every_n_steps", "1", "--trainer.enable_progress_bar", "false"]


def autoenc(*args: object, **kwargs) -> subprocess.Popen:
    # HERE for _signals; the caller's PYTHONPATH kept (a checkout's own autoenc, not an installed one)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]),
           "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([str(AUTOENC), *(str(a) for a in args)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kwargs)


def finish(proc: subprocess.Popen, timeout: float = 240) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def epoch_and_step(path: Path) -> tuple[int, int]:
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    return int(ckpt["epoch"]), int(ckpt["global_step"])


def signal_at(epoch: int, batch: int, name: str) -> list[str]:
    return ["--trainer.callbacks+", f"{{class_path: _signals.SignalAt, init_args: {{epoch: {epoch}, batch: {batch}, "
            f"signal_name: {name}}}}}"]


def test_concurrent_fits_get_their_own_versions(tmp_path: Path) -> None:
    procs = [autoenc("fit", *TINY, "--runs_dir", tmp_path, "--name", "same", "--trainer.max_epochs", "1")
             for _ in range(3)]
    results = [finish(p) for p in procs]
    assert [code for code, _, _ in results] == [0, 0, 0], [err for _, _, err in results]
    runs = sorted((tmp_path / "same").iterdir())
    assert [r.name for r in runs] == ["version_0", "version_1", "version_2"]
    for run in runs:
        assert epoch_and_step(run / "checkpoints" / "last.ckpt") == (0, 4)
        assert len(column(read_metrics(run), "val/loss")) == 1  # each metrics.csv holds one run


def test_resume_after_kill_9_matches_an_uninterrupted_run(tmp_path: Path) -> None:
    args = [*TINY, "--runs_dir", tmp_path, "--name", "k", "--trainer.max_epochs", "4"]
    code, _, err = finish(autoenc("fit", *args, *signal_at(2, 2, "KILL")))
    assert code == -9, err
    run = tmp_path / "k" / "version_0"
    assert epoch_and_step(run / "checkpoints" / "last.ckpt") == (1, 8)  # the last completed epoch

    code, out, err = finish(autoenc("fit", *args, "--ckpt_path", "last"))
    assert code == 0, err
    assert f"resuming run {run} at step 8" in out
    assert sorted(p.name for p in (tmp_path / "k").iterdir()) == ["version_0"]

    assert fit(*TINY, "--runs_dir", tmp_path, "--name", "whole", "--trainer.max_epochs", "4") == 0
    whole = tmp_path / "whole" / "version_0"
    assert epoch_and_step(run / "checkpoints" / "last.ckpt") == epoch_and_step(whole / "checkpoints" / "last.ckpt")
    resumed, uninterrupted = read_metrics(run), read_metrics(whole)
    assert [int(r["epoch"]) for r in resumed if r["val/loss"]] == [0, 1, 2, 3]
    assert len(column(resumed, "train/loss")) == len(column(uninterrupted, "train/loss")) == 16


def test_sigterm_writes_last_checkpoint_and_says_how_to_resume(tmp_path: Path) -> None:
    args = [*TINY, "--runs_dir", tmp_path, "--name", "t", "--trainer.max_epochs", "3"]
    code, _, err = finish(autoenc("fit", *args, *signal_at(1, 2, "TERM")))
    last = tmp_path / "t" / "version_0" / "checkpoints" / "last.ckpt"
    assert code == 143, err
    assert epoch_and_step(last) == (1, 7)  # mid-epoch: Lightning finishes the batch the signal came in
    assert "Traceback" not in err and "resume with --ckpt_path last" in err


def test_ddp_through_the_command_line_and_its_resume(tmp_path: Path) -> None:
    ddp = ["--trainer.accelerator", "cpu", "--trainer.devices", "2", "--trainer.strategy", "ddp"]
    args = [*TINY, "--runs_dir", tmp_path, "--name", "d", *ddp]
    code, out, err = finish(autoenc("fit", *args, "--trainer.max_epochs", "1"), timeout=300)
    assert code == 0, err
    run = tmp_path / "d" / "version_0"
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == ["version_0"]
    assert epoch_and_step(run / "checkpoints" / "last.ckpt") == (0, 2)  # 2 ranks share each epoch
    assert (run / "reconstructions" / "epoch_0000.png").is_file()

    code, out, err = finish(autoenc("fit", *args, "--trainer.max_epochs", "2", "--ckpt_path", "last"), timeout=300)
    assert code == 0, err
    assert f"resuming run {run} at step 2" in out
    assert epoch_and_step(run / "checkpoints" / "last.ckpt") == (1, 4)
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == ["version_0"]
