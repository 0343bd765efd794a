"""`depguard db import` of the generated OSV corpus (corpus.py): time and database size.

Targets: <= 60 s for the ~220,000-record corpus, and a database no larger than 2x the
uncompressed JSON of the records. The reference printed next to the import time is the
floor for reading the same input: a Python process that opens both zips and `json.loads`
every record.

    python bench/db_import.py [--quick] [--runs N] [--work DIR]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any

import corpus
from _common import PYTHON, ROOT, Timing, depguard_cmd, emit, load, measure, table, verdict

CACHE = ROOT / "bench" / ".cache"
TIME_TARGET = 60.0
SIZE_TARGET = 2.0
QUICK = {"pypi": 2_000, "npm": 20_000}
FULL = {"pypi": 20_000, "npm": 200_000}
READ_FLOOR = ("import json, sys, zipfile\n"
              "for p in sys.argv[1:]:\n"
              "    with zipfile.ZipFile(p) as z:\n"
              "        for n in z.namelist(): json.loads(z.read(n))\n")


def corpus_dir(work: Path, quick: bool) -> Path:
    return work / ("corpus-quick" if quick else "corpus")


def ensure_corpus(work: Path, quick: bool) -> dict[str, Any]:
    sizes = QUICK if quick else FULL
    return corpus.generate(corpus_dir(work, quick), **sizes)


def import_once(zips: list[str], db: Path) -> Timing:
    db.unlink(missing_ok=True)
    return measure(depguard_cmd("db", "import", *zips, "--db", str(db), "--replace"),
                   runs=1, warmup=0)


def ensure_db(work: Path, quick: bool = False) -> tuple[dict[str, Any], Path]:
    """The corpus and an imported DB, reused when the corpus has not changed."""
    info = ensure_corpus(work, quick)
    db = corpus_dir(work, quick) / "advisories.db"
    stamp = corpus_dir(work, quick) / "corpus.json"
    if not db.exists() or db.stat().st_mtime < stamp.stat().st_mtime:
        import_once(list(info["zips"]), db)
    return info, db


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a 22k-record corpus")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", type=Path, default=CACHE)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    info = ensure_corpus(args.work, args.quick)
    made = time.perf_counter() - start
    zips = list(info["zips"])
    db = corpus_dir(args.work, args.quick) / "advisories.db"
    floor = measure([PYTHON, "-c", READ_FLOOR, *zips], runs=1, warmup=0)
    timings = [import_once(zips, db) for _ in range(args.runs)]
    seconds = statistics.median(t.wall for t in timings)
    cpu = statistics.median(t.cpu for t in timings)
    size = db.stat().st_size
    json_bytes, compact = int(info["json_bytes"]), int(info["compact_json_bytes"])
    zip_bytes = sum(Path(z).stat().st_size for z in zips)
    print(f"corpus: {info['records']:,} records {info['kinds']} "
          f"(generated or reused in {made:.1f} s)")
    print(f"load average at the end: {load()}")
    print(table(["figure", "value", "ratio"], [
        ["floor: read + json.loads every record (wall)", f"{floor.wall:.1f} s",
         "1.00 (reference)"],
        ["depguard db import (median wall)", f"{seconds:.1f} s",
         f"{seconds / floor.wall:.2f}x"],
        ["floor (CPU user+sys)", f"{floor.cpu:.1f} s", "1.00 (reference)"],
        ["depguard db import (median CPU)", f"{cpu:.1f} s", f"{cpu / floor.cpu:.2f}x"],
        ["JSON as exported (indent=2)", f"{json_bytes / 1e6:.0f} MB", "1.00 (reference)"],
        ["JSON compact", f"{compact / 1e6:.0f} MB", f"{compact / json_bytes:.2f}x"],
        ["zip archives", f"{zip_bytes / 1e6:.0f} MB", f"{zip_bytes / json_bytes:.2f}x"],
        ["sqlite database", f"{size / 1e6:.0f} MB", f"{size / json_bytes:.2f}x"],
    ]))
    print(f"time target <= {TIME_TARGET:.0f} s: "
          f"{verdict(seconds / TIME_TARGET, 1.0)}; "
          f"size target <= {SIZE_TARGET}x JSON: {verdict(size / json_bytes, SIZE_TARGET)}")
    result: dict[str, object] = {"records": info["records"], "import_s": seconds,
                                 "import_cpu_s": cpu, "read_floor_s": floor.wall,
                                 "read_floor_cpu_s": floor.cpu, "db_bytes": size,
                                 "json_bytes": json_bytes, "compact_json_bytes": compact,
                                 "size_ratio": size / json_bytes}
    emit("db_import", result)
    return result


if __name__ == "__main__":
    main()
