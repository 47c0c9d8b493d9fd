"""The one YAML reader of autoenc: configs, run records, sweep records and command-line values.

It is PyYAML's safe loader with two changes:

* a key given twice in one mapping is refused (PyYAML keeps the last silently, so a config
  with two ``latent_dim:`` lines trained with whichever came second);
* numbers read as YAML 1.2 / jsonargparse read them (``1e-3`` is a float, not a string) and
  dates stay strings, so a file means the same here as in ``autoenc fit -c``.

:func:`use_for_jsonargparse` makes jsonargparse (LightningCLI's parser) read ``-c`` files and
option values with it too.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

__all__ = ["DuplicateKeyError", "UniqueKeyLoader", "load_yaml", "use_for_jsonargparse"]

_FLOAT = re.compile(r"""^(?:
    [-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
   |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
   |\.[0-9_]+(?:[eE][-+][0-9]+)?
   |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
   |[-+]?\.(?:inf|Inf|INF)
   |\.(?:nan|NaN|NAN))$""", re.X)
_DROPPED = {"tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:float"}


class DuplicateKeyError(yaml.constructor.ConstructorError):
    """A mapping that names one key twice; ``str()`` is one sentence naming the key and lines."""

    def __str__(self) -> str:
        return f"{self.problem} (line {self.problem_mark.line + 1})" if self.problem_mark else str(self.problem)


class UniqueKeyLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """``yaml.SafeLoader`` refusing duplicate keys, with jsonargparse's number rules."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, Any] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.setdefault(key, key_node)
            except TypeError:
                continue  # an unhashable key: SafeLoader says so itself
            if first is not key_node:
                raise DuplicateKeyError("while reading a mapping", node.start_mark,
                                        f"key {key!r} is given twice (also on line {first.start_mark.line + 1}); "
                                        "keep one", key_node.start_mark)
        return super().construct_mapping(node, deep=deep)


UniqueKeyLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in _DROPPED]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
UniqueKeyLoader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT, list("-+0123456789."))


def load_yaml(text: str) -> Any:
    """The value of YAML ``text``.

    Raises:
        yaml.YAMLError: not YAML, or a key given twice in one mapping (:class:`DuplicateKeyError`).
    """
    return yaml.load(text, Loader=UniqueKeyLoader)  # noqa: S506 - a safe loader


def _jsonargparse_value(stream: str) -> Any:
    """jsonargparse's YAML value rule over :func:`load_yaml`: ``{a, b}`` and ``a:`` given as an
    option value stay strings (as jsonargparse's own loader does)."""
    value = load_yaml(stream)
    if isinstance(value, dict) and value and all(v is None for v in value.values()):
        if len(value) == 1 and stream.strip() == f"{next(iter(value))}:":
            return stream
        keys = set(stream.strip(" {}").replace(" ", "").split(","))
        if keys and keys == set(value):
            return stream
    return value


def use_for_jsonargparse() -> None:
    """Make jsonargparse's ``yaml`` mode read with :func:`load_yaml` (duplicate keys refused)."""
    from jsonargparse import set_loader

    set_loader("yaml", _jsonargparse_value, exceptions=(yaml.YAMLError,))
