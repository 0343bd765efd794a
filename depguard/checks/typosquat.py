"""`typosquat-suspect`: a new name that is a near-miss of a popular package.

A name is suspect when it is not itself popular and either

* folds to the same key as a popular name once the usual confusions are undone:
  case, the separators `-`/`_`/`.`, a `python-` prefix or `-python` suffix
  (PyPI), and the look-alike characters `0`/`o` and `1`/`l`;
* is an npm scoped name `@scope/x` whose bare name `x` is popular while no
  popular package lives under `@scope` (`@types/` is DefinitelyTyped's: never);
* or is within a small Damerau-Levenshtein (optimal string alignment) distance
  of a popular name: 1 for names of 6 to 12 characters, 2 for longer ones, none
  for names of 5 characters or fewer (too dense: `scapy`/`scipy`, `usort`/`isort`).
  Edits that only touch digits (`cu11`/`cu12`) or add a whole `-component`
  (`tree-sitter-c`) name a sibling, not a typo, and are ignored.

The thresholds were calibrated on the shipped lists (rules/popular/README.md has
the leave-one-out measurement). Lookups use a symmetric-delete index built once
per list: each popular name is stored under itself and every one-character
deletion of it; a query generates its own deletions (up to its edit budget) and
verifies only the names that share one. This finds every pair one edit apart
and those two edits apart where the popular name needs at most one deletion
(the query added characters, or added one and swapped or changed one); the
rarer two-edit pairs that need two deletions on the popular side are not
indexed, which keeps the index small (~130k keys for npm, built in ~0.2 s).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from depguard.checks.base import Candidate, CheckContext
from depguard.models import Ecosystem, canonical_name
from depguard.report import Finding, Severity
from depguard.rulepack import rules_dir

__all__ = ["RULE", "SCORE", "Suspect", "check", "distance", "load_popular", "suspect"]

RULE = "typosquat-suspect"
SCORE = 60
MIN_EDIT_LENGTH = 6
"""Shorter names get no edit-distance match: too many real packages sit one edit apart."""
LONG_NAME = 12
"""Names longer than this may be two edits away; shorter ones one."""
_SEPARATORS = re.compile(r"[-_.]+")
_AFFIXES: dict[Ecosystem, tuple[tuple[str, ...], tuple[str, ...]]] = {
    Ecosystem.PYPI: (("python-",), ("-python",)),
    Ecosystem.NPM: ((), ()),
}
_DIGITS = re.compile(r"[0-9]")
_LOOKALIKES = str.maketrans({"0": "o", "1": "l"})
_UNSCOPED_OK = frozenset({"types"})
"""Scopes whose packages mirror unscoped names legitimately (DefinitelyTyped)."""


@dataclass(frozen=True, slots=True)
class Suspect:
    """The popular package a name imitates, and how."""

    target: str
    reason: str


@cache
def load_popular(ecosystem: Ecosystem) -> frozenset[str]:
    """The shipped popular-package list for `ecosystem` (canonical names)."""
    text = (rules_dir() / "popular" / f"{_FILE[ecosystem]}.txt").read_text(encoding="utf-8")
    lines = (line.strip() for line in text.splitlines())
    return frozenset(
        canonical_name(ecosystem, line) for line in lines if line and not line.startswith("#")
    )


_FILE = {Ecosystem.PYPI: "pypi", Ecosystem.NPM: "npm"}


def fold(ecosystem: Ecosystem, name: str) -> str:
    """The confusion key: two names with the same key look alike to a human."""
    key = name.lower()
    prefixes, suffixes = _AFFIXES[ecosystem]
    for prefix in prefixes:
        if key.startswith(prefix) and len(key) > len(prefix):
            key = key[len(prefix):]
            break
    for suffix in suffixes:
        if key.endswith(suffix) and len(key) > len(suffix):
            key = key[: -len(suffix)]
            break
    return _SEPARATORS.sub("", key.translate(_LOOKALIKES))


def max_distance(name: str) -> int:
    """How many edits from a popular name still count as a near-miss for `name`."""
    if len(name) < MIN_EDIT_LENGTH:
        return 0
    return 1 if len(name) <= LONG_NAME else 2


def deletions(word: str, depth: int) -> set[str]:
    """Every string obtained from `word` by deleting up to `depth` characters."""
    out = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1:] for w in frontier for i in range(len(w))}
        out |= frontier
    return out


def distance(a: str, b: str) -> int:
    """Optimal-string-alignment distance (Damerau-Levenshtein with adjacent swaps)."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]


