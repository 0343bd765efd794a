"""The canonical JSON report (DESIGN.md's contract)."""

from __future__ import annotations

import json

from depguard.formats.base import Formatter
from depguard.report import Report


class JsonFormatter(Formatter):
    name = "json"

    def render(self, report: Report) -> str:
        return json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n"
