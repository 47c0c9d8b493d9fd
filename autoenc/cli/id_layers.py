"""``autoenc id PATH --layers all|a,b --out DIR``: the TwoNN intrinsic dimension of each layer
of a run or a torchvision model (:func:`autoenc.workflows.layer_ids.id_by_layer`),
written as ``id_layers.json`` and ``id_layers.png``.

    autoenc id runs/digits_ae/version_0 --layers all --out id/ae
    autoenc id torchvision:resnet18 --layers all --data.source digits --data.image_size 32 --out id/r18
    autoenc id torchvision:resnet18 --layers conv1,layer1,layer4 --data.source cifar10 --out id/r18
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from autoenc.core.errors import UserError

JSON_NAME, PLOT_NAME = "id_layers.json", "id_layers.png"
#: Images measured when --max_points is not given: every layer's outputs are held at once.
DEFAULT_POINTS = 2000


def layer_profile(path: Path | None, *, layers: str, out: Path, data: Any, split: str, weights: str | None,
                  resize: int | None, repeats: int, fraction: float, seed: int, max_points: int | None,
                  device: str | None) -> int:
    """Measure, write and print the profile (see the module docstring)."""
    from autoenc.core.atomic import staged_files
    from autoenc.render.layer_profile_plots import plot_layer_profile
    from autoenc.workflows.layer_ids import id_by_layer

    if path is None:
        raise UserError("--layers needs a run, a checkpoint or torchvision:<model> as PATH")
    source = str(path)
    torchvision = source.startswith("torchvision:")
    if not torchvision and (weights is not None or resize is not None):
        raise UserError("--weights and --resize only apply to torchvision:<model>; drop them")
    if torchvision:
        if data is None:
            raise UserError(f"{source} needs the images to measure: add e.g. --data.source digits "
                            "--data.image_size 32")
        model: Any = source
        images = data.arrays(split).images
    else:
        from autoenc.runs.run import open_with_data

        opened, dm = open_with_data(path, data, num_workers=0)
        model, images = opened.model, dm.arrays(split).images
    profile = id_by_layer(model, images, layers, weights=weights, image_size=resize,
                          max_points=DEFAULT_POINTS if max_points is None else max_points,
                          repeats=repeats, fraction=fraction, seed=seed, device=device)
    payload = {"input": source, "split": split, "estimator": "twonn", "n": profile[0].id.n,
               "layers": [layer.to_dict() for layer in profile]}
    with staged_files(out) as stage:
        (stage / JSON_NAME).write_text(json.dumps(payload, indent=2, allow_nan=False) + "\n")
        fig = plot_layer_profile(profile, title=f"{source}: TwoNN ID by layer (N = {profile[0].id.n})")
        fig.savefig(stage / PLOT_NAME, dpi=120)
    width = max(len(layer.layer) for layer in profile)
    print(f"{source}, {split} split: TwoNN ID by layer (N = {profile[0].id.n})")
    for layer in profile:
        spread = "" if layer.id.spread is None else f" ± {layer.id.spread:.2f}"
        print(f"  {layer.layer:<{width}}  ID {layer.id.value:6.2f}{spread:<8}  width {layer.width}")
    print(f"wrote {JSON_NAME} and {PLOT_NAME} to {out}")
    return 0
