"""The tamper suite (issue 14): every attack on the locker's store and on an exported bundle is
detected and named. Each test first checks that the untouched locker verifies, so a verifier
that reports everything as broken cannot pass."""

from __future__ import annotations

import base64
import json
import shutil
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from evidence_support import CW, SUP, drop_guards, ingest, new_case

from ctip.evidence.bundle import SUMS, sums_text
from ctip.evidence.canonical import canonical_json, sha256_hex
from ctip.evidence.custody import iso
from ctip.evidence.signing import new_signing_key, private_from_raw
from ctip.services.evidence import Locker
from ctip.services.evidence_bundle import (
    FolderFiles,
    export_bundle,
    verify_folder,
    verify_locker,
)
from ctip.storage import evidence as edb
from ctip.storage.evidence import evidence_events, evidence_items, log_checkpoints

A = b"photo of the ledger " * 500
B = b"screenshot of chats " * 500  # the same size as A


@pytest.fixture
def case(locker: Locker) -> str:
    case_id = new_case(locker.core)
    ingest(locker, case_id, A, "ledger.jpg")
    ingest(locker, case_id, B, "chats.png")
    locker.view(CW, case_id, sha256_hex(A), purpose="investigation")
    locker.checkpoint(case_id)
    locker.view(CW, case_id, sha256_hex(B), purpose="investigation")
    locker.checkpoint(case_id)
    report = verify_locker(locker, [case_id])
    assert report.ok, report.problems
    assert report.events == 4 and report.checkpoints == 2
    return case_id


def codes(locker: Locker, case_id: str) -> set[str]:
    report = verify_locker(locker, [case_id])
    assert not report.ok
    return {p.code for p in report.problems}


def blob(locker: Locker, case_id: str, data: bytes) -> Path:
    with locker.engine.connect() as conn:
        key = locker.case_key(conn, case_id, create=False)
    return locker.blobs.path(case_id, key, sha256_hex(data))


def events(locker: Locker, case_id: str) -> list[sa.Row]:  # type: ignore[type-arg]
    with locker.engine.connect() as conn:
        return edb.events_of_case(conn, case_id)


def _rewrite_event(conn: sa.Connection, case_id: str, seq: int, body: bytes) -> None:
    conn.execute(evidence_events.update().where(evidence_events.c.case_id == case_id,
                                                evidence_events.c.seq == seq)
                 .values(body=body, event_hash=sha256_hex(body)))


# ---- the locker's store -------------------------------------------------------------------
def test_blob_bit_flip(locker: Locker, case: str) -> None:
    path = blob(locker, case, A)
    path.chmod(0o600)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    assert "item.blob" in codes(locker, case)


def test_same_size_blob_swap(locker: Locker, case: str) -> None:
    a, b = blob(locker, case, A), blob(locker, case, B)
    assert a.stat().st_size == b.stat().st_size
    tmp = a.with_name("swap")
    a.rename(tmp)
    b.rename(a)
    tmp.rename(b)
    report = verify_locker(locker, [case])
    assert sum(p.code == "item.blob" for p in report.problems) == 2


def test_edited_event(locker: Locker, case: str) -> None:
    first = events(locker, case)[2]
    fields = json.loads(first.body)
    fields["purpose"] = "court-order"
    with locker.engine.begin() as conn:
        drop_guards(conn)
        _rewrite_event(conn, case, 3, canonical_json(fields))
    found = codes(locker, case)
    assert {"signature.invalid", "event.link", "log.rewritten"} <= found


def test_deleted_event(locker: Locker, case: str) -> None:
    with locker.engine.begin() as conn:
        drop_guards(conn)
        conn.execute(evidence_events.delete().where(evidence_events.c.case_id == case,
                                                    evidence_events.c.seq == 2))
    assert {"event.sequence", "event.link"} <= codes(locker, case)


def test_inserted_event(locker: Locker, case: str) -> None:
    """An event slipped in at position 2, signed by a key of the attacker's own."""
    rows = events(locker, case)
    forged = json.loads(rows[1].body)
    forged.update(action="transfer", key="f" * 32)
    body = canonical_json(forged)
    with locker.engine.begin() as conn:
        drop_guards(conn)
        for row in reversed(rows[1:]):
            conn.execute(evidence_events.update().where(
                evidence_events.c.case_id == case, evidence_events.c.seq == row.seq)
                .values(seq=row.seq + 1))
        edb.insert_event(conn, case, 2, body, sha256_hex(body), new_signing_key().sign(body))
    assert {"signature.key", "event.sequence", "event.link"} <= codes(locker, case)


def test_reordered_events(locker: Locker, case: str) -> None:
    with locker.engine.begin() as conn:
        drop_guards(conn)
        conn.execute(evidence_events.update().where(evidence_events.c.case_id == case,
                                                    evidence_events.c.seq == 2).values(seq=99))
        conn.execute(evidence_events.update().where(evidence_events.c.case_id == case,
                                                    evidence_events.c.seq == 3).values(seq=2))
        conn.execute(evidence_events.update().where(evidence_events.c.case_id == case,
                                                    evidence_events.c.seq == 99).values(seq=3))
    assert {"event.sequence", "event.link"} <= codes(locker, case)


def test_truncated_tail(locker: Locker, case: str) -> None:
    with locker.engine.begin() as conn:
        drop_guards(conn)
        conn.execute(evidence_events.delete().where(evidence_events.c.case_id == case,
                                                    evidence_events.c.seq == 4))
    assert "log.truncated" in codes(locker, case)


