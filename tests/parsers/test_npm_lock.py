"""package-lock.json / npm-shrinkwrap.json v1, v2, v3 against `npm ls`, plus bad input.

The oracle: `npm ls --all --json --package-lock-only --offline` reads only the lockfile
and package.json. Every (name, version) npm reaches and every parent -> child edge it
reports must be in depguard's graph.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from depguard.errors import ParseError
from depguard.models import ParsedManifest, Scope
from depguard.parsers.base import DiskReader
from depguard.parsers.npm_lock import NpmLockParser
from tests.conftest import fixture_path

NPM = shutil.which("npm")
needs_npm = pytest.mark.skipif(NPM is None, reason="npm is not installed: no oracle")
REAL = [
    "hello-world-js-action-lockv1",
    "hello-world-js-action-lockv2",
    "module-replacements-lockv3",
    "warehouse-lockv1",
    "warehouse-lockv2",
    "warehouse-lockv3",
    "axios-lockv2",
]


def parse(path: Path, source: str = "package-lock.json") -> ParsedManifest:
    return NpmLockParser().parse(path, source, DiskReader())


def project(tmp_path: Path, name: str) -> Path:
    """A copy of a fixture project: a generated folder, or a real flat pair."""
    folder = tmp_path / "project"
    generated = fixture_path("lockfiles", "npm") / name
    if generated.is_dir():
        shutil.copytree(generated, folder)
    else:
        folder.mkdir()
        for suffix in ("package-lock.json", "package.json"):
            shutil.copy(fixture_path("lockfiles", "npm", f"{name}.{suffix}"), folder / suffix)
    return folder


def npm_ls(folder: Path) -> dict[str, Any]:
    assert NPM is not None
    command = [NPM, "ls", "--all", "--json", "--package-lock-only", "--offline"]
    done = subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=300)
    tree: dict[str, Any] = json.loads(done.stdout)  # also on a non-zero exit (ELSPROBLEMS)
    return tree


def npm_aliases(lock: dict[str, Any]) -> dict[str, str]:
    """Install name -> real package name, from the lockfile (npm ls prints only the alias)."""
    aliases = {
        loc.rpartition("node_modules/")[2]: entry["name"]
        for loc, entry in lock.get("packages", {}).items()
        if "node_modules/" in loc and "name" in entry
    }
    stack = [lock.get("dependencies", {})]
    while stack:
        for key, entry in stack.pop().items():
            if entry.get("version", "").startswith("npm:"):
                aliases[key] = entry["version"][4:].rpartition("@")[0]
            stack.append(entry.get("dependencies", {}))
    return aliases


def assert_matches_npm_ls(folder: Path) -> ParsedManifest:
    manifest = parse(folder / "package-lock.json")
    aliases = npm_aliases(json.loads((folder / "package-lock.json").read_text()))
    roots = {root.name: root.id for root in manifest.roots}

    def node(name: str, version: str) -> str:
        if name in roots and name not in aliases:
            return roots[name]
        return f"npm:{aliases.get(name, name).lower()}@{version}"

    edges = {(edge.parent, edge.child) for edge in manifest.edges}
    known = set(manifest.packages) | set(roots.values())
    seen = 0
    stack = [(manifest.roots[0].id, npm_ls(folder))]
    while stack:
        parent, tree = stack.pop()
        for name, child in (tree.get("dependencies") or {}).items():
            if "version" not in child:  # a missing optional/peer dependency
                continue
            child_id = node(name, child["version"])
            assert child_id in known, f"npm reaches {name}@{child['version']}"
            assert (parent, child_id) in edges, f"npm has {parent} -> {child_id}"
            stack.append((child_id, child))
            seen += 1
    assert seen > 0
    return manifest


def test_matches() -> None:
    assert NpmLockParser.matches(Path("web/package-lock.json"))
    assert NpmLockParser.matches(Path("npm-shrinkwrap.json"))
    assert not NpmLockParser.matches(Path("node_modules/a/package-lock.json"))
    assert not NpmLockParser.matches(Path("node_modules/.package-lock.json"))
    assert not NpmLockParser.matches(Path("package.json"))


@needs_npm
def test_v1_generated_by_npm6(tmp_path: Path) -> None:
    folder = project(tmp_path, "npm6-basic.v1")
    manifest = assert_matches_npm_ls(folder)
    (root,) = manifest.roots
    assert root.name == "npm6-basic" and manifest.locked and manifest.skipped == []
    debug = manifest.packages["npm:debug@3.2.7"]
    assert (debug.alias, debug.direct, debug.scope) == ("my-debug", True, Scope.PROD)
    assert debug.resolved == "https://registry.npmjs.org/debug/-/debug-3.2.7.tgz"
    assert debug.hashes[0].startswith("sha512-")
    assert manifest.packages["npm:fsevents@2.3.3"].scope is Scope.OPTIONAL
    assert manifest.packages["npm:mocha@6.2.3"].scope is Scope.DEV
    root_edges = {e.child: e for e in manifest.edges if e.parent == root.id}
    assert root_edges["npm:debug@3.2.7"].specifier == "npm:debug@^3.2.7"
    assert root_edges["npm:mocha@6.2.3"].scope is Scope.DEV
    text = (folder / "package-lock.json").read_text().splitlines()
    nested = manifest.packages["npm:debug@3.2.6"].line  # mocha's own copy, nested
    assert nested is not None and nested > 1000 and text[nested - 1].strip() == '"debug": {'


def test_v1_real_without_package_json() -> None:
    """No package.json next to it: top-level packages nothing requires are the direct ones."""
    manifest = parse(
        fixture_path("lockfiles", "npm", "hello-world-js-action-lockv1.package-lock.json")
    )
    declared = json.loads(
        fixture_path("lockfiles", "npm", "hello-world-js-action-lockv1.package.json").read_text()
    )["dependencies"]
    direct = {dep.name for dep in manifest.packages.values() if dep.direct}
    assert direct == set(declared)


@needs_npm
def test_v2_workspace_generated_by_npm8(tmp_path: Path) -> None:
    manifest = assert_matches_npm_ls(project(tmp_path, "npm8-workspace.v2"))
    root, ws_a, ws_b = manifest.roots
    assert [r.name for r in manifest.roots] == ["npm8-workspace", "@demo/a", "@demo/b"]
    assert (ws_a.source, ws_b.source) == (
        "package-lock.json#packages/a",
        "package-lock.json#packages/b",
    )
    edges = {(e.parent, e.child): e for e in manifest.edges}
    assert (root.id, ws_a.id) in edges and (root.id, ws_b.id) in edges
    assert edges[(ws_a.id, ws_b.id)].specifier == "^0.2.0"
    assert edges[(ws_a.id, "npm:is-odd@3.0.1")].scope is Scope.DEV
    assert edges[(ws_b.id, "npm:ms@2.0.0")].specifier == "2.0.0"  # packages/b/node_modules/ms
    assert edges[(root.id, "npm:ms@2.1.3")].specifier == "^2.1.3"
    assert "npm:react" not in manifest.packages and manifest.skipped == []  # optional peer


@needs_npm
def test_v3_large_generated_by_npm11(tmp_path: Path) -> None:
    folder = project(tmp_path, "npm11-large.v3")
    manifest = assert_matches_npm_ls(folder)
    pkgs = manifest.packages
    assert len(pkgs) > 1000 and manifest.skipped == []
    assert (pkgs["npm:lodash@4.18.1"].alias, pkgs["npm:lodash@4.18.1"].direct) == ("lodash4", True)
    assert pkgs["npm:chalk@2.4.2"].alias == "old-chalk"
    installers = {dep.name for dep in pkgs.values() if dep.install_script}
    assert installers == {"esbuild", "core-js", "sharp", "puppeteer"}
    platform = pkgs["npm:@esbuild/linux-x64@0.23.1"]
    assert platform.scope is Scope.OPTIONAL and not platform.direct
    assert pkgs["npm:typescript@5.9.3"].scope is Scope.DEV  # devOptional -> dev
    peer = [
        e for e in manifest.edges if e.parent == "npm:react-dom@18.3.1" and e.scope is Scope.PEER
    ]
    assert [(e.child, e.specifier) for e in peer] == [("npm:react@18.3.1", "^18.3.1")]
    lines = (folder / "package-lock.json").read_text().splitlines()
    line = pkgs["npm:esbuild@0.23.1"].line
    assert line is not None and lines[line - 1].strip() == '"node_modules/esbuild": {'


@needs_npm
@pytest.mark.parametrize("name", REAL)
def test_real_lockfiles_match_npm_ls(tmp_path: Path, name: str) -> None:
    manifest = assert_matches_npm_ls(project(tmp_path, name))
    assert manifest.skipped == []
    assert all(dep.line for dep in manifest.packages.values())


def test_axios_lock_parses_fast() -> None:
    path = fixture_path("lockfiles", "npm", "axios-lockv2.package-lock.json")
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        manifest = parse(path)
        best = min(best, time.perf_counter() - start)
    assert len(manifest.packages) > 1500
    assert best < 0.3, f"{best:.3f}s"


def test_shrinkwrap_same_as_lock(tmp_path: Path) -> None:
    lock = fixture_path("lockfiles", "npm", "npm11-large.v3", "package-lock.json")
    shutil.copy(lock, tmp_path / "npm-shrinkwrap.json")
    shrinkwrap = parse(tmp_path / "npm-shrinkwrap.json", "npm-shrinkwrap.json")
    assert shrinkwrap.packages.keys() == parse(lock).packages.keys()
    assert shrinkwrap.path == "npm-shrinkwrap.json"


def write_lock(tmp_path: Path, packages: dict[str, Any], **top: Any) -> Path:
    path = tmp_path / "package-lock.json"
    data = {"name": "demo", "lockfileVersion": 3, "packages": packages, **top}
    path.write_text(json.dumps(data, indent=2))
    return path


def test_dependency_cycle(tmp_path: Path) -> None:
    path = write_lock(
        tmp_path,
        {
            "": {"dependencies": {"a": "^1.0.0"}},
            "node_modules/a": {"version": "1.0.0", "dependencies": {"b": "^1.0.0"}},
            "node_modules/b": {"version": "1.0.0", "dependencies": {"a": "^1.0.0"}},
        },
    )
    edges = {(e.parent, e.child) for e in parse(path).edges}
    assert {("npm:a@1.0.0", "npm:b@1.0.0"), ("npm:b@1.0.0", "npm:a@1.0.0")} <= edges


def test_missing_dependencies(tmp_path: Path) -> None:
    path = write_lock(
        tmp_path,
        {
            "": {"dependencies": {"a": "^1.0.0"}},
            "node_modules/a": {
                "version": "1.0.0",
                "dependencies": {"gone": "^2.0.0"},
                "optionalDependencies": {"opt": "*"},
                "peerDependencies": {"peer": "*"},
            },
        },
    )
    manifest = parse(path)
    assert [(s.name, s.line) for s in manifest.skipped] == [("gone", 10)]  # "node_modules/a"
    assert "requires gone@^2.0.0" in manifest.skipped[0].reason


def test_v2_uses_packages_not_legacy_dependencies(tmp_path: Path) -> None:
    path = write_lock(
        tmp_path,
        {"": {"dependencies": {"a": "1.0.0"}}, "node_modules/a": {"version": "1.0.0"}},
        lockfileVersion=2,
        dependencies={"a": {"version": "9.9.9"}, "ghost": {"version": "1.0.0"}},
    )
    assert list(parse(path).packages) == ["npm:a@1.0.0"]


def test_link_to_folder_and_extraneous(tmp_path: Path) -> None:
    path = write_lock(
        tmp_path,
        {
            "": {"dependencies": {"lib": "file:libs/lib"}},
            "libs/lib": {"name": "lib", "version": "0.0.1", "dependencies": {"x": "^1"}},
            "node_modules/lib": {"resolved": "libs/lib", "link": True},
            "node_modules/x": {"version": "1.2.0", "dev": True, "hasInstallScript": True},
            "node_modules/x/node_modules/stray": {"version": "0.1.0"},
        },
    )
    manifest = parse(path)
    root, lib = manifest.roots
    assert (lib.name, lib.source) == ("lib", "package-lock.json#libs/lib")
    edges = {(e.parent, e.child) for e in manifest.edges}
    assert {(root.id, lib.id), (lib.id, "npm:x@1.2.0"), ("npm:x@1.2.0", "npm:stray@0.1.0")} <= edges
    x = manifest.packages["npm:x@1.2.0"]
    assert (x.scope, x.install_script, x.direct) == (Scope.DEV, True, True)  # lib is a root
    assert not manifest.packages["npm:stray@0.1.0"].direct


def test_escaped_keys_fall_back_to_the_scanner(tmp_path: Path) -> None:
    path = tmp_path / "package-lock.json"
    path.write_text(
        '{"lockfileVersion": 3,\n"packages": {\n"": {"dependencies": {"ab": "1"}},\n'
        '"node_modules/\\u0061b": {\n"version": "1.0.0"}}}'
    )
    assert parse(path).packages["npm:ab@1.0.0"].line == 4


V3 = '{"lockfileVersion": 3, "packages": %s}'
MALFORMED = [
    ('{"lockfileVersion": 3,', "invalid JSON", 1),
    ('{"lockfileVersion": 3,\n"packages": {\n"": {}\n,}}', "invalid JSON", 4),
    ("[]", "expected a JSON object, got an array", 1),
    ('{"name": "x",\n"lockfileVersion": 4}', "lockfileVersion 4 is not supported", 2),
    ('{"name": "x"}', "lockfileVersion missing is not supported", 1),
    ('{"lockfileVersion": "3"}', "lockfileVersion '3' is not supported", 1),
    ('{"lockfileVersion": true}', "lockfileVersion True is not supported", 1),
    ('{"lockfileVersion": 3,\n"packages": []}', "packages: expected an object, got an array", 2),
    (V3 % '{"node_modules/a": 1}', 'packages["node_modules/a"]: expected an object', 1),
    (V3 % '{\n"node_modules/a": {"version": 1}}', 'node_modules/a"].version: expected a string', 2),
    (V3 % '{"node_modules/a": {"dependencies": []}}', 'a"].dependencies: expected an object', 1),
    (V3 % '{"node_modules/a": {"dependencies": {"b": 2}}}', "dependencies.b: expected a string", 1),
    (V3 % '{"node_modules/a": {"dev": "yes"}}', 'a"].dev: expected true or false', 1),
    (V3 % '{"node_modules/a": {"integrity": 5}}', "integrity: expected a string", 1),
    (V3 % '{"node_modules/a": {"os": "linux"}}', "os: expected an array", 1),
    (V3 % '{"node_modules/a": {"peerDependenciesMeta": 1}}', "peerDependenciesMeta: expected", 1),
    ('{"lockfileVersion": 1, "dependencies": []}', "dependencies: expected an object", None),
    ('{"lockfileVersion": 1, "dependencies": {\n"a": []}}', "dependencies['node_modules/a']", 2),
    ('{"lockfileVersion": 1, "dependencies": {"a": {"version": 1}}}', "version: expected a", 1),
    ('{"lockfileVersion": 1, "dependencies": {"a": {"requires": 1}}}', "requires: expected", 1),
    ('{"lockfileVersion": 1, "dependencies": {"a": {"version": "npm:"}}}', "names no package", 1),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply", None),
]


@pytest.mark.parametrize(("text", "fragment", "line"), MALFORMED)
def test_malformed(tmp_path: Path, text: str, fragment: str, line: int | None) -> None:
    path = tmp_path / "package-lock.json"
    path.write_text(text)
    with pytest.raises(ParseError) as info:
        parse(path, "web/package-lock.json")
    assert fragment in info.value.reason
    assert (info.value.path, info.value.line) == ("web/package-lock.json", line)


def test_v1_bad_package_json_names_that_file(tmp_path: Path) -> None:
    (tmp_path / "package-lock.json").write_text('{"lockfileVersion": 1, "dependencies": {}}')
    (tmp_path / "package.json").write_text('{\n"dependencies": {"a": 1}}')
    with pytest.raises(ParseError) as info:
        parse(tmp_path / "package-lock.json", "web/package-lock.json")
    assert (info.value.path, info.value.line) == ("web/package.json", 2)
