"""Access to the data files in rules/ (installed as the `depguard.rules` package)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

__all__ = ["last_good_version", "load_json_rule", "rule_file", "rules_dir"]

_SOURCE_RULES = Path(__file__).resolve().parent.parent / "rules"


def rules_dir() -> Traversable:
    """The rules data: installed as `depguard.rules`, else rules/ of a source checkout."""
    try:
        folder = resources.files("depguard.rules")
        if folder.is_dir():
            return folder
    except (ModuleNotFoundError, TypeError):  # running from a source checkout
        pass
    return _SOURCE_RULES


@cache
def load_json_rule(name: str) -> Any:
    return json.loads(rule_file(name).read_text(encoding="utf-8"))


def rule_file(name: str) -> Traversable:
    """A file under rules/ by its slash-separated relative name."""
    item = rules_dir()
    for part in name.split("/"):
        item = item / part
    return item


def last_good_version(ecosystem: str, name: str, version: str | None) -> str | None:
    """The verified last good release before a known-malicious `version`, if recorded."""
    if version is None:
        return None
    entry = load_json_rule("last-good.json").get(ecosystem, {}).get(name, {}).get(version)
    return str(entry["last_good"]) if entry else None
