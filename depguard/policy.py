"""The project policy: thresholds, per-rule levels, and the allow/ignore lists.

Read from ``--policy FILE``, else ``.depguard.toml`` at the project root (keys at top level), else
``[tool.depguard]`` in the root ``pyproject.toml``, else the defaults. Keys are kebab-case; any
unknown key, wrong type, unknown rule or level, bad date, or allow/ignore entry without a reason
is a ``ParseError`` naming the file and line.

``apply_policy`` turns the raw findings into what the gate reports: rules set to ``off`` are
dropped, allow/ignore entries suppress what they match (and say why), and ``blocking`` is set from
the rule's level or, without one, from ``fail-on``. A ``malicious-package`` finding is suppressed
only by an allow entry naming that exact version; its rule can never be ``off`` or ``warn``.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

from packaging.version import InvalidVersion, Version

from depguard.errors import ParseError
from depguard.models import Ecosystem, canonical_name
from depguard.parsers.base import DiskReader, FileReader, load_toml
from depguard.parsers.toml_lines import KeyPath, TomlLines
from depguard.report import FAIL_ON_CHOICES, Finding, fails

__all__ = [
    "POLICY_FILE",
    "RULE_NAMES",
    "AllowEntry",
    "IgnoreEntry",
    "Level",
    "Policy",
    "PolicyOutcome",
    "apply_policy",
    "load_policy",
]

POLICY_FILE = ".depguard.toml"
PYPROJECT = "pyproject.toml"
_PYPROJECT_TABLES = {"project", "build-system", "tool"}
MALICIOUS = "malicious-package"

RULE_NAMES: tuple[str, ...] = (
    MALICIOUS,
    "vulnerable-version",
    "new-dependency",
    "new-transitive-under-existing",
    "install-script",
    "fresh-release",
    "unknown-package",
    "typosquat-suspect",
    "stdlib-alternative",
    "undeclared-import",
    "heavy-dependency",
)


class Level(enum.Enum):
    OFF = "off"
    WARN = "warn"
    BLOCK = "block"


@dataclass(frozen=True, slots=True, kw_only=True)
class AllowEntry:
    """Accept a package (optionally one version, optionally only some rules)."""

    package: str
    """Canonical name (for the entry's ecosystem, or lower-cased when none is given)."""
    ecosystem: Ecosystem | None = None
    version: str | None = None
    """One exact version; None means any version."""
    rules: tuple[str, ...] = ()
    """Empty means every rule."""
    reason: str
    expires: date | None = None
    line: int | None = None

    @property
    def label(self) -> str:
        name = f"{self.package} {self.version}" if self.version else self.package
        return f"allow entry for {name}{_at(self.line)}"


@dataclass(frozen=True, slots=True, kw_only=True)
class IgnoreEntry:
    """Ignore one advisory, by its id or any of its aliases (case-insensitive)."""

    id: str
    reason: str
    expires: date | None = None
    line: int | None = None

    @property
    def label(self) -> str:
        return f"ignore entry for {self.id}{_at(self.line)}"


Entry = AllowEntry | IgnoreEntry
_E = TypeVar("_E", AllowEntry, IgnoreEntry)


@dataclass(frozen=True, slots=True, kw_only=True)
class Policy:
    source: str | None = None
    """The file it came from; None for the defaults."""
    fail_on: str = "high"
    cooldown: timedelta = timedelta(days=7)
    max_new_transitive: int = 20
    rules: Mapping[str, Level] = field(default_factory=lambda: MappingProxyType({}))
    allow: tuple[AllowEntry, ...] = ()
    ignore: tuple[IgnoreEntry, ...] = ()


@dataclass(slots=True)
class PolicyOutcome:
    findings: list[Finding] = field(default_factory=list)
    """Kept findings, with ``blocking`` set."""
    suppressed: list[tuple[Finding, str]] = field(default_factory=list)
    """Dropped findings and why (a rule set to off, or the allow/ignore entry and its reason)."""
    expired: list[str] = field(default_factory=list)
    unused: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """Entries that matched a malicious-package finding but cannot suppress it, and why."""


def _at(line: int | None) -> str:
    return f" (line {line})" if line is not None else ""


# ---------------------------------------------------------------- loading


def load_policy(
    project_root: Path, explicit: Path | None = None, reader: FileReader | None = None
) -> Policy:
    """The policy: `explicit`, else .depguard.toml, else pyproject.toml, else the defaults."""
    reader = reader or DiskReader()
    if explicit is not None:
        if not reader.exists(explicit):
            raise ParseError(explicit, "policy file not found")
        return _load_file(explicit, reader, required=True) or Policy()
    for candidate, required in (
        (project_root / POLICY_FILE, True),
        (project_root / PYPROJECT, False),
    ):
        if reader.exists(candidate):
            policy = _load_file(candidate, reader, required=required)
            if policy is not None:
                return policy
    return Policy()


def _load_file(path: Path, reader: FileReader, *, required: bool) -> Policy | None:
    """The policy in `path`; None for a pyproject without [tool.depguard] unless `required`.

    A file named pyproject.toml, or any file with a pyproject table (project, build-system,
    tool), holds the policy in [tool.depguard]; otherwise the keys are at the top level.
    """
    source = str(path)
    text = reader.read_text(path)
    data = load_toml(source, text)
    lines = TomlLines(text)
    if path.name != PYPROJECT and not _PYPROJECT_TABLES & data.keys():
        return _Loader(source, lines, ()).policy(data)  # .depguard.toml: keys at top level
    tool = data.get("tool")
    table = tool.get("depguard") if isinstance(tool, dict) else None
    if table is None:
        if required:
            raise ParseError(source, "no [tool.depguard] table in this file")
        return None
    prefix: KeyPath = ("tool", "depguard")
    if not isinstance(table, dict):
        raise ParseError(source, "tool.depguard must be a table", lines.line(prefix))
    return _Loader(source, lines, prefix).policy(table)


_TOP_KEYS = ("fail-on", "cooldown-days", "max-new-transitive", "rules", "allow", "ignore")
_ALLOW_KEYS = ("package", "ecosystem", "version", "rules", "reason", "expires")
_IGNORE_KEYS = ("id", "reason", "expires")
_NOT_EXACT = set("<>=!~^*,| ")


class _Loader:
    """Validates one policy table; every error names the file and the line at fault."""

    def __init__(self, source: str, lines: TomlLines, prefix: KeyPath) -> None:
        self.source, self.lines, self.prefix = source, lines, prefix

    def error(self, path: KeyPath, message: str) -> ParseError:
        return ParseError(self.source, message, self.lines.line((*self.prefix, *path)))

    def bad(self, path: KeyPath, what: str) -> ParseError:
        """An error about the value at `path`, naming it: "allow[0].version must be ..."."""
        return self.error(path, f"{self.name(path)} {what}")

    def name(self, path: KeyPath) -> str:
        keys = (*self.prefix, *path)
        return "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in keys).lstrip(".")

    def policy(self, data: dict[str, Any]) -> Policy:
        self.known(data, (), _TOP_KEYS)
        defaults = Policy()
        fail_on = data.get("fail-on", defaults.fail_on)
        if fail_on not in FAIL_ON_CHOICES:
            raise self.error(("fail-on",), f"fail-on must be one of {', '.join(FAIL_ON_CHOICES)}")
        return Policy(
            source=self.source,
            fail_on=fail_on,
            cooldown=self.cooldown(data) if "cooldown-days" in data else defaults.cooldown,
            max_new_transitive=self.max_transitive(data, defaults.max_new_transitive),
            rules=MappingProxyType(self.levels(data.get("rules", {}))),
            allow=tuple(self.entries(data, "allow", self.allow)),
            ignore=tuple(self.entries(data, "ignore", self.ignore)),
        )

    def known(self, data: dict[str, Any], path: KeyPath, allowed: tuple[str, ...]) -> None:
        for key in data:
            if key not in allowed:
                where = f" in {self.name(path)}" if path else ""
                raise self.error(
                    (*path, key),
                    f"unknown key '{key}'{where} (expected one of: {', '.join(allowed)})",
                )

    def cooldown(self, data: dict[str, Any]) -> timedelta:
        days = data["cooldown-days"]
        if isinstance(days, bool) or not isinstance(days, int | float):
            raise self.error(("cooldown-days",), "cooldown-days must be a number of days")
        if not math.isfinite(days) or days < 0:
            raise self.error(("cooldown-days",), "cooldown-days must be a finite number >= 0")
        try:
            return timedelta(days=days)
        except OverflowError as exc:
            raise self.error(("cooldown-days",), "cooldown-days is too large") from exc

    def max_transitive(self, data: dict[str, Any], default: int) -> int:
        value = data.get("max-new-transitive", default)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self.error(("max-new-transitive",), "max-new-transitive must be an integer >= 0")
        return value

    def levels(self, table: Any) -> dict[str, Level]:
        if not isinstance(table, dict):
            raise self.error(("rules",), 'rules must be a table of rule-name = "off|warn|block"')
        levels: dict[str, Level] = {}
        for rule, value in table.items():
            self.rule_name(("rules", rule), rule)
            choices = ", ".join(level.value for level in Level)
            if not isinstance(value, str) or value not in {level.value for level in Level}:
                raise self.error(("rules", rule), f"rule level for {rule} must be one of {choices}")
            if rule == MALICIOUS and value != Level.BLOCK.value:
                raise self.error(
                    ("rules", rule),
                    f"{MALICIOUS} cannot be set to {value}: a known-malicious package always "
                    "blocks (allow one exact version instead)",
                )
            levels[rule] = Level(value)
        return levels

    def rule_name(self, path: KeyPath, rule: Any) -> str:
        if not isinstance(rule, str) or rule not in RULE_NAMES:
            raise self.error(path, f"unknown rule {rule!r} (rules: {', '.join(RULE_NAMES)})")
        return rule

    def entries(
        self, data: dict[str, Any], key: str, build: Callable[[KeyPath, dict[str, Any]], _E]
    ) -> list[_E]:
        items = data.get(key, [])
        if not isinstance(items, list):
            raise self.error((key,), f"{key} must be an array of tables")
        out: list[_E] = []
        for index, item in enumerate(items):
            path: KeyPath = (key, index)
            if not isinstance(item, dict):
                raise self.error(path, f"each {key} entry must be a table")
            out.append(build(path, item))
        return out

    def allow(self, path: KeyPath, item: dict[str, Any]) -> AllowEntry:
        self.known(item, path, _ALLOW_KEYS)
        ecosystem = self.ecosystem(path, item.get("ecosystem"))
        package = self.text(path, item, "package")
        version = self.version(path, item.get("version"))
        rules = item.get("rules", [])
        if not isinstance(rules, list):
            raise self.bad((*path, "rules"), "must be an array of rule names")
        return AllowEntry(
            package=canonical_name(ecosystem, package) if ecosystem else package.lower(),
            ecosystem=ecosystem,
            version=version,
            rules=tuple(self.rule_name((*path, "rules", i), r) for i, r in enumerate(rules)),
            reason=self.text(path, item, "reason"),
            expires=self.expires(path, item.get("expires")),
            line=self.lines.line((*self.prefix, *path)),
        )

    def ignore(self, path: KeyPath, item: dict[str, Any]) -> IgnoreEntry:
        self.known(item, path, _IGNORE_KEYS)
        return IgnoreEntry(
            id=self.text(path, item, "id"),
            reason=self.text(path, item, "reason"),
            expires=self.expires(path, item.get("expires")),
            line=self.lines.line((*self.prefix, *path)),
        )

    def text(self, path: KeyPath, item: dict[str, Any], key: str) -> str:
        value = item.get(key)
        if value is None:
            raise self.error(path, f"{self.name(path)} needs a non-empty '{key}'")
        if not isinstance(value, str) or not value.strip():
            raise self.bad((*path, key), "must be a non-empty string")
        return value.strip()

    def ecosystem(self, path: KeyPath, value: Any) -> Ecosystem | None:
        if value is None:
            return None
        for ecosystem in Ecosystem:
            if isinstance(value, str) and value.lower() == ecosystem.value.lower():
                return ecosystem
        names = ", ".join(e.value for e in Ecosystem)
        raise self.bad((*path, "ecosystem"), f"must be one of {names}")

    def version(self, path: KeyPath, value: Any) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip() or _NOT_EXACT & set(value.strip()):
            raise self.bad((*path, "version"), 'must be one exact version such as "1.2.3"')
        return value.strip()

    def expires(self, path: KeyPath, value: Any) -> date | None:
        if value is None:
            return None
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value.strip())
            except ValueError:
                pass
        raise self.bad((*path, "expires"), "must be a date (YYYY-MM-DD)")


