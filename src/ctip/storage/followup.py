"""Follow-up and review at rest: cycles, evidence, immutable assessment snapshots, crosswalks.

Evidence is about a country's laws, policies and figures, never a victim's identity: its value,
citation and attachment hash are plain columns. Every function takes the caller's connection, so
a service writes the change and its audit entry in one transaction. Assessments are only ever
inserted (there is no update or delete here); one per (cycle, inputs hash), so scoring the same
inputs twice returns the first snapshot. Migration ``1101_followup`` creates these tables.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from ctip.storage.tables import metadata

TS = sa.DateTime(timezone=True)
FOLLOWUP_REVISION = "1101_followup"
EVIDENCE_STATUSES = ("submitted", "accepted", "rejected", "withdrawn")

followup_cycles = sa.Table(
    "followup_cycles",
    metadata,
    sa.Column("cycle_id", sa.String(60), primary_key=True),
    sa.Column("country", sa.String(100), nullable=False, index=True),
    sa.Column("period_start", sa.Date, nullable=False),
    sa.Column("period_end", sa.Date, nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),  # annual | quadrennial
    sa.Column("framework_id", sa.String(60), nullable=False),
    sa.Column("framework_version", sa.String(20), nullable=False),
    sa.Column("rules_id", sa.String(60), nullable=False),
    sa.Column("rules_version", sa.String(20), nullable=False),
    sa.Column("status", sa.String(10), nullable=False),  # open | closed
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("closed_at", TS, nullable=True),
    sa.Column("final_assessment_id", sa.String(36), nullable=True),  # the snapshot that closed it
)

followup_evidence = sa.Table(
    "followup_evidence",
    metadata,
    sa.Column("evidence_id", sa.String(36), primary_key=True),
    sa.Column("cycle_id", sa.String(60), sa.ForeignKey("followup_cycles.cycle_id"),
              nullable=False, index=True),
    sa.Column("indicator_code", sa.String(60), nullable=False),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("unit", sa.String(60), nullable=False),
    sa.Column("as_of", sa.Date, nullable=True),
    sa.Column("source_kind", sa.String(40), nullable=False),
    sa.Column("citation", sa.Text, nullable=False),
    sa.Column("file_sha256", sa.String(64), nullable=True),
    sa.Column("file_name", sa.String(300), nullable=True),
    sa.Column("locker_ref", sa.String(200), nullable=True),  # set once the evidence locker holds it
    sa.Column("reliability", sa.String(1), nullable=False),  # A B C X
    sa.Column("credibility", sa.String(1), nullable=False),  # 1-4
    sa.Column("status", sa.String(12), nullable=False),
    sa.Column("entered_by", sa.String(200), nullable=False),
    sa.Column("entered_at", TS, nullable=False),
    sa.Column("reviewed_by", sa.String(200), nullable=True),
    sa.Column("reviewed_at", TS, nullable=True),
    sa.Column("review_note", sa.Text, nullable=True),
)

followup_assessments = sa.Table(
    "followup_assessments",
    metadata,
    sa.Column("assessment_id", sa.String(36), primary_key=True),
    sa.Column("cycle_id", sa.String(60), sa.ForeignKey("followup_cycles.cycle_id"),
              nullable=False, index=True),
    sa.Column("inputs_sha256", sa.String(64), nullable=False),
    sa.Column("result_sha256", sa.String(64), nullable=False),
    sa.Column("inputs_json", sa.Text, nullable=False),
    sa.Column("result_json", sa.Text, nullable=False),
    sa.Column("framework_key", sa.String(100), nullable=False),
    sa.Column("rules_key", sa.String(100), nullable=False),
    sa.Column("computed_by", sa.String(200), nullable=False),
    sa.Column("computed_at", TS, nullable=False),
    sa.UniqueConstraint("cycle_id", "inputs_sha256", name="uq_followup_assessments_cycle_inputs"),
)

followup_crosswalks = sa.Table(
    "followup_crosswalks",
    metadata,
    sa.Column("from_key", sa.String(100), primary_key=True),
    sa.Column("to_key", sa.String(100), primary_key=True),
    sa.Column("old_code", sa.String(60), primary_key=True),
    sa.Column("new_code", sa.String(60), nullable=False),
    sa.Column("comparable", sa.Boolean, nullable=False),
    sa.Column("declared_by", sa.String(200), nullable=False),
    sa.Column("declared_at", TS, nullable=False),
)


@dataclass(frozen=True)
class CycleRow:
    cycle_id: str
    country: str
    period_start: date
    period_end: date
    kind: str
    framework_id: str
    framework_version: str
    rules_id: str
    rules_version: str
    status: str
    created_by: str
    created_at: datetime
    closed_at: datetime | None
    final_assessment_id: str | None


@dataclass(frozen=True)
class AssessmentRow:
    assessment_id: str
    cycle_id: str
    inputs_sha256: str
    result_sha256: str
    inputs_json: str
    result_json: str
    framework_key: str
    rules_key: str
    computed_by: str
    computed_at: datetime


def add_cycle(conn: sa.Connection, **values: Any) -> None:
    conn.execute(followup_cycles.insert().values(status="open", closed_at=None,
                                                 final_assessment_id=None, **values))


def cycle(conn: sa.Connection, cycle_id: str) -> CycleRow | None:
    row = conn.execute(sa.select(followup_cycles)
                       .where(followup_cycles.c.cycle_id == cycle_id)).first()
    return None if row is None else CycleRow(**row._mapping)


def cycles(conn: sa.Connection, country: str | None = None) -> list[CycleRow]:
    query = sa.select(followup_cycles).order_by(followup_cycles.c.country,
                                                followup_cycles.c.period_start)
    if country:
        query = query.where(followup_cycles.c.country == country)
    return [CycleRow(**r._mapping) for r in conn.execute(query)]


def close_cycle(conn: sa.Connection, cycle_id: str, at: datetime, assessment_id: str) -> None:
    conn.execute(followup_cycles.update().where(followup_cycles.c.cycle_id == cycle_id)
                 .values(status="closed", closed_at=at, final_assessment_id=assessment_id))


def add_evidence(conn: sa.Connection, **values: Any) -> str:
    evidence_id = values.pop("evidence_id", None) or str(uuid.uuid4())
    conn.execute(followup_evidence.insert().values(evidence_id=evidence_id, **values))
    return evidence_id


def evidence(conn: sa.Connection, cycle_id: str, *, statuses: Iterable[str] | None = None
             ) -> list[dict[str, Any]]:
    query = (sa.select(followup_evidence).where(followup_evidence.c.cycle_id == cycle_id)
             .order_by(followup_evidence.c.indicator_code, followup_evidence.c.entered_at,
                       followup_evidence.c.evidence_id))
    if statuses is not None:
        query = query.where(followup_evidence.c.status.in_(list(statuses)))
    return [dict(r._mapping) for r in conn.execute(query)]


def evidence_item(conn: sa.Connection, evidence_id: str) -> dict[str, Any] | None:
    row = conn.execute(sa.select(followup_evidence)
                       .where(followup_evidence.c.evidence_id == evidence_id)).first()
    return None if row is None else dict(row._mapping)


def set_evidence_status(conn: sa.Connection, evidence_id: str, *, status: str, by: str,
                        at: datetime, note: str | None) -> None:
    conn.execute(followup_evidence.update()
                 .where(followup_evidence.c.evidence_id == evidence_id)
                 .values(status=status, reviewed_by=by, reviewed_at=at, review_note=note))


def set_locker_ref(conn: sa.Connection, evidence_id: str, locker_ref: str) -> None:
    conn.execute(followup_evidence.update()
                 .where(followup_evidence.c.evidence_id == evidence_id)
                 .values(locker_ref=locker_ref))


def assessment_for_inputs(conn: sa.Connection, cycle_id: str, inputs_sha256: str
                          ) -> AssessmentRow | None:
    row = conn.execute(sa.select(followup_assessments).where(
        followup_assessments.c.cycle_id == cycle_id,
        followup_assessments.c.inputs_sha256 == inputs_sha256)).first()
    return None if row is None else AssessmentRow(**row._mapping)


def add_assessment(conn: sa.Connection, **values: Any) -> str:
    assessment_id = str(uuid.uuid4())
    conn.execute(followup_assessments.insert().values(assessment_id=assessment_id, **values))
    return assessment_id


def assessments(conn: sa.Connection, cycle_id: str) -> list[AssessmentRow]:
    query = (sa.select(followup_assessments).where(followup_assessments.c.cycle_id == cycle_id)
             .order_by(followup_assessments.c.computed_at, followup_assessments.c.assessment_id))
    return [AssessmentRow(**r._mapping) for r in conn.execute(query)]


def put_crosswalk(conn: sa.Connection, from_key: str, to_key: str,
                  entries: Iterable[tuple[str, str, bool]], *, by: str, at: datetime) -> int:
    conn.execute(followup_crosswalks.delete().where(followup_crosswalks.c.from_key == from_key,
                                                    followup_crosswalks.c.to_key == to_key))
    rows = [{"from_key": from_key, "to_key": to_key, "old_code": old, "new_code": new,
             "comparable": ok, "declared_by": by, "declared_at": at} for old, new, ok in entries]
    if rows:
        conn.execute(followup_crosswalks.insert(), rows)
    return len(rows)


def crosswalk(conn: sa.Connection, from_key: str, to_key: str) -> dict[str, tuple[str, bool]]:
    query = sa.select(followup_crosswalks).where(followup_crosswalks.c.from_key == from_key,
                                                 followup_crosswalks.c.to_key == to_key)
    return {r.old_code: (r.new_code, bool(r.comparable)) for r in conn.execute(query)}
