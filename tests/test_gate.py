"""The merge gate end to end on real temporary git repositories (issue #4's acceptance)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from click.testing import CliRunner

from depguard.cli import cli
from tests.conftest import fixture_path

PYPROJECT = """[project]
name = "holdout-app"
version = "1.0"
dependencies = [
    "requests>=2.31",
{extra}]
"""

APP_BASE = """import os

from . import util


def main() -> None:
    print(os.getcwd(), util)
"""

APP_HEAD = """import os
import json
import simplejson
import yaml
import requests
import app.util
from . import util
from .helpers import thing


def main() -> None:
    print(os.getcwd(), util, json, simplejson, yaml, requests, app.util, thing)
"""

JS_BASE = """const express = require('express');
module.exports = express;
"""

JS_HEAD = """const express = require('express');
const fs = require('node:fs');
const path = require('path');
const local = require('./local');
const fetch = require('node-fetch');
// require('left-pad') in a comment is not an import
module.exports = { express, fs, path, local, fetch };
"""


def git(repo: Path, *args: str) -> str:
    proc = subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com",
                           "-c", "commit.gpgsign=false", *args], cwd=repo, check=True,
                          capture_output=True, text=True)
    return proc.stdout.strip()


def write(repo: Path, rel: str, text: str) -> None:
    path = repo / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture()
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A Python + npm project at a clean base commit."""
    root = tmp_path / "holdout"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    write(root, "pyproject.toml", PYPROJECT.format(extra=""))
    write(root, "src/app/__init__.py", "")
    write(root, "src/app/util.py", "X = 1\n")
    write(root, "src/app/helpers.py", "thing = 2\n")
    write(root, "src/app/main.py", APP_BASE)
    base = fixture_path("projects", "npm-axios-1.14.0")
    for name in ("package.json", "package-lock.json"):
        shutil.copy(base / name, root / name)
    write(root, "web/index.js", JS_BASE)
    write(root, "README.md", "# holdout\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    monkeypatch.setenv("DEPGUARD_DB", str(tmp_path / "no.db"))
    monkeypatch.chdir(root)
    return root


def assistant_change(root: Path) -> None:
    """What a code assistant might write: new imports, a manifest line, a lock bump."""
    write(root, "pyproject.toml", PYPROJECT.format(extra='    "simplejson>=3.19",\n'))
    write(root, "src/app/main.py", APP_HEAD)
    write(root, "web/index.js", JS_HEAD)
    head = fixture_path("projects", "npm-axios-1.14.1")
    for name in ("package.json", "package-lock.json"):
        shutil.copy(head / name, root / name)


def run(*args: str) -> tuple[int, dict[str, object], str]:
    result = CliRunner().invoke(cli, [*args, "--offline", "-f", "json"])
    assert result.exit_code in (0, 1), result.stderr
    return result.exit_code, json.loads(result.stdout), result.stderr


def by_rule(report: dict[str, object]) -> dict[str, list[dict[str, object]]]:
    table: dict[str, list[dict[str, object]]] = {}
    for finding in report["findings"]:  # type: ignore[attr-defined]
        table.setdefault(finding["rule"], []).append(finding)
    return table


def test_assistant_change_is_blocked_with_every_rule(repo: Path) -> None:
    assistant_change(repo)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "assistant change")
    code, report, _ = run("check", "--base", "HEAD~1", "--head", "HEAD")
    assert code == 1
    rules = by_rule(report)
    assert {"stdlib-alternative", "undeclared-import", "malicious-package",
            "new-transitive-under-existing", "install-script", "new-dependency"} <= set(rules)
    assert {f["package"] for f in rules["malicious-package"]} == {"axios", "plain-crypto-js"}
    assert [f["package"] for f in rules["new-transitive-under-existing"]] == ["plain-crypto-js"]
    assert [f["package"] for f in rules["install-script"]] == ["plain-crypto-js"]
    assert {f["package"] for f in rules["stdlib-alternative"]} == {"simplejson", "node-fetch"}
    undeclared = {(f["package"], f["file"], f["line"]) for f in rules["undeclared-import"]}
    assert undeclared == {("pyyaml", "src/app/main.py", 4), ("node-fetch", "web/index.js", 5)}
    flagged = {(f["file"], f["line"]) for f in report["findings"]  # type: ignore[attr-defined]
               if f["file"] in ("src/app/main.py", "web/index.js")}
    assert flagged <= {("src/app/main.py", 3), ("src/app/main.py", 4), ("web/index.js", 5)}
    kinds = {(i["module"], i["kind"]) for i in report["imports"]}  # type: ignore[attr-defined]
    assert {("json", "stdlib"), ("requests", "declared"), ("app.util", "first-party"),
            ("fs", "stdlib"), ("./local", "first-party"), ("yaml", "undeclared"),
            ("node-fetch", "undeclared")} <= {(m if m != "node:fs" else "fs", k) for m, k in kinds}
    changes = report["changes"]
    assert {c["name"] for c in changes["added"]} >= {"plain-crypto-js", "simplejson"}  # type: ignore[index]
    assert [(c["name"], c["from"], c["to"]) for c in changes["changed"]] == [  # type: ignore[index]
        ("axios", "1.14.0", "1.14.1")]
    plain = next(c for c in changes["added"] if c["name"] == "plain-crypto-js")  # type: ignore[index]
    assert plain["score"] == 100 and "malicious-package" in plain["reasons"]
    assert report["verdict"] == "fail"


