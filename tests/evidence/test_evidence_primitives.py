"""The pure pieces against their standards: RFC 8785 bytes, the RFC 9162 Merkle tree hash, the
RFC 3161 request (read back by OpenSSL), Ed25519 signatures, and the custody chain's checks."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ctip.evidence.canonical import canonical_json
from ctip.evidence.custody import (
    GENESIS,
    KeyInfo,
    SignedEvent,
    TrustedCheckpoint,
    event_body,
    verify_chain,
)
from ctip.evidence.merkle import merkle_root
from ctip.evidence.signing import (
    fingerprint,
    new_signing_key,
    public_from_pem,
    public_pem,
    public_raw,
    sign_canonical,
    verify_canonical,
)
from ctip.evidence.timestamp import timestamp_request


def test_canonical_json_follows_rfc_8785() -> None:
    # RFC 8785 section 3.2.2's example, property order and number forms
    value = {"numbers": [333333333.33333329, 1e30, 4.50, 2e-3, 0.000000000000000000000000001],
             "string": "\u20ac$\u000f\nA'B\"\\\\\"/", "literals": [None, True, False]}
    assert canonical_json(value) == (
        b'{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        b'"string":"\xe2\x82\xac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}')
    assert canonical_json({"b": 1, "a": {"d": 2, "c": 3}}) == b'{"a":{"c":3,"d":2},"b":1}'


def _mth(leaves: list[bytes]) -> bytes:
    """RFC 9162 section 2.1.1, literally (recursive, split at the largest power of two)."""
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + _mth(leaves[:k]) + _mth(leaves[k:])).digest()


@given(st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=70))
def test_merkle_root_is_rfc_9162_mth(leaves: list[bytes]) -> None:
    assert merkle_root([leaf.hex() for leaf in leaves]) == _mth(leaves).hex()


def test_timestamp_request_is_read_by_openssl(tmp_path) -> None:  # type: ignore[no-untyped-def]
    openssl = shutil.which("openssl")
    assert openssl, "openssl is part of the test machine"
    digest = hashlib.sha256(b"evidence").digest()
    (tmp_path / "q.tsq").write_bytes(timestamp_request(digest, 2**62 + 5))
    text = subprocess.run([openssl, "ts", "-query", "-in", str(tmp_path / "q.tsq"), "-text"],
                          capture_output=True, text=True, check=True).stdout
    assert "sha256" in text and "Certificate required: yes" in text
    assert digest.hex()[:8].upper() in text.replace(" ", "").replace("-", "").upper()
    assert "0x4000000000000005" in text


def test_signatures_and_pem_round_trip() -> None:
    key = new_signing_key()
    raw = public_raw(key)
    assert public_from_pem(public_pem(raw)) == raw and len(fingerprint(raw)) == 32
    sig = sign_canonical(key, {"a": 1})
    assert verify_canonical(raw, {"a": 1}, sig)
    assert not verify_canonical(raw, {"a": 2}, sig)
    assert not verify_canonical(public_raw(new_signing_key()), {"a": 1}, sig)


def _chain(n: int, start: datetime, key=None):  # type: ignore[no-untyped-def]
    key = key or new_signing_key()
    kid = fingerprint(public_raw(key))
    events, prev = [], GENESIS
    for i in range(1, n + 1):
        body = event_body(case="c1", seq=i, prev=prev, at=start + timedelta(seconds=i),
                          action="view", item="ab" * 32, actor="u@A", role="caseworker",
                          purpose="investigation", note=None, key=kid)
        events.append(SignedEvent(body, key.sign(body)))
        prev = events[-1].event_hash
    return events, {kid: KeyInfo(kid, "u", public_raw(key))}, key


def test_chain_holds_and_checkpoint_times_bound_event_times() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    events, keys, _ = _chain(5, start)
    assert verify_chain("c1", events, keys) == []
    # a checkpoint of events 1-3 time-stamped a day later: event 4 claiming 4 s after start is
    # after that checkpoint, so it is backdated
    late = [TrustedCheckpoint(3, start + timedelta(days=1))]
    assert {p.code for p in verify_chain("c1", events, keys, late)} == {"event.backdated"}
    # a checkpoint of all 5 time-stamped an hour before the events claim: they are "future"
    early = [TrustedCheckpoint(5, start - timedelta(hours=1))]
    assert {p.code for p in verify_chain("c1", events, keys, early)} == {"event.future"}


def test_revoked_key_needs_a_checkpoint_before_the_revocation() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    events, keys, _ = _chain(3, start)
    (kid, info), = keys.items()
    revoked = {kid: KeyInfo(kid, info.owner, info.public_key, start + timedelta(minutes=1))}
    assert {p.code for p in verify_chain("c1", events, revoked)} == {"signature.revoked"}
    before = [TrustedCheckpoint(3, start + timedelta(seconds=10))]
    assert verify_chain("c1", events, revoked, before) == []
    after = [TrustedCheckpoint(3, start + timedelta(minutes=2))]
    assert len(verify_chain("c1", events, revoked, after)) == 3


def test_event_body_refuses_unknown_actions_and_local_times() -> None:
    with pytest.raises(ValueError, match="action"):
        event_body(case="c", seq=1, prev=GENESIS, at=datetime.now(UTC), action="peek",
                   item=None, actor="a", role="r", purpose="other", note=None, key="k")
    with pytest.raises(ValueError, match="UTC"):
        event_body(case="c", seq=1, prev=GENESIS,
                   at=datetime.now(UTC).astimezone(__import__("zoneinfo").ZoneInfo("Asia/Manila")),
                   action="view", item=None, actor="a", role="r", purpose="other", note=None,
                   key="k")


def test_fast_canonical_check_agrees_with_rfc_8785() -> None:
    from ctip.evidence.canonical import is_canonical

    for value in ({"b": [1, None, True], "a": "é\n\u2028\"\\"}, {"x": 1e-7}, {"é": 1},
                  {"n": 2**53 - 1, "s": "\u0001"}):
        assert is_canonical(value, canonical_json(value))
    assert not is_canonical({"x": 1e-7}, b'{"x":1e-07}')  # Python's float form, not RFC 8785's
    assert not is_canonical({"a": 1, "b": 2}, b'{"b":2,"a":1}')
