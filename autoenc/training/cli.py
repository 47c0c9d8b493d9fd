"""``autoenc fit`` / ``validate``: LightningCLI with the data shape linked into the model.

A run lives in ``<runs_dir>/<name>/version_N/``: ``config.yaml``, ``checkpoints/``
(``last.ckpt`` and the best by ``val/loss``), ``metrics.csv`` (+ TensorBoard events when
tensorboard is installed) and ``reconstructions/epoch_XXXX.png``.
"""

from __future__ import annotations

import importlib
import os
import signal
import sys
from pathlib import Path
from typing import Any

from jsonargparse import Namespace
from lightning.pytorch import Trainer
from lightning.pytorch.callbacks import ModelCheckpoint, ProgressBar
from lightning.pytorch.cli import LightningArgumentParser, LightningCLI
from lightning.pytorch.loggers import CSVLogger
from lightning.pytorch.utilities.exceptions import SIGTERMException

from autoenc.core.constraints import constructor_parameters
from autoenc.core.errors import CheckpointError, UserError
from autoenc.core.yaml_io import use_for_jsonargparse
from autoenc.data.module import ImageDataModule
from autoenc.models.autoencoder_module import (
    CHECKPOINT_KEY,
    MODELS,
    AutoencoderModule,
    upgrade_hparams,
)
from autoenc.runs.checkpoints import read_checkpoint
from autoenc.runs.run import (
    RunLocation,
    check_run_name,
    find_last_checkpoint,
    locate_run,
    remove_if_unused,
    reserve_version,
    versions,
)
from autoenc.training.callbacks import (
    EpochSummary,
    LastCheckpoint,
    LossProgressBar,
    NonFiniteLossGuard,
    ReconstructionGrid,
)
from autoenc.training.checkpoint_io import ReusingCheckpointIO
from autoenc.training.interrupts import InterruptWatch, as_interrupt
from autoenc.training.loggers import ResumedCSVLogger
from autoenc.training.run_checkpoint import RunCheckpoint

use_for_jsonargparse()  # -c files and option values: duplicate keys refused, one YAML reading


def _tensorboard_available() -> bool:
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        return False
    return True


#: The parent of a multi-process run tells the processes it launches (which re-run the same
#: command) which version it reserved, so they all log to one run directory.
RUN_VERSION_ENV = "AUTOENC_RUN_VERSION"
_DEFAULT_RUNS_DIR = "runs"


def _launched_rank() -> int:
    """This process's global rank as its launcher set it (RANK, LOCAL_RANK, SLURM_PROCID ...
    read by Lightning at import), 0 when not launched by one."""
    from lightning.pytorch.utilities import rank_zero_only

    return int(getattr(rank_zero_only, "rank", 0) or 0)


def _say(message: str) -> None:
    if _launched_rank() == 0:
        print(message, flush=True)


