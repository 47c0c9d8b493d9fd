"""ID layer by layer (id_by_layer, `autoenc id PATH --layers`): a trained digits autoencoder's
profile dips at the code; torchvision node names; one-line errors for unknown layers."""

from __future__ import annotations

import json
import warnings

import pytest
import torch

from autoenc.cli.main import main
from autoenc.core.errors import UserError
from autoenc.measure.intrinsic_dim.layer_profile import LayerID, id_by_layer, resolve_layers
from autoenc.workflows.layer_ids import id_by_layer as id_by_layer_of


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    """(checkpoint, validation images) of an mlp autoencoder (8-d code) trained 15 epochs on digits."""
    import lightning as L

    from autoenc.data import ImageDataModule
    from autoenc.models import Autoencoder

    dm = ImageDataModule("digits", batch_size=128, val_fraction=0.3, seed=0, num_workers=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        L.seed_everything(0, verbose=False)
        model = Autoencoder(dm.input_shape, latent_dim=8, encoder="mlp", net_options={"hidden": [64]}, lr=3e-3)
        trainer = L.Trainer(accelerator="cpu", devices=1, logger=False, enable_checkpointing=False,
                            enable_progress_bar=False, enable_model_summary=False, max_epochs=15,
                            num_sanity_val_steps=0, limit_val_batches=0)
        trainer.fit(model, dm)
        path = tmp_path_factory.mktemp("run") / "ae.ckpt"
        trainer.save_checkpoint(path)
    return path, dm.arrays("val").images


def test_autoencoder_profile_dips_at_the_code(digits_run):
    path, images = digits_run
    profile = id_by_layer_of(str(path), images, repeats=4)  # a run path, opened by the workflow
    names = [layer.layer for layer in profile]
    assert names[0] == "input" and names[-1] == "recon" and "code" in names
    k = names.index("code")
    assert all(n.startswith("encoder.") for n in names[1:k]) and all(n.startswith("decoder.") for n in names[k + 1:-1])
    assert profile[k].width == 8 and profile[0].width == 64 and profile[0].shape == (1, 8, 8)
    ids = [layer.id.value for layer in profile]
    code = profile[k].id
    # the encoder descends to the code: below the input and every encoder stage
    assert code.value < ids[0] - 1.5
    assert all(code.value < v for v in ids[1:k])
    # a function of the code cannot have a higher dimension: the decoder stays at or below it
    assert all(v <= code.value + 2 * code.spread + 0.5 for v in ids[k + 1:])
    assert all(isinstance(layer, LayerID) and layer.id.spread is not None for layer in profile)


def test_any_module_by_node_names():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.Flatten(),
                              torch.nn.Linear(256, 3))
    images = torch.rand(300, 1, 8, 8)
    profile = id_by_layer(net, images, ["input", "1", "3"], repeats=0)
    assert [(p.layer, p.width) for p in profile] == [("input", 64), ("1", 256), ("3", 3)]
    assert profile[0].id.value > profile[2].id.value
    assert [p.layer for p in id_by_layer(net, images, "all", repeats=0, max_points=100)] == ["input", "0", "1", "3"]


def test_unknown_layer_lists_valid_names():
    with pytest.raises(UserError, match=r"no layer named 'nope'; valid names: input, code"):
        resolve_layers("code,nope", ["input", "code"], ["input", "code", "encoder.fc1"])
    with pytest.raises(UserError, match="no layers given"):
        resolve_layers(" , ", ["input"], ["input"])


def test_cli_run_and_torchvision(digits_run, tmp_path, capsys):
    path, _ = digits_run
    assert main(["id", str(path), "--layers", "all", "--out", str(tmp_path / "ae"), "--repeats", "3"]) == 0
    payload = json.loads((tmp_path / "ae" / "id_layers.json").read_text())
    assert [la["layer"] for la in payload["layers"]][0] == "input" and (tmp_path / "ae" / "id_layers.png").is_file()
    assert payload["estimator"] == "twonn" and all(la["width"] >= 1 for la in payload["layers"])
    code = main(["id", "torchvision:resnet18", "--layers", "conv1,layer1,layer4.1.relu_1", "--data.source", "digits",
                 "--data.image_size", "32", "--out", str(tmp_path / "r18"), "--repeats", "0", "--max_points", "120"])
    out = capsys.readouterr().out
    assert code == 0 and "layer4.1.relu_1" in out
    widths = {la["layer"]: la["width"] for la in json.loads((tmp_path / "r18" / "id_layers.json").read_text())["layers"]}
    assert widths == {"conv1": 64 * 16 * 16, "layer1": 64 * 8 * 8, "layer4.1.relu_1": 512}


@pytest.mark.parametrize("argv, match", [
    (["--layers", "encoder.nope"], "no layer named 'encoder.nope'; valid names: input, code, recon, encoder."),
    (["--layers", "all", "--weights", "IMAGENET1K_V1"], "only apply to torchvision"),
])
def test_cli_bad_layers_one_line(digits_run, tmp_path, capsys, argv, match):
    path, _ = digits_run
    code = main(["id", str(path), "--out", str(tmp_path / "out"), *argv])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and match in err, err
    assert not (tmp_path / "out").exists()


def test_cli_torchvision_needs_data(tmp_path, capsys):
    code = main(["id", "torchvision:resnet18", "--layers", "all", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and "needs the images to measure" in err and not (tmp_path / "o").exists()
