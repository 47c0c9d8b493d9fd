"""The one-page ``report.md`` of a run: the key numbers (:class:`~autoenc.measure.summary.RunSummary`)
as a table, then each figure under its heading."""

from __future__ import annotations

from autoenc.measure.codes import unit_names
from autoenc.measure.summary import RunSummary

#: Figures of a report, in page order: file name -> heading.
REPORT_FIGURES: dict[str, str] = {
    "training_curve.png": "Training curve",
    "reconstructions.png": "Reconstructions",
    "traversal.png": "Latent traversals",
    "traversal.gif": "Latent traversals, animated",
    "samples.png": "Samples",
    "interpolation.png": "Interpolations",
    "latent_map.png": "Latent map",
    "disentanglement_mi.png": "Disentanglement: mutual information with the ground-truth factors",
    "disentanglement_dci.png": "Disentanglement: DCI importance",
}


def _term(name: str, value: float, terms: dict[str, float]) -> str:
    """One loss term for the report; the total correlation says the batch size M it was
    estimated at (its minibatch estimate depends on M: autoenc.models.total_correlation)."""
    if name == "tc" and "tc_batch_size" in terms:
        return f"{name} {value:.2f} (estimated on batches of {terms['tc_batch_size']:.0f} images, mean)"
    return f"{name} {value:.2f}"


def render_markdown(summary: RunSummary, run_dir: str, figures: list[str], notes: dict[str, str] | None = None,
                    disentanglement: dict[str, float] | None = None) -> str:
    """``report.md``: the key numbers as a table, then each figure present in ``figures``
    (file names relative to the report) under its heading, with an optional note.
    ``disentanglement``: scores to list in the table (data with ground-truth factors)."""
    notes = notes or {}
    terms = ", ".join(_term(k, v, summary.terms) for k, v in summary.terms.items() if k != "tc_batch_size")
    rows = [
        ("model", summary.model),
        ("checkpoint", f"`{summary.checkpoint}`" + (f" (epoch {summary.epoch}, step {summary.step})"
                                                    if summary.epoch is not None else "")),
        ("input shape (C, H, W)", str(tuple(summary.input_shape))),
        ("latent size", str(summary.latent_dim) + (f" = {' x '.join(map(str, summary.latent_shape))} (C, h, w)"
                                                   if len(summary.latent_shape) == 3 else "")),
        ("parameters", f"{summary.parameters:,}"),
        ("data", summary.data),
        ("validation loss terms (nats/image)", terms),
    ]
    if summary.active_units is not None:
        rows.append((f"active units (Cov_x E[z \\| x] > {summary.active_threshold:g})",
                     f"{summary.active_units} of {summary.latent_dim}"))
    if summary.firing_rates is not None:
        rows.append(("firing rate per unit (fraction of images)",
                     ", ".join(f"z{i} {v:.3g}" for i, v in enumerate(summary.firing_rates))))
    if summary.kl_per_channel is not None:
        rows.append(("KL per channel (nats)", ", ".join(f"c{i} {v:.3g}" for i, v in enumerate(summary.kl_per_channel))))
    names = unit_names(tuple(summary.latent_shape) or (summary.latent_dim,))
    info = ", ".join(f"{names[i]} {v:.3g}" for i, v in enumerate(summary.informativeness))
    unit = " (nats)" if summary.variational else ""
    rows.append((f"{summary.measure} per dimension{unit}", info))
    if disentanglement:
        rows.append(("disentanglement", ", ".join(f"{k} {v:.3f}" for k, v in disentanglement.items())))
    lines = [f"# Run report: `{run_dir}`", "", "| | |", "| --- | --- |"]
    lines += [f"| {k} | {v} |" for k, v in rows]
    for name, heading in REPORT_FIGURES.items():
        if name in figures:
            lines += ["", f"## {heading}", ""]
            if name in notes:
                lines += [notes[name], ""]
            lines.append(f"![{heading}]({name})")
    return "\n".join(lines) + "\n"