class AutoencCLI(LightningCLI):
    """LightningCLI for autoenc models (``model: class_path: VariationalAutoencoder``) and the
    :class:`~autoenc.data.ImageDataModule` (``data:``). ``data.input_shape`` is linked into
    ``model.init_args.input_shape``, so no config states an image size twice.

    ``fit`` reserves ``<runs_dir>/<name>/version_N`` atomically before anything is written
    (see :mod:`autoenc.runs.run`), keeps ``checkpoints/last.ckpt`` at the last completed epoch
    (and the interrupt), and continues a run in place when ``--ckpt_path`` is ``last`` or a
    checkpoint inside a run directory. A fit that fails before its first checkpoint leaves no
    version directory behind. ``validate`` writes nothing: its results go to stdout.
    """

    def __init__(self, args: Any = None, run: bool = True, **kwargs: Any) -> None:
        kwargs.setdefault("trainer_defaults", {
            "max_epochs": 10,
            "log_every_n_steps": 10,
            "enable_model_summary": False,
        })
        kwargs.setdefault("save_config_kwargs", {"overwrite": True})
        kwargs.setdefault("parser_kwargs", {"exit_on_error": False, "prog": "autoenc"})
        kwargs.setdefault("seed_everything_default", 0)
        self._run_location: RunLocation | None = None
        self._reserved = False
        self._interrupt_watch: InterruptWatch | None = None
        sigint_handler = signal.getsignal(signal.SIGINT)
        try:
            try:
                super().__init__(AutoencoderModule, ImageDataModule, subclass_mode_model=True,
                                 args=args, run=run, **kwargs)
            except BaseException as exc:
                converted = as_interrupt(exc, self._interrupt_watch, sigint_handler)
                if converted is exc:
                    raise
                raise converted from None
        except BaseException as exc:
            self._after_failure(exc)
            if isinstance(exc, ValueError | TypeError) and not isinstance(exc, UserError) and raised_in(exc, "torch.optim"):
                # torch checks --optimizer.* / --lr_scheduler.* values only when fit builds them
                raise UserError(f"optimizer options: {' '.join(str(exc).split())}; check the --optimizer.* and "
                                "--lr_scheduler.* values") from None
            raise
        finally:
            if self._reserved:
                os.environ.pop(RUN_VERSION_ENV, None)

    def before_validate(self) -> None:
        if not self._subconfig().get("ckpt_path"):
            raise UserError("validate needs a trained model: give --ckpt_path (a checkpoint file, or 'last' for the "
                            "newest run of --name)")

    def add_core_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        """LightningCLI's model, data and trainer options, in that order: ``--help`` lists
        autoenc's own options before the Trainer's 400 lines."""
        parser.add_lightning_class_args(AutoencoderModule, "model", subclass_mode=True)
        parser.add_lightning_class_args(ImageDataModule, "data")
        parser.add_lightning_class_args(self.trainer_class, "trainer")
        parser.set_defaults({f"trainer.{k}": v for k, v in self.trainer_defaults.items() if k != "callbacks"})

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        parser.link_arguments("data.input_shape", "model.init_args.input_shape", apply_on="instantiate")
        parser.add_argument("--name", type=str, default="autoenc", help="run name: <runs_dir>/<name>/version_N")
        parser.add_argument("--runs_dir", type=str, default=_DEFAULT_RUNS_DIR,
                            help="where run directories go (--trainer.default_root_dir means the same)")
        parser.add_argument("--report", type=bool, default=False,
                            help="write the run's report (autoenc report) after fit")

    def _subconfig(self):
        return self.config[self.subcommand] if self.subcommand else self.config

    def parse_arguments(self, parser: LightningArgumentParser, args: Any) -> None:
        """Parse, then settle where the run goes and check ``--ckpt_path`` before anything is
        built or written: ``last`` becomes the newest run's ``last.ckpt``; a checkpoint inside
        a run directory continues that run (``fit``); a file that is not an autoenc
        checkpoint, or one of another model class than the config's, is refused in one line.
        LightningCLI then takes the model's arguments from the checkpoint."""
        super().parse_arguments(parser, args)
        self._checkpoint_shapes: dict[str, tuple[int, ...]] | None = None
        self._resume_step = 0
        subcommand = self.config.get("subcommand")  # self.subcommand is not set yet
        cfg = self.config[subcommand] if subcommand else self.config
        _settle_runs_dir(cfg)
        if subcommand == "fit":
            check_run_name(cfg["name"])
            _check_trains_something(cfg.get("trainer"))
        ckpt_path = cfg.get("ckpt_path")
        if not ckpt_path:
            return
        resume: RunLocation | None = None
        if ckpt_path == "last":
            resume = find_last_checkpoint(cfg["runs_dir"], cfg["name"])
            ckpt_path = cfg["ckpt_path"] = str(resume.last_checkpoint)
        if Path(ckpt_path).is_dir():
            raise CheckpointError(f"--ckpt_path {ckpt_path!r} is a directory; give a .ckpt file "
                                  "(e.g. its checkpoints/last.ckpt) or 'last'")
        ckpt = read_checkpoint(ckpt_path)
        _check_model_class(ckpt, cfg.get("model"), ckpt_path)
        _check_model_options(ckpt, cfg.get("model"), ckpt_path)
        self._checkpoint_shapes = {k: tuple(v.shape) for k, v in ckpt["state_dict"].items()}
        self._resume_step = int(ckpt.get("global_step", 0))
        if subcommand != "fit":
            return
        resume = resume or locate_run(ckpt_path)
        if resume is not None and resume.path.is_dir():
            _check_runs_dir(cfg["runs_dir"], resume)
            cfg["ckpt_path"] = os.path.realpath(ckpt_path)  # one spelling of the file Lightning keeps
            self._run_location = resume
            _say(f"resuming run {resume.path} at step {self._resume_step} from {Path(ckpt_path).name}")

    def before_instantiate_classes(self) -> None:
        """LightningCLI set the model of a ``--ckpt_path`` from the hyperparameters the file
        recorded; those of an older autoenc are brought to today's class and arguments here
        (:func:`~autoenc.models.autoencoder_module.upgrade_hparams`, e.g. a pre-split VAE with ``tc_beta``
        resumes as a BetaTCVAE, and ``optimizer`` is dropped)."""
        model = self._subconfig().get("model")
        if not self._subconfig().get("ckpt_path") or model is None or not model.get("class_path"):
            return
        name = getattr(_configured_class(model["class_path"]), "model_name", None)
        if not name:
            return
        given = {**vars(model.get("init_args") or Namespace()), **(model.get("dict_kwargs") or {})}
        upgraded, hparams = upgrade_hparams(name, given)
        if (upgraded, hparams) == (name, given):
            return
        cls = MODELS.get(upgraded)
        accepted = constructor_parameters(cls)
        model["class_path"] = f"{cls.__module__}.{cls.__qualname__}"
        model["init_args"] = Namespace(**{k: v for k, v in hparams.items() if k in accepted})
        model["dict_kwargs"] = {k: v for k, v in hparams.items() if k not in accepted}

    def after_instantiate_classes(self) -> None:
        """Refuse a ``--ckpt_path`` whose weights do not fit the model built from the config
        (e.g. data of another image size), before training writes anything."""
        shapes = getattr(self, "_checkpoint_shapes", None)
        if shapes is None or self.model is None:
            return
        ckpt_path = self._subconfig().get("ckpt_path")
        model = {k: tuple(v.shape) for k, v in self.model.state_dict().items()}
        for key in sorted(set(model) | set(shapes)):
            if model.get(key) != shapes.get(key):
                raise CheckpointError(
                    f"{ckpt_path!r} does not fit the configured model: {key} is "
                    f"{shapes.get(key, 'absent')} in the checkpoint but {model.get(key, 'absent')} in the "
                    "model; use the data options of the run's config.yaml"
                )

    def instantiate_trainer(self, **kwargs: Any) -> Trainer:
        """The Trainer of the subcommand: ``fit`` logs into its reserved run directory with
        autoenc's callbacks; ``validate`` / ``test`` / ``predict`` log nothing and write
        nothing (their metrics are printed)."""
        config = self._get(self.config_init, "trainer", default={})
        callbacks = list(config.get("callbacks") or [])
        if self.subcommand != "fit":
            kwargs.setdefault("logger", False if config.get("logger") in (None, True) else config["logger"])
            kwargs.setdefault("enable_checkpointing", False)
            kwargs.setdefault("callbacks", callbacks)
            if not _terminal():  # a log file gets the metrics table, not progress-bar frames
                kwargs["enable_progress_bar"] = False
            self.save_config_callback = None
            return self._checked_trainer(**kwargs)
        cfg = self._subconfig()
        if config.get("logger") in (None, True):
            kwargs["logger"] = self._loggers(self._run_location or self._reserve(cfg["runs_dir"], cfg["name"]))
        elif config.get("logger") is False:  # checkpoints and config.yaml still go to a run directory
            kwargs["default_root_dir"] = str((self._run_location or self._reserve(cfg["runs_dir"], cfg["name"])).path)
        # else: the user's own logger decides where the run goes (see run_dir)
        self._interrupt_watch = InterruptWatch()
        callbacks += [ReconstructionGrid(), NonFiniteLossGuard(), self._interrupt_watch]
        if config.get("enable_checkpointing") is not False:
            if not any(isinstance(c, ModelCheckpoint) and not isinstance(c, LastCheckpoint) for c in callbacks):
                callbacks.append(RunCheckpoint(monitor="val/loss", mode="min", filename="best-{epoch:03d}-{step}",
                                                 auto_insert_metric_name=False, enable_version_counter=False))
            if not any(isinstance(c, LastCheckpoint) for c in callbacks):
                callbacks.append(LastCheckpoint())
        if config.get("enable_progress_bar") is False or not _terminal():
            kwargs["enable_progress_bar"] = False
            callbacks.append(EpochSummary())
        elif not any(isinstance(c, ProgressBar) for c in callbacks):
            callbacks.append(LossProgressBar())
        plugins = config.get("plugins") or []
        plugins = plugins if isinstance(plugins, list) else [plugins]
        kwargs["plugins"] = [*plugins, ReusingCheckpointIO()]
        kwargs["callbacks"] = callbacks
        return self._checked_trainer(**kwargs)

    def _checked_trainer(self, **kwargs: Any) -> Trainer:
        """The Trainer, with Lightning's refusal of its options (``max_epochs=-3``,
        ``devices=0``, an unknown accelerator) as one UserError line."""
        from lightning.fabric.utilities.exceptions import MisconfigurationException

        try:
            return super().instantiate_trainer(**kwargs)
        except (MisconfigurationException, ValueError) as err:
            if isinstance(err, UserError):
                raise
            first = " ".join(str(err).split()) or type(err).__name__
            raise UserError(f"trainer options: {first}; see `autoenc fit --help` (the --trainer.* options)") from None

    @property
    def run_dir(self) -> Path | None:
        """The run directory of ``fit`` (None for other subcommands): the reserved version, or
        the log directory of a logger the user configured."""
        if self._run_location is not None:
            return self._run_location.path
        return Path(self._user_log_dir) if getattr(self, "_user_log_dir", None) else None

    def before_fit(self) -> None:
        # trainer.log_dir is a collective in multi-process runs: ask on every rank, here
        if self._run_location is None:
            self._user_log_dir = self.trainer.log_dir

    def _reserve(self, runs_dir: str, name: str) -> RunLocation:
        """A new version directory (rank 0), or the one the launching process reserved."""
        inherited = os.environ.get(RUN_VERSION_ENV)
        if _launched_rank() > 0:
            version = int(inherited) if inherited is not None else max(versions(runs_dir, name), default=0)
            self._run_location = RunLocation(Path(runs_dir), name, version)
            return self._run_location
        self._run_location = reserve_version(runs_dir, name)
        self._reserved = True
        os.environ[RUN_VERSION_ENV] = str(self._run_location.version)
        return self._run_location

    def _loggers(self, location: RunLocation) -> list:
        runs_dir, name, version = str(location.runs_dir), location.name, location.version
        if self._reserved or _launched_rank() > 0:
            loggers = [CSVLogger(runs_dir, name=name, version=version)]
        else:  # continue the run's metrics.csv instead of replacing it
            loggers = [ResumedCSVLogger(runs_dir, name=name, version=version, keep_below_step=self._resume_step)]
        if _tensorboard_available():
            from lightning.pytorch.loggers import TensorBoardLogger

            loggers.append(TensorBoardLogger(runs_dir, name=name, version=version, default_hp_metric=False))
        return loggers

    def _after_failure(self, exc: BaseException) -> None:
        """A run that stopped: say how to resume an interrupted one; remove a fresh version
        directory that holds no checkpoint (nothing worth keeping)."""
        location = self._run_location
        interrupted = isinstance(exc, KeyboardInterrupt | SIGTERMException)
        if interrupted and _launched_rank() == 0:
            if location is not None and location.last_checkpoint.is_file():
                print(f"autoenc fit: interrupted; {location.last_checkpoint} holds the state at step "
                      f"{_checkpoint_step(location.last_checkpoint)}: resume with --ckpt_path last "
                      f"(or --ckpt_path {location.last_checkpoint})", file=sys.stderr, flush=True)
            else:
                print("autoenc fit: interrupted before the first checkpoint; nothing was kept", file=sys.stderr,
                      flush=True)
        if location is not None and self._reserved:
            remove_if_unused(location)

    def after_fit(self) -> None:
        trainer = self.trainer
        if not trainer.is_global_zero:
            return
        best = next((c for c in trainer.checkpoint_callbacks if not isinstance(c, LastCheckpoint)), None)
        path = getattr(best, "best_model_path", "")
        score = getattr(best, "best_model_score", None)
        print(f"run: {self.run_dir}")
        if path:
            loss = f" (val/loss {float(score):.2f} nats/image)" if score is not None else ""
            print(f"best checkpoint: {path}{loss}")


