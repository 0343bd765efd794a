"""The DepguardError tree and the ExitCode enum: the single source of truth for exit codes."""

from __future__ import annotations

import enum
from pathlib import Path


class ExitCode(enum.IntEnum):
    PASSED = 0
    GATE_FAILED = 1
    ERROR = 2
    INTERRUPTED = 130


class DepguardError(Exception):
    """An error the user can act on; its message is one line."""

    exit_code: ExitCode = ExitCode.ERROR


class ParseError(DepguardError):
    """A manifest or lockfile that cannot be read; names the file and line."""

    def __init__(self, path: Path | str, message: str, line: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.reason = message
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")


class UsageError(DepguardError):
    """Bad arguments, missing project files, bad git refs."""


class DatabaseError(DepguardError):
    """The advisory database is missing, corrupted or of an unknown schema."""


class NetworkError(DepguardError):
    """A remote endpoint could not be reached or answered badly."""
