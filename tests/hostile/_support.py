"""Helpers for the hostile-input tests: an in-memory reader, document mutation, a TOML writer.

The mutation helpers take a real document (decoded JSON or TOML), pick places in it and
put a hostile value there: a wrong type, a huge or odd number, an empty or odd string,
a nested structure, or the key removed. The result is written back as text and fed to the
code under test, which must parse it or raise a DepguardError (one line at the CLI).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from hypothesis import strategies as st

from depguard.errors import DepguardError
from depguard.parsers.base import decode

__all__ = [
    "MemReader",
    "Mutation",
    "all_paths",
    "apply_mutations",
    "expect_parse_or_error",
    "hostile_values",
    "mutations",
    "toml_dumps",
]

T = TypeVar("T")
PathKey = tuple[Any, ...]
Mutation = tuple[int, str, Any]
"""(index into the document's paths, action, value)."""


class MemReader:
    """A FileReader over an in-memory tree of bytes, decoded the way the disk reader does."""

    def __init__(self, files: dict[Path, bytes]) -> None:
        self.files = files

    def read_text(self, path: Path) -> str:
        if path not in self.files:
            from depguard.errors import ParseError

            raise ParseError(path, "cannot read: No such file or directory")
        return decode(path, self.files[path])

    def exists(self, path: Path) -> bool:
        return path in self.files


def expect_parse_or_error(call: Callable[[], T]) -> T | DepguardError:
    """Run `call`; a DepguardError with a message is fine, anything else fails.

    (A key from the file may put a newline in the message: the CLI escapes it, and
    test_hostile_inputs checks the printed line.)
    """
    try:
        return call()
    except DepguardError as exc:
        assert str(exc), "an error needs a message"
        return exc


# ------------------------------------------------------------------ hostile values

_ODD_STRINGS = [
    "",
    " ",
    "\x00",
    "\n",
    "../../../../etc/passwd",
    "node_modules/",
    "node_modules/../../x",
    "npm:",
    "npm:@",
    "npm:x@",
    "@",
    "@scope/",
    "file:",
    "link:",
    "git+https://",
    "1.0.0",
    "==1.0",
    "^1.2.3 || ~2",
    ">=1,<",
    "*",
    "x" * 5000,
    "é" * 50,
    "\ud800".encode("utf-8", "surrogatepass").decode("utf-8", "replace"),
    "{}",
    "[]",
    "null",
    "sha512-",
    "sha256:zz",
    "python_version < '3'",
    "extra ==",
    "1.0.0-rc.1+build",
    "v1",
    "0" * 400,
]
_ODD_NUMBERS = [0, -1, 1, 2, 3, 4, 2**63, -(2**63) - 1, 10**400, 1.5, -0.0, 1e308]


_KEYS = st.sampled_from(
    ["", "a", "version", "name", "dependencies", "node_modules/x", "packages", "id"]
)


def hostile_values(*, toml: bool = False) -> st.SearchStrategy[Any]:
    """Values of every JSON (or TOML) type, biased towards the odd ones."""
    leaves: list[st.SearchStrategy[Any]] = [
        st.sampled_from(_ODD_STRINGS),
        st.sampled_from(_ODD_NUMBERS),
        st.booleans(),
        st.text(max_size=12),
        st.integers(),
    ]
    if toml:
        leaves.append(st.sampled_from([math.inf, -math.inf, math.nan]))
        leaves.append(st.sampled_from([dt.date(1979, 5, 27), dt.datetime(2026, 3, 24, 10, 0),
                                       dt.time(7, 32)]))
    else:
        leaves.append(st.none())
    leaf = st.one_of(*leaves)
    return st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3),
            st.dictionaries(_KEYS | st.text(max_size=5), inner, max_size=3),
        ),
        max_leaves=6,
    )


def all_paths(doc: Any, limit: int = 5000) -> list[PathKey]:
    """Every path into `doc` (dict keys and list indexes), breadth first, at most `limit`."""
    found: list[PathKey] = [()]
    queue: list[tuple[PathKey, Any]] = [((), doc)]
    while queue and len(found) < limit:
        nxt: list[tuple[PathKey, Any]] = []
        for path, node in queue:
            children: Iterator[tuple[Any, Any]]
            if isinstance(node, dict):
                children = iter(node.items())
            elif isinstance(node, list):
                children = iter(enumerate(node))
            else:
                continue
            for key, child in children:
                found.append((*path, key))
                nxt.append(((*path, key), child))
        queue = nxt
    return found[:limit]


