"""What a sweep trains and where: sizes x seeds, the sweep directory, completion markers.

A sweep directory is::

    <out>/sweep_config.yaml         the config (its content), sizes, seeds, mode, epochs, fit args
    <out>/runs/<name>/version_N/    a normal run directory per (size, seed) (``autoenc fit``)
    <out>/runs/<name>/complete.json the completion marker, written after fit returned
    <out>/runs/<name>/evaluation.json cached metrics of that run
    <out>/sweep.csv, sweep.json, sweep.png, recommendation.txt

``<name>`` is ``d8_s0`` (latent size 8, seed 0; ``c2_s0`` for 2 latent channels, ``k4_s0`` for
k = 4) or, for an ordered sweep, ``ordered_d32_s0``: one nested-dropout model at the largest size
per seed, evaluated at every prefix size.
A directory is reused only by the same sweep (same config content, sizes, seeds, mode,
epochs, fit arguments); finished runs are skipped, half-finished ones resumed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from autoenc.core.atomic import atomic_file
from autoenc.core.errors import UserError

SWEEP_CONFIG = "sweep_config.yaml"
RUNS = "runs"
MARKER = "complete.json"
EVALUATION = "evaluation.json"
FORMAT = 1

RunState = Literal["done", "partial", "new"]
SizeOption = Literal["latent_dim", "latent_channels", "k"]

#: The model options a sweep can vary, with the prefix of their run names.
SIZE_OPTIONS: dict[str, str] = {"latent_dim": "d", "latent_channels": "c", "k": "k"}


@dataclass(frozen=True)
class RunSpec:
    """One training of a sweep.

    Attributes:
        latent_dim: the size trained (for an ordered run: the largest size).
        seed: ``seed_everything`` of the run (weights, sampling; the data split is the config's).
        ordered: trained with nested dropout, evaluated at every prefix size.
        size_option: the model option ``latent_dim`` sets (:data:`SIZE_OPTIONS`).
    """

    latent_dim: int
    seed: int
    ordered: bool = False
    size_option: SizeOption = "latent_dim"

    @property
    def name(self) -> str:
        prefix = SIZE_OPTIONS[self.size_option]
        return f"{'ordered_' if self.ordered else ''}{prefix}{self.latent_dim}_s{self.seed}"


@dataclass(frozen=True)
class SweepPlan:
    """A sweep: one config trained at several latent sizes and seeds.

    Attributes:
        config_path: the YAML training config (as ``autoenc fit -c`` takes it).
        config: its parsed content (recorded in ``sweep_config.yaml``).
        sizes: latent sizes, ascending, each >= 1.
        seeds: ``seed_everything`` values, one run per size and seed (ordered: per seed).
        out: the sweep directory.
        ordered: one nested-dropout model at ``max(sizes)`` per seed instead of one per size.
        max_epochs: ``trainer.max_epochs`` of every run (None: the config's).
        overrides: further options of every run, with ``autoenc.fit``'s names (dotted keys,
            e.g. ``{"data.subset": 500}``).
        size_option: the model option each size sets: ``latent_dim`` (flat code units),
            ``latent_channels`` (channels of a spatial code) or ``k`` (active units of a TopK code).
    """

    config_path: Path
    config: dict[str, Any]
    sizes: tuple[int, ...]
    seeds: tuple[int, ...]
    out: Path
    ordered: bool = False
    max_epochs: int | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    size_option: SizeOption = "latent_dim"

    @property
    def runs_dir(self) -> Path:
        return self.out / RUNS

    @property
    def name(self) -> str:
        """The config's run name (or file stem), for titles."""
        name = self.config.get("name")
        return str(name) if isinstance(name, str) and name else self.config_path.stem

    def runs(self) -> list[RunSpec]:
        """Every training of the sweep, smallest size first, seeds inner."""
        if self.ordered:
            return [RunSpec(max(self.sizes), s, ordered=True) for s in self.seeds]
        return [RunSpec(k, s, size_option=self.size_option) for k in self.sizes for s in self.seeds]

    def prefixes(self, run: RunSpec) -> list[int] | None:
        """Code sizes at which ``run`` is evaluated: every size for an ordered run, its latent
        size for a flat run, None (the whole code) when channels or k were swept."""
        if run.ordered:
            return list(self.sizes)
        return [run.latent_dim] if self.size_option == "latent_dim" else None

    def record(self) -> dict[str, Any]:
        """The identity of the sweep, as written to ``sweep_config.yaml``."""
        return {
            "format": FORMAT,
            "config_path": str(self.config_path),
            "config": self.config,
            "latent_dims": list(self.sizes),
            "seeds": list(self.seeds),
            "ordered": self.ordered,
            "max_epochs": self.max_epochs,
            "overrides": dict(self.overrides),
            # only when not latent_dim, so sweep directories written before the option still match
            **({"size_option": self.size_option} if self.size_option != "latent_dim" else {}),
        }

    def fit_overrides(self, run: RunSpec, resume: bool) -> dict[str, Any]:
        """Options of ``autoenc.fit(plan.config_path, **options)`` for ``run`` (resuming from its
        last.ckpt if asked): its latent size and seed, its place in the sweep directory, and
        the sweep's own overrides."""
        options: dict[str, Any] = {
            f"model.init_args.{self.size_option}": run.latent_dim,
            "seed_everything": run.seed,
            "runs_dir": str(self.runs_dir),
            "name": run.name,
            "trainer.enable_progress_bar": False,
        }
        if run.ordered:
            options["model.init_args.nested_dropout"] = True
        if self.max_epochs is not None:
            options["trainer.max_epochs"] = self.max_epochs
        options.update(self.overrides)
        if resume:
            options["ckpt_path"] = "last"
        return options


# -- input checks -----------------------------------------------------------------------------------
def parse_sizes(text: str) -> tuple[int, ...]:
    """"2,4,8" -> (2, 4, 8): integers >= 1, no repeats, returned ascending."""
    sizes = []
    for item in text.split(","):
        try:
            sizes.append(int(item.strip()))
        except ValueError:
            raise UserError(f"--latent_dims must be a comma-separated list of integers (e.g. 2,4,8); got {text!r}") from None
    return check_sizes(sizes)


def check_sizes(sizes: Sequence[int]) -> tuple[int, ...]:
    """Latent sizes -> ascending tuple; refuses an empty list, sizes < 1 and repeats."""
    sizes = list(sizes)
    if not sizes:
        raise UserError("--latent_dims is empty; give sizes like 2,4,8,16,32")
    for k in sizes:
        if isinstance(k, bool) or not isinstance(k, int):
            raise UserError(f"--latent_dims must be integers, got {k!r}; give sizes like 2,4,8,16,32")
        if k < 1:
            raise UserError(f"--latent_dims sizes must be >= 1, got {k}; give sizes like 2,4,8,16,32")
    repeated = sorted({k for k in sizes if sizes.count(k) > 1})
    if repeated:
        raise UserError(f"--latent_dims repeats {', '.join(map(str, repeated))}; list each size once")
    return tuple(sorted(sizes))


def check_positive(value: int | None, flag: str) -> None:
    """Refuse an integer option < 1 (None passes)."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise UserError(f"{flag} must be an integer >= 1, got {value!r}")


def read_model_config(path: str | os.PathLike) -> dict[str, Any]:
    """The parsed YAML training config at ``path``; refuses anything that is not a model
    config (no ``model:`` with a ``class_path`` naming an autoenc model)."""
    from autoenc.training.fit import read_yaml

    p = Path(path).expanduser()
    config = read_yaml(p)
    hint = "a training config has model: {class_path: VariationalAutoencoder, init_args: ...} (see configs/)"
    if not isinstance(config, dict) or not isinstance(config.get("model"), dict):
        raise UserError(f"{str(p)!r} is not a model config: it has no model: section; {hint}")
    class_path = config["model"].get("class_path")
    if not isinstance(class_path, str) or model_class(class_path) is None:
        raise UserError(f"{str(p)!r} is not a model config: model.class_path {class_path!r} is not an "
                        f"autoenc model ({', '.join(_model_names())}); {hint}")
    return config


def _model_names() -> list[str]:
    from autoenc.models import MODELS

    return sorted(MODELS.get(n).__name__ for n in MODELS.list())


def model_class(class_path: str) -> type | None:
    """The autoenc model class a config's ``class_path`` names (``VariationalAutoencoder`` or a
    dotted path), or None when it names none."""
    import importlib

    from autoenc.models import MODELS, AutoencoderModule

    by_name = {MODELS.get(n).__name__: MODELS.get(n) for n in MODELS.list()}
    if class_path in by_name:
        return by_name[class_path]
    module, _, attr = class_path.rpartition(".")
    if not module:
        return None
    try:
        cls = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError, ValueError):
        return None
    return cls if isinstance(cls, type) and issubclass(cls, AutoencoderModule) else None


def base_seed(config: dict[str, Any]) -> int:
    """The config's integer ``seed_everything`` (0 when absent or not an integer)."""
    seed = config.get("seed_everything", 0)
    return seed if isinstance(seed, int) and not isinstance(seed, bool) else 0


