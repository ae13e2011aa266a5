"""The evidence locker at rest: items, the custody log, signing keys, per-case keys, checkpoints.

- ``evidence_items``: one row per evidentiary copy (case, SHA-256, size, sniffed type, when and
  by whom acquired, ``derived_from`` for working copies, the RFC 3161 token over its hash,
  status and legal hold). The original name and the source may name people: both are sealed.
- ``evidence_events``: each case's custody log, one signed RFC 8785 event per row, append-only
  (database triggers refuse UPDATE and DELETE; the hash chain, signatures and checkpoints detect
  anyone who drops the triggers).
- ``evidence_signing_keys``: each user's Ed25519 public key and, sealed under the key ring, the
  private key (never in plaintext in the database); revocation is a time, never a deletion.
- ``evidence_case_keys``: each case's blob key, sealed (wrapped) under the key ring, so key
  rotation re-wraps it without re-encrypting any blob.
- ``log_checkpoints``: signed, time-stamped checkpoints of every log (``custody/<case>`` and
  ``audit``), append-only as well.
- ``evidence_notes``: sealed free-text notes, named in events by their SHA-256.
Functions take the caller's connection, so a use case commits its change, its custody event and
its audit entry together.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ctip.storage.rotation import SealedColumn, register_sealed
from ctip.storage.tables import metadata

TS = sa.DateTime(timezone=True)
EVIDENCE_REVISION = "0701_evidence"

evidence_items = sa.Table(
    "evidence_items",
    metadata,
    sa.Column("item_id", sa.String(36), primary_key=True),
    sa.Column("case_id", sa.String(36), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("mime", sa.String(200), nullable=False),
    sa.Column("name_sealed", sa.LargeBinary, nullable=False),
    sa.Column("source_sealed", sa.LargeBinary, nullable=True),
    sa.Column("kind", sa.String(40), nullable=False),  # file, web-capture, screenshot, ...
    sa.Column("acquired_at", TS, nullable=False),
    sa.Column("acquired_by", sa.String(200), nullable=False),
    sa.Column("derived_from", sa.String(64), nullable=True),
    sa.Column("token", sa.LargeBinary, nullable=True),
    sa.Column("token_time", TS, nullable=True),
    sa.Column("status", sa.String(20), nullable=False),  # held | disposed
    sa.Column("legal_hold", sa.Boolean, nullable=False),
    sa.UniqueConstraint("case_id", "sha256", name="uq_evidence_items_case_sha256"),
)

evidence_events = sa.Table(
    "evidence_events",
    metadata,
    sa.Column("case_id", sa.String(36), primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("body", sa.LargeBinary, nullable=False),  # RFC 8785 bytes as signed
    sa.Column("event_hash", sa.String(64), nullable=False),
    sa.Column("signature", sa.LargeBinary, nullable=False),
)

evidence_signing_keys = sa.Table(
    "evidence_signing_keys",
    metadata,
    sa.Column("key_id", sa.String(32), primary_key=True),
    sa.Column("owner", sa.String(200), nullable=False),  # user id
    sa.Column("username", sa.String(200), nullable=False),
    sa.Column("public_key", sa.LargeBinary, nullable=False),
    sa.Column("private_sealed", sa.LargeBinary, nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("revoked_at", TS, nullable=True),
    sa.Column("revoked_by", sa.String(200), nullable=True),
    sa.Index("ix_evidence_signing_keys_owner", "owner"),
)

evidence_case_keys = sa.Table(
    "evidence_case_keys",
    metadata,
    sa.Column("case_id", sa.String(36), primary_key=True),
    sa.Column("key_sealed", sa.LargeBinary, nullable=False),
    sa.Column("created_at", TS, nullable=False),
)

evidence_notes = sa.Table(
    "evidence_notes",
    metadata,
    sa.Column("note_id", sa.String(64), primary_key=True),  # SHA-256 of the note's text
    sa.Column("case_id", sa.String(36), nullable=False, index=True),
    sa.Column("note_sealed", sa.LargeBinary, nullable=False),
)

log_checkpoints = sa.Table(
    "log_checkpoints",
    metadata,
    sa.Column("log", sa.String(80), primary_key=True),  # "audit" or "custody/<case id>"
    sa.Column("size", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("payload", sa.LargeBinary, nullable=False),
    sa.Column("signature", sa.LargeBinary, nullable=False),
    sa.Column("token", sa.LargeBinary, nullable=True),
    sa.Column("gen_time", TS, nullable=True),
)

APPEND_ONLY = ("evidence_events", "log_checkpoints")


def item_name_context(item_id: str) -> str:
    return f"evidence_items/{item_id}/name"


def item_source_context(item_id: str) -> str:
    return f"evidence_items/{item_id}/source"


def case_key_context(case_id: str) -> str:
    return f"evidence_case_keys/{case_id}/key"


def signing_key_context(key_id: str) -> str:
    return f"evidence_signing_keys/{key_id}/private"


def note_context(note_id: str) -> str:
    return f"evidence_notes/{note_id}/note"


register_sealed(SealedColumn(evidence_items, "item_id", "name_sealed", item_name_context))
register_sealed(SealedColumn(evidence_items, "item_id", "source_sealed", item_source_context))
register_sealed(SealedColumn(evidence_case_keys, "case_id", "key_sealed", case_key_context))
register_sealed(SealedColumn(evidence_signing_keys, "key_id", "private_sealed",
                             signing_key_context))
register_sealed(SealedColumn(evidence_notes, "note_id", "note_sealed", note_context))


# ---- items ------------------------------------------------------------------------------------
def insert_item(conn: sa.Connection, **values: Any) -> None:
    conn.execute(evidence_items.insert().values(**values))


def item_by_hash(conn: sa.Connection, case_id: str, sha256: str) -> sa.Row[Any] | None:
    return conn.execute(sa.select(evidence_items).where(
        evidence_items.c.case_id == case_id, evidence_items.c.sha256 == sha256)).first()


def items_of_case(conn: sa.Connection, case_id: str) -> list[sa.Row[Any]]:
    return list(conn.execute(sa.select(evidence_items)
                             .where(evidence_items.c.case_id == case_id)
                             .order_by(evidence_items.c.acquired_at, evidence_items.c.sha256)))


def cases_with_items(conn: sa.Connection) -> list[str]:
    return list(conn.scalars(sa.select(evidence_items.c.case_id).distinct()
                             .order_by(evidence_items.c.case_id)))


def update_item(conn: sa.Connection, item_id: str, **values: Any) -> None:
    conn.execute(evidence_items.update().where(evidence_items.c.item_id == item_id)
                 .values(**values))


# ---- custody events ---------------------------------------------------------------------------
def log_head(conn: sa.Connection, case_id: str) -> tuple[int, str] | None:
    row = conn.execute(sa.select(evidence_events.c.seq, evidence_events.c.event_hash)
                       .where(evidence_events.c.case_id == case_id)
                       .order_by(evidence_events.c.seq.desc()).limit(1)).first()
    return (row.seq, row.event_hash) if row else None


def insert_event(conn: sa.Connection, case_id: str, seq: int, body: bytes, event_hash: str,
                 signature: bytes) -> None:
    conn.execute(evidence_events.insert().values(case_id=case_id, seq=seq, body=body,
                                                 event_hash=event_hash, signature=signature))


def events_of_case(conn: sa.Connection, case_id: str) -> list[sa.Row[Any]]:
    return list(conn.execute(sa.select(evidence_events)
                             .where(evidence_events.c.case_id == case_id)
                             .order_by(evidence_events.c.seq)))


def case_lock(conn: sa.Connection, case_id: str) -> None:
    """Serialise appends to one case's log before its head is read: a transaction-level
    advisory lock on PostgreSQL, the database's write lock on SQLite."""
    import hashlib

    from ctip.storage.backend import backend_of

    key = int.from_bytes(hashlib.sha256(b"ctip custody " + case_id.encode()).digest()[:8],
                         "big", signed=True)
    backend_of(conn).lock_exclusive(conn, key)