# ---------------------------------------------------------------- applying


def apply_policy(findings: Sequence[Finding], policy: Policy, today: date) -> PolicyOutcome:
    """Drop off-rules, suppress what live entries match, and set `blocking` on the rest."""
    outcome = PolicyOutcome()
    entries: list[Entry] = [*policy.allow, *policy.ignore]
    live = [e for e in entries if e.expires is None or e.expires >= today]
    outcome.expired = [
        f"{e.label} expired on {e.expires.isoformat()}: it no longer applies"
        for e in entries
        if e.expires is not None and e.expires < today
    ]
    used: set[int] = set()
    for finding in findings:
        level = policy.rules.get(finding.rule)
        if finding.rule == MALICIOUS and level is not Level.BLOCK:
            level = None  # never off or warn, even in a Policy built without load_policy
        if level is Level.OFF:
            outcome.suppressed.append((finding, f"rule {finding.rule} is off in the policy"))
            continue
        matched = [(i, e) for i, e in enumerate(live) if _matches(e, finding)]
        used.update(i for i, _ in matched)
        why = _suppression(finding, [e for _, e in matched], outcome.notes)
        if why is not None:
            outcome.suppressed.append((finding, why))
            continue
        blocking = level is Level.BLOCK or (
            level is None and fails(finding.severity, policy.fail_on)
        )
        outcome.findings.append(_with_blocking(finding, blocking))
    outcome.unused = [f"{e.label} matched no finding" for i, e in enumerate(live) if i not in used]
    return outcome


