"""pyproject.toml parser: PEP 621, PEP 735 groups, Poetry tables and build requirements."""

from __future__ import annotations

from pathlib import Path

import pytest

from depguard.errors import ParseError
from depguard.models import Dependency, Ecosystem, ParsedManifest, Scope, Skipped
from depguard.parsers.base import DiskReader
from depguard.parsers.pyproject import PyprojectParser, TomlLines, poetry_to_pep440, project_name
from tests.conftest import fixture_path

HERE = "manifests", "pyproject"


def parse(scenario: str) -> ParsedManifest:
    path = fixture_path(*HERE, scenario, "pyproject.toml")
    return PyprojectParser().parse(path, f"{scenario}/pyproject.toml", DiskReader())


def package(manifest: ParsedManifest, name: str) -> Dependency:
    found = [dep for dep in manifest.packages.values() if dep.name == name]
    assert len(found) == 1, f"{name}: {found}"
    return found[0]


def names(manifest: ParsedManifest, scope: Scope) -> set[str]:
    return {dep.name for dep in manifest.packages.values() if dep.scope is scope}


def edge_specs(manifest: ParsedManifest, name: str) -> list[tuple[str, Scope]]:
    dep = package(manifest, name)
    return [(edge.specifier, edge.scope) for edge in manifest.edges if edge.child == dep.id]


class MemoryReader:
    """A FileReader over in-memory files, as `depguard check` reads a git revision."""

    def __init__(self, files: dict[Path, str]) -> None:
        self.files = files

    def read_text(self, path: Path) -> str:
        return self.files[path]

    def exists(self, path: Path) -> bool:
        return path in self.files


def test_matches_by_file_name_only() -> None:
    assert PyprojectParser.matches(Path("a/b/pyproject.toml"))
    assert not PyprojectParser.matches(Path("pyproject.toml.bak"))
    assert not PyprojectParser.matches(Path("setup.cfg"))
    assert (PyprojectParser.name, PyprojectParser.ecosystem) == ("pyproject.toml", Ecosystem.PYPI)


# ---------------------------------------------------------------- real files


def test_flask_pep621_extras_and_dependency_groups() -> None:
    manifest = parse("flask")
    assert [root.name for root in manifest.roots] == ["Flask"]
    assert (manifest.path, manifest.kind, manifest.locked) == (
        "flask/pyproject.toml", "pyproject.toml", False,
    )  # fmt: skip
    prod = {"blinker", "click", "itsdangerous", "jinja2", "markupsafe", "werkzeug"}
    assert names(manifest, Scope.PROD) == prod
    assert names(manifest, Scope.OPTIONAL) == {"asgiref", "python-dotenv"}
    asgiref = package(manifest, "asgiref")
    assert (asgiref.specifier, asgiref.marker, asgiref.line) == (">=3.2", 'extra == "async"', 33)
    # python-dotenv is in the dotenv extra and in two dev groups: the stronger scope wins.
    assert package(manifest, "python-dotenv").scope is Scope.OPTIONAL
    assert edge_specs(manifest, "python-dotenv") == [("", Scope.OPTIONAL), ("", Scope.DEV)]
    gha = package(manifest, "gha-update")
    assert (gha.scope, gha.marker, gha.line) == (Scope.DEV, 'python_full_version >= "3.12"', 52)
    assert package(manifest, "sphinx").specifier == "<9"
    assert package(manifest, "pytest").line == 61  # first of its two groups
    flit = package(manifest, "flit-core")  # [build-system] requires
    assert (flit.scope, flit.specifier, flit.line) == (Scope.DEV, "<4,>=3.11", 86)
    assert len(manifest.packages) == 27
    deps = manifest.packages.values()
    assert all(dep.direct and dep.source == "flask/pyproject.toml" for dep in deps)
    assert {edge.parent for edge in manifest.edges} == {manifest.roots[0].id}
    assert manifest.skipped == []


def test_whisper_dotted_keys_and_marker_with_parentheses() -> None:
    manifest = parse("whisper")
    assert manifest.roots[0].name == "openai-whisper"
    triton = package(manifest, "triton")
    assert triton.specifier == ">=2"
    assert triton.marker == (
        '(platform_machine == "x86_64" and sys_platform == "linux") or sys_platform == "linux2"'
    )
    dev_extra = {"black", "flake8", "isort", "pytest", "scipy"}
    assert names(manifest, Scope.OPTIONAL) == dev_extra
    assert {package(manifest, name).line for name in dev_extra} == {33}
    assert package(manifest, "black").marker == 'extra == "dev"'
    setuptools = package(manifest, "setuptools")
    assert (setuptools.scope, setuptools.line) == (Scope.DEV, 4)


