"""Export bundles a court can check without trusting ctip, and verification of the locker itself.

``export_bundle`` records the export as a custody event, checkpoints the case's custody log and
the audit log (signed by the notary key, time-stamped), then writes the folder described in
``ctip.evidence.bundle`` (0700; the evidence inside is in plaintext: carry it on encrypted media,
or in an exchange package of issue 17). ``verify_folder`` runs ``verify_bundle`` over a folder.
``verify_locker`` checks the store: every custody log (chain, signatures, revocations, times),
every checkpoint against its log and TSA token, and every held item (its blob decrypts and hashes
to its SHA-256, its token verifies, its ingest is in the log).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ctip.domain.access import Action, Principal
from ctip.errors import CtipError, EvidenceError, InputFileError
from ctip.evidence.bundle import FORMAT, SUMS, BundleReport, sums_text, verify_bundle
from ctip.evidence.canonical import canonical_json, sha256_hex
from ctip.evidence.custody import KeyInfo, Problem, SignedEvent, as_utc, iso, verify_chain
from ctip.evidence.signing import public_pem
from ctip.evidence.timestamp import TokenError, verify_token
from ctip.services.anchoring import check_checkpoints, custody_log, stored_checkpoints
from ctip.services.evidence import Locker, actor_of
from ctip.storage import evidence as edb

README = """\
ctip evidence bundle of case {case}, exported {at} by {actor}.

