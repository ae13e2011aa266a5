"""The append-only, hash-chained audit log of every change and every read of identity.

Each entry's hash is SHA-256 over the previous entry's hash and the entry's own fields (sequence
number, time, actor, action, subject, canonical JSON details). ``verify`` walks the chain from
the first entry and names the first entry that does not fit: edited (its hash no longer matches
its content), deleted or inserted (the sequence numbers or the link to the previous hash break)
and reordered entries all show up there.

Keyed tags: the chain alone does not stop anyone who can write to the database AND recompute
hashes (a forged entry appended with a valid hash verified). Each entry therefore also gets a tag,
HMAC-SHA256 over its sequence number and hash, under a key that is never in the database (derived
from the pseudonym key, ``audit_tag_key``), in ``audit_tags``. ``verify`` with the key refuses an
entry without a valid tag: a forged, edited, re-numbered or replayed entry needs the key.

What the tags do not prove: that nothing was cut off the end of the chain, or that someone who
holds the key (the application host) did not rewrite it. Signed, time-stamped checkpoints of the
log (``services/anchoring.py``, the same mechanism as the evidence locker's custody logs) and a
head recorded outside the database (``ctip audit verify --expect-head SEQ:HASH``: the chain must
still contain entry SEQ with that hash) cover those; docs/methods/evidence.md says where to keep
them. Details never hold identity.

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
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from ctip.storage.backend import backend_of
from ctip.storage.tables import audit_log, metadata

GENESIS = "0" * 64
_PG_LOCK_ID = 7_411_201  # advisory lock serialising appends on PostgreSQL
_PG_APPEND = sa.text(
    "SELECT ctip_audit_append(:lock, :at, :actor, :action, :subject, :details)"
)
# the same append, returning "seq:hash" so the keyed tag can be added (migration 0702)
_PG_APPEND_HASHED = sa.text(
    "SELECT ctip_audit_append_hashed(:lock, :at, :actor, :action, :subject, :details)"
)

audit_tags = sa.Table(
    "audit_tags",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("tag", sa.String(64), nullable=False),
)


TAG_KEY_INFO = b"ctip audit tag key v1"


def audit_tag_key(pseudonym_key: bytes) -> bytes:
    """The audit tag key: HKDF from the pseudonym key (outside the database, never rotated)."""
    from ctip.storage.sealing import Pseudonymiser

    return Pseudonymiser(pseudonym_key).derived_key(TAG_KEY_INFO)


def keyed_audit_log(pseudonymiser: Any) -> AuditLog:
    """The audit log whose entries carry keyed tags (the key derived from the pseudonymiser's)."""
    return AuditLog(pseudonymiser.derived_key(TAG_KEY_INFO))


def entry_tag(key: bytes, seq: int, entry_hash_hex: str) -> str:
    return hmac.new(key, b"ctip-audit-tag-v1\x00%d\x00" % seq + entry_hash_hex.encode(),
                    "sha256").hexdigest()


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
    tagged: bool = False  # the keyed tags were checked (the verifier had the key)


def _parse_head(expect_head: str) -> tuple[int | None, str]:
    seq_text, sep, digest = expect_head.strip().partition(":")
    if not sep:
        return None, seq_text
    try:
        return int(seq_text), digest
    except ValueError:
        return None, expect_head.strip()


class AuditLog:
    """Append and verify. Appends take part in the caller's transaction (conn).

    ``tag_key`` (``audit_tag_key``) adds the keyed tag to each append and makes ``verify``
    check every entry's tag; without it entries are untagged and ``verify`` checks the chain
    only (and says so: ``VerifyResult.tagged``). Every store opened from settings holds the
    keyed log (``keyed_audit_log``): a service must append through the store's ``audit``, since
    an entry written without the key is refused by ``verify`` like a forged one."""

    def __init__(self, tag_key: bytes | None = None) -> None:
        self.tag_key = tag_key

    def append(self, conn: sa.Connection, *, actor: str, action: str, subject: str,
               details: dict[str, Any]) -> None:
        at = datetime.now(UTC).isoformat(timespec="microseconds")
        text = canonical(details)
        backend = backend_of(conn)
        if backend.appends_audit_in_database:
            # lock, read the head, hash and insert in one round trip (migration 0104); the
            # lock is held until this transaction ends, so callers append last, then commit
            params = {"lock": _PG_LOCK_ID, "at": at, "actor": actor, "action": action,
                      "subject": subject, "details": text}
            if self.tag_key is None:
                conn.execute(_PG_APPEND, params)
                return
            seq_text, _, digest = str(conn.execute(_PG_APPEND_HASHED, params).scalar_one()
                                      ).partition(":")
            conn.execute(audit_tags.insert().values(
                seq=int(seq_text), tag=entry_tag(self.tag_key, int(seq_text), digest)))
            return
        # SQLite: take the write lock before reading the head, or a concurrent append could slip
        # in between the read and the insert (two entries with one sequence number)
        backend.begin_write(conn)
        last = conn.execute(
            sa.select(audit_log.c.seq, audit_log.c.entry_hash)
            .order_by(audit_log.c.seq.desc()).limit(1)
        ).first()
        seq, prev = (last.seq + 1, last.entry_hash) if last else (1, GENESIS)
        digest = entry_hash(prev, seq, at, actor, action, subject, text)
        conn.execute(audit_log.insert().values(
            seq=seq, at=at, actor=actor, action=action, subject=subject, details=text,
            prev_hash=prev, entry_hash=digest,
        ))
        if self.tag_key is not None:
            conn.execute(audit_tags.insert().values(seq=seq,
                                                    tag=entry_tag(self.tag_key, seq, digest)))

    def entries(self, conn: sa.Connection, *, subject: str | None = None,
                action: str | None = None, newest_first: bool = False) -> Iterator[AuditEntry]:
        order = audit_log.c.seq.desc() if newest_first else audit_log.c.seq
        query = sa.select(audit_log).order_by(order)
        if subject is not None:
            query = query.where(audit_log.c.subject == subject)
        if action is not None:
            query = query.where(audit_log.c.action == action)
        for row in conn.execute(query):
            yield AuditEntry(row.seq, row.at, row.actor, row.action, row.subject,
                             json.loads(row.details), row.prev_hash, row.entry_hash)

    def entry_hashes(self, conn: sa.Connection, upto: int | None = None) -> list[str]:
        """The entries' hashes in order (for checkpoints' Merkle roots)."""
        query = sa.select(audit_log.c.entry_hash).order_by(audit_log.c.seq)
        if upto is not None:
            query = query.where(audit_log.c.seq <= upto)
        # statement-level: Connection.execution_options would change the caller's connection
        return list(conn.scalars(query.execution_options(yield_per=50_000)))

    def verify(self, conn: sa.Connection, *, expect_head: str | None = None) -> VerifyResult:
        """Walk the whole chain (and the keyed tags, with the key); stop at the first entry
        that does not fit. ``expect_head`` (SEQ:HASH, or HASH) is a head recorded earlier: the
        chain must still contain that entry, whatever was appended after it."""
        prev, expected_seq, count = GENESIS, 1, 0
        want_seq, want_hash = _parse_head(expect_head) if expect_head else (None, None)
        seen_expected = False
        key = self.tag_key
        rows = conn.execute(
            sa.select(audit_log, audit_tags.c.tag)
            .select_from(audit_log.outerjoin(audit_tags, audit_tags.c.seq == audit_log.c.seq))
            .order_by(audit_log.c.seq).execution_options(yield_per=10_000))
        for row in rows:
            count += 1
            if row.seq != expected_seq:
                kind = "missing (deleted)" if row.seq > expected_seq else "out of order"
                return VerifyResult(False, count, row.seq,
                                    f"entry {row.seq}: expected sequence number {expected_seq}; "
                                    f"an entry before it is {kind} or was inserted",
                                    tagged=key is not None)
            if row.prev_hash != prev:
                return VerifyResult(False, count, row.seq,
                                    f"entry {row.seq}: does not link to the entry before it "
                                    "(an entry was deleted, inserted or reordered here)",
                                    tagged=key is not None)
            recomputed = entry_hash(row.prev_hash, row.seq, row.at, row.actor, row.action,
                                    row.subject, row.details)
            if recomputed != row.entry_hash:
                return VerifyResult(False, count, row.seq,
                                    f"entry {row.seq}: its content was changed after it was "
                                    "written (hash mismatch)", tagged=key is not None)
            if key is not None and (row.tag is None or not hmac.compare_digest(
                    row.tag, entry_tag(key, row.seq, row.entry_hash))):
                what = "has no keyed tag" if row.tag is None else "has a wrong keyed tag"
                return VerifyResult(False, count, row.seq,
                                    f"entry {row.seq}: {what}: it was not written by ctip with "
                                    "this database's key (forged, or the chain was rewritten "
                                    "from here)", tagged=True)
            if want_hash is not None and row.entry_hash == want_hash and (
                    want_seq is None or want_seq == row.seq):
                seen_expected = True
            prev, expected_seq = row.entry_hash, expected_seq + 1
        head_seq = expected_seq - 1 if count else None
        head_hash = prev if count else None
        if expect_head is not None and not seen_expected:
            return VerifyResult(False, count, want_seq,
                                f"the recorded head {expect_head} is not in the chain (now "
                                f"{head_seq}:{prev}): entries were cut off or the chain was "
                                "rewritten", head_seq, head_hash, key is not None)
        return VerifyResult(True, count, None, None, head_seq, head_hash, key is not None)

    def adopt_untagged(self, conn: sa.Connection, *, actor: str) -> int:
        """Tag the entries written before keyed tags existed (after checking their chain), and
        record that it was done. Trust on first use: run once, right after upgrading."""
        if self.tag_key is None:
            raise ValueError("adopting needs the tag key")
        backend_of(conn).lock_exclusive(conn, _PG_LOCK_ID)  # no append meanwhile
        chain = AuditLog().verify(conn)
        if not chain.ok:
            from ctip.errors import AuditChainError

            raise AuditChainError(f"The audit chain is broken ({chain.problem}); its entries "
                                  "cannot be adopted.",
                                  hint="restore the database from a backup taken before")
        rows = conn.execute(
            sa.select(audit_log.c.seq, audit_log.c.entry_hash)
            .select_from(audit_log.outerjoin(audit_tags, audit_tags.c.seq == audit_log.c.seq))
            .where(audit_tags.c.seq.is_(None)).order_by(audit_log.c.seq)).all()
        if rows:
            conn.execute(audit_tags.insert(), [
                {"seq": r.seq, "tag": entry_tag(self.tag_key, r.seq, r.entry_hash)}
                for r in rows])
        self.append(conn, actor=actor, action="audit.tags.adopt", subject="audit",
                    details={"entries": len(rows), "upto": rows[-1].seq if rows else None})
        return len(rows)
