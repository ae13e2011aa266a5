"""The write-once, content-addressed, encrypted blob store of the evidence locker.

Each case has its own 32-byte key (wrapped by the sealing key ring in ``evidence_case_keys``).
A blob's file name is HMAC-SHA256(case key, item SHA-256), so the store is content-addressed
(the same bytes land on the same name, once) without showing on disk which known file it holds.
Files are created with O_EXCL next to their final name and linked into place (never replaced),
then made read-only (0400).

Format, written by hand because no maintained Python library streams authenticated encryption
of large files under a key we hold (``pyrage`` encrypts whole buffers); it follows age's STREAM
construction: ``MAGIC | salt(16)`` then 64 KiB chunks, each AES-256-GCM under a key derived
(HKDF-SHA256) from the case key and the salt, nonce = chunk counter (11 bytes) | last-chunk flag
(1 byte). The last chunk's associated data also binds the case id and the plaintext's SHA-256, so
a truncated blob, a blob moved to another item (even of the same size) or to another case fails
to open, and the opener re-hashes the plaintext besides.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ctip.errors import EvidenceError

MAGIC = b"CTIPEVB1"
# 64 KiB: AES-GCM over 1 MiB buffers ran at a tenth of the speed (each output buffer is a fresh
# mmap whose pages fault in); 64 KiB chunks cost 0.02 % in tags (benchmarks/evidence_bench.py)
CHUNK = 1 << 16
TAG = 16


def blob_name(case_key: bytes, sha256: str) -> str:
    return hmac.new(case_key, b"ctip-blob-name\x00" + sha256.encode(), "sha256").hexdigest()


def _cipher(case_key: bytes, salt: bytes) -> AESGCM:
    key = HKDF(hashes.SHA256(), 32, salt=salt, info=b"ctip evidence blob v1").derive(case_key)
    return AESGCM(key)


def _nonce(counter: int, last: bool) -> bytes:
    return counter.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


def _aad(header: bytes, case_id: str, sha256: str | None) -> bytes:
    return header if sha256 is None else header + b"\x00" + case_id.encode() + b"\x00" + \
        sha256.encode()


class BlobStore:
    """Blobs of every case under one folder (``<root>/<case id>/<name[:2]>/<name>``)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, case_id: str, case_key: bytes, sha256: str) -> Path:
        name = blob_name(case_key, sha256)
        return self.root / case_id / name[:2] / name

    def write(self, case_id: str, case_key: bytes,
              source: BinaryIO) -> tuple[str, int, bytes, bool]:
        """Hash and encrypt ``source`` in one pass. Returns (SHA-256, size, first bytes for type
        sniffing, new) where ``new`` is False if the case already held these bytes."""
        folder = self.root / case_id
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        salt = secrets.token_bytes(16)
        header = MAGIC + salt
        cipher = _cipher(case_key, salt)
        digest = hashlib.sha256()
        size, head = 0, b""
        tmp = folder / f".incoming-{secrets.token_hex(8)}"
        fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(header)
                pending = source.read(CHUNK)
                head = pending[:4096]
                counter = 0
                while True:
                    following = source.read(CHUNK) if len(pending) == CHUNK else b""
                    digest.update(pending)
                    size += len(pending)
                    last = not following
                    aad = _aad(header, case_id, digest.hexdigest() if last else None)
                    out.write(cipher.encrypt(_nonce(counter, last), pending, aad))
                    if last:
                        break
                    pending, counter = following, counter + 1
                out.flush()
                os.fsync(out.fileno())
            sha = digest.hexdigest()
            final = self.path(case_id, case_key, sha)
            final.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            try:
                os.link(tmp, final)  # never replaces an existing blob (write-once)
            except FileExistsError:
                return sha, size, head, False
            os.chmod(final, 0o400)
            return sha, size, head, True
        finally:
            tmp.unlink(missing_ok=True)

    def read(self, case_id: str, case_key: bytes, sha256: str) -> Iterator[bytes]:
        """The plaintext, chunk by chunk; EvidenceError if the blob is missing, altered,
        truncated or not this item's (checked before the last chunk is given out)."""
        path = self.path(case_id, case_key, sha256)
        where = f"the stored copy of item {sha256[:16]}"
        try:
            handle = path.open("rb")
        except FileNotFoundError:
            raise EvidenceError(f"{where} is missing from the blob store ({path.parent}).",
                                hint="restore the evidence folder from its backup") from None
        with handle:
            header = handle.read(len(MAGIC) + 16)
            if not header.startswith(MAGIC) or len(header) != len(MAGIC) + 16:
                raise EvidenceError(f"{where} is not a locker blob (altered header).",
                                    hint="restore the evidence folder from its backup")
            cipher = _cipher(case_key, header[len(MAGIC):])
            digest = hashlib.sha256()
            pending = handle.read(CHUNK + TAG)
            counter = 0
            while True:
                following = handle.read(CHUNK + TAG) if len(pending) == CHUNK + TAG else b""
                last = not following
                try:
                    if last:
                        # the hash is bound into the last chunk: compute it before opening
                        plain = cipher.decrypt(_nonce(counter, True), pending,
                                               _aad(header, case_id, sha256))
                    else:
                        plain = cipher.decrypt(_nonce(counter, False), pending, header)
                except InvalidTag:
                    raise EvidenceError(
                        f"{where} fails authentication at chunk {counter}: it was altered, "
                        "truncated or swapped with another blob.",
                        hint="restore the evidence folder from its backup; the custody log "
                        "and the item's hash say what the original was") from None
                digest.update(plain)
                if last:
                    if digest.hexdigest() != sha256:
                        raise EvidenceError(f"{where} does not hash to the item's SHA-256.",
                                            hint="restore the evidence folder from its backup")
                    yield plain
                    return
                yield plain
                pending, counter = following, counter + 1
