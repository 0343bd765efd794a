"""The curated advisory feed shipped with depguard (`rules/osv/*.json`).

A handful of real OSV records for headline supply-chain incidents, so a fresh
install flags litellm 1.82.7/1.82.8, axios 1.14.1/0.30.4 and plain-crypto-js
without downloading a database. Installed, `rules/` is the package
`depguard.rules` (setup.cfg `package_dir`), i.e. the folder `depguard/rules/`;
from a source checkout it is read from the repository root. A record that fails
to parse is logged and dropped.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from functools import lru_cache
from importlib.abc import Traversable

from depguard.advisories.osv_record import Advisory, AdvisoryError, parse_advisory
from depguard.rulepack import rules_dir

__all__ = ["curated_dir", "load_curated"]

log = logging.getLogger(__name__)

def curated_dir() -> Traversable:
    """The `osv/` folder of the rules data."""
    return rules_dir() / "osv"


def _record_files(folder: Traversable) -> Iterator[Traversable]:
    if not folder.is_dir():
        return
    records = (f for f in folder.iterdir() if f.name.endswith(".json"))
    yield from sorted(records, key=lambda f: f.name)


def _load(item: Traversable) -> Advisory:
    name = f"rules/osv/{item.name}"
    try:
        data = json.loads(item.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AdvisoryError(name, f"cannot read: {exc}") from exc
    return parse_advisory(data, name)


@lru_cache(maxsize=1)
def _load_all() -> tuple[Advisory, ...]:
    advisories = []
    for item in _record_files(curated_dir()):
        try:
            advisories.append(_load(item))
        except AdvisoryError as exc:
            log.warning("skipping curated advisory: %s", exc)
    return tuple(advisories)


def load_curated() -> list[Advisory]:
    """Every curated advisory, parsed once per process (sorted by file name)."""
    return list(_load_all())
