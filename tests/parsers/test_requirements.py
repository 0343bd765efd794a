"""pip requirements files: syntax, includes, constraints, pip-compile `# via` graphs, errors.

Real files are cross-checked against `pip-requirements-parser` (which vendors pip's own
requirements-file parser); it is a test oracle only and never imported by depguard.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
from packaging.specifiers import SpecifierSet
from pip_requirements_parser import RequirementsFile

from depguard.errors import ParseError
from depguard.models import Dependency, Ecosystem, ParsedManifest, Scope, Skipped, canonical_name
from depguard.parsers.base import DiskReader
from depguard.parsers.requirements import RequirementsParser
from tests.conftest import fixture_path

HERE = ("manifests", "requirements")


def parse(relative: str, project: str = "") -> ParsedManifest:
    """Parse a fixture; `source` is its name relative to `project` (a fixture sub-folder)."""
    path = fixture_path(*HERE, *project.split("/"), *relative.split("/"))
    return RequirementsParser().parse(path, relative, DiskReader())


def package(manifest: ParsedManifest, name: str) -> Dependency:
    found = [dep for dep in manifest.packages.values() if dep.name == name]
    assert len(found) == 1, f"{name}: {found}"
    return found[0]


def parents(manifest: ParsedManifest, name: str) -> set[str]:
    """Parent names of `name` ("<root>" for a root)."""
    child = package(manifest, name).id
    return {
        "<root>" if edge.parent.startswith("root:") else manifest.packages[edge.parent].name
        for edge in manifest.edges
        if edge.child == child
    }


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("requirements.txt", True),
        ("requirements-dev.txt", True),
        ("requirements_test.txt", True),
        ("dev-requirements.txt", True),
        ("Requirements.TXT", True),
        ("requirements.in", True),
        ("requirements.pip", True),
        ("constraints.txt", True),
        ("constraints-py311.txt", True),
        ("dev-constraints.txt", True),
        ("requirements/base.txt", True),
        ("requirements/main.in", True),
        ("MANIFEST.in", False),
        ("requirements/MANIFEST.in", False),
        ("notes.txt", False),
        ("requirements.json", False),
        ("setup.cfg", False),
        ("docs/requirements", False),
    ],
)
def test_matches(name: str, expected: bool) -> None:
    assert RequirementsParser.matches(Path(name)) is expected


def test_syntax_all_forms() -> None:
    manifest = parse("syntax-all.txt")
    assert (manifest.path, manifest.kind) == ("syntax-all.txt", "requirements.txt")
    assert manifest.locked is False
    django = package(manifest, "django")
    assert (django.version, django.specifier, django.line) == (None, "<5.0,>=4.2", 14)
    requests = package(manifest, "requests")
    assert requests.version is None  # ==2.8.* is a range, not a version
    assert requests.specifier == "==2.8.*,>=2.8.1"
    assert requests.extras == ("security", "socks")
    assert requests.marker == 'python_version < "3.13"'
    assert package(manifest, "docopt").version == "0.6.1"
    legacy = package(manifest, "legacy-thing")
    assert (legacy.version, legacy.specifier) == ("1.0-custom", "===1.0-custom")
    attrs = package(manifest, "attrs")
    assert (attrs.version, attrs.line) == ("23.2.0", 18)
    assert attrs.hashes == (
        "sha256:ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb",
        "sha256:3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d",
    )
    urllib3 = package(manifest, "urllib3")
    assert urllib3.version is None
    assert urllib3.resolved == "https://github.com/urllib3/urllib3/archive/refs/tags/1.26.8.zip"
    private = package(manifest, "private-pkg")
    assert private.version == "2.1.0"  # from the wheel file name
    assert private.resolved is not None and "${TOKEN}@" in private.resolved  # left as written
    tomli = package(manifest, "tomli")
    assert (tomli.version, tomli.specifier) == ("2.0.1", "==2.0.1")
    assert tomli.marker == 'python_version < "3.11"'
    assert package(manifest, "click").resolved == "git+https://github.com/pallets/click.git@8.1.7#egg=click"
    itsdangerous = package(manifest, "itsdangerous")
    assert itsdangerous.extras == ("extra",) and itsdangerous.resolved is not None
    six = package(manifest, "six")  # "six\" + "==1.16.0" on the next line
    assert (six.version, six.line) == ("1.16.0", 30)
    assert len(manifest.packages) == 11
    assert all(dep.direct and dep.scope is Scope.PROD and dep.source == "syntax-all.txt"
               for dep in manifest.packages.values())
    assert [(s.name, s.line) for s in manifest.skipped] == [
        (".", 26),
        ("./vendor/localpkg", 27),
        ("https://files.example.com/sdists/mystery-1.0.tar.gz", 28),
        ("https://example.com/remote-requirements.txt", 29),
    ]
    assert all(edge.parent == manifest.roots[0].id for edge in manifest.edges)
    assert len(manifest.edges) == 11


def test_root_is_the_folder_holding_the_file() -> None:
    manifest = parse("requirements.txt", "whisper")
    assert manifest.roots[0].name == "whisper"
    assert manifest.roots[0].source == "requirements.txt"
    assert manifest.roots[0].ecosystem is Ecosystem.PYPI
    # a requirements/ folder stands for the project around it
    assert parse("requirements/main.in", "warehouse").roots[0].name == "warehouse"


def test_crlf_line_endings() -> None:
    manifest = parse("crlf-line-endings.txt")
    assert package(manifest, "flask").version == "3.0.3"
    click = package(manifest, "click")
    assert (click.version, click.line, len(click.hashes)) == ("8.1.7", 2, 1)


def test_include_nested_relative_to_including_file() -> None:
    manifest = parse("requirements.txt", "include-nested")
    assert {(dep.name, dep.source, dep.line) for dep in manifest.packages.values()} == {
        ("flask", "requirements.txt", 2),
        ("pytest", "requirements/dev.txt", 3),
        ("requests", "requirements/base.txt", 1),
    }
    requests = package(manifest, "requests")
    assert requests.version == "2.32.3"  # from ../constraints.txt
    assert requests.specifier == ">=2.31"
    assert all(dep.direct for dep in manifest.packages.values())
    assert {edge.parent for edge in manifest.edges} == {manifest.roots[0].id}


def test_include_cycle_of_a_file_with_itself() -> None:
    manifest = parse("cyclic-include-self.txt", "cycles")
    assert list(manifest.packages) == ["PyPI:six@1.16.0"]


def test_include_cycle_between_two_files() -> None:
    manifest = parse("cyclic-a.txt", "cycles")
    assert {(dep.name, dep.source) for dep in manifest.packages.values()} == {
        ("flask", "cyclic-a.txt"),
        ("click", "cyclic-b.txt"),
    }


def test_constraints_only_pin_what_requirements_name() -> None:
    manifest = parse("requirements.txt", "constraints-pin")
    versions = {dep.name: dep.version for dep in manifest.packages.values()}
    assert versions == {
        "requests": "2.32.3",
        "flask": "3.0.3",
        "click": None,  # click==8.1.7 contradicts click<8: not applied
        "idna": None,  # the constraint applies only on python < 3.0
        "black": None,  # a VCS requirement is not pinned by a version constraint
    }
    assert package(manifest, "flask").specifier == ">=3"  # the requirement as written
    assert manifest.locked is False


def test_uv_pip_compile_via_edges() -> None:
    manifest = parse("requirements.txt", "uv-compile-hashes")
    assert manifest.locked is True
    assert parents(manifest, "werkzeug") == {"flask"}
    assert parents(manifest, "markupsafe") == {"jinja2", "werkzeug"}
    assert parents(manifest, "urllib3") == {"requests"}
    assert parents(manifest, "flask") == {"<root>"}
    assert parents(manifest, "requests") == {"<root>"}
    direct = {dep.name for dep in manifest.packages.values() if dep.direct}
    assert direct == {"flask", "requests"}
    root_edges = {e.child: e.specifier for e in manifest.edges if e.parent.startswith("root:")}
    assert root_edges == {"PyPI:flask@3.0.3": "==3.0.3", "PyPI:requests@2.34.2": "==2.34.2"}
    assert all(dep.hashes and dep.version for dep in manifest.packages.values())
    assert len(manifest.packages) == 12


def test_pip_compile_legacy_annotation_styles() -> None:
    manifest = parse("legacy-inline.txt", "via-annotations")
    assert manifest.locked is True
    assert parents(manifest, "six") == {"python-dateutil"}  # "# via" after a "\" continuation
    assert parents(manifest, "click") == {"flask", "black"}  # inline "# via a, b"
    assert parents(manifest, "idna") == {"requests"}  # "-c constraints.txt" is no parent
    assert parents(manifest, "urllib3") == {"<root>"}  # only "-c": kept, hung off the root
    assert len(package(manifest, "six").hashes) == 1


def test_pip_compile_project_parent_is_the_root() -> None:
    manifest = parse("requirements.txt", "flask-celery")
    assert manifest.locked is True
    # "# via flask-example-celery (pyproject.toml)" names the project itself
    assert parents(manifest, "celery") == {"<root>"}
    assert package(manifest, "celery").extras == ("redis",)
    assert parents(manifest, "click") == {"celery", "click-didyoumean", "click-plugins",
                                          "click-repl", "flask"}


def test_warehouse_compiled_includes() -> None:
    manifest = parse("requirements.txt", "warehouse")
    assert manifest.locked is True
    main = [dep for dep in manifest.packages.values() if dep.source == "requirements/main.txt"]
    assert sum(len(dep.hashes) for dep in main) == 2089
    assert parents(manifest, "amqp") == {"kombu"}
    assert parents(manifest, "alembic") == {"<root>", "alembic-postgresql-enum"}
    assert package(manifest, "alembic").direct is True
    assert package(manifest, "amqp").direct is False
    assert manifest.skipped == []
    children = {edge.child for edge in manifest.edges}
    assert children == set(manifest.packages)  # every package is reachable from somewhere


def test_pip_tools_input_is_not_locked() -> None:
    manifest = parse("requirements/main.in", "warehouse")
    assert manifest.locked is False
    assert package(manifest, "celery").extras == ("redis",)
    assert package(manifest, "celery").specifier == "<5.7,>=5.6.2"
    assert package(manifest, "kombu").extras == ("redis",)  # inline comment stripped


def test_home_assistant_constraint_and_requirement_includes() -> None:
    manifest = parse("requirements_test.txt", "home-assistant")
    names = {dep.name for dep in manifest.packages.values()}
    assert {"codespell", "ruff", "yamllint"} <= names  # -r requirements_test_pre_commit.txt
    assert "aiohttp" not in names and "urllib3" not in names  # constraints add nothing
    assert package(manifest, "ruff").source == "requirements_test_pre_commit.txt"
    assert package(manifest, "types-pyyaml").version == "6.0.12.20260408"
    assert manifest.locked is False  # pinned, but no "# via": not a resolved graph


def test_text_generation_webui_platform_wheels_merge() -> None:
    manifest = parse("requirements/full/requirements.txt", "text-generation-webui")
    accelerate = package(manifest, "accelerate")
    assert (accelerate.version, accelerate.specifier) == (None, "==1.13.*")
    binaries = package(manifest, "llama-cpp-binaries")
    assert binaries.version == "0.124.0+cu124"
    assert binaries.marker == ('(platform_system == "Windows") or (platform_system == "Linux" '
                               'and platform_machine == "x86_64")')
    assert binaries.resolved is not None and binaries.resolved.endswith("win_amd64.whl")


def test_alpaca_lora_vcs_without_egg_is_skipped() -> None:
    manifest = parse("requirements.txt", "alpaca-lora")
    assert manifest.skipped == [Skipped("git+https://github.com/huggingface/peft.git",
                                        "URL or path without a package name (no #egg=)",
                                        "requirements.txt", 9)]
    black = package(manifest, "black")  # "black" and "black[jupyter]" are one node
    assert (black.extras, black.line) == (("jupyter",), 5)


def test_whisper_marker_without_spaces() -> None:
    triton = package(parse("requirements.txt", "whisper"), "triton")
    assert triton.specifier == ">=2.0.0"
    assert triton.marker == ('platform_machine == "x86_64" and sys_platform == "linux" '
                             'or sys_platform == "linux2"')


# --- cross-check against pip's own parser -------------------------------------------------

ORACLE_FIXTURES = [
    ("warehouse", "requirements.txt"),
    ("warehouse", "requirements/main.in"),
    ("home-assistant", "requirements_test.txt"),
    ("text-generation-webui", "requirements/full/requirements.txt"),
    ("text-generation-webui", "requirements/portable/requirements.txt"),
    ("alpaca-lora", "requirements.txt"),
    ("whisper", "requirements.txt"),
    ("flask-celery", "requirements.txt"),
    ("uv-compile-hashes", "requirements.txt"),
]


def _spec(req: Any) -> str:
    return str(req.specifier) if req.specifier else ""


def _pin(req: Any) -> str | None:
    pins = [s.version for s in SpecifierSet(_spec(req))
            if s.operator == "==" and "*" not in s.version]
    return pins[0] if len(pins) == 1 else None


@pytest.mark.parametrize(("project", "relative"), ORACLE_FIXTURES)
def test_agrees_with_pip(project: str, relative: str) -> None:
    manifest = parse(relative, project)
    folder = fixture_path(*HERE, project)
    parsed = RequirementsFile.from_file(str(folder / relative), include_nested=True)
    assert parsed.invalid_lines == []
    reqs = [r for r in parsed.requirements if not r.is_constraint]
    named = [r for r in reqs if r.name]
    unnamed = sorted(r.link.url for r in reqs if not r.name)
    assert sorted(s.name for s in manifest.skipped) == unnamed
    for dep in manifest.packages.values():
        group = [r for r in named if canonical_name(Ecosystem.PYPI, r.name) == dep.name
                 and _pin(r) == dep.version]
        assert group, dep
        first = group[0]
        assert (dep.source, dep.line) == (Path(os.path.relpath(first.filename, folder)).as_posix(),
                                          first.line_number)
        assert dep.specifier == str(SpecifierSet(",".join(_spec(r) for r in group)))
        assert set(dep.hashes) == {h for r in group for h in r.hash_options}
        assert set(dep.extras) == {x for r in group for x in r.extras}
        markers = [str(r.marker) if r.marker else None for r in group]
        if None in markers:
            assert dep.marker is None
        else:
            assert dep.marker is not None and all(m in dep.marker for m in markers if m)
        assert dep.resolved == (first.link.url if first.link else None)
        named = [r for r in named if r not in group]
    assert named == []  # every requirement pip sees became a package


# --- malformed input --------------------------------------------------------------------

MALFORMED = [
    ("bad-requirement.txt", "bad-requirement.txt", 2, "invalid requirement 'requests>=>2'"),
    ("unclosed-extras.txt", "unclosed-extras.txt", 2, "invalid requirement 'requests[security'"),
    ("bad-url-marker.txt", "bad-url-marker.txt", 1, "invalid environment marker"),
    ("missing-include.txt", "missing-include.txt", 2, "file not found: does-not-exist.txt"),
    ("missing-nested-include.txt", "nested/inner.txt", 3, "included file not found: gone.txt"),
    ("invalid-utf8.txt", "invalid-utf8.txt", 2, "not valid UTF-8"),
    ("nul-byte.txt", "nul-byte.txt", 2, "NUL byte"),
    ("option-no-arg.txt", "option-no-arg.txt", 2, "-r option requires 1 argument"),
    ("index-url-no-arg.txt", "index-url-no-arg.txt", 2, "--index-url option requires 1 argument"),
    ("unknown-option.txt", "unknown-option.txt", 1, "no such option: --frobnicate"),
    ("weak-hash.txt", "weak-hash.txt", 1, "unsupported --hash algorithm 'md5'"),
    ("hash-without-algorithm.txt", "hash-without-algorithm.txt", 1, "needs ALGORITHM:DIGEST"),
    ("bad-wheel-name.txt", "bad-wheel-name.txt", 1, "invalid wheel file name"),
    ("unbalanced-quote.txt", "unbalanced-quote.txt", 1, "No closing quotation"),
    ("editable-http-url.txt", "editable-http-url.txt", 1, "local project or a VCS URL"),
    ("bad-egg-fragment.txt", "bad-egg-fragment.txt", 1, "invalid #egg= fragment 'not valid!'"),
    ("stray-argument.txt", "stray-argument.txt", 1, "argument after options: 'extra.txt'"),
]


@pytest.mark.parametrize(("fixture", "where", "line", "fragment"), MALFORMED)
def test_malformed(fixture: str, where: str, line: int, fragment: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse(fixture, "malformed")
    assert (caught.value.path, caught.value.line) == (where, line)
    assert fragment in caught.value.reason
    assert "\n" not in str(caught.value)


FIVE_MB = 5_000_000


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("a" * FIVE_MB, "requirement is too long"),
        ("flask==3.0.3 --hash=sha256:" + "a" * FIVE_MB, None),
        ('flask==3.0.3 --hash="sha256:' + "a" * FIVE_MB, "No closing quotation"),
        ("flask==3.0.3 --hash=sha256:" + "\\a" * (FIVE_MB // 2), None),
        ("--index-url " + "'a' " * (FIVE_MB // 4), "unexpected argument"),
        ("--pre " * (FIVE_MB // 6), None),
        (" " * FIVE_MB + "# comment", None),
        ("a#" * (FIVE_MB // 2), "requirement is too long"),
        ("flask \\\n" * (FIVE_MB // 8), "requirement is too long"),
    ],
    ids=["name", "hash", "open-quote", "escapes", "quoted-words", "flags", "spaces", "hashes",
         "continuations"],
)
def test_five_megabyte_line_is_fast(tmp_path: Path, content: str, fragment: str | None) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text(content + "\n", encoding="utf-8")
    started = time.perf_counter()
    if fragment is None:
        RequirementsParser().parse(path, "requirements.txt", DiskReader())
    else:
        with pytest.raises(ParseError, match=fragment):
            RequirementsParser().parse(path, "requirements.txt", DiskReader())
    assert time.perf_counter() - started < 5


# --- option spellings and the reader seam ---------------------------------------------------

class MemoryReader:
    """A FileReader over a dict, like the git-revision reader `check` uses."""

    def __init__(self, files: dict[str, str]) -> None:
        self.files = files

    def read_text(self, path: Path) -> str:
        return self.files[path.as_posix()]

    def exists(self, path: Path) -> bool:
        return path.as_posix() in self.files


def test_reads_only_through_the_reader() -> None:
    reader = MemoryReader({
        "proj/requirements.txt": "-rreqs/a.txt\n--requirement=reqs/b.txt\n--requirem reqs/c.txt\n",
        "proj/reqs/a.txt": "aaa==1\n",
        "proj/reqs/b.txt": "bbb==2 --hash sha256:00\n-c ../pins.txt\n",
        "proj/reqs/c.txt": "ccc\n",
        "proj/pins.txt": "ccc==3\n",
    })
    manifest = RequirementsParser().parse(Path("proj/requirements.txt"), "requirements.txt", reader)
    assert {(d.name, d.version, d.source) for d in manifest.packages.values()} == {
        ("aaa", "1", "reqs/a.txt"),
        ("bbb", "2", "reqs/b.txt"),
        ("ccc", "3", "reqs/c.txt"),
    }
    assert package(manifest, "bbb").hashes == ("sha256:00",)


def test_ambiguous_option_prefix_is_an_error() -> None:
    reader = MemoryReader({"r.txt": "--pr\n"})  # --pre or --prefer-binary
    with pytest.raises(ParseError, match="ambiguous option: --pr"):
        RequirementsParser().parse(Path("r.txt"), "r.txt", reader)


def test_hash_on_an_option_line_is_ignored_like_pip() -> None:
    reader = MemoryReader({"r.txt": "--hash=sha256:00\nsix==1.16.0\n"})
    manifest = RequirementsParser().parse(Path("r.txt"), "r.txt", reader)
    assert package(manifest, "six").hashes == ()


def test_duplicate_requirements_intersect_specifiers() -> None:
    reader = MemoryReader({"r.txt": "foo>=1\nfoo[x]<2 ; os_name == 'nt'\nfoo\n"})
    foo = package(RequirementsParser().parse(Path("r.txt"), "r.txt", reader), "foo")
    assert (foo.specifier, foo.extras, foo.marker, foo.line) == ("<2,>=1", ("x",), None, 1)


def test_include_outside_the_project_names_the_including_line(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (tmp_path / "elsewhere.txt").write_text("six\n", encoding="utf-8")
    (project / "requirements.txt").write_text("flask\n-r ../elsewhere.txt\n", encoding="utf-8")
    with pytest.raises(ParseError) as caught:
        RequirementsParser().parse(project / "requirements.txt", "requirements.txt",
                                   DiskReader(project))
    assert (caught.value.path, caught.value.line) == ("requirements.txt", 2)
    assert "outside the project" in caught.value.reason


def test_include_through_an_environment_variable_is_skipped() -> None:
    reader = MemoryReader({"r.txt": "\ufeffsix\n-r ${REQS_DIR}/extra.txt\n"})
    manifest = RequirementsParser().parse(Path("r.txt"), "r.txt", reader)
    assert list(manifest.packages) == ["PyPI:six"]  # the byte-order mark is not part of a name
    assert manifest.skipped == [Skipped("${REQS_DIR}/extra.txt",
                                        "include path uses an environment variable", "r.txt", 2)]
