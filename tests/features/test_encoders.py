"""load_encoder: every kind of source becomes a frozen (B, C, H, W) -> (B, D) module."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch

from autoenc.core.errors import CheckpointError, UserError
from autoenc.data import ImageArrays
from autoenc.features import FrozenEncoder, extract_features, load_encoder


def _images(n=6, shape=(1, 8, 8), seed=0):
    return torch.rand((n, *shape), generator=torch.Generator().manual_seed(seed))


def test_checkpoint_run_dir_and_export_give_the_models_codes(trained_model, trained_ckpt, export_dir, tmp_path):
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    shutil.copy(trained_ckpt, run / "checkpoints" / "last.ckpt")
    x = _images()
    with torch.inference_mode():
        expected = trained_model.encode(x)
    for source in (trained_ckpt, run, export_dir, trained_model):
        enc = load_encoder(source)
        assert isinstance(enc, FrozenEncoder) and enc.input_shape == (1, 8, 8)
        assert not enc.training and not any(p.requires_grad for p in enc.parameters())
        enc.train()  # stays frozen
        assert not enc.training
        with torch.inference_mode():
            torch.testing.assert_close(enc(x), expected)
        assert enc.sha256 == load_encoder(trained_ckpt).sha256


def test_wrapping_a_model_does_not_freeze_the_callers_model(trained_model):
    trained_model.train()
    load_encoder(trained_model)
    assert trained_model.training and all(p.requires_grad for p in trained_model.parameters())
    trained_model.eval()


def test_vae_encoder_returns_the_posterior_mean():
    from autoenc.models import VariationalAutoencoder

    torch.manual_seed(0)
    vae = VariationalAutoencoder((1, 8, 8), latent_dim=3, encoder="mlp", net_options={"hidden": [16]}).eval()
    x = _images()
    with torch.inference_mode():
        torch.testing.assert_close(load_encoder(vae)(x), vae.posterior(x)[0])


def test_not_an_encoder_source(tmp_path):
    with pytest.raises(CheckpointError, match="neither an existing checkpoint.*torchvision:<model>"):
        load_encoder(tmp_path / "missing.ckpt")
    (tmp_path / "junk.ckpt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        load_encoder(tmp_path / "junk.ckpt")


def test_torchvision_resnet18_pooled_features_grey_and_rgb():
    enc = load_encoder("torchvision:resnet18")
    assert enc.layer == "flatten" and enc.input_shape is None
    grey = _images(shape=(1, 16, 16))
    with torch.inference_mode():
        out = enc(grey)
        assert out.shape == (6, 512) and out.dtype == torch.float32
        torch.testing.assert_close(out, enc(grey.expand(-1, 3, -1, -1)))  # grey is repeated to RGB
    assert enc.output_dim((3, 32, 32)) == 512


def test_torchvision_normalises_with_imagenet_statistics():
    enc = load_encoder("torchvision:resnet18")
    x = torch.full((1, 3, 4, 4), 0.485)
    torch.testing.assert_close(enc.preprocess(x)[0, 0], torch.zeros(4, 4))
    resized = load_encoder("torchvision:resnet18", image_size=32)
    assert resized.preprocess(_images(1, (1, 8, 8))).shape == (1, 3, 32, 32)


def test_torchvision_any_node_pooled_or_flattened():
    x = _images(2, (3, 32, 32))
    with torch.inference_mode():
        assert load_encoder("torchvision:resnet18:layer3.1.relu_1")(x).shape == (2, 256)
        # layer3 of a 32x32 image is 256 x 2 x 2
        assert load_encoder("torchvision:resnet18:layer3.1.relu_1", pool="flatten")(x).shape == (2, 256 * 4)


def test_unknown_torchvision_model_and_node_list_close_names():
    with pytest.raises(UserError, match="unknown torchvision model 'resnet81'; close names: resnet18"):
        load_encoder("torchvision:resnet81")
    with pytest.raises(UserError, match="has no node 'layer4.1.relu2'; close names: layer4.1.relu, layer4.1.relu_1, .*get_graph_node_names"):
        load_encoder("torchvision:resnet18:layer4.1.relu2")


def test_weights_file_round_trip_and_mismatch(tmp_path):
    from torchvision.models import resnet18

    torch.manual_seed(3)
    reference = resnet18()
    torch.save(reference.state_dict(), tmp_path / "r18.pth")
    loaded = load_encoder("torchvision:resnet18", weights=tmp_path / "r18.pth")
    x = _images(2, (3, 32, 32))
    with torch.inference_mode():
        expected = torch.flatten(torch.nn.Sequential(*list(reference.eval().children())[:-1])(loaded.preprocess(x)), 1)
        torch.testing.assert_close(loaded(x), expected)
    assert loaded.sha256 == load_encoder("torchvision:resnet18", weights=tmp_path / "r18.pth").sha256
    assert loaded.sha256 != load_encoder("torchvision:resnet18").sha256  # another random init

    state = reference.state_dict()
    state["fc.weight"] = torch.zeros(10, 512)
    torch.save(state, tmp_path / "wrong_shape.pth")
    with pytest.raises(UserError, match=r"does not match torchvision resnet18: 1 of another shape \(e\.g\. fc\.weight: "
                                        r"\(10, 512\) in the file, \(1000, 512\) in the model\)"):
        load_encoder("torchvision:resnet18", weights=tmp_path / "wrong_shape.pth")
    torch.save({"conv.weight": torch.zeros(1)}, tmp_path / "other.pth")
    with pytest.raises(UserError, match=r"does not match torchvision resnet18: \d+ missing.*1 unexpected"):
        load_encoder("torchvision:resnet18", weights=tmp_path / "other.pth")
    with pytest.raises(UserError, match="does not exist"):
        load_encoder("torchvision:resnet18", weights=tmp_path / "nope.pth")
    with pytest.raises(UserError, match="has no weights 'IMAGENET9K'; known: IMAGENET1K_V1, DEFAULT"):
        load_encoder("torchvision:resnet18", weights="IMAGENET9K")


def test_torchvision_options_are_refused_for_autoenc_encoders(trained_ckpt):
    with pytest.raises(UserError, match="only applies to torchvision encoders"):
        load_encoder(trained_ckpt, image_size=32)


def test_images_a_network_cannot_take(tmp_path):
    enc = load_encoder("torchvision:squeezenet1_0")
    with pytest.raises(UserError, match=r"cannot take images \(1, 8, 8\).*resize"):
        enc.output_dim((1, 8, 8))
    with pytest.raises(UserError, match=r"takes grey or RGB images.*\(4, 8, 8\)"):
        extract_features("torchvision:resnet18", ImageArrays(torch.zeros((3, 4, 8, 8), dtype=torch.uint8)),
                         tmp_path / "c")
    assert list(tmp_path.iterdir()) == []


def test_resnet18_runs_through_the_cache_path_on_small_images(tmp_path, digits_dm):
    enc = load_encoder("torchvision:resnet18")
    cache = extract_features(enc, digits_dm, tmp_path / "r18", split="val", batch_size=128, progress=False)
    assert cache.features.shape == (len(digits_dm.arrays("val")), 512)
    assert cache.meta["encoder"]["layer"] == "flatten" and cache.meta["encoder_source"] == "torchvision:resnet18:flatten"
    with torch.inference_mode():
        first = enc(digits_dm.arrays("val").images[:5].float() / 255).numpy()
    np.testing.assert_allclose(cache.features[:5], first, rtol=1e-4, atol=1e-5)


def test_random_torchvision_weights_are_seeded_and_described():
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    a, b = load_encoder("torchvision:resnet18"), load_encoder("torchvision:resnet18", seed=0)
    assert a.sha256 == b.sha256 and a.weights == "random (seed 0)"
    assert torch.equal(torch.random.get_rng_state(), before)  # the caller's RNG is untouched
    other = load_encoder("torchvision:resnet18", seed=1)
    assert other.sha256 != a.sha256 and other.weights == "random (seed 1)"


def test_seed_only_applies_to_random_torchvision_weights(tmp_path, trained_ckpt):
    from torchvision.models import resnet18

    torch.save(resnet18().state_dict(), tmp_path / "r18.pth")
    with pytest.raises(UserError, match="seed only applies to random weights"):
        load_encoder("torchvision:resnet18", weights=tmp_path / "r18.pth", seed=1)
    assert load_encoder("torchvision:resnet18", weights=tmp_path / "r18.pth").weights == f"file {tmp_path / 'r18.pth'}"
    with pytest.raises(UserError, match="seed only applies to torchvision encoders"):
        load_encoder(trained_ckpt, seed=1)
    assert load_encoder(trained_ckpt).weights == "trained (autoenc)"


def test_weights_that_cannot_be_downloaded_say_where_to_put_the_file(tmp_path, monkeypatch):
    import urllib.error

    def offline(url, dst, *args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    expected = tmp_path / "torch" / "hub" / "checkpoints" / "resnet18-f37072fd.pth"
    with pytest.raises(UserError) as info:
        load_encoder("torchvision:resnet18", weights="DEFAULT")
    message = str(info.value)
    assert "\n" not in message
    assert "cannot download torchvision resnet18 weights ResNet18_Weights.IMAGENET1K_V1" in message
    assert "https://download.pytorch.org/models/resnet18-f37072fd.pth" in message
    assert "Temporary failure in name resolution" in message
    assert f"put that file at {expected}" in message


def test_weights_already_in_the_hub_cache_are_used_offline(tmp_path, monkeypatch):
    from torchvision.models import resnet18

    monkeypatch.setattr(torch.hub, "download_url_to_file", lambda *a, **k: pytest.fail("must not download"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    torch.manual_seed(5)
    reference = resnet18()
    cached = tmp_path / "torch" / "hub" / "checkpoints" / "resnet18-f37072fd.pth"
    cached.parent.mkdir(parents=True)
    torch.save(reference.state_dict(), cached)
    enc = load_encoder("torchvision:resnet18", weights="IMAGENET1K_V1")
    assert enc.weights == "ResNet18_Weights.IMAGENET1K_V1"
    assert torch.equal(enc.state_dict()["net.conv1.weight"], reference.conv1.weight)


def test_a_damaged_file_in_the_hub_cache_says_to_delete_it(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "download_url_to_file", lambda *a, **k: pytest.fail("must not download"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    cached = tmp_path / "torch" / "hub" / "checkpoints" / "resnet18-f37072fd.pth"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"half a download")
    with pytest.raises(UserError, match=f"cannot load torchvision resnet18 weights .* from {cached} .*delete that file"):
        load_encoder("torchvision:resnet18", weights="DEFAULT")
