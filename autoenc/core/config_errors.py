"""Config errors as one line: jsonargparse's nested, multi-line messages -> key + reason.

jsonargparse explains a bad value as a tree: the key, the Union subtypes it tried, one
error per subtype (a ``class_path`` problem nests another key), the value given. The user
needs the deepest key and the one reason that applies, e.g.
``data.source: MNIST does not accept option 'rot'; it accepts root, split, download,
check_md5 (did you mean 'root'?)``. :func:`one_line_error` walks that tree;
:func:`find_user_error` recovers our own :class:`~autoenc.core.errors.UserError` when a
constructor raised it and jsonargparse wrapped it.
"""

from __future__ import annotations

import importlib
import inspect
import re
from dataclasses import dataclass, field

from autoenc.core.constraints import constructor_parameters
from autoenc.core.errors import chain, did_you_mean, first_line

_PARSER_KEY = re.compile(r'^Parser key "([^"]+)":?$')
_CLASS_PATH = re.compile(r"^Problem with given class_path '([^']+)':?$")
_NOT_ACCEPTED = re.compile(r"^Option '([^']+)' is not accepted")
_REQUIRED = re.compile(r"^the following arguments are required: (.+)$")
_EXPECTED = re.compile(r"^Expected a (.+?)(?:\. Got value: (.*))?$")
_GROUP = re.compile(r"^Group '([^']+)' does not accept option '([^']+)'")
_SUBCOMMAND = re.compile(r"^Subcommand '[^']+' does not accept option '([^']+)'")
_GIVEN = "Given value: "
_NOT_OF_TYPE = re.compile(r"Not of type \w+: ")
_IMPORT_PATH = re.compile(r"^Expected a dot import path string: (.*)$")
_SUBTYPES = re.compile(r"<class '(\w+(?:\.\w+)+)'>")
_NESTED = re.compile(r"^NestedArg\(key='([^']+)'")
_UNEXPECTED = re.compile(r"^Unexpected config:(.*)$", re.DOTALL)
_PARSING = re.compile(r"^Problems parsing config\s*:?\s*(.*)$", re.DOTALL)
_UNRECOGNIZED = re.compile(r"^unrecognized arguments: (\S+)")
_NOT_A_NUMBER = re.compile(r"^(?P<head>.*: expected (?:int or )?float(?: or None)?; got) (?P<value>[-+]?(?:nan|inf|infinity))$",
                           re.IGNORECASE)
_MAX_VALUE = 60
#: The end of the message for nan / inf where a float is expected (a command replaces it with its range).
NOT_FINITE = "; give a finite one"
#: How to write a config, said when one cannot be read.
CONFIG_HINT = "-c takes a YAML config (UTF-8 text of key: value lines) such as configs/digits_vae.yaml"


@dataclass
class _Node:
    """One line of the message and the more-indented lines under it."""

    text: str
    children: list[_Node] = field(default_factory=list)


def _tree(text: str) -> list[_Node]:
    """Lines -> forest by indentation; list bullets ("- ") are stripped."""
    root = _Node("")
    stack: list[tuple[int, _Node]] = [(-1, root)]
    for line in text.splitlines():
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        body = line.strip()
        if body.startswith("- "):
            body = body[2:].strip()
        while stack[-1][0] >= indent:
            stack.pop()
        node = _Node(body)
        stack[-1][1].children.append(node)
        stack.append((indent, node))
    return root.children


def _short(value: str) -> str:
    value = value.strip()
    return value if len(value) <= _MAX_VALUE else value[: _MAX_VALUE - 3] + "..."


def _type_name(text: str) -> str:
    """"<class 'int'>" -> int, "<class 'NoneType'>" -> None, Literal[...] -> one of ..."""
    m = re.fullmatch(r"<class '(?:[\w.]+\.)?(\w+)'>", text)
    if m:
        return "None" if m.group(1) == "NoneType" else m.group(1)
    m = re.fullmatch(r"(?:typing\.|typing_extensions\.)?Literal\[(.*)\]", text)
    if m:
        return f"one of {m.group(1)}"
    return text


def _expected(types: list[str], given: str | None) -> str:
    names = list(dict.fromkeys(types))
    got = f"; got {_short(given)}" if given is not None else ""
    return f"expected {' or '.join(names)}{got}"


