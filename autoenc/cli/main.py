"""The ``autoenc`` command: a thin dispatcher over library functions, and its one error boundary.

Subcommands are registered by import path and imported only when run, so
``autoenc --help`` answers without importing torch. :func:`main` is the one place where errors
become what a user sees; every command keeps the rule: one line on stderr saying what is wrong
and how to fix it, exit code 2, no traceback:

* a :class:`~autoenc.core.errors.UserError` (bad option, missing file, stale cache) -> its first line;
* an ``OSError`` naming a path (a file where a directory should be and the reverse, no
  permission, a full disk, ...) -> :func:`autoenc.core.atomic.file_error_message`; an ``OSError``
  naming no path is a bug and keeps its traceback;
* a stdout closed at the start (``>&-``) -> one line before anything runs;
* a closed pipe on stdout (``autoenc sources | head -1``) ends quietly with exit code 141 (128 +
  SIGPIPE, what ``cat`` or ``yes`` report then): the output was cut short, so a pipeline
  run with ``set -o pipefail`` must not take it for success;
* running out of memory (``MemoryError``, torch's ``OutOfMemoryError``) -> what to ask less of;
* Ctrl-C -> "interrupted", exit code 130.

Two flags are taken from anywhere on the line: ``--debug`` shows the traceback of an error,
``--verbose`` lets third-party warnings (deprecations, torch's pickle notices, Lightning's
tips) and Lightning's info banners through; without it they are silenced so nothing precedes
an error line.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from autoenc.core.errors import UserError, first_line
from autoenc.core.quiet import third_party_noise
from autoenc.core.registry import Registry


@dataclass(frozen=True)
class Command:
    """A subcommand: ``target`` is "module:function" taking argv (list[str]) -> exit code.
    ``reads`` names the global flags (:data:`GLOBAL_FLAGS`) the command also reads itself:
    those stay in its argv (``fit`` passes ``--verbose`` on to Lightning's output settings)."""

    target: str
    summary: str
    reads: tuple[str, ...] = ()

    def load(self) -> Callable[[list[str]], int | None]:
        module, _, func = self.target.partition(":")
        return getattr(importlib.import_module(module), func)


COMMANDS: Registry[Command] = Registry("command")


def command(name: str, target: str, summary: str, reads: tuple[str, ...] = ()) -> None:
    """Register subcommand ``name`` run by ``target`` ("module:function")."""
    COMMANDS.register(name, Command(target, summary, reads))


# Order here is the order of `autoenc --help`.
command("fit", "autoenc.cli.train:fit", "train a model from a YAML config (LightningCLI)", reads=("--verbose",))
command("validate", "autoenc.cli.train:validate", "evaluate a checkpoint on the validation split",
        reads=("--verbose",))
command("preview", "autoenc.cli.data:preview", "write a grid of images from a data source")
command("sources", "autoenc.cli.sources:sources", "list data sources and their options")
command("reconstruct", "autoenc.cli.look:reconstruct", "inputs above reconstructions, nats per image")
command("traverse", "autoenc.cli.look:traverse", "latent traversals: grid PNG + animated GIF")
command("sample", "autoenc.cli.look:sample", "decode samples (VAE prior, or a Gaussian fitted to AE codes)")
command("interpolate", "autoenc.cli.look:interpolate", "decode paths between the codes of two images")
command("latent-map", "autoenc.cli.look:latent_map", "2-D map of the codes coloured by label or factor")
command("report", "autoenc.cli.report:report", "one-page report of a run: figures and key numbers")
command("id", "autoenc.cli.intrinsic_dim:main", "intrinsic dimension of data, codes or a .npy array")
command("disentangle", "autoenc.cli.disentangle:main", "disentanglement scores (MIG, DCI, SAP, ...) against ground-truth factors")
command("sweep", "autoenc.cli.sweep:main", "train several latent sizes (or one ordered model), recommend one")
command("features", "autoenc.cli.features:features_command", "encode a data split once into a feature cache")
command("probe", "autoenc.cli.probe:probe_command", "linear or kNN probe on a feature cache: accuracy vs chance")
command("retrain", "autoenc.cli.retrain_command:retrain_command", "train a new last layer on a feature cache, keep the classifier")
command("predict", "autoenc.cli.predict:predict_command", "classify image files with a retrained classifier")


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
    lines += ["", "--debug anywhere shows the full traceback of an error; --verbose shows third-party "
              "warnings and Lightning's banners."]
    return "\n".join(lines)


#: Flags main() takes from anywhere on the command line.
GLOBAL_FLAGS = ("--debug", "--verbose")
#: Exit code of a command whose stdout was closed by its reader: 128 + SIGPIPE, as for C tools.
BROKEN_PIPE = 141
def _stdout_closed() -> bool:
    """Whether stdout's reader has gone (a pipe whose read end is closed); True when stdout is no
    file descriptor (captured in-process) and so cannot be asked."""
    import select

    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return True
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    return any(events & select.POLLERR for _, events in poller.poll(0))


def silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush of what is still buffered does
    not fail again (the recipe of Python's documentation for SIGPIPE)."""
    with contextlib.suppress(AttributeError, OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def _out_of_memory() -> tuple[type[BaseException], ...]:
    """MemoryError (numpy, Python) and, once torch is imported, its device OutOfMemoryError."""
    torch = sys.modules.get("torch")
    device_oom = getattr(torch, "OutOfMemoryError", None)
    return (MemoryError, device_oom) if isinstance(device_oom, type) else (MemoryError,)


def _fail(name: str, message: str, debug: bool) -> int:
    if debug:
        traceback.print_exc()
    print(f"autoenc {name}: error: {message}", file=sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``autoenc`` console script. Returns the exit code."""
    from autoenc.core.atomic import file_error_message

    given = list(sys.argv[1:] if argv is None else argv)
    debug, verbose = "--debug" in given, "--verbose" in given
    args = [a for a in given if a not in GLOBAL_FLAGS]
    if not args or args[0] in ("-h", "--help", "help"):
        print(usage())
        return 0
    if args[0] == "--version":
        from importlib.metadata import version

        print(f"autoenc {version('autoenc')}")
        return 0
    name, rest = args[0], args[1:]
    if sys.stdout is None:  # started with stdout closed (`>&-`): nowhere to write what was asked
        print(f"autoenc {name}: error: stdout is closed; redirect it to a file or /dev/null instead of closing it",
              file=sys.stderr)
        return 2
    try:
        cmd = COMMANDS.get(name)
        rest += [flag for flag in cmd.reads if flag in given]
        with third_party_noise(verbose):
            code = cmd.load()(rest)
            sys.stdout.flush()  # a closed stdout fails here, inside the boundary, not at exit
    except BrokenPipeError:
        if not _stdout_closed():
            raise  # a pipe of our own (a child process) broke: a bug, with its traceback
        silence_stdout()
        return BROKEN_PIPE
    except UserError as err:
        return _fail(name, first_line(err), debug)
    except OSError as err:
        message = file_error_message(err)
        if message is None:
            raise
        return _fail(name, message, debug)
    except _out_of_memory() as err:
        return _fail(name, f"out of memory ({first_line(err)}); ask for less at once: a smaller --batch_size, "
                           "--count or --max_points, or another --device", debug)
    except KeyboardInterrupt:
        print(f"autoenc {name}: interrupted", file=sys.stderr)
        return 130
    except SystemExit as done:  # argparse's --help / --version inside a subcommand
        return done.code if isinstance(done.code, int) else (0 if done.code is None else 2)
    return int(code or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
