"""``run_sweep``: train a config at several latent sizes, measure each, recommend one.

>>> plan = make_plan("configs/digits_ae.yaml", [2, 4, 8, 16, 32], seeds=2)  # doctest: +SKIP
>>> result = run_sweep(plan, jobs=2)  # doctest: +SKIP
>>> result.recommendation.latent_dim  # doctest: +SKIP

Outputs in the sweep directory: ``sweep.csv`` (one row per size and seed), ``sweep.json``
(rows, per-size means and standard deviations, the recommendation and its rule),
``sweep.png`` (each metric against the latent size, error bars over seeds) and
``recommendation.txt``; with ``EvalSettings.labels_per_class`` also ``sweep_labels.png``
(probe accuracy against labels per class, one line per size), and the label-efficiency curves
in ``sweep.json`` and ``recommendation.txt``.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autoenc.core.atomic import atomic_file, staged_files
from autoenc.core.constraints import check_params
from autoenc.core.errors import UserError
from autoenc.measure.label_curve import LabelEfficiency, pool_curves
from autoenc.measure.recommend import (
    Recommendation,
    Rule,
    SizeSummary,
    SweepCurves,
    recommend_summary,
    summarize,
)
from autoenc.workflows.sweep.evaluate import CodeMetrics, EvalSettings, curve_labels, evaluate_run
from autoenc.workflows.sweep.plan import (
    EVALUATION,
    FORMAT,
    SweepPlan,
    check_sizes,
    check_sweep_dir,
    make_plan,
    prepare_sweep_dir,
    read_marker,
    run_root,
    run_state,
)
from autoenc.workflows.sweep.runner import TrainOutcome, check_config_builds, train_all
from autoenc.workflows.sweep.sweep_cost import sweep_cost_line
from autoenc.workflows.sweep.sweep_options import SWEEP_PARAMS

if TYPE_CHECKING:
    from autoenc.data.module import ImageDataModule

CSV_NAME = "sweep.csv"
JSON_NAME = "sweep.json"
FIGURE_NAME = "sweep.png"
TEXT_NAME = "recommendation.txt"
LABELS_FIGURE_NAME = "sweep_labels.png"
ROW_COLUMNS = ("latent_dim", "seed", "mode", "trained_dim", "run", "recon", "kl", "neg_elbo", "active_units",
               "twonn", "twonn_spread", "probe_accuracy", "n_val", "train_seconds", "size_option", "code_size")

Log = Callable[[str], None]


@dataclass
class SweepResult(SweepCurves):
    """A measured sweep.

    Attributes:
        name: the config's run name; ordered: one nested-dropout model per seed, or one model per size.
        sizes, seeds: what was swept.
        rows: one dict per size and seed with :data:`ROW_COLUMNS` (None: undefined here); its
            ``latent_dim`` is the swept value (of ``size_option``), ``code_size`` the numbers measured.
        summary: per size, means and standard deviations over seeds.
        recommendation: the chosen size, the rule and the numbers behind it.
        variational: the model has a posterior (negative ELBO and active units are reported).
        trained: what this invocation did to each run (empty when read back from disk).
        label_curves: size -> probe accuracy against labels per class, pooled over seeds
            (:func:`~autoenc.measure.label_curve.pool_curves`); empty without ``labels_per_class``.
        out: the sweep directory (None when the result was built elsewhere).
    """

    rows: list[dict[str, Any]] = field(default_factory=list)
    variational: bool = False
    trained: list[TrainOutcome] = field(default_factory=list)
    label_curves: dict[int, LabelEfficiency] = field(default_factory=dict)
    out: Path | None = None

    def to_dict(self) -> dict[str, Any]:
        curves = {"label_efficiency": [{"latent_dim": k, **c.to_dict()} for k, c in self.label_curves.items()]}
        return {"format": FORMAT, "name": self.name, "ordered": self.ordered, "size_option": self.size_option,
                "latent_dims": self.sizes,
                "seeds": self.seeds, "variational": self.variational,
                "recommendation": self.recommendation.to_dict(),
                "summary": [s.to_dict() for s in self.summary], "rows": [_json_row(r) for r in self.rows],
                **(curves if self.label_curves else {})}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SweepResult:
        nan = lambda v: math.nan if v is None else float(v)  # noqa: E731
        summary = [SizeSummary(int(s["latent_dim"]), int(s["n"]), {k: nan(v) for k, v in s["mean"].items()},
                               {k: nan(v) for k, v in s["std"].items()}) for s in data["summary"]]
        return cls(name=data["name"], ordered=bool(data["ordered"]), sizes=list(data["latent_dims"]),
                   seeds=list(data["seeds"]), rows=list(data["rows"]), summary=summary,
                   recommendation=Recommendation(**data["recommendation"]), variational=bool(data["variational"]),
                   size_option=str(data.get("size_option", "latent_dim")),
                   label_curves={int(c.pop("latent_dim")): LabelEfficiency.from_dict(c)
                                 for c in map(dict, data.get("label_efficiency", []))})

    def recommendation_text(self) -> str:
        """The recommendation, naming the swept option when it is not ``latent_dim``."""
        text = self.recommendation.text()
        if self.size_option == "latent_dim":
            return text
        return text.replace("recommended latent size:", f"recommended {self.size_option}:", 1)

    @property
    def _size_column(self) -> str:
        return "size" if self.size_option == "latent_dim" else self.size_option

    def table(self) -> str:
        """The per-size means (± standard deviation over seeds) as aligned text."""
        columns = [("recon", "recon nats", 2), ("neg_elbo", "-ELBO nats", 2), ("active_units", "active", 1),
                   ("twonn", "TwoNN ID", 2), ("probe_accuracy", "probe acc", 3)]
        shown = [c for c in columns if any(math.isfinite(s.mean[c[0]]) for s in self.summary)]
        header = f"{self._size_column:>5}  " + "  ".join(f"{title:>16}" for _, title, _ in shown)
        lines = [header]
        for s in self.summary:
            cells = []
            for key, _, digits in shown:
                mean, std = s.mean[key], s.std[key]
                text = "-" if not math.isfinite(mean) else f"{mean:.{digits}f}" + (
                    f" ± {std:.{digits}f}" if s.n > 1 and math.isfinite(std) else "")
                cells.append(f"{text:>16}")
            marker = "  <-" if s.latent_dim == self.recommendation.latent_dim else ""
            lines.append(f"{s.latent_dim:>5}  " + "  ".join(cells) + marker)
        return "\n".join(lines)

    def label_table(self) -> str:
        """Probe accuracy against labels per class, one row per size: the mean over draws (and
        seeds) with its 95% t interval; empty without label-efficiency curves."""
        if not self.label_curves:
            return ""
        first = next(iter(self.label_curves.values()))
        counts = [p.labels_per_class for p in first.points]
        draws = "/".join(str(len(p.accuracies)) for p in first.points)
        lines = [f"{first.kind} probe accuracy against labelled training items per class ({first.n_test} validation "
                 f"items, chance {first.chance:.3f}): mean over {draws} draws (95% interval)",
                 f"{self._size_column:>5}  " + "  ".join(f"{m!s:>19}" for m in counts)]
        for size, curve in self.label_curves.items():
            cells = [f"{p.mean:.3f} ({p.ci_low:.3f}-{p.ci_high:.3f})" for p in curve.points]
            lines.append(f"{size:>5}  " + "  ".join(f"{c:>19}" for c in cells))
        return "\n".join(lines)


def _json_row(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()}


# -- evaluation, cached per run ---------------------------------------------------------------------
def _cached_metrics(root: Path, key: dict[str, Any]) -> list[CodeMetrics] | None:
    try:
        cached = json.loads((root / EVALUATION).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(cached, dict) or cached.get("key") != key:
        return None
    try:
        return [CodeMetrics.from_dict(m) for m in cached["metrics"]]
    except (KeyError, TypeError):
        return None


def _evaluation_key(run_dir: Path, prefixes: list[int] | None, settings: EvalSettings) -> dict[str, Any]:
    from autoenc.runs.checkpoints import resolve_checkpoint

    ckpt = resolve_checkpoint(run_dir)
    stat = ckpt.stat()
    measured = asdict(settings)
    if settings.labels_per_class is None:  # so evaluations cached before the option still match
        del measured["labels_per_class"], measured["draws"]
    key = {"format": FORMAT, "checkpoint": str(ckpt.relative_to(run_dir)), "mtime_ns": stat.st_mtime_ns,
           "size": stat.st_size, "prefixes": prefixes, "settings": measured}
    return json.loads(json.dumps(key))  # as read back from evaluation.json (tuples as lists)


def evaluate_sweep(plan: SweepPlan, settings: EvalSettings = EvalSettings(), log: Log = print) -> list[dict[str, Any]]:
    """Measure every finished run of ``plan`` at its code sizes (metrics cached in each run's
    ``evaluation.json``, keyed by its checkpoint and ``settings``). Returns rows with
    :data:`ROW_COLUMNS`, ordered by size then seed."""
    return [row for row, _ in _evaluate(plan, settings, log)]


def _evaluate(plan: SweepPlan, settings: EvalSettings, log: Log) -> list[tuple[dict[str, Any], CodeMetrics]]:
    """:func:`evaluate_sweep`'s rows, each with the metrics it came from."""
    rows = []
    for run in plan.runs():
        root = run_root(plan, run)
        marker = read_marker(root)
        if marker is None:
            raise UserError(f"run {run.name} has not finished; run the sweep to train it")
        run_dir = root / marker["run_dir"]
        prefixes = plan.prefixes(run)
        key = _evaluation_key(run_dir, prefixes, settings)
        metrics = _cached_metrics(root, key)
        if metrics is None:
            sizes = "its whole code" if prefixes is None else \
                f"size{'s' if len(prefixes) > 1 else ''} {','.join(map(str, prefixes))}"
            log(f"evaluating {run.name} at {sizes}")
            metrics = evaluate_run(run_dir, prefixes, settings)
            with atomic_file(root / EVALUATION, "w") as f:
                json.dump({"key": key, "metrics": [_json_row(m.to_dict()) for m in metrics]}, f, indent=1)
        for m in metrics:
            swept = m.latent_dim if prefixes is not None else run.latent_dim  # channels, k: the run's value
            row = {"seed": run.seed, "mode": "ordered" if run.ordered else "separate", "trained_dim": run.latent_dim,
                   "run": str(run_dir.relative_to(plan.out)), **m.to_dict(), "latent_dim": swept,
                   "code_size": m.latent_dim, "size_option": plan.size_option,
                   "train_seconds": marker.get("train_seconds")}
            rows.append(({c: _nan_if_none(row.get(c), c) for c in ROW_COLUMNS}, m))
    return sorted(rows, key=lambda r: (r[0]["latent_dim"], r[0]["seed"]))


