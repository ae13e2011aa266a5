"""Screening against the ILO/EC operational indicators of trafficking (CASE-MANAGEMENT.md section
6).

Why it is shaped like this: the screen is *decision support*. It turns indicator observations into
per-dimension findings, a suggested status and the reasons for it, in words a caseworker can read
back to a supervisor. It never decides: the person screening records their own decision and
rationale (the NRM transition asks for it), and formal identification belongs to the competent
authority.

Rules (ILO/EC 2009, wording unverified against the PDF, see the design note):
- a dimension is positive with at least 2 strong; or 1 strong + 1 medium or weak; or 3 medium; or
  2 medium + 1 weak;
- adults: (DR or CR or VR) and EX and (CD or VD) -> the ILO case rule is met;
- children: the means are not required (Palermo Art. 3(c)): a positive EX suffices;
- partial patterns: EX alone = "exploited"; DR + EX without coercion = "deceived and exploited".
The NRM presumption is deliberately *lower* than the case rule: any positive dimension, or any
strong indicator observed, suggests ``presumed_victim`` so that help starts early.

Only the adult-labour (AL) and child-labour (CL) lists are encoded; the sexual-exploitation lists
must be loaded from the ILO source, never inferred, so asking for them is a clear error.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ctip.errors import ValidationError

DIMENSIONS: tuple[str, ...] = ("DR", "CR", "VR", "EX", "CD", "VD")
MEANS_AT_RECRUITMENT = ("DR", "CR", "VR")
MEANS_AT_DESTINATION = ("CD", "VD")
PROFILES: tuple[str, ...] = ("AL", "CL")
OBSERVATION_VALUES: tuple[str, ...] = ("yes", "no", "unknown", "declined")
EVIDENCE_TYPES: tuple[str, ...] = ("disclosed", "observed", "document", "third_party")

_DATA = Path(__file__).parent / "codelists" / "ilo_indicators.json"


@dataclass(frozen=True)
class Indicator:
    id: str
    dimension: str
    text: str
    phase: str
    strength: Mapping[str, str | None]  # profile -> "S" | "M" | "W" | None (not in that list)
    unverified: bool


@dataclass(frozen=True)
class DimensionFinding:
    dimension: str
    name: str
    positive: bool
    strong: tuple[str, ...]
    medium: tuple[str, ...]
    weak: tuple[str, ...]


@dataclass(frozen=True)
class ScreeningResult:
    """What the screen suggests and why. ``suggested_status`` is a suggestion only."""

    profile: str
    dimensions: tuple[DimensionFinding, ...]
    # ilo_case_rule_met | deceived_and_exploited | exploited | some_indicators | no_indicators
    classification: str
    suggested_status: str  # presumed_victim | not_indicated
    reasons: tuple[str, ...]
    indicators_yes: tuple[str, ...]
    rule_version: str

    def positive_dimensions(self) -> tuple[str, ...]:
        return tuple(d.dimension for d in self.dimensions if d.positive)


@lru_cache(maxsize=1)
def _load() -> dict:
    return json.loads(_DATA.read_text(encoding="utf-8"))


def rule_version() -> str:
    return str(_load()["version"])


def indicators(profile: str | None = None) -> tuple[Indicator, ...]:
    """All indicators, or those present in one profile's list (strength not None)."""
    if profile is not None:
        _check_profile(profile)
    out = []
    for raw in _load()["indicators"]:
        ind = Indicator(
            id=raw["id"],
            dimension=raw["dimension"],
            text=raw["text"],
            phase=raw["phase"],
            strength=dict(raw["strength_by_profile"]),
            unverified=bool(raw.get("unverified_flag")),
        )
        if profile is None or ind.strength.get(profile):
            out.append(ind)
    return tuple(out)


def dimension_name(dimension: str) -> str:
    return str(_load()["dimensions"][dimension]["name"])


def profile_for(*, is_child: bool, exploitation: str = "labour") -> str:
    """The indicator list for a person: children get the child list (minority presumed if
    unsure)."""
    if exploitation == "sexual":
        _check_profile("CS" if is_child else "AS")
    return "CL" if is_child else "AL"


