"""One way to open a run: every command reads its checkpoint with one ``torch.load``
(``Run.open``; the run's recorded data options come from the same read)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from autoenc.cli.main import main


@pytest.mark.parametrize("command", [
    ["reconstruct", "--count", "4"],
    ["traverse", "--dims", "0"],
    ["latent-map"],
    ["id", "--estimators", "twonn", "--repeats", "0"],
    ["report"],
])
def test_a_command_loads_the_checkpoint_once(vae_run: Path, tmp_path: Path, command: list[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from autoenc.runs import checkpoints

    loads: list[str] = []
    real_load = torch.load

    def counting_load(f, *args, **kwargs):  # type: ignore[no-untyped-def]
        if str(f).endswith(".ckpt"):
            loads.append(str(f))
        return real_load(f, *args, **kwargs)

    monkeypatch.setattr(checkpoints, "_LAST_READ", None)  # nothing read before this command
    monkeypatch.setattr(torch, "load", counting_load)
    name, *options = command
    assert main([name, str(vae_run), *options, "--out", str(tmp_path / "out")]) == 0
    assert len(loads) == 1, loads
