"""Per-case workflow facts for the follow-up's outcome indicators: dates and yes/no flags only.

One row per NRM case with when its signal was recorded and which workflow steps it reached (from
``case_events``). No case id, no identity column, no sealed column, no free text is selected:
the rows say what happened, never to whom. The outcome service counts them; nothing else reads
them.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ctip.storage.casework import case_events, cases

RG_DECISIONS = ("rg_positive", "rg_negative")
ENTITLED = ("presumed_victim",)


def _reached(region: str, states: tuple[str, ...]) -> sa.ColumnElement[Any]:
    e = case_events.c
    return sa.func.max(sa.case((sa.and_(e.region == region, e.to_state.in_(states)), 1),
                               else_=0))


def case_outcome_rows(conn: sa.Connection) -> list[dict[str, Any]]:
    """signal_at, rg_decision_at, entitled, assisted, np_flagged, np_decided, comp_claimed,
    comp_awarded for every case (no identifiers)."""
    e, c = case_events.c, cases.c
    rg_at = sa.func.min(sa.case((sa.and_(e.region == "main", e.to_state.in_(RG_DECISIONS)),
                                 e.at), else_=None))
    query = (
        sa.select(
            c.created_at.label("signal_at"),
            rg_at.label("rg_decision_at"),
            _reached("main", ENTITLED).label("entitled"),
            _reached("assistance", ("active",)).label("assisted"),
            _reached("non_punishment", ("offence_flagged",)).label("np_flagged"),
            _reached("non_punishment", ("prosecutor_decision",)).label("np_decided"),
            _reached("justice", ("compensation_claimed",)).label("comp_claimed"),
            _reached("justice", ("compensation_awarded",)).label("comp_awarded"),
        )
        .select_from(cases.outerjoin(case_events, case_events.c.case_id == cases.c.case_id))
        .group_by(c.case_id, c.created_at)
        .order_by(c.created_at)
    )
    return [dict(r._mapping) for r in conn.execute(query)]
