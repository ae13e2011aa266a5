"""Queries for review tasks, emergency-access grants, record views and dashboard aggregates.

Tables are defined in ``storage/casework.py``; every function takes the caller's connection.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ctip.domain.casework import ReviewTask
from ctip.storage.casework import (
    aware,
    case_views,
    cases,
    emergency_grants,
    now,
    review_tasks,
)


def insert_task(conn: sa.Connection, t: ReviewTask) -> bool:
    """Insert unless the same task (case, kind, due) exists: timers can run any number of times."""
    exists = conn.execute(
        sa.select(review_tasks.c.task_id).where(
            review_tasks.c.case_id == t.case_id,
            review_tasks.c.kind == t.kind,
            review_tasks.c.due_at == t.due_at,
        )
    ).first()
    if exists:
        return False
    conn.execute(
        review_tasks.insert().values(
            task_id=t.task_id,
            case_id=t.case_id,
            agency=t.agency,
            kind=t.kind,
            due_at=t.due_at,
            created_at=t.created_at,
            detail=t.detail,
            safety=t.safety,
        )
    )
    return True


def task_from_row(row: sa.Row) -> ReviewTask:
    return ReviewTask(
        task_id=row.task_id,
        case_id=row.case_id,
        agency=row.agency,
        kind=row.kind,
        due_at=aware(row.due_at),
        created_at=aware(row.created_at),
        detail=row.detail,
        safety=bool(row.safety),
        done_at=aware(row.done_at),
        done_by=row.done_by,
    )


def open_tasks(
    conn: sa.Connection, *, agency: str | None = None, case_id: str | None = None
) -> list[ReviewTask]:
    query = sa.select(review_tasks).where(review_tasks.c.done_at.is_(None))
    if agency is not None:
        query = query.where(review_tasks.c.agency == agency)
    if case_id is not None:
        query = query.where(review_tasks.c.case_id == case_id)
    return [task_from_row(r) for r in conn.execute(query.order_by(review_tasks.c.due_at))]


def complete_task(conn: sa.Connection, task_id: str, agency: str, *, by: str) -> bool:
    return (
        conn.execute(
            review_tasks.update()
            .where(
                review_tasks.c.task_id == task_id,
                review_tasks.c.agency == agency,
                review_tasks.c.done_at.is_(None),
            )
            .values(done_at=now(), done_by=by)
        ).rowcount
        == 1
    )


def cases_in_state_since(conn: sa.Connection, cutoffs: Mapping[str, datetime]) -> list[sa.Row]:
    """Cases in one of the states of ``cutoffs`` since no later than that state's cutoff.

    The timers' first test is done by the database: on a large store, most cases in a timed
    state entered it too recently for any deadline, and loading them all (hundreds of thousands
    of rows, in every web worker as it starts) only to drop them in Python cost seconds."""
    if not cutoffs:
        return []
    return list(
        conn.execute(
            sa.select(cases.c.case_id, cases.c.agency, cases.c.status, cases.c.status_since).where(
                sa.or_(
                    *(
                        sa.and_(cases.c.status == state, cases.c.status_since <= cutoff)
                        for state, cutoff in sorted(cutoffs.items())
                    )
                )
            )
        )
    )


def insert_grant(conn: sa.Connection, **values: Any) -> None:
    conn.execute(emergency_grants.insert().values(**values))


def live_grant_id(conn: sa.Connection, case_id: str, user_id: str, at: datetime) -> str | None:
    """The live break-glass grant of a user on a case (the latest), or None."""
    return conn.execute(
        sa.select(emergency_grants.c.grant_id)
        .where(
            emergency_grants.c.case_id == case_id,
            emergency_grants.c.user_id == user_id,
            emergency_grants.c.expires_at > at,
        )
        .order_by(emergency_grants.c.granted_at.desc())
        .limit(1)
    ).scalar()


def live_grant(conn: sa.Connection, case_id: str, user_id: str, at: datetime) -> bool:
    return (
        conn.execute(
            sa.select(emergency_grants.c.grant_id)
            .where(
                emergency_grants.c.case_id == case_id,
                emergency_grants.c.user_id == user_id,
                emergency_grants.c.expires_at > at,
            )
            .limit(1)
        ).first()
        is not None
    )


def grants(
    conn: sa.Connection, *, unreviewed_only: bool, case_ids_owned_by: str | None = None
) -> list[sa.Row]:
    query = sa.select(emergency_grants)
    if unreviewed_only:
        query = query.where(emergency_grants.c.reviewed_at.is_(None))
    if case_ids_owned_by is not None:
        owned = sa.select(cases.c.case_id).where(cases.c.agency == case_ids_owned_by)
        query = query.where(
            sa.or_(
                emergency_grants.c.case_id.in_(owned),
                emergency_grants.c.agency == case_ids_owned_by,
            )
        )
    return list(conn.execute(query.order_by(emergency_grants.c.granted_at)))


def get_grant(conn: sa.Connection, grant_id: str) -> sa.Row | None:
    return conn.execute(
        sa.select(emergency_grants).where(emergency_grants.c.grant_id == grant_id)
    ).first()


def review_grant(conn: sa.Connection, grant_id: str, *, by: str, outcome: str) -> bool:
    return (
        conn.execute(
            emergency_grants.update()
            .where(
                emergency_grants.c.grant_id == grant_id, emergency_grants.c.reviewed_at.is_(None)
            )
            .values(reviewed_at=now(), reviewed_by=by, review_outcome=outcome)
        ).rowcount
        == 1
    )


def record_view(
    conn: sa.Connection, *, case_id: str, user_id: str, username: str, agency: str, action: str
) -> None:
    conn.execute(
        case_views.insert().values(
            case_id=case_id,
            user_id=user_id,
            username=username,
            agency=agency,
            action=action,
            at=now(),
        )
    )


def views(conn: sa.Connection, case_id: str, limit: int = 5000) -> list[sa.Row]:
    return list(
        conn.execute(
            sa.select(case_views)
            .where(case_views.c.case_id == case_id)
            .order_by(case_views.c.at.desc())
            .limit(limit)
        )
    )


def status_counts(conn: sa.Connection, agency: str) -> dict[str, int]:
    rows = conn.execute(
        sa.select(cases.c.status, sa.func.count())
        .where(cases.c.agency == agency)
        .group_by(cases.c.status)
    )
    return {r[0]: int(r[1]) for r in rows}


def caseload_by_month(conn: sa.Connection, agency: str) -> tuple[dict, dict]:
    """(new cases per (year, month), closed or withdrawn cases per (year, month)), in SQL."""

    def per_month(column: sa.Column, *where: sa.ColumnElement) -> dict[tuple[int, int], int]:
        year, month = sa.extract("year", column), sa.extract("month", column)
        rows = conn.execute(
            sa.select(year, month, sa.func.count())
            .where(cases.c.agency == agency, *where)
            .group_by(year, month)
        )
        return {(int(y), int(m)): int(n) for y, m, n in rows}

    return (
        per_month(cases.c.created_at),
        per_month(cases.c.updated_at, cases.c.status.in_(("closed", "withdrawn"))),
    )


def deidentified_rows(conn: sa.Connection, agency: str, limit: int) -> list[sa.Row]:
    return list(
        conn.execute(
            sa.select(
                cases.c.status,
                cases.c.sex,
                cases.c.age,
                cases.c.nationality,
                cases.c.exploitation_forms,
                cases.c.assistance_state,
                cases.c.non_punishment_flag,
            )
            .where(cases.c.agency == agency)
            .limit(limit)
        )
    )
