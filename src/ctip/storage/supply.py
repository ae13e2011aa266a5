"""Supply-chain screening at rest: loaded lists, screening runs, rejects, hit groups, findings.

Lists are kept whole (their entries as JSON) with label, version and file digest, so a later
screen uses exactly the list a hit names. Purchase lines are business data, not identity: hit
groups keep supplier names, goods, countries and line numbers in clear; rejects keep the reasons
only, never a row's content. A worker-level finding's note may name workers: it is sealed
(registered for key rotation). Every function takes the caller's connection, so a service writes
the change and its audit entry in one transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from ctip.storage.rotation import SealedColumn, register_sealed
from ctip.storage.tables import metadata

TS = sa.DateTime(timezone=True)
SUPPLY_REVISION = "1801_supply"
CHUNK = 500

supply_lists = sa.Table(
    "supply_lists",
    metadata,
    sa.Column("list_id", sa.String(36), primary_key=True),
    sa.Column("agency", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),  # dol | entities
    sa.Column("label", sa.String(200), nullable=False),
    sa.Column("list_kind", sa.String(40), nullable=True),  # uflpa | wro | other (entities)
    sa.Column("version", sa.String(80), nullable=False),
    sa.Column("edition", sa.Integer, nullable=True),
    sa.Column("source_file", sa.String(500), nullable=False),
    sa.Column("file_sha256", sa.String(64), nullable=False),
    sa.Column("entries", sa.Integer, nullable=False),
    sa.Column("content_json", sa.Text, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("loaded_by", sa.String(200), nullable=False),
    sa.Column("loaded_at", TS, nullable=False),
    sa.Index("ix_supply_lists_agency_kind", "agency", "kind"),
)

supply_runs = sa.Table(
    "supply_runs",
    metadata,
    sa.Column("run_id", sa.String(36), primary_key=True),
    sa.Column("agency", sa.String(200), nullable=False, index=True),
    sa.Column("source_file", sa.String(500), nullable=False),
    sa.Column("file_sha256", sa.String(64), nullable=False),
    sa.Column("read_count", sa.Integer, nullable=False),
    sa.Column("accepted_count", sa.Integer, nullable=False),
    sa.Column("rejected_count", sa.Integer, nullable=False),
    sa.Column("unmatched_count", sa.Integer, nullable=False),
    sa.Column("hit_count", sa.Integer, nullable=False),
    sa.Column("lists_json", sa.Text, nullable=False),  # label -> version
    sa.Column("edition", sa.Integer, nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("started_at", TS, nullable=False),
)

supply_rejects = sa.Table(
    "supply_rejects",
    metadata,
    sa.Column("reject_id", sa.String(36), primary_key=True),
    sa.Column("run_id", sa.String(36), sa.ForeignKey("supply_runs.run_id"), nullable=False,
              index=True),
    sa.Column("source_row", sa.Integer, nullable=False),
    sa.Column("reasons", sa.Text, nullable=False),
)

supply_hit_groups = sa.Table(
    "supply_hit_groups",
    metadata,
    sa.Column("group_id", sa.String(36), primary_key=True),
    sa.Column("run_id", sa.String(36), sa.ForeignKey("supply_runs.run_id"), nullable=False,
              index=True),
    sa.Column("agency", sa.String(200), nullable=False),
    sa.Column("subject", sa.String(200), nullable=False, index=True),  # the review subject
    sa.Column("supplier", sa.String(500), nullable=False),
    sa.Column("supplier_country", sa.String(3), nullable=True),
    sa.Column("parent", sa.String(500), nullable=True),
    sa.Column("rule", sa.String(40), nullable=False),
    sa.Column("good", sa.String(200), nullable=True),
    sa.Column("hit_country", sa.String(3), nullable=True),
    sa.Column("flags", sa.String(200), nullable=True),
    sa.Column("path", sa.Text, nullable=True),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("lines", sa.Integer, nullable=False),
    sa.Column("value", sa.Float, nullable=True),
    sa.Column("edition", sa.Integer, nullable=True),
    sa.Column("list_label", sa.String(200), nullable=False),
    sa.Column("list_version", sa.String(80), nullable=False),
    sa.Column("entity_id", sa.String(200), nullable=True),
    sa.Column("entity_name", sa.String(500), nullable=True),
    sa.Column("matched_name", sa.String(500), nullable=True),
    sa.Column("matched_by", sa.String(40), nullable=True),
    sa.Column("rows_json", sa.Text, nullable=False),
)

supply_findings = sa.Table(
    "supply_findings",
    metadata,
    sa.Column("finding_id", sa.String(36), primary_key=True),
    sa.Column("agency", sa.String(200), nullable=False),
    sa.Column("supplier", sa.String(500), nullable=False),
    sa.Column("site", sa.String(500), nullable=True),
    sa.Column("source", sa.String(20), nullable=False),
    sa.Column("indicator", sa.String(60), nullable=False),
    sa.Column("evidence_type", sa.String(20), nullable=False),
    sa.Column("observed_on", sa.Date, nullable=False),
    sa.Column("case_id", sa.String(36), nullable=True),
    sa.Column("evidence_item", sa.String(36), nullable=True),
    sa.Column("note_sealed", sa.LargeBinary, nullable=True),
    sa.Column("recorded_by", sa.String(200), nullable=False),
    sa.Column("recorded_at", TS, nullable=False),
    sa.Index("ix_supply_findings_agency_supplier", "agency", "supplier"),
)


def finding_note_context(finding_id: str) -> str:
    return f"supply_findings/{finding_id}/note"


register_sealed(SealedColumn(supply_findings, "finding_id", "note_sealed", finding_note_context))


def insert_list(conn: sa.Connection, **values: Any) -> None:
    if values.get("active"):
        conn.execute(supply_lists.update().where(
            supply_lists.c.agency == values["agency"], supply_lists.c.kind == values["kind"],
            supply_lists.c.label == values["label"]).values(active=False))
    conn.execute(supply_lists.insert().values(**values))


def active_lists(conn: sa.Connection, agency: str, kind: str | None = None) -> list[Any]:
    query = sa.select(supply_lists).where(supply_lists.c.agency == agency,
                                          supply_lists.c.active.is_(True))
    if kind:
        query = query.where(supply_lists.c.kind == kind)
    return list(conn.execute(query.order_by(supply_lists.c.kind, supply_lists.c.label)))


def all_lists(conn: sa.Connection, agency: str) -> list[Any]:
    columns = [c for c in supply_lists.c if c.name != "content_json"]
    return list(conn.execute(sa.select(*columns).where(supply_lists.c.agency == agency)
                             .order_by(supply_lists.c.loaded_at.desc())))


def insert_run(conn: sa.Connection, **values: Any) -> None:
    conn.execute(supply_runs.insert().values(**values))


def _chunks(rows: list[dict[str, Any]]) -> Iterable[list[dict[str, Any]]]:
    for start in range(0, len(rows), CHUNK):
        yield rows[start:start + CHUNK]


def insert_rejects(conn: sa.Connection, rows: list[dict[str, Any]]) -> None:
    for chunk in _chunks(rows):
        conn.execute(supply_rejects.insert(), chunk)


def insert_groups(conn: sa.Connection, rows: list[dict[str, Any]]) -> None:
    for chunk in _chunks(rows):
        conn.execute(supply_hit_groups.insert(), chunk)


def latest_groups(conn: sa.Connection, agency: str, subjects: list[str]) -> dict[str, Any]:
    """The most recent hit group of each subject (a subject recurs across runs)."""
    out: dict[str, Any] = {}
    for start in range(0, len(subjects), CHUNK):
        query = (sa.select(supply_hit_groups, supply_runs.c.started_at)
                 .join(supply_runs, supply_runs.c.run_id == supply_hit_groups.c.run_id)
                 .where(supply_hit_groups.c.agency == agency,
                        supply_hit_groups.c.subject.in_(subjects[start:start + CHUNK]))
                 .order_by(supply_runs.c.started_at))
        for row in conn.execute(query):
            out[row.subject] = row
    return out


def groups(conn: sa.Connection, agency: str, *, run_id: str | None = None,
           supplier: str | None = None) -> list[Any]:
    if run_id is None:
        run_id = conn.execute(sa.select(supply_runs.c.run_id).where(
            supply_runs.c.agency == agency).order_by(supply_runs.c.started_at.desc())
            .limit(1)).scalar()
    query = sa.select(supply_hit_groups).where(supply_hit_groups.c.agency == agency,
                                               supply_hit_groups.c.run_id == run_id)
    if supplier is not None:
        query = query.where(supply_hit_groups.c.supplier == supplier)
    return list(conn.execute(query.order_by(supply_hit_groups.c.score.desc(),
                                            supply_hit_groups.c.supplier)))


def run_row(conn: sa.Connection, agency: str, run_id: str | None = None) -> Any:
    query = sa.select(supply_runs).where(supply_runs.c.agency == agency)
    if run_id:
        query = query.where(supply_runs.c.run_id == run_id)
    return conn.execute(query.order_by(supply_runs.c.started_at.desc()).limit(1)).first()


def insert_finding(conn: sa.Connection, **values: Any) -> None:
    conn.execute(supply_findings.insert().values(**values))


def findings(conn: sa.Connection, agency: str, supplier: str | None = None) -> list[Any]:
    query = sa.select(supply_findings).where(supply_findings.c.agency == agency)
    if supplier is not None:
        query = query.where(supply_findings.c.supplier == supplier)
    return list(conn.execute(query.order_by(supply_findings.c.observed_on,
                                            supply_findings.c.finding_id)))


def evidence_item_case(conn: sa.Connection, item_id: str) -> str | None:
    """The case an evidence locker item belongs to (None: no such item)."""
    from ctip.storage.evidence import evidence_items

    return conn.execute(sa.select(evidence_items.c.case_id).where(
        evidence_items.c.item_id == item_id)).scalar()


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
