"""Data-parallel training on CPU (gloo): two processes end with identical weights, having
trained on disjoint halves of each epoch's data."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).with_name("ddp_fit.py")


@pytest.mark.slow
def test_two_process_ddp_fit(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "OMP_NUM_THREADS": "1"}
    env.pop("LOCAL_RANK", None)
    proc = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path)], env=env, capture_output=True,
                          text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1)]
    assert [r["world_size"] for r in ranks] == [2, 2]

    # identical weights: DDP averaged the gradients of both ranks at every step
    state0, state1 = (r["state_dict"] for r in ranks)
    assert state0.keys() == state1.keys()
    for key in state0:
        torch.testing.assert_close(state0[key], state1[key], rtol=0, atol=0, msg=key)
    assert ranks[0]["global_step"] == ranks[1]["global_step"] > 0

    # ...and they really trained: the weights moved away from the seeded initialisation
    from autoenc.models import Autoencoder

    torch.manual_seed(0)
    init = Autoencoder((1, 8, 8), latent_dim=4, encoder="mlp", net_options={"hidden": [16]}).state_dict()
    assert any(not torch.equal(init[k], state0[k]) for k in init)

    # disjoint shards of the training split, the same number of items on each rank, per epoch
    train = set(ranks[0]["train"].tolist())
    assert ranks[0]["train"].tolist() == ranks[1]["train"].tolist()
    assert ranks[0]["seen"].keys() == ranks[1]["seen"].keys() == {0, 1}
    for epoch in (0, 1):
        a, b = (r["seen"][epoch].tolist() for r in ranks)
        assert len(a) == len(b) == len(train) // 2
        assert len(set(a)) == len(a) and len(set(b)) == len(b)
        assert not set(a) & set(b)
        assert set(a) | set(b) <= train
