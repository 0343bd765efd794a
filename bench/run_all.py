"""Run every benchmark in turn and print a summary (paste it into RESULTS.md).

    python bench/run_all.py [--quick]

`--quick`: a 22,000-record corpus instead of 220,000 and fewer runs (a smoke test,
a few minutes); the full run takes several minutes more the first time (the corpus and
its database are cached in bench/.cache/ for later runs).
"""

from __future__ import annotations

import argparse
import json

import check_diff
import db_import
import graph_vs_npm
import hook
import scan_offline
from _common import machine, table


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    quick = ["--quick"] if args.quick else []

    def runs(full: int, fast: int) -> list[str]:
        return ["--runs", str(fast if args.quick else full)]

    info = machine()
    print("machine: " + json.dumps(info))
    results = {}
    for name, module, argv_ in (
        ("graph_vs_npm", graph_vs_npm, runs(7, 3)),
        ("db_import", db_import, [*quick, *runs(3, 1)]),
        ("scan_offline", scan_offline, [*quick, *runs(5, 3)]),
        ("hook", hook, runs(21, 7)),
        ("check_diff", check_diff, runs(5, 3)),
    ):
        print(f"\n## {name}")
        results[name] = module.main(argv_)
    g, d, s, h, c = (results[k] for k in ("graph_vs_npm", "db_import", "scan_offline", "hook",
                                          "check_diff"))
    print("\n## summary")
    print(table(["benchmark", "figure", "target"], [
        ["graph -f json vs npm ls", f"{g['ratio']:.2f}x", "<= 0.5x"],
        ["scan --offline vs floor", f"{s['ratio']:.2f}x", "<= 2x"],
        ["scan growth 100 -> 10k", "linear" if s["linear"] else "superlinear", "linear"],
        ["db import time", f"{d['import_s']:.1f} s ({d['records']:,} records)", "<= 60 s"],
        ["db size vs JSON", f"{d['size_ratio']:.2f}x", "<= 2x"],
        ["hook vs import click", f"{h['ratio']:.2f}x", "<= 1.5x"],
        ["check, 50-file diff", f"{c['check_s']:.2f} s ({c['ratio']:.2f}x floor)", "report"],
    ]))


if __name__ == "__main__":
    main()
