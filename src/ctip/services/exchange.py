"""Exchange use cases: send, receive, open, receipts, recall and expiry (issue 17; design B3).

Both audit chains see everything: the sender's records ``exchange.created`` / ``exchange.sent``
/ ``exchange.receipt`` / ``exchange.recalled`` / ``exchange.purge_confirmed``; the receiver's
``exchange.received`` (ciphertext SHA-256), ``exchange.verified`` or ``exchange.rejected``
(reason code), ``exchange.opened`` (by whom), ``exchange.purged``. Receipts, recalls and purge
confirmations are small signed packages of profile ``receipt`` naming the package and its
manifest hash, so both chains reference the same manifest; a receipt carries the receiver's
audit head (cross-witnessing).

Received payloads are kept encrypted under a per-package data key sealed under the key ring;
a recall (signed by the original sender) or expiry deletes key and ciphertext: the package can
no longer be read here, and a purge receipt says so. Packages move as bytes: a file, or the
web API's drop box; transport needs no security of its own.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from ctip.domain.access import Action, Principal, require_role
from ctip.errors import ExchangeError, NotFoundError
from ctip.exchange import directory as d
from ctip.exchange import package as pk
from ctip.exchange import payloads
from ctip.exchange import profiles as pr
from ctip.exchange.verify import Verified, verify_opened
from ctip.services.exchange_directory import DirectoryWork
from ctip.storage import exchange as xdb
from ctip.storage.tables import audit_log

CONTROL, CASES = payloads.CONTROL, payloads.CASES


@dataclass(frozen=True)
class Sent:
    package_id: str
    data: bytes  # the .ctipx bytes, to write to <package_id>.ctipx or post
    manifest: dict[str, Any]

    @property
    def file_name(self) -> str:
        return self.package_id + pk.SUFFIX


@dataclass(frozen=True)
class Received:
    package_id: str
    sender: str
    profile: str
    kind: str  # cases | ftm | sdmx | evidence | referral | referral-response | receipt | ...
    reply: Sent | None = None  # receipt or purge receipt to send back
    referral_id: str | None = None
    later_revoked: bool = False
    timestamp: str = "none"  # what the package's RFC 3161 token says (verify.check_timestamp)


class Exchange(DirectoryWork):
    """Packages of one instance; the referral use cases are in ``exchange_referrals``."""

    # ---- sending -----------------------------------------------------------------------------
    def send(self, p: Principal | str, *, to: Sequence[str], profile_id: str,
             records: Sequence[Mapping[str, Any]], legal_basis: str,
             consent_refs: Sequence[str] = (), in_reply_to: str | None = None,
             grade: str | None = None, path: str = CASES,
             conn: sa.Connection | None = None) -> Sent:
        """Records as one JSON Lines file: check them against the profile (refused, never
        trimmed), then ``send_files``."""
        prof = pr.profile(profile_id)
        rows = pr.apply_rules_all(prof, records)
        pr.check_records(prof, rows, where=path)
        files = [pk.PayloadFile(path, payloads.media_type(path), pk.jsonl(rows), len(rows))]
        return self._send(p, to, prof, files, legal_basis, consent_refs, in_reply_to, grade,
                          conn, gated=True)

    def send_files(self, p: Principal | str, *, to: Sequence[str], profile_id: str,
                   files: Sequence[pk.PayloadFile], legal_basis: str,
                   consent_refs: Sequence[str] = (), in_reply_to: str | None = None,
                   grade: str | None = None, conn: sa.Connection | None = None) -> Sent:
        """Payload files of the profile's kind (FtM, SDMX-CSV, evidence; ``payloads``): the
        gate the receiver runs (``payloads.check_payload``) runs here first on the very bytes
        that leave; then sign, encrypt to each recipient's current mailbox, record, audit."""
        prof = pr.profile(profile_id)
        return self._send(p, to, prof, files, legal_basis, consent_refs, in_reply_to, grade,
                          conn, gated=False)

    def _send(self, p: Principal | str, to: Sequence[str], prof: pr.Profile,
              files: Sequence[pk.PayloadFile], legal_basis: str, consent_refs: Sequence[str],
              in_reply_to: str | None, grade: str | None, conn: sa.Connection | None, *,
              gated: bool) -> Sent:
        counts = ({f.path: f.records or 0 for f in files} if gated
                  else payloads.check_payload(prof, {f.path: f.data for f in files}))
        pr.check_labels(tlp=prof.tlp, handling=prof.handling, grade=grade)
        if legal_basis not in prof.legal_bases:
            raise ExchangeError(f"Profile {prof.id!r} rests on {', '.join(prof.legal_bases)}, "
                                f"not {legal_basis!r}.", reason="out-of-profile")
        if legal_basis == "consent" and not consent_refs:
            raise ExchangeError("A package resting on consent must cite the consent record.",
                                reason="out-of-profile", hint="record the consent first")
        keys = self.agency_keys()
        if conn is None:
            with self.engine.begin() as own:
                return self._send(p, to, prof, files, legal_basis, consent_refs, in_reply_to,
                                  grade, own, gated=True)
        dirs = self.directories(conn)
        cards = [d.card_of(dirs, agency) for agency in to]
        now = self.clock()
        env = pk.Envelope(
            sender=keys.agency, recipients=[pk.Recipient(c["agency"], c["recipients"][0])
                                            for c in cards],
            purpose=str(prof.definition["purpose"]), profile_id=prof.id,
            profile_sha256=prof.sha256, legal_basis=legal_basis, consent_refs=consent_refs,
            handling=prof.handling, tlp=prof.tlp, grade=grade, in_reply_to=in_reply_to,
            created=now, expires=now + timedelta(days=prof.expires_days),
            retention=prof.retention, schema_versions=payloads.schema_versions(prof),
            directory_serial=max((int(b["serial"]) for b in dirs), default=0))
        files = [f if f.records is not None or f.path not in counts
                 else pk.PayloadFile(f.path, f.media_type, f.data, counts[f.path])
                 for f in files]
        tsa = self.tsa
        stamp = (lambda digest: tsa.stamp(digest).token) if tsa is not None else None
        data, manifest = pk.pack(env, keys.signing, files, stamp=stamp)
        manifest_sha = hashlib.sha256(pk.canonical_json(manifest)).hexdigest()
        xdb.insert_package(conn, package_id=env.package_id, direction="out",
                           peer=",".join(to), profile=prof.id, in_reply_to=in_reply_to,
                           manifest_sha256=manifest_sha,
                           ciphertext_sha256=hashlib.sha256(data).hexdigest(), status="sent",
                           created=now, expires=env.expires, updated_at=now)
        self._audit(conn, p, "exchange.created", env.package_id, manifest_sha256=manifest_sha,
                    profile=prof.id, legal_basis=legal_basis, consent_refs=list(consent_refs),
                    records=sum(counts.values()), files=sorted(counts), to=list(to),
                    tlp=prof.tlp, handling=prof.handling)
        self._audit(conn, p, "exchange.sent", env.package_id, bytes=len(data))
        return Sent(env.package_id, data, manifest)

    def _control(self, p: Principal | str, conn: sa.Connection, to: str, record: dict[str, Any],
                 in_reply_to: str) -> Sent:
        return self.send(p, to=[to], profile_id="receipt", records=[record],
                         legal_basis="statute", in_reply_to=in_reply_to, path=CONTROL,
                         conn=conn)

    # ---- receiving ---------------------------------------------------------------------------
    def receive(self, p: Principal | str, data: bytes) -> Received:
        """Open and check a package (``ctip.exchange.verify``); refused ones are audited with
        their reason and the ExchangeError is raised again."""
        if not isinstance(p, str):
            require_role(p, Action.REFERRAL_RESPOND)
        digest = hashlib.sha256(data).hexdigest()
        keys = self.agency_keys()
        try:
            with self.engine.begin() as conn:
                self._audit(conn, p, "exchange.received", digest, bytes=len(data))
                opened = pk.open_package(data, keys.mailboxes)
                got = verify_opened(
                    opened, directories=self.directories(conn), me=keys.agency,
                    my_recipients=keys.recipients, now=self.clock(),
                    seen=lambda pid: xdb.get_package(conn, pid, "in") is not None,
                    tsa=(self.tsa.ca_pem, self.tsa.cert_pem) if self.tsa else None)
                return self._accept(p, conn, got, digest, data)
        except ExchangeError as error:
            with self.engine.begin() as conn:
                self._audit(conn, p, "exchange.rejected", digest, reason=error.reason)
            raise

    def _accept(self, p: Principal | str, conn: sa.Connection, got: Verified, digest: str,
                data: bytes) -> Received:
        m, now = got.manifest, self.clock()
        sender = str(m["sender"])
        xdb.insert_package(conn, package_id=got.package_id, direction="in", peer=sender,
                           profile=got.profile.id, in_reply_to=m.get("in_reply_to"),
                           manifest_sha256=got.opened.manifest_sha256,
                           ciphertext_sha256=digest, status="received",
                           created=pk.parse_time(m["created"]),
                           expires=pk.parse_time(m["expires"]), updated_at=now,
                           detail="signed by a key later revoked" if got.later_revoked else None)
        self._audit(conn, p, "exchange.verified", got.package_id, sender=sender,
                    manifest_sha256=got.opened.manifest_sha256, profile=got.profile.id,
                    tlp=m["tlp"], handling=m["handling"], later_revoked=got.later_revoked,
                    timestamp=got.timestamp)
        if CONTROL in got.records:
            (control,) = got.records[CONTROL]
            kind = self._on_control(p, conn, sender, control)
            reply = self._purge(p, conn, control, sender) if kind == "recall" else None
            return Received(got.package_id, sender, got.profile.id, kind, reply)
        xdb.store_payload(conn, self.sealer, got.package_id,
                          payloads.hold(got.profile, got.opened.files))
        kind, referral_id = self._on_cases(p, conn, got)
        head = self._audit_head(conn)
        reply = self._control(p, conn, sender, {
            "kind": "receipt", "package_id": got.package_id,
            "manifest_sha256": got.opened.manifest_sha256, "status": "accepted",
            "audit_head": head}, got.package_id)
        return Received(got.package_id, sender, got.profile.id, kind, reply, referral_id,
                        got.later_revoked, got.timestamp)

    def _on_cases(self, p: Principal | str, conn: sa.Connection,
                  got: Verified) -> tuple[str, str | None]:
        """Hook for the referral use cases (``exchange_referrals``); the payload kind."""
        return got.profile.payload, None

    def _audit_head(self, conn: sa.Connection) -> str:
        last = conn.execute(sa.select(audit_log.c.seq, audit_log.c.entry_hash)
                            .order_by(audit_log.c.seq.desc()).limit(1)).first()
        return f"{last.seq}:{last.entry_hash}" if last else "0:"

    def _on_control(self, p: Principal | str, conn: sa.Connection, sender: str,
                    control: Mapping[str, Any]) -> str:
        kind, pid = str(control.get("kind")), str(control.get("package_id"))
        direction = "in" if kind == "recall" else "out"
        row = xdb.get_package(conn, pid, direction)
        if row is None or sender not in row.peer.split(","):
            raise ExchangeError(f"The {kind} names package {pid}, which this instance did not "
                                f"{'receive from' if kind == 'recall' else 'send to'} {sender}.",
                                reason="not-a-recipient")
        if control.get("manifest_sha256") != row.manifest_sha256:
            raise ExchangeError(f"The {kind} for package {pid} names another manifest.",
                                reason="tampered")
        now = self.clock()
        if kind == "receipt":
            xdb.set_package_status(conn, pid, "out", "receipted", now,
                                   f"{control.get('status')} {control.get('audit_head')}"[:200])
            self._audit(conn, p, "exchange.receipt", pid, by=sender,
                        status=control.get("status"), peer_audit_head=control.get("audit_head"))
        elif kind == "purge":
            xdb.set_package_status(conn, pid, "out", "purged", now)
            self._audit(conn, p, "exchange.purge_confirmed", pid, by=sender)
        elif kind != "recall":
            raise ExchangeError(f"Unknown control message {kind!r}.", reason="malformed")
        return kind

    def _purge(self, p: Principal | str, conn: sa.Connection, control: Mapping[str, Any],
               sender: str) -> Sent:
        pid = str(control["package_id"])
        removed = self._shred(p, conn, pid, "recalled", str(control.get("reason", ""))[:100])
        return self._control(p, conn, sender, {
            "kind": "purge", "package_id": pid, "manifest_sha256": control["manifest_sha256"],
            "status": f"purged {removed} bytes", "audit_head": self._audit_head(conn)}, pid)

    def _shred(self, p: Principal | str, conn: sa.Connection, pid: str, why: str,
               reason: str = "") -> int:
        removed = xdb.shred_payload(conn, pid)
        xdb.set_package_status(conn, pid, "in", "purged", self.clock(), why)
        self._audit(conn, p, "exchange.purged", pid, why=why, reason=reason, bytes=removed)
        return removed

    # ---- reading, recall, expiry -------------------------------------------------------------
    def open_records(self, p: Principal, package_id: str) -> list[dict[str, Any]]:
        """The case records of a received package, audited (who opened it)."""
        files = self.open_files(p, package_id)
        if CASES not in files:
            raise NotFoundError(f"Package {package_id} holds no case records "
                                f"({', '.join(sorted(files))}).", hint="open its files")
        return pk.read_jsonl(files[CASES], where=package_id)

    def open_files(self, p: Principal, package_id: str) -> dict[str, bytes]:
        """The payload files of a received package by path (any kind), audited."""
        require_role(p, Action.REFERRAL_RESPOND)
        with self.engine.begin() as conn:
            row = xdb.get_package(conn, package_id, "in")
            data = xdb.load_payload(conn, self.sealer, package_id) if row else None
            if row is None or data is None:
                status = row.status if row else "unknown"
                raise NotFoundError(f"No readable received package {package_id} ({status}).")
            xdb.set_package_status(conn, package_id, "in", "opened", self.clock(), row.detail)
            self._audit(conn, p, "exchange.opened", package_id, by=p.username)
        return payloads.unhold(data)

    def recall(self, p: Principal, package_id: str, *, reason: str) -> Sent:
        """A signed recall of a package we sent, to every recipient (send the bytes on)."""
        require_role(p, Action.CASE_REFER)
        with self.engine.begin() as conn:
            row = xdb.get_package(conn, package_id, "out")
            if row is None:
                raise NotFoundError(f"This instance sent no package {package_id}.")
            sent = self.send(p, to=row.peer.split(","), profile_id="receipt", records=[{
                "kind": "recall", "package_id": package_id,
                "manifest_sha256": row.manifest_sha256, "reason": reason[:100],
                "deadline": pk.iso(self.clock() + timedelta(days=7))}],
                legal_basis="statute", in_reply_to=package_id, path=CONTROL, conn=conn)
            xdb.set_package_status(conn, package_id, "out", "recalled", self.clock())
            self._audit(conn, p, "exchange.recalled", package_id, recall=sent.package_id)
            return sent

    def purge_expired(self, p: Principal | str) -> list[str]:
        """Shred every received package past its signed expiry."""
        with self.engine.begin() as conn:
            gone = xdb.expired_held(conn, self.clock())
            for pid in gone:
                self._shred(p, conn, pid, "expired")
        return gone

    def packages(self, direction: str | None = None) -> list[dict[str, Any]]:
        with self.engine.begin() as conn:
            return [{"package_id": r.package_id, "direction": r.direction, "peer": r.peer,
                     "profile": r.profile, "status": r.status, "created": pk.iso(r.created),
                     "expires": pk.iso(r.expires), "manifest_sha256": r.manifest_sha256,
                     "detail": r.detail, "payload_held": bool(xdb.payload_count(
                         conn, r.package_id))}
                    for r in xdb.packages(conn, direction)]


def new_id() -> str:
    return str(uuid.uuid4())