def model_options(cls: type) -> set[str]:
    """Names of the constructor arguments a model class takes (its own and, through
    ``**kwargs``, those of its base classes)."""
    import inspect

    names: set[str] = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        params = inspect.signature(init).parameters.values()
        names |= {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
        if not any(p.kind is p.VAR_KEYWORD for p in params):
            break
    return names - {"self"}


def check_size_option(config: dict[str, Any], size_option: str, ordered: bool) -> SizeOption:
    """Refuse a size option that is not one of :data:`SIZE_OPTIONS`, one the config's model does
    not take, and ``ordered`` with any option but ``latent_dim``."""
    if size_option not in SIZE_OPTIONS:
        raise UserError(f"--size_option must be one of {', '.join(SIZE_OPTIONS)}, got {size_option!r}")
    class_path = config["model"]["class_path"]
    cls = model_class(class_path)
    takes = [o for o in SIZE_OPTIONS if cls is not None and o in model_options(cls)]
    if size_option not in takes:
        raise UserError(f"--size_option {size_option}: model {class_path} does not take {size_option}; "
                        f"it takes {', '.join(takes) or 'none of ' + ', '.join(SIZE_OPTIONS)}")
    if ordered and size_option != "latent_dim":
        why = ("a TopK code is sparse, so it has no prefix to cut" if size_option == "k"
               else "prefix evaluation cuts flat units, not channels")
        raise UserError(f"--ordered sweeps latent_dim only ({why}); drop --ordered to train one model per "
                        f"{size_option}")
    return size_option  # type: ignore[return-value]


def make_plan(config_path: str | os.PathLike, sizes: Sequence[int], seeds: int = 1, *,
              out: str | os.PathLike | None = None, ordered: bool = False, max_epochs: int | None = None,
              overrides: dict[str, Any] | None = None, size_option: str = "latent_dim") -> SweepPlan:
    """Check the inputs and describe the sweep (nothing is written).

    Args:
        config_path: YAML training config (``model:``, ``data:``, ``trainer:``).
        sizes: latent sizes (>= 1, no repeats).
        seeds: runs per size; their seeds are the config's seed_everything + 0, 1, ...
        out: sweep directory (default ``sweeps/<config name>[_ordered]``).
        ordered: train one nested-dropout model at the largest size per seed.
        max_epochs: epochs per run (default: the config's).
        overrides: further options of every run (``autoenc.fit`` names, e.g. ``{"data.subset": 500}``).
        size_option: the model option the sizes set (``latent_dim``, ``latent_channels``, ``k``).
    """
    sizes = check_sizes(sizes)
    check_positive(seeds, "--seeds")
    check_positive(max_epochs, "--max_epochs")
    path = Path(config_path).expanduser().resolve()
    config = read_model_config(path)
    option = check_size_option(config, size_option, ordered)
    first = base_seed(config)
    plan = SweepPlan(config_path=path, config=config, sizes=sizes, seeds=tuple(range(first, first + seeds)),
                     out=Path("."), ordered=ordered, max_epochs=max_epochs, overrides=dict(overrides or {}),
                     size_option=option)
    suffix = "_ordered" if ordered else "" if option == "latent_dim" else f"_{option}"
    default = Path("sweeps") / f"{plan.name}{suffix}"
    return replace(plan, out=Path(out) if out is not None else default)


# -- the sweep directory ----------------------------------------------------------------------------
def _differences(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """Keys whose values differ between two sweep records (the config path may move)."""
    keys = sorted((set(a) | set(b)) - {"config_path"})
    norm = lambda v: json.dumps(v, sort_keys=True, default=str)  # noqa: E731
    return [k for k in keys if norm(a.get(k)) != norm(b.get(k))]


def check_sweep_dir(plan: SweepPlan) -> bool:
    """True when ``plan.out`` already holds this sweep, False when it is absent or empty;
    refuses a directory that holds another sweep (or other files). Writes nothing."""
    import yaml

    from autoenc.core.yaml_io import load_yaml

    out = plan.out
    record_path = out / SWEEP_CONFIG
    if record_path.is_file():
        try:
            recorded = load_yaml(record_path.read_text())
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            recorded = None
        if not isinstance(recorded, dict):
            raise UserError(f"{str(record_path)!r} is damaged; delete {str(out)!r} or choose another --out")
        differ = _differences(recorded, plan.record())
        if differ:
            raise UserError(f"sweep directory {str(out)!r} holds another sweep (its {', '.join(differ)} "
                            f"differ{'s' if len(differ) == 1 else ''}); choose another --out or delete it")
        return True
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UserError(f"{str(out)!r} exists and is not a sweep directory (no {SWEEP_CONFIG}); "
                        "choose another --out")
    return False


def prepare_sweep_dir(plan: SweepPlan) -> None:
    """Create the sweep directory and record the sweep in ``sweep_config.yaml`` (see
    :func:`check_sweep_dir` for what is refused)."""
    import yaml

    if check_sweep_dir(plan):
        return
    try:
        plan.out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UserError(f"cannot create sweep directory {str(plan.out)!r} ({err.strerror}); "
                        "choose another --out") from None
    with atomic_file(plan.out / SWEEP_CONFIG, "w") as f:
        yaml.safe_dump(plan.record(), f, sort_keys=False)


def run_root(plan: SweepPlan, run: RunSpec) -> Path:
    """``<out>/runs/<name>``: holds the run's version_N directories and its marker."""
    return plan.runs_dir / run.name


def version_dir(root: Path) -> Path | None:
    """The newest ``version_N`` under ``root`` that holds ``checkpoints/last.ckpt``."""
    found = []
    for d in root.glob("version_*"):
        suffix = d.name.removeprefix("version_")
        if suffix.isdigit() and (d / "checkpoints" / "last.ckpt").is_file():
            found.append((int(suffix), d))
    return max(found)[1] if found else None


def run_state(plan: SweepPlan, run: RunSpec) -> RunState:
    """``done`` (marker written after fit), ``partial`` (a last.ckpt to resume) or ``new``."""
    root = run_root(plan, run)
    if read_marker(root) is not None:
        return "done"
    return "partial" if version_dir(root) is not None else "new"


def read_marker(root: Path) -> dict[str, Any] | None:
    """The completion marker of a run, or None when absent or unreadable."""
    try:
        marker = json.loads((root / MARKER).read_text())
    except (OSError, ValueError):
        return None
    return marker if isinstance(marker, dict) and marker.get("format") == FORMAT else None


def write_marker(root: Path, run: RunSpec, run_dir: Path, seconds: float, resumed: bool) -> dict[str, Any]:
    """Mark a run finished (atomically): its run directory and training time."""
    marker = {"format": FORMAT, "run": run.name, "latent_dim": run.latent_dim, "size_option": run.size_option,
              "seed": run.seed,
              "ordered": run.ordered, "run_dir": run_dir.name, "train_seconds": round(seconds, 3),
              "resumed": resumed}
    with atomic_file(root / MARKER, "w") as f:
        json.dump(marker, f, indent=2)
    return marker
