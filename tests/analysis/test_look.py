"""Looking inside the bottleneck: latents, reconstructions, traversals, samples, interpolations,
latent maps and run summaries, on tiny models trained here on 8 x 8 digits (plain torch loop)."""

from __future__ import annotations

import copy
import functools

import numpy as np
import pytest
import torch

from autoenc.core.errors import UserError
from autoenc.data import Digits
from autoenc.measure.codes import (
    active_units,
    check_dims,
    encode_all,
    latent_stats,
    unit_activity,
)
from autoenc.measure.generate import fit_gaussian, interpolate, lerp, sample, slerp
from autoenc.measure.latent_map import PROJECTIONS, colour_by, latent_map
from autoenc.measure.reconstruction import choose_indices, reconstruct
from autoenc.measure.summary import evaluate_terms, read_training_curve, summarize
from autoenc.measure.traversal import traversal_values, traverse, traverse_code
from autoenc.models import Autoencoder, VariationalAutoencoder
from autoenc.render.report_page import render_markdown

LATENT = 4


# -- tiny trained models (shared with test_look_plots.py) ---------------------------------------
@functools.lru_cache(maxsize=1)
def digit_images() -> torch.Tensor:
    """(1797, 1, 8, 8) uint8 digits."""
    return Digits().load(None, None).images


