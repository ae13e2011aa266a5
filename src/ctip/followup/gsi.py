"""The Walk Free GSI 2023 government-response framework, as a ctip framework, and its reproduction.

Rows come from the long-form files of ``shared/data/gsi-2023-govt-response`` (read by the
service; this module does no I/O). Milestones are pillars, activities are units; an indicator
flagged negative is a harm indicator, and an activity with only negative indicators is harm-only
(-2 when met, maximum 0). So the roll-up is exactly ``scoring.score``.

Kosovo and Taiwan (the workbook's note 3: "unable to ratify conventions"): the published file
shows their partly achieved criminalisation activities 2.1.1-2.1.4 as 2, while its totals count
the points as computed out of 22 (milestone 2) and 74 (total), i.e. each of those four
activities has a maximum of 1. ``GSI_NOTE_3`` declares exactly that. The note also names
``exp_children`` (2.1.5), but the published ratings do not recode it (Taiwan's 2.1.5 stays 1),
so the declared recode follows the published numbers and says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ctip.followup.model import (
    MET,
    NOT_MET,
    Framework,
    Indicator,
    Observation,
    Recode,
    RuleSet,
    Unit,
)
from ctip.followup.scoring import score

FRAMEWORK_ID, FRAMEWORK_VERSION = "walkfree-gsi-govt-response", "2023"
GSI_NOTE_3 = Recode(
    name="gsi-2023-note-3",
    countries=("Kosovo", "Taiwan"),
    units=("2.1.1", "2.1.2", "2.1.3", "2.1.4"),
    max_points=1,
    show_as_achieved_at=1,
    note="Kosovo and Taiwan cannot ratify conventions: criminalisation activities 2.1.1-2.1.4 "
    "count out of 1 (shown as 2 when partly achieved); milestone 2 is out of 22 and the total out "
    "of 74. The workbook's note also names exp_children (2.1.5); its published ratings do not "
    "recode it, and neither does this rule.",
)
TOLERANCE = 1e-3  # percentage points; the workbook stores float32 percentages


def framework(rows: Iterable[Mapping[str, str]]) -> Framework:
    """From the framework file's rows (indicator_code, milestone, milestone_name, activity,
    activity_name, indicator_name, negative, criteria)."""
    pillars: dict[str, str] = {}
    units: dict[str, dict[str, Any]] = {}
    indicators: dict[str, Indicator] = {}
    criteria: dict[str, str] = {}
    for row in rows:
        milestone = f"M{row['milestone']}"
        pillars.setdefault(milestone, row["milestone_name"])
        unit_id = f"{row['milestone']}.{row['activity']}"
        unit = units.setdefault(unit_id, {"title": row["activity_name"], "pillar": milestone,
                                          "positive": [], "harm": []})
        harm = str(row["negative"]) == "1"
        code = row["indicator_code"]
        unit["harm" if harm else "positive"].append(code)
        indicators[code] = Indicator(code=code, definition=row["indicator_name"], unit="y/n",
                                     harm=harm, crosswalk=(f"GSI {code}{'NEG' if harm else ''}",))
        criteria[code] = row.get("criteria", "")
    return Framework(
        id=FRAMEWORK_ID, name="Walk Free Global Slavery Index 2023: government response",
        version=FRAMEWORK_VERSION, pillars=tuple(pillars.items()),
        units=tuple(Unit(id=k, title=v["title"], pillar=v["pillar"], positive=tuple(v["positive"]),
                         harm=tuple(v["harm"])) for k, v in units.items()),
        indicators=indicators, detail={"criteria": criteria})


def rules(recode: bool = True) -> RuleSet:
    return RuleSet(id="gsi-2023-published", version="1",
                   data={"defaults": {"y/n": {"kind": "binary"}},
                         "harm_defaults": {"y/n": {"kind": "binary"}},
                         "ratings": "1 met, 0 not met, -1 negative indicator met"},
                   recodes=(GSI_NOTE_3,) if recode else ())


def observations(ratings: Mapping[str, int]) -> dict[str, Observation]:
    """Indicator code -> observation from the published ratings (1 met, -1 negative met)."""
    return {code: Observation(MET if value in (1, -1) else NOT_MET, value=str(value),
                              reason="published rating")
            for code, value in ratings.items()}


def ratings_by_country(rows: Iterable[Mapping[str, str]]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for row in rows:
        out.setdefault(row["country"], {})[row["indicator_code"]] = int(row["rating"])
    return out


def score_all(fw: Framework, rule_set: RuleSet, ratings: Mapping[str, Mapping[str, int]], *,
              explain: bool = False) -> dict[str, dict[str, Any]]:
    return {country: score(fw, rule_set, observations(values), country=country, explain=explain)
            for country, values in sorted(ratings.items())}


@dataclass
class Reproduction:
    activities_matched: int = 0
    activities: int = 0
    totals_matched: int = 0
    milestones_matched: int = 0
    countries: int = 0
    activity_mismatches: list[tuple[str, str, int | None, int]] = field(default_factory=list)
    total_mismatches: list[tuple[str, float | None, float]] = field(default_factory=list)

    @property
    def mismatched_countries(self) -> list[str]:
        return sorted({m[0] for m in self.activity_mismatches} |
                      {m[0] for m in self.total_mismatches})

    def as_dict(self) -> dict[str, Any]:
        return {"activities_matched": self.activities_matched, "activities": self.activities,
                "totals_matched": self.totals_matched, "milestones_matched":
                self.milestones_matched, "countries": self.countries,
                "mismatched_countries": self.mismatched_countries,
                "activity_mismatches": [list(m) for m in self.activity_mismatches],
                "total_mismatches": [list(m) for m in self.total_mismatches]}


def compare(results: Mapping[str, Mapping[str, Any]], activity_rows: Iterable[Mapping[str, str]],
            milestone_rows: Iterable[Mapping[str, str]]) -> Reproduction:
    """Our ratings and percentages against the published ones."""
    rep = Reproduction()
    ours = {(c, u["id"]): u["shown_as"] for c, r in results.items() for u in r["units"]}
    for row in activity_rows:
        key = (row["country"], f"{row['milestone']}.{row['activity']}")
        rep.activities += 1
        published = int(row["rating"])
        if ours.get(key) == published:
            rep.activities_matched += 1
        else:
            rep.activity_mismatches.append((key[0], key[1], ours.get(key), published))
    for row in milestone_rows:
        country = row["country"]
        result = results.get(country)
        rep.countries += 1
        total = result["overall"]["pct"] if result else None
        published_pct = float(row["total_pct"])
        if total is not None and abs(total - published_pct) < TOLERANCE:
            rep.totals_matched += 1
        else:
            rep.total_mismatches.append((country, total, published_pct))
        if result and all(abs((p["pct"] or 0.0) - float(row[f"m{i}_pct"])) < TOLERANCE
                          for i, p in enumerate(result["pillars"], start=1)):
            rep.milestones_matched += 1
    return rep
