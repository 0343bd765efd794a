"""package.json: sections, aliases, non-registry specs, workspaces, scripts, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from depguard.errors import ParseError
from depguard.models import Edge, ParsedManifest, Scope
from depguard.parsers.base import DiskReader
from depguard.parsers.package_json import (
    PackageJsonParser,
    bundled_dependencies,
    install_scripts,
    key_lines,
    npm_spec,
)
from tests.conftest import fixture_path


def parse(path: Path, source: str = "package.json") -> ParsedManifest:
    return PackageJsonParser().parse(path, source, DiskReader())


def edges_from(manifest: ParsedManifest, parent: str) -> dict[str, Edge]:
    return {edge.child: edge for edge in manifest.edges if edge.parent == parent}


def line_in(path: Path, needle: str) -> int:
    lines = path.read_text().splitlines()
    return next(number for number, text in enumerate(lines, 1) if needle in text)


def test_all_sections() -> None:
    path = fixture_path("manifests", "npm", "all-sections", "package.json")
    manifest = parse(path)
    (root,) = manifest.roots
    assert root.name == "@demo/all-sections"
    assert manifest.locked is False and manifest.skipped == []
    pkgs = manifest.packages
    axios = pkgs["npm:axios@1.14.0"]
    assert (axios.version, axios.scope, axios.direct) == ("1.14.0", Scope.PROD, True)
    assert axios.line == line_in(path, '"axios"') and axios.source == "package.json"
    lodash = pkgs["npm:lodash"]
    assert (lodash.alias, lodash.specifier, lodash.version) == ("lodash4", "^4.17.21", None)
    assert pkgs["npm:@scope/pkg@2.0.1"].alias == "exact-alias"
    git = pkgs["npm:from-git"]
    assert (git.version, git.resolved) == (None, "git+https://github.com/user/repo.git#v1.0.0")
    for name in ("from-github", "from-file", "from-link", "from-tarball", "from-workspace"):
        assert pkgs[f"npm:{name}"].resolved is not None and pkgs[f"npm:{name}"].version is None
    assert (pkgs["npm:tagged"].resolved, pkgs["npm:tagged"].specifier) == (None, "latest")
    assert pkgs["npm:typescript@5.5.4"].scope is Scope.DEV
    assert pkgs["npm:fsevents"].scope is Scope.OPTIONAL
    assert {pkgs[f"npm:{n}"].scope for n in ("react", "react-dom", "vue")} == {Scope.PEER}
    edges = edges_from(manifest, root.id)
    assert edges["npm:lodash"].specifier == "npm:lodash@^4.17.21"
    assert edges["npm:vue"].specifier == "*"  # declared only in peerDependenciesMeta
    both = [edge for edge in manifest.edges if edge.child == "npm:both"]
    assert [(e.specifier, e.scope) for e in both] == [("^1.2.0", Scope.OPTIONAL)]
    assert len(manifest.edges) == 12 - 1 + 2 + 2 + 3


def test_install_scripts_and_bundled() -> None:
    path = fixture_path("manifests", "npm", "all-sections", "package.json")
    data = json.loads(path.read_text())
    assert install_scripts(data) == ["postinstall", "prepare"]
    assert bundled_dependencies(data) == ["express"]
    assert install_scripts({"scripts": {"preinstall": "x", "install": "y", "test": "z"}}) == [
        "preinstall",
        "install",
    ]
    assert install_scripts({"scripts": []}) == [] and install_scripts([]) == []
    everything = {"bundledDependencies": True, "dependencies": {"b": "1", "a": "2"}}
    assert bundled_dependencies(everything) == ["a", "b"]
    assert bundled_dependencies({"bundleDependencies": True}) == []


def test_workspaces_literal_folders_and_glob() -> None:
    path = fixture_path("manifests", "npm", "workspaces", "package.json")
    manifest = parse(path)
    root, ws_a, ws_b = manifest.roots
    assert (root.name, ws_a.name, ws_b.name) == ("ws-root", "@demo/a", "@demo/b")
    assert (ws_a.source, ws_b.source) == ("package.json#packages/a", "package.json#packages/b")
    assert set(edges_from(manifest, root.id)) >= {ws_a.id, ws_b.id}
    a_edges = edges_from(manifest, ws_a.id)
    assert a_edges[ws_b.id].specifier == "^0.2.0"  # the workspace, not a registry package
    assert "npm:@demo/b" not in manifest.packages
    assert a_edges["npm:is-odd"].scope is Scope.DEV
    lodash = manifest.packages["npm:lodash"]
    a_file = path.parent / "packages" / "a" / "package.json"
    assert (lodash.source, lodash.line) == ("packages/a/package.json", line_in(a_file, "lodash"))
    assert manifest.packages["npm:ms@2.0.0"].source == "packages/b/package.json"
    skipped = {item.name: item.reason for item in manifest.skipped}
    assert set(skipped) == {"tools/*", "missing"}
    assert "glob" in skipped["tools/*"] and "no package.json" in skipped["missing"]


def test_workspaces_object_form_and_unnamed_workspace() -> None:
    path = fixture_path("manifests", "npm", "workspaces-object", "package.json")
    manifest = parse(path, "sub/package.json")
    root, core = manifest.roots
    assert (root.name, core.name, core.source) == (
        "ws-object",
        "core",
        "sub/package.json#libs/core",
    )
    assert manifest.packages["npm:chalk"].source == "sub/libs/core/package.json"
    assert edges_from(manifest, core.id)["npm:chalk"].specifier == "^5.3.0"


def test_unnamed_root_uses_folder_name() -> None:
    manifest = parse(fixture_path("manifests", "npm", "unnamed", "package.json"))
    assert manifest.roots[0].name == "unnamed"
    assert manifest.packages["npm:left-pad@1.3.0"].version == "1.3.0"


@pytest.mark.parametrize(
    "name",
    [
        "axios-lockv2",
        "warehouse-lockv3",
        "module-replacements-lockv3",
        "hello-world-js-action-lockv1",
    ],
)
def test_real_package_json(name: str) -> None:
    path = fixture_path("lockfiles", "npm", f"{name}.package.json")
    data = json.loads(path.read_text())
    manifest = parse(path)
    declared = {
        (dep, section)
        for section in (
            "dependencies",
            "devDependencies",
            "optionalDependencies",
            "peerDependencies",
        )
        for dep in data.get(section, {})
    }
    assert len(manifest.edges) == len(declared) > 0
    assert all(dep.direct and dep.line for dep in manifest.packages.values())
    assert manifest.roots[0].name == data.get("name", "npm")


def test_real_axios_declares_prepare_script() -> None:
    data = json.loads(fixture_path("lockfiles", "npm", "axios-lockv2.package.json").read_text())
    assert install_scripts(data) == ["prepare"]


@pytest.mark.parametrize(
    ("name", "spec", "expected"),
    [
        ("a", "^1.2.3", ("a", "^1.2.3", None, None)),
        ("a", "1.2.3", ("a", "1.2.3", "1.2.3", None)),
        ("a", "=v1.2.3-beta.1", ("a", "=v1.2.3-beta.1", "1.2.3-beta.1", None)),
        ("a", "1.2.x", ("a", "1.2.x", None, None)),
        ("a", "", ("a", "", None, None)),
        ("x", "npm:y@^1", ("y", "^1", None, None)),
        ("x", "npm:@s/y@1.0.0", ("@s/y", "1.0.0", "1.0.0", None)),
        ("x", "npm:y", ("y", "", None, None)),
        ("a", "github:u/r", ("a", "github:u/r", None, "github:u/r")),
        ("a", "u/r#v1", ("a", "u/r#v1", None, "u/r#v1")),
        ("a", "../lib", ("a", "../lib", None, "../lib")),
        ("a", "pkg.tgz", ("a", "pkg.tgz", None, "pkg.tgz")),
        ("a", "git://h/r.git", ("a", "git://h/r.git", None, "git://h/r.git")),
    ],
)
def test_npm_spec(name: str, spec: str, expected: tuple[str, str, str | None, str | None]) -> None:
    assert npm_spec(name, spec) == expected


def test_alias_without_package_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "package.json"
    path.write_text('{"dependencies": {\n"x": "npm:",\n"": "^1"}}')
    manifest = parse(path)
    assert [(s.name, s.line) for s in manifest.skipped] == [("x", 2), ("", 3)]
    assert manifest.packages == {}


def test_key_lines_tracks_paths() -> None:
    text = '{"a": [{"x": 1}, {"y": {"z": "}{"}}],\n "b\\u0041": {"c": true}\n}'
    lines = key_lines(text)
    assert lines[("a",)] == 1 and lines[("a", None, "y", "z")] == 1
    assert lines[("bA", "c")] == 2 and ("a", None, "x", "y") not in lines
    assert key_lines(text, objects_only=True) == {("a",): 1, ("a", None, "y"): 1, ("bA",): 2}


def test_matches() -> None:
    assert PackageJsonParser.matches(Path("web/package.json"))
    assert not PackageJsonParser.matches(Path("node_modules/x/package.json"))
    assert not PackageJsonParser.matches(Path("package-lock.json"))


MALFORMED = [
    ('{"dependencies": {"a": "^1"}', "invalid JSON", 1),
    ('{\n"dependencies": {\n"a": "^1",,\n}}', "invalid JSON", 3),
    ("[]", "expected a JSON object, got an array", 1),
    ('{\n"dependencies": ["a"]}', "dependencies: expected an object, got an array", 2),
    ('{"devDependencies": {"a": 1}}', "devDependencies.a: expected a string, got a number", 1),
    ('{"optionalDependencies": "a"}', "optionalDependencies: expected an object", 1),
    ('{"peerDependencies": {"a": null}}', "peerDependencies.a: expected a string, got null", 1),
    ('{"peerDependenciesMeta": {"a": true}}', "peerDependenciesMeta.a: expected an object", 1),
    ('{"peerDependenciesMeta": []}', "peerDependenciesMeta: expected an object", 1),
    ('{\n"workspaces": "packages/*"}', "workspaces: expected an array", 2),
    ('{"workspaces": [1]}', "workspaces: expected an array", 1),
    ('{"workspaces": {"packages": "x"}}', "workspaces: expected an array", 1),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply", None),
]


@pytest.mark.parametrize(("text", "fragment", "line"), MALFORMED)
def test_malformed(tmp_path: Path, text: str, fragment: str, line: int | None) -> None:
    path = tmp_path / "package.json"
    path.write_text(text)
    with pytest.raises(ParseError) as info:
        parse(path, "web/package.json")
    assert fragment in info.value.reason
    assert (info.value.path, info.value.line) == ("web/package.json", line)


def test_malformed_workspace_names_its_file(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text('{"workspaces": ["a"]}')
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "package.json").write_text('{\n"dependencies": 5}')
    with pytest.raises(ParseError) as info:
        parse(tmp_path / "package.json")
    assert (info.value.path, info.value.line) == ("a/package.json", 2)


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "package.json"
    path.write_bytes(b'{\n"name": "\xff"}')
    with pytest.raises(ParseError, match="not valid UTF-8"):
        parse(path)
