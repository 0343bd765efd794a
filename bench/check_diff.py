"""`depguard check --base A --head B --offline` on a 50-file change with a real lock bump.

A temp git repo: commit A holds the real axios 1.14.0 project
(fixtures/projects/npm-axios-1.14.0), a pyproject.toml and 50 source files (25 Python,
25 JavaScript); commit B bumps the lockfile to the real compromised 1.14.1 project (which
adds plain-crypto-js) and changes all 50 files, each adding imports: standard library,
declared dependencies, and undeclared third-party packages. The figure is the time of the
whole check; the reference is the floor for reading both sides of the change (a Python
process that imports json and networkx, runs `git diff`, and loads both lockfiles).

    python bench/check_diff.py [--runs N] [--db FILE]
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path

from _common import FIXTURES, PYTHON, depguard_cmd, emit, measure, run, table
from hook import git

FILES = 50
PY_IMPORTS = ("import json", "import requests", "from flask import Flask", "import yaml",
              "import numpy as np", "import leftpadx")
JS_IMPORTS = ('const axios = require("axios");', 'import fs from "node:fs";',
              'import lodash from "lodash";', 'const chalk = require("chalk");',
              'import { v4 } from "uuid";')
FLOOR = ("import json, subprocess, sys, networkx\n"
         "subprocess.run(['git', 'diff', 'HEAD~1', 'HEAD'], capture_output=True, check=True)\n"
         "for rev in ('HEAD~1', 'HEAD'):\n"
         "    out = subprocess.run(['git', 'show', rev + ':package-lock.json'],\n"
         "                         capture_output=True, check=True).stdout\n"
         "    networkx.DiGraph().add_nodes_from(json.loads(out)['packages'])\n")


def make_repo(repo: Path) -> Path:
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "bench@example.invalid")
    git(repo, "config", "user.name", "bench")
    git(repo, "config", "commit.gpgsign", "false")
    base, head = (FIXTURES / "projects" / f"npm-axios-1.14.{n}" for n in (0, 1))
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(base / name, repo / name)
    (repo / "pyproject.toml").write_text(
        '[project]\nname = "bench"\nversion = "1.0"\n'
        'dependencies = ["requests>=2", "flask>=3", "pyyaml>=6"]\n')
    (repo / "src").mkdir()
    (repo / "web").mkdir()
    for i in range(FILES // 2):
        (repo / "src" / f"mod{i}.py").write_text(f'"""Module {i}."""\n\n\ndef f{i}():\n'
                                                 f"    return {i}\n")
        (repo / "web" / f"mod{i}.js").write_text(f"export function f{i}() {{ return {i}; }}\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(head / name, repo / name)
    for i in range(FILES // 2):
        py = repo / "src" / f"mod{i}.py"
        added = "\n".join(PY_IMPORTS[j % len(PY_IMPORTS)] for j in range(i, i + 2))
        py.write_text(f'"""Module {i}."""\n{added}\n\n\ndef f{i}():\n    return {i} + 1\n')
        js = repo / "web" / f"mod{i}.js"
        added = "\n".join(JS_IMPORTS[j % len(JS_IMPORTS)] for j in range(i, i + 2))
        js.write_text(f"{added}\nexport function f{i}() {{ return {i} + 1; }}\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "head: 50 files with new imports, axios 1.14.0 -> 1.14.1")
    return repo


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--db", type=Path, default=None,
                        help="advisory DB (default: none, the curated feed only)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-check-") as tmp:
        repo = make_repo(Path(tmp) / "repo")
        db = ["--db", str(args.db)] if args.db else ["--db", str(Path(tmp) / "none.db")]
        cmd = depguard_cmd("check", str(repo), "--base", "HEAD~1", "--head", "HEAD",
                           "--offline", *db, "-f", "json", "-o", str(Path(tmp) / "r.json"))
        floor = measure([PYTHON, "-c", FLOOR], runs=args.runs, cwd=repo)
        ours = measure(cmd, runs=args.runs, cwd=repo, ok=(0, 1))
        report = json.loads((Path(tmp) / "r.json").read_text())
        changed = run(["git", "-C", str(repo), "diff", "--name-only", "HEAD~1", "HEAD"],
                      stdout=-1).stdout.decode().split()
    rules: dict[str, int] = {}
    for finding in report["findings"]:
        rules[finding["rule"]] = rules.get(finding["rule"], 0) + 1
    print(f"change: {len(changed)} files; verdict {report.get('verdict')}; findings {rules}")
    print(table(["command", "median wall s", "ratio", "median CPU s"], [
        ["floor: git diff + load both lockfiles (json, networkx)", f"{floor.wall:.3f}",
         "1.00 (reference)", f"{floor.cpu:.3f}"],
        ["depguard check --base HEAD~1 --head HEAD --offline", f"{ours.wall:.3f}",
         f"{ours.wall / floor.wall:.2f}x", f"{ours.cpu:.3f}"],
    ]))
    result: dict[str, object] = {"floor_s": floor.wall, "check_s": ours.wall,
                                 "check_cpu_s": ours.cpu, "ratio": ours.wall / floor.wall,
                                 "files": len(changed), "findings": rules}
    emit("check_diff", result)
    return result


if __name__ == "__main__":
    main()