def test_poetry_2_0_0_tool_poetry_tables() -> None:
    manifest = parse("poetry-2.0.0")
    assert manifest.roots[0].name == "poetry"
    assert "python" not in {dep.name for dep in manifest.packages.values()}
    core = manifest.packages["PyPI:poetry-core@2.0.0"]  # "2.0.0" is an exact pin
    assert (core.version, core.specifier, core.scope, core.line) == (
        "2.0.0", "==2.0.0", Scope.PROD, 34,
    )  # fmt: skip
    cachecontrol = package(manifest, "cachecontrol")
    assert (cachecontrol.specifier, cachecontrol.extras) == (">=0.14.0,<0.15.0", ("filecache",))
    assert edge_specs(manifest, "cachecontrol") == [("^0.14.0", Scope.PROD)]
    assert package(manifest, "importlib-metadata").marker == 'python_version < "3.10"'
    assert package(manifest, "xattr").marker == 'sys_platform == "darwin"'
    assert package(manifest, "platformdirs").specifier == ">=3.0.0,<5"
    setuptools = package(manifest, "setuptools")  # group dev, with python = "<3.10"
    assert (setuptools.scope, setuptools.marker, setuptools.line) == (
        Scope.DEV, 'python_version < "3.10"', 63,
    )  # fmt: skip
    assert package(manifest, "urllib3").specifier == "<2.3"
    assert package(manifest, "pytest-xdist").extras == ("psutil",)
    annotate = package(manifest, "pytest-github-actions-annotate-failures")  # optional group
    assert (annotate.scope, annotate.specifier, annotate.line) == (Scope.DEV, ">=0.1.7,<0.2.0", 85)
    assert len(names(manifest, Scope.PROD)) == 21
    assert len(names(manifest, Scope.DEV)) == 16  # 15 group packages + 1 build requirement
    build_core = manifest.packages["PyPI:poetry-core"]  # build's poetry-core>=1.5.0: another node
    assert (build_core.scope, build_core.specifier, build_core.line) == (Scope.DEV, ">=1.5.0", 92)


def test_poetry_head_pep621_with_direct_url_and_poetry_groups() -> None:
    manifest = parse("poetry-head")
    core = package(manifest, "poetry-core")
    assert core.resolved == "git+https://github.com/python-poetry/poetry-core.git"
    assert (core.specifier, core.version, core.scope, core.line) == ("", None, Scope.PROD, 7)
    assert edge_specs(manifest, "poetry-core") == [("", Scope.PROD), (">=2.0", Scope.DEV)]
    assert package(manifest, "build").specifier == "<2.0.0,>=1.2.1"
    assert package(manifest, "pbs-installer").extras == ("download", "install")
    assert package(manifest, "tomli").marker == 'python_version < "3.11"'
    dulwich = package(manifest, "dulwich")  # prod in [project], dev in group test
    assert (dulwich.scope, dulwich.line) == (Scope.PROD, 11)
    assert edge_specs(manifest, "dulwich") == [("<2,>=0.25.0", Scope.PROD), (">=1.2.1", Scope.DEV)]
    assert package(manifest, "responses").line == 78
    assert len(names(manifest, Scope.PROD)) == 22


def test_flask_example_celery_small_project() -> None:
    manifest = parse("flask-example-celery")
    assert manifest.roots[0].name == "flask-example-celery"
    assert names(manifest, Scope.PROD) == {"flask", "celery"}
    assert package(manifest, "celery").extras == ("redis",)
    assert package(manifest, "flit-core").specifier == "<4"
    assert {dep.line for dep in manifest.packages.values()} == {7, 10}


# ---------------------------------------------------------------- synthetic scenarios

POETRY_SPECS = {
    "caret-major": ">=1.2.3,<2.0.0",
    "caret-minor": ">=0.2.3,<0.3.0",
    "caret-patch": ">=0.0.3,<0.0.4",
    "caret-short": ">=1,<2",
    "tilde-patch": ">=1.2.3,<1.3.0",
    "tilde-major": ">=1,<2",
    "wildcard": "==1.2.*",
    "anything": "",
    "comma-list": ">=1.2,<1.5",
    "space-list": ">=1.2,<1.5",
    "alternatives": "^1.2 || ^2.0",  # no single SpecifierSet: kept as written
    "exact": "==1.2.3",
    "compatible": "~=2.1",
    "prerelease": ">=0.1.1a3,<0.2.0",
}


