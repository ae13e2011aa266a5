"""The .ctipx format and the receiver's checks, on the pure layer (ctip.exchange): one national
anchor, a sender and a receiver; each refusal is an ExchangeError with its reason code."""

from __future__ import annotations

import io
import tarfile
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pyrage
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctip.errors import ExchangeError
from ctip.evidence.signing import Ed25519PrivateKey, new_signing_key
from ctip.exchange import directory as d
from ctip.exchange import package as pk
from ctip.exchange import profiles as pr
from ctip.exchange.verify import check_timestamp, verify_opened

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


@dataclass
class Agency:
    agency: str
    key: Ed25519PrivateKey
    mailbox: Any

    @property
    def age(self) -> str:
        return str(self.mailbox.to_public())


def _agency(name: str, anchor: dict[str, Any], anchor_key: Ed25519PrivateKey,
            valid_to: datetime = NOW + timedelta(days=365)) -> tuple[Agency, dict[str, Any]]:
    a = Agency(name, new_signing_key(), pyrage.x25519.Identity.generate())
    card = d.agency_card(agency=name, name=name, country=anchor["country"], signing=a.key,
                         recipients=[a.age], valid_from=NOW - timedelta(days=30),
                         valid_to=valid_to)
    return a, d.countersign(card, anchor, anchor_key)


@pytest.fixture
def world() -> dict[str, Any]:
    ak = new_signing_key()
    anchor = d.anchor_record("ANCHOR-XA", "XA", "NRM coordinator", ak)
    sender, c1 = _agency("NRM-XA", anchor, ak)
    receiver, c2 = _agency("NGO-XA", anchor, ak)
    other, c3 = _agency("POLICE-XA", anchor, ak)
    doc = d.directory(anchor, ak, serial=1, issued=NOW, cards=[c1, c2, c3], revoked=[])
    return {"anchor": anchor, "anchor_key": ak, "sender": sender, "receiver": receiver,
            "other": other, "body": d.verify_directory(doc, anchor, [], NOW), "cards": [c1, c2, c3]}


PROFILE = pr.profile("referral-services")


def _records(n: int = 3) -> list[dict[str, Any]]:
    return [pr.apply_rules(PROFILE, {"ref": f"r{i}", "sex": "female", "age": 20 + i,
                                     "given_name": "Ana", "identified_month": "2026-03-04"})
            for i in range(n)]


def _pack(w: dict[str, Any], *, records: list[dict[str, Any]] | None = None,
          key: Ed25519PrivateKey | None = None, to: list[Agency] | None = None,
          encrypt_to: list[Agency] | None = None, stamp: Any = None, **env: Any) -> bytes:
    to = to or [w["receiver"]]
    recs = _records() if records is None else records
    files = [pk.PayloadFile("payload/cases.jsonl", "application/x-ndjson", pk.jsonl(recs),
                            len(recs))]
    envelope = pk.Envelope(
        sender="NRM-XA", recipients=[pk.Recipient(a.agency, a.age) for a in to],
        purpose="referral", profile_id=PROFILE.id, profile_sha256=PROFILE.sha256,
        legal_basis="consent", consent_refs=["consent-1"], handling="H2",
        tlp="AMBER+STRICT", expires=NOW + timedelta(days=90), retention="P90D",
        directory_serial=1, created=NOW)
    envelope = replace(envelope, **env)
    ct, _ = pk.pack(envelope, key or w["sender"].key, files, stamp=stamp)
    if encrypt_to is not None:  # re-encrypt the same signed tar to someone else
        tar = pk.decrypt(ct, [str(to[0].mailbox)])
        ct = pyrage.encrypt(tar, [a.mailbox.to_public() for a in encrypt_to])
    return ct


def _receive(w: dict[str, Any], ct: bytes, *, who: Agency | None = None,
             seen: frozenset[str] = frozenset(), now: datetime = NOW,
             body: dict[str, Any] | None = None):  # type: ignore[no-untyped-def]
    who = who or w["receiver"]
    opened = pk.open_package(ct, [str(who.mailbox)])
    return verify_opened(opened, directories=[body or w["body"]], me=who.agency,
                         my_recipients=[who.age], now=now, seen=lambda pid: pid in seen)


def _refused(reason: str, call, *args, **kw) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(ExchangeError) as caught:
        call(*args, **kw)
    assert caught.value.reason == reason, str(caught.value)
    return str(caught.value)


def test_round_trip_returns_every_record_and_the_signed_manifest(world) -> None:
    ct = _pack(world)
    got = _receive(world, ct)
    assert got.records["payload/cases.jsonl"] == _records()
    assert got.manifest["recipients"] == [{"agency": "NGO-XA", "age": world["receiver"].age}]
    assert got.sender.card["agency"] == "NRM-XA" and not got.later_revoked
    assert b"NGO-XA" not in ct and b"NRM-XA" not in ct  # neither party visible outside


