"""A draft suspicious-activity report for an accepted alert (text a compliance officer edits).

It carries the key term FinCEN asked filers to use for human trafficking (FIN-2020-A008:
"HUMAN TRAFFICKING FIN-2020-A008" in the narrative and the key-term field), the activity
window, the amounts and the rules that fired with their sources. It is a draft: the reporting
institution completes and files it under its own procedures; ctip files nothing. Field numbers
of the SAR form are given as the design notes have them (secondary sources: check the current
form before filing).
"""

from __future__ import annotations

from typing import Any

KEY_TERM = "HUMAN TRAFFICKING FIN-2020-A008"


def draft(alert: dict[str, Any], *, rules: Any, transactions: list[dict[str, Any]],
          subject: str, decided_by: str, decided_at: str) -> str:
    """Plain text. ``subject`` is how the account is named: a reference by default, the
    holder's name and number only when identities were revealed (audited) for the draft."""
    hits = alert["hits"]
    start = min(h["window_start"] for h in hits)[:10]
    end = max(h["window_end"] for h in hits)[:10]
    total_in = sum(float(t["amount"]) for t in transactions if t["direction"] == "in")
    total_out = sum(float(t["amount"]) for t in transactions if t["direction"] == "out")
    currencies = sorted({t["currency"] for t in transactions}) or ["-"]
    lines = [
        "DRAFT SUSPICIOUS ACTIVITY REPORT (not filed; prepared by ctip for review)",
        "",
        f"Key term (SAR field 2, per FIN-2020-A008): {KEY_TERM}",
        "Suspicious activity category: human trafficking (field 38(h) per secondary sources "
        "on FIN-2020-A008; check the current SAR form)",
        f"Subject: {subject}",
        f"Activity period: {start} to {end}",
        f"Evidence transactions: {len(transactions)}; credits {total_in:,.2f}, debits "
        f"{total_out:,.2f} ({', '.join(currencies)})",
        f"Alert {alert['alert_id']}, score {alert['score']:g}; accepted by {decided_by} on "
        f"{decided_at}",
        "",
        "Narrative (draft):",
        f"{KEY_TERM}. The account's transactions match the following published red-flag "
        "indicators. Each is a paraphrase (never a quotation) of its source; those marked "
        "UNVERIFIED have not been checked against the advisory text.",
    ]
    seen = set()
    for hit in hits:
        if hit["rule_id"] in seen:
            continue
        seen.add(hit["rule_id"])
        rule = rules.rule(hit["rule_id"])
        windows = [h for h in hits if h["rule_id"] == rule.id]
        flag = " [UNVERIFIED paraphrase]" if rule.unverified else ""
        lines.append(f"- {rule.id} v{rule.version}{flag}: {rule.title} (source: "
                     f"{rules.source_title(rule)}; mark {rule.mark}); in {len(windows)} "
                     f"window(s) from {windows[0]['window_start'][:10]}; thresholds "
                     + ", ".join(f"{k}={v}" for k, v in sorted(rule.thresholds.items())))
    lines += ["", "Transactions (id, date, direction, amount, currency, channel):"]
    for t in transactions:
        lines.append(f"  {t['txn_id']}  {str(t['booked_at'])[:19]}  {t['direction']:>3}  "
                     f"{float(t['amount']):>12,.2f} {t['currency']}  {t['channel']}")
    lines += ["", "Indicators are hypotheses: complete the narrative with what the institution "
              "knows of the customer before filing."]
    return "\n".join(lines) + "\n"
