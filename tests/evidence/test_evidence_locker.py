"""The locker's rules: who may do what (CASE-MANAGEMENT.md 7), hash first and write once,
sealed names and notes, working copies, re-acquisition, legal hold and disposal."""

from __future__ import annotations

import io
import json

import pytest
import sqlalchemy as sa
from evidence_support import B_CA, B_CW, C_CW, CW, INV, SUP, ingest, new_case, person

from ctip.errors import EvidenceError, NotFoundError, PermissionDeniedError, ValidationError
from ctip.evidence.canonical import sha256_hex
from ctip.services.evidence import Locker
from ctip.services.evidence_bundle import export_bundle, verify_folder, verify_locker
from ctip.storage import evidence as edb

SECRET_NAME = "passport-Amina-Okafor.jpg"
DATA = b"\xff\xd8\xff\xe0 passport scan of Amina Okafor " * 200


def test_who_may_add_view_export_and_dispose(locker: Locker) -> None:
    case = new_case(locker.core)
    got = locker.ingest(CW, case, io.BytesIO(DATA), name=SECRET_NAME)
    sha = got.item.sha256
    assert sha == sha256_hex(DATA) and got.new
    assert locker.ingest(INV, case, io.BytesIO(b"more"), name="x.txt").new
    with pytest.raises(NotFoundError):  # another agency: the case does not exist for it
        locker.items(C_CW, case)
    with pytest.raises(PermissionDeniedError):  # analysts see no evidence at all
        locker.items(person("analyst"), case)
    with pytest.raises(PermissionDeniedError):  # a case worker does not export
        export_bundle(locker, CW, case, locker.blobs.root.parent / "b1", purpose="prosecution")
    with pytest.raises(PermissionDeniedError):  # nor dispose
        locker.dispose(CW, case, sha)
    with pytest.raises(PermissionDeniedError):  # an investigator exports but does not dispose
        locker.dispose(INV, case, sha)
    assert export_bundle(locker, INV, case, locker.blobs.root.parent / "b2",
                         purpose="prosecution").is_dir()


def test_receiving_agency_sees_evidence_only_as_competent_authority(locker: Locker) -> None:
    case = new_case(locker.core)
    ingest(locker, case, DATA, SECRET_NAME)
    with pytest.raises(NotFoundError):
        locker.items(B_CA, case)
    locker.core.record_consent(CW, case, purpose="share_with_service_provider", recipient="B")
    locker.core.refer(CW, case, to_agency="B")
    assert [i.sha256 for i in locker.items(B_CA, case)] == [sha256_hex(DATA)]
    with pytest.raises(PermissionDeniedError):
        locker.items(B_CW, case)


def test_names_sources_notes_and_bytes_are_never_in_plaintext_at_rest(locker: Locker) -> None:
    case = new_case(locker.core)
    locker.ingest(SUP, case, io.BytesIO(DATA), name=SECRET_NAME, origin="phone of Amina",
                  note="Amina says the recruiter kept it")
    with locker.engine.connect() as conn:
        dump = b"".join(repr(tuple(row)).encode() for table in (
            edb.evidence_items, edb.evidence_events, edb.evidence_notes,
            edb.evidence_signing_keys, edb.evidence_case_keys)
            for row in conn.execute(sa.select(table)))
    assert b"Amina" not in dump and b"recruiter" not in dump and b"passport" not in dump
    blobs = [p for p in locker.blobs.root.rglob("*") if p.is_file()]
    assert len(blobs) == 1 and b"Amina" not in blobs[0].read_bytes()
    assert blobs[0].stat().st_mode & 0o777 == 0o400  # write-once on disk too
    assert sha256_hex(DATA) not in str(blobs[0])  # the name does not reveal the content hash
    [item] = locker.items(SUP, case)
    assert item.name == SECRET_NAME and item.source == "phone of Amina"


