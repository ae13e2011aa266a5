"""The ``.ctipx`` package (ctip exchange v1; FOLLOW-UP-AND-EXCHANGE.md B3.1).

    <package_id>.ctipx = age-v1( tar{ manifest.json   RFC 8785 canonical JSON
                                      manifest.sig    Ed25519 over manifest.json
                                      payload/...     the files the manifest lists, with hashes
                                      timestamp.tsr   optional RFC 3161 token over its SHA-256 })

Everything is inside the age encryption (X25519 recipients, ChaCha20-Poly1305 via ``pyrage``):
an observer of the transport learns neither sender nor recipients. age gives confidentiality
and integrity but no sender authentication, hence the signature; the signed manifest binds the
payload hashes, the recipients (against surreptitious forwarding), purpose, profile and expiry.

Opening reads only the expected member names, regular files only, each under a size limit,
in memory (no path from the package ever reaches the file system: no traversal, no tar bomb).
What is checked against the directory (who signed, is the key trusted) is ``verify.py``'s job.
"""

from __future__ import annotations

import gc
import hashlib
import io
import json
import re
import tarfile
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pyrage

from ctip.errors import ExchangeError
from ctip.evidence.canonical import canonical_json, sha256_hex
from ctip.evidence.signing import Ed25519PrivateKey, fingerprint, public_raw

