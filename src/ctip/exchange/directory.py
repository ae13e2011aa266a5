"""The agency directory, the root of trust for exchange (FOLLOW-UP-AND-EXCHANGE.md B3.2).

- An **agency card** (agency id, name, country, roles, purposes, Ed25519 signing key, age
  mailbox recipients, validity, serial, contact) is signed by the agency's own key (proof that it
  holds the key) and **countersigned by its national trust anchor** (the NRM coordinator or the
  central authority).
- A **directory** is the anchor's signed list of the cards it vouches for plus a revocation
  list, with a monotonic serial and an issue time; it travels as a JSON file.
- **Across borders** an anchor trusts another anchor only through a **cross-sign statement** it
  signs itself, after an operator typed the other anchor's fingerprint (SHA-256 of its canonical
  anchor record, 12 groups of 5 digits) as received out of band. Nothing is ever trusted on
  first use: a directory whose anchor is neither ours nor cross-signed by ours is refused.

Pure functions over JSON-ready dicts; keys are ``cryptography`` Ed25519 objects (from
``ctip.evidence.signing``); where records are kept is the storage layer's business.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ctip.errors import ExchangeError, Phrase
from ctip.evidence.canonical import canonical_json
from ctip.evidence.signing import (
    Ed25519PrivateKey,
    fingerprint,
    public_raw,
    verify_canonical,
)
from ctip.exchange.package import iso, parse_time

ANCHOR, CARD, DIRECTORY, CROSS = ("ctip-anchor/1", "ctip-agency-card/1", "ctip-directory/1",
                                  "ctip-cross-sign/1")
MAX_DIRECTORY_AGE = timedelta(days=30)
CLOCK_SKEW = timedelta(minutes=5)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: Any, what: str | Phrase) -> bytes:
    try:
        return base64.b64decode(str(text), validate=True)
    except ValueError:
        raise ExchangeError("{what} is not base64.", reason="malformed",
                            params={"what": what}) from None


def ooband_fingerprint(record: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical record as 12 groups of 5 digits, to read aloud or put in a note."""
    digits = str(int.from_bytes(hashlib.sha256(canonical_json(dict(record))).digest(), "big")
                 % 10**60).zfill(60)
    return " ".join(digits[i:i + 5] for i in range(0, 60, 5))


def same_fingerprint(given: str, record: Mapping[str, Any]) -> bool:
    expected = ooband_fingerprint(record).replace(" ", "")
    return "".join(ch for ch in given if ch.isdigit()) == expected


def signed(body: dict[str, Any], key: Ed25519PrivateKey) -> str:
    return b64(key.sign(canonical_json(body)))


def _verify(public_b64: str, body: Any, signature_b64: Any, what: str | Phrase) -> None:
    if not verify_canonical(unb64(public_b64, what), body, unb64(signature_b64, what)):
        raise ExchangeError("The signature on {what} does not verify.", reason="bad-signature",
                            hint="the file was altered or not signed by the key it names",
                            params={"what": what})


# ---- records ---------------------------------------------------------------------------------
def anchor_record(anchor_id: str, country: str, name: str,
                  key: Ed25519PrivateKey) -> dict[str, Any]:
    return {"kind": ANCHOR, "id": anchor_id, "country": country, "name": name,
            "key": b64(public_raw(key)), "key_id": fingerprint(public_raw(key))}


def agency_card(*, agency: str, name: str, country: str, signing: Ed25519PrivateKey,
                recipients: Sequence[str], valid_from: datetime, valid_to: datetime,
                serial: int = 1, roles: Sequence[str] = (), purposes: Sequence[str] = (),
                contact: str = "") -> dict[str, Any]:
    """A card signed by the agency itself (the anchor countersigns it with ``countersign``)."""
    card = {"kind": CARD, "agency": agency, "name": name, "country": country,
            "roles": list(roles), "purposes": list(purposes),
            "signing_key": b64(public_raw(signing)), "key_id": fingerprint(public_raw(signing)),
            "recipients": list(recipients), "valid_from": iso(valid_from),
            "valid_to": iso(valid_to), "serial": serial, "contact": contact}
    return {"card": card, "agency_sig": signed(card, signing)}


