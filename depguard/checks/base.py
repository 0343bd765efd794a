"""What the gate's per-package checks share: the candidate being scored and the context."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from depguard.models import Ecosystem
from depguard.report import Finding

if TYPE_CHECKING:
    from depguard.registry import RegistryClient

__all__ = ["Candidate", "Check", "CheckContext"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Candidate:
    """A new or changed dependency that a change introduces: what gets scored."""

    ecosystem: Ecosystem
    name: str
    version: str | None = None
    specifier: str = ""
    file: str | None = None
    line: int | None = None
    direct: bool = True
    origin: str = "manifest"
    """"manifest", "lockfile" or "import"."""
    introduced_by: tuple[str, ...] = ()
    """Labels of the direct dependencies that bring it in, e.g. "axios 1.14.1"."""
    previous_version: str | None = None
    install_script: bool = False

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}" if self.version else self.name


@dataclass(slots=True, kw_only=True)
class CheckContext:
    registry: RegistryClient | None
    """None with --offline: no registry is asked."""
    now: datetime
    cooldown: timedelta = timedelta(days=7)
    max_new_transitive: int = 20
    popular: Mapping[Ecosystem, frozenset[str]] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    """"rule: why it could not run", reported so nothing is silently unchecked."""


class Check(Protocol):
    def __call__(self, candidate: Candidate, ctx: CheckContext) -> list[Finding]: ...
