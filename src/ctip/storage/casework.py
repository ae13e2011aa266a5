"""Case-management tables and their queries (SQLAlchemy Core, SQLite and PostgreSQL alike).

What is sealed, and why: identity, case notes and every free-text reason (a decline reason or a
break-glass justification can name a person) are AES-GCM ciphertext under the storage Sealer,
with a context naming the row so a blob cannot be moved to another row. A keyed hash of the
normalised name (``name_key``) lets a caseworker find a case by exact name without decrypting.

Concurrency: ``cases.version`` is compared on every update; a stale version raises ConflictError,
so two caseworkers editing one case never silently overwrite each other.

Every function takes the caller's connection so the service can write the change and its audit
entry in one transaction.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import typing
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, overload

import sqlalchemy as sa

from ctip.domain.casework import SEALED_CASE_FIELDS, Case
from ctip.errors import ConflictError
from ctip.storage.tables import metadata

TS = sa.DateTime(timezone=True)

cases = sa.Table(
    "cases",
    metadata,
    sa.Column("case_id", sa.String(36), primary_key=True),
    sa.Column("agency", sa.String(200), nullable=False, index=True),
    sa.Column("status", sa.String(40), nullable=False, index=True),
    sa.Column("status_since", TS, nullable=False),
    sa.Column("sex", sa.String(20), nullable=False),
    sa.Column("age", sa.Integer, nullable=True),
    sa.Column("age_disputed", sa.Boolean, nullable=False),
    sa.Column("nationality", sa.String(3), nullable=True),
    sa.Column("languages", sa.Text, nullable=False),  # JSON list
    sa.Column("interpreter_needed", sa.Boolean, nullable=False),
    sa.Column("exploitation_forms", sa.Text, nullable=False),  # JSON list
    sa.Column("assistance_state", sa.String(40), nullable=False),
    sa.Column("justice_state", sa.String(40), nullable=False),
    sa.Column("non_punishment_state", sa.String(40), nullable=False),
    sa.Column("non_punishment_flag", sa.Boolean, nullable=False),
    sa.Column("child_state", sa.String(40), nullable=False),
    sa.Column("residence_state", sa.String(40), nullable=False,
              server_default="not_applicable"),
    sa.Column("identity_sealed", sa.LargeBinary, nullable=False),
    sa.Column("notes_sealed", sa.LargeBinary, nullable=True),
    sa.Column("name_key", sa.String(64), nullable=True, index=True),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
    sa.Column("created_by", sa.String(36), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    # readable number, unique per agency (migration 1310 numbered the cases made before it)
    sa.Column("case_number", sa.String(40), nullable=True),
    sa.Index("ix_cases_agency_updated", "agency", "updated_at"),
    sa.Index("ix_cases_agency_status_updated", "agency", "status", "updated_at"),
    # NRM timers: cases that entered a timed state before its deadline
    sa.Index("ix_cases_status_since", "status", "status_since"),
    # case-number prefix search within an agency (LIKE 'ab12%' as a range scan on PostgreSQL)
    sa.Index(
        "ix_cases_agency_case_id",
        "agency",
        "case_id",
        postgresql_ops={"case_id": "varchar_pattern_ops"},
    ),
    # one number once per agency, and its prefix search ('AA-2026-0%') as a range scan
    sa.Index(
        "uq_cases_agency_case_number",
        "agency",
        "case_number",
        unique=True,
        postgresql_ops={"case_number": "varchar_pattern_ops"},
    ),
)

case_counters = sa.Table(  # the last case number given, per agency and year of intake
    "case_counters",
    metadata,
    sa.Column("agency", sa.String(200), primary_key=True),
    sa.Column("year", sa.Integer, primary_key=True),
    sa.Column("last", sa.Integer, nullable=False),
)

case_events = sa.Table(  # every workflow step: who, role, when, from, to, consent used
    "case_events",
    metadata,
    sa.Column("event_id", sa.String(36), primary_key=True),
    sa.Column("case_id", sa.String(36), sa.ForeignKey("cases.case_id"), nullable=False, index=True),
    sa.Column("region", sa.String(30), nullable=False),
    sa.Column("from_state", sa.String(40), nullable=False),
    sa.Column("to_state", sa.String(40), nullable=False),
    sa.Column("actor", sa.String(36), nullable=False),
    sa.Column("role", sa.String(40), nullable=False),
    sa.Column("at", TS, nullable=False),
    sa.Column("consent_id", sa.String(36), nullable=True),
    sa.Column("reason_sealed", sa.LargeBinary, nullable=True),
)

screenings = sa.Table(
    "screenings",
    metadata,
    sa.Column("screening_id", sa.String(36), primary_key=True),
    sa.Column("case_id", sa.String(36), sa.ForeignKey("cases.case_id"), nullable=False, index=True),
    sa.Column("profile", sa.String(4), nullable=False),
    sa.Column("observations", sa.Text, nullable=False),  # JSON {indicator: value}
    sa.Column("classification", sa.String(40), nullable=False),
    sa.Column("suggested_status", sa.String(40), nullable=False),
    sa.Column("positive_dimensions", sa.Text, nullable=False),
    sa.Column("rule_version", sa.String(200), nullable=False),
    sa.Column("screened_by", sa.String(36), nullable=False),
    sa.Column("screened_at", TS, nullable=False),
)

services = sa.Table(  # the service directory
    "services",
    metadata,
    sa.Column("service_id", sa.String(36), primary_key=True),
    sa.Column("agency", sa.String(200), nullable=False, index=True),
    sa.Column("name", sa.String(300), nullable=False),
    sa.Column("service_type", sa.String(40), nullable=False),
    sa.Column("location", sa.String(300), nullable=True),
    sa.Column("languages", sa.Text, nullable=False),
    sa.Column("sexes", sa.Text, nullable=False),
    sa.Column("min_age", sa.Integer, nullable=True),
    sa.Column("max_age", sa.Integer, nullable=True),
    sa.Column("accepts_children", sa.Boolean, nullable=False),
    sa.Column("capacity", sa.Integer, nullable=True),
)

referrals = sa.Table(
    "referrals",
    metadata,
    sa.Column("referral_id", sa.String(36), primary_key=True),
    sa.Column("case_id", sa.String(36), sa.ForeignKey("cases.case_id"), nullable=False, index=True),
    sa.Column("from_agency", sa.String(200), nullable=False),
    sa.Column("to_agency", sa.String(200), nullable=False, index=True),  # + (to_agency, status)
    sa.Column("service_id", sa.String(36), nullable=True),
    sa.Column("purpose", sa.String(60), nullable=False),
    sa.Column("shared_fields", sa.Text, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("consent_id", sa.String(36), nullable=True),
    sa.Column("due_date", sa.Date, nullable=True),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("created_by", sa.String(36), nullable=False),
    sa.Column("responded_at", TS, nullable=True),
    sa.Column("responded_by", sa.String(36), nullable=True),
    sa.Column("reason_sealed", sa.LargeBinary, nullable=True),
    sa.Index("ix_referrals_to_agency_status", "to_agency", "status"),
    sa.Index("ix_referrals_from_agency_status", "from_agency", "status"),  # sent, dashboard
)

consents = sa.Table(
    "consents",
    metadata,
    sa.Column("consent_id", sa.String(36), primary_key=True),
    sa.Column("case_id", sa.String(36), sa.ForeignKey("cases.case_id"), nullable=False, index=True),
    sa.Column("purpose", sa.String(60), nullable=False),
    sa.Column("recipient", sa.String(200), nullable=True),
    sa.Column("given_at", TS, nullable=False),
    sa.Column("recorded_by", sa.String(36), nullable=False),
    sa.Column("text_version", sa.String(40), nullable=False),
    sa.Column("given_by", sa.String(20), nullable=False),
    sa.Column("revoked_at", TS, nullable=True),
    sa.Column("revoked_by", sa.String(36), nullable=True),
)

services_given = sa.Table(
    "services_given",
    metadata,
    sa.Column("entry_id", sa.String(36), primary_key=True),
    sa.Column("case_id", sa.String(36), sa.ForeignKey("cases.case_id"), nullable=False, index=True),
    sa.Column("agency", sa.String(200), nullable=False),
    sa.Column("service_type", sa.String(40), nullable=False),
    sa.Column("given_on", sa.Date, nullable=False),
    sa.Column("recorded_by", sa.String(36), nullable=False),
    sa.Column("referral_id", sa.String(36), nullable=True),
    sa.Column("note_sealed", sa.LargeBinary, nullable=True),
)

review_tasks = sa.Table(
    "review_tasks",
    metadata,
    sa.Column("task_id", sa.String(36), primary_key=True),
    sa.Column("case_id", sa.String(36), sa.ForeignKey("cases.case_id"), nullable=False, index=True),
    sa.Column("agency", sa.String(200), nullable=False, index=True),
    sa.Column("kind", sa.String(60), nullable=False),
    sa.Column("due_at", TS, nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("detail", sa.String(300), nullable=False),
    sa.Column("safety", sa.Boolean, nullable=False),
    sa.Column("done_at", TS, nullable=True),
    sa.Column("done_by", sa.String(36), nullable=True),
    sa.UniqueConstraint("case_id", "kind", "due_at", name="uq_review_tasks_case_kind_due"),
)

emergency_grants = sa.Table(
    "emergency_grants",
    metadata,
    sa.Column("grant_id", sa.String(36), primary_key=True),
    sa.Column("case_id", sa.String(36), sa.ForeignKey("cases.case_id"), nullable=False, index=True),
    sa.Column("user_id", sa.String(36), nullable=False, index=True),
    sa.Column("agency", sa.String(200), nullable=False),
    sa.Column("granted_at", TS, nullable=False),
    sa.Column("expires_at", TS, nullable=False),
    sa.Column("justification_sealed", sa.LargeBinary, nullable=False),
    sa.Column("reviewed_at", TS, nullable=True),
    sa.Column("reviewed_by", sa.String(36), nullable=True),
    sa.Column("review_outcome", sa.String(20), nullable=True),
)

access_reasons = sa.Table(  # why identity was opened or consent overridden (sealed: names)
    "access_reasons",
    metadata,
    sa.Column("reason_id", sa.String(36), primary_key=True),
    sa.Column("case_id", sa.String(36), sa.ForeignKey("cases.case_id"), nullable=False, index=True),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("at", TS, nullable=False),
    sa.Column("reason_sealed", sa.LargeBinary, nullable=False),
)

case_views = sa.Table(  # "who viewed this record": one row per read of a case or its identity
    "case_views",
    metadata,
    sa.Column("view_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("case_id", sa.String(36), nullable=False, index=True),
    sa.Column("user_id", sa.String(36), nullable=False),
    sa.Column("username", sa.String(100), nullable=False),
    sa.Column("agency", sa.String(200), nullable=False),
    sa.Column("action", sa.String(40), nullable=False),
    sa.Column("at", TS, nullable=False),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("user_id", sa.String(36), primary_key=True),
    sa.Column("username", sa.String(100), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(200), nullable=False),
    sa.Column("role", sa.String(40), nullable=False),
    sa.Column("agency", sa.String(200), nullable=False),
    sa.Column("totp_sealed", sa.LargeBinary, nullable=True),
    sa.Column("totp_last_step", sa.Integer, nullable=True),  # a code is never accepted twice
    sa.Column("failed_logins", sa.Integer, nullable=False),
    sa.Column("locked_until", TS, nullable=True),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("last_login_at", TS, nullable=True),
)

sessions = sa.Table(  # only a SHA-256 of the token is stored: a copied table opens no session
    "sessions",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.String(36), sa.ForeignKey("users.user_id"), nullable=False, index=True),
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("last_seen_at", TS, nullable=False),
    sa.Column("expires_at", TS, nullable=False),
)

MAX_RECEIVED = 20_000  # live referrals to one agency considered by a search

TABLES = (
    cases,
    case_counters,
    case_events,
    screenings,
    services,
    referrals,
    consents,
    services_given,
    review_tasks,
    emergency_grants,
    access_reasons,
    case_views,
    users,
    sessions,
)


def now() -> datetime:
    return datetime.now(UTC)


@overload
def aware(value: datetime) -> datetime: ...
@overload
def aware(value: None) -> None: ...
@overload
def aware(value: datetime | None) -> datetime | None: ...
def aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _j(values: Iterable[str]) -> str:
    return json.dumps(sorted(values) if isinstance(values, (set, frozenset)) else list(values))


# ---- cases ----


def case_row(case: Case) -> dict[str, Any]:
    """Plain columns of a case (identity and notes are sealed by the caller)."""
    return dict(
        case_id=case.case_id,
        agency=case.agency,
        status=case.status,
        status_since=case.status_since,
        sex=case.sex,
        age=case.age,
        age_disputed=case.age_disputed,
        nationality=case.nationality,
        languages=_j(case.languages),
        interpreter_needed=case.interpreter_needed,
        exploitation_forms=_j(case.exploitation_forms),
        assistance_state=case.assistance_state,
        justice_state=case.justice_state,
        non_punishment_state=case.non_punishment_state,
        non_punishment_flag=case.non_punishment_flag,
        child_state=case.child_state,
        residence_state=case.residence_state,
        created_at=case.created_at,
        updated_at=case.updated_at,
        created_by=case.created_by,
        version=case.version,
        case_number=case.case_number,
    )


def next_case_number(conn: sa.Connection, agency: str, year: int) -> int:
    """The next sequence number of ``agency`` in ``year``, taken in the caller's transaction.

    Why a counter row rather than ``max(...) + 1`` over the cases: the UPDATE locks the one
    row on PostgreSQL, so two intakes at once wait for each other instead of both reading the
    same maximum and one failing on the unique index (SQLite has one writer at a time anyway).
    """
    key = (case_counters.c.agency == agency) & (case_counters.c.year == year)
    bumped = conn.execute(case_counters.update().where(key).values(last=case_counters.c.last + 1))
    if bumped.rowcount == 0:
        try:
            with conn.begin_nested():  # a concurrent first intake of the year may insert first
                conn.execute(case_counters.insert().values(agency=agency, year=year, last=1))
            return 1
        except sa.exc.IntegrityError:
            conn.execute(
                case_counters.update().where(key).values(last=case_counters.c.last + 1)
            )
    return int(conn.execute(sa.select(case_counters.c.last).where(key)).scalar_one())


def insert_case(
    conn: sa.Connection,
    case: Case,
    *,
    identity_sealed: bytes,
    notes_sealed: bytes | None,
    name_key: str | None,
) -> None:
    conn.execute(
        cases.insert().values(
            **case_row(case),
            identity_sealed=identity_sealed,
            notes_sealed=notes_sealed,
            name_key=name_key,
        )
    )


def get_case_row(conn: sa.Connection, case_id: str) -> sa.Row | None:
    return conn.execute(sa.select(cases).where(cases.c.case_id == case_id)).first()


def _from_column(hint: Any) -> Callable[[Any], Any]:
    """How a column's value becomes the ``Case`` field of type ``hint``."""
    if hint is bool:
        return bool
    if hint == tuple[str, ...]:
        return lambda text: tuple(json.loads(text))
    if hint in (datetime, datetime | None):
        return aware
    return lambda value: value