ACTIONS = ("replace", "replace", "replace", "delete", "add", "rename")


def mutations(n_paths: int, *, toml: bool = False) -> st.SearchStrategy[list[Mutation]]:
    """One to three mutations addressed by an index into the document's path list."""
    one = st.tuples(
        st.integers(min_value=0, max_value=max(0, n_paths - 1)),
        st.sampled_from(ACTIONS),
        hostile_values(toml=toml),
    )
    return st.lists(one, min_size=1, max_size=3)


def apply_mutations(doc: Any, paths: list[PathKey], muts: list[Mutation]) -> Any:
    """A deep copy of `doc` with each mutation applied; stale paths are skipped."""
    doc = json.loads(json.dumps(doc, default=str)) if not _has_dates(doc) else _copy(doc)
    for index, action, value in muts:
        path = paths[index]
        if not path:
            doc = value if action == "replace" else doc
            continue
        parent = _get(doc, path[:-1])
        key = path[-1]
        if isinstance(parent, dict) and key in parent:
            if action == "replace":
                parent[key] = value
            elif action == "delete":
                del parent[key]
            elif action == "rename":
                parent[f"{key}~"] = parent.pop(key)
            elif isinstance(parent[key], dict):
                parent[key]["injected"] = value
            else:
                parent[key] = [parent[key], value]
        elif isinstance(parent, list) and isinstance(key, int) and key < len(parent):
            if action in ("replace", "rename"):
                parent[key] = value
            elif action == "delete":
                del parent[key]
            else:
                parent.append(value)
    return doc


def _has_dates(doc: Any) -> bool:
    if isinstance(doc, dict):
        return any(_has_dates(v) for v in doc.values())
    if isinstance(doc, list):
        return any(_has_dates(v) for v in doc)
    return isinstance(doc, dt.date | dt.time)


def _copy(doc: Any) -> Any:
    if isinstance(doc, dict):
        return {k: _copy(v) for k, v in doc.items()}
    if isinstance(doc, list):
        return [_copy(v) for v in doc]
    return doc


def _get(doc: Any, path: PathKey) -> Any:
    node = doc
    for key in path:
        in_dict = isinstance(node, dict) and key in node
        if in_dict or (isinstance(node, list) and isinstance(key, int) and key < len(node)):
            node = node[key]
        else:
            return None
    return node


# ------------------------------------------------------------------ TOML writer


def toml_dumps(doc: Any) -> str:
    """A small TOML writer (tables as [headers], everything below as inline values).

    A non-table top level cannot be TOML: it is written under a key, which is itself
    a wrong type for every reader.
    """
    if not isinstance(doc, dict):
        doc = {"value": doc}
    lines: list[str] = []
    _table(doc, (), lines)
    return "\n".join(lines) + "\n"


def _table(table: dict[str, Any], prefix: tuple[str, ...], lines: list[str]) -> None:
    subtables = []
    arrays = []
    for key, value in table.items():
        if isinstance(value, dict) and value:
            subtables.append((key, value))
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            arrays.append((key, value))
        else:
            lines.append(f"{_key(key)} = {_inline(value)}")
    for key, value in subtables:
        lines.append(f"[{'.'.join(_key(k) for k in (*prefix, key))}]")
        _table(value, (*prefix, key), lines)
    for key, items in arrays:
        for item in items:
            lines.append(f"[[{'.'.join(_key(k) for k in (*prefix, key))}]]")
            _table(item, (*prefix, key), lines)


def _key(key: Any) -> str:
    return json.dumps(str(key), ensure_ascii=False)


def _inline(value: Any) -> str:
    if value is None:
        return '"None"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value) if -(2**63) <= value < 2**63 else json.dumps(str(value))
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_inline(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(k)} = {_inline(v)}" for k, v in value.items()) + "}"
    return json.dumps(str(value))
