"""Review queues at rest: items waiting for a person, and every decision taken on them.

An item names what is reviewed by the module's own id (``subject``) and keeps its reasons as
JSON (codes, figures, record ids: no identity). A reviewer's written reason may name people, so
it is sealed. Enqueuing is idempotent per (queue, subject): running a detector again does not
add the same item twice. Every function takes the caller's connection, so a service writes the
change and its audit entry in one transaction.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ctip.domain.review import Decision, Reason, ReviewItem
from ctip.storage.rotation import SealedColumn, register_sealed
from ctip.storage.tables import metadata

TS = sa.DateTime(timezone=True)
REVIEW_REVISION = "1301_review_queue"
CHUNK = 500

review_items = sa.Table(
    "review_items",
    metadata,
    sa.Column("item_id", sa.String(36), primary_key=True),
    sa.Column("queue", sa.String(60), nullable=False),
    sa.Column("agency", sa.String(200), nullable=False),
    sa.Column("subject", sa.String(200), nullable=False),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("reasons_json", sa.Text, nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("decision", sa.String(40), nullable=True),  # the current one; NULL = open
    sa.Column("decided_at", TS, nullable=True),
    sa.UniqueConstraint("queue", "subject", name="uq_review_items_queue_subject"),
    sa.Index("ix_review_items_queue_agency_decision", "queue", "agency", "decision"),
)

review_decisions = sa.Table(
    "review_decisions",
    metadata,
    sa.Column("decision_id", sa.String(36), primary_key=True),
    sa.Column(
        "item_id", sa.String(36), sa.ForeignKey("review_items.item_id"), nullable=False,
        index=True,
    ),
    sa.Column("decision", sa.String(40), nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("at", TS, nullable=False),
    sa.Column("reason_sealed", sa.LargeBinary, nullable=True),
    sa.Column("linked_case", sa.String(36), nullable=True),
)


def decision_reason_context(decision_id: str) -> str:
    return f"review_decisions/{decision_id}/reason"


register_sealed(
    SealedColumn(review_decisions, "decision_id", "reason_sealed", decision_reason_context)
)


def reasons_to_json(reasons: Sequence[Reason]) -> str:
    return json.dumps([asdict(r) for r in reasons], sort_keys=True, ensure_ascii=False)


def reasons_from_json(text: str) -> tuple[Reason, ...]:
    return tuple(
        Reason(code=r["code"], text=r["text"], figures=r.get("figures", {}),
               evidence=tuple(r.get("evidence", ())))
        for r in json.loads(text)
    )


def enqueue(conn: sa.Connection, queue: str, agency: str, at: datetime,
            items: Iterable[tuple[str, float, Sequence[Reason]]]) -> tuple[list[str], int]:
    """Add (subject, score, reasons) items not yet on the queue. Returns (new ids, skipped)."""
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for subject, score, reasons in items:
        if subject in seen:
            continue
        seen.add(subject)
        rows.append({"item_id": str(uuid.uuid4()), "queue": queue, "agency": agency,
                     "subject": subject, "score": float(score),
                     "reasons_json": reasons_to_json(reasons), "created_at": at})
    existing: set[str] = set()
    subjects = [r["subject"] for r in rows]
    for start in range(0, len(subjects), CHUNK):
        existing |= set(conn.execute(
            sa.select(review_items.c.subject).where(
                review_items.c.queue == queue,
                review_items.c.subject.in_(subjects[start:start + CHUNK]))
        ).scalars())
    fresh = [r for r in rows if r["subject"] not in existing]
    for start in range(0, len(fresh), CHUNK):
        conn.execute(review_items.insert(), fresh[start:start + CHUNK])
    return [r["item_id"] for r in fresh], len(rows) - len(fresh)


def _item(row: Any, decisions: tuple[Decision, ...]) -> ReviewItem:
    return ReviewItem(item_id=row.item_id, queue=row.queue, agency=row.agency,
                      subject=row.subject, score=row.score,
                      reasons=reasons_from_json(row.reasons_json), created_at=row.created_at,
                      decisions=decisions)


def item_row(conn: sa.Connection, item_id: str) -> Any:
    return conn.execute(
        sa.select(review_items).where(review_items.c.item_id == item_id)
    ).first()


def decision_rows(conn: sa.Connection, item_id: str) -> list[Any]:
    return list(conn.execute(
        sa.select(review_decisions).where(review_decisions.c.item_id == item_id)
        .order_by(review_decisions.c.at, review_decisions.c.decision_id)
    ))


def items(conn: sa.Connection, queue: str, agency: str, *, open_only: bool, limit: int,
          offset: int = 0) -> list[ReviewItem]:
    """Items of one agency's queue, highest score first (decisions not loaded)."""
    query = sa.select(review_items).where(review_items.c.queue == queue,
                                          review_items.c.agency == agency)
    if open_only:
        query = query.where(review_items.c.decision.is_(None))
    query = query.order_by(review_items.c.score.desc(), review_items.c.created_at,
                           review_items.c.item_id).limit(limit).offset(offset)
    return [_item(row, ()) for row in conn.execute(query)]


def counts(conn: sa.Connection, queue: str, agency: str) -> dict[str, int]:
    """Items by current decision ('open' for none)."""
    query = (sa.select(review_items.c.decision, sa.func.count())
             .where(review_items.c.queue == queue, review_items.c.agency == agency)
             .group_by(review_items.c.decision))
    return {(decision or "open"): n for decision, n in conn.execute(query)}


def add_decision(conn: sa.Connection, item_id: str, *, decision: str, actor: str, at: datetime,
                 reason_sealed: bytes | None, linked_case: str | None,
                 decision_id: str) -> None:
    conn.execute(review_decisions.insert().values(
        decision_id=decision_id, item_id=item_id, decision=decision, actor=actor, at=at,
        reason_sealed=reason_sealed, linked_case=linked_case))
    conn.execute(review_items.update().where(review_items.c.item_id == item_id)
                 .values(decision=decision, decided_at=at))


def with_decisions(row: Any, decisions: tuple[Decision, ...]) -> ReviewItem:
    return _item(row, decisions)
