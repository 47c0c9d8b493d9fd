"""The ``autoenc`` command: a thin dispatcher over library functions.

Subcommands are registered by import path and imported only when run, so
``autoenc --help`` answers without importing torch. Every :class:`~autoenc.errors.UserError`
becomes one line on stderr and exit code 2; ``--debug`` (anywhere on the line) shows the
traceback instead.
"""

from __future__ import annotations

import importlib
import sys
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from autoenc.errors import UserError
from autoenc.registry import Registry


@dataclass(frozen=True)
class Command:
    """A subcommand: ``target`` is "module:function" taking argv (list[str]) -> exit code."""

    target: str
    summary: str

    def load(self) -> Callable[[list[str]], int | None]:
        module, _, func = self.target.partition(":")
        return getattr(importlib.import_module(module), func)


COMMANDS: Registry[Command] = Registry("command")


def command(name: str, target: str, summary: str) -> None:
    """Register subcommand ``name`` run by ``target`` ("module:function")."""
    COMMANDS.register(name, Command(target, summary))


# Order here is the order of `autoenc --help`.
command("fit", "autoenc.cli.train:fit", "train a model from a YAML config (LightningCLI)")
command("validate", "autoenc.cli.train:validate", "evaluate a checkpoint on the validation split")
command("preview", "autoenc.cli.data:preview", "write a grid of images from a data source")
command("sources", "autoenc.cli.data:sources", "list data sources and their options")
command("reconstruct", "autoenc.cli.look:reconstruct", "inputs above reconstructions, nats per image")
command("traverse", "autoenc.cli.look:traverse", "latent traversals: grid PNG + animated GIF")
command("sample", "autoenc.cli.look:sample", "decode samples (VAE prior, or a Gaussian fitted to AE codes)")
command("interpolate", "autoenc.cli.look:interpolate", "decode paths between the codes of two images")
command("latent-map", "autoenc.cli.look:latent_map", "2-D map of the codes coloured by label or factor")
command("report", "autoenc.cli.report:report", "one-page report of a run: figures and key numbers")
command("id", "autoenc.cli.intrinsic_dim:main", "intrinsic dimension of data, codes or a .npy array")
command("sweep", "autoenc.cli.sweep:main", "train several latent sizes (or one ordered model), recommend one")
command("features", "autoenc.cli.features:features", "encode a data split once into a feature cache")
command("probe", "autoenc.cli.features:probe", "linear or kNN probe on a feature cache: accuracy vs chance")


def usage() -> str:
    width = max(len(n) for n in COMMANDS._items)
    lines = [
        "usage: autoenc COMMAND [options]   (autoenc COMMAND --help for a command's options)",
        "",
        "Learn and study bottleneck representations of images.",
        "",
        "commands:",
    ]
    lines += [f"  {n.ljust(width)}  {c.summary}" for n, c in COMMANDS._items.items()]
    lines += ["", "--debug anywhere shows the full traceback of an error."]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``autoenc`` console script. Returns the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    args = [a for a in args if a != "--debug"]
    if not args or args[0] in ("-h", "--help", "help"):
        print(usage())
        return 0
    if args[0] == "--version":
        from autoenc import __version__

        print(f"autoenc {__version__}")
        return 0
    name, rest = args[0], args[1:]
    try:
        code = COMMANDS.get(name).load()(rest)
    except UserError as err:
        if debug:
            traceback.print_exc()
        message = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        print(f"autoenc {name}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"autoenc {name}: interrupted", file=sys.stderr)
        return 130
    except SystemExit as done:  # argparse's --help / --version inside a subcommand
        return done.code if isinstance(done.code, int) else (0 if done.code is None else 2)
    return int(code or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
