"""The PARSERS registry: one ManifestParser per supported file format, imported on demand.

A scan of an npm project never imports the TOML parsers and vice versa: a file's name
picks the one parser module that can read it (`kind_of`), and that parser's own
`matches()` has the last word.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from importlib import import_module
from pathlib import Path

from depguard.errors import UsageError
from depguard.parsers.base import DiskReader, FileReader, ManifestParser

__all__ = ["PARSERS", "DiskReader", "FileReader", "ManifestParser", "kind_of", "parser_for"]

_MODULES = {
    "package-lock.json": ("npm_lock", "NpmLockParser"),
    "package.json": ("package_json", "PackageJsonParser"),
    "uv.lock": ("uv_lock", "UvLockParser"),
    "poetry.lock": ("poetry_lock", "PoetryLockParser"),
    "pylock.toml": ("pylock", "PylockParser"),
    "pyproject.toml": ("pyproject", "PyprojectParser"),
    "requirements.txt": ("requirements", "RequirementsParser"),
}
_EXACT = {"package-lock.json": "package-lock.json", "npm-shrinkwrap.json": "package-lock.json",
          "package.json": "package.json", "uv.lock": "uv.lock", "poetry.lock": "poetry.lock",
          "pyproject.toml": "pyproject.toml"}
_PYLOCK = re.compile(r"^pylock\.([^.]+\.)?toml$")
_REQUIREMENTS_EXT = (".txt", ".in", ".pip")


class _Registry(Mapping[str, type[ManifestParser]]):
    """Format name -> parser class; a parser's module is imported on first use."""

    def __getitem__(self, name: str) -> type[ManifestParser]:
        module, cls = _MODULES[name]
        parser: type[ManifestParser] = getattr(import_module(f"{__name__}.{module}"), cls)
        return parser

    def __iter__(self) -> Iterator[str]:
        return iter(_MODULES)

    def __len__(self) -> int:
        return len(_MODULES)


PARSERS: Mapping[str, type[ManifestParser]] = _Registry()


def kind_of(path: Path) -> str | None:
    """The format a file name suggests (a cheap pre-filter; the parser confirms)."""
    name = path.name
    if name in _EXACT:
        return _EXACT[name]
    if _PYLOCK.match(name):
        return "pylock.toml"
    if name.lower().endswith(_REQUIREMENTS_EXT):
        return "requirements.txt"
    return None


def parser_for(path: Path, parse_as: str | None = None) -> ManifestParser | None:
    """The parser for `path`, or None when depguard does not read such files."""
    if parse_as is not None:
        if parse_as not in _MODULES:
            known = ", ".join(sorted(_MODULES))
            raise UsageError(f"unknown format {parse_as!r} (known: {known})")
        return PARSERS[parse_as]()
    kind = kind_of(path)
    if kind is None:
        return None
    parser = PARSERS[kind]
    return parser() if parser.matches(path) else None