def _label_curves(measured: list[tuple[dict[str, Any], CodeMetrics]]) -> dict[int, LabelEfficiency]:
    """Size -> its seeds' label-efficiency curves pooled (none when not measured)."""
    by_size: dict[int, list[LabelEfficiency]] = {}
    for row, metrics in measured:
        if metrics.label_efficiency is not None:
            by_size.setdefault(row["latent_dim"], []).append(metrics.label_efficiency)
    return {size: pool_curves(curves) for size, curves in by_size.items()}


def check_labels_before_training(plan: SweepPlan, settings: EvalSettings, datamodule: ImageDataModule | None = None
                                 ) -> None:
    """With ``labels_per_class`` and runs left to train: refuse data without class labels and
    counts larger than the training split's smallest class now, not after the training.

    Args:
        datamodule: the sweep's data module, when already built (:func:`check_config_builds`).
    """
    if settings.labels_per_class is None or all(run_state(plan, run) == "done" for run in plan.runs()):
        return  # evaluation, which comes next, says the same
    datamodule = datamodule or check_config_builds(plan)
    curve_labels(datamodule.arrays("train").targets, settings.labels_per_class)


def _nan_if_none(value: Any, column: str) -> Any:
    """Cached metrics store NaN as null; TwoNN keeps its NaN (a failed estimate)."""
    return math.nan if value is None and column == "twonn" else value


