"""A realistic, deterministic OSV corpus (one `all.zip` per ecosystem) for the benchmarks.

Every record is a deep copy of a *real* record from `fixtures/osv/records/` and
`fixtures/osv/export/` (MAL-, GHSA- and PYSEC- shapes, with their references, credits,
`database_specific` blocks and so on) with the id, dates, aliases, package names and
version data replaced. Names come from `rules/popular/*.txt` (real npm and PyPI names,
picked with a Zipf-like weight so popular packages collect many advisories, as in OSV)
plus a seeded pool of synthetic long-tail names and typosquat-style names for MAL-.

Assumed proportions (OSV exports as of early 2026, rounded; see bench/README.md):

* PyPI export ~20,000 records: 55% MAL- (ossf/malicious-packages), 20% GHSA-, 25% PYSEC-
  (the GitHub database holds ~4,000 reviewed PyPI advisories, PYSEC ~5,000 records).
* npm export ~200,000 records: 98% MAL- (mostly one-off typosquats), 2% GHSA- (the
  GitHub database holds ~4,000 reviewed npm advisories; OSV carries only reviewed ones).
* ~1.5% of GHSA-/PYSEC- records withdrawn; 20% of MAL- carry a GHSA alias.

`--mal-share` overrides the MAL- share for both ecosystems (e.g. 0.1 for a
vulnerability-heavy corpus where every popular name carries many real ranges).

Range forms: GHSA- use ECOSYSTEM ranges (introduced/fixed, sometimes last_affected or
open-ended, one to three ranges, several introduced/fixed pairs in one range), 10% of npm
GHSA- use SEMVER; PYSEC- pair an ECOSYSTEM range with the full `versions` list it covers
(realistic sizes: a few to a few hundred) and sometimes a GIT range; MAL- use `versions`
lists of one to three releases or a SEMVER/ECOSYSTEM `introduced: 0` ("every version").
Versions are drawn from a per-name release history (`releases()`), shared with the
lockfile generator in scan_offline.py so synthetic projects hit affected versions.

    python bench/corpus.py OUTDIR [--pypi N] [--npm N] [--seed S] [--mal-share F]
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _common import ROOT

FIXTURE_DIRS = (ROOT / "fixtures" / "osv" / "export", ROOT / "fixtures" / "osv" / "records")
POPULAR = ROOT / "rules" / "popular"
ECOSYSTEMS = ("PyPI", "npm")
MAL_SHARE = {"PyPI": 0.55, "npm": 0.98}
PYSEC_SHARE = 0.25 / 0.45  # of the PyPI non-MAL records
WITHDRAWN = 0.015
_SYLLABLES = ("ab", "ac", "ad", "al", "am", "an", "ar", "as", "at", "ba", "be", "bi", "bo", "bu",
              "ca", "ce", "ci", "co", "cu", "da", "de", "di", "do", "du", "el", "en", "er", "es",
              "et", "fa", "fe", "fi", "fo", "ga", "ge", "gi", "go", "ha", "he", "hi", "ho", "ka",
              "ke", "ki", "ko", "la", "le", "li", "lo", "lu", "ma", "me", "mi", "mo", "mu", "na",
              "ne", "ni", "no", "nu", "pa", "pe", "pi", "po", "ra", "re", "ri", "ro", "ru", "sa",
              "se", "si", "so", "su", "ta", "te", "ti", "to", "tu", "va", "ve", "vi", "vo", "xa",
              "xe", "yo", "za", "ze", "zo")
_SUFFIXES = ("js", "utils", "util", "lib", "core", "cli", "sdk", "api", "plugin", "helper",
             "tools", "client", "parser", "config", "loader", "dev", "test", "v2", "pro")


@dataclass
class Stats:
    records: int = 0
    json_bytes: int = 0
    compact_bytes: int = 0


def popular(ecosystem: str) -> list[str]:
    path = POPULAR / ("pypi.txt" if ecosystem == "PyPI" else "npm.txt")
    return [n for n in path.read_text().split("\n") if n and not n.startswith("#")]


def releases(ecosystem: str, name: str) -> list[str]:
    """A deterministic release history for a name (oldest first), 3 to ~250 versions."""
    rng = random.Random(zlib.crc32(f"{ecosystem}:{name}".encode()))
    out: list[str] = []
    for major in range(rng.choice((0, 0, 1, 1, 2, 3, 4, 6))):
        for minor in range(rng.randint(1, 12)):
            if major and minor == 0 and rng.random() < 0.3:
                out.append(f"{major}.0.0-beta.1" if ecosystem == "npm" else f"{major}.0rc1")
            for patch in range(rng.randint(1, 6)):
                if ecosystem == "PyPI" and patch == 0 and rng.random() < 0.3:
                    out.append(f"{major}.{minor}")
                else:
                    out.append(f"{major}.{minor}.{patch}")
    return out or ["0.0.1", "0.0.2", "0.1.0"]


class Names:
    """Name pools for one ecosystem: popular (Zipf-weighted), long tail, typosquats."""

    def __init__(self, ecosystem: str, rng: random.Random, tail: int) -> None:
        self.rng = rng
        self.ecosystem = ecosystem
        self.popular = popular(ecosystem)
        self.weights = [1.0 / (rank + 20) for rank in range(len(self.popular))]
        sep = "-" if ecosystem == "npm" else rng.choice(("-", "_"))
        self.tail = [self._synthetic(sep) for _ in range(tail)]

    def _synthetic(self, sep: str) -> str:
        word = "".join(self.rng.choice(_SYLLABLES) for _ in range(self.rng.randint(2, 4)))
        if self.rng.random() < 0.5:
            word += sep + self.rng.choice(_SUFFIXES)
        if self.ecosystem == "npm" and self.rng.random() < 0.15:
            word = f"@{self.rng.choice(_SYLLABLES)}{self.rng.choice(_SYLLABLES)}/{word}"
        return word

    def vulnerable(self) -> str:
        if self.rng.random() < 0.55:
            return self.rng.choices(self.popular, self.weights)[0]
        return self.rng.choice(self.tail)

    def malicious(self) -> str:
        roll = self.rng.random()
        if roll < 0.01:  # a hijacked real package (the axios / litellm pattern)
            return self.rng.choices(self.popular, self.weights)[0]
        base = self.rng.choice(self.popular)
        if roll < 0.6:  # typosquat of a popular name
            return _mutate(self.rng, base.lstrip("@").replace("/", "-"))
        return self.rng.choice(self.tail) + str(self.rng.randint(1, 999))


def _mutate(rng: random.Random, name: str) -> str:
    kind = rng.randrange(4)
    if kind == 0 and len(name) > 3:
        i = rng.randrange(len(name) - 1)
        return name[:i] + name[i + 1] + name[i] + name[i + 2:]
    if kind == 1:
        return name + "-" + rng.choice(_SUFFIXES)
    if kind == 2 and len(name) > 3:
        i = rng.randrange(len(name))
        return name[:i] + name[i + 1:]
    return name + rng.choice("sxz0123")


def load_templates() -> dict[str, list[dict[str, Any]]]:
    """Real records grouped by kind: MAL-npm, MAL-PyPI, GHSA-npm, GHSA-PyPI, PYSEC-PyPI."""
    out: dict[str, list[dict[str, Any]]] = {}
    seen: set[str] = set()
    for folder in FIXTURE_DIRS:
        for path in sorted(folder.glob("*.json")):
            record = json.loads(path.read_text())
            rid = record.get("id", "")
            if rid in seen or not rid or not record.get("affected"):
                continue
            seen.add(rid)
            prefix = rid.split("-", 1)[0]
            eco = record["affected"][0]["package"]["ecosystem"]
            out.setdefault(f"{prefix}-{eco}", []).append(record)
    return out


class Generator:
    def __init__(self, seed: int, mal_share: float | None, sizes: dict[str, int]) -> None:
        self.rng = random.Random(seed)
        self.templates = load_templates()
        self.sizes = sizes
        self.mal_share = {e: (MAL_SHARE[e] if mal_share is None else mal_share)
                          for e in ECOSYSTEMS}
        self.names = {e: Names(e, self.rng, tail=max(500, sizes[e] // 8)) for e in ECOSYSTEMS}
        self.counter = 0

    def records(self, ecosystem: str) -> Iterator[dict[str, Any]]:
        for _ in range(self.sizes[ecosystem]):
            self.counter += 1
            if self.rng.random() < self.mal_share[ecosystem]:
                yield self.mal(ecosystem)
            elif ecosystem == "PyPI" and self.rng.random() < PYSEC_SHARE:
                yield self.vuln(ecosystem, "PYSEC")
            else:
                yield self.vuln(ecosystem, "GHSA")

    # -- record kinds -------------------------------------------------------------------
    def mal(self, eco: str) -> dict[str, Any]:
        rec = self._template(f"MAL-{eco}")
        year = self.rng.randint(2022, 2026)
        rec["id"] = f"MAL-{year}-{self.counter}"
        name = self.names[eco].malicious()
        history = releases(eco, name)
        affected = copy.deepcopy(rec["affected"][0])
        affected["package"] = {"ecosystem": eco, "name": name}
        affected.pop("ranges", None)
        affected.pop("versions", None)
        if self.rng.random() < 0.7:
            count = min(len(history), self.rng.choice((1, 1, 1, 2, 3)))
            affected["versions"] = sorted(self.rng.sample(history[-6:], min(count, 6)))
        else:
            rtype = "SEMVER" if eco == "npm" else "ECOSYSTEM"
            affected["ranges"] = [{"type": rtype, "events": [{"introduced": "0"}]}]
        rec["affected"] = [affected]
        rec["summary"] = f"Malicious code in {name} ({eco})"
        rec["aliases"] = [self._ghsa()] if self.rng.random() < 0.2 else []
        versions = affected.get("versions", [])
        origins = (rec.get("database_specific") or {}).get("malicious-packages-origins") or []
        for origin in origins:
            origin["versions"] = versions
            if "id" in origin:
                origin["id"] = rec["aliases"][0] if rec["aliases"] else self._ghsa()
        self._dates(rec, year)
        return rec

    def vuln(self, eco: str, prefix: str) -> dict[str, Any]:
        rec = self._template(f"{prefix}-{eco}")
        year = self.rng.randint(2017, 2026)
        rec["id"] = (f"PYSEC-{year}-{self.counter}" if prefix == "PYSEC" else self._ghsa())
        count = 1 if self.rng.random() < 0.92 else 2
        names = {self.names[eco].vulnerable() for _ in range(count)}
        rec["affected"] = [self._affected(rec, eco, n, prefix) for n in sorted(names)]
        cve = f"CVE-{year}-{self.rng.randint(1000, 99999)}"
        rec["aliases"] = [cve, self._ghsa()] if prefix == "PYSEC" else [cve]
        if prefix == "PYSEC" or self.rng.random() < 0.1:
            rec.pop("severity", None)
        else:
            vector = "CVSS:3.1/AV:N/AC:{}/PR:N/UI:{}/S:U/C:{}/I:{}/A:{}".format(
                *(self.rng.choice(("L", "H")) for _ in range(2)),
                *(self.rng.choice(("N", "L", "H")) for _ in range(3)))
            rec["severity"] = [{"type": "CVSS_V3", "score": vector.replace("UI:L", "UI:R")}]
        rec["summary"] = f"{self.rng.choice(_KINDS)} in {sorted(names)[0]}"
        if self.rng.random() < WITHDRAWN:
            rec["withdrawn"] = f"{min(year + 1, 2026)}-02-01T00:00:00Z"
        else:
            rec.pop("withdrawn", None)
        self._dates(rec, year)
        return rec

    def _affected(self, rec: dict[str, Any], eco: str, name: str, prefix: str) -> dict[str, Any]:
        base = copy.deepcopy(rec["affected"][0]) if rec.get("affected") else {}
        base.pop("versions", None)
        (base.get("database_specific") or {}).pop("last_known_affected_version_range", None)
        base["package"] = {"ecosystem": eco, "name": name}
        if prefix == "PYSEC":
            base["package"]["purl"] = f"pkg:pypi/{name}"
        history = releases(eco, name)
        ranges, covered = self._ranges(eco, history)
        base["ranges"] = ranges
        if prefix == "PYSEC" or self.rng.random() < 0.05:
            base["versions"] = covered
        if prefix == "PYSEC" and self.rng.random() < 0.1:
            ranges.insert(0, {"type": "GIT", "repo": f"https://github.com/example/{name}",
                              "events": [{"introduced": "0"},
                                         {"fixed": f"{self.rng.getrandbits(160):040x}"}]})
        return base

    def _ranges(self, eco: str, history: list[str]) -> tuple[list[dict[str, Any]], list[str]]:
        rtype = "SEMVER" if eco == "npm" and self.rng.random() < 0.1 else "ECOSYSTEM"
        pairs = self.rng.choice((1, 1, 1, 1, 2, 2, 3))
        cuts = sorted(self.rng.sample(range(len(history) + 1), min(len(history) + 1, pairs * 2)))
        events: list[dict[str, str]] = []
        covered: list[str] = []
        for i in range(0, len(cuts) - 1, 2):
            lo, hi = cuts[i], cuts[i + 1]
            events.append({"introduced": "0" if lo == 0 else history[lo]})
            end = self.rng.random()
            if end < 0.01:  # open-ended: still unfixed
                covered += history[lo:]
                break
            if hi >= len(history) or end < 0.15:
                events.append({"last_affected": history[hi - 1]})
            else:
                events.append({"fixed": history[hi]})
            covered += history[lo:hi]
        if self.rng.random() < 0.25 and len(events) > 2:  # split into separate ranges
            ranges = [{"type": rtype, "events": events[j:j + 2]} for j in range(0, len(events), 2)]
        else:
            ranges = [{"type": rtype, "events": events}]
        return ranges, covered

    # -- helpers --------------------------------------------------------------------------
    def _template(self, kind: str) -> dict[str, Any]:
        return copy.deepcopy(self.rng.choice(self.templates[kind]))

    def _ghsa(self) -> str:
        chars = "23456789cfghjmpqrvwx"
        return "GHSA-" + "-".join("".join(self.rng.choice(chars) for _ in range(4))
                                  for _ in range(3))

    def _dates(self, rec: dict[str, Any], year: int) -> None:
        month, day = self.rng.randint(1, 12), self.rng.randint(1, 28)
        rec["published"] = f"{year}-{month:02d}-{day:02d}T12:00:00Z"
        later = min(year + self.rng.randint(0, 2), 2026)
        rec["modified"] = f"{later}-{month:02d}-{day:02d}T13:00:00Z"


_KINDS = ("Cross-site Scripting", "Prototype Pollution", "Regular Expression Denial of Service",
          "Path Traversal", "Command Injection", "Server-Side Request Forgery",
          "Improper Input Validation", "Uncontrolled Resource Consumption", "SQL Injection")


def generate(out: Path, *, pypi: int = 20_000, npm: int = 200_000, seed: int = 1,
             mal_share: float | None = None) -> dict[str, Any]:
    """Write `<out>/PyPI-all.zip` and `<out>/npm-all.zip`; reuse them if already made."""
    out = out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    key = {"pypi": pypi, "npm": npm, "seed": seed, "mal_share": mal_share, "v": 2}
    manifest = out / "corpus.json"
    if manifest.is_file() and json.loads(manifest.read_text()).get("key") == key:
        return dict(json.loads(manifest.read_text()))
    gen = Generator(seed, mal_share, {"PyPI": pypi, "npm": npm})
    stats = {e: Stats() for e in ECOSYSTEMS}
    names: dict[str, set[str]] = {e: set() for e in ECOSYSTEMS}
    kinds: dict[str, int] = {}
    for eco in ECOSYSTEMS:
        with zipfile.ZipFile(out / f"{eco}-all.zip", "w", zipfile.ZIP_DEFLATED,
                             compresslevel=1) as zf:
            for rec in gen.records(eco):
                text = json.dumps(rec, indent=2)
                zf.writestr(f"{rec['id']}.json", text)
                st = stats[eco]
                st.records += 1
                st.json_bytes += len(text.encode())
                st.compact_bytes += len(json.dumps(rec, separators=(",", ":")).encode())
                kind = rec["id"].split("-", 1)[0] + ("-withdrawn" if "withdrawn" in rec else "")
                kinds[kind] = kinds.get(kind, 0) + 1
                names[eco].update(a["package"]["name"] for a in rec["affected"])
    for eco in ECOSYSTEMS:
        (out / f"{eco}-names.txt").write_text("\n".join(sorted(names[eco])) + "\n")
    info = {"key": key, "zips": [str(out / f"{e}-all.zip") for e in ECOSYSTEMS],
            "records": sum(s.records for s in stats.values()),
            "json_bytes": sum(s.json_bytes for s in stats.values()),
            "compact_json_bytes": sum(s.compact_bytes for s in stats.values()),
            "per_ecosystem": {e: vars(stats[e]) for e in ECOSYSTEMS},
            "kinds": dict(sorted(kinds.items())),
            "names": {e: len(names[e]) for e in ECOSYSTEMS}}
    manifest.write_text(json.dumps(info, indent=2))
    return info


def corpus_names(out: Path, ecosystem: str) -> list[str]:
    """Every package name the corpus at `out` has advisories for."""
    return (out / f"{ecosystem}-names.txt").read_text().split()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--pypi", type=int, default=20_000)
    parser.add_argument("--npm", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--mal-share", type=float, default=None)
    args = parser.parse_args(argv)
    info = generate(args.out, pypi=args.pypi, npm=args.npm, seed=args.seed,
                    mal_share=args.mal_share)
    print(json.dumps({k: v for k, v in info.items() if k != "key"}, indent=2))


if __name__ == "__main__":
    main()
