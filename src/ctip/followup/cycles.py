"""Cycles as immutable snapshots, recomputation, change reports and crosswalk-gated comparison.

A snapshot is two canonical JSON texts: the *inputs* (framework and rules by id, version and
SHA-256; the cycle; every evidence item as recorded; the weights) and the *result* (the scored
assessment with its explanation). ``inputs_sha256`` names the inputs; recomputing the result from
the stored inputs must give the same bytes (``recompute``), or the snapshot is not trustworthy.
Nothing here reads a clock: the time of computation is stored beside the snapshot, not in it.

Comparing two snapshots is allowed within one framework version. Across versions only through
a declared ``Crosswalk`` (old code -> new code, comparable yes/no); without one the comparison is
refused with ``NotComparableError``: indices that rank a country across editions whose methods
changed mislead their readers, and this module will not.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ctip.errors import NotComparableError, Phrase, ValidationError
from ctip.followup.model import (
    MET,
    NO_EVIDENCE,
    PARTLY,
    Evidence,
    Framework,
    RuleSet,
    canonical_json,
    sha256_of,
)
from ctip.followup.rules import observations
from ctip.followup.scoring import Weights, score

ORDER = {"not_met": 0, PARTLY: 1, MET: 2}
IMPROVED, REGRESSED, UNCHANGED = "improved", "regressed", "unchanged"
NEWLY, NO_LONGER = "newly evidenced", "no longer evidenced"


@dataclass(frozen=True)
class CycleInfo:
    cycle_id: str
    country: str
    period_start: str
    period_end: str
    kind: str = "quadrennial"


def inputs(framework: Framework, rules: RuleSet, cycle: CycleInfo,
           evidence: Sequence[Evidence], weights: Weights | None = None) -> dict[str, Any]:
    return {
        "framework": {"id": framework.id, "version": framework.version,
                      "sha256": framework.sha256},
        "rules": {"id": rules.id, "version": rules.version, "sha256": rules.sha256},
        "cycle": {"cycle_id": cycle.cycle_id, "country": cycle.country,
                  "period_start": cycle.period_start, "period_end": cycle.period_end,
                  "kind": cycle.kind},
        "evidence": sorted((e.as_data() for e in evidence), key=lambda e: e["evidence_id"]),
        "weights": None if weights is None else {"name": weights.name,
                                                 "weights": dict(sorted(weights.weights.items()))},
    }


_PART = {"framework": Phrase("framework"), "rules": Phrase("rules")}  # named in messages


def assess(framework: Framework, rules: RuleSet, data: Mapping[str, Any]) -> dict[str, Any]:
    """The assessment of a snapshot's inputs (pure: the same inputs give the same result)."""
    for part, have in (("framework", framework), ("rules", rules)):
        stored = data[part]
        if (stored["id"], stored["version"], stored["sha256"]) != (have.id, have.version,
                                                                   have.sha256):
            raise ValidationError(
                "the snapshot was made with {part} {id} v{version} ({sha256}), not {have_id} "
                "v{have_version} ({have_sha256})",
                hint="recompute it with the {part} version it names",
                params={"part": _PART[part], "id": stored["id"], "version": stored["version"],
                        "sha256": stored["sha256"][:12], "have_id": have.id,
                        "have_version": have.version, "have_sha256": have.sha256[:12]})
    cycle = data["cycle"]
    items = [Evidence(**e) for e in data["evidence"]]
    obs = observations(framework.indicators.values(), rules, items, cycle["period_start"])
    w = data.get("weights")
    weights = Weights(w["name"], w["weights"]) if w else None
    result = score(framework, rules, obs, country=cycle["country"], weights=weights, explain=True)
    result["cycle"] = dict(cycle)
    result["inputs_sha256"] = sha256_of(data)
    return result


@dataclass(frozen=True)
class Snapshot:
    inputs_json: str
    result_json: str
    inputs_sha256: str
    result_sha256: str