# ---- keys -------------------------------------------------------------------------------------
def case_key_row(conn: sa.Connection, case_id: str) -> sa.Row[Any] | None:
    return conn.execute(sa.select(evidence_case_keys)
                        .where(evidence_case_keys.c.case_id == case_id)).first()


def insert_case_key(conn: sa.Connection, case_id: str, key_sealed: bytes, at: datetime) -> None:
    conn.execute(evidence_case_keys.insert().values(case_id=case_id, key_sealed=key_sealed,
                                                    created_at=at))


def active_signing_key(conn: sa.Connection, owner: str) -> sa.Row[Any] | None:
    return conn.execute(sa.select(evidence_signing_keys)
                        .where(evidence_signing_keys.c.owner == owner,
                               evidence_signing_keys.c.revoked_at.is_(None))
                        .order_by(evidence_signing_keys.c.created_at.desc()).limit(1)).first()


def insert_signing_key(conn: sa.Connection, **values: Any) -> None:
    conn.execute(evidence_signing_keys.insert().values(**values))


def signing_keys(conn: sa.Connection, key_ids: Sequence[str] | None = None) -> list[sa.Row[Any]]:
    query = sa.select(evidence_signing_keys).order_by(evidence_signing_keys.c.created_at)
    if key_ids is not None:
        query = query.where(evidence_signing_keys.c.key_id.in_(list(key_ids)))
    return list(conn.execute(query))


def revoke_signing_keys(conn: sa.Connection, owner: str, at: datetime, by: str) -> list[str]:
    ids = list(conn.scalars(sa.select(evidence_signing_keys.c.key_id).where(
        evidence_signing_keys.c.owner == owner, evidence_signing_keys.c.revoked_at.is_(None))))
    if ids:
        conn.execute(evidence_signing_keys.update()
                     .where(evidence_signing_keys.c.key_id.in_(ids))
                     .values(revoked_at=at, revoked_by=by))
    return ids


# ---- notes ------------------------------------------------------------------------------------
def insert_note(conn: sa.Connection, note_id: str, case_id: str, sealed: bytes) -> None:
    if conn.execute(sa.select(evidence_notes.c.note_id)
                    .where(evidence_notes.c.note_id == note_id)).first() is None:
        conn.execute(evidence_notes.insert().values(note_id=note_id, case_id=case_id,
                                                    note_sealed=sealed))


def notes_of_case(conn: sa.Connection, case_id: str) -> list[sa.Row[Any]]:
    return list(conn.execute(sa.select(evidence_notes)
                             .where(evidence_notes.c.case_id == case_id)))


# ---- checkpoints ------------------------------------------------------------------------------
def insert_checkpoint(conn: sa.Connection, *, log: str, size: int, payload: bytes,
                      signature: bytes, token: bytes | None, gen_time: datetime | None) -> None:
    conn.execute(log_checkpoints.insert().values(log=log, size=size, payload=payload,
                                                 signature=signature, token=token,
                                                 gen_time=gen_time))


def checkpoints_of(conn: sa.Connection, log: str) -> list[sa.Row[Any]]:
    return list(conn.execute(sa.select(log_checkpoints).where(log_checkpoints.c.log == log)
                             .order_by(log_checkpoints.c.size)))


def latest_checkpoint_size(conn: sa.Connection, log: str) -> int:
    return int(conn.scalar(sa.select(sa.func.max(log_checkpoints.c.size))
                           .where(log_checkpoints.c.log == log)) or 0)
