"""Per-account scores that are the sum of named rule hits (no black box), and alerts.

An account's score is the sum of the weights (1 unless the rule file says otherwise) of the
distinct rules that fired for it; how many windows each rule fired in is kept as a figure, not
added to the score. An account whose score reaches the rule file's ``alert_score`` is alerted.
Everything here is sorted and hashed from content only, so the same input gives byte-identical
alerts.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ctip.domain.review import Reason
from ctip.finflows.detect import Hit
from ctip.finflows.rules import RuleSet

REASON_EVIDENCE_CAP = 50


@dataclass(frozen=True)
class Alert:
    alert_id: str
    account: int
    score: float
    rules: tuple[str, ...]
    hits: tuple[Hit, ...]


def _hit_key(hit: Hit) -> tuple[Any, ...]:
    return (hit.rule_id, hit.rule_version, hit.window_start.isoformat(),
            hit.window_end.isoformat())


def alert_id(account: int, hits: Iterable[Hit]) -> str:
    """Stable id from the account and what fired: the same hits give the same id, a new hit a
    new id (so a re-run adds only what is new to the review queue)."""
    text = json.dumps([account, sorted(_hit_key(h) for h in hits)], separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def score_accounts(hits: Iterable[Hit], rules: RuleSet, *,
                   alert_score: float | None = None) -> list[Alert]:
    threshold = rules.alert_score if alert_score is None else alert_score
    weights = {r.id: r.weight for r in rules.rules}
    by_account: dict[int, list[Hit]] = {}
    for hit in hits:
        by_account.setdefault(hit.account, []).append(hit)
    alerts = []
    for account, found in by_account.items():
        fired = sorted({h.rule_id for h in found})
        score = round(sum(weights.get(r, 1.0) for r in fired), 6)
        if score >= threshold:
            ordered = tuple(sorted(found, key=_hit_key))
            alerts.append(Alert(alert_id(account, ordered), account, score, tuple(fired),
                                ordered))
    return sorted(alerts, key=lambda a: (-a.score, a.account))


def rule_scores(hits: Iterable[Hit]) -> dict[int, set[str]]:
    fired: dict[int, set[str]] = {}
    for hit in hits:
        fired.setdefault(hit.account, set()).add(hit.rule_id)
    return fired


def reasons(alert: Alert, rules: RuleSet) -> tuple[Reason, ...]:
    """One reason per rule: id and version, source and mark, windows, thresholds, figures of the
    first window, evidence transaction ids. Never an account number or a name."""
    out = []
    for rule_id in alert.rules:
        rule = rules.rule(rule_id)
        found = [h for h in alert.hits if h.rule_id == rule_id]
        first = found[0]
        figures: dict[str, str | int | float] = {
            "rule_version": rule.version, "source": rule.source, "mark": rule.mark,
            "windows": len(found),
            "window": f"{first.window_start:%Y-%m-%d}/{found[-1].window_end:%Y-%m-%d}",
            "window_unit": rule.window or "pattern",
        }
        for name, value in sorted(rule.thresholds.items()):
            figures[f"threshold.{name}"] = value if isinstance(value, int | float) else str(value)
        for name, value in sorted(first.figures.items()):
            figures[f"first.{name}"] = (value if isinstance(value, int | float) and
                                        not isinstance(value, bool) else str(value))
        evidence = sorted({i for h in found for i in h.evidence})
        label = "unverified paraphrase: " if rule.unverified else ""
        out.append(Reason(code=rule_id, text=f"{label}{rule.title}",
                          figures=figures, evidence=tuple(evidence[:REASON_EVIDENCE_CAP])))
    return tuple(out)


ALERT_CSV_COLUMNS = ("alert_id", "account_ref", "score", "rule_id", "rule_version",
                     "window_start", "window_end", "figures", "evidence_count", "evidence")


def alerts_csv(alerts: Iterable[Alert]) -> str:
    """One row per hit; accounts by reference only. Deterministic (byte-identical) text."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(ALERT_CSV_COLUMNS)
    for alert in alerts:
        for hit in alert.hits:
            writer.writerow([alert.alert_id, alert.account, f"{alert.score:g}", hit.rule_id,
                             hit.rule_version, hit.window_start.isoformat(),
                             hit.window_end.isoformat(),
                             json.dumps(hit.figures, sort_keys=True, separators=(",", ":")),
                             hit.evidence_count, " ".join(hit.evidence)])
    return buffer.getvalue()
