"""The guide (docs/guide.md) cannot drift from the code: its script runs every section's
commands and Python at a tiny size here, and the committed page is its template filled with
the values the CPU-scale run stored."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[1]
PAGE = REPO / "docs" / "guide.md"
PICTURES = REPO / "docs" / "guide"


def guide_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("guide_script", REPO / "scripts" / "guide.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def pictures_of(page: str) -> list[str]:
    return re.findall(r"!\[[^\]]*\]\(([^)]+)\)", page)


@pytest.mark.slow
def test_every_section_runs_at_a_tiny_size(tmp_path: Path) -> None:
    guide = guide_script()
    page = tmp_path / "docs" / "guide.md"
    values = guide.run_guide(guide.TINY, tmp_path / "work", tmp_path / "docs" / "guide", page, log=lambda _: None)
    text = page.read_text()
    assert "$" not in text.replace("$ ", ""), "a template field was left unfilled"
    for name, _ in guide.SECTIONS:
        assert f"cost_{name}" in values, name
    for command in guide.COMMANDS:  # each command the guide shows ran, as shown
        assert re.search(guide.command_pattern(command, guide.TINY), text), command
    pictures = pictures_of(text)
    assert len(pictures) >= 5
    for picture in pictures:
        assert (page.parent / picture).stat().st_size > 1000, picture
    assert re.search(r"torch \d", values["machine"]) and "cores" in values["machine"]
    stored = json.loads((tmp_path / "docs" / "guide" / "values.json").read_text())
    assert stored["sweep_choice"] in [int(d) for d in guide.TINY.dims.split(",")]


def test_committed_page_is_the_template_filled() -> None:
    guide = guide_script()
    values = json.loads((PICTURES / "values.json").read_text())
    assert values["scale"] == "cpu", "the committed page must come from the CPU-scale run"
    values["_out"] = str(PICTURES)
    assert guide.page_text(values, PAGE.parent) == PAGE.read_text(), \
        "docs/guide.md is not its template filled: run scripts/guide.py --render"


def test_committed_page_shows_the_scripts_commands() -> None:
    guide = guide_script()
    text = PAGE.read_text()
    for command in guide.COMMANDS:
        assert re.search(guide.command_pattern(command, guide.CPU), text), command
    for picture in pictures_of(text):
        assert (PAGE.parent / picture).is_file(), picture


def test_readme_opens_with_the_two_commands_and_points_to_the_guide() -> None:
    readme = (REPO / "README.md").read_text()
    head = readme[: readme.index("\n## ", readme.index("make test"))]
    assert head.index("make demo") < head.index("make test") < head.index("docs/guide.md")
    assert re.search(r"^guide:", (REPO / "Makefile").read_text(), re.M)
