"""Tests for depguard.policy: loading every key, precedence, errors with lines, and applying."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest

from depguard.errors import ParseError
from depguard.models import Ecosystem
from depguard.parsers.base import DiskReader
from depguard.policy import (
    RULE_NAMES,
    AllowEntry,
    IgnoreEntry,
    Level,
    Policy,
    apply_policy,
    load_policy,
)
from depguard.report import Finding, Severity
from tests.conftest import fixture_path

TODAY = date(2026, 4, 1)


def load(name: str) -> Policy:
    path = fixture_path("policy", name)
    return load_policy(path.parent, explicit=path)


def finding(
    rule: str = "vulnerable-version",
    package: str = "litellm",
    version: str | None = "1.82.7",
    severity: Severity = Severity.HIGH,
    ecosystem: Ecosystem = Ecosystem.PYPI,
    id: str | None = None,
    aliases: tuple[str, ...] = (),
) -> Finding:
    return Finding(
        rule=rule,
        severity=severity,
        ecosystem=ecosystem,
        package=package,
        version=version,
        message="test finding",
        id=id,
        aliases=aliases,
    )


def unblocked(findings: list[Finding]) -> list[Finding]:
    return [replace(f, blocking=False) for f in findings]


def malicious(version: str = "1.82.7") -> Finding:
    return finding(
        rule="malicious-package",
        version=version,
        severity=Severity.MALICIOUS,
        id="MAL-2026-2144",
        aliases=("PYSEC-2026-2", "GHSA-5mg7-485q-xm76"),
    )


def allow(
    package: str = "litellm",
    *,
    version: str | None = None,
    rules: tuple[str, ...] = (),
    reason: str = "ok",
    expires: date | None = None,
    line: int = 1,
) -> AllowEntry:
    return AllowEntry(
        package=package, version=version, rules=rules, reason=reason, expires=expires, line=line
    )


# ---------------------------------------------------------------- loading


def test_rule_names_follow_the_design_table() -> None:
    assert RULE_NAMES == (
        "malicious-package",
        "vulnerable-version",
        "new-dependency",
        "new-transitive-under-existing",
        "install-script",
        "fresh-release",
        "unknown-package",
        "typosquat-suspect",
        "stdlib-alternative",
        "undeclared-import",
        "heavy-dependency",
    )


def test_defaults_without_any_file() -> None:
    policy = load_policy(fixture_path("policy", "projects", "none"))
    assert policy == Policy()
    assert policy.source is None
    assert policy.fail_on == "high"
    assert policy.cooldown == timedelta(days=7)
    assert policy.max_new_transitive == 20
    assert dict(policy.rules) == {}
    assert policy.allow == () and policy.ignore == ()


def test_empty_file_gives_defaults_with_its_source() -> None:
    policy = load("empty.toml")
    assert policy.source == str(fixture_path("policy", "empty.toml"))
    assert (policy.fail_on, policy.cooldown, policy.max_new_transitive) == (
        "high",
        timedelta(days=7),
        20,
    )


def test_full_depguard_toml_reads_every_key() -> None:
    policy = load("full.toml")
    assert policy.fail_on == "moderate"
    assert policy.cooldown == timedelta(days=3.5)
    assert policy.max_new_transitive == 8
    assert dict(policy.rules) == {
        "new-dependency": Level.WARN,
        "stdlib-alternative": Level.OFF,
        "install-script": Level.BLOCK,
        "malicious-package": Level.BLOCK,
    }
    assert policy.allow == (
        AllowEntry(
            package="litellm",
            ecosystem=Ecosystem.PYPI,
            version="1.82.6",
            rules=("fresh-release", "new-dependency"),
            reason="pinned to the last good release before the 2026-03-24 compromise",
            expires=date(2026, 6, 30),
            line=12,
        ),
        AllowEntry(
            package="left-pad", reason="legacy build tooling, removal tracked in #42", line=20
        ),
    )
    assert policy.ignore == (
        IgnoreEntry(
            id="GHSA-5mg7-485q-xm76",
            reason="triaged: we never import litellm.proxy",
            expires=date(2026, 5, 1),
            line=24,
        ),
    )


def test_pyproject_form_reads_tool_depguard() -> None:
    policy = load("pyproject-full.toml")
    assert policy.fail_on == "critical"
    assert policy.cooldown == timedelta(days=14)
    assert policy.max_new_transitive == 50
    assert dict(policy.rules) == {"heavy-dependency": Level.BLOCK, "typosquat-suspect": Level.WARN}
    assert [(a.package, a.ecosystem, a.version, a.line) for a in policy.allow] == [
        ("axios", Ecosystem.NPM, "1.14.0", 18)
    ]
    assert [(i.id, i.expires, i.line) for i in policy.ignore] == [
        ("PYSEC-2024-1", date(2027, 1, 1), 24)
    ]


def test_inline_entries_with_lines() -> None:
    policy = load("inline-entries.toml")
    assert [(a.package, a.ecosystem, a.rules, a.line) for a in policy.allow] == [
        ("requests_oauthlib", None, (), 3),
        ("@types/node", Ecosystem.NPM, ("new-dependency",), 4),
    ]
    assert [(i.id, i.line) for i in policy.ignore] == [("mal-2026-9999", 6)]


def test_explicit_pyproject_without_table_is_an_error() -> None:
    with pytest.raises(ParseError, match=r"no \[tool\.depguard\] table"):
        load("pyproject-no-table.toml")


def test_explicit_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ParseError, match="policy file not found"):
        load_policy(tmp_path, explicit=tmp_path / "nope.toml")


@pytest.mark.parametrize(
    ("project", "explicit", "fail_on", "source"),
    [
        ("both", None, "low", ".depguard.toml"),
        ("both", "pyproject-full.toml", "critical", "pyproject-full.toml"),
        ("pyproject-only", None, "moderate", "pyproject.toml"),
        ("pyproject-other-tools", None, "high", None),
        ("none", "full.toml", "moderate", "full.toml"),
    ],
)
def test_precedence(project: str, explicit: str | None, fail_on: str, source: str | None) -> None:
    root = fixture_path("policy", "projects", project)
    policy = load_policy(
        root,
        explicit=fixture_path("policy", explicit) if explicit else None,
        reader=DiskReader(),
    )
    assert policy.fail_on == fail_on
    assert (Path(policy.source).name if policy.source else None) == source


class _MemoryReader:
    """A FileReader over a dict, standing in for a git revision."""

    def __init__(self, files: dict[Path, str]) -> None:
        self.files = files

    def read_text(self, path: Path) -> str:
        return self.files[path]

    def exists(self, path: Path) -> bool:
        return path in self.files


def test_reads_through_the_given_reader() -> None:
    root = Path("/repo")
    reader = _MemoryReader({root / ".depguard.toml": 'fail-on = "never"\n'})
    policy = load_policy(root, reader=reader)
    assert (policy.fail_on, policy.source) == ("never", "/repo/.depguard.toml")


MALFORMED = [
    ("unknown-top-key.toml", 2, "unknown key 'fail_on'"),
    ("unknown-top-key-pyproject.toml", 6, "unknown key 'cooldown'"),
    ("bad-fail-on.toml", 2, "fail-on must be one of never, low, moderate"),
    ("fail-on-not-string.toml", 1, "fail-on must be one of"),
    ("cooldown-string.toml", 1, "cooldown-days must be a number"),
    ("cooldown-negative.toml", 1, "cooldown-days must be a finite number >= 0"),
    ("cooldown-bool.toml", 1, "cooldown-days must be a number"),
    ("cooldown-inf.toml", 1, "finite number"),
    ("cooldown-huge.toml", 1, "cooldown-days is too large"),
    ("max-transitive-float.toml", 2, "max-new-transitive must be an integer >= 0"),
    ("max-transitive-negative.toml", 1, "max-new-transitive must be an integer >= 0"),
    ("rules-not-table.toml", 1, "rules must be a table"),
    ("unknown-rule.toml", 3, "unknown rule 'new-dependencies'"),
    ("bad-level.toml", 2, "fresh-release must be one of off, warn, block"),
    ("level-not-string.toml", 2, "must be one of off, warn, block"),
    ("malicious-off.toml", 2, "malicious-package cannot be set to off"),
    ("malicious-warn.toml", 2, "malicious-package cannot be set to warn"),
    ("allow-no-reason.toml", 5, "allow[1] needs a non-empty 'reason'"),
    ("allow-empty-reason.toml", 3, "allow[0].reason must be a non-empty string"),
    ("allow-inline-no-reason.toml", 3, "allow[1] needs a non-empty 'reason'"),
    ("allow-no-package.toml", 1, "allow[0] needs a non-empty 'package'"),
    ("allow-unknown-key.toml", 3, "unknown key 'versions' in allow[0]"),
    ("allow-bad-ecosystem.toml", 3, "allow[0].ecosystem must be one of PyPI, npm"),
    ("allow-version-range.toml", 3, "allow[0].version must be one exact version"),
    ("allow-rules-string.toml", 3, "allow[0].rules must be an array"),
    ("allow-unknown-rule.toml", 5, "unknown rule 'typosquat'"),
    ("allow-bad-date.toml", 4, "allow[0].expires must be a date (YYYY-MM-DD)"),
    ("allow-datetime.toml", 4, "expires must be a date"),
    ("allow-not-array.toml", 1, "allow must be an array of tables"),
    ("allow-item-not-table.toml", 1, "each allow entry must be a table"),
    ("ignore-no-reason.toml", 1, "tool.depguard.ignore[0] needs a non-empty 'reason'"),
    ("ignore-no-id.toml", 1, "ignore[0] needs a non-empty 'id'"),
    ("ignore-id-not-string.toml", 2, "ignore[0].id must be a non-empty string"),
    ("ignore-unknown-key.toml", 3, "unknown key 'package' in ignore[0]"),
    ("not-toml.toml", 2, "invalid TOML"),
    ("depguard-not-table.toml", 2, "tool.depguard must be a table"),
]


@pytest.mark.parametrize(("name", "line", "fragment"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_policy(name: str, line: int, fragment: str) -> None:
    path = fixture_path("policy", "malformed", name)
    with pytest.raises(ParseError) as info:
        load_policy(path.parent, explicit=path)
    assert info.value.path == str(path)
    assert info.value.line == line
    assert fragment in info.value.reason


def test_depguard_toml_may_use_the_tool_table(tmp_path: Path) -> None:
    (tmp_path / ".depguard.toml").write_text('[tool.depguard]\nfail-on = "critical"\n')
    assert load_policy(tmp_path).fail_on == "critical"


def test_depguard_toml_without_a_policy_is_not_skipped(tmp_path: Path) -> None:
    (tmp_path / ".depguard.toml").write_text("[tool.other]\nx = 1\n")
    (tmp_path / "pyproject.toml").write_text('[tool.depguard]\nfail-on = "low"\n')
    with pytest.raises(ParseError, match=r"no \[tool\.depguard\] table"):
        load_policy(tmp_path)


def test_malformed_project_file_is_reported_not_skipped(tmp_path: Path) -> None:
    (tmp_path / ".depguard.toml").write_text('[rules]\nmalicious-package = "off"\n')
    (tmp_path / "pyproject.toml").write_text('[tool.depguard]\nfail-on = "low"\n')
    with pytest.raises(ParseError) as info:
        load_policy(tmp_path)
    assert str(info.value).startswith(f"{tmp_path / '.depguard.toml'}:2: ")


# ---------------------------------------------------------------- applying


def test_no_policy_blocks_at_fail_on() -> None:
    high, low = finding(severity=Severity.HIGH), finding(severity=Severity.LOW, package="six")
    outcome = apply_policy([high, low], Policy(), TODAY)
    assert [(f.package, f.blocking) for f in outcome.findings] == [
        ("litellm", True),
        ("six", False),
    ]
    assert outcome.suppressed == [] and outcome.expired == [] and outcome.unused == []


def test_fail_on_never_blocks_nothing() -> None:
    outcome = apply_policy([finding(severity=Severity.CRITICAL)], Policy(fail_on="never"), TODAY)
    assert [f.blocking for f in outcome.findings] == [False]


def test_rule_levels_change_blocking() -> None:
    policy = load(
        "full.toml"
    )  # fail-on moderate; new-dependency warn, install-script block, stdlib off
    findings = [
        finding(rule="new-dependency", severity=Severity.HIGH, package="a"),
        finding(rule="install-script", severity=Severity.INFO, package="b"),
        finding(rule="stdlib-alternative", severity=Severity.CRITICAL, package="c"),
        finding(rule="typosquat-suspect", severity=Severity.MODERATE, package="d"),
        finding(rule="fresh-release", severity=Severity.LOW, package="e"),
    ]
    outcome = apply_policy(findings, policy, TODAY)
    assert [(f.package, f.blocking) for f in outcome.findings] == [
        ("a", False),
        ("b", True),
        ("d", True),
        ("e", False),
    ]
    assert [(f.package, why) for f, why in outcome.suppressed] == [
        ("c", "rule stdlib-alternative is off in the policy")
    ]


def test_blocking_already_set_is_recomputed() -> None:
    stale = Finding(
        rule="new-dependency",
        severity=Severity.INFO,
        ecosystem=Ecosystem.NPM,
        package="x",
        version=None,
        message="m",
        blocking=True,
    )
    assert apply_policy([stale], Policy(), TODAY).findings[0].blocking is False


def test_allow_matches_package_version_and_rules() -> None:
    policy = load("full.toml")  # allow litellm==1.82.6 for fresh-release/new-dependency
    findings = [
        finding(rule="fresh-release", package="LiteLLM", version="1.82.6.0"),  # PEP 440 equal
        finding(rule="vulnerable-version", version="1.82.6"),  # rule not listed
        finding(rule="new-dependency", version="1.82.7"),  # other version
        finding(rule="new-dependency", version="1.82.6", ecosystem=Ecosystem.NPM),  # other eco
        finding(rule="new-dependency", package="left_pad", ecosystem=Ecosystem.NPM),
        finding(rule="new-dependency", package="left-pad", version=None, ecosystem=Ecosystem.NPM),
    ]
    outcome = apply_policy(findings, policy, TODAY)
    assert [f for f, _ in outcome.suppressed] == [findings[0], findings[5]]
    assert outcome.suppressed[0][1] == (
        "allow entry for litellm 1.82.6 (line 12): "
        "pinned to the last good release before the 2026-03-24 compromise"
    )
    assert unblocked(outcome.findings) == findings[1:5]


def test_allow_without_ecosystem_uses_the_findings_rules() -> None:
    policy = load("inline-entries.toml")  # Requests_OAuthlib, any ecosystem
    pypi = finding(rule="new-dependency", package="requests-oauthlib")
    npm = finding(rule="new-dependency", package="requests-oauthlib", ecosystem=Ecosystem.NPM)
    outcome = apply_policy([pypi, npm], policy, TODAY)
    assert [f for f, _ in outcome.suppressed] == [pypi]  # npm does not fold "_" into "-"


def test_ignore_matches_id_or_alias_case_insensitively() -> None:
    policy = Policy(ignore=(IgnoreEntry(id="ghsa-5MG7-485q-xm76", reason="triaged", line=3),))
    by_alias = finding(id="PYSEC-2026-2", aliases=("GHSA-5mg7-485q-xm76",))
    by_id = finding(id="GHSA-5MG7-485Q-XM76", package="other")
    unrelated = finding(id="GHSA-aaaa-bbbb-cccc", package="third")
    outcome = apply_policy([by_alias, by_id, unrelated], policy, TODAY)
    assert [f for f, _ in outcome.suppressed] == [by_alias, by_id]
    assert outcome.suppressed[0][1] == "ignore entry for ghsa-5MG7-485q-xm76 (line 3): triaged"
    assert unblocked(outcome.findings) == [unrelated]


@pytest.mark.parametrize(
    ("expires", "applies"),
    [(TODAY + timedelta(days=1), True), (TODAY, True), (TODAY - timedelta(days=1), False)],
)
def test_expiry_boundary(expires: date, applies: bool) -> None:
    policy = Policy(allow=(allow(expires=expires, line=12),))
    outcome = apply_policy([finding()], policy, TODAY)
    assert bool(outcome.suppressed) is applies
    assert bool(outcome.findings) is not applies
    expected = [f"allow entry for litellm (line 12) expired on {expires}: it no longer applies"]
    assert outcome.expired == ([] if applies else expected)
    assert outcome.unused == []


def test_expired_ignore_entry_is_reported() -> None:
    policy = load("full.toml")  # ignore GHSA-5mg7-485q-xm76 expires 2026-05-01
    outcome = apply_policy([finding(id="GHSA-5mg7-485q-xm76")], policy, date(2026, 5, 2))
    assert outcome.suppressed == []
    assert outcome.findings[0].blocking
    assert outcome.expired == [
        "ignore entry for GHSA-5mg7-485q-xm76 (line 24) expired on 2026-05-01: it no longer applies"
    ]


def test_unused_entries() -> None:
    policy = load("full.toml")
    outcome = apply_policy([finding(rule="new-dependency", package="left-pad")], policy, TODAY)
    assert outcome.unused == [
        "allow entry for litellm 1.82.6 (line 12) matched no finding",
        "ignore entry for GHSA-5mg7-485q-xm76 (line 24) matched no finding",
    ]


def test_entries_on_an_off_rule_are_unused() -> None:
    policy = Policy(
        rules={"new-dependency": Level.OFF},
        allow=(allow(package="six", rules=("new-dependency",), line=4),),
    )
    outcome = apply_policy([finding(rule="new-dependency", package="six")], policy, TODAY)
    assert outcome.findings == []
    assert outcome.unused == ["allow entry for six (line 4) matched no finding"]


def test_malicious_is_not_suppressed_by_ignore_or_versionless_allow() -> None:
    policy = Policy(
        allow=(allow(line=5),),
        ignore=(IgnoreEntry(id="GHSA-5mg7-485q-xm76", reason="triaged", line=9),),
    )
    outcome = apply_policy([malicious()], policy, TODAY)
    assert outcome.suppressed == []
    assert [(f.rule, f.blocking) for f in outcome.findings] == [("malicious-package", True)]
    assert outcome.notes == [
        "allow entry for litellm (line 5) matches malicious-package litellm 1.82.7 "
        "(MAL-2026-2144) but cannot suppress it: a version-less allow entry never suppresses "
        "a malicious-package finding (allow that exact version to accept it)",
        "ignore entry for GHSA-5mg7-485q-xm76 (line 9) matches malicious-package litellm 1.82.7 "
        "(MAL-2026-2144) but cannot suppress it: an ignore entry never suppresses "
        "a malicious-package finding (allow that exact version to accept it)",
    ]
    assert outcome.unused == []  # they matched: the notes say why they did nothing


def test_malicious_is_suppressed_by_an_exact_version_allow() -> None:
    entry = allow(version="1.82.7", rules=("malicious-package",), reason="sandboxed analysis")
    outcome = apply_policy(
        [malicious("1.82.7"), malicious("1.82.8")], Policy(allow=(entry,)), TODAY
    )
    assert [(f.version, why) for f, why in outcome.suppressed] == [
        ("1.82.7", "allow entry for litellm 1.82.7 (line 1): sandboxed analysis")
    ]
    assert [(f.version, f.blocking) for f in outcome.findings] == [("1.82.8", True)]
    assert outcome.notes == []


def test_malicious_without_a_version_cannot_be_allowed() -> None:
    unversioned = replace(malicious(), version=None)
    outcome = apply_policy([unversioned], Policy(allow=(allow(version="1.82.7"),)), TODAY)
    assert outcome.suppressed == [] and len(outcome.findings) == 1
    assert outcome.unused == ["allow entry for litellm 1.82.7 (line 1) matched no finding"]


def test_malicious_level_cannot_be_lowered_in_code() -> None:
    policy = Policy(rules={"malicious-package": Level.OFF})
    outcome = apply_policy([malicious()], policy, TODAY)
    assert [f.blocking for f in outcome.findings] == [True]
    assert outcome.suppressed == []


@pytest.mark.parametrize(
    ("ecosystem", "wanted", "actual", "applies"),
    [
        (Ecosystem.NPM, "1.14.0", "1.14.0", True),
        (Ecosystem.NPM, "1.14", "1.14.0", False),  # npm versions compare as written
        (Ecosystem.PYPI, "1.0", "1.0.0", True),  # PEP 440 equality
        (Ecosystem.PYPI, "2.0.dev0", "2.0", False),
        (Ecosystem.PYPI, "weird-build", "weird-build", True),  # not PEP 440: as written
    ],
)
def test_version_matching(ecosystem: Ecosystem, wanted: str, actual: str, applies: bool) -> None:
    policy = Policy(allow=(allow("axios", version=wanted),))
    outcome = apply_policy(
        [finding(package="axios", version=actual, ecosystem=ecosystem)], policy, TODAY
    )
    assert bool(outcome.suppressed) is applies
