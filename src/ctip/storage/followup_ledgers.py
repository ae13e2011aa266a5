"""The ratification tracker's treaty status and the Trust Fund pledge ledger, at rest.

Both are public facts entered or loaded with their source; neither holds anything about a
victim. Loading a source replaces that source's rows for the treaty (a reload is idempotent).
Created by migration ``1101_followup`` with the other follow-up tables.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ctip.storage.tables import metadata

TS = sa.DateTime(timezone=True)

followup_treaty_status = sa.Table(
    "followup_treaty_status",
    metadata,
    sa.Column("treaty", sa.String(40), primary_key=True),
    sa.Column("state", sa.String(3), primary_key=True),
    sa.Column("source", sa.String(200), primary_key=True),
    sa.Column("party", sa.Boolean, nullable=False),
    sa.Column("signature_date", sa.String(10), nullable=False),
    sa.Column("consent_date", sa.String(10), nullable=False),
    sa.Column("consent_type", sa.String(2), nullable=False),
    sa.Column("reservations", sa.Text, nullable=False),
    sa.Column("as_of", sa.String(10), nullable=False),
    sa.Column("loaded_by", sa.String(200), nullable=False),
    sa.Column("loaded_at", TS, nullable=False),
)

followup_pledges = sa.Table(
    "followup_pledges",
    metadata,
    sa.Column("pledge_id", sa.String(36), primary_key=True),
    sa.Column("donor", sa.String(200), nullable=False, index=True),
    sa.Column("donor_type", sa.String(20), nullable=False),
    sa.Column("fund", sa.String(40), nullable=False),
    sa.Column("pledged_on", sa.String(10), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("amount_pledged", sa.BigInteger, nullable=False),  # minor units
    sa.Column("amount_paid", sa.BigInteger, nullable=False),
    sa.Column("paid_on", sa.String(10), nullable=False),
    sa.Column("source_doc", sa.Text, nullable=False),
    sa.Column("entered_by", sa.String(200), nullable=False),
    sa.Column("entered_at", TS, nullable=False),
)


def replace_treaty_rows(conn: sa.Connection, rows: Iterable[dict[str, Any]], *, source: str,
                        treaties: Iterable[str], by: str, at: datetime) -> int:
    conn.execute(followup_treaty_status.delete().where(
        followup_treaty_status.c.source == source,
        followup_treaty_status.c.treaty.in_(list(treaties))))
    batch = [{**r, "source": source, "loaded_by": by, "loaded_at": at} for r in rows]
    for start in range(0, len(batch), 500):
        conn.execute(followup_treaty_status.insert(), batch[start:start + 500])
    return len(batch)


def treaty_rows(conn: sa.Connection, treaty: str | None = None,
                source: str | None = None) -> list[dict[str, Any]]:
    query = sa.select(followup_treaty_status).order_by(followup_treaty_status.c.treaty,
                                                       followup_treaty_status.c.state,
                                                       followup_treaty_status.c.source)
    if treaty:
        query = query.where(followup_treaty_status.c.treaty == treaty)
    if source:
        query = query.where(followup_treaty_status.c.source == source)
    return [dict(r._mapping) for r in conn.execute(query)]


def add_pledge(conn: sa.Connection, **values: Any) -> str:
    pledge_id = str(uuid.uuid4())
    conn.execute(followup_pledges.insert().values(pledge_id=pledge_id, **values))
    return pledge_id


def record_payment(conn: sa.Connection, pledge_id: str, amount: int, paid_on: str) -> bool:
    done = conn.execute(followup_pledges.update()
                        .where(followup_pledges.c.pledge_id == pledge_id)
                        .values(amount_paid=followup_pledges.c.amount_paid + amount,
                                paid_on=paid_on))
    return bool(done.rowcount)


def pledges(conn: sa.Connection, donor: str | None = None) -> list[dict[str, Any]]:
    query = sa.select(followup_pledges).order_by(followup_pledges.c.pledged_on,
                                                 followup_pledges.c.pledge_id)
    if donor:
        query = query.where(followup_pledges.c.donor == donor)
    return [dict(r._mapping) for r in conn.execute(query)]