def _suppression(finding: Finding, matched: list[Entry], notes: list[str]) -> str | None:
    """Why `finding` is suppressed by one of `matched`, or None (noting refused entries)."""
    for entry in matched:
        if finding.rule != MALICIOUS or (isinstance(entry, AllowEntry) and entry.version):
            return f"{entry.label}: {entry.reason}"
        kind = "an ignore entry" if isinstance(entry, IgnoreEntry) else "a version-less allow entry"
        notes.append(
            f"{entry.label} matches {_describe(finding)} but cannot suppress it: {kind} never "
            "suppresses a malicious-package finding (allow that exact version to accept it)"
        )
    return None


def _describe(finding: Finding) -> str:
    name = f"{finding.package} {finding.version}" if finding.version else finding.package
    return f"{finding.rule} {name}" + (f" ({finding.id})" if finding.id else "")


def _matches(entry: Entry, finding: Finding) -> bool:
    if isinstance(entry, IgnoreEntry):
        wanted = entry.id.casefold()
        ids = [finding.id, *finding.aliases]
        return any(i is not None and i.casefold() == wanted for i in ids)
    if entry.ecosystem is not None and entry.ecosystem is not finding.ecosystem:
        return False
    eco = finding.ecosystem
    if canonical_name(eco, entry.package) != canonical_name(eco, finding.package):
        return False
    if entry.rules and finding.rule not in entry.rules:
        return False
    return entry.version is None or _same_version(eco, entry.version, finding.version)


def _same_version(ecosystem: Ecosystem, wanted: str, actual: str | None) -> bool:
    if actual is None:
        return False
    if ecosystem is Ecosystem.PYPI:
        try:
            return Version(wanted) == Version(actual)
        except InvalidVersion:
            pass
    return wanted == actual


def _with_blocking(finding: Finding, blocking: bool) -> Finding:
    return finding if finding.blocking is blocking else replace(finding, blocking=blocking)
