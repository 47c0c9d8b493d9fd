"""``autoenc.fit``: train from a config in this process, with no command line involved.

The config is the same as ``autoenc fit -c CONFIG`` reads (a YAML path or the mapping it
holds); ``overrides`` are merged into it with the same names as the command's options::

    run = autoenc.fit("configs/digits_vae.yaml", model={"latent_dim": 8},
                      trainer={"max_epochs": 5}, name="small")
    run = autoenc.fit(config, **{"model.init_args.latent_dim": 8, "data.subset": 500})

A ``model`` mapping without ``class_path`` / ``init_args`` keys is taken as init_args of the
config's model. Multi-process training (``trainer={"devices": 2, "strategy": "ddp"}``)
re-launches the running script, so it needs a script with a ``__main__`` guard (as with any
Lightning script), not a notebook.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from autoenc.core.errors import UserError
from autoenc.core.yaml_io import load_yaml
from autoenc.runs.run import Run

__all__ = ["check_option_names", "fit", "load_config", "merge_overrides", "read_yaml"]


def read_yaml(path: str | os.PathLike) -> Any:
    """The parsed content of the YAML file ``path``; one UserError line when it is missing,
    not a file, not YAML, or names a key twice (:mod:`autoenc.core.yaml_io`)."""
    import yaml

    p = Path(path).expanduser()
    if not p.is_file():
        raise UserError(f"config {str(p)!r} not found; pass a training config such as configs/digits_vae.yaml")
    try:
        return load_yaml(p.read_text())
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise UserError(f"cannot read config {str(p)!r} as YAML ({' '.join(str(err).split())[:160]})") from None


def load_config(config: str | os.PathLike | Mapping[str, Any]) -> dict[str, Any]:
    """A config as a fresh dict: a YAML file read, or a mapping copied."""
    if isinstance(config, Mapping):
        return copy.deepcopy(dict(config))
    loaded = read_yaml(config)
    if not isinstance(loaded, dict):
        raise UserError(f"config {str(config)!r} holds {type(loaded).__name__}, not a mapping of options")
    return loaded


def _merge(into: dict[str, Any], update: Mapping[str, Any]) -> None:
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = copy.deepcopy(value)


def merge_overrides(config: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """``config`` with ``overrides`` merged in: dotted keys (``"model.init_args.lr"``) name
    nested options; mappings merge key by key; a ``model`` mapping of plain options goes into
    the model's ``init_args``. Returns ``config`` (changed in place)."""
    for key, value in overrides.items():
        head, *rest = key.split(".")
        update = value
        for part in reversed(rest):
            update = {part: update}
        model = config.get("model")
        if head == "model" and isinstance(update, Mapping) and isinstance(model, dict) and "class_path" in model \
                and not ({"class_path", "init_args"} & set(update)):
            update = {"init_args": update}
        _merge(config, {head: update})
    return config


def _refuse_unknown(where: str, cls: type, given: Mapping[str, Any], linked: tuple[str, ...] = ()) -> None:
    """One line naming an option ``cls`` does not take, the ones it does, and the closest."""
    from autoenc.core.config_errors import not_accepted
    from autoenc.core.constraints import constructor_parameters

    accepted = constructor_parameters(cls, foreign=())
    for key in given:
        if key not in accepted or key in linked:
            raise UserError(f"{where}: {not_accepted(cls, key, hidden=linked)}")


def check_option_names(cfg: Mapping[str, Any]) -> None:
    """Refuse unknown option names in the model, data and trainer sections by the classes'
    signatures, before LightningCLI builds anything (its own message is a nested tree)."""
    from lightning.pytorch import Trainer

    from autoenc.core.constraints import InstanceOf, Null, check_param
    from autoenc.data.module import ImageDataModule
    from autoenc.models.autoencoder_module import MODELS

    for section in ("data", "trainer"):
        check_param(section, [InstanceOf(Mapping, "a mapping of options (e.g. {'max_epochs': 5})"), Null()],
                    cfg.get(section))
    model = cfg.get("model")
    if isinstance(model, Mapping) and isinstance(model.get("class_path"), str):
        name = model["class_path"].rpartition(".")[2]
        cls = next((c for c in (MODELS.get(n) for n in MODELS.list()) if c.__name__ == name), None)
        if cls is not None and isinstance(model.get("init_args"), Mapping):
            _refuse_unknown("model", cls, model["init_args"], linked=("input_shape",))
    if isinstance(cfg.get("data"), Mapping):
        _refuse_unknown("data", ImageDataModule, cfg["data"])
    if isinstance(cfg.get("trainer"), Mapping):
        _refuse_unknown("trainer", Trainer, cfg["trainer"])


def fit(config: str | os.PathLike | Mapping[str, Any], *, verbose: bool = False, **overrides: Any) -> Run:
    """Train a model from ``config`` (a YAML path or mapping, as ``autoenc fit -c`` reads)
    with ``overrides`` merged in, in this process, and return the finished :class:`Run`
    (its best checkpoint, model and data).

    Everything ``autoenc fit`` guarantees holds: a version directory of its own under
    ``runs_dir/name``, ``checkpoints/last.ckpt`` after every epoch, ``ckpt_path="last"`` to
    resume, one-line errors (:class:`~autoenc.core.errors.UserError`).

    Args:
        config: a YAML file or its mapping (keys ``model``, ``data``, ``trainer``, ``name``, ...).
        verbose: show Lightning's banners and third-party warnings.
        overrides: options with the command's names, e.g. ``trainer={"max_epochs": 5}``,
            ``name="small"``, ``ckpt_path="last"``, ``**{"model.init_args.latent_dim": 8}``.

    Raises:
        UserError: a bad option (unknown key, wrong type, value out of range) or data problem.
    """
    from autoenc.training.lightning_cli import build_cli

    cfg = merge_overrides(load_config(config), overrides)
    check_option_names(cfg)
    cli = build_cli({"subcommand": "fit", "fit": cfg}, verbose=verbose)
    if cli.run_dir is None:
        raise UserError("fit ended without a run directory")
    return Run.open(cli.run_dir)