FORMAT = "1"
SUFFIX = ".ctipx"
MANIFEST, SIGNATURE, TIMESTAMP = "manifest.json", "manifest.sig", "timestamp.tsr"
_PAYLOAD_NAME = re.compile(r"^payload/[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
MAX_MANIFEST = 1 << 20
MAX_TOKEN = 64 << 10
MAX_MEMBERS = 1000
DEFAULT_MAX_PAYLOAD = 2 << 30  # bytes, all payload files together


@dataclass(frozen=True)
class PayloadFile:
    path: str  # payload/<name>
    media_type: str
    data: bytes
    records: int | None = None

    def entry(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "media_type": self.media_type,
                               "sha256": sha256_hex(self.data), "bytes": len(self.data)}
        if self.records is not None:
            out["records"] = self.records
        return out


@dataclass(frozen=True)
class Recipient:
    agency: str
    age: str  # age X25519 recipient string (age1...)


@dataclass
class Envelope:
    """What a package says about itself: the fields of the manifest before signing."""

    sender: str
    recipients: Sequence[Recipient]
    purpose: str
    profile_id: str
    profile_sha256: str
    legal_basis: str
    handling: str
    tlp: str
    expires: datetime
    retention: str
    directory_serial: int
    consent_refs: Sequence[str] = ()
    grade: str | None = None
    in_reply_to: str | None = None
    schema_versions: dict[str, str] = field(default_factory=lambda: {"cases": "ctip-case/1"})
    package_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    created: datetime = field(default_factory=lambda: datetime.now(UTC))


def iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def build_manifest(env: Envelope, key: Ed25519PrivateKey,
                   files: Sequence[PayloadFile]) -> dict[str, Any]:
    manifest: dict[str, Any] = {
        "ctip_exchange": FORMAT, "package_id": env.package_id, "sender": env.sender,
        "sender_key_id": fingerprint(public_raw(key)),
        "recipients": [{"agency": r.agency, "age": r.age} for r in env.recipients],
        "purpose": env.purpose, "profile": {"id": env.profile_id, "sha256": env.profile_sha256},
        "legal_basis": env.legal_basis, "consent_refs": list(env.consent_refs),
        "handling": env.handling, "tlp": env.tlp, "created": iso(env.created),
        "expires": iso(env.expires), "retention": env.retention,
        "files": [f.entry() for f in files], "schema_versions": dict(env.schema_versions),
        "directory_serial": env.directory_serial,
    }
    if env.grade:
        manifest["grade"] = env.grade
    if env.in_reply_to:
        manifest["in_reply_to"] = env.in_reply_to
    return manifest


def _tar(members: Sequence[tuple[str, bytes]], mtime: int) -> bytes:
    """A deterministic ustar archive in memory (fixed owner, mode and time), byte for byte what
    ``tarfile`` writes. Headers come from ``tarfile.TarInfo.tobuf``; the archive is joined by
    hand so a payload is copied once (``tarfile.addfile`` copies it through a growing buffer in
    16 KB pieces, a third of the byte path for a 34 MB payload, measured)."""
    parts: list[bytes | memoryview] = []
    size = 0
    for name, data in members:
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = len(data), mtime, 0o600
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        header = info.tobuf(tarfile.USTAR_FORMAT, "utf-8", "surrogateescape")
        pad = -len(data) % tarfile.BLOCKSIZE
        parts += [header, data, bytes(pad)]
        size += len(header) + len(data) + pad
    end = 2 * tarfile.BLOCKSIZE  # end-of-archive blocks, then padding to a whole record
    end += -(size + end) % tarfile.RECORDSIZE
    parts.append(bytes(end))
    return b"".join(parts)


def pack(env: Envelope, key: Ed25519PrivateKey, files: Sequence[PayloadFile], *,
         stamp: Callable[[bytes], bytes] | None = None) -> tuple[bytes, dict[str, Any]]:
    """(the ``.ctipx`` bytes, the signed manifest): sign the canonical manifest, tar it with its
    signature and the payload, encrypt the tar to every recipient. ``stamp``, when given, turns
    the SHA-256 of the manifest into an RFC 3161 token (kept as ``timestamp.tsr``)."""
    if not env.recipients:
        raise ExchangeError("A package needs at least one recipient.", reason="malformed")
    names = [f.path for f in files]
    bad = [n for n in names if not _PAYLOAD_NAME.match(n)]
    if bad or len(set(names)) != len(names):
        raise ExchangeError(f"Payload file names must be unique payload/<name>: {bad or names}.",
                            reason="malformed")
    manifest = build_manifest(env, key, files)
    body = canonical_json(manifest)
    members = [(MANIFEST, body), (SIGNATURE, key.sign(body))]
    members += [(f.path, f.data) for f in files]
    if stamp is not None:
        members.append((TIMESTAMP, stamp(hashlib.sha256(body).digest())))
    try:
        recipients = [pyrage.x25519.Recipient.from_str(r.age) for r in env.recipients]
    except pyrage.RecipientError as error:
        raise ExchangeError(f"An age recipient of the package is not valid ({error}).",
                            reason="malformed", hint="check the directory card") from None
    return pyrage.encrypt(_tar(members, int(env.created.timestamp())), recipients), manifest


# ---- opening ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Opened:
    """A decrypted package, not yet trusted: the manifest bytes as signed and the members."""

    manifest_bytes: bytes
    manifest: dict[str, Any]
    signature: bytes
    files: dict[str, bytes]
    timestamp: bytes | None

    @property
    def manifest_sha256(self) -> str:
        return sha256_hex(self.manifest_bytes)


def decrypt(ciphertext: bytes, identities: Sequence[str]) -> bytes:
    """The tar inside, with any of our age identities. age refuses a stranger's package
    (no stanza for our keys) and any altered byte (header MAC, payload AEAD)."""
    try:
        ids = [pyrage.x25519.Identity.from_str(i) for i in identities]
    except pyrage.IdentityError as error:
        raise ExchangeError(f"A mailbox key of this instance cannot be read ({error}).",
                            reason="malformed") from None
    try:
        return pyrage.decrypt(ciphertext, ids)
    except pyrage.DecryptError as error:
        text = str(error)
        if "No matching keys" in text or "no identity matched" in text.lower():
            raise ExchangeError(
                "This package is not encrypted to any mailbox key of this instance (or its "
                "header was altered).",
                reason="not-a-recipient",
                hint="it was sent to another agency, or to a mailbox key retired here; ask the "
                "sender which directory card they used") from None
        raise ExchangeError(f"The package is damaged or was tampered with ({text}).",
                            reason="tampered", hint="ask the sender to send it again") from None


def read_members(tar_bytes: bytes, *, max_payload: int = DEFAULT_MAX_PAYLOAD) -> Opened:
    """Only the expected regular members, each under its limit; anything else is refused."""
    files: dict[str, bytes] = {}
    manifest_bytes = signature = token = None
    total = 0
    try:
        with tarfile.open(fileobj=io.BytesIO(tar_bytes), mode="r:") as tar:
            for n, info in enumerate(tar, start=1):
                if n > MAX_MEMBERS:
                    raise _malformed(f"more than {MAX_MEMBERS} members")
                if not info.isreg():
                    raise _malformed(f"member {info.name!r} is not a regular file")
                name = info.name
                limit = {MANIFEST: MAX_MANIFEST, SIGNATURE: 64, TIMESTAMP: MAX_TOKEN}.get(name)
                if limit is None:
                    if not _PAYLOAD_NAME.match(name):
                        raise _malformed(f"unexpected member {name[:120]!r}")
                    total += info.size
                    limit = max_payload - (total - info.size)
                if info.size > limit or name in files or (name == MANIFEST and manifest_bytes):
                    raise _malformed(f"member {name!r} is too large or repeated")
                handle = tar.extractfile(info)
                data = handle.read() if handle else b""
                if name == MANIFEST:
                    manifest_bytes = data
                elif name == SIGNATURE:
                    signature = data
                elif name == TIMESTAMP:
                    token = data
                else:
                    files[name] = data
    except tarfile.TarError as error:
        raise _malformed(f"the archive inside cannot be read ({error})") from None
    if manifest_bytes is None or signature is None:
        raise _malformed("manifest.json or manifest.sig is missing")
    try:
        manifest = json.loads(manifest_bytes)
    except (ValueError, UnicodeDecodeError):
        raise _malformed("manifest.json is not JSON") from None
    if not isinstance(manifest, dict) or manifest.get("ctip_exchange") != FORMAT:
        raise _malformed("manifest.json is not a ctip exchange v1 manifest")
    if canonical_json(manifest) != manifest_bytes:
        raise _malformed("manifest.json is not in RFC 8785 canonical form")
    return Opened(manifest_bytes, manifest, signature, files, token)


def _malformed(what: str) -> ExchangeError:
    return ExchangeError(f"The package is malformed: {what}.", reason="malformed",
                         hint="it was not made by a ctip exchange v1 sender; do not open it")


def open_package(ciphertext: bytes, identities: Sequence[str], *,
                 max_payload: int = DEFAULT_MAX_PAYLOAD) -> Opened:
    return read_members(decrypt(ciphertext, identities), max_payload=max_payload)


def check_files(opened: Opened) -> None:
    """Every member is listed in the signed manifest with its SHA-256 and size, and vice versa."""
    listed = {f["path"]: f for f in opened.manifest.get("files", [])}
    if set(listed) != set(opened.files):
        extra = sorted(set(opened.files) ^ set(listed))
        raise ExchangeError(f"The package's files do not match its signed manifest ({extra}).",
                            reason="tampered", hint="do not use it; ask the sender to resend")
    for path, data in opened.files.items():
        entry = listed[path]
        if entry.get("bytes") != len(data) or entry.get("sha256") != sha256_hex(data):
            raise ExchangeError(f"{path} does not match the hash in the signed manifest.",
                                reason="tampered", hint="do not use it; ask the sender to resend")


def expiry(created: datetime, days: int) -> datetime:
    return created + timedelta(days=days)


# msgspec (C) writes and reads JSON Lines in one call each: 100,000 records in about 0.05 s
# and 0.25 s, against 1.1 s and 0.5 s of CPU for one orjson call per record (measured,
# benchmarks/exchange_bench.py); its output is the same bytes orjson's was
_ENCODER = msgspec.json.Encoder()
_DECODER = msgspec.json.Decoder()


def jsonl(records: Sequence[Mapping[str, Any]]) -> bytes:
    """JSON Lines, one object per line, no spaces, UTF-8, every line ending in a newline.
    The file is hashed as bytes in the signed manifest, so it needs no canonical key order."""
    try:
        return _ENCODER.encode_lines(records)
    except (msgspec.EncodeError, TypeError, ValueError, OverflowError) as error:
        raise ExchangeError(f"A record cannot be written as JSON ({error}).",
                            reason="malformed") from None


@contextmanager
def _long_lived() -> Iterator[None]:
    """Make the objects created inside long-lived for the cyclic garbage collector.

    100,000 parsed records are about 400,000 containers (a dict and its lists each). With the
    collector on, it would run hundreds of times during the parse; switched off, the first
    collection afterwards still walks all of them, and again when they reach the middle
    generation: 0.1-0.3 s per 100,000 records, measured. They are data the caller keeps and
    they hold no cycles, so they are moved to the oldest generation at once: ``gc.freeze()``
    then ``gc.unfreeze()``, the documented way to move every tracked object there (two list
    splices). Side effects: younger garbage cycles of the process wait for the next full
    collection, which still visits the records once. Skipped when the process keeps objects
    frozen itself (a pre-fork server), whose freeze this must not undo."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if gc.get_freeze_count() == 0:
            gc.freeze()
            gc.unfreeze()
        if enabled:
            gc.enable()


def read_jsonl(data: bytes, *, where: str) -> list[dict[str, Any]]:
    """The records of a JSON Lines file, one JSON value per line (blank lines skipped).

    Fast path: the whole file in one call, kept when it has no blank line and holds as many
    values as lines (the stream reader alone would also take two values on one line);
    otherwise line by line, strictly, to name the bad line. (Still read as a stream: a file
    with a line of only spaces or CR for every line holding two values; its records pass
    the gate like any others.)"""
    with _long_lived():
        try:
            out = _DECODER.decode_lines(data)
        except msgspec.DecodeError:
            out = None
    lines = data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)
    blank = data.startswith(b"\n") or b"\n\n" in data
    if out is not None and len(out) == lines and not blank:
        return out
    return _read_lines(data, where)


def _read_lines(data: bytes, where: str) -> list[dict[str, Any]]:
    out = []
    for n, line in enumerate(data.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            out.append(_DECODER.decode(line))
        except msgspec.DecodeError:
            raise ExchangeError(f"{where}, line {n}: not JSON.", reason="malformed") from None
    return out


def new_mailbox() -> str:
    """A new age X25519 identity (AGE-SECRET-KEY-1...), for a key file, never the database."""
    return str(pyrage.x25519.Identity.generate())


def mailbox_recipient(identity: str) -> str:
    """The public age recipient (age1...) of an identity."""
    try:
        return str(pyrage.x25519.Identity.from_str(identity.strip()).to_public())
    except pyrage.IdentityError as error:
        raise ExchangeError(f"A mailbox key cannot be read ({error}).",
                            reason="malformed") from None
