"""resolve_manifests: graphs from a real venv's metadata and from pip's real resolver (offline).

Every package here is a small wheel (or sdist) built by hand in tmp_path; pip runs with
``--no-index --find-links`` and no configuration files, so nothing touches the internet.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import io
import os
import socket
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from depguard.errors import NetworkError, UsageError
from depguard.models import (
    Dependency,
    Ecosystem,
    Edge,
    ParsedManifest,
    Root,
    Scope,
    canonical_name,
)
from depguard.resolve import _report_target, resolve_manifests

PYPI = Ecosystem.PYPI
SOURCE = "requirements.txt"
ROOT = Root(name="demo", source=SOURCE, ecosystem=PYPI)

# name, version, Requires-Dist, Provides-Extra
WHEELS: list[tuple[str, str, tuple[str, ...], tuple[str, ...]]] = [
    ("a", "1.0", ("b>=1",), ()),
    ("b", "1.0", (), ()),
    ("b", "2.0", (), ()),
    ("c", "1.0", ('e ; extra == "speed"', 'f ; python_version < "3"',
                  'c[speed] ; extra == "all"'), ("speed", "all")),
    ("e", "1.0", (), ()),
    ("k", "1.0", ("b<2",), ()),
    ("m", "1.0", ("nonexistent",), ()),
    ("n", "1.0", ("b>=2",), ()),
    ("h", "1.0", ("My.Pkg>=1",), ()),
    ("My_Pkg", "1.0", (), ()),
]


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def make_wheel(folder: Path, name: str, version: str, requires: tuple[str, ...] = (),
               extras: tuple[str, ...] = (), files: dict[str, str] | None = None) -> Path:
    """A minimal, valid py3-none-any wheel (METADATA, WHEEL, RECORD)."""
    stem = name.replace("-", "_").replace(".", "_")
    info = f"{stem}-{version}.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    metadata += "".join(f"Provides-Extra: {e}\n" for e in extras)
    metadata += "".join(f"Requires-Dist: {r}\n" for r in requires)
    entries = {f"{stem.lower()}/__init__.py": "", f"{info}/METADATA": metadata,
               f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: depguard-tests\n"
                                "Root-Is-Purelib: true\nTag: py3-none-any\n", **(files or {})}
    record = [f"{path},{_record_hash(text.encode())},{len(text.encode())}"
              for path, text in entries.items()]
    entries[f"{info}/RECORD"] = "\n".join([*record, f"{info}/RECORD,,"]) + "\n"
    path = folder / f"{stem}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for name_in_zip, text in entries.items():
            archive.writestr(name_in_zip, text)
    return path


def make_sdist(folder: Path, name: str, version: str, marker: Path) -> Path:
    """An sdist whose setup.py writes `marker` when pip runs it."""
    setup = (f"open({str(marker)!r}, 'w').close()\n"
             f"from setuptools import setup\nsetup(name={name!r}, version={version!r})\n")
    members = {f"{name}-{version}/setup.py": setup,
               f"{name}-{version}/PKG-INFO": f"Metadata-Version: 2.1\nName: {name}\n"
                                             f"Version: {version}\n"}
    path = folder / f"{name}-{version}.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        for member, text in members.items():
            data = text.encode()
            info = tarfile.TarInfo(member)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("index")
    for name, version, requires, extras in WHEELS:
        make_wheel(folder, name, version, requires, extras)
    make_sdist(folder, "d", "1.0", folder.parent / "sdist-setup-ran")
    return folder


@pytest.fixture(autouse=True)
def hermetic_pip(monkeypatch: pytest.MonkeyPatch) -> None:
    """No pip configuration file or PIP_* variable of this machine leaks into the tests."""
    for key in list(os.environ):
        if key.startswith("PIP_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)


def manifest(*requirements: tuple[str, str], locked: bool = False) -> ParsedManifest:
    """A parser-shaped manifest: (requirement, scope) pairs, one per line of SOURCE."""
    from packaging.requirements import Requirement

    result = ParsedManifest(path=SOURCE, kind="requirements.txt", ecosystem=PYPI,
                            roots=[ROOT], locked=locked)
    for line, (text, scope) in enumerate(requirements, start=1):
        req = Requirement(text)
        dep = Dependency(ecosystem=PYPI, name=canonical_name(PYPI, req.name),
                         specifier=str(req.specifier), scope=Scope(scope), direct=True,
                         source=SOURCE, line=line, extras=tuple(sorted(req.extras)),
                         marker=str(req.marker) if req.marker else None, resolved=req.url)
        result.add_package(dep)
        result.edges.append(Edge(parent=ROOT.id, child=dep.id, specifier=dep.specifier,
                                 scope=dep.scope))
    return result


def pip(index: Path, *extra: str) -> list[str]:
    return ["--no-index", "--find-links", str(index), *extra]


def versions(result: ParsedManifest) -> dict[str, str | None]:
    return {dep.name: dep.version for dep in result.packages.values()}


def edge_set(result: ParsedManifest) -> set[tuple[str, str, str, str]]:
    return {(e.parent, e.child, e.specifier, e.scope.value) for e in result.edges}


def reasons(result: ParsedManifest) -> dict[str, str]:
    return {s.name: s.reason for s in result.skipped}


# --- pip mode -----------------------------------------------------------------------------------


def test_pip_resolves_the_transitive_graph(index: Path) -> None:
    [result] = resolve_manifests([manifest(("a", "prod"), ("c[speed]", "dev"))], "pip",
                                 pip_args=pip(index))
    assert result.locked and result.path == SOURCE and result.roots == [ROOT]
    assert versions(result) == {"a": "1.0", "b": "2.0", "c": "1.0", "e": "1.0"}
    assert edge_set(result) == {
        (ROOT.id, "PyPI:a@1.0", "", "prod"),
        (ROOT.id, "PyPI:c@1.0", "", "dev"),
        ("PyPI:a@1.0", "PyPI:b@2.0", ">=1", "prod"),
        ("PyPI:c@1.0", "PyPI:e@1.0", "", "dev"),
    }
    a, b = result.packages["PyPI:a@1.0"], result.packages["PyPI:b@2.0"]
    assert (a.direct, a.line, a.source) == (True, 1, SOURCE)
    assert (b.direct, b.scope, b.line) == (False, Scope.PROD, None)
    assert b.hashes[0].startswith("sha256:") and b.resolved and b.resolved.endswith(".whl")
    assert result.packages["PyPI:e@1.0"].scope is Scope.DEV
    assert result.skipped == []


def test_pip_direct_pin_steers_the_transitive_version(index: Path) -> None:
    [result] = resolve_manifests([manifest(("a", "prod"), ("b<2", "prod"))], "pip",
                                 pip_args=pip(index))
    assert versions(result) == {"a": "1.0", "b": "1.0"}
    assert (ROOT.id, "PyPI:b@1.0", "<2", "prod") in edge_set(result)
    assert ("PyPI:a@1.0", "PyPI:b@1.0", ">=1", "prod") in edge_set(result)
    assert result.packages["PyPI:b@1.0"].direct


def test_pip_extra_that_requires_its_own_extra(index: Path) -> None:
    [result] = resolve_manifests([manifest(("c[all]", "prod"))], "pip", pip_args=pip(index))
    assert versions(result) == {"c": "1.0", "e": "1.0"}
    assert ("PyPI:c@1.0", "PyPI:e@1.0", "", "prod") in edge_set(result)
    assert not any(e.parent == e.child for e in result.edges)
    assert result.packages["PyPI:c@1.0"].extras == ("all",)


def test_pip_pep503_names(index: Path) -> None:
    [result] = resolve_manifests([manifest(("h", "prod"))], "pip", pip_args=pip(index))
    assert versions(result) == {"h": "1.0", "my-pkg": "1.0"}
    assert ("PyPI:h@1.0", "PyPI:my-pkg@1.0", ">=1", "prod") in edge_set(result)


@pytest.mark.parametrize("user_args", [(), ("--no-binary", ":all:")], ids=["plain", "no-binary"])
def test_pip_never_builds_an_sdist_only_requirement(
    index: Path, user_args: tuple[str, ...],
) -> None:
    ran = index.parent / "sdist-setup-ran"
    args = pip(index, "--no-build-isolation", *user_args)
    [result] = resolve_manifests([manifest(("a", "prod"), ("d", "prod"))], "pip", pip_args=args)
    assert not ran.exists()
    assert versions(result) == {"a": "1.0", "b": "2.0"}
    [skipped] = result.skipped
    assert (skipped.name, skipped.line) == ("d", 2)
    assert "No matching distribution found for d" in skipped.reason
    assert "never builds" in skipped.reason
    # Control: without --only-binary, pip really would run this sdist's setup.py.
    subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", *args, "d"],
                   capture_output=True, check=False)
    assert ran.exists()
    ran.unlink()


@pytest.mark.parametrize(("requirements", "fragment"), [
    ((("k", "prod"), ("b>=2", "prod")), "conflicting dependencies"),
    ((("b>=3", "prod"),), "No matching distribution found for b>=3"),
    ((("m", "prod"),), "No matching distribution found for nonexistent"),
], ids=["conflict", "no-version-matches", "transitive-missing"])
def test_pip_failure_is_one_line_usage_error(
    index: Path, requirements: tuple[tuple[str, str], ...], fragment: str,
) -> None:
    with pytest.raises(UsageError) as caught:
        resolve_manifests([manifest(*requirements)], "pip", pip_args=pip(index))
    message = str(caught.value)
    assert message.startswith(f"{SOURCE}: pip could not resolve the requirements: ")
    assert fragment in message and "\n" not in message and "Traceback" not in message


def test_pip_bad_option_is_usage_error(index: Path) -> None:
    with pytest.raises(UsageError, match=r"no such option: --bogus$"):
        resolve_manifests([manifest(("a", "prod"))], "pip", pip_args=pip(index, "--bogus"))


def test_pip_unreachable_index_is_network_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    args = ["--index-url", f"http://127.0.0.1:{port}/simple", "--retries", "1", "--timeout", "2"]
    with pytest.raises(NetworkError) as caught:
        resolve_manifests([manifest(("a", "prod"))], "pip", pip_args=args)
    message = str(caught.value)
    assert message.startswith(f"{SOURCE}: pip could not reach the package index: ")
    assert "Connection refused" in message and "\n" not in message


def test_pip_skips_what_it_cannot_resolve(index: Path) -> None:
    original = manifest(
        ("a", "prod"),
        ("e @ git+https://example.invalid/e.git", "prod"),
        ('c ; python_version < "3"', "prod"),
        ('h ; extra == "web"', "optional"),
    )
    [result] = resolve_manifests([original], "pip", pip_args=pip(index))
    assert versions(result) == {"a": "1.0", "b": "2.0", "h": "1.0", "my-pkg": "1.0"}
    assert result.packages["PyPI:h@1.0"].scope is Scope.OPTIONAL
    assert reasons(result) == {
        "e": "direct reference (git+https://example.invalid/e.git): depguard never fetches or "
             "builds it",
        "c": "environment marker 'python_version < \"3\"' is false for the running environment "
             f"({sys.prefix})",
    }
    assert [s.line for s in result.skipped] == [2, 3]


def test_nothing_to_resolve_returns_the_same_objects() -> None:
    locked = manifest(("a", "prod"), locked=True)
    npm = ParsedManifest(path="package.json", kind="package.json", ecosystem=Ecosystem.NPM)
    result = resolve_manifests([locked, npm], "env", python=Path("/nonexistent/python"))
    assert result[0] is locked and result[1] is npm


def test_unknown_mode_is_usage_error() -> None:
    with pytest.raises(UsageError, match="unknown resolve mode 'poetry'"):
        resolve_manifests([manifest(("a", "prod"))], "poetry")  # type: ignore[arg-type]


# --- env mode -----------------------------------------------------------------------------------


@pytest.fixture()
def venv(tmp_path: Path, index: Path) -> Iterator[tuple[Path, Path]]:
    """A real venv holding a..n (b at 1.0, below n's `b>=2`) and a `.pth` start-up hook."""
    marker = tmp_path / "pth-ran"
    evil = tmp_path / "evil"
    evil.mkdir()
    make_wheel(evil, "evil", "1.0", files={
        "evil_init.pth": f"import os; open({str(marker)!r}, 'w').close()\n"})
    folder = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    site = sysconfig.get_paths(vars={"base": str(folder), "platbase": str(folder)})["purelib"]
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                    "--find-links", str(index), "--find-links", str(evil), "--target", site,
                    "a", "b==1.0", "c", "e", "n", "h", "my-pkg", "evil"], check=True)
    assert not marker.exists()
    yield folder, marker