# -- the whole sweep --------------------------------------------------------------------------------
def run_sweep(plan: SweepPlan, *, jobs: int = 1, settings: EvalSettings = EvalSettings(), rule: Rule = Rule(),
              log: Log = print, write: bool = True) -> SweepResult:
    """Train the unfinished runs of ``plan`` (``jobs`` at once), measure every run on the
    validation split, summarise over seeds, recommend a size, and write the outputs.

    Raises:
        UserError: bad config, a sweep directory of another sweep, a failed run (rerun to resume).
    """
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise UserError(f"--jobs must be an integer >= 1, got {jobs!r}")
    # a typo fails here, before a directory is made
    datamodule = None if check_sweep_dir(plan) else check_config_builds(plan)
    check_labels_before_training(plan, settings, datamodule)
    log(sweep_cost_line(plan))
    fresh = not plan.out.exists()
    prepare_sweep_dir(plan)
    try:
        trained = train_all(plan, jobs=jobs, log=log)
    except BaseException as err:
        _after_failed_training(plan, fresh, err)
        raise
    measured = _evaluate(plan, settings, log)
    rows = [row for row, _ in measured]
    summary = summarize(rows)
    result = SweepResult(name=plan.name, ordered=plan.ordered, sizes=list(plan.sizes), seeds=list(plan.seeds),
                         rows=rows, summary=summary, recommendation=recommend_summary(summary, rule),
                         variational=any(r["neg_elbo"] is not None for r in rows), trained=trained,
                         size_option=plan.size_option, label_curves=_label_curves(measured), out=plan.out)
    if write:
        write_outputs(result, plan.out)
    return result


