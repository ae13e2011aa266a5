"""Queries for referrals, the consent ledger, the services-given log and the service directory.

Tables are defined in ``storage/casework.py``; every function takes the caller's connection.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import date

import sqlalchemy as sa

from ctip.domain.casework import ConsentRecord, Referral, Service, ServiceEntry
from ctip.storage.casework import (
    _j,
    aware,
    consents,
    now,
    referrals,
    services,
    services_given,
)


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


def sent_referrals(
    conn: sa.Connection,
    agency: str,
    *,
    statuses: Iterable[str] | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[Referral]:
    """One page of the referrals ``agency`` sent (with one of ``statuses``), newest first: the
    database pages them (index ``from_agency, status``), so an agency with years of referrals
    reads one page, not all of them."""
    query = sa.select(referrals).where(referrals.c.from_agency == agency)
    if statuses is not None:
        query = query.where(referrals.c.status.in_(tuple(statuses)))
    query = query.order_by(referrals.c.created_at.desc(), referrals.c.referral_id)
    return [referral_from_row(r) for r in conn.execute(query.limit(limit).offset(offset))]


def referral_counts(conn: sa.Connection, agency: str, *, incoming: bool) -> dict[str, int]:
    """status -> number of the agency's referrals received (or sent)."""
    col = referrals.c.to_agency if incoming else referrals.c.from_agency
    rows = conn.execute(
        sa.select(referrals.c.status, sa.func.count()).where(col == agency)
        .group_by(referrals.c.status)
    )
    return {str(r[0]): int(r[1]) for r in rows}


def live_referral_agencies(conn: sa.Connection, case_id: str) -> dict[str, frozenset[str]]:
    """Agencies with a live referral of the case -> union of the identity fields shared with
    them."""
    out: dict[str, set[str]] = {}
    rows = conn.execute(
        sa.select(referrals.c.to_agency, referrals.c.shared_fields).where(
            referrals.c.case_id == case_id, referrals.c.status.in_(("pending", "accepted"))
        )
    )
    for row in rows:
        out.setdefault(row.to_agency, set()).update(json.loads(row.shared_fields))
    return {k: frozenset(v) for k, v in out.items()}


def live_referral_agencies_many(
    conn: sa.Connection, case_ids: Sequence[str]
) -> dict[str, dict[str, frozenset[str]]]:
    """``live_referral_agencies`` for many cases in one query (a list page, not N queries)."""
    out: dict[str, dict[str, set[str]]] = {}
    if case_ids:
        rows = conn.execute(
            sa.select(referrals.c.case_id, referrals.c.to_agency, referrals.c.shared_fields).where(
                referrals.c.case_id.in_(list(case_ids)),
                referrals.c.status.in_(("pending", "accepted")),
            )
        )
        for row in rows:
            out.setdefault(row.case_id, {}).setdefault(row.to_agency, set()).update(
                json.loads(row.shared_fields)
            )
    return {c: {a: frozenset(f) for a, f in agencies.items()} for c, agencies in out.items()}


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
    """Revoke one live consent (or all of a case's when ``consent_id`` is None); returns how
    many."""
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


def directory_agencies(conn: sa.Connection) -> list[str]:
    """The agencies that list at least one service in the directory, sorted."""
    query = sa.select(services.c.agency).distinct().order_by(services.c.agency)
    return [r.agency for r in conn.execute(query)]


def in_directory(conn: sa.Connection, agency: str) -> bool:
    query = sa.select(services.c.service_id).where(services.c.agency == agency).limit(1)
    return conn.execute(query).first() is not None


def get_service(conn: sa.Connection, service_id: str) -> Service | None:
    row = conn.execute(sa.select(services).where(services.c.service_id == service_id)).first()
    return service_from_row(row) if row else None