@pytest.mark.parametrize("as_interpreter", [False, True], ids=["venv-folder", "interpreter"])
def test_env_reads_a_venv_without_running_its_site_hooks(
    venv: tuple[Path, Path], as_interpreter: bool,
) -> None:
    folder, marker = venv
    python = folder / "bin" / "python" if as_interpreter else folder
    original = manifest(("a", "dev"), ("c[speed]", "prod"), ("n", "prod"), ("h", "prod"),
                        ("zz-missing", "prod"), ("b>=3", "dev"))
    [result] = resolve_manifests([original], "env", python=python)
    assert not marker.exists()
    assert versions(result) == {"a": "1.0", "b": "1.0", "c": "1.0", "e": "1.0", "n": "1.0",
                                "h": "1.0", "my-pkg": "1.0"}
    assert result.packages["PyPI:a@1.0"].scope is Scope.DEV
    assert result.packages["PyPI:b@1.0"].scope is Scope.PROD  # via n, stronger than a's dev
    assert ("PyPI:a@1.0", "PyPI:b@1.0", ">=1", "dev") in edge_set(result)
    assert ("PyPI:n@1.0", "PyPI:b@1.0", ">=2", "prod") in edge_set(result)
    assert ("PyPI:c@1.0", "PyPI:e@1.0", "", "prod") in edge_set(result)
    assert ("PyPI:h@1.0", "PyPI:my-pkg@1.0", ">=1", "prod") in edge_set(result)
    notes = [(s.name, s.reason, s.line) for s in result.skipped]
    assert notes == [
        ("zz-missing", f"not installed in {python}", 5),
        ("b", f"the project requires >=3 but {python} has 1.0; using that version anyway", 6),
        ("b", f"n 1.0 requires >=2 but {python} has 1.0; using that version anyway", None),
    ]
    # Control: the hook is live; any normal start of this interpreter runs it.
    subprocess.run([str(folder / "bin" / "python"), "-c", "pass"], check=True)
    assert marker.exists()


