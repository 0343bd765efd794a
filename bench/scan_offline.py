"""`depguard scan --offline` against the 200k-advisory database.

1. The real 2,116-entry axios lockfile project vs the floor: a Python process that
   imports json and networkx and loads the same lockfile (what any Python tool that
   builds this graph must pay). Target <= 2x.
2. Growth: synthetic package-lock.json v3 projects of 100 / 1,000 / 10,000 packages
   whose names are sampled from names the corpus HAS advisories for, with versions
   from the same release histories the advisories were drawn from, so every package
   costs a real lookup and real range evaluation. Target: linear or better.

    python bench/scan_offline.py [--quick] [--runs N] [--work DIR]
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
from pathlib import Path
from typing import Any

import corpus
import db_import
from _common import PYTHON, depguard_cmd, emit, load, measure, table, time_cmd, verdict
from graph_vs_npm import make_project

TARGET = 2.0
SIZES = (100, 1_000, 10_000)
FLOOR = ("import json, networkx, sys\n"
         "data = json.load(open(sys.argv[1]))\n"
         "g = networkx.DiGraph()\n"
         "g.add_nodes_from(data.get('packages', {}))\n")


def synthetic_lock(where: Path, names: list[str], size: int, seed: int = 7) -> Path:
    """A flat lockfile v3 of `size` packages (all direct) with corpus names and versions."""
    rng = random.Random(seed + size)
    chosen = rng.sample(names, min(size, len(names)))
    packages: dict[str, Any] = {"": {"name": f"synthetic-{size}", "version": "1.0.0",
                                     "dependencies": {}}}
    for name in chosen:
        version = rng.choice(corpus.releases("npm", name))
        packages[""]["dependencies"][name] = f"^{version}"
        packages[f"node_modules/{name}"] = {
            "version": version,
            "resolved": f"https://registry.npmjs.org/{name}/-/{name.rsplit('/', 1)[-1]}-"
                        f"{version}.tgz",
            "integrity": "sha512-" + "A" * 86 + "==",
        }
    project = where / f"synthetic-{size}"
    project.mkdir(parents=True, exist_ok=True)
    lock = {"name": f"synthetic-{size}", "version": "1.0.0", "lockfileVersion": 3,
            "requires": True, "packages": packages}
    (project / "package-lock.json").write_text(json.dumps(lock, indent=2))
    manifest = {"name": f"synthetic-{size}", "version": "1.0.0",
                "dependencies": packages[""]["dependencies"]}
    (project / "package.json").write_text(json.dumps(manifest, indent=2))
    return project


def scan_cmd(project: Path, db: Path) -> list[str]:
    return depguard_cmd("scan", str(project), "--offline", "--db", str(db), "-f", "json",
                        "-o", str(project / "report.json"))


def findings(project: Path) -> int:
    return len(json.loads((project / "report.json").read_text())["findings"])


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a 22k-record corpus")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--work", type=Path, default=db_import.CACHE,
                        help="where the corpus and DB are cached (default: bench/.cache)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-scan-") as tmp:
        work = args.work
        info, db = db_import.ensure_db(work, quick=args.quick)
        names = corpus.corpus_names(work / "corpus", "npm")
        project = make_project(_mkdir(Path(tmp), "axios"))
        floor_t = measure([PYTHON, "-c", FLOOR, str(project / "package-lock.json")],
                          runs=args.runs)
        ours_t = measure(scan_cmd(project, db), runs=args.runs, ok=(0, 1))
        floor, ours = floor_t.wall, ours_t.wall
        real_findings = findings(project)
        growth = []
        for size in SIZES:
            synth = synthetic_lock(Path(tmp), names, size)
            seconds = time_cmd(scan_cmd(synth, db), runs=max(3, args.runs - 2), ok=(0, 1))
            growth.append((size, seconds, findings(synth)))
    ratio = ours / floor
    print(f"load average at the end: {load()}")
    print(f"advisory DB: {info['records']:,} records ({db.stat().st_size / 1e6:.0f} MB)"
          if db.exists() else "")
    print(table(["command", "median wall s", "ratio", "median CPU s", "CPU ratio"], [
        ["floor: python -c 'import json, networkx; load lockfile'", f"{floor:.3f}",
         "1.00 (reference)", f"{floor_t.cpu:.3f}", "1.00"],
        [f"depguard scan --offline (axios lock, {real_findings} findings)", f"{ours:.3f}",
         f"{ratio:.2f}x", f"{ours_t.cpu:.3f}", f"{ours_t.cpu / floor_t.cpu:.2f}x"],
    ]))
    print(f"target <= {TARGET}x: {verdict(ratio, TARGET)}")
    base_n, base_s, _ = growth[0]
    rows = [[f"{n:,}", f"{s:.3f}", f"{s / floor:.2f}x", str(f),
             f"{(s - floor) / n * 1000:.3f}", f"{s / base_s:.1f}x for {n / base_n:.0f}x"]
            for n, s, f in growth]
    print(table(["packages", "median s", "vs floor", "findings", "ms/package above floor",
                 "growth"], rows))
    marginal = [(s - floor) / n for n, s, _ in growth]
    linear = marginal[-1] <= marginal[1] * 1.25
    print("growth: " + ("linear or better" if linear else "SUPERLINEAR")
          + " (marginal cost per package does not rise with size)" * linear)
    result: dict[str, object] = {"floor_s": floor, "scan_s": ours, "ratio": ratio,
                                 "floor_cpu_s": floor_t.cpu, "scan_cpu_s": ours_t.cpu,
                                 "findings": real_findings,
                                 "target": TARGET, "growth": growth, "linear": linear,
                                 "records": info["records"]}
    emit("scan_offline", result)
    return result


def _mkdir(base: Path, name: str) -> Path:
    path = base / name
    path.mkdir(parents=True, exist_ok=True)
    return path


if __name__ == "__main__":
    main()
