"""The report gives the total correlation with the batch size it was estimated at."""

from __future__ import annotations

import torch

from autoenc.measure.codes import latent_stats
from autoenc.measure.summary import evaluate_terms, summarize
from autoenc.models import BetaTCVAE
from autoenc.render.report_page import render_markdown


def test_report_states_the_tc_batch_size() -> None:
    torch.manual_seed(0)
    model = BetaTCVAE((1, 8, 8), latent_dim=3, tc_dataset_size=500, encoder="mlp", net_options={"hidden": [4]}).eval()
    images = torch.rand(40, 1, 8, 8)
    terms = evaluate_terms(model, images, batch_size=20)
    assert terms["tc_batch_size"] == 20
    summary = summarize(model, images, latent_stats(model, images), "random", "x.ckpt", batch_size=20)
    text = render_markdown(summary, "run", [])
    assert f"tc {summary.terms['tc']:.2f} (estimated on batches of 20 images, mean)" in text
    assert "tc_batch_size" not in text
