"""Codes come only from ``model.encode``: export, load_encoder, feature extraction and the
scikit-learn transformer over flat, spatial and sparse TopK codes (and every registered model)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from _code_kinds import KINDS, SHAPE, digits, make_kind

from autoenc.core.errors import CheckpointError
from autoenc.data.source import ImageArrays
from autoenc.features import extract_features, load_encoder
from autoenc.features.transformer import AutoencoderFeatures
from autoenc.runs.checkpoints import (
    METADATA_HASH,
    export_encoder,
    load_exported_encoder,
    metadata_sha256,
)

ALL_KINDS = [*KINDS, "spatial_vae"]


def test_a_topk_code_is_not_a_slice_of_the_encoder_net() -> None:
    """The case the old `net(x)[:, :latent_dim]` export got silently wrong."""
    model, x = make_kind("topk"), digits(16)
    with torch.no_grad():
        assert not torch.equal(model.encoder(x)[:, : model.latent_dim], model.encode(x))


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_an_exported_encoder_reproduces_model_encode_exactly(kind: str, tmp_path) -> None:
    model, x = make_kind(kind), digits(16)
    export_encoder(model, tmp_path / "enc")
    exported = load_exported_encoder(tmp_path / "enc")
    with torch.no_grad():
        expected, got = model.encode(x), exported(x)
    assert got.shape == (16, *model.latent_shape)  # shape kept
    assert torch.equal(got, expected)
    meta = json.loads((tmp_path / "enc" / "encoder.json").read_text())
    assert tuple(meta["latent_shape"]) == tuple(model.latent_shape)
    assert meta["head"] == model.code_head().spec()


def test_an_export_with_an_unknown_head_is_refused_in_one_line(tmp_path) -> None:
    export_encoder(make_kind("topk"), tmp_path / "enc")
    meta_file = tmp_path / "enc" / "encoder.json"
    meta = json.loads(meta_file.read_text())
    meta["head"] = {"name": "sparsest", "options": {}}
    meta[METADATA_HASH] = metadata_sha256(meta)  # a consistent edit: the head itself is refused
    meta_file.write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match=r"unknown code head .sparsest.") as err:
        load_exported_encoder(tmp_path / "enc")
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_load_encoder_gives_model_encode_flattened_or_pooled(kind: str, tmp_path) -> None:
    model, x = make_kind(kind), digits(16)
    with torch.no_grad():
        z = model.encode(x)
    export_encoder(model, tmp_path / "enc")
    for source in (model, str(tmp_path / "enc")):
        torch.testing.assert_close(load_encoder(source)(x), z.flatten(1), rtol=1e-5, atol=1e-6)
        pooled = load_encoder(source, pool="avg")(x)
        # avg: one number per channel for a spatial code; a flat code is the same either way
        expected = z.flatten(2).mean(2) if z.ndim > 2 else z
        torch.testing.assert_close(pooled, expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("kind", KINDS)
def test_transformer_output_equals_model_encode(kind: str) -> None:
    model, x = make_kind(kind), digits(32)
    features = AutoencoderFeatures(encoder=model, image_shape=SHAPE).fit(x.flatten(1).numpy())
    with torch.no_grad():
        expected = model.encode(x).flatten(1).numpy()
    # equal up to float32 rounding: a conv net's kernels may round differently on another memory layout
    np.testing.assert_allclose(features.transform(x.flatten(1).numpy()), expected, rtol=1e-5, atol=1e-6)
    assert features.get_feature_names_out().shape == (expected.shape[1],)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("pool", ["flatten", "avg"])
def test_feature_cache_holds_model_encode(kind: str, pool: str, tmp_path) -> None:
    model = make_kind(kind)
    images = (digits(40) * 255).round().to(torch.uint8)
    arrays = ImageArrays(images, torch.arange(40) % 10, description={"source": "digits-test"})
    cache = extract_features(load_encoder(model, pool=pool), arrays, tmp_path / "cache", batch_size=7)
    with torch.no_grad():
        z = model.encode(images.float() / 255)
    expected = z.flatten(2).mean(2) if (pool == "avg" and z.ndim > 2) else z.flatten(1)
    np.testing.assert_allclose(np.asarray(cache.features), expected.numpy(), rtol=1e-6, atol=1e-6)
    assert cache.meta["encoder"]["pool"] == pool
