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

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

from ctip.domain.casework import Case, ConsentRecord, Referral, ReviewTask, Service, ServiceEntry
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
    sa.Column("identity_sealed", sa.LargeBinary, nullable=False),
    sa.Column("notes_sealed", sa.LargeBinary, nullable=True),
    sa.Column("name_key", sa.String(64), nullable=True, index=True),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
    sa.Column("created_by", sa.String(36), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Index("ix_cases_agency_updated", "agency", "updated_at"),
    sa.Index("ix_cases_agency_status_updated", "agency", "status", "updated_at"),
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
    sa.Column("to_agency", sa.String(200), nullable=False, index=True),
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

TABLES = (
    cases,
    case_events,
    screenings,
    services,
    referrals,
    consents,
    services_given,
    review_tasks,
    emergency_grants,
    case_views,
    users,
    sessions,
)


def now() -> datetime:
    return datetime.now(UTC)


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
        created_at=case.created_at,
        updated_at=case.updated_at,
        created_by=case.created_by,
        version=case.version,
    )


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


def case_from_row(row: sa.Row, *, notes: str | None = None) -> Case:
    return Case(
        case_id=row.case_id,
        agency=row.agency,
        status=row.status,
        sex=row.sex,
        age=row.age,
        age_disputed=bool(row.age_disputed),
        nationality=row.nationality,
        languages=tuple(json.loads(row.languages)),
        interpreter_needed=bool(row.interpreter_needed),
        exploitation_forms=tuple(json.loads(row.exploitation_forms)),
        assistance_state=row.assistance_state,
        justice_state=row.justice_state,
        non_punishment_state=row.non_punishment_state,
        non_punishment_flag=bool(row.non_punishment_flag),
        child_state=row.child_state,
        notes=notes,
        status_since=aware(row.status_since),
        created_at=aware(row.created_at),
        updated_at=aware(row.updated_at),
        created_by=row.created_by,
        version=row.version,
    )


def update_case(
    conn: sa.Connection, case_id: str, *, expected_version: int, values: dict[str, Any]
) -> int:
    """Write ``values`` if nobody changed the case since ``expected_version``; returns the new version."""
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
    limit: int = 50,
    offset: int = 0,
) -> list[sa.Row]:
    """Cases owned by one agency, plus those referred to it with a live referral, newest first.

    Two index-backed branches (owner: ``agency, updated_at``; received: referrals by
    ``to_agency``), each limited before they are merged, so a search stays fast on millions of
    cases: an ``OR`` over both would make the database scan and sort the whole table.
    """
    window = limit + offset

    def narrowed(query: sa.Select) -> sa.Select:
        if status:
            query = query.where(cases.c.status == status)
        if name_key:
            query = query.where(cases.c.name_key == name_key)
        if case_id_prefix:
            query = query.where(cases.c.case_id.startswith(case_id_prefix, autoescape=True))
        return query.order_by(cases.c.updated_at.desc(), cases.c.case_id).limit(window)

    owned = narrowed(sa.select(cases).where(cases.c.agency == agencies_owned)).subquery()
    branches = [sa.select(owned)]
    if referred_to is not None:
        live = sa.select(referrals.c.case_id).where(
            referrals.c.to_agency == referred_to, referrals.c.status.in_(("pending", "accepted"))
        )
        received = narrowed(
            sa.select(cases).where(cases.c.case_id.in_(live), cases.c.agency != referred_to)
        ).subquery()
        branches.append(sa.select(received))
    merged = sa.union_all(*branches).subquery() if len(branches) > 1 else owned
    query = (
        sa.select(merged)
        .order_by(merged.c.updated_at.desc(), merged.c.case_id)
        .limit(limit)
        .offset(offset)
    )
    return list(conn.execute(query))


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


# ---- referrals ----


def referral_from_row(row: sa.Row) -> Referral:
    return Referral(
        referral_id=row.referral_id,
        case_id=row.case_id,
        from_agency=row.from_agency,
        to_agency=row.to_agency,
        purpose=row.purpose,
        shared_fields=frozenset(json.loads(row.shared_fields)),
        status=row.status,
        service_id=row.service_id,
        consent_id=row.consent_id,
        due_date=row.due_date,
        created_at=aware(row.created_at),
        created_by=row.created_by,
        responded_at=aware(row.responded_at),
        responded_by=row.responded_by,
    )


