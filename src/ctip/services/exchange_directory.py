"""Exchange keys and the directory: this instance's agency keys, its trust anchor (when it is
one), pinned and cross-signed anchors, imported directories (FOLLOW-UP-AND-EXCHANGE.md B3.2).

Private keys live in key files under ``CTIP_HOME/keys/exchange`` (0600, written atomically),
never in the database:

- ``signing.key``: the agency's Ed25519 signing key (PEM, PKCS#8);
- ``mailbox.key``: its age X25519 identities, one a line, the newest first; older lines stay
  until the packages received under them are purged (rotation);
- ``anchor.key``: the national trust anchor's key, only on the anchor's instance.

The public facts (agency id, name, country; the anchor record) are in ``CTIP_HOME/exchange``.
Every change of trust is audited; trust is only ever given by an operator who typed a
fingerprint (own anchor) or by our anchor's signed cross-sign statement (foreign anchors).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Self

import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization

from ctip.domain.access import Action, Principal, require_role
from ctip.errors import ExchangeError, KeyError_
from ctip.evidence.signing import Ed25519PrivateKey, fingerprint, new_signing_key, public_raw
from ctip.exchange import directory as d
from ctip.exchange.package import iso, mailbox_recipient, new_mailbox, parse_time
from ctip.services.casework import Casework
from ctip.services.timestamping import TimestampAuthority, tsa_from_settings
from ctip.settings import Settings
from ctip.storage import exchange as xdb
from ctip.storage.keys import read_key_text, write_secret


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class AgencyKeys:
    agency: str
    name: str
    country: str
    signing: Ed25519PrivateKey
    mailboxes: tuple[str, ...]  # age identities, newest first

    @property
    def key_id(self) -> str:
        return fingerprint(public_raw(self.signing))

    @property
    def recipients(self) -> tuple[str, ...]:
        return tuple(mailbox_recipient(m) for m in self.mailboxes)


def _pem(key: Ed25519PrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def _load_pem(path: Path, what: str) -> Ed25519PrivateKey:
    text = read_key_text(path, what=what)
    try:
        key = serialization.load_pem_private_key(text.encode(), password=None)
    except ValueError as error:
        raise KeyError_(f"The {what} {path} cannot be read ({error}).",
                        hint="restore it from your backup") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyError_(f"The {what} {path} is not an Ed25519 key.", hint="restore it")
    return key


class DirectoryWork:
    """Keys, trust and directories of one instance (home folder + store)."""

    def __init__(self, casework: Casework, home: Path, *,
                 clock: Callable[[], datetime] = _now,
                 tsa: TimestampAuthority | None = None) -> None:
        self.casework, self.home, self.clock = casework, home, clock
        self.tsa = tsa  # when set, each manifest gets an RFC 3161 token; tokens are checked
        self.engine, self.sealer, self.audit = casework.engine, casework.sealer, casework.audit
        self.keys_dir = home / "keys" / "exchange"
        self.public_dir = home / "exchange"

    @classmethod
    def open(cls, settings: Settings) -> Self:
        return cls.over(Casework.open(settings), settings)

    @classmethod
    def over(cls, casework: Casework, settings: Settings) -> Self:
        """Over an open casework service; with the TSA of ``CTIP_TSA`` when one is set."""
        return cls(casework, settings.home,
                   tsa=tsa_from_settings(settings) if settings.tsa else None)

    def _audit(self, conn: sa.Connection, p: Principal | str, action: str, subject: str,
               **details: Any) -> None:
        actor = p if isinstance(p, str) else f"{p.username}@{p.agency}"
        self.audit.append(conn, actor=actor, action=action, subject=subject, details=details)

    # ---- this agency's keys ------------------------------------------------------------------
    def init_agency(self, p: Principal, *, agency: str, name: str, country: str) -> list[str]:
        """Create the signing key and a mailbox key where absent (never replaced)."""
        require_role(p, Action.DIRECTORY_MANAGE)
        made = []
        info = self.public_dir / "agency.json"
        if info.exists() and json.loads(info.read_text())["agency"] != agency:
            raise ExchangeError("This home already holds the exchange keys of {agency}.",
                                reason="malformed",
                                params={"agency": json.loads(info.read_text())["agency"]})
        if not (self.keys_dir / "signing.key").exists():
            write_secret(self.keys_dir / "signing.key", _pem(new_signing_key()))
            made.append(str(self.keys_dir / "signing.key"))
        if not (self.keys_dir / "mailbox.key").exists():
            write_secret(self.keys_dir / "mailbox.key", new_mailbox() + "\n")
            made.append(str(self.keys_dir / "mailbox.key"))
        self.public_dir.mkdir(parents=True, exist_ok=True)
        info.write_text(json.dumps({"agency": agency, "name": name, "country": country}))
        keys = self.agency_keys()
        with self.engine.begin() as conn:
            self._audit(conn, p, "exchange.keys_created", agency, key_id=keys.key_id,
                        files=len(made))
        return made

    def has_keys(self) -> bool:
        return (self.public_dir / "agency.json").exists()

    def agency_keys(self) -> AgencyKeys:
        info = self.public_dir / "agency.json"
        if not info.exists():
            raise KeyError_("This instance has no exchange keys yet.",
                            hint="run `ctip exchange keys init --agency ID --name NAME "
                            "--country CC`")
        facts = json.loads(info.read_text())
        signing = _load_pem(self.keys_dir / "signing.key", "exchange signing key")
        lines = read_key_text(self.keys_dir / "mailbox.key", what="exchange mailbox key")
        mailboxes = tuple(line.strip() for line in lines.splitlines() if line.strip())
        return AgencyKeys(facts["agency"], facts["name"], facts["country"], signing, mailboxes)

    def rotate_mailbox(self, p: Principal) -> str:
        """A new mailbox key first in the file; the old ones stay to open what they received."""
        require_role(p, Action.DIRECTORY_MANAGE)
        keys = self.agency_keys()
        fresh = new_mailbox()
        write_secret(self.keys_dir / "mailbox.key", "\n".join((fresh, *keys.mailboxes)) + "\n")
        with self.engine.begin() as conn:
            self._audit(conn, p, "exchange.mailbox_rotated", keys.agency,
                        mailboxes=len(keys.mailboxes) + 1)
        return mailbox_recipient(fresh)

    def card(self, p: Principal, *, valid_days: int = 365, serial: int = 1,
             roles: Sequence[str] = (), purposes: Sequence[str] = (),
             contact: str = "") -> dict[str, Any]:
        """This agency's card, signed by its own key, to take to the national anchor."""
        require_role(p, Action.DIRECTORY_MANAGE)
        keys = self.agency_keys()
        now = self.clock()
        return d.agency_card(agency=keys.agency, name=keys.name, country=keys.country,
                             signing=keys.signing, recipients=[keys.recipients[0]],
                             valid_from=now, valid_to=now + timedelta(days=valid_days),
                             serial=serial, roles=roles, purposes=purposes, contact=contact)

    # ---- the anchor (only on the national anchor's instance) ---------------------------------
    def init_anchor(self, p: Principal, *, anchor_id: str, country: str,
                    name: str) -> dict[str, Any]:
        """Create the anchor key and record where absent, and pin it as this instance's own."""
        require_role(p, Action.DIRECTORY_MANAGE)
        path = self.keys_dir / "anchor.key"
        if not path.exists():
            write_secret(path, _pem(new_signing_key()))
        record = d.anchor_record(anchor_id, country, name, _load_pem(path, "anchor key"))
        self.public_dir.mkdir(parents=True, exist_ok=True)
        (self.public_dir / "anchor.json").write_text(json.dumps(record, sort_keys=True))
        self.trust_anchor(p, record, d.ooband_fingerprint(record))
        return record

    def anchor(self) -> tuple[dict[str, Any], Ed25519PrivateKey]:
        path = self.public_dir / "anchor.json"
        if not path.exists():
            raise KeyError_("This instance is not a trust anchor.",
                            hint="run `ctip exchange directory anchor-init` on the anchor's "
                            "instance only")
        return json.loads(path.read_text()), _load_pem(self.keys_dir / "anchor.key",
                                                       "anchor key")

    def countersign(self, p: Principal, signed_card: Mapping[str, Any]) -> dict[str, Any]:
        require_role(p, Action.DIRECTORY_MANAGE)
        record, key = self.anchor()
        entry = d.countersign(signed_card, record, key)
        with self.engine.begin() as conn:
            xdb.put_card(conn, entry["card"]["agency"], entry, self.clock())
            self._audit(conn, p, "exchange.card_countersigned", entry["card"]["agency"],
                        key_id=entry["card"]["key_id"], serial=entry["card"]["serial"])
        return entry

    def revoke_key(self, p: Principal, *, agency: str, key_id: str, reason: str,
                   at: datetime | None = None) -> None:
        require_role(p, Action.DIRECTORY_MANAGE)
        self.anchor()
        with self.engine.begin() as conn:
            xdb.revoke(conn, key_id=key_id, agency=agency, at=at or self.clock(),
                       reason=reason[:200])
            self._audit(conn, p, "exchange.key_revoked", agency, key_id=key_id)

    def publish(self, p: Principal) -> dict[str, Any]:
        """The anchor's signed directory with the next serial; imported here too."""
        require_role(p, Action.DIRECTORY_MANAGE)
        record, key = self.anchor()
        with self.engine.begin() as conn:
            serial = xdb.newest_serial(conn, record["id"]) + 1
            revoked = [{"key_id": r.key_id, "agency": r.agency,
                        "revoked_at": iso(r.revoked_at), "reason": r.reason}
                       for r in xdb.revocations(conn)]
            doc = d.directory(record, key, serial=serial, issued=self.clock(),
                              cards=xdb.cards(conn), revoked=revoked)
        self.import_directory(p, doc)
        return doc

    # ---- trust -------------------------------------------------------------------------------
    def _own_anchor(self, conn: sa.Connection) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        rows = xdb.trust_rows(conn)
        own = [json.loads(r.record) for r in rows if r.kind == "own"]
        if not own:
            raise ExchangeError("No trust anchor is pinned on this instance.",
                                reason="untrusted", hint="run `ctip exchange directory trust "
                                "ANCHOR.json --fingerprint '...'` with your national anchor's "
                                "record and the fingerprint it gave you out of band")
        statements = [json.loads(r.statement) for r in rows if r.kind == "cross" and r.statement]
        return own[0], statements

    def trust_anchor(self, p: Principal, record: Mapping[str, Any], fingerprint_given: str) -> None:
        """Pin the national anchor, after checking the fingerprint received out of band."""
        require_role(p, Action.DIRECTORY_MANAGE)
        if record.get("kind") != d.ANCHOR or not d.same_fingerprint(fingerprint_given, record):
            raise ExchangeError("The anchor record does not match the fingerprint you gave.",
                                reason="untrusted", hint="check both with the anchor's "
                                "authority on a separate channel; nothing was trusted")
        with self.engine.begin() as conn:
            for row in xdb.trust_rows(conn):
                if row.kind == "own" and row.anchor_id != record["id"]:
                    raise ExchangeError("Anchor {anchor} is already pinned here.",
                                        reason="untrusted", params={"anchor": row.anchor_id})
            xdb.put_trust(conn, anchor_id=record["id"], record=dict(record), kind="own",
                          statement=None, at=self.clock(), by=p.username)
            self._audit(conn, p, "exchange.anchor_pinned", record["id"],
                        fingerprint=d.ooband_fingerprint(record))

    def cross_sign(self, p: Principal, other: Mapping[str, Any], *, fingerprint_given: str,
                   agreement: str, valid_days: int = 365) -> dict[str, Any]:
        """Our anchor's statement trusting a foreign anchor (bilateral arrangement)."""
        require_role(p, Action.DIRECTORY_MANAGE)
        record, key = self.anchor()
        statement = d.cross_sign(record, key, other, fingerprint_given=fingerprint_given,
                                 agreement=agreement,
                                 valid_to=self.clock() + timedelta(days=valid_days))
        self.add_cross_signature(p, statement)
        return statement

    def add_cross_signature(self, p: Principal, statement: Mapping[str, Any]) -> None:
        """Keep a cross-sign statement made by our anchor (at the anchor or an agency)."""
        require_role(p, Action.DIRECTORY_MANAGE)
        with self.engine.begin() as conn:
            own, _ = self._own_anchor(conn)
            other = statement["statement"]["for"]
            d.trusted_anchor(own, [statement], other, self.clock())
            xdb.put_trust(conn, anchor_id=other["id"], record=other, kind="cross",
                          statement=dict(statement), at=self.clock(), by=p.username)
            self._audit(conn, p, "exchange.anchor_cross_signed", other["id"],
                        fingerprint=statement["statement"]["fingerprint"],
                        agreement=statement["statement"]["agreement"][:100])

    def import_directory(self, p: Principal | str, doc: Mapping[str, Any]) -> int:
        """Verify a directory against our trust and keep it; its serial must grow."""
        now = self.clock()
        with self.engine.begin() as conn:
            own, statements = self._own_anchor(conn)
            body = d.verify_directory(doc, own, statements, now)
            anchor_id, serial = body["anchor"]["id"], int(body["serial"])
            newest = xdb.newest_serial(conn, anchor_id)
            if serial <= newest:
                raise ExchangeError(
                    "Directory {anchor} serial {serial} is not newer than the one held "
                    "here (serial {newest}).", reason="stale-directory",
                    hint="import the anchor's current directory",
                    params={"anchor": anchor_id, "serial": serial, "newest": newest})
            xdb.insert_directory(conn, anchor_id=anchor_id, serial=serial, document=dict(doc),
                                 issued=parse_time(body["issued"]), at=now)
            self._audit(conn, p, "exchange.directory_imported", anchor_id, serial=serial,
                        cards=len(body["cards"]), revoked=len(body["revoked"]))
        return serial

    def directories(self, conn: sa.Connection) -> list[dict[str, Any]]:
        """The bodies of the current directories, verified again now (trust, signatures); a
        directory older than 30 days is left out, so its agencies are unknown until a fresh
        one is imported (a revocation cannot be hidden by withholding the new directory)."""
        own, statements = self._own_anchor(conn)
        fresh = []
        for doc in xdb.current_directories(conn):
            try:
                fresh.append(d.verify_directory(doc, own, statements, self.clock()))
            except ExchangeError as error:
                if error.reason != "stale-directory":
                    raise
        return fresh

    def summary(self) -> dict[str, Any]:
        with self.engine.begin() as conn:
            trust = [{"anchor": r.anchor_id, "kind": r.kind,
                      "fingerprint": d.ooband_fingerprint(json.loads(r.record))}
                     for r in xdb.trust_rows(conn)]
            dirs = [{"anchor": b["directory"]["anchor"]["id"],
                     "serial": b["directory"]["serial"], "issued": b["directory"]["issued"],
                     "agencies": [c["card"]["agency"] for c in b["directory"]["cards"]],
                     "revoked": [r["key_id"] for r in b["directory"]["revoked"]]}
                    for b in xdb.current_directories(conn)]
        return {"trust": trust, "directories": dirs}


def fingerprint_of(record: Mapping[str, Any]) -> str:
    """The out-of-band fingerprint of an anchor record (for the adapters)."""
    if not isinstance(record, Mapping) or record.get("kind") != d.ANCHOR:
        raise ExchangeError("That file is not a ctip trust anchor record.", reason="malformed")
    return d.ooband_fingerprint(record)