def snapshot(framework: Framework, rules: RuleSet, data: Mapping[str, Any]) -> Snapshot:
    result = assess(framework, rules, data)
    return Snapshot(canonical_json(data), canonical_json(result), sha256_of(data),
                    sha256_of(result))


def recompute(framework: Framework, rules: RuleSet, inputs_json: str) -> str:
    """The result bytes recomputed from stored inputs (compare with the stored result)."""
    import json

    return canonical_json(assess(framework, rules, json.loads(inputs_json)))


@dataclass(frozen=True)
class Crosswalk:
    """Declared correspondence between two framework versions."""

    from_key: str  # "declaration-2025 v1"
    to_key: str
    entries: Mapping[str, tuple[str, bool]] = field(default_factory=dict)  # old -> (new, ok)


def _key(result: Mapping[str, Any]) -> str:
    return f"{result['framework']['id']} v{result['framework']['version']}"


def _direction(old: str, new: str, harm: bool) -> str:
    if old == NO_EVIDENCE and new == NO_EVIDENCE:
        return UNCHANGED
    if old == NO_EVIDENCE:
        return NEWLY
    if new == NO_EVIDENCE:
        return NO_LONGER
    delta = ORDER[new] - ORDER[old]
    if harm:
        delta = -delta
    return IMPROVED if delta > 0 else REGRESSED if delta < 0 else UNCHANGED


def change_report(old: Mapping[str, Any], new: Mapping[str, Any], *,
                  harm_codes: frozenset[str] = frozenset(),
                  crosswalk: Crosswalk | None = None) -> dict[str, Any]:
    """One line per indicator: improved / regressed / unchanged / newly or no longer evidenced,
    with the evidence on each side. Different framework versions need ``crosswalk``."""
    old_key, new_key = _key(old), _key(new)
    mapping: dict[str, tuple[str, bool]]
    if old_key == new_key:
        mapping = {code: (code, True) for code in old["indicators"]}
    elif crosswalk is None or (crosswalk.from_key, crosswalk.to_key) != (old_key, new_key):
        raise NotComparableError(
            "the assessments use different frameworks ({old} and {new}) and no "
            "crosswalk between them is declared: their scores are not comparable",
            hint="declare one with `ctip followup crosswalk add --from '{old}' --to "
            "'{new}' FILE` (old code, new code, comparable yes/no), or compare cycles of "
            "one framework version", params={"old": old_key, "new": new_key})
    else:
        mapping = dict(crosswalk.entries)
    lines, not_comparable = [], []
    for code in sorted(old["indicators"]):
        if code not in mapping:
            not_comparable.append({"indicator": code, "reason": "not in the crosswalk"})
            continue
        target, comparable = mapping[code]
        before, after = old["indicators"][code], new["indicators"].get(target)
        if after is None or not comparable:
            not_comparable.append({"indicator": code, "to": target,
                                   "reason": "declared not comparable" if after is not None
                                   else "not in the new framework"})
            continue
        change = _direction(before["status"], after["status"], code in harm_codes)
        lines.append({"indicator": code, "to": target, "before": before["status"],
                      "after": after["status"], "change": change,
                      "evidence_before": before["evidence"][:1],
                      "evidence_after": after["evidence"][:1],
                      "evidence_changed": before["evidence"][:1] != after["evidence"][:1]})
    counts: dict[str, int] = {}
    for line in lines:
        counts[line["change"]] = counts.get(line["change"], 0) + 1
    return {"from": {"framework": old_key, "cycle": old.get("cycle"),
                     "overall_pct": old["overall"]["pct"]},
            "to": {"framework": new_key, "cycle": new.get("cycle"),
                   "overall_pct": new["overall"]["pct"]},
            "rules_changed": old["rules"] != new["rules"],
            "counts": dict(sorted(counts.items())), "lines": lines,
            "not_comparable": not_comparable}
