"""What a method hands back to ``estimate`` before the common checks turn it into a result."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Outcome:
    point: float
    low: float
    high: float
    how: str  # how the interval was computed, in words
    terms: list[str]  # the model it speaks for, "A:B" names
    details: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    refused: str = ""  # non-empty: not estimable, and why


def pct(level: float) -> str:
    return f"{round(level * 100)}%"
