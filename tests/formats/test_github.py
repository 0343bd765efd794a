"""GitHub Actions workflow commands: one annotation per finding, escaped as the runner expects."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from depguard.formats.github import GithubFormatter, escape_data, escape_property
from depguard.models import Ecosystem
from depguard.report import Finding, Report, Severity
from tests.conftest import fixture_path
from tests.formats._reports import check_report, scan_report

COMMAND = re.compile(r"^::(error|warning|notice) file=([^,:]*),line=(\d+),title=([^,:]*)::(.*)$")


def render(report: Report) -> list[str]:
    return GithubFormatter().render(report).splitlines()


def parse(line: str) -> tuple[str, str, int, str, str]:
    match = COMMAND.match(line)
    assert match, line
    kind, file, number, title, message = match.groups()
    return kind, file, int(number), title, message


@pytest.fixture(scope="module")
def check(tmp_path_factory: pytest.TempPathFactory) -> Report:
    return check_report(tmp_path_factory.mktemp("check") / "holdout")


def test_one_annotation_per_finding_then_a_summary(check: Report) -> None:
    lines = render(check)
    assert len(lines) == len(check.findings) + 1
    commands = [parse(line) for line in lines[:-1]]
    assert commands[1][:4] == ("error", "package-lock.json", 12632,
                               "depguard malicious-package%3A plain-crypto-js 4.2.1")
    assert "Via: holdout > axios > plain-crypto-js%0AFix: remove plain-crypto-js" in commands[1][4]
    assert {(c[0], c[1], c[2]) for c in commands if "undeclared-import" in c[3]} == {
        ("warning", "src/app/main.py", 3), ("warning", "web/index.js", 2)}
    assert [c[0] for c in commands].count("notice") == 4
    assert lines[-1].startswith("depguard: blocked: check HEAD~1 ")
    assert lines[-1].endswith(
        "10 findings (2 malicious, 4 moderate, 2 low, 2 info), 2 blocking at fail-on high")


def test_clean_scan_prints_only_the_summary(tmp_path: Path) -> None:
    report = scan_report(tmp_path, target=fixture_path("projects", "py-litellm-1.82.6"))
    lines = render(report)
    assert len(lines) == 1 and lines[0].startswith("depguard: passed: scan ")


def test_scan_annotations_name_the_malicious_packages(tmp_path: Path) -> None:
    commands = [parse(line) for line in render(scan_report(tmp_path))[:-1]]
    assert [(c[0], c[3]) for c in commands] == [
        ("error", "depguard malicious-package%3A axios 1.14.1"),
        ("error", "depguard malicious-package%3A plain-crypto-js 4.2.1"),
    ]


def test_blocking_finding_is_an_error_whatever_its_severity(check: Report) -> None:
    moderate = next(f for f in check.findings if f.rule == "install-script")
    lines = render(Report(command="check", findings=[replace(moderate, blocking=True)]))
    assert parse(lines[0])[0] == "error"
    assert parse(lines[0])[4].endswith("%0AThis finding blocks the gate.")


def test_finding_without_file_is_still_placed(check: Report) -> None:
    axios = next(f for f in check.findings if f.package == "axios")
    finding = replace(axios, file=None, line=None)
    report = Report(command="check", packages=check.packages, findings=[finding])
    npm = [d.source for d in check.packages if d.ecosystem is Ecosystem.NPM]
    assert (parse(render(report)[0])[1:3]) == (npm[0], 1) == ("package-lock.json", 1)


@pytest.mark.parametrize(
    ("raw", "data", "prop"),
    [
        ("100%", "100%25", "100%25"),
        ("a\nb", "a%0Ab", "a%0Ab"),
        ("a\r\nb", "a%0D%0Ab", "a%0D%0Ab"),
        ("k: v, w", "k: v, w", "k%3A v%2C w"),
        ("%0A", "%250A", "%250A"),
        ("::error::x", "::error::x", "%3A%3Aerror%3A%3Ax"),
    ],
)
def test_escaping(raw: str, data: str, prop: str) -> None:
    assert escape_data(raw) == data
    assert escape_property(raw) == prop


def test_hostile_finding_cannot_inject_commands() -> None:
    finding = Finding(
        rule="typosquat-suspect", severity=Severity.HIGH, ecosystem=Ecosystem.NPM,
        package="evil,line=1::pkg", version="1%0A",
        message="50% sure\n::error file=x,line=1::injected\r\n::add-mask::secret",
        file="web/a,b:c.json", line=4,
    )
    lines = render(Report(command="check", target="a\n::warning::t", findings=[finding]))
    assert len(lines) == 2
    kind, file, line, title, message = parse(lines[0])
    assert (kind, file, line) == ("error", "web/a%2Cb%3Ac.json", 4)
    assert title == "depguard typosquat-suspect%3A evil%2Cline=1%3A%3Apkg 1%250A"
    assert message.startswith(
        "50%25 sure%0A::error file=x,line=1::injected%0D%0A::add-mask::secret")
    assert not lines[1].startswith("::") and "%0A::warning::t" in lines[1]