@functools.lru_cache(maxsize=4)
def trained(kind: str, latent_dim: int = LATENT, steps: int = 300):
    """A small mlp AE or VAE fitted to the digits for ``steps`` Adam steps (about a second
    on one thread)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _train(kind, latent_dim, steps)
    finally:
        torch.set_num_threads(threads)


def _train(kind: str, latent_dim: int, steps: int):
    torch.manual_seed(0)
    cls = {"vae": VariationalAutoencoder, "ae": Autoencoder}[kind]
    model = cls((1, 8, 8), latent_dim=latent_dim, encoder="mlp", net_options={"hidden": [64]}, lr=3e-3)
    x = digit_images().float() / 255
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    g = torch.Generator().manual_seed(0)
    for _ in range(steps):
        batch = x[torch.randint(0, len(x), (128,), generator=g)]
        loss = model(batch).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval()


def linears(module: torch.nn.Module) -> list[torch.nn.Linear]:
    return [m for m in module.modules() if isinstance(m, torch.nn.Linear)]


def kill_dimension(model: VariationalAutoencoder, dim: int) -> VariationalAutoencoder:
    """A copy whose dimension ``dim`` is unused: posterior = prior N(0, 1) for every input
    (KL exactly 0) and the decoder ignores it."""
    dead = copy.deepcopy(model)
    with torch.no_grad():
        head = linears(dead.encoder)[-1]
        for row in (dim, model.latent_dim + dim):  # mu_d = 0, logvar_d = 0
            head.weight[row] = 0
            head.bias[row] = 0
        linears(dead.decoder)[0].weight[:, dim] = 0
    return dead


@pytest.fixture(scope="session")
def vae():
    return trained("vae")


@pytest.fixture(scope="session")
def ae():
    return trained("ae")


@pytest.fixture(scope="session")
def images():
    return digit_images()[:400]


# -- latents ---------------------------------------------------------------------------------------
def test_latent_stats_measure_kl_for_a_vae_and_variance_for_an_ae(vae, ae, images):
    s = latent_stats(vae, images, batch_size=64)
    assert s.measure == "KL" and s.unit == "nats" and s.variational
    torch.testing.assert_close(s.informativeness, vae.kl_per_dim(images.float() / 255).detach(), rtol=1e-4, atol=1e-5)
    a = latent_stats(ae, images)
    assert a.measure == "var" and not a.variational and a.logvar is None
    torch.testing.assert_close(a.informativeness, encode_all(ae, images).var(0), rtol=1e-4, atol=1e-6)
    assert a.order.tolist() == torch.argsort(a.informativeness, descending=True).tolist()


def test_batching_does_not_change_codes(vae, images):
    torch.testing.assert_close(encode_all(vae, images, batch_size=7), encode_all(vae, images, batch_size=1000))


def test_active_units_exclude_a_dead_dimension(vae, images):
    dead = kill_dimension(vae, 2)
    activity = unit_activity(dead, images)
    assert activity[2] == 0
    assert active_units(dead, images, threshold=0.0) == LATENT - 1
    assert active_units(dead, images) == int((activity > 0.01).sum())
    assert active_units(dead, images) <= active_units(vae, images)
    assert latent_stats(dead, images).informativeness[2] == pytest.approx(0.0, abs=1e-7)


def test_active_units_threshold_is_burda_cov_of_the_posterior_mean(vae, images):
    var = encode_all(vae, images).double().var(0)
    for threshold in (0.0, 0.01, float(var.median())):
        assert active_units(vae, images, threshold) == int((var > threshold).sum())
    with pytest.raises(UserError, match="threshold must be >= 0"):
        active_units(vae, images, -1.0)


# -- reconstructions ---------------------------------------------------------------------------------
def test_reconstruction_terms_are_the_models_nll_per_image(ae, images):
    rec = reconstruct(ae, images[:10], torch.arange(10), batch_size=3)
    assert rec.originals.shape == rec.recons.shape == (10, 1, 8, 8) and rec.nll.shape == (10,)
    x = images[:10].float() / 255
    with torch.no_grad():
        expected = ae.reconstruction_nll(ae.decode_logits(ae.encode(x)), x)
    torch.testing.assert_close(rec.nll, expected)
    assert bool((rec.nll > 0).all())
    torch.testing.assert_close(reconstruct(ae, x).nll, rec.nll)  # float input == uint8 input


def test_choose_indices_checks_range_and_is_seeded():
    assert choose_indices(10, [3, 9]).tolist() == [3, 9]
    with pytest.raises(UserError, match=r"image index 10 is out of range: the split has 10 images, so use 0..9"):
        choose_indices(10, [1, 10])
    a, b = choose_indices(100, count=5, seed=1), choose_indices(100, count=5, seed=1)
    assert a.tolist() == b.tolist() and len(set(a.tolist())) == 5
    assert choose_indices(100, count=5, seed=2).tolist() != a.tolist()
    assert choose_indices(3, count=50).tolist() == [0, 1, 2]


def test_images_of_another_shape_are_refused_naming_both(ae):
    with pytest.raises(UserError, match=r"images are \(1, 16, 16\) but the model takes \(1, 8, 8\)"):
        reconstruct(ae, torch.zeros(2, 1, 16, 16, dtype=torch.uint8))


# -- traversals ---------------------------------------------------------------------------------------
def test_traversal_shapes_values_and_order(vae, images):
    stats = latent_stats(vae, images)
    bases = torch.cat([stats.codes.mean(0, keepdim=True), stats.codes[:2]])
    t = traverse(vae, stats, bases, ["mean", "a", "b"], steps=5, sigma=2.0)
    assert t.images.shape == (3, LATENT, 5, 1, 8, 8)
    assert t.values.shape == (LATENT, 5)
    torch.testing.assert_close(t.values[:, 0], torch.full((LATENT,), -2.0))
    torch.testing.assert_close(t.values[:, -1], torch.full((LATENT,), 2.0))
    assert t.dims.tolist() == stats.order.tolist()
    assert t.informativeness.tolist() == sorted(t.informativeness.tolist(), reverse=True)
    assert t.row_labels()[0].startswith(f"z{t.dims[0].item()}  KL ")
    chosen = traverse(vae, stats, bases[0], dims=[3, 1], steps=2)
    assert chosen.images.shape == (1, 2, 2, 1, 8, 8) and set(chosen.dims.tolist()) == {1, 3}
    assert traverse(vae, stats, bases, top=1).images.shape[1] == 1


def test_traverse_code_changes_only_the_swept_dimension(vae):
    base = torch.zeros(LATENT)
    values = torch.tensor([[-1.0, 0.0, 1.0]])
    imgs = traverse_code(vae, base, [1], values)
    assert imgs.shape == (1, 3, 1, 8, 8)
    z = torch.zeros(3, LATENT)
    z[:, 1] = values[0]
    torch.testing.assert_close(imgs[0], vae.decode(z).detach())


def test_a_dead_vae_dimension_changes_the_image_less_than_a_high_kl_one(vae, images):
    dead = kill_dimension(vae, 0)
    stats = latent_stats(dead, images)
    t = traverse(dead, stats, stats.codes.mean(0), steps=7)
    assert t.dims[-1].item() == 0  # KL 0: shown last
    change = (t.images[0, :, -1] - t.images[0, :, 0]).abs().flatten(1).sum(1)  # per row, end vs start
    assert change[-1].item() == pytest.approx(0.0, abs=1e-6)
    assert change[0].item() > 1.0


def test_ae_traversal_stays_inside_the_empirical_range(ae, images):
    stats = latent_stats(ae, images)
    values, text = traversal_values(stats, [0, 1, 2, 3], steps=6, sigma=3.0)
    lo, hi = stats.codes.min(0).values, stats.codes.max(0).values
    assert bool((values >= lo[:, None] - 1e-6).all()) and bool((values <= hi[:, None] + 1e-6).all())
    q = torch.quantile(stats.codes.double(), torch.tensor([0.00135, 0.99865], dtype=torch.float64), dim=0)
    torch.testing.assert_close(values[:, 0].double(), q[0], atol=2e-3, rtol=0)
    assert "empirical quantiles" in text
    wide, _ = traversal_values(stats, [0], steps=2, sigma=50.0)  # beyond the data: clipped to min/max
    torch.testing.assert_close(wide[0], torch.stack([lo[0], hi[0]]))


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"dims": [LATENT]}, rf"latent dimension {LATENT} is out of range: the model has latent_dim {LATENT}, so use 0..{LATENT - 1}"),
    ({"steps": 1}, r"steps must be an integer >= 2"),
    ({"sigma": 0.0}, r"range must be > 0 standard deviations"),
    ({"dims": [1, 1]}, r"dims repeat a dimension"),
])
def test_traversal_refuses_bad_options(vae, images, kwargs, message):
    stats = latent_stats(vae, images[:50])
    with pytest.raises(UserError, match=message):
        traverse(vae, stats, stats.codes[:1], **kwargs)


def test_check_dims():
    assert check_dims(None, 3) is None and check_dims([2, 0], 3) == [2, 0]
    with pytest.raises(UserError, match="dims is empty"):
        check_dims([], 3)


# -- samples and interpolations -------------------------------------------------------------------
def test_same_seed_same_pixels(vae, ae, images):
    a, b = sample(vae, 6, seed=3), sample(vae, 6, seed=3)
    assert torch.equal(a.images, b.images) and a.source == "prior N(0, I)"
    assert not torch.equal(a.images, sample(vae, 6, seed=4).images)
    codes = encode_all(ae, images)
    s1, s2 = sample(ae, 5, 1, codes), sample(ae, 5, 1, codes)
    assert torch.equal(s1.images, s2.images) and "Gaussian fitted to the codes of 400 images" in s1.source


def test_ae_samples_follow_the_gaussian_fitted_to_its_codes(ae, images):
    codes = encode_all(ae, images)
    drawn = sample(ae, 20000, 0, codes).codes.double()
    torch.testing.assert_close(drawn.mean(0), codes.double().mean(0), atol=0.05 * codes.std(0).max().item(), rtol=0)
    torch.testing.assert_close(torch.cov(drawn.T), torch.cov(codes.double().T), atol=0.05 * codes.var(0).max().item(), rtol=0)
    with pytest.raises(UserError, match="has no prior; pass the codes"):
        sample(ae, 3)


def test_fit_gaussian_handles_a_singular_covariance():
    codes = torch.randn(100, 1).repeat(1, 3)  # rank 1
    mean, factor = fit_gaussian(codes)
    torch.testing.assert_close(factor @ factor.T, torch.cov(codes.double().T), atol=1e-9, rtol=1e-6)


def test_slerp_keeps_the_norm_and_hits_the_ends():
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(3, 8, generator=g), torch.randn(3, 8, generator=g)
    b = b / b.norm(dim=1, keepdim=True) * a.norm(dim=1, keepdim=True)
    t = torch.linspace(0, 1, 5)
    path = slerp(a, b, t)
    assert path.shape == (3, 5, 8)
    torch.testing.assert_close(path[:, 0], a)
    torch.testing.assert_close(path[:, -1], b)
    torch.testing.assert_close(path.norm(dim=2), a.norm(dim=1, keepdim=True).expand(3, 5))
    torch.testing.assert_close(lerp(a, b, t)[:, 2], (a + b) / 2)
    torch.testing.assert_close(slerp(a, a, t), lerp(a, a, t))  # parallel: linear


def test_interpolation_paths(vae, ae, images):
    i = interpolate(vae, images[:2], images[2:4], steps=4)
    assert i.method == "slerp" and i.images.shape == (2, 4, 1, 8, 8)
    assert interpolate(ae, images[:1], images[1:2], steps=3).method == "linear"
    za = encode_all(ae, images[:1])
    torch.testing.assert_close(interpolate(ae, images[:1], images[1:2], steps=3).images[0, 0], ae.decode(za)[0].detach())
    with pytest.raises(UserError, match="unknown interpolation 'cubic'"):
        interpolate(ae, images[:1], images[1:2], method="cubic")


# -- latent map ---------------------------------------------------------------------------------------
def test_pca_map_of_a_plane_explains_all_variance():
    g = torch.Generator().manual_seed(0)
    basis = torch.linalg.qr(torch.randn(6, 2, generator=g)).Q
    codes = torch.randn(300, 2, generator=g) * torch.tensor([3.0, 1.0]) @ basis.T
    m = latent_map(codes, method="pca")
    assert m.points.shape == (300, 2)
    assert m.axis_labels[0].startswith("PC1 (9") and "% of variance" in m.axis_labels[1]
    assert np.var(m.points[:, 0]) > np.var(m.points[:, 1])
    np.testing.assert_allclose(np.var(m.points, 0).sum(), codes.double().var(0, unbiased=False).sum().item(), rtol=1e-5)


def test_latent_map_colouring_and_subsampling():
    labels = colour_by(torch.tensor([0, 1, 2, 1]), ["zero", "one", "two"])
    assert labels.categorical and labels.class_names == ["zero", "one", "two"] and labels.name == "label"
    factors = torch.tensor([[0.0, 0.5], [1.0, 0.6], [2.0, 0.7], [0.0, 0.8]])
    by_scale = colour_by(factors, ["shape", "scale"], "scale")
    assert by_scale.name == "scale" and by_scale.values.tolist() == pytest.approx([0.5, 0.6, 0.7, 0.8])
    assert colour_by(factors, ["shape", "scale"]).name == "shape"
    positions = torch.stack([torch.zeros(8), torch.linspace(0, 1, 8)], 1)
    assert not colour_by(positions, ["shape", "pos_x"], "pos_x").categorical  # ordered: a colour map
    assert colour_by(positions, ["shape", "pos_x"], "shape").categorical
    with pytest.raises(UserError, match="unknown factor 'size' to colour by; choose one of shape, scale"):
        colour_by(factors, ["shape", "scale"], "size")
    with pytest.raises(UserError, match="has class labels only"):
        colour_by(torch.tensor([0, 1]), None, "shape")
    m = latent_map(torch.randn(50, 3), colour_by(torch.arange(50) % 3, None), max_points=20, seed=1)
    assert m.points.shape == (20, 2) and len(m.colouring.values) == 20
    torch.testing.assert_close(torch.from_numpy(m.colouring.values), (torch.from_numpy(m.indices) % 3))
    assert PROJECTIONS.list() == ["pca", "tsne"]


def test_tsne_map_runs_on_a_few_points():
    m = latent_map(torch.randn(40, 3), method="tsne")
    assert m.points.shape == (40, 2) and m.axis_labels == ["t-SNE 1", "t-SNE 2"]


# -- summary ----------------------------------------------------------------------------------------------
def test_evaluate_terms_match_the_forward_pass(vae, images):
    terms = evaluate_terms(vae, images[:64], seed=5, batch_size=64)
    torch.manual_seed(5)
    with torch.no_grad():
        out = vae(images[:64].float() / 255)
    assert set(terms) >= {"loss", "recon", "kl", "neg_elbo"}
    assert terms["kl"] == pytest.approx(out.terms["kl"].item(), rel=1e-5)
    assert terms["recon"] == pytest.approx(out.terms["recon"].item(), rel=1e-5)
    assert evaluate_terms(vae, images[:64], seed=5, batch_size=10)["kl"] == pytest.approx(terms["kl"], rel=1e-5)


def test_summary_and_markdown(vae, images, tmp_path):
    stats = latent_stats(vae, images)
    s = summarize(vae, images, stats, "digits, val, 400 images", "x.ckpt", 3, 40)
    assert s.latent_dim == LATENT and s.parameters == sum(p.numel() for p in vae.parameters())
    assert s.active_units == stats.active_units()
    md = render_markdown(s, "runs/x", ["traversal.png", "samples.png"], {"samples.png": "From the prior."})
    assert f"| latent size | {LATENT} |" in md and "active units" in md and "(epoch 3, step 40)" in md
    assert "![Latent traversals](traversal.png)" in md and "From the prior." in md and "latent_map.png" not in md


def test_read_training_curve(tmp_path):
    (tmp_path / "metrics.csv").write_text(
        "epoch,step,train/loss,val/loss\n0,9,30.5,\n0,19,28.0,\n0,19,,27.5\n1,39,26.0,\n1,39,,nan\n")
    curve = read_training_curve(tmp_path)
    assert curve.series["train/loss"][0].tolist() == [9, 19, 39]
    assert curve.series["val/loss"][1].tolist() == [27.5]  # nan skipped
    assert curve.last("train/loss") == 26.0 and curve.last("missing") is None
    assert read_training_curve(tmp_path / "nope") is None
