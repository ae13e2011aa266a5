"""RFC 3161 trusted time: the request for a SHA-256 digest, and verification of a token.

Requests are built here from a digest, because ``rfc3161-client`` builds them only from the
whole message and an evidence file is hashed once, as a stream, at ingest. A TimeStampReq for
SHA-256 is a fixed five-field DER structure (RFC 3161 section 2.4.1), encoded by hand below.
Responses are parsed and verified with ``rfc3161-client`` (signature, certificate chain to the
given root, the TSA certificate's timeStamping key usage, the message imprint and the nonce).

Gotcha (INVESTIGATIONS.md 3.2): a TSA whose response carries extra certificates in a set that is
not DER-sorted is refused by ``rfc3161-client`` (``InvalidSetOrdering``); the local OpenSSL TSA
therefore includes only its signer certificate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from rfc3161_client import VerificationError, VerifierBuilder, decode_timestamp_response

_SHA256_ALGORITHM = bytes.fromhex("300d060960864801650304020105 00".replace(" ", ""))


class TokenError(ValueError):
    """A time-stamp token that does not verify (the message says why)."""


def _der(tag: int, body: bytes) -> bytes:
    n = len(body)
    if n < 0x80:
        return bytes((tag, n)) + body
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(size))) + size + body


def _der_integer(value: int) -> bytes:
    raw = value.to_bytes(max(1, (value.bit_length() + 8) // 8), "big", signed=False)
    raw = raw.lstrip(b"\x00") or b"\x00"
    if raw[0] & 0x80:
        raw = b"\x00" + raw
    return _der(0x02, raw)


def timestamp_request(digest: bytes, nonce: int) -> bytes:
    """DER TimeStampReq: version 1, SHA-256 imprint of ``digest``, nonce, certReq TRUE."""
    if len(digest) != 32:
        raise ValueError("a SHA-256 digest is 32 bytes")
    imprint = _der(0x30, _SHA256_ALGORITHM + _der(0x04, digest))
    return _der(0x30, _der_integer(1) + imprint + _der_integer(nonce) + b"\x01\x01\xff")


@dataclass(frozen=True)
class TokenInfo:
    gen_time: datetime  # the TSA's time (UTC, timezone-aware)
    serial: int
    tsa_name: str
    accuracy: timedelta = timedelta(seconds=1)  # the TSA's stated accuracy (1 s if unstated)


def verify_token(response: bytes, digest: bytes, *, root_pem: bytes, tsa_pem: bytes,
                 nonce: int | None = None) -> TokenInfo:
    """Check an RFC 3161 response over ``digest`` (SHA-256); TokenError says what failed."""
    try:
        resp = decode_timestamp_response(response)
    except ValueError as error:
        raise TokenError(f"not an RFC 3161 time-stamp response ({error})") from None
    try:
        root = x509.load_pem_x509_certificate(root_pem)
        tsa = x509.load_pem_x509_certificate(tsa_pem)
    except ValueError as error:
        raise TokenError(f"the TSA certificates cannot be read ({error})") from None
    builder = VerifierBuilder().add_root_certificate(root).tsa_certificate(tsa)
    if nonce is not None:
        builder = builder.nonce(nonce)
    try:
        builder.build().verify(resp, digest)
    except VerificationError as error:
        raise TokenError(f"the time-stamp token does not verify: {error}") from None
    info = resp.tst_info
    gen = info.gen_time
    if gen.tzinfo is None:
        gen = gen.replace(tzinfo=UTC)
    return TokenInfo(gen_time=gen, serial=info.serial_number,
                     tsa_name=tsa.subject.rfc4514_string(), accuracy=_accuracy(info))


def _accuracy(info: object) -> timedelta:
    try:
        acc = info.accuracy  # type: ignore[attr-defined]
        found = timedelta(seconds=acc.seconds or 0, milliseconds=acc.millis or 0,
                          microseconds=acc.micros or 0)
    except (AttributeError, ValueError, TypeError):
        return timedelta(seconds=1)
    # times are given to the second: never less than 1 s of uncertainty
    return max(found, timedelta(seconds=1))
