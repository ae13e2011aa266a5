"""Queries for user accounts and sessions (tables in ``storage/casework.py``).

Only hashes of passwords (argon2) and of session tokens (SHA-256) are stored; TOTP secrets are
sealed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ctip.storage.casework import (
    sessions,
    users,
)


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


def list_users(conn: sa.Connection, *, agency: str | None = None) -> list[sa.Row]:
    """Every user (no secret, no hash), or those of one agency."""
    query = sa.select(
        users.c.user_id,
        users.c.username,
        users.c.role,
        users.c.agency,
        users.c.active,
        users.c.locked_until,
        users.c.failed_logins,
        users.c.created_at,
        users.c.last_login_at,
    ).order_by(users.c.agency, users.c.username)
    if agency is not None:
        query = query.where(users.c.agency == agency)
    return list(conn.execute(query))


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


def delete_user_sessions(conn: sa.Connection, user_id: str, *, keep: str | None = None) -> int:
    """End a user's sessions (all but the one whose hash is ``keep``); how many ended."""
    query = sessions.delete().where(sessions.c.user_id == user_id)
    if keep is not None:
        query = query.where(sessions.c.token_hash != keep)
    return int(conn.execute(query).rowcount or 0)


def release_login_attempt(conn: sa.Connection, user_id: str, *, max_failures: int) -> None:
    """Take back one attempt counted by ``reserve_login_attempt`` (a right password with a
    one-time code already used: a person waiting for the next code, not a guess). The lock goes
    only when the count falls below the limit again, so other failures still lock."""
    count = sa.case((users.c.failed_logins > 0, users.c.failed_logins - 1), else_=sa.literal(0))
    conn.execute(
        users.update()
        .where(users.c.user_id == user_id)
        .values(
            failed_logins=count,
            locked_until=sa.case(
                (users.c.failed_logins - 1 < max_failures, sa.null()),
                else_=users.c.locked_until,
            ),
        )
    )


def reserve_login_attempt(
    conn: sa.Connection, user_id: str, *, at: datetime, max_failures: int, lock_until: datetime
) -> int | None:
    """Count a sign-in attempt as failed *before* it is checked, in one atomic statement.

    Returns the new count of consecutive failures when the attempt may be checked, or None when
    the account is locked or inactive (nothing is checked then). The statement both tests the
    lock and counts, so concurrent attempts cannot all pass a "not locked yet" test before any
    of them is counted: at most ``max_failures`` attempts are ever checked per lockout window.
    An expired lock starts a new window (the count restarts at 1); the attempt that brings the
    count to ``max_failures`` is still checked and sets the lock. A success resets the count
    (``claim_login``)."""
    expired = sa.and_(users.c.locked_until.is_not(None), users.c.locked_until <= at)
    count = sa.case((expired, sa.literal(1)), else_=users.c.failed_logins + 1)
    result = conn.execute(
        users.update()
        .where(
            users.c.user_id == user_id,
            users.c.active.is_(True),
            sa.or_(users.c.locked_until.is_(None), users.c.locked_until <= at),
        )
        .values(
            failed_logins=count,
            locked_until=sa.case(
                (count >= max_failures, sa.literal(lock_until, users.c.locked_until.type)),
                (expired, sa.null()),
                else_=users.c.locked_until,
            ),
        )
        .returning(users.c.failed_logins)
    ).first()
    return None if result is None else int(result[0])


def claim_login(conn: sa.Connection, user_id: str, *, step: int, at: datetime) -> bool:
    """Use one TOTP time step for a sign-in, in one atomic statement: true for exactly one of
    any number of concurrent sign-ins with the same code (RFC 6238 5.2: a code is accepted
    once; an older one never). Resets the failure count and lifts the lock."""
    done = conn.execute(
        users.update()
        .where(
            users.c.user_id == user_id,
            users.c.active.is_(True),
            sa.or_(users.c.totp_last_step.is_(None), users.c.totp_last_step < step),
        )
        .values(totp_last_step=step, failed_logins=0, locked_until=None, last_login_at=at)
    )
    return done.rowcount == 1