def sweep(config: str | os.PathLike, latent_dims: Sequence[int], *, seeds: int = 1, jobs: int = 1,
          out: str | os.PathLike | None = None, max_epochs: int | None = None, ordered: bool = False,
          fit: dict[str, Any] | None = None, recon_tolerance: float = 0.05, id_tolerance: float = 0.10,
          id_repeats: int = 5, probe: bool = True, size_option: str = "latent_dim",
          labels_per_class: str | Sequence[int | str] | None = None, draws: int = 5,
          log: Log = print) -> SweepResult:
    """``autoenc sweep`` in Python, with its option names: train ``config`` at each of
    ``latent_dims`` (``seeds`` runs each, or one ordered model per seed), measure each size,
    recommend one, and write the result files to ``out`` together (all or none).

    >>> result = sweep("configs/digits_ae.yaml", [2, 4, 8], labels_per_class="1,10,all")  # doctest: +SKIP
    >>> result.recommendation.latent_dim  # doctest: +SKIP

    See ``autoenc sweep --help`` for each option. Returns the :class:`SweepResult` (rows, summary,
    recommendation, label curves); rerunning resumes.

    Raises:
        UserError: a refused option, a bad config, a failed run (rerun to resume).
    """
    options = dict(locals())
    check_params(SWEEP_PARAMS, options)
    plan = make_plan(config, check_sizes(latent_dims), seeds, out=out, ordered=ordered, max_epochs=max_epochs,
                     overrides=fit, size_option=size_option)
    settings = EvalSettings(id_repeats=id_repeats, probe=probe, labels_per_class=labels_per_class, draws=draws)
    result = run_sweep(plan, jobs=jobs, settings=settings, rule=Rule(recon_tolerance, id_tolerance), log=log,
                       write=False)
    with staged_files(plan.out) as stage:  # the result files appear together or not at all
        write_outputs(result, stage)
    if not result.label_curves:  # a figure of an earlier run with labels_per_class would say otherwise
        (plan.out / LABELS_FIGURE_NAME).unlink(missing_ok=True)
    return result


def _keeps_state(plan: SweepPlan) -> bool:
    """Whether any run of the sweep directory holds a checkpoint (something to resume)."""
    return plan.runs_dir.is_dir() and any(plan.runs_dir.rglob("*.ckpt"))


def _after_failed_training(plan: SweepPlan, fresh: bool, err: BaseException) -> None:
    """A sweep whose training failed: a directory this invocation created and that holds no
    checkpoint is removed (``sweep_config.yaml`` and empty run folders are nothing to resume);
    otherwise a one-line error says the directory is kept for resuming."""
    if not _keeps_state(plan):
        if fresh:
            shutil.rmtree(plan.out, ignore_errors=True)
        return
    if isinstance(err, UserError) and "again" not in str(err):
        err.args = (f"{err}; {str(plan.out)!r} keeps the runs trained so far: run the same sweep command again to "
                    "resume",)


def rows_csv(rows: list[dict[str, Any]]) -> str:
    """The rows as CSV text with :data:`ROW_COLUMNS` (None and NaN as empty cells)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(ROW_COLUMNS), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None or (isinstance(v, float) and not math.isfinite(v)) else v
                         for k, v in row.items()})
    return buffer.getvalue()


def write_outputs(result: SweepResult, out: str | os.PathLike) -> dict[str, Path]:
    """Write sweep.csv, sweep.json, sweep.png and recommendation.txt into ``out`` (atomically),
    and sweep_labels.png when the sweep measured label efficiency."""
    from autoenc.render.charts import save_figure
    from autoenc.render.sweep_plots import sweep_figure, sweep_labels_figure

    out = Path(out)
    paths = {"csv": out / CSV_NAME, "json": out / JSON_NAME, "figure": out / FIGURE_NAME, "text": out / TEXT_NAME}
    with atomic_file(paths["csv"], "w") as f:
        f.write(rows_csv(result.rows))
    with atomic_file(paths["json"], "w") as f:
        json.dump(result.to_dict(), f, indent=1)
    with atomic_file(paths["text"], "w") as f:
        f.write("\n\n".join(filter(None, [result.recommendation_text(), result.table(), result.label_table()])) + "\n")
    save_figure(sweep_figure(result), paths["figure"])
    if result.label_curves:
        paths["labels_figure"] = out / LABELS_FIGURE_NAME
        save_figure(sweep_labels_figure(result.label_curves, result.size_option, title=f"{result.name}: accuracy "
                                        "vs labels per bottleneck size"), paths["labels_figure"])
    return paths


def read_sweep(out: str | os.PathLike) -> SweepResult:
    """A sweep's results as written by :func:`run_sweep` (its ``sweep.json``)."""
    path = Path(out) / JSON_NAME
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise UserError(f"cannot read sweep results {str(path)!r} ({err}); run `autoenc sweep` first") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise UserError(f"{str(path)!r} is not a sweep result of format {FORMAT}; run `autoenc sweep` again")
    return SweepResult.from_dict(data)
