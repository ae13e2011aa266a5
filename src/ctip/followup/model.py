"""The shapes of follow-up and review (FOLLOW-UP-AND-EXCHANGE.md A7): frameworks, rules, evidence.

A *framework* is a versioned tree: pillars hold units (a commitment of the Declaration, an
activity of the GSI), each unit holds positive indicators and harm indicators. A *rule set*
says how an indicator's recorded value becomes met / partly met / not met, and carries declared
recodes. Both are data with a SHA-256, stored with every assessment, so a score can always be
traced to exactly the catalogue and rules that made it.

Status words (``Status``): ``met``, ``partly``, ``not_met`` for positive indicators; for a harm
indicator ``met`` means the harm is present. ``no_evidence`` is never read as ``not_met``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

MET, PARTLY, NOT_MET, NO_EVIDENCE = "met", "partly", "not_met", "no_evidence"
STATUSES = (MET, PARTLY, NOT_MET, NO_EVIDENCE)
SOURCE_GRADES = ("A", "B", "C", "X")  # reliability of the source (X: cannot be judged)
INFO_GRADES = ("1", "2", "3", "4")  # credibility of the information itself
SCORE, TRACK = "score", "track"


def canonical_json(data: Any) -> str:
    """One text for one value: sorted keys, no spaces, UTF-8 kept (hashes and snapshots)."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256_of(data: Any) -> str:
    return hashlib.sha256(canonical_json(data).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Indicator:
    code: str
    definition: str
    unit: str = "y/n"
    harm: bool = False
    crosswalk: tuple[str, ...] = ()


@dataclass(frozen=True)
class Unit:
    """A rated item: a commitment (Declaration) or an activity (GSI)."""

    id: str
    title: str
    pillar: str
    scoring: str = SCORE  # 'track': computed and shown, not rated
    positive: tuple[str, ...] = ()
    harm: tuple[str, ...] = ()
    max_points: int = 2

    @property
    def harm_only(self) -> bool:
        return not self.positive and bool(self.harm)

    @property
    def indicators(self) -> tuple[str, ...]:
        return self.positive + self.harm


@dataclass(frozen=True)
class Framework:
    id: str
    name: str
    version: str
    pillars: tuple[tuple[str, str], ...]  # (id, name), in reporting order
    units: tuple[Unit, ...]
    indicators: dict[str, Indicator] = field(hash=False)
    detail: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @property
    def key(self) -> str:
        return f"{self.id} v{self.version}"

    def as_data(self) -> dict[str, Any]:
        return {
            "id": self.id, "name": self.name, "version": self.version,
            "pillars": [list(p) for p in self.pillars],
            "units": [{"id": u.id, "title": u.title, "pillar": u.pillar, "scoring": u.scoring,
                       "positive": list(u.positive), "harm": list(u.harm),
                       "max_points": u.max_points} for u in self.units],
            "indicators": {c: {"definition": i.definition, "unit": i.unit, "harm": i.harm,
                               "crosswalk": list(i.crosswalk)}
                           for c, i in sorted(self.indicators.items())},
        }

    @cached_property
    def sha256(self) -> str:
        # computed once per (immutable) framework: scoring 176 countries hashed it 176 times
        return sha256_of(self.as_data())

    def unit(self, unit_id: str) -> Unit:
        for unit in self.units:
            if unit.id == unit_id:
                return unit
        raise LookupError(unit_id)


@dataclass(frozen=True)
class Recode:
    """A declared exception to the roll-up for named countries (e.g. GSI note 3).

    For the listed units: ``max_points`` replaces the unit's maximum, and a rating equal to
    ``show_as_achieved_at`` is displayed as 2 (achieved) while its points stay as computed."""

    name: str
    countries: tuple[str, ...]
    units: tuple[str, ...]
    max_points: int
    show_as_achieved_at: int | None
    note: str


@dataclass(frozen=True)
class RuleSet:
    id: str
    version: str
    data: dict[str, Any] = field(hash=False)
    recodes: tuple[Recode, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.id} v{self.version}"

    @cached_property
    def sha256(self) -> str:
        return sha256_of({"data": self.data, "recodes": [r.__dict__ for r in self.recodes]})

    def rule_for(self, indicator: Indicator) -> dict[str, Any]:
        """The value rule of one indicator: its own entry, else the default for its unit."""
        own = self.data.get("harm_indicators" if indicator.harm else "indicators", {})
        if indicator.code in own:
            return dict(own[indicator.code])
        defaults = self.data.get("harm_defaults" if indicator.harm else "defaults", {})
        unit = indicator.unit.split(",")[0].strip()
        return dict(defaults.get(indicator.unit) or defaults.get(unit) or {"kind": "reported"})


@dataclass(frozen=True)
class Evidence:
    """One piece of evidence for one indicator in one cycle (never a victim's identity)."""

    evidence_id: str
    indicator: str
    value: str
    unit: str = ""
    as_of: str = ""  # ISO date
    source: str = "A"  # A/B/C/X
    credibility: str = "2"  # 1-4
    citation: str = ""
    status: str = "accepted"

    @property
    def grade(self) -> str:
        return f"{self.source}{self.credibility}"

    def as_data(self) -> dict[str, str]:
        return {"evidence_id": self.evidence_id, "indicator": self.indicator,
                "value": self.value, "unit": self.unit, "as_of": self.as_of,
                "source": self.source, "credibility": self.credibility,
                "citation": self.citation, "status": self.status}


@dataclass(frozen=True)
class Observation:
    """An indicator's status as the scoring reads it, with what it rests on."""

    status: str
    value: str = ""
    evidence: tuple[str, ...] = ()  # ids, the one used first
    grade: str = ""
    stale: bool = False
    reason: str = ""