def test_poetry_constraint_forms() -> None:
    manifest = parse("poetry-constraints")
    assert manifest.roots[0].name == "constraint-demo"
    for name, spec in POETRY_SPECS.items():
        assert package(manifest, name).specifier == spec, name
    assert package(manifest, "exact").version == "1.2.3"
    assert edge_specs(manifest, "comma-list") == [(">= 1.2, < 1.5", Scope.PROD)]
    mixed = package(manifest, "mixed-case")
    assert (mixed.extras, mixed.line) == (("http2", "socks"), 22)
    assert mixed.marker == 'os_name == "posix"'
    assert package(manifest, "py-union").marker == (
        '(python_version >= "2.7" and python_version < "2.8") or '
        '(python_version >= "3.4" and python_version < "4.0")'
    )


def test_poetry_references_multiple_constraints_and_extras() -> None:
    manifest = parse("poetry-constraints")
    assert (
        package(manifest, "git-dep").resolved
        == "git+https://github.com/example/git-dep.git@0a1b2c3"
    )
    assert package(manifest, "git-branch").resolved == (
        "git+https://github.com/example/git-branch.git@main#subdirectory=pkg"
    )
    assert package(manifest, "path-dep").resolved == "../libs/path-dep"
    url = "https://example.com/url_dep-1.0.0-py3-none-any.whl"
    assert package(manifest, "url-dep").resolved == url
    multi = package(manifest, "multi")
    assert (multi.specifier, multi.line) == ("<=1.9", 30)
    assert multi.marker == 'python_version >= "3.6" and python_version < "3.8"'
    assert edge_specs(manifest, "multi") == [("<=1.9", Scope.PROD), ("^2.0", Scope.PROD)]
    plotting = package(manifest, "plotting")
    assert plotting.scope is Scope.OPTIONAL
    assert plotting.marker == 'extra == "plot" or extra == "all"'
    assert package(manifest, "fast").marker == 'extra == "all"'
    assert names(manifest, Scope.DEV) == {"legacy-dev", "sphinx", "pytest"}  # optional group too
    assert package(manifest, "sphinx").line == 47


def test_self_reference_expands_extras_instead_of_a_self_dependency() -> None:
    manifest = parse("self-reference")
    assert manifest.roots[0].name == "Self_Demo"
    assert "self-demo" not in {dep.name for dep in manifest.packages.values()}
    orjson = package(manifest, "orjson")  # extra "fast", pulled into prod by self-demo[fast]
    assert (orjson.scope, orjson.line, orjson.marker) == (Scope.PROD, 11, None)
    anyio = package(manifest, "anyio")
    assert anyio.marker == 'python_version >= "3.9" and extra == "async"'
    assert edge_specs(manifest, "anyio") == [(">=4", Scope.OPTIONAL), (">=4", Scope.DEV)]
    assert names(manifest, Scope.OPTIONAL) == {"anyio", "attrs", "cattrs"}  # loop-a <-> loop-b
    source = "self-reference/pyproject.toml"
    assert manifest.skipped[0] == Skipped(
        "self-demo[fast]", "refers to the project itself; its extras fast are expanded in place",
        source, 7,
    )  # fmt: skip
    assert "unknown extras missing are ignored" in manifest.skipped[1].reason
    assert [skip.line for skip in manifest.skipped] == [7, 13, 14, 15, 18]


def test_dependency_groups_include_recursively() -> None:
    manifest = parse("dependency-groups-include")
    assert manifest.roots[0].name == "dependency-groups-include"  # no [project]: folder name
    expected = {"pytest", "coverage", "freezegun", "mypy", "types-requests"}
    assert names(manifest, Scope.DEV) == expected
    freezegun = package(manifest, "freezegun")  # reached through Test_Utils -> test-utils
    assert (freezegun.version, freezegun.line) == ("1.5.1", 4)
    assert len(manifest.edges) == 5  # includes do not duplicate edges
    assert all(dep.direct for dep in manifest.packages.values())


def test_no_dependency_information_is_a_root_without_packages() -> None:
    manifest = parse("no-dependencies")
    assert [root.name for root in manifest.roots] == ["no-dependencies"]
    assert (manifest.packages, manifest.edges, manifest.skipped) == ({}, [], [])


