"""GPU readiness (marked ``gpu``; skipped without CUDA): data held on the GPU and batched by
indexing, fused Adam on CUDA, channels-last conv weights, bf16 autocast with float32 loss
terms, compiled nets with CUDA graphs, pinned memory for streamed sources.
scripts/device_check.sh runs these on a GPU machine."""

from __future__ import annotations

import lightning as L
import pytest
import torch

from autoenc.models import VariationalAutoencoder

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]

CONV = {"encoder": "conv", "net_options": {"widths": [8, 16]}}


def _fit(tmp_path, model, max_steps: int = 6, **trainer):
    from autoenc.data import ImageDataModule

    dm = ImageDataModule("digits", subset=400, batch_size=64)
    t = L.Trainer(accelerator="cuda", devices=1, max_steps=max_steps, limit_val_batches=2, logger=False,
                  enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                  default_root_dir=tmp_path, **trainer)
    t.fit(model, dm)
    return t, dm


class _Where(L.Callback):
    """Where the model and its batches are while it trains (Lightning moves the model back to
    the CPU when fit ends)."""

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx) -> None:  # noqa: ANN001
        self.device = module.device.type
        self.batch_device = batch[0].device.type


def test_data_lives_on_the_gpu_and_training_is_finite(tmp_path) -> None:
    model = VariationalAutoencoder((1, 8, 8), 4, **CONV)
    where = _Where()
    trainer, dm = _fit(tmp_path, model, callbacks=[where])
    assert dm.data.images.device.type == "cuda"
    assert trainer.global_step == 6 and torch.isfinite(trainer.callback_metrics["val/loss"])
    assert (where.device, where.batch_device) == ("cuda", "cuda")


def test_default_optimizer_is_fused_adam_on_cuda() -> None:
    model = VariationalAutoencoder((1, 8, 8), 4, **CONV).cuda()
    assert model.configure_optimizers().defaults["fused"] is True


def test_channels_last_weights_on_cuda() -> None:
    model = VariationalAutoencoder((1, 8, 8), 4, **CONV).cuda()
    model.setup("fit")
    w = model.encoder.stage2[0][0].weight
    assert w.is_contiguous(memory_format=torch.channels_last) and not w.is_contiguous()
    assert torch.isfinite(model(torch.rand(8, 1, 8, 8, device="cuda")).loss)


def test_bf16_autocast_on_cuda_keeps_float32_loss_terms(tmp_path) -> None:
    model = VariationalAutoencoder((1, 8, 8), 4, **CONV).cuda()
    with torch.autocast("cuda", dtype=torch.bfloat16):
        out = model(torch.rand(16, 1, 8, 8, device="cuda"))
    assert out.loss.dtype == torch.float32 and all(v.dtype == torch.float32 for v in out.terms.values())
    trainer, _ = _fit(tmp_path, VariationalAutoencoder((1, 8, 8), 4, **CONV), precision="bf16-mixed")
    assert torch.isfinite(trainer.callback_metrics["val/loss"])


@pytest.mark.parametrize("mode", [True, "reduce-overhead"])
def test_compiled_nets_train_on_cuda(tmp_path, mode) -> None:
    model = VariationalAutoencoder((1, 8, 8), 4, compile=mode, **CONV)
    trainer, _ = _fit(tmp_path, model, max_steps=8)
    assert trainer.global_step == 8 and torch.isfinite(trainer.callback_metrics["val/loss"])
    assert model.encoder._compiled_call_impl is not None


def test_streamed_sources_use_pinned_memory() -> None:
    from autoenc.data import ImageDataModule

    dm = ImageDataModule("digits", subset=200, batch_size=32, memory_budget_gb=0, num_workers=0)
    loader = dm.train_dataloader()
    if dm.in_memory:
        pytest.skip("digits is not streamable: in memory whatever the budget")
    assert loader.pin_memory