# one converter per row field, derived from the Case dataclass (its field list is the one list)
_CASE_COLUMNS: dict[str, Callable[[Any], Any]] = {
    f.name: _from_column(typing.get_type_hints(Case)[f.name])
    for f in dataclasses.fields(Case)
    if f.name not in SEALED_CASE_FIELDS
}


def case_from_row(row: sa.Row, *, notes: str | None = None) -> Case:
    return Case(**{name: convert(getattr(row, name)) for name, convert in _CASE_COLUMNS.items()},
                notes=notes)


def case_numbers(conn: sa.Connection, agency: str, case_ids: Iterable[str]) -> dict[str, str]:
    """case id -> case number, for the cases among ``case_ids`` that ``agency`` owns or has
    (or had) a referral for; others are left out."""
    ids = list(dict.fromkeys(case_ids))
    if not ids:
        return {}
    related = sa.exists().where(
        referrals.c.case_id == cases.c.case_id,
        sa.or_(referrals.c.to_agency == agency, referrals.c.from_agency == agency),
    )
    out: dict[str, str] = {}
    for start in range(0, len(ids), 500):
        rows = conn.execute(
            sa.select(cases.c.case_id, cases.c.case_number).where(
                cases.c.case_id.in_(ids[start : start + 500]),
                sa.or_(cases.c.agency == agency, related),
            )
        )
        out.update({r.case_id: r.case_number for r in rows if r.case_number})
    return out


