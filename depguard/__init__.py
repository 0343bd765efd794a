"""depguard: a supply-chain dependency auditor for Python and npm projects."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