def countersign(signed_card: Mapping[str, Any], anchor: Mapping[str, Any],
                anchor_key: Ed25519PrivateKey) -> dict[str, Any]:
    card = dict(signed_card["card"])
    _verify(card["signing_key"], card, signed_card.get("agency_sig"),
            Phrase("the card of {agency}", params={"agency": card["agency"]}))
    if card["country"] != anchor["country"]:
        raise ExchangeError("Anchor {anchor} vouches for {country} agencies only, not for "
                            "{agency} ({agency_country}).", reason="untrusted",
                            params={"anchor": anchor["id"], "country": anchor["country"],
                                    "agency": card["agency"], "agency_country": card["country"]})
    return {"card": card, "agency_sig": signed_card["agency_sig"], "anchor_id": anchor["id"],
            "anchor_sig": signed(card, anchor_key)}


def directory(anchor: Mapping[str, Any], anchor_key: Ed25519PrivateKey, *, serial: int,
              issued: datetime, cards: Iterable[Mapping[str, Any]],
              revoked: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    body = {"kind": DIRECTORY, "anchor": dict(anchor), "serial": serial, "issued": iso(issued),
            "cards": sorted((dict(c) for c in cards), key=lambda c: c["card"]["agency"]),
            "revoked": sorted((dict(r) for r in revoked), key=lambda r: r["key_id"])}
    return {"directory": body, "signature": signed(body, anchor_key)}


def cross_sign(own: Mapping[str, Any], own_key: Ed25519PrivateKey, other: Mapping[str, Any], *,
               fingerprint_given: str, agreement: str, valid_to: datetime) -> dict[str, Any]:
    """Our anchor's statement that it trusts ``other``, made only if the fingerprint an operator
    received out of band matches ``other`` exactly."""
    if other.get("kind") != ANCHOR:
        raise ExchangeError("That file is not a ctip trust anchor record.", reason="malformed")
    if not same_fingerprint(fingerprint_given, other):
        raise ExchangeError(
            "The fingerprint you gave does not match anchor {anchor}.",
            reason="untrusted", hint="do not cross-sign; check the anchor file and the "
            "fingerprint with the other country's authority on a separate channel",
            params={"anchor": repr(other.get("id"))})
    if other["id"] == own["id"]:
        raise ExchangeError("An anchor does not cross-sign itself.", reason="malformed")
    statement = {"kind": CROSS, "by": own["id"], "by_key_id": own["key_id"],
                 "for": dict(other), "fingerprint": ooband_fingerprint(other),
                 "agreement": agreement, "valid_to": iso(valid_to)}
    return {"statement": statement, "signature": signed(statement, own_key)}


# ---- trust -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class TrustedCard:
    card: dict[str, Any]
    anchor_id: str
    directory_serial: int
    revoked_at: datetime | None
    revoked_reason: str | None


def trusted_anchor(own: Mapping[str, Any], statements: Iterable[Mapping[str, Any]],
                   candidate: Mapping[str, Any], now: datetime) -> None:
    """``candidate`` is our own anchor, or one our anchor cross-signed (still valid); else
    ExchangeError (never trust on first use)."""
    if dict(candidate) == dict(own):
        return
    for st in statements:
        body = st["statement"]
        if body.get("for") == dict(candidate) and body.get("by_key_id") == own["key_id"]:
            _verify(own["key"], body, st.get("signature"),
                    Phrase("the cross-sign statement for {anchor}",
                           params={"anchor": candidate.get("id")}))
            if parse_time(body["valid_to"]) < now:
                raise ExchangeError("The cross-signature for anchor {anchor} expired on "
                                    "{valid_to}.", reason="expired",
                                    hint="renew the bilateral arrangement and cross-sign again",
                                    params={"anchor": candidate.get("id"),
                                            "valid_to": body["valid_to"]})
            return
    raise ExchangeError(
        "Trust anchor {anchor} (fingerprint {fingerprint}) is not trusted here.",
        reason="untrusted",
        hint="confirm the fingerprint with its authority out of band, then run `ctip exchange "
        "directory cross-sign` (ctip never trusts a key on first use)",
        params={"anchor": repr(candidate.get("id")),
                "fingerprint": ooband_fingerprint(candidate)})


def verify_directory(doc: Mapping[str, Any], own: Mapping[str, Any],
                     statements: Iterable[Mapping[str, Any]], now: datetime,
                     max_age: timedelta = MAX_DIRECTORY_AGE) -> dict[str, Any]:
    """The directory body, once its anchor is trusted, its signature and every card's
    signatures verify, and it is not older than ``max_age``."""
    body = doc.get("directory")
    if not isinstance(body, dict) or body.get("kind") != DIRECTORY:
        raise ExchangeError("That file is not a ctip agency directory.", reason="malformed")
    anchor = body["anchor"]
    trusted_anchor(own, statements, anchor, now)
    _verify(anchor["key"], body, doc.get("signature"),
            Phrase("the directory of {anchor}", params={"anchor": anchor["id"]}))
    check_fresh(body, now, max_age)
    for entry in body["cards"]:
        card = entry["card"]
        _verify(anchor["key"], card, entry.get("anchor_sig"),
                Phrase("the card of {agency}", params={"agency": card["agency"]}))
        _verify(card["signing_key"], card, entry.get("agency_sig"),
                Phrase("the card of {agency} (its own signature)",
                       params={"agency": card["agency"]}))
        if card["country"] != anchor["country"]:
            raise ExchangeError("Directory {anchor} lists {agency} of another country.",
                                reason="untrusted",
                                params={"anchor": anchor["id"], "agency": card["agency"]})
    return body


def check_fresh(body: Mapping[str, Any], now: datetime,
                max_age: timedelta = MAX_DIRECTORY_AGE) -> None:
    issued = parse_time(body["issued"])
    if now - issued > max_age:
        raise ExchangeError(
            "The directory of {anchor} (serial {serial}) was issued on {issued}, more than "
            "{days} days ago.", reason="stale-directory",
            hint="import its current directory (`ctip exchange directory import`)",
            params={"anchor": body["anchor"]["id"], "serial": body["serial"],
                    "issued": body["issued"], "days": max_age.days})


def find_sender(directories: Iterable[Mapping[str, Any]], agency: str, key_id: str,
                created: datetime, now: datetime) -> TrustedCard:
    """The card under which ``agency`` signed with ``key_id`` at ``created``, from verified
    directory bodies; ExchangeError if no trusted card has that key, it was revoked before
    ``created``, or the card was not valid then."""
    for body in directories:
        revoked = {r["key_id"]: r for r in body["revoked"]}
        for entry in body["cards"]:
            card = entry["card"]
            if card["agency"] != agency or card["key_id"] != key_id:
                continue
            rev = revoked.get(key_id)
            rev_at = parse_time(rev["revoked_at"]) if rev else None
            if rev is not None and rev_at is not None and created >= rev_at:
                raise ExchangeError(
                    "{agency}'s signing key {key_id} was revoked on {revoked_at} ({why}); the "
                    "package was signed after.",
                    reason="revoked", hint="ask the sender to re-send under their new key",
                    params={"agency": agency, "key_id": key_id, "revoked_at": rev["revoked_at"],
                            "why": rev["reason"] if "reason" in rev
                            else Phrase("no reason given")})
            if not parse_time(card["valid_from"]) <= created <= parse_time(card["valid_to"]):
                raise ExchangeError(
                    "{agency}'s card (key {key_id}) is valid from {valid_from} to {valid_to}; "
                    "the package was signed on {created}.",
                    reason="expired", hint="ask the sender for a package under a current card",
                    params={"agency": agency, "key_id": key_id, "valid_from": card["valid_from"],
                            "valid_to": card["valid_to"], "created": iso(created)})
            if created > now + CLOCK_SKEW:
                raise ExchangeError("The package claims to be signed in the future "
                                    "({created}).", reason="malformed",
                                    params={"created": iso(created)})
            return TrustedCard(card, body["anchor"]["id"], int(body["serial"]), rev_at,
                               rev.get("reason") if rev else None)
    raise ExchangeError(
        "No trusted directory card of {agency} has the signing key {key_id}.",
        reason="untrusted", hint="the sender is unknown here or claims another agency's name; "
        "if it is a partner, import its current directory (one older than 30 days is not used)",
        params={"agency": repr(agency), "key_id": key_id})


def card_of(directories: Iterable[Mapping[str, Any]], agency: str) -> dict[str, Any]:
    """The current card of ``agency`` (to encrypt to it); ExchangeError if none is trusted."""
    for body in directories:
        revoked = {r["key_id"] for r in body["revoked"]}
        for entry in body["cards"]:
            if entry["card"]["agency"] == agency and entry["card"]["key_id"] not in revoked:
                return dict(entry["card"])
    raise ExchangeError("No trusted, current directory card for {agency}.",
                        reason="untrusted", hint="import that agency's current directory "
                        "(its anchor cross-signed; one older than 30 days is not used)",
                        params={"agency": repr(agency)})
