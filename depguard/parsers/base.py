"""The ManifestParser interface and the file-reading seam parsers share."""

from __future__ import annotations

import json
import os
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar, Protocol

from depguard.errors import ParseError
from depguard.models import Ecosystem, ParsedManifest

__all__ = ["DiskReader", "FileReader", "ManifestParser", "ParseError", "load_json", "load_toml"]

MAX_FILE_BYTES = 64 * 1024 * 1024


class FileReader(Protocol):
    """Reads project files; the disk by default, a git revision during `check`."""

    def read_text(self, path: Path) -> str: ...

    def exists(self, path: Path) -> bool: ...


class DiskReader:
    """Reads the working tree, refusing files that resolve outside `boundary`."""

    def __init__(self, boundary: Path | None = None) -> None:
        self.boundary = boundary.resolve() if boundary else None

    def read_text(self, path: Path) -> str:
        real = path.resolve()
        if self.boundary is not None and not real.is_relative_to(self.boundary):
            raise ParseError(path, f"refusing to read a file outside the project ({real})")
        try:
            size = os.stat(real).st_size
            if size > MAX_FILE_BYTES:
                raise ParseError(path, f"file is too large ({size} bytes; limit {MAX_FILE_BYTES})")
            data = real.read_bytes()
        except OSError as exc:
            raise ParseError(path, f"cannot read: {exc.strerror or exc}") from exc
        return decode(path, data)

    def exists(self, path: Path) -> bool:
        return path.is_file()


def decode(path: Path | str, data: bytes) -> str:
    """UTF-8 (with or without BOM); anything else is a clear error naming the line."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ParseError(path, "not valid UTF-8 text", line) from exc
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise ParseError(path, "binary data (NUL byte) in a text file", line)
    return text


def load_json(path: Path | str, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParseError(path, f"invalid JSON: {exc.msg}", exc.lineno) from exc
    except ValueError as exc:  # an integer of more than 4300 digits
        raise ParseError(path, f"invalid JSON: {_first_clause(exc)}") from exc
    except RecursionError as exc:
        raise ParseError(path, "invalid JSON: nested too deeply") from exc


def load_toml(path: Path | str, text: str) -> dict[str, Any]:
    import tomllib

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None) or _toml_line(str(exc))
        msg = getattr(exc, "msg", None) or str(exc).split(" (at line")[0]
        raise ParseError(path, f"invalid TOML: {msg}", line) from exc
    except ValueError as exc:  # an integer of more than 4300 digits
        raise ParseError(path, f"invalid TOML: {_first_clause(exc)}") from exc
    except RecursionError as exc:
        raise ParseError(path, "invalid TOML: nested too deeply") from exc


def _first_clause(exc: ValueError) -> str:
    """`Exceeds the limit (4300 digits) for integer string conversion` without the advice."""
    return str(exc).split(":", 1)[0].strip() or type(exc).__name__


def _toml_line(message: str) -> int | None:
    import re

    match = re.search(r"at line (\d+)", message)
    return int(match.group(1)) if match else None


def line_of(text: str, needle: str, start: int = 0) -> int | None:
    """1-based line of the first occurrence of `needle` at or after offset `start`."""
    index = text.find(needle, start)
    return None if index < 0 else text.count("\n", 0, index) + 1


class ManifestParser(ABC):
    """One file format. Parsers read only file content and never use the network."""

    name: ClassVar[str]
    """Canonical file name; also the `--parse-as` key."""
    ecosystem: ClassVar[Ecosystem]

    @classmethod
    @abstractmethod
    def matches(cls, path: Path) -> bool:
        """Whether this parser handles a file with this name."""

    @abstractmethod
    def parse(self, path: Path, source: str, reader: FileReader) -> ParsedManifest:
        """Parse `path` (read through `reader`); `source` is its project-relative name."""