def insert_referral(
    conn: sa.Connection, ref: Referral, *, reason_sealed: bytes | None = None
) -> None:
    conn.execute(
        referrals.insert().values(
            referral_id=ref.referral_id,
            case_id=ref.case_id,
            from_agency=ref.from_agency,
            to_agency=ref.to_agency,
            service_id=ref.service_id,
            purpose=ref.purpose,
            shared_fields=_j(ref.shared_fields),
            status=ref.status,
            consent_id=ref.consent_id,
            due_date=ref.due_date,
            created_at=ref.created_at,
            created_by=ref.created_by,
            reason_sealed=reason_sealed,
        )
    )


def get_referral(conn: sa.Connection, referral_id: str) -> Referral | None:
    row = conn.execute(sa.select(referrals).where(referrals.c.referral_id == referral_id)).first()
    return referral_from_row(row) if row else None


def set_referral_status(
    conn: sa.Connection,
    referral_id: str,
    *,
    expected: Sequence[str],
    status: str,
    by: str,
    reason_sealed: bytes | None,
) -> bool:
    result = conn.execute(
        referrals.update()
        .where(referrals.c.referral_id == referral_id, referrals.c.status.in_(tuple(expected)))
        .values(status=status, responded_at=now(), responded_by=by, reason_sealed=reason_sealed)
    )
    return result.rowcount == 1


def case_referrals(conn: sa.Connection, case_id: str) -> list[Referral]:
    rows = conn.execute(
        sa.select(referrals).where(referrals.c.case_id == case_id).order_by(referrals.c.created_at)
    )
    return [referral_from_row(r) for r in rows]


def agency_referrals(
    conn: sa.Connection,
    agency: str,
    *,
    incoming: bool,
    overdue_on: date | None = None,
    limit: int = 200,
) -> list[Referral]:
    col = referrals.c.to_agency if incoming else referrals.c.from_agency
    query = sa.select(referrals).where(col == agency)
    if overdue_on is not None:
        query = query.where(referrals.c.status == "pending", referrals.c.due_date < overdue_on)
    rows = conn.execute(query.order_by(referrals.c.due_date, referrals.c.created_at).limit(limit))
    return [referral_from_row(r) for r in rows]


def live_referral_agencies(conn: sa.Connection, case_id: str) -> dict[str, frozenset[str]]:
    """Agencies with a live referral of the case -> union of the identity fields shared with them."""
    out: dict[str, set[str]] = {}
    rows = conn.execute(
        sa.select(referrals.c.to_agency, referrals.c.shared_fields).where(
            referrals.c.case_id == case_id, referrals.c.status.in_(("pending", "accepted"))
        )
    )
    for row in rows:
        out.setdefault(row.to_agency, set()).update(json.loads(row.shared_fields))
    return {k: frozenset(v) for k, v in out.items()}


# ---- consents, services given, directory ----


def consent_from_row(row: sa.Row) -> ConsentRecord:
    return ConsentRecord(
        consent_id=row.consent_id,
        case_id=row.case_id,
        purpose=row.purpose,
        recipient=row.recipient,
        given_at=aware(row.given_at),
        recorded_by=row.recorded_by,
        text_version=row.text_version,
        given_by=row.given_by,
        revoked_at=aware(row.revoked_at),
        revoked_by=row.revoked_by,
    )


def insert_consent(conn: sa.Connection, c: ConsentRecord) -> None:
    conn.execute(
        consents.insert().values(
            consent_id=c.consent_id,
            case_id=c.case_id,
            purpose=c.purpose,
            recipient=c.recipient,
            given_at=c.given_at,
            recorded_by=c.recorded_by,
            text_version=c.text_version,
            given_by=c.given_by,
        )
    )


def case_consents(conn: sa.Connection, case_id: str) -> list[ConsentRecord]:
    rows = conn.execute(
        sa.select(consents).where(consents.c.case_id == case_id).order_by(consents.c.given_at)
    )
    return [consent_from_row(r) for r in rows]


def revoke_consent(conn: sa.Connection, case_id: str, consent_id: str | None, *, by: str) -> int:
    """Revoke one live consent (or all of a case's when ``consent_id`` is None); returns how many."""
    query = consents.update().where(consents.c.case_id == case_id, consents.c.revoked_at.is_(None))
    if consent_id is not None:
        query = query.where(consents.c.consent_id == consent_id)
    return conn.execute(query.values(revoked_at=now(), revoked_by=by)).rowcount


def insert_service_given(
    conn: sa.Connection, e: ServiceEntry, *, note_sealed: bytes | None
) -> None:
    conn.execute(
        services_given.insert().values(
            entry_id=e.entry_id,
            case_id=e.case_id,
            agency=e.agency,
            service_type=e.service_type,
            given_on=e.given_on,
            recorded_by=e.recorded_by,
            referral_id=e.referral_id,
            note_sealed=note_sealed,
        )
    )