def test_working_tree_against_base(repo: Path) -> None:
    assistant_change(repo)
    code, report, _ = run("check", "--base", "HEAD")
    assert code == 1
    assert "malicious-package" in by_rule(report)


def test_docs_only_commit_passes(repo: Path) -> None:
    write(repo, "README.md", "# holdout\n\nMore words, and `import yaml` in prose.\n")
    git(repo, "commit", "-q", "-am", "docs")
    code, report, _ = run("check", "--base", "HEAD~1", "--head", "HEAD")
    assert code == 0
    assert report["findings"] == [] and report["verdict"] == "pass"


def test_same_change_staged_blocks_through_the_hook(repo: Path) -> None:
    assistant_change(repo)
    git(repo, "add", "-A")
    result = CliRunner().invoke(cli, ["hook", "--offline"])
    assert result.exit_code == 1
    assert "BLOCK" in result.stdout and "plain-crypto-js" in result.stdout
    staged = CliRunner().invoke(cli, ["check", "--staged", "--offline", "-f", "json"])
    assert staged.exit_code == 1


def test_hook_fast_path_returns_without_a_report(repo: Path) -> None:
    write(repo, "README.md", "# holdout\n\nchanged\n")
    git(repo, "add", "README.md")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])}
    proc = subprocess.run([sys.executable, "-c", "from depguard.__main__ import main; main()",
                           "hook"], cwd=repo, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""


def test_diff_mode(repo: Path, tmp_path: Path) -> None:
    write(repo, "src/app/main.py", APP_HEAD)
    patch = tmp_path / "change.diff"
    patch.write_text(git(repo, "diff") + "\n")
    git(repo, "checkout", "-q", "--", ".")
    code, report, _ = run("check", ".", "--diff", str(patch))
    assert code == 0  # undeclared imports warn (moderate) under the default fail-on high
    undeclared = {f["package"] for f in by_rule(report)["undeclared-import"]}
    assert undeclared == {"pyyaml", "simplejson"}


def test_bad_ref_exits_2(repo: Path) -> None:
    result = CliRunner().invoke(cli, ["check", "--base", "no-such-ref", "--offline"])
    assert result.exit_code == 2
    assert result.stderr.startswith("depguard: error:") and "no-such-ref" in result.stderr


class _Registry(BaseHTTPRequestHandler):
    known: ClassVar[frozenset[str]] = frozenset({"requests", "simplejson"})

    def do_GET(self) -> None:
        name = self.path.strip("/").split("/")[1] if self.path.startswith("/pypi/") else ""
        if name in self.known:
            body = json.dumps({"info": {"name": name, "version": "1.0"},
                               "releases": {"1.0": [{"upload_time_iso_8601":
                                                      "2020-01-01T00:00:00Z",
                                                      "yanked": False}]}}).encode()
            self.send_response(200)
        else:
            body = b'{"message": "Not Found"}'
            self.send_response(404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture()
def registry(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Registry)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv("DEPGUARD_PYPI_URL", url)
    monkeypatch.setenv("DEPGUARD_NPM_URL", url + "/npm")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    yield url
    server.shutdown()
    server.server_close()


def test_made_up_package_is_unknown_when_the_registry_is_reachable(repo: Path,
                                                                   registry: str) -> None:
    write(repo, "pyproject.toml", PYPROJECT.format(extra='    "fastjsonx-turbo-utils>=1",\n'))
    git(repo, "commit", "-q", "-am", "assistant adds a hallucinated package")
    result = CliRunner().invoke(cli, ["check", "--base", "HEAD~1", "--head", "HEAD",
                                      "-f", "json"])
    assert result.exit_code == 1, result.stderr
    report = json.loads(result.stdout)
    (unknown,) = by_rule(report)["unknown-package"]
    assert unknown["package"] == "fastjsonx-turbo-utils"
    assert unknown["file"] == "pyproject.toml" and unknown["line"] == 6


def test_policy_allows_warns_and_never_silences_malice(repo: Path) -> None:
    write(repo, ".depguard.toml", """fail-on = "moderate"

[rules]
stdlib-alternative = "block"

[[allow]]
package = "pyyaml"
rules = ["undeclared-import"]
reason = "vendored in the base image"

[[allow]]
package = "axios"
reason = "we trust axios, any version"

[[ignore]]
id = "MAL-2026-2306"
reason = "trying to silence the dropper"

[[allow]]
package = "left-pad"
reason = "never used"
expires = 2020-01-01
""")
    git(repo, "add", ".depguard.toml")
    git(repo, "commit", "-q", "-m", "policy")
    assistant_change(repo)
    code, report, _ = run("check", "--base", "HEAD")
    assert code == 1
    rules = by_rule(report)
    assert {f["package"] for f in rules["undeclared-import"]} == {"node-fetch"}
    assert {f["package"] for f in rules["malicious-package"]} == {"axios", "plain-crypto-js"}
    assert all(f["blocking"] for f in rules["stdlib-alternative"])
    assert all(f["blocking"] for f in rules["undeclared-import"])  # moderate >= fail-on
    notes = "\n".join(report["notes"])  # type: ignore[arg-type]
    assert "expired on 2020-01-01" in notes
    assert "allowed: undeclared-import pyyaml" in notes
    assert "MAL-2026-2306" in notes and "axios" in notes
    assert "not checked: unknown-package: offline" in notes
