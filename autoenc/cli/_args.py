"""argparse with one-line errors, for the one command still written by hand (``autoenc sweep``);
every other command is generated from a typed function (:mod:`autoenc.cli._generate`)."""

from __future__ import annotations

import argparse

from autoenc.errors import UserError


class ArgumentParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors become :class:`UserError` (one line, exit 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UserError(f"{message} (see `{self.prog} --help`)")
