"""Hostile files through the real command line.

Every bad input ends as exit 2 with exactly one line on stderr, `depguard: error: ...`
naming the file, no traceback, within a few seconds. Inputs that are odd but legal (include
cycles in requirements files, dependency cycles in lockfiles, a 50 MB lockfile) parse.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from depguard.cli import cli
from tests.conftest import ROOT, fixture_path
from tests.hostile._cli import FAST, assert_one_error, depguard

# ------------------------------------------------------------------ bad files, scan and graph

MB = 1024 * 1024


def _garbage(size: int) -> bytes:
    return random.Random(7).randbytes(size)


def _deep_json(depth: int) -> bytes:
    return ("[" * depth + "]" * depth).encode()


def _deep_object(depth: int) -> bytes:
    return ('{"dependencies":' * depth + "{}" + "}" * depth).encode()


def _deep_toml(depth: int) -> bytes:
    return ("x = " + "[" * depth + "]" * depth + "\n").encode()


def _deep_inline_table(depth: int) -> bytes:
    return ("[project]\nname = " + "{a = " * depth + "1" + "}" * depth + "\n").encode()


HOSTILE: dict[str, tuple[str, bytes]] = {
    # binary garbage
    "garbage-package-lock": ("package-lock.json", _garbage(8192)),
    "garbage-uv-lock": ("uv.lock", _garbage(8192)),
    "garbage-requirements": ("requirements.txt", _garbage(8192)),
    "nul-bytes-package-json": ("package.json", b'{"name": "x"}\x00\x00\x00'),
    "nul-bytes-pyproject": ("pyproject.toml", b"[project]\nname = 'x'\n\x00"),
    # invalid UTF-8 (valid otherwise)
    "latin1-requirements": ("requirements.txt", b"requests==2.31.0\ncaf\xe9==1.0\n"),
    "latin1-pyproject": ("pyproject.toml", b"[project]\nname = 'caf\xe9'\n"),
    "overlong-utf8-lock": ("package-lock.json", b'{"lockfileVersion": 3, "name": "\xc0\xaf"}'),
    "utf16-package-json": ("package.json", '{"name": "x"}'.encode("utf-16")),
    "lone-surrogate-poetry": ("poetry.lock", b"[metadata]\nx = '\xed\xa0\x80'\n"),
    # a 5 MB line
    "5mb-line-package-json": ("package.json", b'{"dependencies": {"a": "' + b"x" * 5 * MB),
    "5mb-line-package-lock": ("package-lock.json",
                              b'{"lockfileVersion": ' + b"9" * 5 * MB + b"}"),
    "5mb-line-requirements": ("requirements.txt", b"x" * 5 * MB + b" ==(1\n"),
    "5mb-line-pyproject": ("pyproject.toml", b'[project]\ndependencies = ["' + b"y" * 5 * MB),
    "5mb-line-uv-lock": ("uv.lock", b"version = 1\n[[package]]\nname = " + b"z" * 5 * MB),
    "5mb-name-requirements": ("requirements.txt", b"a" * 5 * MB + b"==1.0;;\n"),
    # nested 100,000 deep
    "deep-array-package-lock": ("package-lock.json", _deep_json(100_000)),
    "deep-object-package-json": ("package.json", _deep_object(100_000)),
    "deep-array-uv-lock": ("uv.lock", _deep_toml(100_000)),
    "deep-array-poetry-lock": ("poetry.lock", _deep_toml(100_000)),
    "deep-array-pylock": ("pylock.toml", _deep_toml(100_000)),
    "deep-table-pyproject": ("pyproject.toml", _deep_inline_table(100_000)),
    # structurally wrong
    "lock-is-a-list": ("package-lock.json", b"[]"),
    "lock-is-a-string": ("package-lock.json", b'"lockfile"'),
    "empty-lock": ("package-lock.json", b""),
    "uv-lock-not-toml": ("uv.lock", b"{not toml}"),
    "newline-in-key-package-json": ("package.json", b'{"dependencies": {"a\\nb": 5}}'),
    "newline-in-key-package-lock": ("package-lock.json",
                                    b'{"lockfileVersion": 3, "packages": {"node_modules/a\\nb":'
                                    b' {"version": 5}}}'),
    "newline-in-key-poetry-lock": ("poetry.lock",
                                   b'[[package]]\nname = "a"\nversion = "1"\n'
                                   b'[package.dependencies]\n"b\\nc" = 5\n'),
    "include-group-cycle": ("pyproject.toml",
                            fixture_path("manifests", "pyproject", "malformed",
                                         "include-cycle.toml").read_bytes()),
    "include-outside": ("requirements.txt", b"-r ../../../../etc/passwd\n"),
    "include-absolute": ("requirements.txt", b"six\n-r /etc/passwd\n"),
}


@pytest.mark.parametrize("command", ["scan", "graph"])
@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_file_is_one_error_line(tmp_path: Path, case: str, command: str) -> None:
    name, data = HOSTILE[case]
    project = tmp_path / "project"
    project.mkdir()
    (project / name).write_bytes(data)
    args = ["--offline"] if command == "scan" else []
    assert_one_error(depguard(command, project, *args), name)


def test_hostile_file_given_directly(tmp_path: Path) -> None:
    """The same refusal when the file itself is the target, and with --parse-as."""
    bad = tmp_path / "deps.pip"
    bad.write_bytes(_garbage(4096))
    assert_one_error(depguard("scan", bad, "--offline", "--parse-as", f"requirements.txt:{bad}"),
                     "deps.pip")
    lock = tmp_path / "package-lock.json"
    lock.write_bytes(_deep_json(100_000))
    assert_one_error(depguard("graph", lock, "-f", "json"), "package-lock.json")


@pytest.mark.parametrize(
    ("added", "content"),
    [
        ("package-lock.json", "[" * 100_000 + "]" * 100_000),
        ("package.json", '{"dependencies": {"a": ' + "9" * 5000 + "}}"),
        ("pyproject.toml", "project = " + "{a = " * 100_000 + "1" + "}" * 100_000),
        ("requirements.txt", "x" * (5 * MB) + " ==(1"),
    ],
    ids=["deep-lock", "huge-number", "deep-toml", "5mb-line"],
)
def test_check_of_a_diff_adding_a_hostile_file(tmp_path: Path, added: str, content: str) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "requirements-base.txt").write_text("six==1.16.0\n")
    patch = tmp_path / "change.diff"
    patch.write_text(f"--- /dev/null\n+++ b/{added}\n@@ -0,0 +1 @@\n+{content}\n")
    line = assert_one_error(depguard("check", project, "--diff", patch, "--offline"), added)
    assert "change.diff applied" in line or added in line


@pytest.mark.parametrize(
    "data",
    [
        _garbage(4096),
        b"--- a/x\n+++ b/x\n@@ -1,5 +1,5 @@\n-a\n",
        b"\xff\xfe\x00diff",
        b"--- a/requirements.txt\n+++ b/requirements.txt\n@@ -99999999999999999999,1 +1 @@\n"
        b"-flask==3.0.3\n+flask==3.1.0\n",
    ],
    ids=["garbage", "truncated-hunk", "invalid-utf8", "hunk-far-past-the-end"],
)
def test_check_of_a_garbage_diff(tmp_path: Path, data: bytes) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "requirements.txt").write_text("six==1.16.0\n")
    patch = tmp_path / "change.diff"
    patch.write_bytes(data)
    assert_one_error(depguard("check", project, "--diff", patch, "--offline"), "change.diff")


def test_valid_but_huge_line_parses_quickly(tmp_path: Path) -> None:
    """A legal 5 MB line (a package.json description) is parsed in seconds."""
    doc = {"name": "x", "description": "d" * 5 * MB, "dependencies": {"six": "^1.0.0"}}
    (tmp_path / "package.json").write_text(json.dumps(doc), encoding="utf-8")
    run = depguard("graph", tmp_path, "-f", "json")
    assert run.code == 0, run.stderr[:500]
    assert run.seconds < FAST
    assert any("six" in json.dumps(node) for node in json.loads(run.stdout)["nodes"])


# ------------------------------------------------------------------ wrong types, table-driven


def _lock_v3() -> dict[str, Any]:
    return {
        "name": "app", "version": "1.0.0", "lockfileVersion": 3, "requires": True,
        "packages": {
            "": {"name": "app", "version": "1.0.0", "dependencies": {"a": "^1.0.0"},
                 "devDependencies": {"b": "^2.0.0"}, "optionalDependencies": {},
                 "peerDependencies": {}},
            "node_modules/a": {
                "version": "1.0.0", "resolved": "https://registry.npmjs.org/a/-/a-1.0.0.tgz",
                "integrity": "sha512-AAAA", "dependencies": {"b": "^2.0.0"},
                "peerDependencies": {"c": "*"}, "peerDependenciesMeta": {"c": {"optional": True}},
                "optionalDependencies": {}, "hasInstallScript": True,
            },
            "node_modules/b": {"version": "2.0.0", "dev": True, "optional": False,
                               "devOptional": False, "peer": False, "inBundle": False},
            "node_modules/l": {"link": True, "resolved": "packages/l"},
        },
    }  # fmt: skip


def _lock_v1() -> dict[str, Any]:
    return {
        "name": "app", "version": "1.0.0", "lockfileVersion": 1, "requires": True,
        "dependencies": {
            "a": {"version": "1.0.0", "resolved": "https://registry.npmjs.org/a/-/a-1.0.0.tgz",
                  "integrity": "sha512-AAAA", "requires": {"b": "^2.0.0"},
                  "dependencies": {"b": {"version": "2.0.1"}}},
            "b": {"version": "2.0.0", "dev": True, "optional": False, "bundled": False},
        },
    }  # fmt: skip


Setter = Callable[[dict[str, Any], Any], None]


def _at(*keys: str) -> Setter:
    def put(doc: dict[str, Any], value: Any) -> None:
        node = doc
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = value

    return put


STRING, BOOL, MAP = "string", "bool", "map"
WRONG = {
    STRING: [1, 1.5, True, [], {}, ["1.0.0"]],
    BOOL: ["true", 1, 0, [], {}],
    MAP: ["x", 1, True, [], ["a"], {"a": 1}, {"a": None}, {"a": ["^1"]}],
}
# (lockfile version, field path, kind): every field the lockfile parser reads.
FIELDS: list[tuple[int, tuple[str, ...], str]] = [
    (3, ("lockfileVersion",), "version-number"),
    (3, ("packages",), "packages"),
    (3, ("packages", ""), "entry"),
    (3, ("packages", "", "name"), STRING),
    (3, ("packages", "", "version"), STRING),
    (3, ("packages", "", "dependencies"), MAP),
    (3, ("packages", "", "devDependencies"), MAP),
    (3, ("packages", "", "optionalDependencies"), MAP),
    (3, ("packages", "", "peerDependencies"), MAP),
    (3, ("packages", "node_modules/a"), "entry"),
    (3, ("packages", "node_modules/a", "version"), STRING),
    (3, ("packages", "node_modules/a", "resolved"), STRING),
    (3, ("packages", "node_modules/a", "integrity"), STRING),
    (3, ("packages", "node_modules/a", "dependencies"), MAP),
    (3, ("packages", "node_modules/a", "optionalDependencies"), MAP),
    (3, ("packages", "node_modules/a", "peerDependencies"), MAP),
    (3, ("packages", "node_modules/a", "peerDependenciesMeta"), "meta"),
    (3, ("packages", "node_modules/a", "hasInstallScript"), BOOL),
    (3, ("packages", "node_modules/b", "dev"), BOOL),
    (3, ("packages", "node_modules/b", "optional"), BOOL),
    (3, ("packages", "node_modules/b", "devOptional"), BOOL),
    (3, ("packages", "node_modules/b", "peer"), BOOL),
    (3, ("packages", "node_modules/b", "inBundle"), BOOL),
    (3, ("packages", "node_modules/l", "link"), BOOL),
    (1, ("dependencies",), "packages"),
    (1, ("dependencies", "a"), "entry"),
    (1, ("dependencies", "a", "version"), STRING),
    (1, ("dependencies", "a", "resolved"), STRING),
    (1, ("dependencies", "a", "integrity"), STRING),
    (1, ("dependencies", "a", "requires"), MAP),
    (1, ("dependencies", "a", "dependencies"), "packages"),
    (1, ("dependencies", "a", "dependencies", "b"), "entry"),
    (1, ("dependencies", "b", "dev"), BOOL),
    (1, ("dependencies", "b", "optional"), BOOL),
    (1, ("dependencies", "b", "bundled"), BOOL),
]
WRONG.update({
    "version-number": ["3", 3.5, True, None, [], {}, 0, 99],
    "packages": ["x", 1, True, [], [{}]],
    "entry": ["x", 1, True, [], None],
    "meta": ["x", 1, True, [], None],  # only its type is read: every peer may be absent
})  # fmt: skip

WRONG_TYPE_CASES = [
    pytest.param(version, path, value, id=f"v{version}-{'.'.join(path)}-{json.dumps(value)}")
    for version, path, kind in FIELDS
    for value in WRONG[kind]
]


@pytest.mark.parametrize(("version", "path", "value"), WRONG_TYPE_CASES)
def test_wrong_type_in_every_lockfile_field(
    tmp_path: Path, version: int, path: tuple[str, ...], value: Any
) -> None:
    doc = _lock_v3() if version == 3 else _lock_v1()
    _at(*path)(doc, value)
    (tmp_path / "package-lock.json").write_text(json.dumps(doc, indent=2), encoding="utf-8")
    result = CliRunner().invoke(cli, ["graph", str(tmp_path), "-f", "json"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = result.stderr.splitlines()
    assert result.exit_code == 2, (result.exit_code, result.stderr, result.stdout[:300])
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("depguard: error: package-lock.json"), lines[0]
    assert "internal error" not in lines[0]


def test_unmodified_wrong_type_bases_parse(tmp_path: Path) -> None:
    """The table's base documents are valid: each error above comes from the one field."""
    for doc in (_lock_v3(), _lock_v1()):
        (tmp_path / "package-lock.json").write_text(json.dumps(doc), encoding="utf-8")
        result = CliRunner().invoke(cli, ["graph", str(tmp_path), "-f", "json"])
        assert result.exit_code == 0, result.stderr