def test_env_defaults_to_the_running_environment() -> None:
    [result] = resolve_manifests([manifest(("pytest", "dev"), ("packaging>=20", "prod"))], "env")
    pytest_id = f"PyPI:pytest@{importlib.metadata.version('pytest')}"
    packaging_id = f"PyPI:packaging@{importlib.metadata.version('packaging')}"
    assert result.packages[pytest_id].direct and result.packages[packaging_id].direct
    pluggy = f"PyPI:pluggy@{importlib.metadata.version('pluggy')}"
    assert any(e.parent == pytest_id and e.child == pluggy for e in result.edges)
    assert result.packages[pluggy].scope is Scope.DEV
    assert result.packages[packaging_id].scope is Scope.PROD
    assert result.skipped == []


@pytest.mark.parametrize(("make", "fragment"), [
    (lambda p: p / "missing", "no such interpreter or virtual environment"),
    (lambda p: p, "no Python interpreter in this folder"),
    (lambda p: (p / "fake").write_text("") or p / "fake", "cannot run the interpreter"),
], ids=["missing", "empty-folder", "not-executable"])
def test_env_bad_python_is_usage_error(tmp_path: Path, make: Any, fragment: str) -> None:
    with pytest.raises(UsageError, match=fragment):
        resolve_manifests([manifest(("a", "prod"))], "env", python=make(tmp_path))


# --- the installation report --------------------------------------------------------------------

GOOD_ITEM = {"metadata": {"name": "a", "version": "1.0"}}


@pytest.mark.parametrize(("report", "fragment"), [
    ([], "version None"),
    ({"version": "2", "install": [], "environment": {}}, "version '2'"),
    ({"version": "1", "install": {}, "environment": {}}, "'install' is not an array"),
    ({"version": "1", "install": [], "environment": []}, "'environment' is not an object"),
    ({"version": "1", "install": [], "environment": {"os_name": 1}}, "not an object of strings"),
    ({"version": "1", "install": [GOOD_ITEM, {}], "environment": {}}, "install[1].metadata"),
    ({"version": "1", "install": [{"metadata": {"name": "a", "version": 1}}], "environment": {}},
     "no name/version strings"),
    ({"version": "1", "environment": {},
      "install": [{"metadata": {"name": "a", "version": "1", "requires_dist": "b"}}]},
     "requires_dist is not an array of strings"),
])
def test_malformed_installation_report(report: Any, fragment: str) -> None:
    with pytest.raises(UsageError) as caught:
        _report_target(report, SOURCE)
    assert str(caught.value).startswith(f"{SOURCE}: unexpected pip installation report: ")
    assert fragment in str(caught.value)
