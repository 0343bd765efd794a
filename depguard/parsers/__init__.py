"""The PARSERS registry: one ManifestParser per supported file format."""

from __future__ import annotations

from pathlib import Path

from depguard.errors import UsageError
from depguard.parsers.base import DiskReader, FileReader, ManifestParser
from depguard.parsers.npm_lock import NpmLockParser
from depguard.parsers.package_json import PackageJsonParser
from depguard.parsers.poetry_lock import PoetryLockParser
from depguard.parsers.pylock import PylockParser
from depguard.parsers.pyproject import PyprojectParser
from depguard.parsers.requirements import RequirementsParser
from depguard.parsers.uv_lock import UvLockParser

__all__ = ["PARSERS", "DiskReader", "FileReader", "ManifestParser", "parser_for"]

PARSERS: dict[str, type[ManifestParser]] = {
    parser.name: parser
    for parser in (
        NpmLockParser,
        PackageJsonParser,
        UvLockParser,
        PoetryLockParser,
        PylockParser,
        PyprojectParser,
        RequirementsParser,
    )
}


def parser_for(path: Path, parse_as: str | None = None) -> ManifestParser | None:
    """The parser for `path`, or None when depguard does not read such files."""
    if parse_as is not None:
        try:
            return PARSERS[parse_as]()
        except KeyError:
            known = ", ".join(sorted(PARSERS))
            raise UsageError(f"unknown format {parse_as!r} (known: {known})") from None
    for parser in PARSERS.values():
        if parser.matches(path):
            return parser()
    return None