@dataclass(frozen=True, slots=True)
class _Index:
    names: frozenset[str]
    folded: dict[str, tuple[str, ...]]
    deletes: dict[str, tuple[str, ...]]
    scopes: dict[str, tuple[str, ...]]


@cache
def _index(ecosystem: Ecosystem, names: frozenset[str]) -> _Index:
    folded: dict[str, list[str]] = defaultdict(list)
    deletes: dict[str, list[str]] = defaultdict(list)
    scopes: dict[str, list[str]] = defaultdict(list)
    for name in sorted(names):
        folded[fold(ecosystem, name)].append(name)
        if max_distance(name):
            for variant in deletions(name, 1):
                deletes[variant].append(name)
        if name.startswith("@") and "/" in name:
            scopes[name[1:].split("/", 1)[0]].append(name)
    return _Index(names, _freeze(folded), _freeze(deletes), _freeze(scopes))


def _freeze(table: dict[str, list[str]]) -> dict[str, tuple[str, ...]]:
    return {key: tuple(values) for key, values in table.items()}


def suspect(ecosystem: Ecosystem, name: str, popular: frozenset[str]) -> Suspect | None:
    """The popular package `name` is a near-miss of, or None (popular names never are)."""
    name = canonical_name(ecosystem, name)
    if not name or name in popular:
        return None
    return _suspect_in(ecosystem, name, _index(ecosystem, popular))


def _suspect_in(
    ecosystem: Ecosystem, name: str, index: _Index, exclude: str | None = None
) -> Suspect | None:
    """Match `name` against `index`, ignoring `exclude` (leave-one-out measurements)."""
    if ecosystem is Ecosystem.NPM and (hit := _scope_confusion(name, index, exclude)):
        return hit
    look = _first(index.folded.get(fold(ecosystem, name), ()), {name, exclude})
    if look:
        return Suspect(
            look, f"differs from the popular `{look}` only in case, separators, affixes "
            "or look-alike characters"
        )
    return _near_miss(name, index, exclude)


def _scope_confusion(name: str, index: _Index, exclude: str | None) -> Suspect | None:
    """`@scope/x` where `x` is popular and nothing popular lives under `@scope`."""
    if not (name.startswith("@") and "/" in name):
        return None
    scope, base = name[1:].split("/", 1)
    if scope in _UNSCOPED_OK or base not in index.names or base == exclude:
        return None
    if any(n != exclude for n in index.scopes.get(scope, ())):
        return None
    return Suspect(base, f"puts the popular name `{base}` under the unknown scope `@{scope}`")


def _near_miss(name: str, index: _Index, exclude: str | None) -> Suspect | None:
    limit = max_distance(name)
    if limit == 0:
        return None
    seen: set[str | None] = {name, exclude}
    best: tuple[int, str] | None = None
    for variant in deletions(name, limit):
        for other in index.deletes.get(variant, ()):
            if other in seen:
                continue
            seen.add(other)
            dist = distance(name, other)
            if dist > min(limit, max_distance(other)) or _benign(name, other):
                continue
            if best is None or (dist, other) < best:
                best = (dist, other)
    if best is None:
        return None
    edits = "one edit" if best[0] == 1 else f"{best[0]} edits"
    return Suspect(best[1], f"is {edits} away from the popular `{best[1]}`")


def _benign(a: str, b: str) -> bool:
    """Edits that name a sibling, not a typo: only digits differ, or a whole component is added."""
    if _DIGITS.sub("", a) == _DIGITS.sub("", b):
        return True
    short, long_ = sorted((a, b), key=len)
    return any(long_.startswith(short + sep) or long_.endswith(sep + short) for sep in "-_.")


def _first(names: Iterable[str], skip: set[str | None]) -> str | None:
    return min((n for n in names if n not in skip), default=None)


def check(candidate: Candidate, ctx: CheckContext) -> list[Finding]:
    popular = ctx.popular.get(candidate.ecosystem) or load_popular(candidate.ecosystem)
    hit = suspect(candidate.ecosystem, candidate.name, popular)
    if hit is None:
        return []
    return [
        Finding(
            rule=RULE,
            severity=Severity.HIGH,
            ecosystem=candidate.ecosystem,
            package=candidate.name,
            version=candidate.version,
            message=f"`{candidate.name}` {hit.reason}: a possible typosquat",
            action=f"check the spelling: did you mean `{hit.target}`?",
            file=candidate.file,
            line=candidate.line,
            score=SCORE,
        )
    ]
