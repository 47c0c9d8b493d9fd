"""Every look / measure tool over every kind of code: flat, spatial (C, h, w) and sparse TopK.

Tools work on flattened codes (N, D), D = C*h*w for a spatial code, and decode by reshaping to
``model.latent_shape``; a spatial model here is the test-only one of tests/_code_kinds.py."""

from __future__ import annotations

import math

import pytest
import torch
from _code_kinds import KINDS, SHAPE, digits, make_kind

from autoenc.core.errors import UserError
from autoenc.measure.codes import (
    active_units,
    code_size,
    encode_all,
    firing_rates,
    latent_stats,
    per_channel,
    unit_names,
)
from autoenc.measure.generate import interpolate, sample
from autoenc.measure.intrinsic_dim import estimate_all
from autoenc.measure.latent_map import latent_map
from autoenc.measure.reconstruction import reconstruct
from autoenc.measure.summary import summarize
from autoenc.measure.traversal import channel_units, traverse, traverse_channel

ALL_KINDS = [*KINDS, "spatial_vae"]


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_codes_are_model_encode_flattened(kind: str) -> None:
    model, x = make_kind(kind), digits(20)
    codes = encode_all(model, x, batch_size=7)
    with torch.no_grad():  # batches of 7 vs one of 20: conv kernels may differ in the last bits
        torch.testing.assert_close(codes, model.encode(x).flatten(1), rtol=1e-5, atol=1e-6)
    assert codes.shape == (20, code_size(model)) and code_size(model) == math.prod(model.latent_shape) == 8


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_reconstruct_interpolate_and_latent_map(kind: str) -> None:
    model, x = make_kind(kind), digits(12)
    rec = reconstruct(model, x)
    assert rec.recons.shape == x.shape
    path = interpolate(model, x[:3], x[3:6], steps=4)
    assert path.images.shape == (3, 4, *SHAPE)
    assert latent_map(encode_all(model, x)).points.shape == (12, 2)


@pytest.mark.parametrize("kind", KINDS)
def test_sample_without_a_prior_says_so_and_fits_a_gaussian_to_codes(kind: str) -> None:
    model, x = make_kind(kind), digits(30)
    with pytest.raises(UserError, match="has no prior") as err:
        sample(model, 4)
    assert "\n" not in str(err.value)
    assert sample(model, 4, codes=encode_all(model, x)).images.shape == (4, *SHAPE)


def test_a_spatial_vae_samples_from_its_prior() -> None:
    samples = sample(make_kind("spatial_vae"), 5, seed=3)
    assert samples.images.shape == (5, *SHAPE) and samples.source.startswith("prior")


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_traverse(kind: str) -> None:
    model, x = make_kind(kind), digits(40)
    stats = latent_stats(model, x)
    bases = stats.codes[:2]
    trav = traverse(model, stats, bases, steps=3)
    assert trav.images.shape == (2, len(trav.dims), 3, *SHAPE)
    if kind == "topk":  # the active units of the base images, nothing else
        assert set(trav.dims.tolist()) == set(torch.nonzero((bases != 0).any(0)).flatten().tolist())
        assert len(trav.dims) <= 2 * 3
    else:
        assert len(trav.dims) == 8


def test_spatial_traversal_moves_one_channel_at_every_position_or_one_location() -> None:
    model, x = make_kind("spatial"), digits(10)
    base = encode_all(model, x[:1])[0]
    values = torch.linspace(-2, 2, 5)
    assert channel_units((2, 2, 2), 1) == [4, 5, 6, 7]
    assert channel_units((2, 2, 2), 1, (1, 0)) == [6]
    everywhere = traverse_channel(model, base, 1, values)
    one = traverse_channel(model, base, 1, values, location=(1, 0))
    assert everywhere.shape == one.shape == (5, *SHAPE)
    assert not torch.equal(everywhere, one)


@pytest.mark.parametrize(("channel", "location", "match"), [
    (2, None, r"^channel 2 is out of range: the code has 2 channels, so use 0\.\.1$"),
    (0, (2, 0), r"^location \(2, 0\) is out of range: the code is 2 x 2"),
])
def test_channel_or_location_out_of_range_is_one_line(channel, location, match) -> None:
    with pytest.raises(UserError, match=match):
        traverse_channel(make_kind("spatial"), torch.zeros(8), channel, torch.zeros(2), location)


def test_channel_traversal_of_a_flat_code_is_refused() -> None:
    with pytest.raises(UserError, match=r"needs a spatial code \(C, h, w\)"):
        traverse_channel(make_kind("flat"), torch.zeros(8), 0, torch.zeros(2))


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_report_summary_active_units_and_intrinsic_dimension(kind: str) -> None:
    model, x = make_kind(kind), digits(64)
    stats = latent_stats(model, x)
    summary = summarize(model, x, stats, "digits", "none")
    assert summary.latent_dim == 8 and tuple(summary.latent_shape) == tuple(model.latent_shape)
    assert len(summary.informativeness) == 8
    assert (summary.firing_rates is not None) == (kind == "topk")
    if kind == "topk":  # at most k = 3 of 8 units per image: mean firing rate <= 3 / 8
        torch.testing.assert_close(torch.tensor(summary.firing_rates), firing_rates(stats.codes), atol=1e-4, rtol=0)
        assert sum(summary.firing_rates) <= 3 + 1e-6
    assert (summary.kl_per_channel is not None) == (kind == "spatial_vae")
    if kind == "spatial_vae":
        expected = per_channel(stats.informativeness, (2, 2, 2)).sum((1, 2))
        torch.testing.assert_close(torch.tensor(summary.kl_per_channel), expected, atol=1e-4, rtol=0)
    assert 0 <= active_units(model, x) <= 8
    (twonn,) = estimate_all(encode_all(model, x).double().numpy(), ["twonn"], repeats=0)
    assert 0 < twonn.value < 9


def test_unit_names_and_per_channel_maps() -> None:
    assert unit_names((3,)) == ["z0", "z1", "z2"]
    assert unit_names((2, 1, 2)) == ["c0@(0,0)", "c0@(0,1)", "c1@(0,0)", "c1@(0,1)"]
    assert per_channel(torch.arange(8.0), (2, 2, 2))[1, 1, 0] == 6
    with pytest.raises(UserError, match="do not fill a code of shape"):
        per_channel(torch.arange(7.0), (2, 2, 2))
