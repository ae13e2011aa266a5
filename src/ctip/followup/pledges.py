"""The Trust Fund pledge ledger's indicators (para 18(a); FOLLOW-UP-AND-EXCHANGE.md A5).

Pledges and payments are entered by hand with a source document. Amounts are kept in minor units
(cents) in their own currency; nothing is converted, so totals are per currency. The ledger is a
plain table, not a scoring input, unless a country adopts a target.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

DONOR_TYPES = ("member_state", "private", "individual", "other")
FUNDS = ("UNVTF",)  # extensible: national victim funds


@dataclass(frozen=True)
class Pledge:
    pledge_id: str
    donor: str
    donor_type: str
    fund: str
    pledged_on: str  # ISO date
    currency: str
    amount_pledged: int  # minor units
    amount_paid: int
    paid_on: str = ""
    source_doc: str = ""


def indicators(pledges: Iterable[Pledge], *, donor: str | None = None, period_start: str = "",
               period_end: str = "9999-12-31") -> dict[str, Any]:
    """UNVTF-PLEDGED (y/n, amount), UNVTF-PAID (% of pledged), and the donor-type shares."""
    rows = [p for p in pledges if donor is None or p.donor == donor]
    in_cycle = [p for p in rows if period_start <= p.pledged_on <= period_end]
    by_currency: dict[str, dict[str, int]] = {}
    for p in rows:
        sums = by_currency.setdefault(p.currency, {"pledged": 0, "paid": 0})
        sums["pledged"] += p.amount_pledged
        sums["paid"] += p.amount_paid
    types: dict[str, int] = {}
    for p in in_cycle:
        types[p.donor_type] = types.get(p.donor_type, 0) + 1
    return {
        "pledged_in_cycle": bool(in_cycle),
        "pledges_in_cycle": len(in_cycle),
        "totals": {c: {"pledged": s["pledged"] / 100, "paid": s["paid"] / 100,
                       "paid_share": s["paid"] / s["pledged"] if s["pledged"] else None}
                   for c, s in sorted(by_currency.items())},
        "donor_type_share": {t: n / len(in_cycle) for t, n in sorted(types.items())}
        if in_cycle else {},
    }
