"""Issue 20 item 4 (audit tail): a recorded head must still be *in* the chain (not be its
head), and an entry forged with a valid hash must not verify: every entry carries a keyed tag
(HMAC under a key outside the database). Each test failed before the fix."""

from __future__ import annotations

import secrets

import pytest
import sqlalchemy as sa

from ctip.storage.audit import AuditLog, audit_tags, entry_hash
from ctip.storage.engine import make_engine, migrate
from ctip.storage.tables import audit_log

KEY = secrets.token_bytes(32)


@pytest.fixture
def engine(database_url: str) -> sa.Engine:
    engine = make_engine(database_url)
    migrate(engine)
    log = AuditLog(KEY)
    with engine.begin() as conn:
        for i in range(1, 6):
            log.append(conn, actor=f"user{i}", action="case.view", subject=f"case-{i}",
                       details={"i": i})
    yield engine
    engine.dispose()


def _verify(engine: sa.Engine, key: bytes | None = KEY, **kw: str):  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return AuditLog(key).verify(conn, **kw)


def _forge(conn: sa.Connection, seq: int, actor: str = "mallory") -> None:
    """Append an entry with a correct hash, as anyone with database rights can."""
    prev = conn.execute(sa.select(audit_log.c.entry_hash).where(audit_log.c.seq == seq - 1)
                        ).scalar_one()
    at = "2026-12-03T10:00:00.000000+00:00"
    conn.execute(audit_log.insert().values(
        seq=seq, at=at, actor=actor, action="identity.reveal", subject="case-1", details="{}",
        prev_hash=prev, entry_hash=entry_hash(prev, seq, at, actor, "identity.reveal", "case-1",
                                              "{}")))


def test_recorded_head_still_verifies_after_legitimate_entries(engine: sa.Engine) -> None:
    head = _verify(engine)
    assert head.ok and head.tagged and head.head_seq == 5
    recorded = f"{head.head_seq}:{head.head_hash}"
    with engine.begin() as conn:
        AuditLog(KEY).append(conn, actor="user9", action="case.view", subject="case-9",
                             details={})
    assert _verify(engine, expect_head=recorded).ok
    assert _verify(engine, expect_head=head.head_hash or "").ok  # bare HASH form
    wrong = f"4:{head.head_hash}"  # the right hash at the wrong position is not in the chain
    assert not _verify(engine, expect_head=wrong).ok


def test_forged_entry_with_a_valid_hash_does_not_verify(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        _forge(conn, 6)
    assert _verify(engine, key=None).ok  # the chain alone cannot tell
    result = _verify(engine)
    assert not result.ok and result.first_bad == 6 and "keyed tag" in (result.problem or "")


def test_forged_entry_with_a_tag_under_another_key_does_not_verify(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        _forge(conn, 6)
        digest = conn.execute(sa.select(audit_log.c.entry_hash).where(audit_log.c.seq == 6)
                              ).scalar_one()
        from ctip.storage.audit import entry_tag

        conn.execute(audit_tags.insert().values(seq=6, tag=entry_tag(b"x" * 32, 6, digest)))
    result = _verify(engine)
    assert not result.ok and result.first_bad == 6 and "wrong keyed tag" in result.problem


def test_replayed_entry_keeps_no_valid_tag(engine: sa.Engine) -> None:
    """Entry 2 copied to the end with its own tag and a recomputed chain hash."""
    with engine.begin() as conn:
        row = conn.execute(sa.select(audit_log).where(audit_log.c.seq == 2)).one()
        tag = conn.execute(sa.select(audit_tags.c.tag).where(audit_tags.c.seq == 2)
                           ).scalar_one()
        prev = conn.execute(sa.select(audit_log.c.entry_hash).where(audit_log.c.seq == 5)
                            ).scalar_one()
        conn.execute(audit_log.insert().values(
            seq=6, at=row.at, actor=row.actor, action=row.action, subject=row.subject,
            details=row.details, prev_hash=prev,
            entry_hash=entry_hash(prev, 6, row.at, row.actor, row.action, row.subject,
                                  row.details)))
        conn.execute(audit_tags.insert().values(seq=6, tag=tag))
    result = _verify(engine)
    assert not result.ok and result.first_bad == 6


def test_untagged_entries_are_refused_until_adopted(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        migrate(engine)
        with engine.begin() as conn:
            for i in range(3):
                AuditLog().append(conn, actor="old", action="x", subject=str(i), details={})
        with engine.connect() as conn:
            result = AuditLog(KEY).verify(conn)
        assert not result.ok and result.first_bad == 1 and "no keyed tag" in result.problem
        with engine.begin() as conn:
            assert AuditLog(KEY).adopt_untagged(conn, actor="cli") == 3
        with engine.connect() as conn:
            result = AuditLog(KEY).verify(conn)
        assert result.ok and result.entries == 4  # the adoption itself is recorded
    finally:
        engine.dispose()


def test_tags_are_append_only(engine: sa.Engine) -> None:
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), engine.begin() as conn:
        conn.execute(audit_tags.delete())
