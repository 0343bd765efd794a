"""The FORMATS registry: report format name -> Formatter class (feeds --format choices)."""

from __future__ import annotations

from depguard.formats.base import Formatter
from depguard.formats.github import GithubFormatter
from depguard.formats.json import JsonFormatter
from depguard.formats.markdown import MarkdownFormatter
from depguard.formats.sarif import SarifFormatter
from depguard.formats.text import TextFormatter

__all__ = ["FORMATS", "Formatter"]

FORMATS: dict[str, type[Formatter]] = {
    cls.name: cls
    for cls in (TextFormatter, JsonFormatter, SarifFormatter, MarkdownFormatter, GithubFormatter)
}
