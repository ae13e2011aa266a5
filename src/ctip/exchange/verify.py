"""Checks on a received package, in a fixed order, each refusal naming what failed.

1. decrypt with our mailbox keys (``package.decrypt``: a stranger's or altered file fails);
2. read only the expected members (``package.read_members``);
3. find the sender's card in a trusted directory by agency *and* key id (unknown or
   impersonated sender, revoked key, card not valid when signed);
4. the Ed25519 signature over the canonical manifest with that key (forged sender);
5. we are a listed recipient, by agency and mailbox key (surreptitious forwarding);
6. not expired; not seen before (replay);
7. every file matches the signed hashes (tampering);
8. the purpose profile is the same definition as ours, its labels valid, the files are the
   ones its payload kind holds and every record passes the profile gate again (over-sharing;
   ``payloads.check_payload``); consent is cited when the profile needs it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from ctip.errors import ExchangeError, Phrase, bounded
from ctip.evidence.signing import verify_signature
from ctip.evidence.timestamp import TokenError, verify_token
from ctip.exchange import payloads
from ctip.exchange import profiles as prof
from ctip.exchange.directory import TrustedCard, find_sender, unb64
from ctip.exchange.package import Opened, check_files, parse_time


@dataclass(frozen=True)
class Verified:
    """A package that passed every check. Its records were checked against the profile, not
    built: ``records`` builds them (once) when a reader asks."""

    opened: Opened
    sender: TrustedCard
    profile: prof.Profile
    counts: dict[str, int]  # payload path -> records checked (1 for an item's bytes)
    timestamp: str = "none"  # "verified <time>", "not verified: <why>" or "none"

    @cached_property
    def records(self) -> dict[str, list[dict[str, Any]]]:
        """Payload path -> records as dicts (JSON Lines and FtM entities as sent, SDMX rows by
        column, none for an item's bytes)."""
        return {path: payloads.records(self.profile, path, data)
                for path, data in self.opened.files.items()}

    @property
    def manifest(self) -> dict[str, Any]:
        return self.opened.manifest

    @property
    def package_id(self) -> str:
        return str(self.opened.manifest["package_id"])

    @property
    def later_revoked(self) -> bool:
        return self.sender.revoked_at is not None


def check_timestamp(opened: Opened, tsa: tuple[bytes, bytes] | None) -> str:
    """What the optional RFC 3161 token says: verified against our TSA's certificates (root,
    signer), or why not. Never a refusal: the sender's TSA need not be one we trust."""
    if opened.timestamp is None:
        return "none"
    if tsa is None:
        return "not verified: no TSA certificates configured here"
    try:
        info = verify_token(opened.timestamp, hashlib.sha256(opened.manifest_bytes).digest(),
                            root_pem=tsa[0], tsa_pem=tsa[1])
    except TokenError as error:
        return f"not verified: {error}"[:180]
    return f"verified {info.gen_time.isoformat(timespec='seconds')}"


def verify_opened(opened: Opened, *, directories: Sequence[Mapping[str, Any]], me: str,
                  my_recipients: Iterable[str], now: datetime,
                  seen: Callable[[str], bool],
                  tsa: tuple[bytes, bytes] | None = None) -> Verified:
    m = opened.manifest
    try:
        sender, key_id = str(m["sender"]), str(m["sender_key_id"])
        created, expires = parse_time(m["created"]), parse_time(m["expires"])
        package_id = str(m["package_id"])
        recipients = [(str(r["agency"]), str(r["age"])) for r in m["recipients"]]
        profile_ref = m["profile"]
    except (KeyError, TypeError, ValueError) as error:
        raise ExchangeError("The manifest lacks a required field ({error}).",
                            reason="malformed", params={"error": bounded(str(error), 200)}) \
            from None
    card = find_sender(directories, sender, key_id, created, now)
    if not verify_signature(unb64(card.card["signing_key"], Phrase("a signing key")),
                            opened.manifest_bytes, opened.signature):
        raise ExchangeError(
            "The package claims to come from {sender}, but its signature does not verify with "
            "{sender}'s key in the directory: a forged sender.", reason="bad-signature",
            hint="do not open it; tell the named sender on a separate channel",
            params={"sender": sender})
    mine = set(my_recipients)
    if not any(agency == me and age in mine for agency, age in recipients):
        listed = ", ".join(a for a, _ in recipients)
        raise ExchangeError(
            "This instance ({me}) is not a recipient listed in the signed manifest (listed: "
            "{listed}): the package was forwarded to us.", reason="not-a-recipient",
            hint="do not use it; tell the sender", params={"me": me, "listed": listed})
    if expires <= now:
        raise ExchangeError("The package expired on {expires}.", reason="expired",
                            hint="ask the sender for a new package if it is still needed",
                            params={"expires": m["expires"]})
    if seen(package_id):
        raise ExchangeError("Package {package_id} was received before: a replay.",
                            reason="replayed", hint="nothing to do; the first copy is kept",
                            params={"package_id": package_id})
    check_files(opened)
    profile = prof.profile(str(profile_ref.get("id")))
    if profile.sha256 != profile_ref.get("sha256"):
        raise ExchangeError(
            "The sender's profile {profile} is not the same definition as ours "
            "(sha256 {theirs}... vs {ours}...).",
            reason="out-of-profile", hint="both sides must run the same profile version",
            params={"profile": repr(profile.id), "theirs": str(profile_ref.get("sha256"))[:12],
                    "ours": profile.sha256[:12]})
    prof.check_labels(tlp=str(m.get("tlp")), handling=str(m.get("handling")),
                      grade=m.get("grade"))
    if m.get("legal_basis") not in profile.legal_bases:
        raise ExchangeError("Legal basis {basis} is not one profile {profile} accepts "
                            "({accepted}).", reason="out-of-profile",
                            params={"basis": repr(m.get("legal_basis")),
                                    "profile": repr(profile.id),
                                    "accepted": ", ".join(profile.legal_bases)})
    if m.get("legal_basis") == "consent" and not m.get("consent_refs"):
        raise ExchangeError("The package rests on consent but cites no consent record.",
                            reason="out-of-profile", hint="the sender must cite the consent id")
    counts = payloads.check_payload(profile, opened.files)
    return Verified(opened, card, profile, counts, check_timestamp(opened, tsa))