def test_swapped_item_token(locker: Locker, case: str) -> None:
    with locker.engine.begin() as conn:
        rows = edb.items_of_case(conn, case)
        conn.execute(evidence_items.update().where(evidence_items.c.item_id == rows[0].item_id)
                     .values(token=rows[1].token))
    assert "token.invalid" in codes(locker, case)


def test_replayed_checkpoint_token(locker: Locker, case: str) -> None:
    log = f"custody/{case}"
    with locker.engine.begin() as conn:
        drop_guards(conn)
        first, second = edb.checkpoints_of(conn, log)
        conn.execute(log_checkpoints.update().where(log_checkpoints.c.log == log,
                                                    log_checkpoints.c.size == second.size)
                     .values(token=first.token))
    assert "token.invalid" in codes(locker, case)


def test_backdated_event(locker: Locker, case: str) -> None:
    """A validly signed event whose clock was set back a day (an insider's tampered clock)."""
    clock = locker.clock
    locker.clock = lambda: clock() - timedelta(days=1)
    with locker.engine.begin() as conn:
        locker.record_event(conn, CW, case, "copy", item=sha256_hex(A), purpose="investigation")
    locker.clock = clock
    assert "event.backdated" in codes(locker, case)


def test_signature_by_revoked_key(locker: Locker, case: str) -> None:
    """Events signed before the revocation and checkpointed before it still hold; an event
    signed with the stolen key afterwards fails, whatever time it claims."""
    time.sleep(1.2)  # the TSA states time to the second
    locker.revoke_keys(SUP.user_id, by="admin")
    assert verify_locker(locker, [case]).ok
    with locker.engine.begin() as conn:
        stolen = next(k for k in edb.signing_keys(conn) if k.owner == SUP.user_id)
        raw = base64.b64decode(locker.sealer.open(
            stolen.private_sealed, context=edb.signing_key_context(stolen.key_id)))
        head = edb.log_head(conn, case)
        assert head is not None
        body = canonical_json({
            "v": 1, "case": case, "seq": head[0] + 1, "prev": head[1],
            "at": iso(datetime.now(UTC) - timedelta(hours=1)), "action": "dispose",
            "item": sha256_hex(A), "actor": "supervisor.a@A", "role": "supervisor",
            "purpose": "retention", "note": None, "key": stolen.key_id, "details": {}})
        edb.insert_event(conn, case, head[0] + 1, body, sha256_hex(body),
                         private_from_raw(raw).sign(body))
    locker.checkpoint(case)
    assert "signature.revoked" in codes(locker, case)


# ---- an exported bundle -------------------------------------------------------------------
@pytest.fixture
def bundle(locker: Locker, case: str, tmp_path: Path) -> Path:
    out = export_bundle(locker, SUP, case, tmp_path / "bundle", purpose="prosecution",
                        note="disclosure to the defence")
    report = verify_folder(out, trusted_locker=locker.notary.key_id)
    assert report.ok, report.problems
    assert (report.items, report.events) == (2, 5)
    return out


def _resum(folder: Path) -> None:
    """The attacker recomputes SHA256SUMS after changing files."""
    files = FolderFiles(folder)
    (folder / SUMS).chmod(0o600)
    (folder / SUMS).write_bytes(sums_text((n, files.sha256(n)) for n in files.names()
                                          if n != SUMS))


def bundle_codes(locker: Locker, folder: Path) -> set[str]:
    report = verify_folder(folder, trusted_locker=locker.notary.key_id)
    assert not report.ok
    return {p.code for p in report.problems}


def test_bundle_item_bit_flip_and_swap(locker: Locker, bundle: Path) -> None:
    a, b = bundle / "items" / sha256_hex(A), bundle / "items" / sha256_hex(B)
    data = bytearray(a.read_bytes())
    data[7] ^= 0x80
    a.write_bytes(bytes(data))
    assert "bundle.file" in bundle_codes(locker, bundle)
    _resum(bundle)
    assert "item.hash" in bundle_codes(locker, bundle)
    shutil.copy(b, a)  # same size, another item's bytes
    _resum(bundle)
    assert "item.hash" in bundle_codes(locker, bundle)


def test_bundle_edited_event_and_swapped_token(locker: Locker, bundle: Path) -> None:
    event = bundle / "custody" / "000002.json"
    fields = json.loads(event.read_bytes())
    fields["actor"] = "someone.else@A"
    event.write_bytes(canonical_json(fields))
    tokens = sorted((bundle / "tokens").iterdir())
    first = tokens[0].read_bytes()
    tokens[0].write_bytes(tokens[1].read_bytes())
    tokens[1].write_bytes(first)
    _resum(bundle)
    found = bundle_codes(locker, bundle)
    assert {"signature.invalid", "event.link", "log.rewritten", "token.invalid"} <= found


def test_bundle_truncated_and_resigned(locker: Locker, bundle: Path) -> None:
    """Dropping the last event and re-signing the manifest needs the locker's key: a manifest
    signed by any other key is refused against the trusted fingerprint."""
    manifest = json.loads((bundle / "manifest.json").read_bytes())
    manifest["events"] = manifest["events"][:-1]
    impostor = new_signing_key()
    body = canonical_json(manifest)
    (bundle / "manifest.json").write_bytes(body)
    (bundle / "manifest.sig").write_bytes(impostor.sign(body))
    (bundle / "custody" / "000005.json").unlink()
    (bundle / "custody" / "000005.sig").unlink()
    _resum(bundle)
    found = bundle_codes(locker, bundle)
    assert {"manifest.signature", "log.truncated"} <= found