def _check_profile(profile: str) -> None:
    if profile not in PROFILES:
        raise ValidationError(
            "this indicator list is not encoded",
            column="profile",
            value=profile,
            allowed=", ".join(PROFILES),
            hint="The sexual-exploitation lists (AS, CS) must be loaded from ILO WCMS_105023; "
            "screen with the labour list meanwhile and record the decision yourself.",
        )


def dimension_positive(strong: int, medium: int, weak: int) -> bool:
    """The ILO dimension rule: 2S; or 1S + 1(M or W); or 3M; or 2M + 1W."""
    return (
        strong >= 2
        or (strong >= 1 and medium + weak >= 1)
        or medium >= 3
        or (medium >= 2 and weak >= 1)
    )


def screen(observations: Mapping[str, str], profile: str) -> ScreeningResult:
    """Apply the dimension and case rules to observations {indicator_id: yes|no|unknown|declined}.

    Unknown ids and values are rejected with the allowed values named; an indicator that is not
    in the chosen profile's list is rejected too (it would silently count for nothing).
    """
    _check_profile(profile)
    by_id = {i.id: i for i in indicators(profile)}
    for key, value in observations.items():
        if key not in by_id:
            raise ValidationError(
                f"indicator is not in the {profile} list",
                column="indicator",
                value=key,
                hint="Use the ids listed by the screening form for this profile.",
            )
        if value not in OBSERVATION_VALUES:
            raise ValidationError(
                "observation value not recognised",
                column=key,
                value=value,
                allowed=", ".join(OBSERVATION_VALUES),
            )
    yes = tuple(sorted(k for k, v in observations.items() if v == "yes"))
    findings = []
    for dim in DIMENSIONS:
        hits = [by_id[k] for k in yes if by_id[k].dimension == dim]
        tiers = {t: tuple(i.id for i in hits if i.strength[profile] == t) for t in ("S", "M", "W")}
        findings.append(
            DimensionFinding(
                dimension=dim,
                name=dimension_name(dim),
                positive=dimension_positive(len(tiers["S"]), len(tiers["M"]), len(tiers["W"])),
                strong=tiers["S"],
                medium=tiers["M"],
                weak=tiers["W"],
            )
        )
    pos = {f.dimension for f in findings if f.positive}
    is_child = profile.startswith("C")
    reasons: list[str] = [
        f"{f.dimension} ({f.name}) positive: {len(f.strong)} strong, {len(f.medium)} medium, "
        f"{len(f.weak)} weak indicator(s)"
        for f in findings
        if f.positive
    ]
    if is_child and "EX" in pos:
        classification = "ilo_case_rule_met"
        reasons.append(
            "child: exploitative conditions suffice, no means is required (Palermo Art. 3(c))"
        )
    elif (
        not is_child
        and pos & set(MEANS_AT_RECRUITMENT)
        and "EX" in pos
        and pos & set(MEANS_AT_DESTINATION)
    ):
        classification = "ilo_case_rule_met"
        reasons.append(
            "adult: recruitment means, exploitation and coercion or vulnerability at "
            "destination are all positive (ILO case rule)"
        )
    elif "DR" in pos and "EX" in pos and not pos & {"CR", "CD"}:
        classification = "deceived_and_exploited"
        reasons.append("deceived and exploited without coercion: not the full case rule")
    elif pos == {"EX"}:
        classification = "exploited"
        reasons.append("exploitative conditions only: consider labour-rights services")
    elif yes:
        classification = "some_indicators"
    else:
        classification = "no_indicators"
        reasons.append("no indicator observed")
    strong_seen = [k for k in yes if by_id[k].strength[profile] == "S"]
    if pos or strong_seen:
        suggested = "presumed_victim"
        if strong_seen and not pos:
            reasons.append(f"strong indicator(s) observed: {', '.join(strong_seen)}")
        reasons.append("the NRM presumption is generous: assistance should start now")
    else:
        suggested = "not_indicated"
        if yes:
            reasons.append(f"{len(yes)} indicator(s) observed but no dimension is positive")
    reasons.append("this is a suggestion: the person screening decides and records why")
    return ScreeningResult(
        profile=profile,
        dimensions=tuple(findings),
        classification=classification,
        suggested_status=suggested,
        reasons=tuple(reasons),
        indicators_yes=yes,
        rule_version=rule_version(),
    )