def test_forged_sender_is_refused(world) -> None:
    intruder = new_signing_key()
    # the intruder claims NRM-XA and names NRM-XA's key id, but signs with its own key
    ct = _pack(world)
    tar = pk.decrypt(ct, [str(world["receiver"].mailbox)])
    opened = pk.read_members(tar)
    members = [(pk.MANIFEST, opened.manifest_bytes),
               (pk.SIGNATURE, intruder.sign(opened.manifest_bytes))]
    members += list(opened.files.items())
    forged = pyrage.encrypt(pk._tar(members, 0), [world["receiver"].mailbox.to_public()])
    message = _refused("bad-signature", _receive, world, forged)
    assert "forged sender" in message


def test_unknown_key_claiming_a_known_agency_is_refused(world) -> None:
    message = _refused("untrusted", _receive, world, _pack(world, key=new_signing_key()))
    assert "NRM-XA" in message


def test_tampered_ciphertext_is_refused(world) -> None:
    ct = bytearray(_pack(world))
    ct[-20] ^= 0x01
    _refused("tampered", _receive, world, bytes(ct))


def test_payload_swapped_under_a_valid_signature_is_refused(world) -> None:
    ct = _pack(world)
    opened = pk.read_members(pk.decrypt(ct, [str(world["receiver"].mailbox)]))
    evil = pk.jsonl([{"ref": "r0", "given_name": "Someone else"}])
    members = [(pk.MANIFEST, opened.manifest_bytes), (pk.SIGNATURE, opened.signature),
               ("payload/cases.jsonl", evil)]
    swapped = pyrage.encrypt(pk._tar(members, 0), [world["receiver"].mailbox.to_public()])
    _refused("tampered", _receive, world, swapped)


def test_stranger_key_cannot_open(world) -> None:
    stranger = Agency("X", new_signing_key(), pyrage.x25519.Identity.generate())
    _refused("not-a-recipient", pk.open_package, _pack(world), [str(stranger.mailbox)])


def test_replayed_package_is_refused(world) -> None:
    ct = _pack(world)
    first = _receive(world, ct)
    _refused("replayed", _receive, world, ct, seen=frozenset({first.package_id}))


def test_revoked_key_is_refused_after_revocation(world) -> None:
    w = world
    revoked = [{"key_id": w["cards"][0]["card"]["key_id"],
                "revoked_at": pk.iso(NOW - timedelta(hours=1)), "reason": "laptop lost"}]
    doc = d.directory(w["anchor"], w["anchor_key"], serial=2, issued=NOW, cards=w["cards"],
                      revoked=revoked)
    body = d.verify_directory(doc, w["anchor"], [], NOW)
    assert "laptop lost" in _refused("revoked", _receive, w, _pack(w), body=body)
    # signed before the revocation: accepted, flagged
    early = _receive(w, _pack(w, created=NOW - timedelta(hours=2)), body=body)
    assert early.later_revoked


def test_expired_card_and_expired_package_are_refused(world) -> None:
    w = world
    old, card = _agency("NRM-XA", w["anchor"], w["anchor_key"], valid_to=NOW - timedelta(days=1))
    doc = d.directory(w["anchor"], w["anchor_key"], serial=2, issued=NOW,
                      cards=[card, w["cards"][1]], revoked=[])
    body = d.verify_directory(doc, w["anchor"], [], NOW)
    _refused("expired", _receive, w, _pack(w, key=old.key), body=body)
    late = _pack(w, expires=NOW + timedelta(days=1))
    _refused("expired", _receive, w, late, now=NOW + timedelta(days=2))


def test_out_of_profile_field_refused_when_packing_and_when_receiving(world) -> None:
    bad = [{"ref": "r1", "family_name": "Doe"}]
    with pytest.raises(ExchangeError) as caught:
        pr.check_records(PROFILE, bad, where="payload/cases.jsonl")
    assert caught.value.reason == "out-of-profile" and "'family_name'" in str(caught.value)
    # a sender that skips its own gate is stopped by the receiver's
    message = _refused("out-of-profile", _receive, world, _pack(world, records=bad))
    assert "record 1" in message and "family_name" in message


def test_value_rule_is_enforced_at_the_receiver(world) -> None:
    raw_date = [{"ref": "r1", "identified_month": "2026-03-04"}]
    _refused("out-of-profile", _receive, world, _pack(world, records=raw_date))


def test_consent_profile_without_consent_reference_is_refused(world) -> None:
    _refused("out-of-profile", _receive, world, _pack(world, consent_refs=()))


def test_forwarded_package_is_refused_by_a_recipient_not_listed(world) -> None:
    w = world
    forwarded = _pack(w, encrypt_to=[w["other"]])  # receiver re-encrypts to POLICE-XA
    message = _refused("not-a-recipient", _receive, w, forwarded, who=w["other"])
    assert "NGO-XA" in message