def test_same_bytes_again_is_an_acquire_and_working_copies_are_linked(locker: Locker) -> None:
    case = new_case(locker.core)
    first = ingest(locker, case, DATA, "a.jpg")
    again = ingest(locker, case, DATA, "copy-from-email.jpg")
    assert not again.new and again.item.item_id == first.item.item_id
    redacted = locker.ingest(SUP, case, io.BytesIO(b"redacted scan"), name="redacted.jpg",
                             derived_from=first.item.sha256[:12])
    assert redacted.item.derived_from == first.item.sha256
    actions = [(e["action"], e["item"]) for e in locker.custody(SUP, case)]
    assert actions == [("ingest", first.item.sha256), ("acquire", first.item.sha256),
                       ("ingest", redacted.item.sha256), ("redact-copy", first.item.sha256)]
    assert verify_locker(locker, [case]).ok


def test_legal_hold_blocks_disposal_and_disposal_keeps_the_proof(locker: Locker,
                                                                 tmp_path) -> None:  # type: ignore[no-untyped-def]
    case = new_case(locker.core)
    sha = ingest(locker, case, DATA).item.sha256
    other = ingest(locker, case, b"keep me").item.sha256
    locker.hold(SUP, case, sha, on=True, purpose="court-order", note="order 12/2026")
    with pytest.raises(EvidenceError, match="legal hold"):
        locker.dispose(SUP, case, sha)
    locker.hold(SUP, case, sha, on=False, purpose="court-order")
    disposed = locker.dispose(SUP, case, sha)
    assert disposed.status == "disposed"
    assert not any(p.is_file() and p.stat().st_size > 5000
                   for p in locker.blobs.root.rglob("*"))
    with pytest.raises(EvidenceError, match="disposed"):
        locker.view(SUP, case, sha, purpose="investigation")
    actions = [e["action"] for e in locker.custody(SUP, case)]
    assert actions[-3:] == ["legal-hold", "hold-release", "dispose"]
    locker.checkpoint(case)
    assert verify_locker(locker, [case]).ok  # the hash, token and custody of it remain
    bundle = export_bundle(locker, SUP, case, tmp_path / "b", purpose="disclosure")
    manifest = json.loads((bundle / "manifest.json").read_bytes())
    assert [i["sha256"] for i in manifest["items"]] == [other]
    assert verify_folder(bundle).ok


def test_unknown_purpose_is_refused_with_the_allowed_list(locker: Locker) -> None:
    case = new_case(locker.core)
    with pytest.raises(ValidationError, match="allowed: court-order"):
        locker.ingest(SUP, case, io.BytesIO(b"x"), name="x", purpose="curiosity")


def test_a_revoked_user_gets_a_new_key_and_old_events_still_verify(locker: Locker) -> None:
    case = new_case(locker.core)
    ingest(locker, case, DATA)
    locker.checkpoint(case)
    import time

    time.sleep(1.2)
    assert len(locker.revoke_keys(SUP.user_id, by="admin")) == 1
    ingest(locker, case, b"after the revocation")
    locker.checkpoint(case)
    events = locker.custody(SUP, case)
    assert events[0]["key"] != events[-1]["key"]
    assert verify_locker(locker, [case]).ok


def test_concurrent_actions_on_one_case_form_one_valid_chain(locker: Locker) -> None:
    """Four users' threads viewing the same case at once: one chain, no gap, every event."""
    import threading

    case = new_case(locker.core)
    sha = ingest(locker, case, DATA).item.sha256
    errors: list[BaseException] = []
    users = [person(r) for r in ("caseworker", "supervisor", "investigator")] + [SUP]
    start = threading.Barrier(len(users))

    def work(p) -> None:  # type: ignore[no-untyped-def]
        try:
            start.wait()
            for _ in range(8):
                _view, chunks = locker.view(p, case, sha, purpose="investigation")
                assert b"".join(chunks) == DATA
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(p,)) for p in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    locker.checkpoint(case)
    report = verify_locker(locker, [case])
    assert report.ok, report.problems
    assert report.events == 1 + 8 * len(users)
