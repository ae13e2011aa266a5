"""From recorded evidence to an indicator's status, by the rule set's declared value rules.

Rule kinds (``RuleSet.rule_for``):
- ``binary``: yes / no (also y, n, true, false, 1, 0);
- ``ordinal3``: 0 not met, 1 partly, 2 met;
- ``quantity``: a number against declared thresholds; ``direction`` higher (met when the value
  is at least ``met``, partly when at least ``partly``) or lower (at most);
- ``reported``: met when a value is recorded at all (for counts and amounts the rules give no
  threshold for; the explanation says so).
For a harm indicator, ``met`` means the harm is present.

Which evidence counts when an indicator has several items: accepted items only; the one with
the latest as-of date, then the better grade (A before B, 1 before 2), then the smaller id. The
others are listed beside it. None accepted: ``no_evidence`` (never ``not_met``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from ctip.errors import ValidationError
from ctip.followup.model import (
    INFO_GRADES,
    MET,
    NO_EVIDENCE,
    NOT_MET,
    PARTLY,
    SOURCE_GRADES,
    Evidence,
    Indicator,
    Observation,
    RuleSet,
)

YES = {"yes", "y", "true", "1", "met"}
NO = {"no", "n", "false", "0", "not met", "not_met"}
NUMBER = re.compile(r"^\s*(-?\d+(?:[.,]\d+)?)\s*%?\s*$")
COUNTED = ("accepted",)


def parse_number(text: str) -> float | None:
    match = NUMBER.match(text or "")
    return float(match.group(1).replace(",", ".")) if match else None


def check_value(indicator: Indicator, rules: RuleSet, value: str) -> None:
    """Raise a ``ValidationError`` naming the indicator when its rule cannot read ``value``."""
    rule = rules.rule_for(indicator)
    kind, text = rule.get("kind"), (value or "").strip()
    if not text:
        raise ValidationError("a value is required", column="value",
                              hint="give the value of {code} ({unit})",
                              params={"code": indicator.code, "unit": indicator.unit})
    if kind == "binary" and text.lower() not in YES | NO:
        raise ValidationError("{code} is a yes/no indicator", column="value",
                              value=value, allowed="yes, no", params={"code": indicator.code})
    if kind == "ordinal3" and text not in {"0", "1", "2"}:
        raise ValidationError("{code} is rated 0, 1 or 2", column="value",
                              value=value, allowed="0, 1, 2", params={"code": indicator.code})
    if kind == "quantity" and parse_number(text) is None:
        raise ValidationError("{code} needs a number ({unit})",
                              column="value", value=value, allowed="a number, e.g. 72 or 72.5",
                              params={"code": indicator.code, "unit": indicator.unit})


def check_grade(source: str, credibility: str) -> None:
    if source not in SOURCE_GRADES:
        raise ValidationError("source reliability must be A, B, C or X", column="reliability",
                              value=source, allowed="A (reliable) B C X (cannot be judged)")
    if credibility not in INFO_GRADES:
        raise ValidationError("information credibility must be 1 to 4", column="credibility",
                              value=credibility, allowed="1 (confirmed) 2 3 4 (doubtful)")


def _threshold_text(rule: dict[str, Any]) -> str:
    sign = ">=" if rule.get("direction", "higher") == "higher" else "<="
    parts = [f"met {sign} {rule['met']:g}"]
    if rule.get("partly") is not None:
        parts.append(f"partly {sign} {rule['partly']:g}")
    return ", ".join(parts)


def status_of(indicator: Indicator, rule: dict[str, Any], value: str) -> tuple[str, str]:
    """(status, the rule applied in words) for one recorded value."""
    kind, text = rule.get("kind", "reported"), value.strip()
    if kind == "binary":
        return (MET if text.lower() in YES else NOT_MET), "yes = met"
    if kind == "ordinal3":
        return {"2": MET, "1": PARTLY}.get(text, NOT_MET), "2 met, 1 partly, 0 not met"
    if kind == "quantity":
        number = parse_number(text)
        if number is None:
            return NOT_MET, "unreadable number"
        higher = rule.get("direction", "higher") == "higher"

        def passes(limit: float | None) -> bool:
            return limit is not None and (number >= limit if higher else number <= limit)

        status = MET if passes(rule["met"]) else PARTLY if passes(rule.get("partly")) else NOT_MET
        return status, _threshold_text(rule)
    return MET, "met when reported (the rules set no threshold)"


def _rank(item: Evidence) -> tuple[str, int, int, str]:
    # latest as_of first, then better grade, then id (a total order: same input, same choice)
    return ("" if not item.as_of else item.as_of, -"ABCX".index(item.source),
            -int(item.credibility), item.evidence_id)


def observe(indicator: Indicator, rules: RuleSet, items: Sequence[Evidence],
            period_start: str = "") -> Observation:
    """The indicator's status from its evidence items (of any status; only accepted count)."""
    counted = [e for e in items if e.status in COUNTED]
    if not counted:
        waiting = sum(1 for e in items if e.status == "submitted")
        reason = f"no accepted evidence ({waiting} waiting for review)" if waiting else \
            "no evidence"
        return Observation(NO_EVIDENCE, reason=reason)
    ordered = sorted(counted, key=_rank, reverse=True)
    used = ordered[0]
    rule = rules.rule_for(indicator)
    status, how = status_of(indicator, rule, used.value)
    stale = bool(period_start and used.as_of and used.as_of < period_start)
    return Observation(status, value=used.value, evidence=tuple(e.evidence_id for e in ordered),
                       grade=used.grade, stale=stale, reason=how)


def observations(indicators: Iterable[Indicator], rules: RuleSet, items: Iterable[Evidence],
                 period_start: str = "") -> dict[str, Observation]:
    by_code: dict[str, list[Evidence]] = {}
    for item in items:
        by_code.setdefault(item.indicator, []).append(item)
    return {i.code: observe(i, rules, by_code.get(i.code, ()), period_start) for i in indicators}
