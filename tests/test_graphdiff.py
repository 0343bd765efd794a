"""Graph diff and the graph-level gate rules on the real axios 1.14.0 -> 1.14.1 lock bump."""

from __future__ import annotations

from pathlib import Path

import pytest

from depguard.checks import heavy_dependency, install_script, new_dependency, new_transitive
from depguard.graphdiff import GraphDiff, diff_graphs, load_side, manifest_dirs
from depguard.parsers import DiskReader
from tests.conftest import fixture_path


class FolderSnapshot:
    """A project folder on disk seen as one side of a change."""

    def __init__(self, root: Path) -> None:
        self.label = root.name
        self.root = root
        self.reader = DiskReader(root)

    def files(self) -> list[str]:
        return sorted(
            p.relative_to(self.root).as_posix() for p in self.root.rglob("*") if p.is_file()
        )


@pytest.fixture(scope="module")
def axios_bump() -> GraphDiff:
    base = load_side(FolderSnapshot(fixture_path("projects", "npm-axios-1.14.0")), [""])
    head = load_side(FolderSnapshot(fixture_path("projects", "npm-axios-1.14.1")), [""])
    return diff_graphs(base, head)


def test_manifest_dirs() -> None:
    assert manifest_dirs(
        ["src/app.py", "web/package-lock.json", "requirements.txt", "docs/index.md"]
    ) == ["", "web"]


def test_added_changed_removed(axios_bump: GraphDiff) -> None:
    assert [(d.name, d.after) for d in axios_bump.added] == [("plain-crypto-js", ("4.2.1",))]
    assert [(d.name, d.before, d.after) for d in axios_bump.changed] == [
        ("axios", ("1.14.0",), ("1.14.1",))
    ]
    assert axios_bump.removed == []
    (added,) = axios_bump.added
    assert [d.label() for d in added.introduced_by] == ["axios 1.14.1"]
    doc = axios_bump.to_json()
    assert doc["changed"][0]["from"] == "1.14.0" and doc["changed"][0]["to"] == "1.14.1"
    assert doc["added"][0]["introduced_by"] == ["axios 1.14.1"]


def test_new_transitive_under_existing(axios_bump: GraphDiff) -> None:
    (finding,) = new_transitive.check_diff(axios_bump)
    assert finding.rule == "new-transitive-under-existing"
    assert finding.package == "plain-crypto-js"
    assert "axios 1.14.0 -> 1.14.1" in finding.message
    assert finding.action.endswith("pin axios to 1.14.0")
    assert finding.file == "package-lock.json" and finding.line


def test_install_script_and_new_dependency(axios_bump: GraphDiff) -> None:
    (script,) = install_script.check_diff(axios_bump)
    assert (script.rule, script.package) == ("install-script", "plain-crypto-js")
    (new,) = new_dependency.check_diff(axios_bump)
    assert new.rule == "new-dependency" and "via axios 1.14.1" in new.message
    assert ("holdout", "axios", "plain-crypto-js") in new.paths


def test_no_change_is_empty() -> None:
    side = load_side(FolderSnapshot(fixture_path("projects", "npm-axios-1.14.0")), [""])
    diff = diff_graphs(side, side)
    assert not (diff.added or diff.removed or diff.changed)


def test_heavy_dependency_counts_what_a_new_direct_dependency_adds(tmp_path: Path) -> None:
    base = load_side(FolderSnapshot(fixture_path("projects", "npm-axios-1.14.0")), [""])
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "package.json").write_text('{"name": "holdout"}\n')
    nothing = load_side(FolderSnapshot(empty), [""])
    diff = diff_graphs(nothing, base)
    weights = heavy_dependency.added_weight(diff)
    react_scripts = next(d for d in diff.added if d.name == "react-scripts")
    assert react_scripts.dep is not None
    assert weights[react_scripts.dep.id] > 500
    flagged = {f.package for f in heavy_dependency.check_diff(diff, limit=20)}
    assert "react-scripts" in flagged and "lodash" not in flagged