def test_dynamic_dependencies_are_recorded_as_skipped() -> None:
    manifest = parse("dynamic")
    assert [skip.name for skip in manifest.skipped] == [
        "[project] dependencies", "[project] optional-dependencies",
    ]  # fmt: skip
    assert {skip.line for skip in manifest.skipped} == {4}
    assert names(manifest, Scope.DEV) == {"setuptools", "setuptools-scm"}
    assert package(manifest, "setuptools-scm").extras == ("toml",)


def test_lines_ignore_strings_comments_and_quoted_keys() -> None:
    manifest = parse("locator-edge-cases")
    lines = {dep.name: dep.line for dep in manifest.packages.values()}
    assert lines == {
        "first": 9, "second": 10, "third": 11, "dotted": 13, "quoted-dep": 14,
        "group-only": 17, "ruff": 19, "black": 21, "spaced": 25,
    }  # fmt: skip
    assert package(manifest, "dotted").marker == 'extra == "extra-with-dots"'  # PEP 685 form


def test_reads_only_through_the_reader() -> None:
    path = Path("/nonexistent/revision/app/pyproject.toml")
    text = '[project]\nname = "app"\ndependencies = [\n  "litellm==1.82.6",\n]\n'
    manifest = PyprojectParser().parse(path, "app/pyproject.toml", MemoryReader({path: text}))
    litellm = manifest.packages["PyPI:litellm@1.82.6"]
    assert (litellm.line, litellm.specifier) == (4, "==1.82.6")
    assert litellm.source == manifest.path == "app/pyproject.toml"


# ---------------------------------------------------------------- helpers


@pytest.mark.parametrize(
    ("constraint", "expected"),
    [
        ("^1.2.3", ">=1.2.3,<2.0.0"),
        ("^1.2", ">=1.2,<2.0"),
        ("^0.2.3", ">=0.2.3,<0.3.0"),
        ("^0.0.3", ">=0.0.3,<0.0.4"),
        ("^0.0", ">=0.0,<0.1"),
        ("^0", ">=0,<1"),
        ("^1", ">=1,<2"),
        ("~1.2.3", ">=1.2.3,<1.3.0"),
        ("~1.2", ">=1.2,<1.3"),
        ("~1", ">=1,<2"),
        ("~=1.4.2", "~=1.4.2"),
        ("1.2.*", "==1.2.*"),
        ("!=1.2.*", "!=1.2.*"),
        ("1.*", "==1.*"),
        ("*", ""),
        ("x", ""),
        (">= 1.2, < 1.5", ">=1.2,<1.5"),
        (">=1.2,<1.5,", ">=1.2,<1.5"),
        ("1.2.3", "==1.2.3"),
        ("=1.2.3", "==1.2.3"),
        ("<>1.0", "!=1.0"),
        (">=3.5.*", ">=3.5"),
        ("^2.0 || ^3.0", "^2.0 || ^3.0"),
        ("  ^1.0  ", ">=1.0,<2.0"),
    ],
)
def test_poetry_to_pep440(constraint: str, expected: str) -> None:
    assert poetry_to_pep440(constraint) == expected


@pytest.mark.parametrize("constraint", ["", "^", "^1.x", "~~1", ">=1.0 <<2", "latest", "^1 || ~x"])
def test_poetry_to_pep440_rejects(constraint: str) -> None:
    with pytest.raises(ValueError, match="constraint"):
        poetry_to_pep440(constraint)


def test_project_name_prefers_project_then_poetry() -> None:
    assert project_name({"project": {"name": "a"}, "tool": {"poetry": {"name": "b"}}}) == "a"
    assert project_name({"project": {"version": "1"}, "tool": {"poetry": {"name": "b"}}}) == "b"
    assert project_name({"project": {"name": 3}, "tool": "x"}) is None
    assert project_name({}) is None


def test_toml_lines_on_real_files() -> None:
    whisper = TomlLines(fixture_path(*HERE, "whisper", "pyproject.toml").read_text())
    assert whisper.line(("project", "optional-dependencies", "dev", 4)) == 33
    assert whisper.line(("project", "readme", "file")) == 10
    assert whisper.line(("project", "urls", "Homepage")) == 34
    assert whisper.line(("tool", "setuptools", "packages", "find")) == 44
    poetry = TomlLines(fixture_path(*HERE, "poetry-2.0.0", "pyproject.toml").read_text())
    assert poetry.line(("tool", "poetry", "group", "github-actions", "optional")) == 83
    assert poetry.line(("tool", "poetry", "dependencies", "xattr", "markers")) == 56
    assert poetry.line(("tool", "mypy", "overrides", 0, "module")) == 167
    assert poetry.line(("tool", "mypy", "overrides", 1, "module", 3)) == 180
    assert poetry.line(("tool", "poetry", "dependencies", "no-such-package")) == 31  # the table
    assert poetry.line(("nothing",)) is None