# ------------------------------------------------------------------ cycles


def test_requirements_include_cycles_parse(tmp_path: Path) -> None:
    shutil.copytree(fixture_path("manifests", "requirements", "cycles"), tmp_path / "p")
    for name in ("cyclic-a.txt", "cyclic-include-self.txt"):
        run = depguard("scan", tmp_path / "p" / name, "--offline", "-f", "json",
                       "--parse-as", f"requirements.txt:{tmp_path / 'p' / name}")
        assert run.code == 0, run.stderr
        assert run.seconds < FAST
        names = {p["name"] for p in json.loads(run.stdout)["packages"]}
        assert names == ({"flask", "click"} if name == "cyclic-a.txt" else {"six"})


def test_include_group_cycle_is_an_error(tmp_path: Path) -> None:
    shutil.copy(fixture_path("manifests", "pyproject", "malformed", "include-cycle.toml"),
                tmp_path / "pyproject.toml")
    line = assert_one_error(depguard("scan", tmp_path, "--offline"), "pyproject.toml")
    assert "cycle" in line or "includes itself" in line, line


def _cyclic_npm_lock() -> dict[str, Any]:
    return {
        "name": "app", "lockfileVersion": 3,
        "packages": {
            "": {"name": "app", "dependencies": {"a": "^1.0.0"}},
            "node_modules/a": {"version": "1.0.0", "dependencies": {"b": "^1.0.0"}},
            "node_modules/b": {"version": "1.0.0", "dependencies": {"a": "^1.0.0", "b": "*"}},
        },
    }  # fmt: skip


