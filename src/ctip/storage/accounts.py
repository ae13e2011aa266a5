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
