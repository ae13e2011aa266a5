"""The audit chain: append-only in the database, and every kind of tampering found and named."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from ctip.storage.audit import AuditLog, entry_hash
from ctip.storage.engine import make_engine, migrate
from ctip.storage.tables import audit_log


@pytest.fixture
def engine(database_url: str) -> sa.Engine:
    engine = make_engine(database_url)
    migrate(engine)
    log = AuditLog()
    with engine.begin() as conn:
        for i in range(1, 7):
            log.append(conn, actor=f"user{i}", action="victims.add", subject=f"batch-{i}",
                       details={"new": i, "note": "ünïcode"})
    yield engine
    engine.dispose()


def _drop_guards(conn: sa.Connection) -> None:
    """What an attacker with database rights would do first."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("DROP TRIGGER audit_log_append_only ON audit_log")
    else:
        conn.exec_driver_sql("DROP TRIGGER audit_log_no_update")
        conn.exec_driver_sql("DROP TRIGGER audit_log_no_delete")


def _verify(engine: sa.Engine, **kw: str):  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return AuditLog().verify(conn, **kw)


def test_intact_chain_verifies(engine: sa.Engine) -> None:
    result = _verify(engine)
    assert result.ok and result.entries == 6 and result.head_seq == 6
    assert _verify(engine, expect_head=f"6:{result.head_hash}").ok


def test_database_refuses_update_and_delete(engine: sa.Engine) -> None:
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), engine.begin() as conn:
        conn.execute(audit_log.update().values(actor="mallory"))
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), engine.begin() as conn:
        conn.execute(audit_log.delete().where(audit_log.c.seq == 3))
    assert _verify(engine).ok


def test_edited_entry_is_named(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        _drop_guards(conn)
        conn.execute(audit_log.update().where(audit_log.c.seq == 4)
                     .values(details='{"new":400,"note":"ünïcode"}'))
    result = _verify(engine)
    assert not result.ok and result.first_bad == 4 and "changed" in result.problem


def test_deleted_entry_is_named(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        _drop_guards(conn)
        conn.execute(audit_log.delete().where(audit_log.c.seq == 3))
    result = _verify(engine)
    assert not result.ok and result.first_bad == 4 and "deleted" in result.problem


def test_deleted_and_renumbered_entry_is_named(engine: sa.Engine) -> None:
    """Deleting entry 3 and shifting later sequence numbers down still breaks the link."""
    with engine.begin() as conn:
        _drop_guards(conn)
        conn.execute(audit_log.delete().where(audit_log.c.seq == 3))
        for seq in range(4, 7):
            conn.execute(audit_log.update().where(audit_log.c.seq == seq).values(seq=seq - 1))
    result = _verify(engine)
    assert not result.ok and result.first_bad == 3


def test_inserted_entry_is_named(engine: sa.Engine) -> None:
    """A forged entry with a correct own hash, slotted in after entry 2 (later ones shifted)."""
    with engine.begin() as conn:
        _drop_guards(conn)
        for seq in range(6, 2, -1):
            conn.execute(audit_log.update().where(audit_log.c.seq == seq).values(seq=seq + 1))
        prev = conn.execute(sa.select(audit_log.c.entry_hash).where(audit_log.c.seq == 2)
                            ).scalar_one()
        at = "2026-01-01T00:00:00.000000+00:00"
        conn.execute(audit_log.insert().values(
            seq=3, at=at, actor="mallory", action="identity.read", subject="victims", details="{}",
            prev_hash=prev, entry_hash=entry_hash(prev, 3, at, "mallory", "identity.read",
                                                  "victims", "{}")))
    result = _verify(engine)
    assert not result.ok and result.first_bad == 4 and "link" in result.problem


def test_reordered_entries_are_named(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        _drop_guards(conn)
        conn.execute(audit_log.update().where(audit_log.c.seq == 2).values(seq=-2))
        conn.execute(audit_log.update().where(audit_log.c.seq == 3).values(seq=2))
        conn.execute(audit_log.update().where(audit_log.c.seq == -2).values(seq=3))
    result = _verify(engine)
    assert not result.ok and result.first_bad == 2


def test_cut_off_tail_is_caught_against_recorded_head(engine: sa.Engine) -> None:
    head = _verify(engine)
    with engine.begin() as conn:
        _drop_guards(conn)
        conn.execute(audit_log.delete().where(audit_log.c.seq == 6))
    assert _verify(engine).ok  # a chain alone cannot see a cut end: hence the recorded head
    result = _verify(engine, expect_head=f"{head.head_seq}:{head.head_hash}")
    assert not result.ok and "cut off" in result.problem


def test_entries_written_in_sql_and_in_python_hash_alike(engine: sa.Engine) -> None:
    """On PostgreSQL the append runs in the database (migration 0104); verify recomputes every
    hash in Python, so text that stresses encoding and length prefixes must still verify."""
    log = AuditLog()
    tricky = {"quote": "it's \"x\"", "nl": "a\nb", "astral": "𝔘𝔫𝔦 🧭", "empty": "", "n": 10**12}
    with engine.begin() as conn:
        log.append(conn, actor="ä@agency", action="case.view", subject="", details=tricky)
        log.append(conn, actor="a", action="b", subject="c" * 5000, details={})
    result = _verify(engine)
    assert result.ok and result.entries == 8
    with engine.connect() as conn:
        last = list(log.entries(conn))[-2:]
    assert last[0].details == tricky and last[0].actor == "ä@agency" and last[1].seq == 8


def test_concurrent_appends_from_many_connections_form_one_valid_chain(
    engine: sa.Engine,
) -> None:
    """Appends from several threads, each with its own connection and transactions (as the web
    server's workers do), give one unbroken chain holding every entry exactly once."""
    import threading

    threads, per_thread = 8, 25
    log = AuditLog()
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def work(t: int) -> None:
        try:
            start.wait()
            for i in range(per_thread):
                with engine.begin() as conn:
                    conn.execute(sa.select(audit_log.c.seq).limit(1)).all()  # other work first
                    log.append(conn, actor=f"thread{t}", action="case.view",
                               subject=f"case-{t}-{i}", details={"i": i})
                    if i % 10 == 9:  # a rolled-back transaction leaves no entry and no gap
                        conn.rollback()
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert not errors, errors
    result = _verify(engine)
    kept = [i for i in range(per_thread) if i % 10 != 9]
    assert result.ok, result.problem
    assert result.entries == 6 + threads * len(kept)
    with engine.connect() as conn:
        subjects = [e.subject for e in log.entries(conn) if e.action == "case.view"]
    assert sorted(subjects) == sorted(f"case-{t}-{i}" for t in range(threads) for i in kept)
