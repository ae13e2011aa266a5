"""Where case management seals text, the AAD context of each sealed column, and its registration
for key rotation.

One function per sealed column builds the context from the row's primary key; the services seal
and open with these same functions and ``storage.rotation`` re-seals with them, so the two can
never drift apart. A column missing here would be refused by ``rotate_keys`` (its old key is
kept), so add any new sealed column to ``SEALED_COLUMNS``.

Free-text reasons that an audit entry refers to (an identity reveal's reason, a consent
override's justification) live in ``access_reasons``, not in the audit details: audit entries are
hash-chained and immutable, so ciphertext inside them could never be re-sealed and would become
unreadable once its key is retired. The audit entry carries only the ``reason_id``.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from ctip.storage.casework import (
    access_reasons,
    case_events,
    cases,
    emergency_grants,
    referrals,
    services_given,
    users,
)
from ctip.storage.rotation import SealedColumn, register_sealed


def case_identity_context(case_id: str) -> str:
    return f"case/{case_id}/identity"


def case_notes_context(case_id: str) -> str:
    return f"case/{case_id}/notes"


def event_reason_context(event_id: str) -> str:
    return f"event/{event_id}/reason"


def referral_reason_context(referral_id: str) -> str:
    return f"referral/{referral_id}/reason"


def service_note_context(entry_id: str) -> str:
    return f"service/{entry_id}/note"


def grant_context(grant_id: str) -> str:
    return f"grant/{grant_id}"


def totp_context(user_id: str) -> str:
    return f"user/{user_id}/totp"


def access_reason_context(reason_id: str) -> str:
    return f"access_reason/{reason_id}"


SEALED_COLUMNS = (
    SealedColumn(cases, "case_id", "identity_sealed", case_identity_context),
    SealedColumn(cases, "case_id", "notes_sealed", case_notes_context),
    SealedColumn(case_events, "event_id", "reason_sealed", event_reason_context),
    SealedColumn(referrals, "referral_id", "reason_sealed", referral_reason_context),
    SealedColumn(services_given, "entry_id", "note_sealed", service_note_context),
    SealedColumn(emergency_grants, "grant_id", "justification_sealed", grant_context),
    SealedColumn(users, "user_id", "totp_sealed", totp_context),
    SealedColumn(access_reasons, "reason_id", "reason_sealed", access_reason_context),
)
for _column in SEALED_COLUMNS:
    register_sealed(_column)


def insert_access_reason(
    conn: sa.Connection,
    *,
    reason_id: str,
    case_id: str,
    kind: str,
    at: datetime,
    reason_sealed: bytes,
) -> None:
    conn.execute(
        access_reasons.insert().values(
            reason_id=reason_id, case_id=case_id, kind=kind, at=at, reason_sealed=reason_sealed
        )
    )


def get_access_reason(conn: sa.Connection, reason_id: str) -> sa.Row | None:
    return conn.execute(
        sa.select(access_reasons).where(access_reasons.c.reason_id == reason_id)
    ).first()