@pytest.mark.parametrize("fmt", ["tree", "json", "dot", "graphml"])
def test_lockfile_dependency_cycles_parse(tmp_path: Path, fmt: str) -> None:
    npm = tmp_path / "npm"
    npm.mkdir()
    (npm / "package-lock.json").write_text(json.dumps(_cyclic_npm_lock()), encoding="utf-8")
    uv = tmp_path / "uv"
    uv.mkdir()
    shutil.copy(fixture_path("lockfiles", "python", "graph", "uv-cycle.lock"), uv / "uv.lock")
    for project in (npm, uv):
        run = depguard("graph", project, "-f", fmt)
        assert run.code == 0, run.stderr
        assert run.seconds < FAST
        assert run.stdout.strip()
    why = depguard("why", "a", npm)
    assert why.code == 0, why.stderr
    assert "app > a 1.0.0" in why.stdout.splitlines()


def _chain_lock(length: int) -> dict[str, Any]:
    """p0 -> p1 -> ... -> p{length-1}: a dependency chain far deeper than any real one."""
    packages: dict[str, Any] = {"": {"name": "app", "dependencies": {"p0": "1.0.0"}}}
    for i in range(length):
        entry: dict[str, Any] = {"version": "1.0.0"}
        if i + 1 < length:
            entry["dependencies"] = {f"p{i + 1}": "1.0.0"}
        packages[f"node_modules/p{i}"] = entry
    return {"name": "app", "lockfileVersion": 3, "packages": packages}