def _terminal() -> bool:
    """Whether output goes to a terminal (stdout and stderr): progress bars only there."""
    return sys.stdout.isatty() and sys.stderr.isatty()


def raised_in(exc: BaseException, package: str) -> bool:
    """Whether the innermost frame of ``exc``'s traceback is in ``package`` (a module prefix)."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    module = tb.tb_frame.f_globals.get("__name__", "") if tb is not None else ""
    return module == package or module.startswith(package + ".")


def _checkpoint_step(path: Path) -> int | str:
    try:
        return int(read_checkpoint(path).get("global_step", 0))
    except UserError:
        return "?"


def _settle_runs_dir(cfg: Any) -> None:
    """``--trainer.default_root_dir`` is the root of the run directories, as Lightning users
    expect: it sets ``runs_dir``; giving both with different values is refused."""
    trainer = cfg.get("trainer")
    root = trainer.get("default_root_dir") if trainer is not None else None
    if root is None:
        return
    if cfg["runs_dir"] not in (_DEFAULT_RUNS_DIR, str(root)):
        raise UserError(f"--trainer.default_root_dir {str(root)!r} and --runs_dir {cfg['runs_dir']!r} both say where "
                        "runs go; give one of them")
    cfg["runs_dir"] = str(root)
    trainer["default_root_dir"] = None


def _configured_class(class_path: Any) -> type | None:
    """The class a config's ``class_path`` names (None when it names none)."""
    module, _, attr = str(class_path).rpartition(".")
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError, ValueError):
        return None


