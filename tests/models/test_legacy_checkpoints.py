"""Checkpoints written before one class per objective (tests/fixtures/*_2026_12.ckpt, made by
tests/fixtures/make_vae_checkpoints.py with the code of that day) load into today's classes
with the same outputs (to float32 rounding); :func:`upgrade_hparams` is the one mapping from old hyperparameters."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from autoenc.core.errors import UserError
from autoenc.models import BetaTCVAE, CapacityVAE, VariationalAutoencoder
from autoenc.models.autoencoder_module import upgrade_hparams
from autoenc.runs.checkpoints import load_model, read_checkpoint

FIXTURES = Path(__file__).parents[1] / "fixtures"
EXPECTED = json.loads((FIXTURES / "vae_checkpoints_outputs.json").read_text())
KINDS = {"vae_beta_2026_12": VariationalAutoencoder, "vae_capacity_2026_12": CapacityVAE,
         "vae_tc_2026_12": BetaTCVAE}


def probe() -> torch.Tensor:
    """The fixed images of make_vae_checkpoints.py."""
    return (torch.arange(4 * 64, dtype=torch.float32).reshape(4, 1, 8, 8) * 0.37).remainder(1.0)


def as_tensor(values: list) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float32)


@pytest.mark.parametrize("stem", sorted(KINDS))
def test_old_checkpoint_loads_into_its_class_with_identical_outputs(stem: str, monkeypatch: pytest.MonkeyPatch) -> None:
    model = load_model(FIXTURES / f"{stem}.ckpt")
    assert type(model) is KINDS[stem]
    # the outputs were recorded after the one training step (the capacity follows the step)
    step = read_checkpoint(FIXTURES / f"{stem}.ckpt")["global_step"]
    monkeypatch.setattr(KINDS[stem], "global_step", property(lambda self: step))
    expected = EXPECTED[stem]
    x = probe()
    with torch.no_grad():
        mu, logvar = model.posterior(x)
        torch.manual_seed(0)
        out = model(x)
    # the same weights and the same arithmetic; float32 kernels may round the last bit differently
    # from one CPU to another (1 ulp measured between two machines), so "identical" is float32's default
    # closeness (rtol 1.3e-6), far below what a wrong mapping of an old hyperparameter would change
    torch.testing.assert_close(mu, as_tensor(expected["mu"]))
    torch.testing.assert_close(logvar, as_tensor(expected["logvar"]))
    torch.testing.assert_close(model.decode(mu), as_tensor(expected["decoded"]))
    for term in ("recon", "kl", "neg_elbo", "capacity"):
        if f"term_{term}" in expected:
            assert float(out.terms[term]) == pytest.approx(expected[f"term_{term}"], rel=1e-5), term
    if type(model) is BetaTCVAE:
        # the TC estimate is the corrected MSS now (the old one put 1/N in the wrong column);
        # the objective around it is the same
        assert float(out.terms["tc"]) != pytest.approx(expected["term_tc"], rel=1e-5)
        hp = model.hparams
        torch.testing.assert_close(out.loss, out.terms["recon"] + hp.beta * (out.terms["kl"] - out.terms["tc"])
                                   + hp.tc_beta * out.terms["tc"])
    else:
        assert float(out.loss) == pytest.approx(expected["loss"], rel=1e-5)


def test_read_checkpoint_upgrades_the_model_name_and_class_path() -> None:
    ckpt = read_checkpoint(FIXTURES / "vae_tc_2026_12.ckpt")
    assert ckpt["autoenc"]["model"] == "tcvae"
    assert ckpt["hyper_parameters"]["_class_path"] == "autoenc.models.vae.BetaTCVAE"
    assert "capacity_max" not in ckpt["hyper_parameters"]
    net = ckpt["hyper_parameters"]["net"]
    assert net["class_path"] == "autoenc.nets.MLPNet" and net["init_args"]["hidden"] == [8]
    assert not {"encoder", "decoder", "net_options"} & set(ckpt["hyper_parameters"])


def test_upgrade_hparams_maps_each_old_objective_and_leaves_todays_alone() -> None:
    base = {"input_shape": [1, 8, 8], "latent_dim": 3, "optimizer": "adam", "weight_decay": 0.0}
    old = {"capacity_max": None, "capacity_steps": 100_000, "gamma": 1000.0, "tc_beta": None,
           "tc_estimator": "mss", "tc_dataset_size": None}
    assert upgrade_hparams("vae", base | old | {"beta": 4.0}) == ("vae", {"input_shape": [1, 8, 8], "latent_dim": 3,
                                                                          "beta": 4.0})
    name, hp = upgrade_hparams("vae", base | old | {"beta": 2.0, "capacity_max": 25.0, "gamma": 500.0})
    assert name == "capacity_vae" and hp["beta"] == 500.0 and hp["capacity_max"] == 25.0
    assert hp["capacity_steps"] == 100_000 and "gamma" not in hp
    name, hp = upgrade_hparams("vae", base | old | {"beta": 2.0, "tc_beta": 6.0, "tc_estimator": "mws"})
    assert name == "tcvae" and (hp["beta"], hp["tc_beta"], hp["tc_estimator"]) == (2.0, 6.0, "mws")
    today = {"input_shape": [1, 8, 8], "beta": 1000.0, "capacity_max": 25.0, "capacity_steps": 10}
    assert upgrade_hparams("capacity_vae", today) == ("capacity_vae", today)
    assert upgrade_hparams("ae", {"latent_dim": 3}) == ("ae", {"latent_dim": 3})


def test_constructors_drop_what_old_checkpoints_recorded_and_point_to_the_new_class() -> None:
    """LightningCLI passes a resumed checkpoint's arguments to the class as they were recorded."""
    mlp = {"encoder": "mlp", "net_options": {"hidden": [4]}}
    old_plain = {"capacity_max": None, "gamma": 1000.0, "tc_beta": None, "tc_estimator": "mss", "optimizer": "adam"}
    model = VariationalAutoencoder((1, 8, 8), 3, beta=4.0, **mlp, **old_plain)
    assert not set(old_plain) & set(model.hparams)
    with pytest.raises(UserError, match=r"VariationalAutoencoder does not take tc_beta: .* make a BetaTCVAE "
                                        r"\(use class_path BetaTCVAE\)"):
        VariationalAutoencoder((1, 8, 8), 3, tc_beta=6.0, **mlp)
    with pytest.raises(UserError, match=r"make a CapacityVAE \(use class_path CapacityVAE\)"):
        VariationalAutoencoder((1, 8, 8), 3, capacity_max=25.0, **mlp)
    with pytest.raises(TypeError, match=r"unexpected keyword arguments \['gamma'\]"):
        CapacityVAE((1, 8, 8), 3, gamma=1000.0, **mlp)
    with pytest.raises(TypeError, match=r"unexpected keyword arguments \['gamma', 'tc_estimator'\]"):
        VariationalAutoencoder((1, 8, 8), 3, gamma=500.0, tc_estimator="mws", **mlp)  # would be ignored


