"""The PR-comment report: verdict first, new dependencies, findings by severity, safe escaping."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from depguard.formats.markdown import MARKER, MAX_CHARS, MarkdownFormatter, code, escape, literal
from depguard.models import Ecosystem
from depguard.report import Finding, Report, Severity
from tests.conftest import fixture_path
from tests.formats._reports import check_report, scan_report


def render(report: Report) -> str:
    return MarkdownFormatter().render(report)


@pytest.fixture(scope="module")
def check(tmp_path_factory: pytest.TempPathFactory) -> Report:
    return check_report(tmp_path_factory.mktemp("check") / "holdout")


def table_rows(text: str, header: str) -> list[list[str]]:
    """Cells of the table whose header row starts with `header` (split on unescaped pipes)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {header} |"))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]])
    return rows


def test_check_report_leads_with_the_verdict(check: Report) -> None:
    lines = render(check).splitlines()
    assert lines[0] == MARKER
    assert lines[2] == "**depguard: blocked** — 2 malicious packages"


def test_check_report_tables_new_dependencies_by_score(check: Report) -> None:
    rows = table_rows(render(check), "Package")
    assert [r[0] for r in rows] == ["`axios`", "`plain-crypto-js`", "`simplejson`"]
    plain = rows[1]
    assert plain[2] == "4.2.1" and plain[3] == "no (via axios 1.14.1)" and plain[4] == "**100**"
    assert "`malicious-package`" in plain[5] and "`install-script`" in plain[5]
    assert rows[0][2] == "1.14.0 → 1.14.1"
    assert all(len(r) == 6 for r in rows)


def test_findings_grouped_malicious_first_with_chain_and_action(check: Report) -> None:
    text = render(check)
    order = [text.index(h) for h in ("#### Malicious (2)", "#### Moderate (4)",
                                     "<summary>Low (2)</summary>", "<summary>Info (2)</summary>")]
    assert order == sorted(order)
    malicious = text[order[0]:order[1]]
    assert "Chain: `holdout` › `axios` › `plain-crypto-js`" in malicious
    assert "**Action:** remove plain-crypto-js: it arrived with axios 1.14.1" in malicious
    assert "`package-lock.json:12632` · **blocks**" in malicious
    assert "<summary>New imports (3)</summary>" in text
    assert text.count("<details>") == text.count("</details>")


def test_scan_report_has_a_findings_table(tmp_path: Path) -> None:
    text = render(scan_report(tmp_path))
    assert "New and changed dependencies" not in text
    rows = table_rows(text, "Severity")
    assert [(r[0], r[1], r[3], r[4]) for r in rows] == [
        ("**malicious**", "`axios`", "`malicious-package`", "MAL-2026-2307"),
        ("**malicious**", "`plain-crypto-js`", "`malicious-package`", "MAL-2026-2306"),
    ]
    assert "<summary>Malicious (2)</summary>" in text


def test_clean_scan_passes(tmp_path: Path) -> None:
    report = scan_report(tmp_path, target=fixture_path("projects", "py-litellm-1.82.6"))
    text = render(report)
    assert text.splitlines()[2] == "**depguard: passed** — no findings"
    assert "### Findings" not in text


def test_non_blocking_findings_pass_with_a_count(check: Report) -> None:
    report = Report(command="check", findings=[replace(f, blocking=False) for f in check.findings
                                               if f.severity is not Severity.MALICIOUS])
    assert render(report).splitlines()[2] == (
        "**depguard: passed** — no blocking findings, 6 to review")


HOSTILE = [
    ("pipe", "a|b", "a\\|b"),
    ("html", "<img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert(1)&gt;"),
    ("backtick", "`rm -rf`", "\\`rm -rf\\`"),
    ("link", "[click](http://evil)", "\\[click\\](http://evil)"),
    ("entity", "&lt;", "&amp;lt;"),
    ("emphasis", "*bold* _it_ ~s~", "\\*bold\\* \\_it\\_ \\~s\\~"),
    ("newline", "one\ntwo\r\n| x |", "one two \\| x \\|"),
    ("backslash", "a\\|b", "a\\\\\\|b"),
]


@pytest.mark.parametrize(("raw", "expected"), [(r, e) for _, r, e in HOSTILE],
                         ids=[i for i, _, _ in HOSTILE])
def test_escape(raw: str, expected: str) -> None:
    assert escape(raw) == expected


@pytest.mark.parametrize(
    ("raw", "table", "expected"),
    [
        ("plain", False, "`plain`"),
        ("a`b", False, "``a`b``"),
        ("`edge", False, "`` `edge ``"),
        ("a``b`", False, "``` a``b` ```"),
        ("a|b", True, "`a\\|b`"),
        ("a|b", False, "`a|b`"),
        ("x\ny", False, "`x y`"),
    ],
)
def test_code_span(raw: str, table: bool, expected: str) -> None:
    assert code(raw, table=table) == expected


def hostile_report() -> Report:
    finding = Finding(
        rule="typosquat-suspect", severity=Severity.HIGH, ecosystem=Ecosystem.NPM,
        package="ev|l`<script>alert(1)</script>", version="1.0.0|<b>",
        message="looks like `lodash` | <img src=x onerror=alert(1)>\n## heading </details>",
        action="remove [it](javascript:alert(1))", file="web/<x>|package.json", line=7,
        paths=(("app", "ev|l`<script>"),), blocking=True,
    )
    changes = {"added": [{"ecosystem": "npm", "name": finding.package, "version": "1|2",
                          "direct": True, "score": 40, "reasons": ["typosquat-suspect"]}],
               "removed": [], "changed": []}
    return Report(command="check", target="a..b", findings=[finding], changes=changes)


def test_hostile_names_and_messages_cannot_escape() -> None:
    text = render(hostile_report())
    assert "<script" not in text and "<img" not in text and "<b>" not in text
    assert "[it](javascript" not in text and "\\[it\\](javascript" in text
    assert text.count("</details>") == text.count("<details>")
    assert "\n## heading" not in text
    row = table_rows(text, "Package")[0]
    assert row[0] == "ev\\|l\\`&lt;script&gt;alert(1)&lt;/script&gt;" and len(row) == 6
    assert "looks like \\`lodash\\` \\| &lt;img" in text


def test_plain_data_is_shown_as_code_and_the_rest_escaped() -> None:
    assert literal("@types/node") == "`@types/node`"
    assert literal("HEAD~1 (abc)..HEAD") == "`HEAD~1 (abc)..HEAD`"
    assert literal("a`b<c>") == "a\\`b&lt;c&gt;"


def test_long_reports_fit_a_github_comment(check: Report) -> None:
    many = [replace(check.findings[0], package=f"pkg-{i}", message="x" * 400, severity=severity)
            for i in range(60) for severity in Severity]
    text = render(Report(command="scan", findings=many))
    assert len(text) <= MAX_CHARS
    assert text.count("<details>") == text.count("</details>")
    assert text.rstrip().endswith("(truncated: the full report is in the JSON output)")
