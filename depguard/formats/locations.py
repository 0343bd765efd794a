"""Where a finding points, for the formats that annotate files (SARIF, GitHub workflow commands).

Finding files are relative to the project root: for `check`/`hook` that is the repository root,
for `scan` it is the scanned folder (or the folder of the scanned file). So a scan of
`services/api` reports `package-lock.json`, which is `services/api/package-lock.json` from where
depguard ran; `locate` adds that prefix back, which makes paths repository-relative when depguard
runs at the repository root (as in CI). An absolute scan target gives absolute paths (SARIF
`file://` URIs, which GitHub's upload-sarif action relativizes against its `checkout_path`).

Every finding gets a file and a line: one without a file points at line 1 of the first manifest
the report read for its ecosystem (else any manifest), and, when the report read none, at the
ecosystem's canonical manifest name (`package.json` for npm, `pyproject.toml` for PyPI). One
without a line points at line 1 of its file.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import quote

from depguard.models import Ecosystem
from depguard.report import Finding, Report

__all__ = ["PLACEHOLDER_FILES", "Location", "locate"]

PLACEHOLDER_FILES = {Ecosystem.NPM: "package.json", Ecosystem.PYPI: "pyproject.toml"}


@dataclass(frozen=True, slots=True)
class Location:
    path: str
    """POSIX path: relative to where depguard ran (normally the repository root), or absolute."""
    line: int
    """1-based, always set."""

    @property
    def uri(self) -> str:
        """A SARIF `artifactLocation.uri`: a percent-encoded relative reference or a file URI."""
        if self.path.startswith("/"):
            return "file://" + quote(self.path, safe="/")
        return quote(self.path, safe="/")


def locate(finding: Finding, report: Report) -> Location:
    """The file and line `finding` is reported at (never without one)."""
    file = finding.file or _fallback_file(finding.ecosystem, report)
    line = finding.line if finding.line and finding.line > 0 else 1
    return Location(_join(_project_dir(report), file), line)


def _fallback_file(ecosystem: Ecosystem, report: Report) -> str:
    sources = [d.source for d in report.packages if d.source and d.ecosystem is ecosystem]
    sources = sources or [d.source for d in report.packages if d.source]
    return sources[0] if sources else PLACEHOLDER_FILES[ecosystem]


def _project_dir(report: Report) -> str:
    """The prefix that makes the report's project-relative file names relative to the cwd."""
    if report.command != "scan" or not report.target:
        return ""
    target = report.target.replace("\\", "/")
    if PurePosixPath(target).name in _top_level_files(report):
        target = posixpath.dirname(target)  # one file was scanned: its folder is the root
    return target


def _top_level_files(report: Report) -> set[str]:
    names = {d.source for d in report.packages if d.source}
    names.update(f.file for f in report.findings if f.file)
    return {name for name in names if "/" not in name}


def _join(prefix: str, file: str) -> str:
    file = file.replace("\\", "/")
    if not prefix or file.startswith("/"):
        return posixpath.normpath(file)
    return posixpath.normpath(posixpath.join(prefix, file))
