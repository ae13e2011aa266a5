"""The evidence locker's use cases: ingest, list, view, custody log, legal hold, disposal, keys.

Each action is checked in the fixed order of ``domain/access.py`` (role, then the user's agency's
relation to the case: none is "not found"), recorded as a signed custody event in the case's
log (the acting user's Ed25519 key, created on first use, sealed under the key ring) and audited
in the main audit log, in one transaction. Evidence bytes are hashed before anything else reads
them, stored encrypted and write-once (``storage/evidence_blobs.py``) and get an RFC 3161 token
over their SHA-256 at ingest. Export and verification live in ``services/evidence_bundle.py``.
"""

from __future__ import annotations

import base64
import secrets
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, BinaryIO

import puremagic
import sqlalchemy as sa

from ctip.domain.access import Action, Principal, Relation, Role
from ctip.errors import EvidenceError, NotFoundError, PermissionDeniedError, ValidationError
from ctip.evidence.canonical import sha256_hex
from ctip.evidence.custody import GENESIS, PURPOSES, event_body
from ctip.evidence.signing import (
    fingerprint,
    new_signing_key,
    private_from_raw,
    private_raw,
    public_raw,
)
from ctip.services.anchoring import AUDIT_LOG, Notary, custody_log, load_notary, record_checkpoint
from ctip.services.casework_core import CaseworkCore
from ctip.services.timestamping import TimestampAuthority, tsa_from_settings
from ctip.settings import Settings
from ctip.storage import evidence as edb
from ctip.storage.evidence_blobs import BlobStore


def _now() -> datetime:
    return datetime.now(UTC)


def actor_of(p: Principal) -> str:
    return f"{p.username}@{p.agency}"


@dataclass(frozen=True)
class ItemView:
    item_id: str
    case_id: str
    sha256: str
    size: int
    mime: str
    name: str
    source: str | None
    kind: str
    acquired_at: datetime
    acquired_by: str
    derived_from: str | None
    token_time: datetime | None
    status: str
    legal_hold: bool


@dataclass(frozen=True)
class Ingested:
    item: ItemView
    new: bool  # False: the case already held these exact bytes (an "acquire" event was added)


def sniff_type(head: bytes, name: str) -> str:
    """MIME type from the content's first bytes (puremagic), not from the name; among equally
    possible types (zip-based formats look alike), the one agreeing with the name's extension."""
    try:
        found = [m for m in (puremagic.magic_string(head, filename=name) if head else [])
                 if getattr(m, "mime_type", "")]
    except (puremagic.PureError, ValueError):
        found = []
    suffix = ("." + name.rsplit(".", 1)[-1].lower()) if "." in name else ""
    for match in found:
        if suffix and match.extension.lower() == suffix:
            return str(match.mime_type)
    if found:
        return str(found[0].mime_type)
    try:
        head.decode("utf-8")
        return "text/plain" if head else "application/x-empty"
    except UnicodeDecodeError:
        return "application/octet-stream"


