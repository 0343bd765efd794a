"""Property: every parser turns any input into a parse or a DepguardError, never a crash.

Three kinds of input per format: raw text, raw bytes, and the real fixtures with hostile
values planted anywhere in the document (wrong types in every field, odd strings and
numbers, keys removed or renamed) -- including the side files a parser reads (the
package.json beside a lockfile, the pyproject.toml beside poetry.lock/pylock.toml).
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from depguard.models import ParsedManifest
from depguard.parsers import PARSERS
from depguard.parsers.base import ManifestParser
from depguard.parsers.npm_lock import NpmLockParser
from depguard.parsers.package_json import PackageJsonParser
from depguard.parsers.poetry_lock import PoetryLockParser
from depguard.parsers.pylock import PylockParser
from depguard.parsers.pyproject import PyprojectParser
from depguard.parsers.requirements import RequirementsParser
from depguard.parsers.uv_lock import UvLockParser
from tests.conftest import fixture_path
from tests.hostile._support import (
    MemReader,
    all_paths,
    apply_mutations,
    expect_parse_or_error,
    mutations,
    toml_dumps,
)

ROOT = Path("/project")


def run(parser: type[ManifestParser], name: str, files: dict[str, bytes]) -> None:
    """Parse `name` out of an in-memory project; check what comes back is well formed."""
    reader = MemReader({ROOT / rel: data for rel, data in files.items()})
    result = expect_parse_or_error(lambda: parser().parse(ROOT / name, name, reader))
    if isinstance(result, ParsedManifest):
        for dep in result.packages.values():
            assert dep.name, "a package without a name"
        for skipped in result.skipped:
            assert isinstance(skipped.reason, str)


# ------------------------------------------------------------------ raw input

ALL_PARSERS = [pytest.param(cls, id=name) for name, cls in sorted(PARSERS.items())]


@pytest.mark.parametrize("parser", ALL_PARSERS)
@given(text=st.text(max_size=400))
def test_any_text(parser: type[ManifestParser], text: str) -> None:
    run(parser, parser.name, {parser.name: text.encode("utf-8", "surrogatepass")})


@pytest.mark.parametrize("parser", ALL_PARSERS)
@given(data=st.binary(max_size=400))
def test_any_bytes(parser: type[ManifestParser], data: bytes) -> None:
    run(parser, parser.name, {parser.name: data})


# ------------------------------------------------------------------ mutated real fixtures


@dataclass(frozen=True)
class Case:
    parser: type[ManifestParser]
    name: str
    files: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """project-relative name -> fixture path parts."""


CASES = {
    "requirements-nested": Case(RequirementsParser, "requirements.txt", {
        rel: ("manifests", "requirements", "include-nested", *rel.split("/"))
        for rel in ("requirements.txt", "requirements/dev.txt", "requirements/base.txt",
                    "constraints.txt")
    }),
    "pyproject-flask": Case(PyprojectParser, "pyproject.toml", {
        "pyproject.toml": ("manifests", "pyproject", "flask", "pyproject.toml"),
    }),
    "pyproject-poetry": Case(PyprojectParser, "pyproject.toml", {
        "pyproject.toml": ("manifests", "pyproject", "poetry-constraints", "pyproject.toml"),
    }),
    "pyproject-groups": Case(PyprojectParser, "pyproject.toml", {
        "pyproject.toml": ("manifests", "pyproject", "dependency-groups-include",
                           "pyproject.toml"),
    }),
    "package-json": Case(PackageJsonParser, "package.json", {
        "package.json": ("manifests", "npm", "all-sections", "package.json"),
    }),
    "package-json-workspaces": Case(PackageJsonParser, "package.json", {
        "package.json": ("manifests", "npm", "workspaces", "package.json"),
        "packages/a/package.json": ("manifests", "npm", "workspaces", "packages", "a",
                                    "package.json"),
    }),
    "npm-lock-v1": Case(NpmLockParser, "package-lock.json", {
        "package-lock.json": ("lockfiles", "npm", "hello-world-js-action-lockv1.package-lock.json"),
        "package.json": ("lockfiles", "npm", "hello-world-js-action-lockv1.package.json"),
    }),
    "npm-lock-v2": Case(NpmLockParser, "package-lock.json", {
        "package-lock.json": ("lockfiles", "npm", "hello-world-js-action-lockv2.package-lock.json"),
        "package.json": ("lockfiles", "npm", "hello-world-js-action-lockv2.package.json"),
    }),
    "npm-lock-v3": Case(NpmLockParser, "package-lock.json", {
        "package-lock.json": ("lockfiles", "npm", "module-replacements-lockv3.package-lock.json"),
        "package.json": ("lockfiles", "npm", "module-replacements-lockv3.package.json"),
    }),
    "npm-lock-workspace": Case(NpmLockParser, "package-lock.json", {
        "package-lock.json": ("lockfiles", "npm", "npm8-workspace.v2", "package-lock.json"),
        "package.json": ("lockfiles", "npm", "npm8-workspace.v2", "package.json"),
    }),
    "uv-lock": Case(UvLockParser, "uv.lock", {
        "uv.lock": ("lockfiles", "python", "uv-workspace", "uv.lock"),
        "pyproject.toml": ("lockfiles", "python", "uv-workspace", "pyproject.toml"),
    }),
    "poetry-lock": Case(PoetryLockParser, "poetry.lock", {
        "poetry.lock": ("lockfiles", "python", "poetry-2.0.0", "poetry.lock"),
        "pyproject.toml": ("lockfiles", "python", "poetry-2.0.0", "pyproject.toml"),
    }),
    "pylock": Case(PylockParser, "pylock.toml", {
        "pylock.toml": ("lockfiles", "python", "uv-workspace", "pylock.toml"),
        "pyproject.toml": ("lockfiles", "python", "uv-workspace", "pyproject.toml"),
    }),
}


@cache
def originals(case_id: str) -> dict[str, bytes]:
    return {rel: fixture_path(*parts).read_bytes() for rel, parts in CASES[case_id].files.items()}


@cache
def structure(case_id: str, rel: str) -> tuple[Any, list[tuple[Any, ...]]] | None:
    """The decoded document and its paths, for JSON and TOML files."""
    text = originals(case_id)[rel].decode("utf-8")
    if rel.endswith(".json"):
        doc: Any = json.loads(text)
    elif rel.endswith((".toml", ".lock")):
        doc = tomllib.loads(text)
    else:
        return None
    return doc, all_paths(doc)


def encode(rel: str, doc: Any) -> bytes:
    text = json.dumps(doc, indent=2) if rel.endswith(".json") else toml_dumps(doc)
    return text.encode("utf-8", "surrogatepass")


@pytest.mark.parametrize("case_id", sorted(set(CASES) - {"requirements-nested"}))
@given(data=st.data())
def test_mutated_fixture(case_id: str, data: st.DataObject) -> None:
    case = CASES[case_id]
    files = dict(originals(case_id))
    target = data.draw(st.sampled_from(sorted(files)), label="file")
    shape = structure(case_id, target)
    assert shape is not None
    doc, paths = shape
    toml = not target.endswith(".json")
    muts = data.draw(mutations(len(paths), toml=toml), label="mutations")
    files[target] = encode(target, apply_mutations(doc, paths, muts))
    run(case.parser, case.name, files)


def test_fixtures_parse_unmutated() -> None:
    """The baseline the mutations start from is itself valid."""
    for case_id, case in CASES.items():
        reader = MemReader({ROOT / rel: data for rel, data in originals(case_id).items()})
        manifest = case.parser().parse(ROOT / case.name, case.name, reader)
        assert manifest.packages, case_id


@pytest.mark.parametrize("case_id", sorted(CASES))
@given(data=st.data())
def test_byte_flips_in_fixture(case_id: str, data: st.DataObject) -> None:
    """Raw damage: bytes overwritten, cut or duplicated anywhere in the real file."""
    case = CASES[case_id]
    files = dict(originals(case_id))
    original = files[case.name]
    edits = data.draw(st.lists(st.tuples(
        st.integers(0, len(original)), st.sampled_from(["set", "cut", "dup", "insert"]),
        st.binary(min_size=1, max_size=8) | st.sampled_from([b"{", b"[", b'"', b"\n", b"\\",
                                                             b"]]", b"=", b"-r ", b"\xff"]),
    ), min_size=1, max_size=4), label="edits")
    buf = bytearray(original)
    for at, action, chunk in edits:
        at = min(at, len(buf))
        if action == "set":
            buf[at:at + len(chunk)] = chunk
        elif action == "cut":
            del buf[at:at + len(chunk) * 8]
        elif action == "dup":
            buf[at:at] = buf[at:at + 64]
        else:
            buf[at:at] = chunk
    files[case.name] = bytes(buf)
    run(case.parser, case.name, files)


# ------------------------------------------------------------------ structured documents

_LOCK_KEYS = ["name", "version", "lockfileVersion", "requires", "packages", "dependencies",
              "resolved", "integrity", "dev", "optional", "peer", "devOptional", "link",
              "hasInstallScript", "requires", "optionalDependencies", "peerDependencies",
              "peerDependenciesMeta", "devDependencies", "workspaces", "bundled", "license",
              "engines", "bin", "inBundle", "extraneous", "funding"]
_PKG_PATHS = ["", "node_modules/a", "node_modules/a/node_modules/b", "node_modules/@s/c",
              "packages/w", "node_modules/w", "node_modules/../../etc", "node_modules/",
              "node_modules/a/node_modules/a"]


def json_value(depth: int = 3) -> st.SearchStrategy[Any]:
    leaf = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.sampled_from(
        ["", "1.0.0", "^1.0.0", "npm:b@^1", "file:../x", "a", "link:x", "*", "latest",
         "https://registry.npmjs.org/a/-/a-1.0.0.tgz", "sha512-AAAA", "packages/w"]))
    if depth == 0:
        return leaf
    inner = json_value(depth - 1)
    return st.one_of(
        leaf,
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from([*_LOCK_KEYS, "a", "b", "@s/c", "w"]), inner, max_size=4),
    )


npm_lockfiles = st.fixed_dictionaries(
    {"lockfileVersion": st.sampled_from([1, 2, 3, 4, 0, "3", None, 2.0, True])},
    optional={
        "name": json_value(0),
        "version": json_value(0),
        "packages": st.dictionaries(st.sampled_from(_PKG_PATHS), json_value(2), max_size=5)
        | json_value(1),
        "dependencies": st.dictionaries(st.sampled_from(["a", "b", "@s/c", "w"]), json_value(3),
                                        max_size=4) | json_value(1),
    },
)


@given(doc=npm_lockfiles, manifest=st.none() | json_value(2))
def test_generated_npm_lockfile(doc: dict[str, Any], manifest: Any) -> None:
    files = {"package-lock.json": json.dumps(doc).encode()}
    if manifest is not None:
        files["package.json"] = json.dumps(manifest).encode()
    run(NpmLockParser, "package-lock.json", files)


@given(doc=st.dictionaries(st.sampled_from([*_LOCK_KEYS, "workspaces"]), json_value(2),
                           max_size=6))
def test_generated_package_json(doc: dict[str, Any]) -> None:
    files = {"package.json": json.dumps(doc).encode()}
    files["w/package.json"] = json.dumps(doc).encode()
    run(PackageJsonParser, "package.json", files)


# requirements.txt: lines built from pip's syntax, includes between three files (cycles too)

_REQ_PIECES = [
    "requests", "Django>=4.2,<5", "six==1.16.0", "x[a,b]==1.*", "pkg @ https://e.com/p.whl",
    "git+https://github.com/a/b.git@v1#egg=b", "-e .", "-e git+https://x/y.git#egg=y[z]",
    "./vendor/pkg", "https://e.com/p-1.0.tar.gz", "--hash=sha256:" + "a" * 64, "--hash=md5:x",
    "; python_version < '3.9'", "; extra == 'x'", "; os_name ==", "-r a.txt", "-r b.txt",
    "-r requirements.txt", "-r ../outside.txt", "-r /etc/passwd", "-c a.txt", "-c b.txt",
    "--requirement=a.txt", "--constraint b.txt", "-r", "-c", "--index-url https://x",
    "--extra-index-url", "-f ./w", "--pre", "--no-binary :all:", "--only-binary=:none:",
    "--config-settings k=v", "--use-feature x", "--bogus-option", "# comment", "  # via a",
    "    # via", "#   -r a.txt", "\\", "${VAR}", "name==${VER}", "a===1.0-x", "==", "[", "@",
    "a @", "a;", "é==1", "-", "--", "-e", "x==1 --hash", "a==1 \\", "1abc", "_a_==1",
]


@given(
    files=st.fixed_dictionaries({
        name: st.lists(
            st.lists(st.sampled_from(_REQ_PIECES) | st.text(max_size=6), min_size=1, max_size=3)
            .map(" ".join),
            max_size=8,
        ).map("\n".join)
        for name in ("requirements.txt", "a.txt", "b.txt")
    }),
    crlf=st.booleans(),
)
def test_generated_requirements(files: dict[str, str], crlf: bool) -> None:
    sep = "\r\n" if crlf else "\n"
    encoded = {name: text.replace("\n", sep).encode() for name, text in files.items()}
    run(RequirementsParser, "requirements.txt", encoded)
