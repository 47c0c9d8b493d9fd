"""What a sweep will cost, said before it starts: runs to train and, from the config's
``# Cost:`` line (written by scripts/bench_configs.py), the time they add up to."""

from __future__ import annotations

import re
from pathlib import Path

from autoenc.workflows.sweep.plan import SweepPlan, run_state

__all__ = ["config_cost_seconds", "sweep_cost_line"]

_UNITS = {"s": 1, "min": 60, "h": 3600, "d": 86400}
_COST = re.compile(r"^#\s*Cost:\s*~\s*([\d.,]+)\s*(s|min|h|d)\b(?:\s+for\s+([\d,]+)\s+epochs)?", re.I | re.M)


def config_cost_seconds(config_path: Path, max_epochs: int | None = None) -> float | None:
    """Seconds of one run of the config by its ``# Cost: ~X unit for N epochs`` line, scaled to
    ``max_epochs`` when both are known; None without such a line."""
    try:
        text = Path(config_path).read_text(errors="replace")
    except OSError:
        return None
    match = _COST.search(text)
    if match is None:
        return None
    seconds = float(match.group(1).replace(",", "")) * _UNITS[match.group(2).lower()]
    if max_epochs is not None and match.group(3):
        seconds *= max_epochs / float(match.group(3).replace(",", ""))
    return seconds


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= 2 * size:
            return f"{seconds / size:,.0f} {unit}"
    return f"{seconds:.0f} s"


def sweep_cost_line(plan: SweepPlan) -> str:
    """One line: how many runs remain to train and, when the config states its cost, about how
    long they take one after another."""
    runs = plan.runs()
    todo = sum(run_state(plan, run) != "done" for run in runs)
    shape = (f"{len(plan.seeds)} seed{'s' if len(plan.seeds) > 1 else ''} x one ordered model" if plan.ordered
             else f"{len(plan.sizes)} size{'s' if len(plan.sizes) > 1 else ''} x {len(plan.seeds)} "
                  f"seed{'s' if len(plan.seeds) > 1 else ''}")
    line = f"{todo} of {len(runs)} runs to train ({shape})"
    each = config_cost_seconds(plan.config_path, plan.max_epochs)
    if each is not None and todo:
        line += (f"; the config's cost line says ~{_duration(each)} a run, about {_duration(each * todo)} in all "
                 "one after another (divide by --jobs on a machine with the cores)")
    return line
