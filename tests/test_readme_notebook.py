"""The README's notebook section runs exactly as written (from a directory laid out like the
repository root), and the top-level API stays lazy."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def notebook_code() -> str:
    readme = (REPO / "README.md").read_text()
    section = readme.split("## In a notebook", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "README has no python block under '## In a notebook'"
    return match.group(1)


@pytest.mark.slow
def test_readme_notebook_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "configs").symlink_to(REPO / "configs")
    monkeypatch.chdir(tmp_path)
    exec(compile(notebook_code(), "README.md:notebook", "exec"), {"__name__": "__notebook__"})
    out = capsys.readouterr().out
    assert "Run('runs/notebook/version_0', VariationalAutoencoder, latent_dim=10, epoch=2, step=72)" in out
    assert "(270, 10)" in out
    for produced in ("look/reconstructions.png", "runs/notebook/version_0/report/report.md",
                     "exports/notebook/encoder.safetensors", "runs/notebook/version_0/checkpoints/last.ckpt"):
        assert (tmp_path / produced).is_file(), produced


def test_import_autoenc_is_lazy() -> None:
    code = "import sys, autoenc; assert 'torch' not in sys.modules; print(sorted(autoenc.__all__))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    for name in ("fit", "load", "load_model", "export_encoder", "extract_features", "estimate_id", "reconstruct",
                 "traverse", "sample", "interpolate", "report", "AutoencoderFeatures"):
        assert f"'{name}'" in out


def test_every_public_name_resolves() -> None:
    import autoenc

    for name in autoenc.__all__:
        assert getattr(autoenc, name) is not None, name
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        autoenc.nope  # noqa: B018
