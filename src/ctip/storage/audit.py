"""The append-only, hash-chained audit log of every change and every read of identity.

Each entry's hash is SHA-256 over the previous entry's hash and the entry's own fields (sequence
number, time, actor, action, subject, canonical JSON details). ``verify`` walks the chain from
the first entry and names the first entry that does not fit: edited (its hash no longer matches
its content), deleted or inserted (the sequence numbers or the link to the previous hash break)
and reordered entries all show up there.

What it does not prove: anyone who can write to the database AND recompute hashes could rewrite
the chain from some point on, or cut entries off its end. ``verify`` therefore reports the head
(last sequence number and hash); record it somewhere the database administrator cannot write
(``ctip audit verify --expect-head``) to detect that too. Details never hold identity.

Concurrency: appends are strictly serialised, so the chain has one order and no gaps. On
PostgreSQL ``append`` is a single call of the database function ``ctip_audit_append``
(migration 0104): it takes a transaction-level advisory lock, reads the head and inserts the
next entry with its hash computed in the database exactly as ``entry_hash`` does (``verify``
recomputes every hash in Python). The lock is held until the caller's transaction commits or
rolls back: the next append sees this entry or, after a rollback, none of it (no gap). Because
every audited request waits for that lock, callers append as the *last* statement before their
commit, so it is held for one round trip and the commit. On SQLite the append first takes the
database's write lock (SQLite has one writer at a time), then reads the head.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from ctip.storage.backend import backend_of
from ctip.storage.tables import audit_log

GENESIS = "0" * 64
_PG_LOCK_ID = 7_411_201  # advisory lock serialising appends on PostgreSQL
_PG_APPEND = sa.text(
    "SELECT ctip_audit_append(:lock, :at, :actor, :action, :subject, :details)"
)


def canonical(details: dict[str, Any]) -> str:
    return json.dumps(details, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str)


def entry_hash(prev_hash: str, seq: int, at: str, actor: str, action: str, subject: str,
               details: str) -> str:
    fields = [prev_hash, str(seq), at, actor, action, subject, details]
    # length-prefixed so no two different entries serialise to the same bytes
    payload = b"".join(len(f.encode()).to_bytes(8, "big") + f.encode() for f in fields)
    return hashlib.sha256(payload).hexdigest()


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: str
    actor: str
    action: str
    subject: str
    details: dict[str, Any]
    prev_hash: str
    entry_hash: str


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    entries: int
    first_bad: int | None = None  # sequence number (or position) of the first bad entry
    problem: str | None = None
    head_seq: int | None = None
    head_hash: str | None = None


class AuditLog:
    """Append and verify. Appends take part in the caller's transaction (conn)."""

    def append(self, conn: sa.Connection, *, actor: str, action: str, subject: str,
               details: dict[str, Any]) -> None:
        at = datetime.now(UTC).isoformat(timespec="microseconds")
        text = canonical(details)
        backend = backend_of(conn)
        if backend.appends_audit_in_database:
            # lock, read the head, hash and insert in one round trip (migration 0104); the
            # lock is held until this transaction ends, so callers append last, then commit
            conn.execute(_PG_APPEND, {"lock": _PG_LOCK_ID, "at": at, "actor": actor,
                                      "action": action, "subject": subject, "details": text})
            return
        # SQLite: take the write lock before reading the head, or a concurrent append could slip
        # in between the read and the insert (two entries with one sequence number)
        backend.begin_write(conn)
        last = conn.execute(
            sa.select(audit_log.c.seq, audit_log.c.entry_hash)
            .order_by(audit_log.c.seq.desc()).limit(1)
        ).first()
        seq, prev = (last.seq + 1, last.entry_hash) if last else (1, GENESIS)
        conn.execute(audit_log.insert().values(
            seq=seq, at=at, actor=actor, action=action, subject=subject, details=text,
            prev_hash=prev, entry_hash=entry_hash(prev, seq, at, actor, action, subject, text),
        ))

    def entries(self, conn: sa.Connection, *, subject: str | None = None,
                action: str | None = None) -> Iterator[AuditEntry]:
        query = sa.select(audit_log).order_by(audit_log.c.seq)
        if subject is not None:
            query = query.where(audit_log.c.subject == subject)
        if action is not None:
            query = query.where(audit_log.c.action == action)
        for row in conn.execute(query):
            yield AuditEntry(row.seq, row.at, row.actor, row.action, row.subject,
                             json.loads(row.details), row.prev_hash, row.entry_hash)

    def verify(self, conn: sa.Connection, *, expect_head: str | None = None) -> VerifyResult:
        """Walk the whole chain; stop at the first entry that does not fit."""
        prev, expected_seq, count = GENESIS, 1, 0
        rows = conn.execution_options(yield_per=10_000).execute(
            sa.select(audit_log).order_by(audit_log.c.seq))
        for row in rows:
            count += 1
            if row.seq != expected_seq:
                kind = "missing (deleted)" if row.seq > expected_seq else "out of order"
                return VerifyResult(False, count, row.seq,
                                    f"entry {row.seq}: expected sequence number {expected_seq}; "
                                    f"an entry before it is {kind} or was inserted")
            if row.prev_hash != prev:
                return VerifyResult(False, count, row.seq,
                                    f"entry {row.seq}: does not link to the entry before it "
                                    "(an entry was deleted, inserted or reordered here)")
            recomputed = entry_hash(row.prev_hash, row.seq, row.at, row.actor, row.action,
                                    row.subject, row.details)
            if recomputed != row.entry_hash:
                return VerifyResult(False, count, row.seq,
                                    f"entry {row.seq}: its content was changed after it was "
                                    "written (hash mismatch)")
            prev, expected_seq = row.entry_hash, expected_seq + 1
        head_seq = expected_seq - 1 if count else None
        head_hash = prev if count else None
        if expect_head is not None and expect_head not in {prev, f"{head_seq}:{prev}"}:
            return VerifyResult(False, count, head_seq,
                                f"the chain's head ({head_seq}:{prev}) is not the recorded head "
                                f"{expect_head}: entries were cut off or the chain was rewritten",
                                head_seq, head_hash)
        return VerifyResult(True, count, None, None, head_seq, head_hash)
