"""CVSS base scores from vector strings (v3.0/v3.1 and v2) and their severity bands.

Only the base metric group is scored; temporal and environmental metrics in a
vector are ignored. CVSS v4 is not scored here: `base_score` returns None for it,
so a v4-only record without a label has an unknown severity rather than a guess.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

__all__ = ["base_score", "severity_for_score"]

_V3_WEIGHTS: dict[str, dict[str, float]] = {
    "AV": {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2},
    "AC": {"L": 0.77, "H": 0.44},
    "UI": {"N": 0.85, "R": 0.62},
    "C": {"H": 0.56, "L": 0.22, "N": 0.0},
    "I": {"H": 0.56, "L": 0.22, "N": 0.0},
    "A": {"H": 0.56, "L": 0.22, "N": 0.0},
}
_V3_PR = {"U": {"N": 0.85, "L": 0.62, "H": 0.27}, "C": {"N": 0.85, "L": 0.68, "H": 0.5}}

_V2_WEIGHTS: dict[str, dict[str, float]] = {
    "AV": {"L": 0.395, "A": 0.646, "N": 1.0},
    "AC": {"H": 0.35, "M": 0.61, "L": 0.71},
    "Au": {"M": 0.45, "S": 0.56, "N": 0.704},
    "C": {"N": 0.0, "P": 0.275, "C": 0.660},
    "I": {"N": 0.0, "P": 0.275, "C": 0.660},
    "A": {"N": 0.0, "P": 0.275, "C": 0.660},
}


def _metrics(parts: list[str]) -> dict[str, str] | None:
    metrics: dict[str, str] = {}
    for part in parts:
        key, sep, value = part.partition(":")
        if not sep or key in metrics:
            return None
        metrics[key] = value
    return metrics


def _roundup(value: float) -> float:
    """CVSS v3.1 Roundup: the smallest one-decimal number >= value, float-safe."""
    scaled = round(value * 100000)
    if scaled % 10000 == 0:
        return scaled / 100000.0
    return (math.floor(scaled / 10000) + 1) / 10.0


def _v3_score(metrics: dict[str, str]) -> float | None:
    try:
        scope = metrics["S"]
        w = {name: table[metrics[name]] for name, table in _V3_WEIGHTS.items()}
        pr = _V3_PR[scope][metrics["PR"]]
    except KeyError:
        return None
    iss = 1 - (1 - w["C"]) * (1 - w["I"]) * (1 - w["A"])
    changed = 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15
    impact = 6.42 * iss if scope == "U" else changed
    exploitability = 8.22 * w["AV"] * w["AC"] * pr * w["UI"]
    if impact <= 0:
        return 0.0
    total = impact + exploitability if scope == "U" else 1.08 * (impact + exploitability)
    return _roundup(min(total, 10.0))


def _v2_score(metrics: dict[str, str]) -> float | None:
    try:
        w = {name: table[metrics[name]] for name, table in _V2_WEIGHTS.items()}
    except KeyError:
        return None
    impact = 10.41 * (1 - (1 - w["C"]) * (1 - w["I"]) * (1 - w["A"]))
    exploitability = 20 * w["AV"] * w["AC"] * w["Au"]
    f_impact = 0.0 if impact == 0 else 1.176
    score = ((0.6 * impact) + (0.4 * exploitability) - 1.5) * f_impact
    rounded = Decimal(repr(round(score, 6))).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return float(rounded)


def base_score(vector: str) -> float | None:
    """The base score of a CVSS v3.x or v2 vector; None for v4 or an invalid vector."""
    parts = vector.strip().split("/")
    if parts[0] in ("CVSS:3.0", "CVSS:3.1"):
        metrics = _metrics(parts[1:])
        return None if metrics is None else _v3_score(metrics)
    if parts[0].startswith("CVSS:"):
        return None  # CVSS v4 (or unknown): not scored
    if parts[0].startswith("("):  # some feeds wrap v2 vectors in parentheses
        return base_score(vector.strip().strip("()"))
    metrics = _metrics(parts)
    return None if metrics is None else _v2_score(metrics)


def severity_for_score(score: float, version: int) -> str:
    """Standard bands: v3 low <4, moderate <7, high <9, critical; v2 (NVD) has no critical.

    A score of 0.0 (CVSS "None") maps to "low", the lowest depguard severity.
    """
    if score < 4.0:
        return "low"
    if score < 7.0:
        return "moderate"
    if score < 9.0 or version == 2:
        return "high"
    return "critical"
