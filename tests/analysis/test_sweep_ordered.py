"""Ordered bottlenecks (nested dropout) and what a sweep measures: prefix reconstructions of one
ordered model, the geometric truncation, active units of a VAE with a dead dimension."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
import yaml

from autoenc.core.errors import UserError
from autoenc.data.module import ImageDataModule
from autoenc.measure.codes import active_units
from autoenc.models import Autoencoder, VariationalAutoencoder
from autoenc.models.autoencoder_module import keep_prefix
from autoenc.workflows.sweep import evaluate_model, make_plan, reconstruction_terms, run_sweep

CONFIG = {
    "name": "tiny_ordered", "seed_everything": 0,
    "data": {"source": "digits", "batch_size": 128, "val_fraction": 0.15},
    "model": {"class_path": "Autoencoder",
              "init_args": {"net": {"class_path": "MLPNet", "init_args": {"hidden": [64]}}, "lr": 0.005,
                            "nested_dropout_p": 0.2}},
    "trainer": {"max_epochs": 10, "log_every_n_steps": 5},
}


@pytest.fixture(scope="module")
def digits() -> ImageDataModule:
    dm = ImageDataModule("digits", val_fraction=0.15)
    dm.setup()
    return dm


def test_ordered_sweep_prefixes_improve_with_k(tmp_path: Path) -> None:
    config = tmp_path / "ordered.yaml"
    config.write_text(yaml.safe_dump(CONFIG))
    plan = make_plan(config, [1, 2, 4, 8], out=tmp_path / "s", ordered=True)
    result = run_sweep(plan, log=lambda s: None)
    assert [t.run.name for t in result.trained] == ["ordered_d8_s0"]  # ONE training
    assert {r["run"] for r in result.rows} == {"runs/ordered_d8_s0/version_0"}
    assert [(r["latent_dim"], r["trained_dim"], r["mode"]) for r in result.rows] == [
        (1, 8, "ordered"), (2, 8, "ordered"), (4, 8, "ordered"), (8, 8, "ordered")]
    recon = [r["recon"] for r in result.rows]
    assert all(a > b for a, b in zip(recon, recon[1:], strict=False)), recon
    assert recon[0] - recon[-1] > 2.0  # nats per image
    probe = [r["probe_accuracy"] for r in result.rows]
    assert probe[-1] > probe[0]
    assert (tmp_path / "s" / "sweep.png").is_file()


def test_nested_dropout_keeps_a_geometric_prefix() -> None:
    """Rippel et al. 2014: units 0..b kept, b ~ Geometric(p); P(at least n + 1 units) = (1 - p)^n."""
    torch.manual_seed(0)
    model = Autoencoder((1, 8, 8), latent_dim=6, encoder="mlp", net_options={"hidden": []},
                        nested_dropout=True, nested_dropout_p=0.3).train()
    z = model.truncate_code(torch.ones(200_000, 6))
    kept = z.sum(1)
    assert torch.equal(z, keep_prefix(torch.ones_like(z), kept))  # always a prefix, never a gap
    for n in range(1, 5):
        assert (kept >= n + 1).double().mean().item() == pytest.approx(0.7 ** n, abs=0.005)
    assert (kept == 6).double().mean().item() == pytest.approx(0.7 ** 5, abs=0.005)  # the clipped tail
    assert torch.equal(model.eval().truncate_code(torch.ones(3, 6)), torch.ones(3, 6))  # identity at eval


def test_keep_prefix_and_decode_prefix() -> None:
    z = torch.arange(1.0, 7.0).reshape(2, 3)
    assert keep_prefix(z, 2).tolist() == [[1, 2, 0], [4, 5, 0]]
    assert keep_prefix(z, torch.tensor([1, 3])).tolist() == [[1, 0, 0], [4, 5, 6]]
    assert keep_prefix(z, 0).abs().sum() == 0
    with pytest.raises(UserError, match="prefix size must be an integer >= 0"):
        keep_prefix(z, -1)
    model = Autoencoder((1, 8, 8), latent_dim=3, encoder="mlp", net_options={"hidden": [8]}).eval()
    assert torch.equal(model.decode_prefix(z, 2), model.decode(keep_prefix(z, 2)))


def _vae_with_dead_unit(dead: int) -> VariationalAutoencoder:
    """A 4-d VAE whose unit ``dead`` has the prior as posterior for every input (mu = 0,
    logvar = 0), the other units' means scaled up so they clearly vary."""
    torch.manual_seed(0)
    model = VariationalAutoencoder((1, 8, 8), latent_dim=4, encoder="mlp", net_options={"hidden": [32]}).eval()
    last = [m for m in model.encoder.modules() if isinstance(m, torch.nn.Linear)][-1]
    with torch.no_grad():
        last.weight[:4] *= 20.0
        for row in (dead, 4 + dead):  # mu rows first, then logvar rows
            last.weight[row] = 0.0
            last.bias[row] = 0.0
    return model


def test_active_units_exclude_a_dead_dimension(digits: ImageDataModule) -> None:
    val = digits.arrays("val")
    model = _vae_with_dead_unit(dead=1)
    metrics = evaluate_model(model, val.images, [1, 2, 3, 4], settings=_no_resampling())
    assert [m.active_units for m in metrics] == [1, 1, 2, 3]
    assert active_units(model, val.images) == 3  # the report's count agrees at full size
    for m in metrics:
        assert m.neg_elbo == pytest.approx(m.recon + m.kl)
    # the dead unit costs no KL: prefixes 1 and 2 pay the same
    assert metrics[1].kl == pytest.approx(metrics[0].kl, abs=1e-6)
    assert metrics[0].probe_accuracy is None  # no training split given: no probe


def test_vae_recon_is_the_elbo_term_with_seeded_samples(digits: ImageDataModule) -> None:
    images = digits.arrays("val").images[:64]
    model = _vae_with_dead_unit(dead=0)
    a = reconstruction_terms(model, images, [4], seed=1)
    b = reconstruction_terms(model, images, [4], seed=1)
    c = reconstruction_terms(model, images, [4], seed=2)
    assert a == b and a != c
    recon, kl = a[4]
    x = images.float() / 255.0
    mu, logvar = model.posterior(x)
    expected_kl = (0.5 * (mu.square() + logvar.exp() - 1 - logvar)).sum(1).mean().item()
    assert kl == pytest.approx(expected_kl, rel=1e-4)
    assert recon > 0


def test_evaluate_refuses_sizes_beyond_the_code(digits: ImageDataModule) -> None:
    model = Autoencoder((1, 8, 8), latent_dim=3, encoder="mlp", net_options={"hidden": [8]})
    with pytest.raises(UserError, match=r"code sizes must be in 1\.\.3"):
        evaluate_model(model, digits.arrays("val").images, [2, 4])


def test_probe_and_id_on_an_untrained_model(digits: ImageDataModule) -> None:
    val, train = digits.arrays("val"), digits.arrays("train")
    model = Autoencoder((1, 8, 8), latent_dim=4, encoder="mlp", net_options={"hidden": [16]})
    (m,) = evaluate_model(model, val.images, [4], val_targets=val.targets, train_images=train.images,
                          train_targets=train.targets, settings=_no_resampling())
    assert 0.1 < m.probe_accuracy <= 1.0  # random projections of digits still beat chance
    assert 1.0 < m.twonn < 6.0 and m.twonn_spread is None
    assert m.active_units is None and m.kl is None and m.n_val == len(val.images)
    assert math.isfinite(m.recon)


def _no_resampling():
    from autoenc.workflows.sweep import EvalSettings

    return EvalSettings(id_repeats=0)