def update_case(
    conn: sa.Connection, case_id: str, *, expected_version: int, values: dict[str, Any]
) -> int:
    """Write ``values`` if nobody changed the case since ``expected_version``; returns the new
    version."""
    new_version = expected_version + 1
    result = conn.execute(
        cases.update()
        .where(cases.c.case_id == case_id, cases.c.version == expected_version)
        .values(**values, version=new_version, updated_at=now())
    )
    if result.rowcount != 1:
        current = conn.execute(
            sa.select(cases.c.version).where(cases.c.case_id == case_id)
        ).scalar()
        raise ConflictError(
            f"case {case_id!r} was changed by someone else (you edited version {expected_version}, "
            f"it is now version {current})",
            hint="reload the case, look at the other change, and apply yours again",
        )
    return new_version


def search_cases(
    conn: sa.Connection,
    *,
    agencies_owned: str,
    referred_to: str | None,
    status: str | None = None,
    name_key: str | None = None,
    case_id_prefix: str | None = None,
    case_number_prefix: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[sa.Row]:
    """Cases owned by one agency, plus those referred to it with a live referral, newest first.

    Two index-backed branches (owner: ``agency, updated_at``, or ``agency, status, updated_at``,
    or ``agency, case_id`` for a case-number prefix; received: the live referrals to the agency,
    at most ``MAX_RECEIVED`` of them, joined to the cases by primary key), each limited before
    they are merged, so a search stays fast on millions of cases: an ``OR`` over both would make
    the database scan and sort the whole table. One statement per combination of filters is
    built once and reused with bound values (building it is most of a search's cost).
    """
    statement = _search_statement(
        status=bool(status),
        name_key=bool(name_key),
        prefix=bool(case_id_prefix),
        received=referred_to is not None,
        number=bool(case_number_prefix),
    )
    params: dict[str, Any] = {
        "owner": agencies_owned,
        "window": limit + offset,
        "limit": limit,
        "offset": offset,
    }
    if status:
        params["status"] = status
    if name_key:
        params["name_key"] = name_key
    if case_id_prefix:
        params["prefix"] = _like_prefix(case_id_prefix)
    if case_number_prefix:
        params["number"] = _like_prefix(case_number_prefix.upper())
    if referred_to is not None:
        params["recipient"] = referred_to
    return list(conn.execute(statement, params))


def _like_prefix(prefix: str) -> str:
    """``prefix%`` with LIKE's wildcards in ``prefix`` escaped (escape character ``/``)."""
    escaped = prefix.replace("/", "//").replace("%", "/%").replace("_", "/_")
    return escaped + "%"


@functools.cache
def _search_statement(
    *, status: bool, name_key: bool, prefix: bool, received: bool, number: bool = False
) -> sa.Select:
    def narrowed(query: sa.Select) -> sa.Select:
        if status:
            query = query.where(cases.c.status == sa.bindparam("status"))
        if name_key:
            query = query.where(cases.c.name_key == sa.bindparam("name_key"))
        if prefix:
            query = query.where(cases.c.case_id.like(sa.bindparam("prefix"), escape="/"))
        if number:
            query = query.where(cases.c.case_number.like(sa.bindparam("number"), escape="/"))
        return query.order_by(cases.c.updated_at.desc(), cases.c.case_id).limit(
            sa.bindparam("window", type_=sa.Integer)
        )

    listed = [c for c in cases.c if c.name not in ("identity_sealed", "notes_sealed")]
    owned = narrowed(sa.select(*listed).where(cases.c.agency == sa.bindparam("owner"))).subquery()
    branches = [sa.select(owned)]
    if received:
        # live referral ids first (referrals index), then primary-key lookups of those cases
        live = (
            sa.select(referrals.c.case_id)
            .where(
                referrals.c.to_agency == sa.bindparam("recipient"),
                referrals.c.status.in_(("pending", "accepted")),
            )
            .distinct()
            .limit(MAX_RECEIVED)
            .subquery("live")
        )
        branches.append(
            sa.select(
                narrowed(
                    sa.select(*listed)
                    .select_from(live.join(cases, cases.c.case_id == live.c.case_id))
                    .where(cases.c.agency != sa.bindparam("recipient"))
                ).subquery()
            )
        )
    merged = sa.union_all(*branches).subquery() if len(branches) > 1 else owned
    return (
        sa.select(merged)
        .order_by(merged.c.updated_at.desc(), merged.c.case_id)
        .limit(sa.bindparam("limit", type_=sa.Integer))
        .offset(sa.bindparam("offset", type_=sa.Integer))
    )


def insert_event(conn: sa.Connection, **values: Any) -> None:
    conn.execute(case_events.insert().values(**values))


def events(conn: sa.Connection, case_id: str) -> list[sa.Row]:
    return list(
        conn.execute(
            sa.select(case_events)
            .where(case_events.c.case_id == case_id)
            .order_by(case_events.c.at)
        )
    )


def insert_screening(conn: sa.Connection, **values: Any) -> None:
    conn.execute(screenings.insert().values(**values))


def latest_screening(conn: sa.Connection, case_id: str) -> sa.Row | None:
    return conn.execute(
        sa.select(screenings)
        .where(screenings.c.case_id == case_id)
        .order_by(screenings.c.screened_at.desc())
        .limit(1)
    ).first()
