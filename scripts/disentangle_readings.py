"""Heat-map readings of the disentanglement study's seed-0 runs, quoted in docs/disentanglement.md.

    python scripts/disentangle_readings.py WORK   # WORK: the --work of bench_disentangle.py study

For each model: KL per latent on the validation images, the std of each posterior mean and
I(z_j; v_k) / H(v_k) on 10,000 codes drawn from all of the grid's images, which latents are
collapsed (KL < 0.01 nats), the largest I/H of a collapsed latent, and which collapsed latents
pass the FactorVAE score's activity threshold (std >= 0.05). Prints JSON lines; writes
WORK/readings.json.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import torch

from autoenc.data.ground_truth import ground_truth_of, whole_pool
from autoenc.measure.codes import encode_all, latent_stats
from autoenc.measure.disentanglement import mutual_info_matrix
from autoenc.measure.disentanglement.information import discrete_entropy
from autoenc.measure.disentanglement.interventional import draw_codes
from autoenc.runs.run import Run

CONFIGS = ("sprites_vae_small", "sprites_betavae_small", "sprites_tcvae_small")


def readings(run: Path) -> dict:
    opened = Run.open(run)
    model, dm = opened.model, opened.datamodule
    model.eval()
    gt = ground_truth_of(dm.source, dm.image_size, dm.channels)
    codes, factors, _ = draw_codes(lambda x: encode_all(model, x, 512).double().numpy(), whole_pool(gt), 10_000,
                                   np.random.default_rng(0))
    nmi = mutual_info_matrix(codes, factors) / discrete_entropy(factors)[None]
    kl = latent_stats(model, dm.arrays("val").images, 512).informativeness.tolist()
    std = codes.std(0, ddof=1)
    collapsed = [j for j, k in enumerate(kl) if k < 0.01]
    return {"factors": list(gt.factor_names), "kl_per_latent": [round(k, 4) for k in kl],
            "std_of_mean": std.round(4).tolist(), "nmi": nmi.round(3).tolist(), "collapsed": collapsed,
            "max_nmi_collapsed": float(nmi[collapsed].max()) if collapsed else None,
            "collapsed_passing_factor_vae_threshold": [j for j in collapsed if std[j] >= 0.05],
            "best_nmi_per_factor": dict(zip(gt.factor_names, nmi.max(0).round(3).tolist(), strict=True))}


def main() -> None:
    torch.set_num_threads(1)
    work = Path(sys.argv[1])
    out = {}
    for config in CONFIGS:
        out[config] = readings(work / "runs" / f"{config}_seed0" / "version_0")
        print(config, json.dumps({k: v for k, v in out[config].items() if k != "nmi"}), flush=True)
    (work / "readings.json").write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