TRICKY = "\n".join(
    [
        "",
        'a = "quote \\" ] # still a string"',
        "b = '''literal ] with \"quotes\"'''",
        'c = """multi \\""" line',
        ']"""""',
        "[[servers]]",
        'name = "x"',
        "[[servers]]",
        'deps = [ { pkg = "y" }, [ "nested", "z" ] ]',
        "'key with spaces'.\"and.dots\" = 1",
    ]
)


def test_toml_lines_on_tricky_strings() -> None:
    lines = TomlLines(TRICKY)
    assert [lines.line((key,)) for key in "abc"] == [2, 3, 4]
    assert lines.line(("servers", 0, "name")) == 7
    assert lines.line(("servers", 1, "deps", 0, "pkg")) == 9
    assert lines.line(("servers", 1, "deps", 1, 1)) == 9
    assert lines.line(("servers", 1, "key with spaces", "and.dots")) == 10


# ---------------------------------------------------------------- malformed input

MALFORMED = [
    ("invalid-toml.toml", "invalid TOML", 6),
    ("include-cycle.toml", "dependency group include cycle: test -> lint -> test", 3),
    ("include-self.toml", "dependency group include cycle: loop -> loop", 3),
    ("include-unknown.toml", "dependency group 'dev' includes unknown group 'tests'", 3),
    ("group-entry-table.toml", "dependency-groups.dev[1] must be a requirement string or", 2),
    ("group-not-array.toml", "dependency-groups.dev must be an array, not a string", 2),
    ("duplicate-group.toml", "dependency group 'test' duplicates 'Test'", 3),
    ("dependencies-not-array.toml", "project.dependencies must be an array, not a string", 3),
    ("dependency-not-string.toml", "project.dependencies[1] must be a requirement string", 5),
    ("optional-not-table.toml", "project.optional-dependencies must be a table", 3),
    ("extra-not-array.toml", "project.optional-dependencies.test must be an array", 5),
    ("bad-extra-name.toml", "invalid extra name 'not valid!'", 5),
    ("bad-pep508.toml", "invalid requirement 'flask >=< 2'", 5),
    ("bad-marker.toml", "invalid requirement \"pytest ; python_version >>> '3.8'\"", 2),
    ("project-not-table.toml", "project must be a table, not a string", 1),
    ("name-not-string.toml", "project.name must be a string, not an integer", 2),
    ("build-requires-not-array.toml", "build-system.requires must be an array", 2),
    ("tool-not-table.toml", "tool must be a table, not an array", 1),
    ("poetry-invalid-constraint.toml", "requests: invalid version constraint '^2.x'", 6),
    ("poetry-empty-constraint.toml", "requests: empty version constraint", 2),
    ("poetry-wrong-type.toml", "requests must be a version string, a table or an array", 2),
    ("poetry-list-not-tables.toml", "requests[1] must be a table, not a string", 4),
    ("poetry-extras-not-array.toml", "requests.extras must be an array, not a string", 2),
    ("poetry-optional-not-bool.toml", "requests.optional must be a boolean", 2),
    ("poetry-bad-python.toml", "tomli.python: invalid version constraint 'three'", 2),
    ("poetry-bad-markers.toml", "pytest: invalid marker \"sys_platform = 'linux'\"", 2),
    ("poetry-group-not-table.toml", "tool.poetry.group must be a table, not an array", 2),
    ("poetry-group-optional-not-bool.toml", "group.docs.optional must be a boolean", 2),
]


@pytest.mark.parametrize(("fixture", "fragment", "line"), MALFORMED)
def test_malformed(fixture: str, fragment: str, line: int) -> None:
    path = fixture_path(*HERE, "malformed", fixture)
    with pytest.raises(ParseError) as caught:
        PyprojectParser().parse(path, f"malformed/{fixture}", DiskReader())
    assert fragment in caught.value.reason
    assert (caught.value.path, caught.value.line) == (f"malformed/{fixture}", line)
    assert "\n" not in str(caught.value)


def test_every_malformed_fixture_is_in_the_table() -> None:
    folder = fixture_path(*HERE, "malformed")
    assert sorted(p.name for p in folder.iterdir() if p.suffix == ".toml") == sorted(
        fixture for fixture, _, _ in MALFORMED
    )