def _check_model_class(ckpt: dict[str, Any], model_config: Any, ckpt_path: str) -> None:
    """Refuse a checkpoint whose model class differs from the config's ``model.class_path``."""
    name = ckpt[CHECKPOINT_KEY]["model"]
    saved = MODELS.get(name) if name in MODELS else None
    class_path = model_config.get("class_path") if model_config is not None else None
    if saved is None or not class_path:
        return
    configured = _configured_class(class_path)
    if configured is None:
        return  # the parser reports a bad class_path itself
    if getattr(configured, "model_name", None) != name:
        raise CheckpointError(
            f"{ckpt_path!r} holds a {saved.__name__} ({name!r}) but the config's model is "
            f"{configured.__name__}; use the config of the run that wrote it (its config.yaml)"
        )


_NOT_PLAIN = object()


def _plain(value: Any) -> Any:
    """``value`` as YAML would hold it (Namespaces as dicts, tuples as lists), or
    :data:`_NOT_PLAIN` when it holds an object without a plain form (those are not compared)."""
    if hasattr(value, "as_dict"):
        value = value.as_dict()
    if isinstance(value, dict):
        value = {str(k): _plain(v) for k, v in value.items()}
        return _NOT_PLAIN if any(v is _NOT_PLAIN for v in value.values()) else value
    if isinstance(value, list | tuple):
        value = [_plain(v) for v in value]
        return _NOT_PLAIN if any(v is _NOT_PLAIN for v in value) else value
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return _NOT_PLAIN


