"""Scoring: one pure function from a framework, a rule set and indicator statuses to an assessment.

The rule set is Walk Free's GSI 2023 roll-up (FOLLOW-UP-AND-EXCHANGE.md A3, A7), applied to
every unit (a commitment, or a GSI activity):

1. a unit is **2** when every positive indicator is met and no harm indicator is met;
2. **1** when some are met or partly met, or all are met but a harm indicator is met (harm has
   veto weight: it caps the unit at 1);
3. **0** when none is met;
4. a harm-only unit is **-2** when its harm is met, else 0 (its maximum is 0);
5. pillar % and overall % = sum of points / sum of maxima (2 per scored unit) x 100.

Missing evidence is never "not met": a unit with no evidence on any positive indicator has no
rating and is left out of numerator and denominator; a unit with some indicators unevidenced can
reach at most 1 (2 needs every indicator shown). The coverage and a *floor* (no evidence counted
as 0) are shown beside the score, and confidence (share of A/B-graded evidence, stale evidence)
is reported beside it, never inside it. Weights are equal; a declared weight set is scored
beside the default, never instead of it. With ``explain`` every step is written out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ctip.followup.model import (
    MET,
    NO_EVIDENCE,
    PARTLY,
    SCORE,
    Framework,
    Observation,
    Recode,
    RuleSet,
    Unit,
)

RATING_WORDS = {2: "achieved", 1: "partly achieved", 0: "not achieved",
                -2: "undermines the response", None: "no evidence"}
STATUS_WORDS = {MET: "met", PARTLY: "partly met", "not_met": "not met",
                NO_EVIDENCE: "no evidence"}
HARM_WORDS = {MET: "harm present", "not_met": "no harm found", PARTLY: "harm partly",
              NO_EVIDENCE: "no evidence"}


@dataclass(frozen=True)
class Weights:
    """A declared weight set (unit id -> weight; units not named weigh 1)."""

    name: str
    weights: Mapping[str, float]

    def of(self, unit_id: str) -> float:
        return float(self.weights.get(unit_id, 1.0))


def _pct(points: float, maximum: float) -> float | None:
    return None if maximum <= 0 else points / maximum * 100.0


def _fmt_pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}%"


def rate_unit(unit: Unit, obs: Mapping[str, Observation]) -> tuple[int | None, str]:
    """The unit's rating (None: no evidence) and the rule that gave it, in words."""
    harm = [obs[c] for c in unit.harm]
    harm_present = any(h.status == MET for h in harm)
    if unit.harm_only:
        if all(h.status == NO_EVIDENCE for h in harm):
            return None, "no evidence on its harm indicator"
        return (-2, "harm met -> -2") if harm_present else (0, "harm not met -> 0")
    positive = [obs[c] for c in unit.positive]
    evidenced = [p for p in positive if p.status != NO_EVIDENCE]
    if not evidenced:
        return None, "no evidence on any positive indicator"
    met = sum(1 for p in positive if p.status == MET)
    some = sum(1 for p in positive if p.status in (MET, PARTLY))
    if met == len(positive):
        if harm_present:
            return 1, "all positive met, but a harm indicator is met -> capped at 1"
        return 2, "all positive met, no harm met -> 2"
    missing = len(positive) - len(evidenced)
    gap = f" ({missing} without evidence: 2 needs every indicator shown)" if missing else ""
    if some:
        return 1, f"{some} of {len(positive)} met or partly met -> 1{gap}"
    return 0, f"none of {len(positive)} met -> 0{gap}"


def _recode_for(rules: RuleSet, country: str, unit_id: str) -> Recode | None:
    for recode in rules.recodes:
        if country in recode.countries and unit_id in recode.units:
            return recode
    return None


def _indicator_text(code: str, o: Observation, harm: bool) -> str:
    words = (HARM_WORDS if harm else STATUS_WORDS)[o.status]
    if o.status == NO_EVIDENCE:
        return f"{code} {words}" + (f" ({o.reason})" if o.reason != "no evidence" else "")
    cited = ", ".join(o.evidence[:1]) + (f" +{len(o.evidence) - 1}" if len(o.evidence) > 1 else "")
    grade = f" {o.grade}" if o.grade else ""
    stale = " STALE" if o.stale else ""
    value = f"={o.value}" if o.value else ""
    source = f" [{cited}{grade}{stale}]" if cited else ""
    return f"{code}{value} {words}{source}"


