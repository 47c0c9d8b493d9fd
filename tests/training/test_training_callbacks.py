"""The non-finite-loss guard on its own: which message, which step, and agreement across
data-parallel ranks (a fake trainer stands in for Lightning's)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from autoenc.core.errors import NonFiniteLossError
from autoenc.training.callbacks import LastCheckpoint, NonFiniteLossGuard


class FakeStrategy:
    def __init__(self, others_stop: bool) -> None:
        self.others_stop = others_stop
        self.calls: list[tuple[bool, bool]] = []

    def reduce_boolean_decision(self, decision: bool, all: bool = True) -> bool:
        self.calls.append((decision, all))
        return decision or self.others_stop


def trainer(world_size: int = 1, others_stop: bool = False, last: str = "") -> SimpleNamespace:
    saver = LastCheckpoint()
    saver.best_model_path = last  # what Lightning records after writing last.ckpt
    return SimpleNamespace(world_size=world_size, global_step=7, current_epoch=2, strategy=FakeStrategy(others_stop),
                           checkpoint_callbacks=[saver])


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_loss_raises_with_step_and_checkpoint(value: float) -> None:
    with pytest.raises(NonFiniteLossError, match=rf"loss became {value} at step 7 \(epoch 2\); the last good "
                                                 r"checkpoint is /r/last\.ckpt; lower the learning rate"):
        NonFiniteLossGuard().on_before_backward(trainer(last="/r/last.ckpt"), None, torch.tensor(value))


def test_finite_loss_passes_and_no_checkpoint_is_said() -> None:
    NonFiniteLossGuard().on_before_backward(trainer(), None, torch.tensor(3.5))
    with pytest.raises(NonFiniteLossError, match="no checkpoint was written yet"):
        NonFiniteLossGuard().on_before_backward(trainer(), None, torch.tensor(float("nan")))


def test_ranks_stop_together() -> None:
    healthy = trainer(world_size=2, others_stop=True)
    with pytest.raises(NonFiniteLossError, match=r"loss became non-finite in another process at step 7"):
        NonFiniteLossGuard().on_before_backward(healthy, None, torch.tensor(1.0))
    assert healthy.strategy.calls == [(False, False)]  # "any rank", not "all ranks"
    calm = trainer(world_size=2, others_stop=False)
    NonFiniteLossGuard().on_before_backward(calm, None, torch.tensor(1.0))