def _check_model_options(ckpt: dict[str, Any], model_config: Any, ckpt_path: str) -> None:
    """Refuse model options that contradict the checkpoint's: LightningCLI would silently
    replace them by the checkpoint's values (a resume continues the model it saved)."""
    saved = {k: v for k, v in (ckpt.get("hyper_parameters") or {}).items() if not k.startswith("_")}
    init_args = model_config.get("init_args") if model_config is not None else None
    if init_args is None or not saved:
        return
    given = init_args.as_dict() if hasattr(init_args, "as_dict") else dict(init_args)
    for key in sorted(set(given) & set(saved) - {"input_shape"}):  # input_shape is linked from the data
        mine, theirs = _plain(given[key]), _plain(saved[key])
        if mine is None or mine is _NOT_PLAIN or theirs is _NOT_PLAIN:
            continue  # null: "not set", filled in by the model (e.g. tc_dataset_size from the data)
        if isinstance(mine, int | float) and isinstance(theirs, int | float) and not isinstance(mine, bool) \
                and not isinstance(theirs, bool) and float(mine) == float(theirs):
            continue
        if mine != theirs:
            raise CheckpointError(
                f"--model.init_args.{key} {_yaml_value(mine)} contradicts the checkpoint {str(ckpt_path)!r}, "
                f"trained with {key} {_yaml_value(theirs)}; a resume keeps the checkpoint's model: drop the "
                "option or use the run's config.yaml (or train a new run without --ckpt_path)"
            )


def _yaml_value(value: Any) -> str:
    import yaml

    return yaml.safe_dump(value, default_flow_style=True, width=10**6).strip().removesuffix("...").strip()


def _check_runs_dir(runs_dir: str, run: RunLocation) -> None:
    """Refuse a ``--runs_dir`` other than the one holding the run a checkpoint resumes: the run
    continues where it is, so the option would be silently ignored."""
    if runs_dir == _DEFAULT_RUNS_DIR or os.path.realpath(runs_dir) == os.path.realpath(run.runs_dir):
        return
    raise UserError(f"--runs_dir {runs_dir!r} contradicts the checkpoint, whose run lives in {str(run.runs_dir)!r} "
                    "and continues there; drop --runs_dir or give a checkpoint of a run under it")


def _check_trains_something(trainer: Any) -> None:
    """Refuse ``--trainer.max_epochs 0`` (or ``max_steps 0``): the fit would create a run
    directory holding only its config."""
    from autoenc.core.constraints import Interval, Null, Options, check_param

    for key, unset in (("max_epochs", []), ("max_steps", [Null()])):
        if trainer is not None and trainer.get(key) is not None:
            check_param(f"--trainer.{key}", [Interval(int, 1, None, closed="left"), Options([-1], note="no limit"),
                                             *unset], trainer.get(key))
