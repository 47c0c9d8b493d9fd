"""``autoenc fit`` / ``validate``: LightningCLI with the data shape linked into the model.

A run lives in ``<runs_dir>/<name>/version_N/``: ``config.yaml``, ``checkpoints/``
(``last.ckpt`` and the best by ``val/loss``), ``metrics.csv`` (+ TensorBoard events when
tensorboard is installed) and ``reconstructions/epoch_XXXX.png``.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

from lightning.pytorch import Trainer
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.cli import LightningArgumentParser, LightningCLI
from lightning.pytorch.loggers import CSVLogger

from autoenc.data.module import ImageDataModule
from autoenc.errors import CheckpointError, UserError
from autoenc.models.base import CHECKPOINT_KEY, MODELS, AutoencoderModule
from autoenc.training.callbacks import NonFiniteLossGuard, ReconstructionGrid
from autoenc.training.checkpoints import AtomicCheckpointIO, read_checkpoint
from autoenc.training.loggers import ResumedCSVLogger


def _tensorboard_available() -> bool:
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        return False
    return True


def find_last_checkpoint(runs_dir: str, name: str) -> tuple[int, Path]:
    """The newest ``version_N`` of run ``name`` that has ``checkpoints/last.ckpt``."""
    base = Path(runs_dir) / name
    found = []
    for d in base.glob("version_*"):
        m = re.fullmatch(r"version_(\d+)", d.name)
        if m and (d / "checkpoints" / "last.ckpt").is_file():
            found.append((int(m.group(1)), d / "checkpoints" / "last.ckpt"))
    if not found:
        raise UserError(f"--ckpt_path last: no {base}/version_*/checkpoints/last.ckpt to resume; "
                        "start a run first or give the checkpoint's path")
    return max(found)


class AutoencCLI(LightningCLI):
    """LightningCLI for autoenc models (``model: class_path: VariationalAutoencoder``) and the
    :class:`~autoenc.data.ImageDataModule` (``data:``). ``data.input_shape`` is linked into
    ``model.init_args.input_shape``, so no config states an image size twice."""

    def __init__(self, args: Any = None, run: bool = True, **kwargs: Any) -> None:
        kwargs.setdefault("trainer_defaults", {
            "callbacks": [ReconstructionGrid(), NonFiniteLossGuard()],
            "max_epochs": 10,
            "log_every_n_steps": 10,
            "enable_model_summary": False,
        })
        kwargs.setdefault("save_config_kwargs", {"overwrite": True})
        kwargs.setdefault("parser_kwargs", {"exit_on_error": False})
        kwargs.setdefault("seed_everything_default", 0)
        super().__init__(AutoencoderModule, ImageDataModule, subclass_mode_model=True,
                         args=args, run=run, **kwargs)

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        parser.link_arguments("data.input_shape", "model.init_args.input_shape", apply_on="instantiate")
        parser.add_argument("--name", type=str, default="autoenc", help="run name: <runs_dir>/<name>/version_N")
        parser.add_argument("--runs_dir", type=str, default="runs", help="where run directories go")
        parser.add_argument("--report", type=bool, default=False,
                            help="write the run's report (autoenc report) after fit")

    def _subconfig(self):
        return self.config[self.subcommand] if self.subcommand else self.config

    def parse_arguments(self, parser: LightningArgumentParser, args: Any) -> None:
        """Parse, then check ``--ckpt_path`` before anything is built or written: ``last``
        becomes the newest run's ``last.ckpt`` (resumed in the same version directory); a
        file that is not an autoenc checkpoint, or one of another model class than the
        config's, is refused in one line. LightningCLI then takes the model's arguments
        from the checkpoint."""
        super().parse_arguments(parser, args)
        self._resume_version: int | None = None
        self._checkpoint_shapes: dict[str, tuple[int, ...]] | None = None
        self._resume_step = 0
        subcommand = self.config.get("subcommand")  # self.subcommand is not set yet
        cfg = self.config[subcommand] if subcommand else self.config
        ckpt_path = cfg.get("ckpt_path")
        if not ckpt_path:
            return
        if ckpt_path == "last":
            version, path = find_last_checkpoint(cfg["runs_dir"], cfg["name"])
            if subcommand == "fit":  # validate/test log to a new version, not into the run
                self._resume_version = version
            ckpt_path = cfg["ckpt_path"] = str(path)
        if Path(ckpt_path).is_dir():
            raise CheckpointError(f"--ckpt_path {ckpt_path!r} is a directory; give a .ckpt file "
                                  "(e.g. its checkpoints/last.ckpt) or 'last'")
        ckpt = read_checkpoint(ckpt_path)
        _check_model_class(ckpt, cfg.get("model"), ckpt_path)
        self._checkpoint_shapes = {k: tuple(v.shape) for k, v in ckpt["state_dict"].items()}
        self._resume_step = int(ckpt.get("global_step", 0))

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

    def _instantiate_trainer(self, config: dict[str, Any], callbacks: list) -> Trainer:
        cfg = self._subconfig()
        if config.get("logger") in (None, True):
            version = getattr(self, "_resume_version", None)
            if version is None:
                loggers = [CSVLogger(cfg["runs_dir"], name=cfg["name"])]
            else:  # continue the run's metrics.csv instead of replacing it
                loggers = [ResumedCSVLogger(cfg["runs_dir"], name=cfg["name"], version=version,
                                            keep_below_step=self._resume_step)]
            if _tensorboard_available():
                from lightning.pytorch.loggers import TensorBoardLogger

                loggers.append(TensorBoardLogger(cfg["runs_dir"], name=cfg["name"], version=loggers[0].version,
                                                 default_hp_metric=False))
            config["logger"] = loggers
        if config.get("default_root_dir") is None:
            # where Lightning puts config.yaml and checkpoints when there is no logger
            config["default_root_dir"] = str(Path(cfg["runs_dir"]) / cfg["name"])
        wants_checkpoints = config.get("enable_checkpointing") is not False
        user_has_one = any(isinstance(c, ModelCheckpoint) for c in (config.get("callbacks") or []))
        if wants_checkpoints and not user_has_one:
            # enable_version_counter=False: a resumed run that was moved (or copied) would
            # otherwise write last-v1.ckpt beside the old last.ckpt, and `--ckpt_path last`
            # would keep resuming from the stale one.
            callbacks = [*callbacks, ModelCheckpoint(monitor="val/loss", mode="min", save_last=True,
                                                     filename="best-{epoch:03d}-{step}", auto_insert_metric_name=False,
                                                     enable_version_counter=False)]
        plugins = config.get("plugins") or []
        plugins = plugins if isinstance(plugins, list) else [plugins]
        config["plugins"] = [*plugins, AtomicCheckpointIO()]
        return super()._instantiate_trainer(config, callbacks)

    def after_fit(self) -> None:
        trainer = self.trainer
        if not trainer.is_global_zero:
            return
        ckpt = trainer.checkpoint_callback
        best = getattr(ckpt, "best_model_path", "")
        score = getattr(ckpt, "best_model_score", None)
        print(f"run: {trainer.log_dir}")
        if best:
            loss = f" (val/loss {float(score):.2f} nats/image)" if score is not None else ""
            print(f"best checkpoint: {best}{loss}")
        if self._subconfig().get("report") and trainer.log_dir:
            from autoenc.cli.main import main as autoenc_main

            autoenc_main(["report", trainer.log_dir])


def _check_model_class(ckpt: dict[str, Any], model_config: Any, ckpt_path: str) -> None:
    """Refuse a checkpoint whose model class differs from the config's ``model.class_path``."""
    name = ckpt[CHECKPOINT_KEY]["model"]
    saved = MODELS.get(name) if name in MODELS else None
    class_path = model_config.get("class_path") if model_config is not None else None
    if saved is None or not class_path:
        return
    module, _, attr = str(class_path).rpartition(".")
    try:
        configured = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError, ValueError):
        return  # the parser reports a bad class_path itself
    if getattr(configured, "model_name", None) != name:
        raise CheckpointError(
            f"{ckpt_path!r} holds a {saved.__name__} ({name!r}) but the config's model is "
            f"{configured.__name__}; use the config of the run that wrote it (its config.yaml)"
        )