def test_directory_of_an_untrusted_anchor_is_refused_until_cross_signed(world) -> None:
    bk = new_signing_key()
    foreign = d.anchor_record("ANCHOR-XB", "XB", "XB central authority", bk)
    doc = d.directory(foreign, bk, serial=1, issued=NOW, cards=[], revoked=[])
    _refused("untrusted", d.verify_directory, doc, world["anchor"], [], NOW)
    with pytest.raises(ExchangeError):
        d.cross_sign(world["anchor"], world["anchor_key"], foreign,
                     fingerprint_given="00000 " * 12, agreement="MoU", valid_to=NOW)
    st_ = d.cross_sign(world["anchor"], world["anchor_key"], foreign,
                       fingerprint_given=d.ooband_fingerprint(foreign), agreement="MoU 2026/1",
                       valid_to=NOW + timedelta(days=365))
    assert d.verify_directory(doc, world["anchor"], [st_], NOW)["anchor"]["id"] == "ANCHOR-XB"
    _refused("stale-directory", d.verify_directory, doc, world["anchor"], [st_],
             NOW + timedelta(days=31))


def test_card_of_another_country_cannot_be_countersigned(world) -> None:
    k = new_signing_key()
    card = d.agency_card(agency="NRM-XB", name="x", country="XB", signing=k, recipients=[],
                         valid_from=NOW, valid_to=NOW)
    _refused("untrusted", d.countersign, card, world["anchor"], world["anchor_key"])


def _tar_with(name: str, data: bytes, kind: bytes = tarfile.REGTYPE) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo(name)
        info.size, info.type = len(data), kind
        tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
    return buf.getvalue()


@pytest.mark.parametrize("name", ["../../etc/passwd", "/abs", "payload/../x", "payload/a/b",
                                  "other.txt"])
def test_unexpected_member_names_are_refused(name: str) -> None:
    _refused("malformed", pk.read_members, _tar_with(name, b"x"))


def test_links_are_refused() -> None:
    _refused("malformed", pk.read_members, _tar_with("manifest.json", b"", tarfile.SYMTYPE))


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=2048))
def test_arbitrary_bytes_never_escape_as_anything_but_exchange_error(data: bytes) -> None:
    with pytest.raises(ExchangeError):
        pk.read_members(data)


def test_rfc3161_token_over_the_manifest_is_checked(world, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from ctip.services.timestamping import LocalTSA, init_local_tsa

    init_local_tsa(tmp_path / "tsa")
    init_local_tsa(tmp_path / "other")
    tsa, other = LocalTSA(tmp_path / "tsa"), LocalTSA(tmp_path / "other")
    ct = _pack(world, stamp=lambda digest: tsa.stamp(digest).token)
    opened = pk.open_package(ct, [str(world["receiver"].mailbox)])
    assert opened.timestamp is not None
    assert check_timestamp(opened, (tsa.ca_pem, tsa.cert_pem)).startswith("verified 20")
    assert check_timestamp(opened, (other.ca_pem, other.cert_pem)).startswith("not verified")
    assert check_timestamp(opened, None).startswith("not verified: no TSA")
    # a token over another manifest does not verify for this one
    moved = pk.Opened(opened.manifest_bytes + b" ", opened.manifest, opened.signature,
                      opened.files, opened.timestamp)
    assert check_timestamp(moved, (tsa.ca_pem, tsa.cert_pem)).startswith("not verified")
    assert check_timestamp(pk.open_package(_pack(world), [str(world["receiver"].mailbox)]),
                           (tsa.ca_pem, tsa.cert_pem)) == "none"


def test_a_refusal_names_its_values_in_english_and_in_the_readers_language(world) -> None:
    """A forwarded package's refusal is a template with this instance and the listed recipients
    in ``params``: English for the CLI, French on a page, the same values in both."""
    from starlette.requests import Request

    from ctip.web.pages.common import localised

    w = world
    forwarded = _pack(w, encrypt_to=[w["other"]])
    opened = pk.open_package(forwarded, [str(w["other"].mailbox)])
    with pytest.raises(ExchangeError) as caught:
        verify_opened(opened, directories=[w["body"]], me="POLICE-XA",
                      my_recipients=[w["other"].age], now=NOW, seen=lambda pid: False)
    error = caught.value
    assert error.reason == "not-a-recipient"
    assert error.params == {"me": "POLICE-XA", "listed": "NGO-XA"}
    assert error.message == ("This instance (POLICE-XA) is not a recipient listed in the signed "
                             "manifest (listed: NGO-XA): the package was forwarded to us.")
    french = Request({"type": "http", "headers": [], "state": {"locale": "fr"}})
    message, hint = localised(french, error)
    assert message == ("Cette instance (POLICE-XA) ne figure pas parmi les destinataires du "
                       "manifeste signé (destinataires : NGO-XA) : le paquet nous a été transféré.")
    assert hint == "ne l’utilisez pas ; prévenez l’expéditeur"
