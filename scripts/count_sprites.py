"""Count the distinct images of the procedural dSprites grid, at each image size.

    python scripts/count_sprites.py [--sizes 32 64] [--subset small]

For each size it renders every (shape, scale, orientation) mask at one position (the masks)
and every image of the chosen grid (``full``: all 737,280; ``small``: the 11,520 of
configs/sprites_*_small.yaml), and counts how many are distinct, bit for bit. Images are
compared by a 128-bit hash of their pixels (``autoenc.data.ground_truth.image_keys``) (two independent multiplicative hashes;
the chance of a false match among a million images is below 1e-25). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from autoenc.data.ground_truth import image_keys
from autoenc.data.sprites import FACTOR_SIZES, index_to_factors, num_images, render

SUBSETS = {
    "full": {},
    "small": {"orientations": list(range(0, 40, 4)), "pos_x": list(range(0, 32, 4)), "pos_y": list(range(0, 32, 4))},
}


def count(subsets: dict, size: int, chunk: int = 65_536) -> int:
    """Distinct images among every image of the grid restricted to ``subsets`` at ``size`` px."""
    renamed = {"orientation" if k == "orientations" else k: v for k, v in subsets.items()}
    total = num_images(renamed)
    keys = np.concatenate([image_keys(render(index_to_factors(torch.arange(lo, min(lo + chunk, total)), renamed), size))
                           for lo in range(0, total, chunk)])
    return int(len(np.unique(keys, axis=0)))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[32, 64])
    p.add_argument("--subset", choices=sorted(SUBSETS), nargs="+", default=["small", "full"])
    args = p.parse_args()
    out: dict = {}
    for size in args.sizes:
        start = time.perf_counter()
        masks = count({"pos_x": [0], "pos_y": [0]}, size)
        row = {"masks (shape x scale x orientation at position 0)": f"{masks} of {3 * 6 * 40}"}
        for name in args.subset:
            renamed = {"orientation" if k == "orientations" else k: v for k, v in SUBSETS[name].items()}
            row[f"images ({name} grid)"] = f"{count(SUBSETS[name], size)} of {num_images(renamed)}"
        row["seconds"] = round(time.perf_counter() - start, 1)
        out[f"{size} px"] = row
        print(json.dumps({f"{size} px": row}), flush=True)
    assert FACTOR_SIZES == (3, 6, 40, 32, 32)


if __name__ == "__main__":
    main()