@pytest.mark.parametrize(
    "args",
    [["graph"], ["graph", "-f", "json"], ["graph", "-f", "dot"], ["graph", "-f", "html"],
     ["scan", "--offline"], ["why", "p4999"]],
    ids=["tree", "json", "dot", "html", "scan", "why"],
)
def test_a_5000_deep_dependency_chain(tmp_path: Path, args: list[str]) -> None:
    """(was: RecursionError drawing the tree) every command copes, in bounded output."""
    (tmp_path / "package-lock.json").write_text(json.dumps(_chain_lock(5000)), encoding="utf-8")
    cmd, *rest = args
    where: list[str | Path] = [rest[0], tmp_path] if cmd == "why" else [tmp_path, *rest]
    run = depguard(cmd, *where)
    assert "Traceback" not in run.stderr and "internal error" not in run.stderr, run.stderr
    assert run.code == 0, run.stderr
    assert run.seconds < FAST * 2
    assert len(run.stdout) < 50 * MB
    if args == ["graph"]:
        assert run.stdout.rstrip().endswith("deeper levels not shown (use --format json)")


def test_lockfile_cycle_scan_passes(tmp_path: Path) -> None:
    (tmp_path / "package-lock.json").write_text(json.dumps(_cyclic_npm_lock()), encoding="utf-8")
    run = depguard("scan", tmp_path, "--offline", "-f", "json")
    assert run.code == 0, run.stderr
    assert {p["name"] for p in json.loads(run.stdout)["packages"]} == {"a", "b"}


