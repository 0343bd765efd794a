"""The inputs the fuzzers found crashes with, pinned so each fix stays fixed.

Each row is the smallest input hypothesis reported (or the hostile file that showed it),
the reader it crashed, and the one-line error (or clean parse) expected now. The CLI-level
ones (a 4300+ digit number, deep TOML in pyproject, a damaged database, a hanging
registry, symlinks) live in test_hostile_inputs.py and test_faults.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from depguard.advisories._db_input import to_row
from depguard.advisories.db import normalize_name
from depguard.advisories.osv_record import parse_advisory
from depguard.errors import DepguardError
from depguard.parsers.base import ManifestParser
from depguard.parsers.npm_lock import NpmLockParser
from depguard.parsers.poetry_lock import PoetryLockParser
from depguard.parsers.pylock import PylockParser
from depguard.parsers.pyproject import PyprojectParser
from depguard.parsers.uv_lock import UvLockParser
from depguard.unidiff import apply_diff, parse_diff
from tests.hostile._support import MemReader

ROOT = Path("/project")


def parse(parser: type[ManifestParser], name: str, text: str) -> object:
    reader = MemReader({ROOT / name: text.encode()})
    return parser().parse(ROOT / name, name, reader)


def diff(text: str, tree: dict[str, str] | None = None) -> object:
    files = tree or {}
    return apply_diff(parse_diff(text, "change.diff"), files.get, files.__contains__,
                      "change.diff")


def osv(**fields: object) -> object:
    return parse_advisory({"id": "GHSA-x", "modified": "2026-01-01T00:00:00Z", **fields})




def lock_with_flag(flag: str) -> str:
    """A lockfile whose dev package also carries a wrong-typed `flag`."""
    packages = {"": {"name": "app"}, "node_modules/b": {"version": "1.0.0", "dev": True,
                                                        flag: "yes"}}
    return json.dumps({"lockfileVersion": 3, "packages": packages})


CASES: list[tuple[str, Callable[[], object], str | None]] = [
    # (was: TypeError in osv_record._cwes) database_specific.cwe_ids not a list
    ("osv-cwe-ids-int", lambda: osv(database_specific={"cwe_ids": -1}), None),
    ("osv-cwe-ids-string", lambda: osv(database_specific={"cwe_ids": "CWE-506"}), None),
    # (was: ValueError from str.rindex in unidiff) a lone quote ending a diff --git line
    ("diff-git-lone-quote", lambda: diff('diff --git a/requirements.txt b/"\n'), None),
    # (was: IndexError in unidiff guess) both sides /dev/null
    ("diff-both-dev-null", lambda: diff("--- /dev/null\n+++ /dev/null\n"), "without a file name"),
    # (was: a loop of 10**20 steps in unidiff._locate) a hunk stated far past the file's end
    ("diff-hunk-far-away", lambda: diff(
        "diff --git a/requirements.txt b/requirements.txt\n"
        "@@ -100000000000000000000,0 +0,0 @@ ctx\n"), None),
    ("diff-hunk-far-away-context", lambda: diff(
        "--- a/x\n+++ b/x\n@@ -100000000000000000000,1 +1,1 @@\n-a\n+b\n", {"x": "a\n"}),
     None),  # found by the search from the file's end, as `patch` would
    # (was: a package with an empty name accepted) uv.lock, poetry.lock, pylock.toml
    ("uv-empty-name", lambda: parse(UvLockParser, "uv.lock",
                                    'version = 1\n[[package]]\nname = ""\nversion = "1"\n'),
     "non-empty package name"),
    ("poetry-empty-name", lambda: parse(PoetryLockParser, "poetry.lock",
                                        '[[package]]\nname = " "\nversion = "1"\n'
                                        '[metadata]\nlock-version = "2.0"\n'),
     "non-empty package name"),
    ("pylock-empty-name", lambda: parse(PylockParser, "pylock.toml",
                                        'lock-version = "1.0"\ncreated-by = "x"\n'
                                        '[[packages]]\nname = ""\n'),
     "non-empty package name"),
    # (was: a newline from a TOML key inside the one-line error)
    ("pyproject-newline-key", lambda: parse(PyprojectParser, "pyproject.toml",
                                            '[dependency-groups]\ntest = [{"\\n" = ""}]\n'),
     '"\\n"'),
    ("pyproject-newline-group", lambda: parse(PyprojectParser, "pyproject.toml",
                                              '[dependency-groups]\n"a\\nb" = [1]\n'), None),
    # (was: ValueError past load_toml) an integer of more than 4300 digits
    ("toml-huge-int", lambda: parse(UvLockParser, "uv.lock", "version = " + "9" * 5000),
     "Exceeds the limit"),
    ("json-huge-int", lambda: parse(NpmLockParser, "package-lock.json",
                                    '{"lockfileVersion": ' + "9" * 5000 + "}"),
     "Exceeds the limit"),
    # (was: accepted) a wrong-typed flag skipped because `dev: true` decided the scope first
    *[
        (f"npm-{flag}-wrong-type-under-dev",
         lambda flag=flag: parse(NpmLockParser, "package-lock.json", lock_with_flag(flag)),
         f"{flag}: expected true or false")
        for flag in ("optional", "devOptional", "peer")
    ],
]


@pytest.mark.parametrize(("call", "fragment"), [pytest.param(c, f, id=i) for i, c, f in CASES])
def test_regression(call: Callable[[], object], fragment: str | None) -> None:
    try:
        call()
    except DepguardError as exc:
        message = str(exc)
        assert "\n" not in message, message
        if fragment is not None:
            assert fragment in message, message
        return
    assert fragment is None, f"expected an error with {fragment!r}"


def test_row_timestamp_before_year_one() -> None:
    """(was: OverflowError in _db_input._timestamp) counted as a malformed record now."""
    with pytest.raises(ValueError, match="out of range"):
        to_row({"id": "X-1", "modified": "0001-01-01T00:00:00+01:00"}, normalize_name)
