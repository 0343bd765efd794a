"""The Formatter interface: a Report in, text out (formatters never print or open files)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from depguard.report import Report

__all__ = ["Formatter"]


class Formatter(ABC):
    name: ClassVar[str]

    def __init__(self, color: bool = False) -> None:
        self.color = color

    @abstractmethod
    def render(self, report: Report) -> str:
        """The whole document for `report`."""
