"""Ctrl-C during training, told apart from a normal exit.

Lightning handles a ``KeyboardInterrupt`` inside ``Trainer.fit`` itself: it runs the callbacks'
``on_exception`` (our ``last.ckpt`` is written there), ignores further Ctrl-C and then calls
``sys.exit(1)``, so the caller sees a plain ``SystemExit(1)``, the same as a failure. The
:class:`InterruptWatch` callback records the interrupt through that public hook, and
:func:`as_interrupt` turns Lightning's exit back into the ``KeyboardInterrupt`` it was (exit 130
for the command, an exception a notebook can catch) and gives Ctrl-C back its handler.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

import lightning as L

__all__ = ["InterruptWatch", "as_interrupt"]


class InterruptWatch(L.Callback):
    """Remembers whether the Trainer stopped on a ``KeyboardInterrupt``."""

    def __init__(self) -> None:
        self.interrupted = False

    def on_exception(self, trainer, pl_module, exception: BaseException) -> None:
        if isinstance(exception, KeyboardInterrupt):
            self.interrupted = True


def as_interrupt(exc: BaseException, watch: InterruptWatch | None, sigint_handler: Any) -> BaseException:
    """``exc``, or a ``KeyboardInterrupt`` when it is Lightning's ``sys.exit(1)`` after a Ctrl-C
    that ``watch`` saw; restores ``sigint_handler`` (Lightning leaves Ctrl-C ignored)."""
    if not (isinstance(exc, SystemExit) and watch is not None and watch.interrupted):
        return exc
    if sigint_handler is not None and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, sigint_handler)
    return KeyboardInterrupt()
