"""``autoenc fit`` / ``validate``: LightningCLI with the data shape linked into the model.

A run lives in ``<runs_dir>/<name>/version_N/``: ``config.yaml``, ``checkpoints/``
(``last.ckpt`` and the best by ``val/loss``), ``metrics.csv`` (+ TensorBoard events when
tensorboard is installed) and ``reconstructions/epoch_XXXX.png``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from lightning.pytorch import Trainer
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.cli import LightningArgumentParser, LightningCLI
from lightning.pytorch.loggers import CSVLogger

from autoenc.data.module import ImageDataModule
from autoenc.errors import UserError
from autoenc.models.base import AutoencoderModule
from autoenc.training.callbacks import NonFiniteLossGuard, ReconstructionGrid
from autoenc.training.checkpoints import AtomicCheckpointIO


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

    def before_instantiate_classes(self) -> None:
        cfg = self.config[self.subcommand]
        self._resume_version: int | None = None
        if cfg.get("ckpt_path") == "last":
            version, path = find_last_checkpoint(cfg["runs_dir"], cfg["name"])
            self._resume_version = version
            cfg["ckpt_path"] = str(path)

    def _instantiate_trainer(self, config: dict[str, Any], callbacks: list) -> Trainer:
        cfg = self.config[self.subcommand]
        if config.get("logger") in (None, True):
            version = getattr(self, "_resume_version", None)
            loggers = [CSVLogger(cfg["runs_dir"], name=cfg["name"], version=version)]
            if _tensorboard_available():
                from lightning.pytorch.loggers import TensorBoardLogger

                loggers.append(TensorBoardLogger(cfg["runs_dir"], name=cfg["name"], version=loggers[0].version,
                                                 default_hp_metric=False))
            config["logger"] = loggers
        if not any(isinstance(c, ModelCheckpoint) for c in (config.get("callbacks") or [])):
            callbacks = [*callbacks, ModelCheckpoint(monitor="val/loss", mode="min", save_last=True,
                                                     filename="best-{epoch:03d}-{step}", auto_insert_metric_name=False)]
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
            print(f"best checkpoint: {best} (val/loss {float(score):.2f} nats/image)")
        if self.config[self.subcommand].get("report") and trainer.log_dir:
            from autoenc.cli.main import main as autoenc_main

            autoenc_main(["report", trainer.log_dir])