# ------------------------------------------------------------------ symlinks


@pytest.mark.parametrize("target", ["/etc/passwd", "outside"])
@pytest.mark.parametrize("name", ["requirements.txt", "package.json", "package-lock.json"])
def test_symlinked_manifest_outside_the_project_is_refused(
    tmp_path: Path, name: str, target: str
) -> None:
    outside = tmp_path / "elsewhere" / name
    outside.parent.mkdir()
    outside.write_text("six==1.16.0\n" if name.endswith(".txt") else '{"name": "x"}\n')
    project = tmp_path / "project"
    project.mkdir()
    (project / "requirements-dev.txt").write_text("six==1.16.0\n")  # a real one beside it
    link = project / name
    link.symlink_to("/etc/passwd" if target == "/etc/passwd" else outside)
    for args in (["scan", "--offline"], ["graph"]):
        line = assert_one_error(depguard(*args, project), name)
        assert "outside the project" in line
    line = assert_one_error(depguard("scan", link, "--offline"), name)
    assert "outside the project" in line


def test_include_through_a_symlink_outside_is_refused(tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("six\n")
    project = tmp_path / "project"
    project.mkdir()
    (project / "inc.txt").symlink_to(tmp_path / "secret.txt")
    (project / "requirements.txt").write_text("-r inc.txt\n")
    line = assert_one_error(depguard("scan", project, "--offline"), "requirements.txt:1")
    assert "outside the project" in line


def test_symlink_inside_the_project_is_not_read_twice(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("six==1.16.0\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "requirements.txt").symlink_to(tmp_path / "requirements.txt")
    (tmp_path / "package.json").symlink_to(tmp_path / "missing.json")  # dangling
    run = depguard("scan", tmp_path, "--offline", "-f", "json")
    assert run.code == 0, run.stderr
    assert [p["manifest"] for p in json.loads(run.stdout)["packages"]] == ["requirements.txt"]


# ------------------------------------------------------------------ db import


@pytest.mark.parametrize(
    "entry",
    ["../evil.json", "a/../../evil.json", "/etc/evil.json", "..\\evil.json", "C:/evil.json"],
)
def test_zip_with_escaping_entry_is_rejected(tmp_path: Path, entry: str) -> None:
    archive = tmp_path / "all.zip"
    record = {"id": "PYSEC-0-1", "modified": "2026-01-01T00:00:00Z"}
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("good.json", json.dumps(record))
        zf.writestr(entry, json.dumps(record))
    db = tmp_path / "osv.db"
    line = assert_one_error(depguard("db", "import", archive, "--db", db), "all.zip")
    assert "unsafe entry" in line
    assert not db.exists()
    assert not (tmp_path / "evil.json").exists()
    assert not list(tmp_path.glob("*.part")) and not list(tmp_path.glob("*.tmp"))


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("all.zip", _garbage(4096)),
        ("all.zip", b"PK\x03\x04" + _garbage(200)),
        ("records.json", b"\xff\xfe garbage"),
        ("records.json", _deep_json(100_000)),
    ],
    ids=["garbage-zip", "truncated-zip", "invalid-utf8-json", "deep-json"],
)
def test_db_import_of_garbage(tmp_path: Path, name: str, data: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    run = depguard("db", "import", path, "--db", tmp_path / "osv.db")
    assert "Traceback" not in run.stderr and "internal error" not in run.stderr, run.stderr
    if name.endswith(".zip"):
        assert_one_error(run, name)
    else:  # a bad record is counted as malformed, named in a warning
        assert run.code == 0, run.stderr
        assert "1 malformed" in run.stdout
        assert f"warning: {path}" in run.stderr


# ------------------------------------------------------------------ a 50 MB lockfile

RSS_LIMIT_MB = 1536


def _big_lockfile(target_bytes: int) -> tuple[bytes, int]:
    """A package-lock v3 of about `target_bytes`, entries shaped like real ones."""
    root: dict[str, Any] = {"name": "big", "version": "1.0.0", "dependencies": {}}
    packages: dict[str, Any] = {"": root}
    size, i = 0, 0
    while size < target_bytes:
        name = f"pkg-{i:06d}"
        deps = {f"pkg-{(i * 7 + k) % (i + 1):06d}": "^1.0.0" for k in range(3)} if i else {}
        deps.pop(name, None)
        entry = {
            "version": "1.0.0",
            "resolved": f"https://registry.npmjs.org/{name}/-/{name}-1.0.0.tgz",
            "integrity": "sha512-" + f"{i:064x}" * 2,
            "license": "MIT", "dependencies": deps, "engines": {"node": ">=14"},
            "funding": {"url": f"https://github.com/sponsors/{name}"},
            "bin": {name: "bin/cli.js"},
        }  # fmt: skip
        if i < 50:
            root["dependencies"][name] = "^1.0.0"
        packages[f"node_modules/{name}"] = entry
        text = json.dumps(entry, indent=2)
        size += len(text) + 4 * text.count("\n") + len(name) + 30  # as nested at depth 2
        i += 1
    doc = {"name": "big", "version": "1.0.0", "lockfileVersion": 3, "requires": True,
           "packages": packages}
    return json.dumps(doc, indent=2).encode(), i


_MEASURE = """
import json, resource, subprocess, sys, time
start = time.monotonic()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
print(json.dumps({"code": done.returncode, "stdout": done.stdout, "stderr": done.stderr,
                  "seconds": time.monotonic() - start, "peak_mb": peak}))
"""


def test_50mb_lockfile_bounded_memory(tmp_path: Path) -> None:
    """Scan a 50 MB lockfile in a child process: it finishes, peak RSS stays bounded."""
    data, count = _big_lockfile(51 * MB)
    assert 50 * MB <= len(data) < 60 * MB
    (tmp_path / "package-lock.json").write_bytes(data)
    del data
    report = tmp_path / "report.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DEPGUARD_DB": str(tmp_path / "none.db"),
           "XDG_CACHE_HOME": str(tmp_path / "cache")}
    args = [sys.executable, "-m", "depguard", "scan", str(tmp_path), "--offline", "-f", "json",
            "-o", str(report)]
    done = subprocess.run([sys.executable, "-c", _MEASURE, *args], capture_output=True,
                          text=True, env=env, timeout=900, check=True)
    result = json.loads(done.stdout)
    print(f"50 MB lockfile ({count} packages): {result['seconds']:.1f}s, "
          f"peak RSS {result['peak_mb']} MB")
    assert result["code"] == 0, result["stderr"][-2000:]
    assert result["peak_mb"] < RSS_LIMIT_MB
    assert json.loads(report.read_text())["summary"]["packages"] == count