class Locker:
    """The evidence locker of one store: casework access, key ring, blobs, TSA, notary key."""

    def __init__(self, core: CaseworkCore, blobs: BlobStore,
                 tsa: Callable[[], TimestampAuthority], notary: Callable[[], Notary], *,
                 clock: Callable[[], datetime] = _now) -> None:
        self.core, self.blobs = core, blobs
        self.engine, self.sealer, self.audit = core.engine, core.sealer, core.audit
        self._tsa_factory, self._notary_factory = tsa, notary
        self._tsa: TimestampAuthority | None = None
        self._notary: Notary | None = None
        self.clock = clock

    @classmethod
    def open(cls, settings: Settings) -> Locker:
        return cls.over(CaseworkCore.open(settings), settings)

    @classmethod
    def over(cls, core: CaseworkCore, settings: Settings) -> Locker:
        """A locker sharing an open casework service (the web app's) and its settings; the
        TSA and the notary key are loaded at first use."""
        return cls(core, BlobStore(settings.resolved_evidence_dir),
                   lambda: tsa_from_settings(settings), lambda: load_notary(settings))

    @property
    def tsa(self) -> TimestampAuthority:
        if self._tsa is None:
            self._tsa = self._tsa_factory()
        return self._tsa

    @property
    def notary(self) -> Notary:
        if self._notary is None:
            self._notary = self._notary_factory()
        return self._notary

    # ---- access, keys, events ---------------------------------------------------------------
    def check_access(self, conn: sa.Connection, p: Principal, case_id: str, action: Action) -> None:
        """Role, then relation to the case (none: "not found"), then the action; a receiving
        agency sees evidence only through its competent authority."""
        _row, rel, _live = self.core._load(conn, p, case_id, action)
        if rel is Relation.RECIPIENT and p.role is not Role.COMPETENT_AUTHORITY:
            raise PermissionDeniedError(
                "evidence of case {case} is shared with a receiving agency's competent "
                "authority only", hint="the owning agency can show it to you",
                params={"case": repr(case_id)})

    def case_key(self, conn: sa.Connection, case_id: str, *, create: bool) -> bytes:
        row = edb.case_key_row(conn, case_id)
        if row is not None:
            text = self.sealer.open(row.key_sealed, context=edb.case_key_context(case_id))
            return base64.b64decode(text)
        if not create:
            raise NotFoundError("case {case} has no evidence", hint="ingest an item first",
                                params={"case": repr(case_id)})
        key = secrets.token_bytes(32)
        edb.insert_case_key(conn, case_id, self.sealer.seal(
            base64.b64encode(key).decode(), context=edb.case_key_context(case_id)), self.clock())
        return key

    def _signing_key(self, conn: sa.Connection, p: Principal) -> tuple[str, Any]:
        row = edb.active_signing_key(conn, p.user_id)
        if row is not None:
            raw = base64.b64decode(self.sealer.open(
                row.private_sealed, context=edb.signing_key_context(row.key_id)))
            return row.key_id, private_from_raw(raw)
        key = new_signing_key()
        key_id = fingerprint(public_raw(key))
        edb.insert_signing_key(
            conn, key_id=key_id, owner=p.user_id, username=p.username,
            public_key=public_raw(key), created_at=self.clock(),
            private_sealed=self.sealer.seal(base64.b64encode(private_raw(key)).decode(),
                                            context=edb.signing_key_context(key_id)))
        self.core._audit(conn, p, "evidence.key.create", key_id)
        return key_id, key

    def record_event(self, conn: sa.Connection, p: Principal, case_id: str, action: str, *,
               item: str | None, purpose: str, note: str | None = None,
               details: dict[str, Any] | None = None) -> int:
        """Append one signed event to the case's custody log (and audit it). Returns its seq."""
        if purpose not in PURPOSES:
            raise ValidationError("unknown purpose", column="purpose", value=purpose,
                                  allowed=", ".join(sorted(PURPOSES)))
        # the case's lock first, the audit chain's lock last (a new key is audited below): one
        # order for every transaction, or two users acting on one case deadlock on PostgreSQL
        edb.case_lock(conn, case_id)
        key_id, key = self._signing_key(conn, p)
        note_id = None
        if note:
            note_id = sha256_hex(note.encode("utf-8"))
            edb.insert_note(conn, note_id, case_id,
                            self.sealer.seal(note, context=edb.note_context(note_id)))
        head = edb.log_head(conn, case_id)
        seq, prev = (head[0] + 1, head[1]) if head else (1, GENESIS)
        body = event_body(case=case_id, seq=seq, prev=prev, at=self.clock(), action=action,
                          item=item, actor=actor_of(p), role=p.role.value, purpose=purpose,
                          note=note_id, key=key_id, details=details)
        edb.insert_event(conn, case_id, seq, body, sha256_hex(body), key.sign(body))
        self.core._audit(conn, p, f"evidence.{action}", case_id, item=item, seq=seq)
        return seq

    def item_view(self, row: Any) -> ItemView:
        """An item row with its sealed name and source opened (callers audit the read)."""
        source = (self.sealer.open(row.source_sealed,
                                   context=edb.item_source_context(row.item_id))
                  if row.source_sealed is not None else None)
        return ItemView(row.item_id, row.case_id, row.sha256, row.size, row.mime,
                        self.sealer.open(row.name_sealed,
                                         context=edb.item_name_context(row.item_id)),
                        source, row.kind, row.acquired_at, row.acquired_by, row.derived_from,
                        row.token_time, row.status, bool(row.legal_hold))

    def item_row(self, conn: sa.Connection, case_id: str, sha256: str) -> Any:
        """The case's item by full hash, or by a unique prefix of 8+ hex digits."""
        row = edb.item_by_hash(conn, case_id, sha256.lower())
        if row is None:
            matches = [r for r in edb.items_of_case(conn, case_id)
                       if len(sha256) >= 8 and r.sha256.startswith(sha256.lower())]
            if len(matches) != 1:
                raise NotFoundError("case {case} holds no item {item}",
                                    hint="`ctip evidence log CASE` lists the items",
                                    params={"case": repr(case_id), "item": repr(sha256)})
            row = matches[0]
        return row

    # ---- use cases --------------------------------------------------------------------------
    def ingest(self, p: Principal, case_id: str, source: BinaryIO, *, name: str,
               origin: str | None = None, purpose: str = "investigation",
               note: str | None = None, kind: str = "file", derived_from: str | None = None,
               details: dict[str, Any] | None = None, mime: str | None = None) -> Ingested:
        """Hash (first), encrypt and store the bytes, time-stamp their hash, log the ingest.
        ``mime``: only for content ctip made itself (captures); uploads are sniffed."""
        with self.engine.begin() as conn:
            self.check_access(conn, p, case_id, Action.EVIDENCE_ADD)
            key = self.case_key(conn, case_id, create=True)
            if derived_from is not None:
                derived_from = self.item_row(conn, case_id, derived_from).sha256
        sha, size, head, _new = self.blobs.write(case_id, key, source)  # no transaction held
        with self.engine.begin() as conn:
            existing = edb.item_by_hash(conn, case_id, sha)
            if existing is not None:
                self.record_event(conn, p, case_id, "acquire", item=sha, purpose=purpose, note=note,
                            details={"name_sha256": sha256_hex(name.encode()), "kind": kind})
                return Ingested(self.item_view(existing), new=False)
        stamp = self.tsa.stamp(bytes.fromhex(sha))
        item_id, at = str(uuid.uuid4()), self.clock()
        mime = mime or sniff_type(head, name)
        with self.engine.begin() as conn:
            edb.insert_item(
                conn, item_id=item_id, case_id=case_id, sha256=sha, size=size, mime=mime,
                name_sealed=self.sealer.seal(name, context=edb.item_name_context(item_id)),
                source_sealed=self.sealer.seal(origin, context=edb.item_source_context(item_id))
                if origin else None,
                kind=kind, acquired_at=at, acquired_by=actor_of(p), derived_from=derived_from,
                token=stamp.token, token_time=stamp.info.gen_time, status="held",
                legal_hold=False)
            info = {"size": size, "mime": mime, "kind": kind,
                    "name_sha256": sha256_hex(name.encode()),
                    "derived_from": derived_from, "token_time": stamp.info.gen_time.isoformat(),
                    **(details or {})}
            self.record_event(conn, p, case_id, "ingest", item=sha, purpose=purpose, note=note,
                        details=info)
            if derived_from is not None:
                self.record_event(conn, p, case_id, "redact-copy", item=derived_from,
                                  purpose=purpose, details={"working_copy": sha})
            row = edb.item_by_hash(conn, case_id, sha)
        return Ingested(self.item_view(row), new=True)

    def items(self, p: Principal, case_id: str) -> list[ItemView]:
        """The case's items (names opened: audited)."""
        with self.engine.begin() as conn:
            self.check_access(conn, p, case_id, Action.EVIDENCE_READ)
            rows = edb.items_of_case(conn, case_id)
            self.core._audit(conn, p, "evidence.list", case_id, items=len(rows))
        return [self.item_view(r) for r in rows]

    def custody(self, p: Principal, case_id: str) -> list[dict[str, Any]]:
        """The case's custody events as recorded (hashes and codes; notes stay sealed)."""
        import json

        with self.engine.begin() as conn:
            self.check_access(conn, p, case_id, Action.EVIDENCE_READ)
            rows = edb.events_of_case(conn, case_id)
            self.core._audit(conn, p, "evidence.log.read", case_id, events=len(rows))
        return [{**json.loads(r.body), "hash": r.event_hash} for r in rows]

    def view(self, p: Principal, case_id: str, sha256: str, *, purpose: str,
             note: str | None = None) -> tuple[ItemView, Iterator[bytes]]:
        """Open an item's bytes; the view is a custody event, committed before any byte."""
        with self.engine.begin() as conn:
            self.check_access(conn, p, case_id, Action.EVIDENCE_READ)
            row = self.item_row(conn, case_id, sha256)
            if row.status != "held":
                raise EvidenceError("item {item} was disposed of",
                                    hint="the custody log records when and by whom",
                                    params={"item": row.sha256[:16]})
            key = self.case_key(conn, case_id, create=False)
            self.record_event(conn, p, case_id, "view", item=row.sha256, purpose=purpose, note=note)
        return self.item_view(row), self.blobs.read(case_id, key, row.sha256)

    def hold(self, p: Principal, case_id: str, sha256: str, *, on: bool, purpose: str,
             note: str | None = None) -> ItemView:
        with self.engine.begin() as conn:
            self.check_access(conn, p, case_id, Action.EVIDENCE_DISPOSE)
            row = self.item_row(conn, case_id, sha256)
            edb.update_item(conn, row.item_id, legal_hold=on)
            self.record_event(conn, p, case_id, "legal-hold" if on else "hold-release",
                        item=row.sha256, purpose=purpose, note=note)
            row = edb.item_by_hash(conn, case_id, row.sha256)
        return self.item_view(row)

    def dispose(self, p: Principal, case_id: str, sha256: str, *, purpose: str = "retention",
                note: str | None = None) -> ItemView:
        """Delete the stored copy at the end of retention (never under legal hold); the item's
        hash, token and custody stay, so what was disposed of stays provable."""
        with self.engine.begin() as conn:
            self.check_access(conn, p, case_id, Action.EVIDENCE_DISPOSE)
            row = self.item_row(conn, case_id, sha256)
            if row.legal_hold:
                raise EvidenceError("item {item} is under legal hold and cannot be "
                                    "disposed of", hint="release the hold first (a supervisor, "
                                    "with the legal basis), then dispose",
                                    params={"item": row.sha256[:16]})
            if row.status != "held":
                raise EvidenceError("item {item} was already disposed of",
                                    params={"item": row.sha256[:16]})
            key = self.case_key(conn, case_id, create=False)
            edb.update_item(conn, row.item_id, status="disposed")
            self.record_event(conn, p, case_id, "dispose", item=row.sha256, purpose=purpose,
                        note=note)
            path = self.blobs.path(case_id, key, row.sha256)
            if path.exists():
                path.chmod(0o600)
                path.unlink()
            row = edb.item_by_hash(conn, case_id, row.sha256)
        return self.item_view(row)

    def checkpoint(self, case_id: str | None = None) -> list[tuple[str, int]]:
        """Signed, time-stamped checkpoints of each custody log with new events (or one case's)
        and of the audit log. Returns (log, size) of those made."""
        made = []
        with self.engine.begin() as conn:
            cases = [case_id] if case_id else edb.cases_with_items(conn)
            for case in cases:
                hashes = [r.event_hash for r in edb.events_of_case(conn, case)]
                log = custody_log(case)
                if len(hashes) > edb.latest_checkpoint_size(conn, log):
                    record_checkpoint(conn, self.notary, self.tsa, log=log,
                                      entry_hashes=hashes, clock=self.clock)
                    made.append((log, len(hashes)))
        made += self.checkpoint_audit()
        return made

    def checkpoint_audit(self) -> list[tuple[str, int]]:
        with self.engine.begin() as conn:
            hashes = self.audit.entry_hashes(conn)
            if len(hashes) <= edb.latest_checkpoint_size(conn, AUDIT_LOG):
                return []
            record_checkpoint(conn, self.notary, self.tsa, log=AUDIT_LOG, entry_hashes=hashes,
                              clock=self.clock)
            self.audit.append(conn, actor="system", action="audit.checkpoint",
                              subject=AUDIT_LOG, details={"size": len(hashes)})
        return [(AUDIT_LOG, len(hashes))]

    def revoke_keys(self, user_id: str, *, by: str) -> list[str]:
        """Revoke every signing key of a user (a lost laptop, a departure): later signatures by
        them fail verification; a new key is made at the user's next action."""
        with self.engine.begin() as conn:
            ids = edb.revoke_signing_keys(conn, user_id, self.clock(), by)
            self.audit.append(conn, actor=by, action="evidence.key.revoke", subject=user_id,
                              details={"keys": ids})
        return ids