def case_services_given(
    conn: sa.Connection, case_id: str, agency: str | None = None
) -> list[sa.Row]:
    query = sa.select(services_given).where(services_given.c.case_id == case_id)
    if agency is not None:
        query = query.where(services_given.c.agency == agency)
    return list(conn.execute(query.order_by(services_given.c.given_on)))


def insert_service(conn: sa.Connection, s: Service) -> None:
    conn.execute(
        services.insert().values(
            service_id=s.service_id,
            agency=s.agency,
            name=s.name,
            service_type=s.service_type,
            location=s.location,
            languages=_j(s.languages),
            sexes=_j(s.sexes),
            min_age=s.min_age,
            max_age=s.max_age,
            accepts_children=s.accepts_children,
            capacity=s.capacity,
        )
    )


def service_from_row(row: sa.Row) -> Service:
    return Service(
        service_id=row.service_id,
        agency=row.agency,
        name=row.name,
        service_type=row.service_type,
        location=row.location,
        languages=tuple(json.loads(row.languages)),
        sexes=tuple(json.loads(row.sexes)),
        min_age=row.min_age,
        max_age=row.max_age,
        accepts_children=bool(row.accepts_children),
        capacity=row.capacity,
    )


def list_services(
    conn: sa.Connection, *, service_type: str | None = None, location: str | None = None
) -> list[Service]:
    query = sa.select(services)
    if service_type:
        query = query.where(services.c.service_type == service_type)
    if location:
        query = query.where(services.c.location == location)
    return [service_from_row(r) for r in conn.execute(query.order_by(services.c.name))]


def get_service(conn: sa.Connection, service_id: str) -> Service | None:
    row = conn.execute(sa.select(services).where(services.c.service_id == service_id)).first()
    return service_from_row(row) if row else None


# ---- review tasks, emergency grants, views ----


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


def cases_in_states(conn: sa.Connection, states: Iterable[str]) -> list[sa.Row]:
    return list(
        conn.execute(
            sa.select(cases.c.case_id, cases.c.agency, cases.c.status, cases.c.status_since).where(
                cases.c.status.in_(tuple(states))
            )
        )
    )


def insert_grant(conn: sa.Connection, **values: Any) -> None:
    conn.execute(emergency_grants.insert().values(**values))


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


def views(conn: sa.Connection, case_id: str, limit: int = 500) -> list[sa.Row]:
    return list(
        conn.execute(
            sa.select(case_views)
            .where(case_views.c.case_id == case_id)
            .order_by(case_views.c.at.desc())
            .limit(limit)
        )
    )


# ---- dashboard aggregates ----


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


# ---- users and sessions ----


def insert_user(conn: sa.Connection, **values: Any) -> None:
    conn.execute(users.insert().values(**values))


def get_user(
    conn: sa.Connection, *, username: str | None = None, user_id: str | None = None
) -> sa.Row | None:
    query = sa.select(users)
    query = (
        query.where(users.c.username == username)
        if username is not None
        else query.where(users.c.user_id == user_id)
    )
    return conn.execute(query).first()


def list_users(conn: sa.Connection) -> list[sa.Row]:
    return list(
        conn.execute(
            sa.select(
                users.c.user_id,
                users.c.username,
                users.c.role,
                users.c.agency,
                users.c.active,
                users.c.locked_until,
            ).order_by(users.c.username)
        )
    )


def update_user(conn: sa.Connection, user_id: str, **values: Any) -> None:
    conn.execute(users.update().where(users.c.user_id == user_id).values(**values))


def insert_session(conn: sa.Connection, **values: Any) -> None:
    conn.execute(sessions.insert().values(**values))


def get_session(conn: sa.Connection, token_hash: str) -> sa.Row | None:
    return conn.execute(
        sa.select(sessions, users.c.username, users.c.role, users.c.agency, users.c.active)
        .join(users, users.c.user_id == sessions.c.user_id)
        .where(sessions.c.token_hash == token_hash)
    ).first()


def touch_session(conn: sa.Connection, token_hash: str, at: datetime) -> None:
    conn.execute(
        sessions.update().where(sessions.c.token_hash == token_hash).values(last_seen_at=at)
    )


def delete_session(conn: sa.Connection, token_hash: str) -> None:
    conn.execute(sessions.delete().where(sessions.c.token_hash == token_hash))