def test_a_pre_split_tc_run_resumes_as_a_beta_tcvae(tmp_path: Path) -> None:
    """LightningCLI rebuilds a resumed model from the hyperparameters the file recorded: a
    checkpoint of the pre-split ``vae`` with ``tc_beta`` continues as a BetaTCVAE."""
    from autoenc.cli.main import main

    config = Path(__file__).parents[2] / "configs" / "sprites_tcvae_small.yaml"
    args = ["fit", "-c", str(config), "--runs_dir", str(tmp_path / "runs"), "--data.subset", "64",
            "--model.init_args.net.hidden", "[8]", "--trainer.enable_progress_bar", "false",
            "--trainer.enable_model_summary", "false"]
    assert main([*args, "--trainer.max_epochs", "1"]) == 0
    ckpt = torch.load(next((tmp_path / "runs").rglob("last.ckpt")), weights_only=True)
    ckpt["autoenc"]["model"] = "vae"  # as the pre-split code wrote it
    ckpt["hyper_parameters"] |= {"capacity_max": None, "capacity_steps": 100_000, "gamma": 1000.0,
                                 "_class_path": "autoenc.models.vae.VariationalAutoencoder"}
    old = tmp_path / "old.ckpt"
    torch.save(ckpt, old)
    assert main([*args, "--runs_dir", str(tmp_path / "resumed"), "--trainer.max_epochs", "2",
                 "--ckpt_path", str(old)]) == 0
    resumed = torch.load(next((tmp_path / "resumed").rglob("last.ckpt")), weights_only=True)
    assert resumed["autoenc"]["model"] == "tcvae" and resumed["epoch"] == 1
    assert resumed["hyper_parameters"]["_class_path"] == "autoenc.models.vae.BetaTCVAE"
    assert resumed["hyper_parameters"]["tc_beta"] == 6.0 and "gamma" not in resumed["hyper_parameters"]
