"""rules/rules.json: one documented entry per rule name, each allow example a valid policy."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from depguard.errors import DepguardError
from depguard.formats.rule_docs import load_rule_docs, rule_docs_from_json, rule_reference_markdown
from depguard.policy import RULE_NAMES, load_policy
from tests.conftest import ROOT


def raw() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((ROOT / "rules" / "rules.json").read_text(encoding="utf-8"))
    return doc


def test_one_entry_per_rule_name_in_design_order() -> None:
    assert tuple(load_rule_docs()) == RULE_NAMES


@pytest.mark.parametrize("name", RULE_NAMES)
def test_allow_example_is_a_valid_policy_for_its_rule(name: str, tmp_path: Path) -> None:
    doc = load_rule_docs()[name]
    (tmp_path / ".depguard.toml").write_text(doc.allow + "\n", encoding="utf-8")
    policy = load_policy(tmp_path, None)
    reasons = [e.reason for e in policy.allow] + [e.reason for e in policy.ignore]
    assert len(reasons) == 1 and reasons[0]
    if policy.allow:
        assert policy.allow[0].rules == (name,)
    assert doc.allow in doc.help_text() and doc.full in doc.help_markdown()


def test_titles_are_pascal_case() -> None:
    docs = load_rule_docs()
    assert docs["new-transitive-under-existing"].title == "NewTransitiveUnderExisting"


def test_rule_reference_has_a_row_and_a_section_per_rule() -> None:
    text = rule_reference_markdown()
    for name in RULE_NAMES:
        assert f"| [`{name}`](#{name}) |" in text and f"\n### `{name}`\n" in text
    assert text.count("```toml") == len(RULE_NAMES)


def broken(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    data = copy.deepcopy(raw())
    target: Any = data
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ([], "'rules' must be a non-empty array"),
        ({"rules": []}, "'rules' must be a non-empty array"),
        ({"rules": ["x"]}, "rules[0]: must be an object"),
        (broken(("rules", 1, "short"), KeyError), "rules[1].short: must be a non-empty string"),
        (broken(("rules", 2, "full"), 3), "rules[2].full: must be a non-empty string"),
        (broken(("rules", 0, "severity"), "severe"), "rules[0].severity: must be one of"),
        (broken(("rules", 0, "precision"), "exact"), "rules[0].precision: must be one of"),
        (broken(("rules", 3, "tags"), "security"), "rules[3].tags: must be an array"),
        (broken(("rules", 1, "name"), "malicious-package"), "duplicate rule 'malicious-package'"),
    ],
    ids=["not-object", "empty", "entry-not-object", "missing-short", "full-not-text",
         "bad-severity", "bad-precision", "tags-not-array", "duplicate"],
)
def test_malformed_rule_docs(data: Any, fragment: str) -> None:
    with pytest.raises(DepguardError) as info:
        rule_docs_from_json(data)
    assert fragment in str(info.value) and "rules.json" in str(info.value)
