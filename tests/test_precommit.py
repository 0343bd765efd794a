"""The pre-commit hook for real: `pre-commit try-repo` builds the hook's venv and runs it.

pre-commit installs a `language: python` hook with `pip install .` into a fresh
virtualenv. Tests never touch the internet, so pip gets `--no-index` and a
wheelhouse made from the distributions already installed in this test
environment: each one is repacked from its installed files (RECORD) into a wheel.
That is the same requirement set pip would download, resolved by the real pip
from depguard's real `install_requires` and build requirements.
"""

from __future__ import annotations

import base64
import configparser
import hashlib
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.tags import sys_tags
from packaging.utils import canonicalize_name

from tests import test_gate as gate
from tests.conftest import ROOT, fixture_path

DEAD_PROXY = "http://127.0.0.1:9"
"""Any HTTP(S) request a subprocess tries goes here and is refused."""

_SKIP_IN_WHEEL = {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"}
_COPY_IGNORE = shutil.ignore_patterns(".git", "__pycache__", "*.egg-info", "build", "dist",
                                      ".mypy_cache", ".ruff_cache", ".pytest_cache",
                                      "node_modules", ".venv")


def base_project(root: Path) -> None:
    """The holdout project of tests/test_gate.py at a clean base commit in `root`."""
    root.mkdir(parents=True)
    gate.git(root, "init", "-q", "-b", "main")
    gate.write(root, "pyproject.toml", gate.PYPROJECT.format(extra=""))
    gate.write(root, "src/app/__init__.py", "")
    gate.write(root, "src/app/util.py", "X = 1\n")
    gate.write(root, "src/app/helpers.py", "thing = 2\n")
    gate.write(root, "src/app/main.py", gate.APP_BASE)
    base = fixture_path("projects", "npm-axios-1.14.0")
    for name in ("package.json", "package-lock.json"):
        shutil.copy(base / name, root / name)
    gate.write(root, "web/index.js", gate.JS_BASE)
    gate.write(root, "README.md", "# holdout\n")
    gate.git(root, "add", "-A")
    gate.git(root, "commit", "-q", "-m", "base")


def offline_env(tmp: Path) -> dict[str, str]:
    """The environment for a subprocess that must not reach the internet or the user's home."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GIT_", "PIP_", "PRE_COMMIT", "VIRTUALENV_", "DEPGUARD_"))
           and k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update({
        "HTTP_PROXY": DEAD_PROXY, "HTTPS_PROXY": DEAD_PROXY, "ALL_PROXY": DEAD_PROXY,
        "http_proxy": DEAD_PROXY, "https_proxy": DEAD_PROXY, "NO_PROXY": "", "no_proxy": "",
        "DEPGUARD_DB": str(tmp / "no-such.db"),
        "DEPGUARD_PYPI_URL": DEAD_PROXY, "DEPGUARD_NPM_URL": DEAD_PROXY,
        "XDG_CACHE_HOME": str(tmp / "xdg"),
    })
    return env


# --- a wheelhouse from the installed distributions -------------------------------------


def _requirement_closure(roots: list[str]) -> list[metadata.Distribution]:
    """Installed distributions that `roots` need, following markers and extras."""
    seen: dict[str, tuple[metadata.Distribution, set[str]]] = {}
    stack = [Requirement(r) for r in roots]
    while stack:
        req = stack.pop()
        name = canonicalize_name(req.name)
        if name in seen and set(req.extras) <= seen[name][1]:
            continue
        try:
            dist = metadata.distribution(req.name)
        except metadata.PackageNotFoundError:
            pytest.fail(f"{req.name} (needed by depguard) is not installed in the test venv")
        extras = seen.get(name, (dist, set()))[1] | set(req.extras)
        seen[name] = (dist, extras)
        for text in dist.requires or []:
            sub = Requirement(text)
            if sub.marker is None or any(sub.marker.evaluate({"extra": e})
                                         for e in ("", *extras)):
                stack.append(sub)
    return [dist for dist, _ in seen.values()]


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "sha256=" + digest.decode()


def _repack(dist: metadata.Distribution, out: Path) -> Path:
    """Zip an installed distribution's files (per its RECORD) back into a wheel."""
    files = dist.files or pytest.fail(f"{dist.metadata['Name']}: no RECORD to repack")
    site = Path(str(dist.locate_file(""))).resolve()
    info_dir = next(f.parent.as_posix() for f in files
                    if f.name == "METADATA" and f.parent.name.endswith(".dist-info"))
    supported = {str(tag) for tag in sys_tags()}
    wheel_tags = [line.partition(":")[2].strip()
                  for line in (dist.read_text("WHEEL") or "").splitlines()
                  if line.startswith("Tag:")]
    tag = next(t for t in wheel_tags if t in supported)
    wheel = out / f"{info_dir.removesuffix('.dist-info')}-{tag}.whl"
    record = []
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in files:
            path = (site / str(file)).resolve()
            if (not path.is_relative_to(site) or "__pycache__" in file.parts
                    or not path.is_file()
                    or (file.parent.as_posix() == info_dir and file.name in _SKIP_IN_WHEEL)):
                continue  # console scripts are regenerated by pip from entry_points.txt
            data = path.read_bytes()
            archive.writestr(file.as_posix(), data)
            record.append(f"{file.as_posix()},{_record_hash(data)},{len(data)}")
        record.append(f"{info_dir}/RECORD,,")
        archive.writestr(f"{info_dir}/RECORD", "\n".join(record) + "\n")
    return wheel


def _depguard_requirements() -> list[str]:
    """install_requires from setup.cfg plus [build-system] requires from pyproject.toml."""
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg", encoding="utf-8")
    runtime = [line.strip() for line in cfg["options"]["install_requires"].splitlines()
               if line.strip()]
    build = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return runtime + list(build["build-system"]["requires"])


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheelhouse")
    for dist in _requirement_closure(_depguard_requirements()):
        _repack(dist, out)
    return out


@pytest.fixture(scope="session")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This working tree (uncommitted and untracked files too) as a one-commit git repo."""
    snapshot = tmp_path_factory.mktemp("hook-repo") / "depguard"
    shutil.copytree(ROOT, snapshot, ignore=_COPY_IGNORE)
    gate.git(snapshot, "init", "-q", "-b", "main")
    gate.git(snapshot, "add", "-A")
    gate.git(snapshot, "commit", "-q", "-m", "snapshot")
    return snapshot


def try_repo(hook_repo: Path, wheelhouse: Path, project: Path,
             tmp: Path) -> subprocess.CompletedProcess[str]:
    """`pre-commit try-repo HOOK_REPO depguard` in `project`, installing from `wheelhouse`."""
    env = offline_env(tmp)
    env.update({
        "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(wheelhouse),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_CACHE_DIR": str(tmp / "pip-cache"),
        "VIRTUALENV_NO_PERIODIC_UPDATE": "1", "VIRTUALENV_APP_DATA": str(tmp / "venv-app"),
        "PRE_COMMIT_HOME": str(tmp / "pre-commit"), "DEPGUARD_HOOK_OFFLINE": "1",
        "NO_COLOR": "1",
    })
    return subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", str(hook_repo),
                           "depguard", "--color", "never"],
                          cwd=project, env=env, capture_output=True, text=True, timeout=600)


# --- the hook definition ------------------------------------------------------------------


def test_hook_definition_checks_every_commit() -> None:
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hook["id"] == "depguard" and hook["entry"] == "depguard hook"
    assert hook["language"] == "python"
    # a commit that only adds `import yaml` to a .py file must still be checked
    assert hook["always_run"] is True and hook["pass_filenames"] is False
    assert hook["stages"] == ["pre-commit"] and hook["description"]


def test_hook_definition_is_valid_for_pre_commit() -> None:
    from pre_commit.clientlib import load_manifest

    (hook,) = load_manifest(str(ROOT / ".pre-commit-hooks.yaml"))
    assert hook["id"] == "depguard"


# --- pre-commit try-repo, end to end -------------------------------------------------------


def test_try_repo_blocks_the_assistant_change(hook_repo: Path, wheelhouse: Path,
                                              tmp_path: Path) -> None:
    project = tmp_path / "holdout"
    base_project(project)
    gate.assistant_change(project)
    gate.git(project, "add", "-A")
    proc = try_repo(hook_repo, wheelhouse, project, tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "depguard" in proc.stdout and "Failed" in proc.stdout
    assert "plain-crypto-js" in proc.stdout
    assert "exit code: 1" in proc.stdout


def test_try_repo_passes_a_docs_only_change(hook_repo: Path, wheelhouse: Path,
                                            tmp_path: Path) -> None:
    project = tmp_path / "holdout"
    base_project(project)
    gate.write(project, "README.md", "# holdout\n\nMore words, and `import yaml` in prose.\n")
    gate.git(project, "add", "README.md")
    proc = try_repo(hook_repo, wheelhouse, project, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "depguard" in proc.stdout and "Passed" in proc.stdout
