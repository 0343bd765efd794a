"""Rebuild `npm.json` from the e18e module-replacements manifests (v3 format).

Usage (from a checkout of https://github.com/e18e/module-replacements):

    python rules/stdlib-alternatives/build_npm.py PATH/TO/module-replacements/manifests \
        --commit <sha> > rules/stdlib-alternatives/npm.json

Reads `native.json`, `micro-utilities.json` and `preferred.json`. Every mapping of
native.json and micro-utilities.json is kept; from preferred.json only mappings
offering at least one native replacement (node-fetch -> fetch, rimraf -> fs.rm,
...) are kept, listing only their native options. The manifests rarely state a
runtime floor (`engines`); where they do not, the minimum Node.js version comes
from NODE_MIN below (Node.js API docs "Added in" history and MDN browser-compat
data), and is left out when not known. Re-running on the same input gives the
same output.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

MANIFESTS = ("native", "micro-utilities", "preferred")
NODE_MIN = {
    "fetch": "18.0.0",
    "AbortController": "15.0.0",
    "structuredClone": "17.0.0",
    "crypto.randomUUID": "14.17.0",
    "fs.promises.rm": "14.14.0",
    "fs.rm": "14.14.0",
    "fs.promises.mkdir": "10.12.0",
    "fs.promises": "10.0.0",
    "fs.promises.glob": "22.0.0",
    "path.matchesGlob": "22.5.0",
    "util.styleText": "20.12.0",
    "util.parseArgs": "18.3.0",
    "util.isDeepStrictEqual": "9.0.0",
    "process.loadEnvFile": "20.12.0",
    "--env-file": "20.6.0",
    "zlib.crc32": "22.2.0",
    "String.prototype.padStart": "8.0.0",
    "String.prototype.padEnd": "8.0.0",
    "String.prototype.replaceAll": "15.0.0",
    "Object.assign": "4.0.0",
    "Object.entries": "7.0.0",
    "Object.values": "7.0.0",
    "Object.hasOwn": "16.9.0",
    "Object.groupBy": "21.0.0",
    "Array.prototype.includes": "6.0.0",
    "Array.prototype.flat": "11.0.0",
    "Array.prototype.flatMap": "11.0.0",
    "Array.prototype.at": "16.6.0",
    "Array.prototype.findLast": "18.0.0",
    "Array.prototype.toSorted": "20.0.0",
    "Promise.allSettled": "12.9.0",
    "globalThis": "12.0.0",
}
URL_BASES = {
    "mdn": "https://developer.mozilla.org/docs/",
    "node": "https://nodejs.org/docs/latest/",
    "e18e": "https://e18e.dev/docs/replacements/",
}


def url(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and value.get("type") in URL_BASES:
        return URL_BASES[value["type"]] + str(value["id"])
    return None


def describe(rep: dict[str, Any]) -> str:
    """The replacement as text: what to use instead."""
    if rep["type"] == "removal":
        return "nothing (remove it)"
    if rep["type"] == "simple":
        return "a few lines of plain JavaScript"
    node = rep.get("nodeFeatureId") or {}
    if node.get("moduleName") and node.get("exportName"):
        return f"`{rep['id']}` (`{node['moduleName']}`)"
    return f"`{rep['id']}`"


def node_min(rep: dict[str, Any]) -> str | None:
    for engine in rep.get("engines") or ():
        if engine.get("engine") == "node" and engine.get("minVersion"):
            return str(engine["minVersion"])
    return NODE_MIN.get(rep["id"])


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def entry(
    name: str, mapping: dict[str, Any], reps: list[dict[str, Any]], origin: str
) -> dict[str, Any]:
    first = reps[0]
    floors = [v for r in reps if (v := node_min(r))]
    guidance = " ".join(r["description"] for r in reps if r.get("description"))
    return {
        "name": name,
        "replacement": " or ".join(describe(r) for r in reps),
        "minimum_runtime": min(floors, key=version_key) if floors else None,
        "kind": {"native": "native", "removal": "removal", "simple": "snippet"}[first["type"]],
        "guidance": guidance,
        "example": first.get("example"),
        "source": url(mapping.get("url")) or url(first.get("url")),
        "origin": f"e18e/module-replacements manifests/{origin}.json",
    }


def build(folder: Path, commit: str) -> dict[str, Any]:
    out: dict[str, dict[str, Any]] = {}
    for manifest in MANIFESTS:
        data = json.loads((folder / f"{manifest}.json").read_text(encoding="utf-8"))
        replacements = data["replacements"]
        for name, mapping in sorted(data["mappings"].items()):
            reps = [replacements[i] for i in mapping["replacements"] if i in replacements]
            if manifest == "preferred":
                reps = [r for r in reps if r["type"] == "native"]
            if reps and name.lower() not in out:
                out[name.lower()] = entry(name, mapping, reps, manifest)
    return {
        "source": "https://github.com/e18e/module-replacements",
        "commit": commit,
        "licence": "MIT",
        "generated_by": "rules/stdlib-alternatives/build_npm.py",
        "packages": [out[key] for key in sorted(out)],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("manifests", type=Path, help="the manifests/ folder of module-replacements")
    parser.add_argument("--commit", default="unknown", help="the commit the manifests come from")
    args = parser.parse_args(argv)
    json.dump(build(args.manifests, args.commit), sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
