"""`depguard graph -f json` vs `npm ls --all --json --package-lock-only` on one real lockfile.

Target: depguard <= 0.5x npm's time. The project is axios's real lockfile v2
(fixtures/lockfiles/npm/axios-lockv2.*, 2,116 package entries), copied into a temp dir so
both tools read exactly the same two files and neither touches the network.

    python bench/graph_vs_npm.py [--runs N]
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path

from _common import FIXTURES, depguard_cmd, emit, run, table, time_cmd, verdict

TARGET = 0.5
LOCK = FIXTURES / "lockfiles" / "npm" / "axios-lockv2.package-lock.json"
MANIFEST = FIXTURES / "lockfiles" / "npm" / "axios-lockv2.package.json"


def make_project(where: Path) -> Path:
    shutil.copyfile(LOCK, where / "package-lock.json")
    shutil.copyfile(MANIFEST, where / "package.json")
    return where


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("npm is not on PATH: this benchmark needs it as the reference")
    with tempfile.TemporaryDirectory(prefix="bench-graph-") as tmp:
        project = make_project(Path(tmp))
        entries = len(json.loads(LOCK.read_text())["packages"])
        out = run(depguard_cmd("graph", str(project), "-f", "json"), stdout=-1).stdout
        nodes = len(json.loads(out)["nodes"]) if out.startswith(b"{") else 0
        npm_cmd = [npm, "ls", "--all", "--json", "--package-lock-only", "--offline"]
        ref = time_cmd(npm_cmd, runs=args.runs, cwd=project, ok=(0, 1))
        ours = time_cmd(depguard_cmd("graph", str(project), "-f", "json"), runs=args.runs)
    ratio = ours / ref
    print(f"lockfile: {LOCK.name} ({entries} entries, depguard graph: {nodes} nodes)")
    print(table(["command", "median s", "ratio"], [
        ["npm ls --all --json --package-lock-only", f"{ref:.3f}", "1.00 (reference)"],
        ["depguard graph -f json", f"{ours:.3f}", f"{ratio:.2f}x"],
    ]))
    print(f"target <= {TARGET}x: {verdict(ratio, TARGET)}")
    result: dict[str, object] = {"npm_s": ref, "depguard_s": ours, "ratio": ratio,
                                 "target": TARGET, "entries": entries, "runs": args.runs}
    emit("graph_vs_npm", result)
    return result


if __name__ == "__main__":
    main()
