"""Training-speed levers and optimisers the Lightning way: fused Adam by default, LightningCLI's
``--optimizer`` / ``--lr_scheduler`` from the command line and YAML, old checkpoints that
still name an optimiser, channels-last conv weights during fit, compiled nets, bf16 autocast
with float32 loss terms. Behaviour only: nothing here measures time."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from _fit import CONFIGS, fit

from autoenc.models import Autoencoder, VariationalAutoencoder
from autoenc.models.autoencoder_module import align_optimizer_state, fast_adam, has_conv
from autoenc.runs.checkpoints import load_model

TINY = ["--data.subset", "200", "--model.init_args.net.init_args.hidden", "[32]", "--trainer.max_epochs", "2"]
CONV = {"encoder": "conv", "net_options": {"widths": [4, 8]}}


def _last(runs: Path, name: str = "digits_ae") -> dict:
    return torch.load(runs / name / "version_0" / "checkpoints" / "last.ckpt", weights_only=True)


def test_optimizer_and_lr_scheduler_from_the_command_line(tmp_path: Path) -> None:
    code = fit("-c", CONFIGS / "digits_ae.yaml", "--runs_dir", tmp_path, *TINY,
               "--optimizer", "AdamW", "--optimizer.lr", "1e-3", "--optimizer.weight_decay", "0.01",
               "--lr_scheduler", "CosineAnnealingLR", "--lr_scheduler.T_max", "10")
    assert code == 0
    ckpt = _last(tmp_path)
    group = ckpt["optimizer_states"][0]["param_groups"][0]
    assert group["weight_decay"] == pytest.approx(0.01)
    (sched,) = ckpt["lr_schedulers"]
    assert sched["T_max"] == 10 and sched["last_epoch"] == 2
    # cosine after 2 of 10 epochs: lr = 1e-3 * (1 + cos(pi * 2 / 10)) / 2
    assert group["lr"] == pytest.approx(1e-3 * (1 + math.cos(math.pi * 2 / 10)) / 2, rel=1e-6)
    config = (tmp_path / "digits_ae" / "version_0" / "config.yaml").read_text()
    assert "torch.optim.AdamW" in config and "CosineAnnealingLR" in config


def test_reduce_lr_on_plateau_from_yaml(tmp_path: Path) -> None:
    extra = tmp_path / "opt.yaml"
    extra.write_text("optimizer:\n  class_path: torch.optim.SGD\n  init_args: {lr: 0.01, momentum: 0.9}\n"
                     "lr_scheduler:\n  class_path: lightning.pytorch.cli.ReduceLROnPlateau\n"
                     "  init_args: {monitor: val/loss, patience: 3, factor: 0.5}\n")
    assert fit("-c", CONFIGS / "digits_ae.yaml", "-c", extra, "--runs_dir", tmp_path / "runs", *TINY) == 0
    ckpt = _last(tmp_path / "runs")
    group = ckpt["optimizer_states"][0]["param_groups"][0]
    assert group["momentum"] == pytest.approx(0.9) and group["lr"] == pytest.approx(0.01)
    (sched,) = ckpt["lr_schedulers"]
    assert sched["patience"] == 3 and sched["factor"] == 0.5


def test_default_optimizer_is_fused_adam_with_the_model_lr() -> None:
    model = Autoencoder((1, 8, 8), 4, encoder="mlp", net_options={"hidden": [16]}, lr=3e-3)
    opt = model.configure_optimizers()
    assert type(opt) is torch.optim.Adam
    assert opt.defaults["lr"] == 3e-3 and opt.defaults["fused"] is True


def test_fused_adam_makes_the_same_updates_as_plain_adam() -> None:
    torch.manual_seed(0)
    a = torch.nn.Linear(6, 5)
    b = torch.nn.Linear(6, 5)
    b.load_state_dict(a.state_dict())
    fused, plain = fast_adam(a.parameters(), lr=1e-2), torch.optim.Adam(b.parameters(), lr=1e-2)
    x = torch.randn(32, 6)
    for _ in range(5):
        for net, opt in ((a, fused), (b, plain)):
            opt.zero_grad()
            net(x).square().mean().backward()
            opt.step()
    torch.testing.assert_close(a.weight, b.weight, rtol=1e-5, atol=1e-6)
    assert not torch.equal(a.weight, torch.nn.Linear(6, 5).weight)


def test_fast_adam_falls_back_where_no_fused_kernel_exists(monkeypatch: pytest.MonkeyPatch) -> None:
    class NoFusedKernel(torch.optim.Adam):  # what torch does on a device without a fused kernel
        def __init__(self, params, fused=None, **kwargs):
            if fused:
                raise RuntimeError("`fused=True` requires all the params to be on a supported device")
            super().__init__(params, fused=fused, **kwargs)

    monkeypatch.setattr(torch.optim, "Adam", NoFusedKernel)
    opt = fast_adam([torch.nn.Parameter(torch.zeros(3))], lr=1e-3)
    assert isinstance(opt, NoFusedKernel) and not opt.defaults["fused"] and opt.defaults["lr"] == 1e-3


def test_old_checkpoint_with_an_optimizer_hparam_loads_and_resumes(tmp_path: Path) -> None:
    """Checkpoints written before the optimiser moved to LightningCLI still hold ``optimizer``
    and ``weight_decay`` among their hyperparameters: they load, and training resumes."""
    assert fit("-c", CONFIGS / "digits_vae.yaml", "--runs_dir", tmp_path / "a", *TINY[:4],
               "--trainer.max_epochs", "1") == 0
    ckpt = _last(tmp_path / "a", "digits_vae")
    ckpt["hyper_parameters"] |= {"optimizer": "adam", "weight_decay": 0.0}
    old = tmp_path / "old.ckpt"
    torch.save(ckpt, old)
    model = load_model(old)
    assert isinstance(model, VariationalAutoencoder)
    assert "optimizer" not in model.hparams and "weight_decay" not in model.hparams
    runs = tmp_path / "b"
    assert fit("-c", CONFIGS / "digits_vae.yaml", "--runs_dir", runs, *TINY[:4],
               "--trainer.max_epochs", "2", "--ckpt_path", old) == 0
    resumed = _last(runs, "digits_vae")
    assert resumed["epoch"] == 1 and resumed["global_step"] > ckpt["global_step"]
    assert "optimizer" not in resumed["hyper_parameters"]


def test_unknown_keyword_is_still_refused() -> None:
    with pytest.raises(TypeError, match="optimiser"):
        Autoencoder((1, 8, 8), 4, encoder="mlp", optimiser="adam")


def test_channels_last_during_fit_only(tmp_path: Path) -> None:
    model = Autoencoder((1, 8, 8), 4, **CONV)
    conv = model.encoder.stage2[0][0].weight  # (8, 4, 3, 3): the layouts differ
    model.setup("fit")
    assert conv.is_contiguous(memory_format=torch.channels_last) and not conv.is_contiguous()
    model.on_fit_end()
    assert conv.is_contiguous()
    off = Autoencoder((1, 8, 8), 4, channels_last=False, **CONV)
    off.setup("fit")
    assert off.encoder.stage2[0][0].weight.is_contiguous()
    assert has_conv(model) and not has_conv(Autoencoder((1, 8, 8), 4, encoder="mlp"))


def test_channels_last_does_not_change_the_loss() -> None:
    torch.manual_seed(1)
    a = Autoencoder((1, 8, 8), 4, **CONV)
    b = Autoencoder((1, 8, 8), 4, **CONV)
    b.load_state_dict(a.state_dict())
    b.setup("fit")
    x = torch.rand(16, 1, 8, 8)
    la, lb = a(x).loss, b(x).loss
    la.backward()
    lb.backward()
    torch.testing.assert_close(la, lb, rtol=1e-5, atol=1e-5)
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        torch.testing.assert_close(pa.grad, pb.grad, rtol=1e-4, atol=1e-5)


def test_fit_of_a_conv_model_leaves_contiguous_weights_and_a_loadable_checkpoint(tmp_path: Path) -> None:
    assert fit("-c", CONFIGS / "digits_ae.yaml", "--runs_dir", tmp_path, "--data.subset", "200",
               "--trainer.max_epochs", "1", "--model.init_args.net", "ConvNet",
               "--model.init_args.net.init_args.widths", "[4, 8]") == 0
    model = load_model(tmp_path / "digits_ae" / "version_0" / "checkpoints" / "last.ckpt")
    assert all(p.is_contiguous() for p in model.parameters())
    assert model(torch.rand(2, 1, 8, 8)).loss.isfinite()


def test_compile_wraps_the_nets_without_renaming_weights() -> None:
    model = Autoencoder((1, 8, 8), 4, encoder="mlp", net_options={"hidden": [16]}, compile=True)
    keys = list(model.state_dict())
    model.setup("fit")
    assert model.encoder._compiled_call_impl is not None and model.decoder._compiled_call_impl is not None
    assert list(model.state_dict()) == keys
    plain = Autoencoder((1, 8, 8), 4, encoder="mlp", net_options={"hidden": [16]})
    plain.setup("fit")
    assert plain.encoder._compiled_call_impl is None


def test_bf16_autocast_keeps_loss_terms_in_float32() -> None:
    model = VariationalAutoencoder((1, 8, 8), 4, **CONV)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = model(torch.rand(8, 1, 8, 8))
    assert out.loss.dtype == torch.float32 and out.kl_per_dim.dtype == torch.float32
    assert all(v.dtype == torch.float32 for v in out.terms.values())
    assert out.loss.isfinite()


def test_fit_in_bf16_mixed_precision_is_finite(tmp_path: Path) -> None:
    assert fit("-c", CONFIGS / "digits_vae.yaml", "--runs_dir", tmp_path, *TINY,
               "--trainer.precision", "bf16-mixed") == 0
    ckpt = _last(tmp_path, "digits_vae")
    assert all(t.dtype == torch.float32 and t.isfinite().all() for t in ckpt["state_dict"].values()
               if t.is_floating_point())
    assert ckpt["global_step"] > 0


def test_fused_adam_state_in_the_other_layout_gives_the_same_step() -> None:
    """A resumed conv run: channels-last weights, optimiser state loaded in the default
    layout (a checkpoint written with contiguous weights). Fused Adam on CPU reads memory in
    the parameter's order, so unaligned state gives wrong steps; aligned, the steps match."""
    torch.manual_seed(0)
    weights = torch.randn(8, 4, 3, 3)
    grads = [torch.randn(8, 4, 3, 3) for _ in range(3)]
    results = []
    for state_layout in (torch.channels_last, torch.contiguous_format):
        w = torch.nn.Parameter(weights.clone().contiguous(memory_format=torch.channels_last))
        opt = fast_adam([w], lr=1e-2)
        w.grad = grads[0].clone()
        opt.step()
        saved = opt.state_dict()
        for key in ("exp_avg", "exp_avg_sq"):
            saved["state"][0][key] = saved["state"][0][key].contiguous(memory_format=state_layout)
        opt = fast_adam([w], lr=1e-2)
        opt.load_state_dict(saved)
        align_optimizer_state(opt)  # what AutoencoderModule.on_train_start does after a resume
        assert opt.state[w]["exp_avg"].stride() == w.stride()
        for g in grads[1:]:
            w.grad = g.clone()
            opt.step()
        results.append(w.detach().clone())
    torch.testing.assert_close(results[0], results[1], rtol=0, atol=0)