def not_accepted(cls: type, option: str, hidden: tuple[str, ...] = ()) -> str:
    """"X does not accept option 'y'; it accepts a, b (did you mean 'b'?)", leaving out the
    ``hidden`` options (linked ones nobody types)."""
    accepted = [o for o in constructor_parameters(cls, foreign=()) if o not in hidden]
    reason = f"{cls.__name__} does not accept option {option!r}; it accepts {', '.join(accepted) or 'no options'}"
    return reason + did_you_mean(option, accepted)


def _not_accepted(class_path: str, option: str) -> str:
    module, _, name = class_path.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module), name)
        return not_accepted(cls, option)
    except (ImportError, AttributeError, ValueError, TypeError):
        return f"{name} does not accept option {option!r}"


def _class_problem(class_path: str, nodes: list[_Node], key: list[str]) -> tuple[list[str], str]:
    """Reason for an error under "Problem with given class_path '...'"."""
    for node in nodes:
        m = _PARSER_KEY.match(node.text)
        if m:
            return _explain(node.children, [*key, "init_args", m.group(1)])
    for node in nodes:
        m = _NOT_ACCEPTED.match(node.text)
        if m:
            return key, _not_accepted(class_path, m.group(1))
        m = _REQUIRED.match(node.text)
        if m:
            name = class_path.rpartition(".")[2]
            return key, f"{name} needs option {m.group(1)}"
    if nodes and re.match(r"^(module '[^']*' has no attribute|No module named)", nodes[0].text):
        return key, f"class_path {class_path!r} not found ({nodes[0].text})"
    if nodes:
        return _explain(nodes, key)
    return key, f"cannot use class_path {class_path!r}"


def _from_errors(items: list[_Node], given: str | None, key: list[str]) -> tuple[list[str], str]:
    """Pick the most specific of a Union's per-subtype errors."""
    for item in items:
        m = _CLASS_PATH.match(item.text)
        if m:
            return _class_problem(m.group(1), item.children, key)
    specific = [it for it in items if not _EXPECTED.match(it.text)]
    for item in specific:
        m = re.match(r"^Not a valid subclass of (\w+)", item.text)
        if m:
            got = f"; got {_short(given)}" if given is not None else ""
            return key, (f"expected a name or a mapping with class_path (a subclass of {m.group(1)}) "
                         f"and init_args{got}")
    if specific:
        return _explain(specific[:1], key)
    types = [_type_name(_EXPECTED.match(it.text).group(1)) for it in items]  # type: ignore[union-attr]
    return key, _expected(types, given)


def _explain(nodes: list[_Node], key: list[str]) -> tuple[list[str], str]:
    """(key path, reason) for the sibling ``nodes`` of a message tree."""
    for node in nodes:
        m = _PARSER_KEY.match(node.text)
        if m:
            return _explain(node.children, [*key, m.group(1)])
    given = next((n.text[len(_GIVEN):] for n in nodes if n.text.startswith(_GIVEN)), None)
    errors = next((n for n in nodes if n.text == "Errors:"), None)
    nested = _NESTED.match(given or "")
    if nested and not any(_CLASS_PATH.match(n.text) for n in (errors.children if errors else [])):
        # --data.source mnist --data.source.init_args.root DIR: no class was resolved for the options
        return key, (f"init_args.{nested.group(1)} needs a class, not a name: give the class name first "
                     "(e.g. MNIST, not mnist) or a class_path mapping")
    if errors is not None and any(_IMPORT_PATH.match(c.text) for c in errors.children):
        subtypes = next((n.text for n in nodes if n.text.startswith("Subtypes:")), "")
        known = subclass_names(_SUBTYPES.findall(subtypes))
        if known:
            name = _short(given or "")
            return key, f"unknown class {name!r}{did_you_mean(name, known)}; known: {', '.join(known)}"
    if errors is not None and errors.children:
        return _from_errors(errors.children, given, key)
    for node in nodes:
        m = _EXPECTED.match(node.text)
        if m:
            return key, _expected([_type_name(m.group(1))], m.group(2) if m.group(2) is not None else given)
        m = _CLASS_PATH.match(node.text)
        if m:
            return _class_problem(m.group(1), node.children, key)
        m = _GROUP.match(node.text)
        if m:
            return [*key, m.group(1)], f"unknown option {m.group(2)!r}"
    if not nodes:
        return key, "invalid value"
    first = nodes[0]
    text = first.text.rstrip(":")
    if first.children and first.text.endswith(":"):  # "reason:" + detail below it
        _, detail = _explain(first.children, [])
        text = f"{text}: {detail}"
    return key, text


