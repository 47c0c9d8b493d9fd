"""Layer 3: the run directory, checkpoints (read, write, export). ``Run.open`` opens a run."""

from types import ModuleType

from autoenc.core.lazy import submodule


def __getattr__(name: str) -> ModuleType:  # submodules on first use (autoenc.core.lazy)
    return submodule(__name__, name)
