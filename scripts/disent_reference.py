"""Record the reference port's (``disent``) metric values on fixed inputs, for the tests.

    python3 -m venv /tmp/disentvenv && /tmp/disentvenv/bin/pip install disent
    /tmp/disentvenv/bin/python scripts/disent_reference.py [--out tests/fixtures/disent_reference.json]

Runs where ``disent`` is installed (it is not an autoenc dependency, and needs only numpy here:
autoenc is not imported). The inputs are made from seeded numpy generators by :func:`arrays`,
which tests/analysis/test_disentanglement_reference.py repeats; the fixture stores a sha256 of
the arrays so a test knows it recomputes the same inputs, the values disent returns, and the
versions of disent, numpy, scikit-learn and Python they came from. The tests compare autoenc's
metrics with the fixture, so they run in CI without disent.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
FIXTURE = REPO / "tests" / "fixtures" / "disent_reference.json"


def arrays(n: int, seed: int, sizes: tuple[int, ...] = (3, 6, 10), latents: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """codes (n, latents) float64 = z-scored factors mixed by a random matrix + noise; factors (n, K) int64."""
    rng = np.random.default_rng(seed)
    factors = np.stack([rng.integers(0, s, n) for s in sizes], axis=1)
    mix = rng.normal(size=(len(sizes), latents))
    codes = (factors - factors.mean(0)) / factors.std(0) @ mix + 0.5 * rng.normal(size=(n, latents))
    return codes, factors.astype(np.int64)


def digest(*parts: np.ndarray) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(np.ascontiguousarray(part).tobytes())
    return h.hexdigest()


#: The fixed inputs: name -> (n, seed, train rows).
CASES = {"mig_sap": (1200, 0, 800), "dci": (500, 0, 350), "dci_seed3": (600, 3, 400)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default=str(FIXTURE))
    args = p.parse_args()
    from importlib.metadata import version

    import disent
    import sklearn
    from disent.metrics import _dci, _mig, _sap

    out: dict = {"source": "disent (reference port of disentanglement_lib), run by scripts/disent_reference.py",
                 "versions": {"disent": version("disent"), "numpy": np.__version__, "scikit-learn": sklearn.__version__,
                              "python": platform.python_version()},
                 "cases": {}}
    del disent
    codes, factors = arrays(*CASES["mig_sap"][:2])
    split = CASES["mig_sap"][2]
    out["cases"]["mig_sap"] = {
        "n": CASES["mig_sap"][0], "seed": CASES["mig_sap"][1], "train": split, "sha256": digest(codes, factors),
        "mig": float(_mig._compute_mig(codes.T, factors.T)["mig.discrete_score"]),
        "sap_discrete": float(_sap._compute_sap(codes[:split].T, factors[:split].T, codes[split:].T,
                                                factors[split:].T, False)["sap.score"]),
    }
    for name in ("dci", "dci_seed3"):
        n, seed, split = CASES[name]
        codes, factors = arrays(n, seed)
        factors = factors[:, :2]
        found = _dci._compute_dci(codes[:split].T, factors[:split].T, codes[split:].T, factors[split:].T)
        out["cases"][name] = {"n": n, "seed": seed, "train": split, "factors_used": 2,
                              "sha256": digest(codes, factors),
                              **{k.removeprefix("dci."): float(v) for k, v in found.items()}}
    importance = np.abs(np.random.default_rng(7).normal(size=(6, 4))) * np.array([1, 3, 0.5, 2])
    out["importance"] = {"matrix": importance.tolist(),
                         "disentanglement": float(_dci._disentanglement(importance)),
                         "completeness": float(_dci._completeness(importance))}
    path = Path(args.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        json.dump(out, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)
    print(f"wrote {path} ({sys.executable})")


if __name__ == "__main__":
    main()
