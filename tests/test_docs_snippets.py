"""What README.md and docs/*.md show works in a fresh interpreter: every ```python block runs
(in document order, from a directory laid out like the repository root, each in a new
process), and every dotted ``autoenc.x.y`` name they mention resolves after ``import autoenc``."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def python_blocks() -> list[tuple[str, str]]:
    """(``file:line``, code) of every ```python block, in document order."""
    blocks = []
    for doc in DOCS:
        text = doc.read_text()
        for match in re.finditer(r"^```python\n(.*?)^```", text, re.S | re.M):
            line = text.count("\n", 0, match.start()) + 1
            blocks.append((f"{doc.relative_to(REPO)}:{line}", match.group(1)))
    return blocks


def dotted_names() -> list[str]:
    """``autoenc.a.b`` names in the docs' code spans, braces expanded (``x.{a, b}`` -> x.a, x.b)."""
    names = set()
    for doc in DOCS:
        for span in re.findall(r"`([^`\n]+)`", doc.read_text()):
            for match in re.finditer(r"\b(autoenc(?:\.\w+)+)(?:\.\{([\w, ]+)\})?", span):
                base, braces = match.groups()
                names.update(f"{base}.{n.strip()}" for n in braces.split(",")) if braces else names.add(base)
    return sorted(names)


#: Put before each block: every autoenc.fit the docs show trains a small version of itself
#: (1000 images, one epoch), so the test checks that the code runs, not how well it trains.
TINY_FIT = """\
import autoenc as _autoenc
_documented_fit = _autoenc.fit
def _tiny_fit(config, **overrides):
    return _documented_fit(config, **{**overrides, "data.subset": 1000, "trainer.max_epochs": 1})
_autoenc.fit = _tiny_fit
del _autoenc
"""


def fresh(code: str, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


def test_documented_dotted_names_resolve_after_import_autoenc(tmp_path: Path) -> None:
    names = dotted_names()
    assert "autoenc.features.AutoencoderFeatures" in names and "autoenc.measure.disentanglement.mig" in names
    code = ("import functools, sys, autoenc\n"
            "assert 'torch' not in sys.modules, 'import autoenc imported torch'\n"
            f"for name in {names!r}:\n"
            "    try:\n"
            "        functools.reduce(getattr, name.split('.')[1:], autoenc)\n"
            "    except AttributeError as err:\n"
            "        print(f'{name}: {err}')\n")
    proc = fresh(code, tmp_path)
    assert proc.returncode == 0 and proc.stdout == "", proc.stdout + proc.stderr


@pytest.mark.slow
def test_every_python_block_runs_in_a_fresh_interpreter(tmp_path: Path) -> None:
    (tmp_path / "configs").symlink_to(REPO / "configs")
    # the run the README's "Reuse" block opens, as its `autoenc fit -c configs/digits_vae.yaml` makes it (smaller)
    proc = fresh(TINY_FIT + "import autoenc\nautoenc.fit('configs/digits_vae.yaml')\n", tmp_path)
    assert proc.returncode == 0, proc.stderr
    blocks = python_blocks()
    assert len(blocks) >= 2
    for where, code in blocks:
        proc = fresh(TINY_FIT + code, tmp_path)
        assert proc.returncode == 0, f"{where} failed:\n{proc.stderr[-3000:]}"