def score(framework: Framework, rules: RuleSet, obs: Mapping[str, Observation], *,
          country: str = "", weights: Weights | None = None,
          explain: bool = False) -> dict[str, Any]:
    """The assessment as plain data (canonical-JSON ready); ``steps`` only with ``explain``."""
    steps: list[str] = []
    units: list[dict[str, Any]] = []
    pillar_sums: dict[str, list[float]] = {p: [0.0, 0.0, 0.0, 0, 0, 0.0, 0.0] for p, _ in
                                           framework.pillars}
    for unit in framework.units:
        rating, why = rate_unit(unit, obs)
        recode = _recode_for(rules, country, unit.id)
        maximum = 0 if unit.harm_only else (recode.max_points if recode else unit.max_points)
        shown = rating
        if recode and rating is not None and rating == recode.show_as_achieved_at:
            shown = 2
        scored = unit.scoring == SCORE
        counted = scored and rating is not None
        points = float(rating) if counted and rating is not None else 0.0
        w = weights.of(unit.id) if weights else 1.0
        sums = pillar_sums[unit.pillar]
        if scored:
            sums[3] += 1  # scored units
            sums[2] += maximum  # floor maximum: no evidence counted as 0 of its maximum
        if counted:
            sums[0] += points
            sums[1] += maximum
            sums[4] += 1
            sums[5] += w * points
            sums[6] += w * maximum
        evidenced = sum(1 for c in unit.indicators if obs[c].status != NO_EVIDENCE)
        units.append({"id": unit.id, "pillar": unit.pillar, "scoring": unit.scoring,
                      "rating": rating if scored else None, "shown_as": shown if scored else None,
                      "points": points if counted else None, "max": maximum if scored else None,
                      "evidenced": evidenced, "indicators": len(unit.indicators),
                      "recode": recode.name if recode else None,
                      "rule": why if scored else f"tracked, not rated ({why})"})
        if explain:
            parts = [_indicator_text(c, obs[c], False) for c in unit.positive]
            parts += [_indicator_text(c, obs[c], True) for c in unit.harm]
            if not scored:
                verdict = "tracked, not rated"
            else:
                verdict = f"{why}: {RATING_WORDS[rating]}"
                if recode:
                    verdict += (f"; recode {recode.name!r}: shown as {shown}, counts "
                                f"{points:g} of {maximum}")
                else:
                    verdict += f"; counts {points:g} of {maximum}" if counted else \
                        f"; left out (0 of {maximum} in the floor)"
            steps.append(f"{unit.id} {unit.title}: {'; '.join(parts)} => {verdict}")
    pillars, total = [], [0.0, 0.0, 0.0, 0, 0, 0.0, 0.0]
    for pillar_id, name in framework.pillars:
        s = pillar_sums[pillar_id]
        total = [a + b for a, b in zip(total, s, strict=True)]
        pillars.append({"id": pillar_id, "name": name, "points": s[0], "max": s[1],
                        "pct": _pct(s[0], s[1]), "pct_floor": _pct(s[0], s[2]),
                        "assessed": int(s[4]), "scored": int(s[3]),
                        "weighted_pct": _pct(s[5], s[6]) if weights else None})
        if explain and s[3]:
            steps.append(f"pillar {pillar_id} ({name}): {s[0]:g} of {s[1]:g} points -> "
                         f"{_fmt_pct(_pct(s[0], s[1]))}; {int(s[4])} of {int(s[3])} scored units "
                         f"assessed; floor {_fmt_pct(_pct(s[0], s[2]))}")
    overall = {"points": total[0], "max": total[1], "pct": _pct(total[0], total[1]),
               "pct_floor": _pct(total[0], total[2]), "assessed": int(total[4]),
               "scored": int(total[3]),
               "weighted_pct": _pct(total[5], total[6]) if weights else None}
    if explain:
        steps.append(f"overall: {total[0]:g} of {total[1]:g} points -> "
                     f"{_fmt_pct(overall['pct'])} (equal weights); floor "
                     f"{_fmt_pct(overall['pct_floor'])}")
        if weights:
            steps.append(f"weights {weights.name!r} (declared): "
                         f"{_fmt_pct(overall['weighted_pct'])} beside the equal-weight score")
    result: dict[str, Any] = {
        "framework": {"id": framework.id, "version": framework.version,
                      "sha256": framework.sha256},
        "rules": {"id": rules.id, "version": rules.version, "sha256": rules.sha256},
        "country": country,
        "indicators": {code: {"status": o.status, "value": o.value, "evidence": list(o.evidence),
                              "grade": o.grade, "stale": o.stale, "rule": o.reason}
                       for code, o in sorted(obs.items())},
        "units": units, "pillars": pillars, "overall": overall,
        "confidence": confidence(framework, obs),
        "weights": {"name": weights.name, "weights": dict(sorted(weights.weights.items()))}
        if weights else {"name": "equal", "weights": {}},
    }
    if explain:
        c = result["confidence"]
        steps.append(f"confidence (beside the score, not in it): {c['evidenced']} of "
                     f"{c['indicators']} indicators evidenced, {c['graded_ab']} on A/B-graded "
                     f"sources, {c['stale']} stale, {c['no_evidence']} with no evidence")
        result["steps"] = steps
    return result


def confidence(framework: Framework, obs: Mapping[str, Observation]) -> dict[str, Any]:
    """Over the distinct indicators of scored units."""
    codes = sorted({c for u in framework.units if u.scoring == SCORE for c in u.indicators})
    evidenced = [obs[c] for c in codes if obs[c].status != NO_EVIDENCE]
    ab = sum(1 for o in evidenced if o.grade[:1] in ("A", "B"))
    stale = sum(1 for o in evidenced if o.stale)
    n = len(codes)
    return {"indicators": n, "evidenced": len(evidenced), "no_evidence": n - len(evidenced),
            "graded_ab": ab, "stale": stale,
            "share_ab": ab / n if n else None, "share_stale": stale / len(evidenced)
            if evidenced else None}
