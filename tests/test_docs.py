"""The README is tested against the code: --help excerpts, rules, formats, exit codes."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from depguard.cli import FORMAT_NAMES, cli
from depguard.errors import ExitCode
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
HELP_BLOCK = re.compile(r"<!-- help: (?P<cmd>[^>]+?) -->\n```\n(?P<text>.*?)\n```", re.S)
RULES = ("malicious-package", "vulnerable-version", "new-dependency",
         "new-transitive-under-existing", "install-script", "fresh-release", "unknown-package",
         "typosquat-suspect", "stdlib-alternative", "undeclared-import", "heavy-dependency")


def help_blocks() -> list[tuple[str, str]]:
    return [(m["cmd"], m["text"]) for m in HELP_BLOCK.finditer(README)]


def test_readme_documents_every_command() -> None:
    documented = {cmd for cmd, _ in help_blocks()}
    commands = {f"depguard {name}" for name in cli.commands} | {"depguard"}
    assert documented == commands


@pytest.mark.parametrize("cmd, text", help_blocks())
def test_readme_help_matches_the_real_output(cmd: str, text: str) -> None:
    args = cmd.split()[1:]
    result = CliRunner().invoke(cli, [*args, "--help"], prog_name="depguard")
    assert result.exit_code == 0
    assert result.stdout.rstrip() == text


def rule_table(text: str, header: str) -> list[str]:
    """Rule names in the first column of the table that starts with `header`."""
    block = text[text.index(header):].split("\n\n", 1)[0]
    return re.findall(r"^\| `([a-z-]+)` \|", block, re.M)


def test_readme_rule_table_names_every_rule() -> None:
    assert rule_table(README, "| rule | catches |") == list(RULES)


def test_rule_names_match_the_design_contract() -> None:
    from depguard.policy import RULE_NAMES

    assert tuple(RULE_NAMES) == RULES
    design = ROOT.parent / "shared" / "DESIGN.md"
    if not design.is_file():
        pytest.skip("shared/DESIGN.md is not beside this checkout")
    assert rule_table(design.read_text(encoding="utf-8"), "| rule | when |") == list(RULES)


def test_readme_lists_every_format_and_exit_code() -> None:
    for name in FORMAT_NAMES:
        assert f"| `{name}` |" in README
    for code in (ExitCode.PASSED, ExitCode.GATE_FAILED, ExitCode.ERROR):
        assert f"| {int(code)} |" in README


def test_changelog_keeps_an_unreleased_section() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "## [Unreleased]" in changelog
    assert "[Unreleased]: " in changelog


def test_readme_documents_every_action_input() -> None:
    yaml = pytest.importorskip("yaml")  # PyYAML comes with pre-commit in the test extra
    inputs = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))["inputs"]
    table = README[README.index("| input | default | meaning |"):].split("\n\n", 1)[0]
    documented = set(re.findall(r"`([a-z-]+)`", "\n".join(
        line.split("|")[1] for line in table.splitlines()[2:])))
    assert documented == set(inputs)
