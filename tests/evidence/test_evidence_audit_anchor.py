"""Issue 14 item 3: the same signed, time-stamped checkpoints that anchor the custody logs
anchor the main audit log, so cutting entries off its tail is caught without a recorded head,
and a checkpoint file kept off the server catches it even when the checkpoint rows are gone
too. Before this, ``ctip audit verify`` passed a cut tail unless given --expect-head."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from evidence_support import drop_guards

from ctip.services.anchoring import (
    AUDIT_LOG,
    read_checkpoint_file,
    stored_checkpoints,
    verify_audit_anchors,
    write_checkpoint_files,
)
from ctip.services.evidence import Locker
from ctip.storage.audit import AuditLog, audit_tags, entry_hash, entry_tag
from ctip.storage.evidence import log_checkpoints
from ctip.storage.tables import audit_log


def _fill(locker: Locker, n: int) -> None:
    with locker.engine.begin() as conn:
        for i in range(n):
            locker.audit.append(conn, actor="u", action="case.view", subject=f"c{i}",
                                details={"i": i})


def _size(locker: Locker) -> int:
    """Entries already in the log (the fixtures' own setup is audited too)."""
    with locker.engine.connect() as conn:
        return len(locker.audit.entry_hashes(conn))


def _report(locker: Locker, anchors=()):  # type: ignore[no-untyped-def]
    notary = locker.notary
    with locker.engine.connect() as conn:
        return verify_audit_anchors(conn, locker.audit, expect_head=None, anchors=list(anchors),
                                    signers={notary.key_id: notary.public_key},
                                    ca_pem=locker.tsa.ca_pem, tsa_pem=locker.tsa.cert_pem)


def _cut(locker: Locker, from_seq: int) -> None:
    with locker.engine.begin() as conn:
        drop_guards(conn)
        conn.execute(audit_tags.delete().where(audit_tags.c.seq >= from_seq))
        conn.execute(audit_log.delete().where(audit_log.c.seq >= from_seq))


def test_cut_tail_is_caught_by_a_checkpoint(locker: Locker) -> None:
    base = _size(locker)
    _fill(locker, 8)
    assert locker.checkpoint_audit() == [(AUDIT_LOG, base + 8)]
    _fill(locker, 2)
    report = _report(locker)
    assert report.ok and report.checkpoints == 1 and report.trusted_time
    _cut(locker, base + 7)  # 7..11 after the setup (the checkpoint's own entry 9 among them)
    report = _report(locker)
    assert report.chain.ok  # the chain and the tags alone cannot see a cut end
    assert not report.ok and {p.code for p in report.problems} == {"log.truncated"}


def test_cut_tail_with_checkpoints_deleted_is_caught_by_the_file_kept_elsewhere(
        locker: Locker, tmp_path: Path) -> None:
    base = _size(locker)
    _fill(locker, 5)
    locker.checkpoint_audit()
    with locker.engine.connect() as conn:
        kept = write_checkpoint_files(stored_checkpoints(conn, AUDIT_LOG)[-1], tmp_path / "off")
    _cut(locker, base + 4)
    with locker.engine.begin() as conn:
        conn.execute(log_checkpoints.delete().where(log_checkpoints.c.log == AUDIT_LOG))
    assert _report(locker).ok  # nothing left in the database says otherwise
    report = _report(locker, [read_checkpoint_file(kept[0])])
    assert not report.ok and "log.truncated" in {p.code for p in report.problems}


def test_chain_rewritten_by_the_key_holder_is_caught_by_the_checkpoint(locker: Locker) -> None:
    """Someone holding the tag key (the application host) rewrites entry 3 and re-chains and
    re-tags everything after it: tags and chain hold, the signed checkpoint does not."""
    _fill(locker, 6)
    locker.checkpoint_audit()
    key = locker.audit.tag_key
    assert key is not None
    with locker.engine.begin() as conn:
        drop_guards(conn)
        rows = conn.execute(sa.select(audit_log).order_by(audit_log.c.seq)).all()
        conn.execute(audit_tags.delete())
        conn.execute(audit_log.delete())
        prev = "0" * 64
        for r in rows:
            subject = "rewritten" if r.seq == 3 else r.subject
            digest = entry_hash(prev, r.seq, r.at, r.actor, r.action, subject, r.details)
            conn.execute(audit_log.insert().values(
                seq=r.seq, at=r.at, actor=r.actor, action=r.action, subject=subject,
                details=r.details, prev_hash=prev, entry_hash=digest))
            conn.execute(audit_tags.insert().values(seq=r.seq, tag=entry_tag(key, r.seq, digest)))
            prev = digest
    report = _report(locker)
    assert report.chain.ok and report.chain.tagged
    assert not report.ok and "log.rewritten" in {p.code for p in report.problems}


def test_checkpoint_signed_by_another_key_is_not_trusted(locker: Locker) -> None:
    _fill(locker, 3)
    locker.checkpoint_audit()
    with locker.engine.connect() as conn:
        report = verify_audit_anchors(conn, AuditLog(locker.audit.tag_key), expect_head=None,
                                      anchors=[], signers={"someone-else": b"\x00" * 32},
                                      ca_pem=locker.tsa.ca_pem, tsa_pem=locker.tsa.cert_pem)
    assert not report.ok and "checkpoint.signer" in {p.code for p in report.problems}