Check it without ctip (docs/methods/evidence.md explains every step):
  sha256sum -c SHA256SUMS
  openssl pkeyutl -verify -pubin -inkey keys/{locker}.pem -rawin -in manifest.json \\
      -sigfile manifest.sig
  for t in tokens/*.tsr; do h=$(basename "$t" .tsr)
    openssl ts -verify -data "items/$h" -in "$t" -CAfile tsa/ca.pem -untrusted tsa/tsa.pem; done
  for c in checkpoints/*.json; do
    openssl ts -verify -data "$c" -in "${{c%.json}}.tsr" -CAfile tsa/ca.pem -untrusted tsa/tsa.pem
  done
With ctip: ctip evidence verify THIS-FOLDER --locker-key {locker}
The locker key's fingerprint must match the one the sender gave you by another channel.
"""


class FolderFiles:
    """A bundle folder as ``BundleFiles`` (names relative to the folder, '/'-separated)."""

    def __init__(self, root: Path) -> None:
        if not root.is_dir():
            raise InputFileError("{root} is not a bundle folder.",
                                 hint="give the folder written by `ctip evidence export`",
                                 params={"root": root})
        self.root = root

    def _path(self, name: str) -> Path:
        path = (self.root / name).resolve()
        if self.root.resolve() not in path.parents:
            raise OSError(f"{name} points outside the bundle")
        return path

    def names(self) -> list[str]:
        return sorted(str(p.relative_to(self.root)).replace(os.sep, "/")
                      for p in self.root.rglob("*") if p.is_file())

    def read(self, name: str) -> bytes:
        return self._path(name).read_bytes()

    def sha256(self, name: str) -> str:
        digest = hashlib.sha256()
        with self._path(name).open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
        return digest.hexdigest()


def verify_folder(folder: Path, *, trusted_locker: str | None = None,
                  trusted_ca: bytes | None = None) -> BundleReport:
    return verify_bundle(FolderFiles(folder), trusted_locker=trusted_locker,
                         trusted_ca=trusted_ca)


def _write(path: Path, data: bytes) -> str:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    return sha256_hex(data)


def export_bundle(locker: Locker, p: Principal, case_id: str, out: Path, *, purpose: str,
                  note: str | None = None, items: Sequence[str] = ()) -> Path:
    """Write the case's bundle to ``out`` (a new folder). ``items``: only these (by hash or
    prefix); the custody log is always whole, so its completeness can be checked."""
    if out.exists():
        raise InputFileError("{out} already exists.", hint="name a new folder for the bundle",
                             params={"out": out})
    with locker.engine.begin() as conn:
        locker.check_access(conn, p, case_id, Action.EVIDENCE_EXPORT)
        rows = [locker.item_row(conn, case_id, h) for h in items] if items else \
            edb.items_of_case(conn, case_id)
        rows = [r for r in rows if r.status == "held"]
        if not rows:
            raise EvidenceError("case {case} has no held items to export",
                                params={"case": repr(case_id)})
        key = locker.case_key(conn, case_id, create=False)
        locker.record_event(conn, p, case_id, "export", item=None, purpose=purpose, note=note,
                      details={"items": [r.sha256 for r in rows]})
    locker.checkpoint(case_id)
    tmp = out.with_name(f".{out.name}.partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True, mode=0o700)
    try:
        _fill(locker, case_id, key, rows, tmp, actor_of(p))
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def _fill(locker: Locker, case_id: str, key: bytes, rows: Sequence[object], tmp: Path,
          actor: str) -> None:
    sums: dict[str, str] = {}
    with locker.engine.connect() as conn:
        events = edb.events_of_case(conn, case_id)
        checkpoints = stored_checkpoints(conn, custody_log(case_id))
        key_ids = sorted({json.loads(e.body)["key"] for e in events})
        signers = edb.signing_keys(conn, key_ids)
        notes = edb.notes_of_case(conn, case_id)
    manifest_items = []
    for row in rows:
        view = locker.item_view(row)
        name = f"items/{view.sha256}"
        path = tmp / name
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        digest = hashlib.sha256()
        with path.open("xb") as handle:
            for chunk in locker.blobs.read(case_id, key, view.sha256):
                digest.update(chunk)
                handle.write(chunk)
        path.chmod(0o600)
        sums[name] = digest.hexdigest()
        token = f"tokens/{view.sha256}.tsr"
        sums[token] = _write(tmp / token, bytes(row.token))  # type: ignore[attr-defined]
        manifest_items.append({
            "sha256": view.sha256, "size": view.size, "name": view.name, "mime": view.mime,
            "kind": view.kind, "source": view.source, "acquired_at": iso(view.acquired_at),
            "acquired_by": view.acquired_by, "derived_from": view.derived_from,
            "legal_hold": view.legal_hold, "file": name, "token": token})
    manifest_events = []
    for e in events:
        stem = f"custody/{e.seq:06d}"
        sums[f"{stem}.json"] = _write(tmp / f"{stem}.json", bytes(e.body))
        sums[f"{stem}.sig"] = _write(tmp / f"{stem}.sig", bytes(e.signature))
        manifest_events.append({"file": f"{stem}.json", "sig": f"{stem}.sig",
                                "hash": e.event_hash})
    manifest_checkpoints = []
    for cp in checkpoints:
        stem = f"checkpoints/{cp.size:06d}"
        sums[f"{stem}.json"] = _write(tmp / f"{stem}.json", cp.payload)
        sums[f"{stem}.sig"] = _write(tmp / f"{stem}.sig", cp.signature)
        entry = {"file": f"{stem}.json", "sig": f"{stem}.sig", "size": cp.size}
        if cp.token is not None:
            sums[f"{stem}.tsr"] = _write(tmp / f"{stem}.tsr", cp.token)
            entry["token"] = f"{stem}.tsr"
        manifest_checkpoints.append(entry)
    notary = locker.notary
    keys: list[dict[str, str | None]] = []
    for key_id, owner, public, revoked in [(notary.key_id, "locker", notary.public_key, None)] + [
            (k.key_id, k.username, bytes(k.public_key), k.revoked_at) for k in signers]:
        file = f"keys/{key_id}.pem"
        sums[file] = _write(tmp / file, public_pem(public))
        keys.append({"key_id": key_id, "owner": owner, "file": file,
                     "revoked_at": iso(revoked) if revoked else None})
    for n in notes:
        text = locker.sealer.open(n.note_sealed, context=edb.note_context(n.note_id))
        sums[f"notes/{n.note_id}.txt"] = _write(tmp / f"notes/{n.note_id}.txt", text.encode())
    sums["tsa/ca.pem"] = _write(tmp / "tsa/ca.pem", locker.tsa.ca_pem)
    sums["tsa/tsa.pem"] = _write(tmp / "tsa/tsa.pem", locker.tsa.cert_pem)
    at = locker.clock()
    manifest = canonical_json({
        "format": FORMAT, "case": case_id, "exported_at": iso(at), "exported_by": actor,
        "items": manifest_items, "events": manifest_events, "checkpoints": manifest_checkpoints,
        "keys": keys, "locker_key": notary.key_id,
        "tsa": {"ca": "tsa/ca.pem", "cert": "tsa/tsa.pem"}})
    sums["manifest.json"] = _write(tmp / "manifest.json", manifest)
    sums["manifest.sig"] = _write(tmp / "manifest.sig", notary.key.sign(manifest))
    sums["README.txt"] = _write(tmp / "README.txt", README.format(
        case=case_id, at=iso(at), actor=actor, locker=notary.key_id).encode())
    _write(tmp / SUMS, sums_text(sums.items()))


def _fields(event: SignedEvent) -> dict[str, object]:
    try:
        return event.fields()
    except ValueError:
        return {}


@dataclass
class LockerReport:
    cases: int = 0
    items: int = 0
    events: int = 0
    checkpoints: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_locker(locker: Locker, case_ids: Sequence[str] = ()) -> LockerReport:
    """Check the locker's own store (operator use: needs the keys, opens no note or name)."""
    report = LockerReport()
    notary = locker.notary
    ca, tsa = locker.tsa.ca_pem, locker.tsa.cert_pem
    with locker.engine.connect() as conn:
        cases = list(case_ids) or edb.cases_with_items(conn)
        keys = {k.key_id: KeyInfo(k.key_id, k.owner, bytes(k.public_key),
                                 as_utc(k.revoked_at) if k.revoked_at else None)
                for k in edb.signing_keys(conn)}
        for case in cases:
            report.cases += 1
            rows = edb.events_of_case(conn, case)
            events = [SignedEvent(bytes(r.body), bytes(r.signature)) for r in rows]
            stored_hashes = [r.event_hash for r in rows]
            hashes = [e.event_hash for e in events]
            for seq, (a, b) in enumerate(zip(stored_hashes, hashes, strict=True), start=1):
                if a != b:
                    report.problems.append(Problem("event.edited", f"case {case} event {seq}",
                                                   "its bytes no longer match its hash"))
            problems, trusted = check_checkpoints(
                stored_checkpoints(conn, custody_log(case)), log=custody_log(case),
                entry_hashes=hashes, signers={notary.key_id: notary.public_key},
                ca_pem=ca, tsa_pem=tsa)
            problems += verify_chain(case, events, keys, trusted)
            report.problems += [Problem(p.code, f"case {case} {p.where}", p.message)
                                for p in problems]
            report.events += len(events)
            report.checkpoints += len(trusted)
            ingested = {f.get("item") for f in map(_fields, events)
                        if f.get("action") == "ingest"}
            try:
                key = locker.case_key(conn, case, create=False)
            except CtipError as error:
                report.problems.append(Problem("case.key", f"case {case}", str(error)))
                continue
            for row in edb.items_of_case(conn, case):
                report.items += 1
                where = f"case {case} item {row.sha256[:16]}"
                if row.sha256 not in ingested:
                    report.problems.append(Problem("item.custody", where,
                                                   "has no ingest event in the custody log"))
                try:
                    verify_token(bytes(row.token), bytes.fromhex(row.sha256), root_pem=ca,
                                 tsa_pem=tsa)
                except (TokenError, TypeError) as error:
                    report.problems.append(Problem("token.invalid", where, str(error)))
                if row.status != "held":
                    continue
                try:
                    for _chunk in locker.blobs.read(case, key, row.sha256):
                        pass
                except EvidenceError as error:
                    report.problems.append(Problem("item.blob", where, error.message))
    return report
