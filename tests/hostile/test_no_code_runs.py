"""Nothing from a scanned project runs: depguard reads files, it never executes them.

The project below is booby-trapped: every file that Python, pip, npm or pytest would run
writes a marker file. `scan`, `graph`, `why` and `check` run over it (with the working
directory inside the project, as a developer or a pre-commit hook would), and no marker
may appear. Each trap is first shown to work when it is actually run, so the test cannot
pass because a trap was broken.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.hostile._cli import FAST


def _py_trap(markers: Path, name: str) -> str:
    return f"open({str(markers / name)!r}, 'w').write('ran')\n"


def _sh_trap(markers: Path, name: str) -> str:
    return f"touch {markers / name}"


def make_project(root: Path, markers: Path) -> Path:
    project = root / "project"
    (project / "app").mkdir(parents=True)
    (project / "local-js").mkdir()
    (project / "site-packages").mkdir()
    files = {
        "setup.py": _py_trap(markers, "setup.py") + "from setuptools import setup\nsetup()\n",
        "conftest.py": _py_trap(markers, "conftest.py"),
        "app/__init__.py": _py_trap(markers, "app-init") + "import requests\n",
        "sitecustomize.py": _py_trap(markers, "sitecustomize"),
        "usercustomize.py": _py_trap(markers, "usercustomize"),
        # modules named like depguard's own dependencies: must never shadow them
        "click.py": _py_trap(markers, "click.py"),
        "packaging.py": _py_trap(markers, "packaging.py"),
        "networkx.py": _py_trap(markers, "networkx.py"),
        "evil.pth": "import os; " + _py_trap(markers, "evil.pth"),
        "site-packages/evil.pth": "import os; " + _py_trap(markers, "site-packages-pth"),
        "build_backend.py": _py_trap(markers, "build-backend")
        + "def get_requires_for_build_wheel(config_settings=None):\n    return []\n",
        "pyproject.toml": (
            '[build-system]\nrequires = []\nbuild-backend = "build_backend"\n'
            'backend-path = ["."]\n\n'
            '[project]\nname = "trap"\nversion = "1.0"\ndependencies = ["requests==2.31.0"]\n'
        ),
        "requirements.txt": "-e .\n./app\nsix==1.16.0\n",
        "package.json": json.dumps({
            "name": "trap", "version": "1.0.0",
            "scripts": {k: _sh_trap(markers, f"npm-{k}") for k in
                        ("preinstall", "install", "postinstall", "prepare", "prepack")},
            "dependencies": {"local-js": "file:./local-js", "left-pad": "1.3.0"},
        }),
        "local-js/package.json": json.dumps({
            "name": "local-js", "version": "1.0.0",
            "scripts": {"postinstall": _sh_trap(markers, "local-js-postinstall")},
        }),
        "local-js/index.js": f"require('fs').writeFileSync({str(markers / 'local-js')!r}, 'x')\n",
        ".depguard.toml": 'fail-on = "critical"\n',
    }
    for rel, text in files.items():
        (project / rel).write_text(text, encoding="utf-8")
    return project


def _runner(tmp_path: Path) -> Path:
    """Like the installed console script: its own folder, not the project, is sys.path[0]."""
    script = tmp_path / "bin" / "depguard"
    script.parent.mkdir()
    script.write_text("import sys\nfrom depguard.cli import main\nsys.exit(main())\n")
    return script


def _run(script: Path, project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEPGUARD_")}
    env.update({"PYTHONPATH": str(ROOT), "DEPGUARD_DB": str(project.parent / "osv.db"),
                "XDG_CACHE_HOME": str(project.parent / "cache"), "NO_COLOR": "1"})
    return subprocess.run([sys.executable, str(script), *args], cwd=project, env=env,
                          capture_output=True, text=True, timeout=FAST * 4,
                          stdin=subprocess.DEVNULL)


@pytest.fixture
def trapped(tmp_path: Path) -> tuple[Path, Path, Path]:
    markers = tmp_path / "markers"
    markers.mkdir()
    project = make_project(tmp_path, markers)
    return project, markers, _runner(tmp_path)


def test_traps_work_when_really_run(trapped: tuple[Path, Path, Path]) -> None:
    """The control: running the project's files the normal way does write the markers."""
    project, markers, _ = trapped
    subprocess.run([sys.executable, "setup.py", "--name"], cwd=project, capture_output=True,
                   check=False, timeout=60)
    subprocess.run([sys.executable, "-c", "import app"], cwd=project, check=True, timeout=60,
                   capture_output=True, env={**os.environ, "PYTHONPATH": str(project)})
    add_site = f"import site; site.addsitedir({str(project / 'site-packages')!r})"
    subprocess.run([sys.executable, "-c", add_site], check=True, timeout=60)
    assert {"setup.py", "app-init", "site-packages-pth"} <= {p.name for p in markers.iterdir()}
    npm = shutil.which("npm")
    if npm is not None:
        for marker in markers.iterdir():
            marker.unlink()
        subprocess.run([npm, "run", "preinstall"], cwd=project, capture_output=True,
                       timeout=120, check=False)
        assert (markers / "npm-preinstall").exists()


@pytest.mark.parametrize(
    ("args", "code", "shows"),
    [
        (["scan", "--offline"], 0, ""),
        (["scan", "--offline", "--resolve", "env"], 0, ""),
        (["scan", "--offline", "app/__init__.py", "--parse-as",
          "requirements.txt:app/__init__.py"], 2, ""),
        (["graph"], 0, "left-pad 1.3.0"),
        (["graph", "-f", "html"], 0, "left-pad"),
        (["why", "six"], 0, "six 1.16.0"),
        (["check", "--offline", "--diff", "DIFF"], 0, "attrs 23.2.0"),
    ],
    ids=["scan", "scan-resolve-env", "scan-parse-as", "graph", "graph-html", "why", "check"],
)
def test_nothing_from_the_project_runs(
    trapped: tuple[Path, Path, Path], args: list[str], code: int, shows: str
) -> None:
    project, markers, script = trapped
    if "DIFF" in args:
        diff = project.parent / "change.diff"
        diff.write_text(_diff_for(project))
        args = [str(diff) if a == "DIFF" else a for a in args]
    done = _run(script, project, *args)
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == code, done.stderr
    assert shows in done.stdout
    assert sorted(p.name for p in markers.iterdir()) == [], done.stderr


def _diff_for(project: Path) -> str:
    """A real `diff -u` of the change: one requirement and one import added."""
    old_req = (project / "requirements.txt").read_text()
    old_init = (project / "app" / "__init__.py").read_text()
    lines = [
        "--- a/requirements.txt", "+++ b/requirements.txt",
        f"@@ -1,{len(old_req.splitlines())} +1,{len(old_req.splitlines()) + 1} @@",
        *(" " + line for line in old_req.splitlines()), "+attrs==23.2.0",
        "--- a/app/__init__.py", "+++ b/app/__init__.py",
        f"@@ -1,{len(old_init.splitlines())} +1,{len(old_init.splitlines()) + 1} @@",
        *(" " + line for line in old_init.splitlines()), "+import attrs",
    ]  # fmt: skip
    return "\n".join(lines) + "\n"