def one_line_error(exc: BaseException | str) -> str:
    """One line naming the config key and the most specific reason in ``exc``'s message.

    Examples (jsonargparse's message -> result)::

        Parser key "data.source": ... Problem with given class_path 'autoenc.data.MNIST':
            Option 'rot' is not accepted ...
        -> data.source: MNIST does not accept option 'rot'; it accepts root, split,
           download, check_md5 (did you mean 'root'?)
        Parser key "data.image_size": ... Expected a <class 'int'> / <class 'NoneType'>,
            Given value: abc
        -> data.image_size: expected int or None; got 'abc'

    Messages it does not recognise come back as their first line (never empty, never
    several lines).
    """
    if isinstance(exc, BaseException):
        unreadable = _unreadable_config(exc)
        if unreadable is not None:
            return unreadable
    text = str(exc).strip()
    if not text:
        return type(exc).__name__ if isinstance(exc, BaseException) else "invalid configuration"
    m = _UNEXPECTED.match(text)
    if m:
        what = "empty" if not m.group(1).strip() else "not a mapping of options"
        return f"the config is {what}; {CONFIG_HINT}"
    m = _PARSING.match(text)
    if m:
        return f"the config is not YAML ({_short(' '.join(m.group(1).split()))}); {CONFIG_HINT}"
    if "\n" not in text:
        m = _GROUP.match(text)
        if m:
            return f"{m.group(1)}: unknown option {m.group(2)!r}"
        m = _SUBCOMMAND.match(text)
        if m:
            group, _, option = m.group(1).partition(".")  # data.model.latent_dim -> data, model.latent_dim
            return f"{group}: unknown option {option!r}" if option else f"unknown option {group!r}"
        return text
    key, reason = _explain(_tree(text), [])
    line = " ".join((f"{'.'.join(key)}: {reason}" if key else reason).split())
    line = _NOT_OF_TYPE.sub("", line)  # a registered type's own reason (autoenc.cli.option_checks.Ints) says it all
    m = _NOT_A_NUMBER.match(line)
    if m:  # jsonargparse refuses nan and inf for a float: say what it takes
        return f"{m.group('head')} {m.group('value')}, which is not a finite number{NOT_FINITE}"
    return line


def subclass_names(bases: list[str]) -> list[str]:
    """Names of the public, imported subclasses of the classes at the import paths ``bases``
    (the classes a ``class_path`` may name), sorted."""
    names: set[str] = set()
    for path in bases:
        module, _, name = path.rpartition(".")
        try:
            todo = [getattr(importlib.import_module(module), name)]
        except (ImportError, AttributeError):
            continue
        while todo:
            cls = todo.pop()
            todo += cls.__subclasses__()
            if not cls.__name__.startswith("_") and not inspect.isabstract(cls) and cls.__name__ != name:
                names.add(cls.__name__)
    return sorted(names)


def _unreadable_config(exc: BaseException) -> str | None:
    """A config file that is no text (binary, UTF-16) or no YAML, recognised by the type of the
    error behind ``exc`` (jsonargparse lets it through or wraps it)."""
    import yaml

    for current in chain(exc):
        if isinstance(current, UnicodeDecodeError):
            return f"the config is not UTF-8 text (a binary file, or UTF-16?); {CONFIG_HINT}"
        if isinstance(current, yaml.YAMLError):
            return f"the config is not YAML ({_short(' '.join(first_line(current).split()))}); {CONFIG_HINT}"
    return None


def unrecognized_option(message: str, known: list[str]) -> str:
    """argparse's "unrecognized arguments: --x ..." with the closest known option named."""
    m = _UNRECOGNIZED.match(message)
    if not m:
        return message
    option = m.group(1).split("=", 1)[0]
    return message + did_you_mean(option, known)
