"""Sealing identity (AES-256-GCM) and the keyed pseudonym (HMAC-SHA256).

A sealed value is ``VERSION | len(key_id) | key_id | nonce(12) | ciphertext+tag``. The key id
travels with the ciphertext so keys can rotate; the associated data (AAD) is the key id plus a
``context`` naming the row and field (e.g. ``victims/<victim_id>/identity``), so a ciphertext
copied onto another row or field fails to open instead of silently moving someone's identity.

Nonces are random (96 bits): safe for far more values than one key ring will ever seal between
rotations (the NIST bound is 2**32 messages per key).

The pseudonym normalises by hand (no library does exactly this): Unicode NFKD, accents dropped,
casefolded, punctuation to spaces, name parts from given and family name pooled and sorted (so
"Maria Lopez" and "LÓPEZ, María" agree, and swapped given/family names still match), then joined
with the date of birth as written (ISO, possibly partial). HMAC-SHA256 under a key separate from
the sealing key: the pseudonym never reveals a name without that key, and rotating the sealing
key does not change pseudonyms.
"""

from __future__ import annotations

import hmac
import os
import re
import unicodedata
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ctip.errors import KeyError_, SealError
from ctip.settings import Settings
from ctip.storage.keys import (
    KeyRing,
    decode_pseudonym_key,
    load_pseudonym_key,
    load_ring,
)

__all__ = ["KeyRing", "Pseudonymiser", "Sealer", "load_keys", "normalise_name"]

VERSION = 1
NONCE_BYTES = 12


class Sealer:
    """Seal and open text under a key ring (authenticated encryption).

    ``reload`` gives the ring again from where it came (the key file): a value sealed under a
    key this process has not seen (another process rotated the keys) opens after one reload.
    ``bind(guard)`` ties the sealer to a store (``storage.keystate.KeyGuard``): each transaction's
    first ``seal`` then takes the key lock and uses the database's active key."""

    def __init__(self, ring: KeyRing, *, reload: Callable[[], KeyRing] | None = None) -> None:
        self.ring = ring
        self._reload = reload
        self._guard: Any = None
        self._ciphers: dict[str, AESGCM] = {}

    def __getstate__(self) -> dict[str, object]:
        """Picklable for import worker processes (``services/import_pool.py``): the ring goes
        through the pipe to the worker; the cipher objects, which cannot, are rebuilt there.
        A worker's sealer is unbound: the writer checks the key of what it sealed."""
        return {"ring": self.ring}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__init__(state["ring"])  # type: ignore[misc]

    def bind(self, guard: Any) -> None:
        self._guard = guard

    @property
    def active_key_id(self) -> str:
        return self.ring.active

    def refresh(self) -> bool:
        """Reload the ring from its source, keeping the keys already held. False: no source."""
        if self._reload is None:
            return False
        fresh = self._reload()
        self.ring = KeyRing(active=self.ring.active, keys={**self.ring.keys, **fresh.keys})
        return True

    def use_active(self, key_id: str) -> None:
        """Seal under ``key_id`` from now on (the database's active key)."""
        if key_id not in self.ring.keys:
            self.refresh()
        if key_id not in self.ring.keys:
            raise KeyError_(
                f"The database's active sealing key {key_id!r} is not in this process's key "
                "ring: the keys were rotated with another key file.",
                hint="give this process the key ring the rotation wrote (CTIP_KEY_FILE, or the "
                "new CTIP_SEAL_KEY) and start it again",
            )
        self.ring.active = key_id

    def _cipher(self, key_id: str) -> AESGCM:
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            if key_id not in self.ring.keys:
                self.refresh()  # sealed by a process that rotated the keys after this one started
            cipher = self._ciphers[key_id] = AESGCM(self.ring.key(key_id))
        return cipher

    @staticmethod
    def _aad(key_id: bytes, context: str) -> bytes:
        return b"ctip-seal-v1\x00" + key_id + b"\x00" + context.encode("utf-8")

    def seal(self, text: str, *, context: str) -> bytes:
        if self._guard is not None:
            self._guard.before_seal(self)
        key_id = self.ring.active.encode("ascii")
        nonce = os.urandom(NONCE_BYTES)
        body = self._cipher(self.ring.active).encrypt(
            nonce, text.encode("utf-8"), self._aad(key_id, context)
        )
        return bytes((VERSION, len(key_id))) + key_id + nonce + body

    def seal_many(self, texts: Sequence[str], contexts: Sequence[str]) -> list[bytes]:
        """``seal`` for a whole import batch: one random read for all nonces and the per-key
        parts (header, cipher, AAD prefix) built once, not per value.

        Unchecked (import rows are sealed in worker processes, outside any transaction): the
        writer must check each value's key against the database's active key in the
        transaction that stores it, and re-seal what differs (``CaseStore.store_victims``)."""
        key_text = self.ring.active
        key_id = key_text.encode("ascii")
        encrypt = self._cipher(key_text).encrypt
        header = bytes((VERSION, len(key_id))) + key_id
        prefix = b"ctip-seal-v1\x00" + key_id + b"\x00"
        nonces = os.urandom(NONCE_BYTES * len(texts))
        out = []
        for i, (text, context) in enumerate(zip(texts, contexts, strict=True)):
            nonce = nonces[NONCE_BYTES * i:NONCE_BYTES * (i + 1)]
            out.append(header + nonce + encrypt(nonce, text.encode("utf-8"),
                                                prefix + context.encode("utf-8")))
        return out

    @staticmethod
    def key_id_of(blob: bytes) -> str:
        if len(blob) < 2 or blob[0] != VERSION:
            raise SealError("A sealed value has an unknown format.",
                            hint="the data may be damaged; restore it from a backup")
        return bytes(blob[2:2 + blob[1]]).decode("ascii")

    def open(self, blob: bytes, *, context: str) -> str:
        blob = bytes(blob)
        key_id = self.key_id_of(blob)
        start = 2 + blob[1]
        nonce, body = blob[start:start + NONCE_BYTES], blob[start + NONCE_BYTES:]
        try:
            plain = self._cipher(key_id).decrypt(
                nonce, body, self._aad(key_id.encode("ascii"), context)
            )
        except InvalidTag:
            raise SealError(
                f"A sealed value ({context}) could not be opened: wrong key or altered data.",
                hint="check that the key file is the one this database was sealed with",
            ) from None
        return plain.decode("utf-8")

    def reseal(self, blob: bytes, *, context: str) -> bytes:
        """Open under whatever key sealed it and seal again under the active key."""
        return self.seal(self.open(blob, context=context), context=context)


_NON_ALNUM = re.compile(r"[^\w]+|_")


@lru_cache(maxsize=65536)  # given and family names repeat a lot across an import
def _words(part: str) -> tuple[str, ...]:
    if not part.isascii():
        decomposed = unicodedata.normalize("NFKD", part)
        part = "".join(c for c in decomposed if not unicodedata.combining(c))
    return tuple(_NON_ALNUM.sub(" ", part.casefold()).split())


def normalise_name(*parts: str | None) -> str:
    """Pooled, sorted, accent-free, casefolded name parts ("" when there is no name)."""
    words: list[str] = []
    for part in parts:
        if part:
            words += _words(part)
    return " ".join(sorted(words))


class Pseudonymiser:
    """Keyed pseudonym of a person's name and date of birth, for linkage without decrypting."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def pseudonym(self, given_name: str | None, family_name: str | None,
                  date_of_birth: str | None) -> str | None:
        """None when there is no name at all: a pseudonym of nothing would link strangers."""
        name = normalise_name(given_name, family_name)
        if not name:
            return None
        dob = (date_of_birth or "").strip()
        message = f"ctip-pseudonym-v1\x00{name}\x00{dob}".encode()
        return hmac.digest(self._key, message, "sha256").hex()  # one-shot C HMAC-SHA256

    def keyed_hash(self, purpose: str, data: bytes) -> str:
        """A keyed digest for dedup keys over content that may hold identity (never unkeyed)."""
        return hmac.digest(self._key, purpose.encode() + b"\x00" + data, "sha256").hex()


def ring_source(settings: Settings) -> Callable[[], KeyRing]:
    """Where the sealing ring is read again after a rotation elsewhere: the file, or the
    environment (which a rotation cannot change, so reading it again finds nothing new)."""
    if settings.seal_key:
        value = settings.seal_key
        return lambda: KeyRing.from_env(value)
    path = settings.resolved_key_file
    return lambda: load_ring(path)


def load_keys(settings: Settings) -> tuple[KeyRing, bytes]:
    """The sealing ring and pseudonym key: from the environment if given, else the key files."""
    ring = KeyRing.from_env(settings.seal_key) if settings.seal_key else load_ring(
        settings.resolved_key_file)
    if settings.pseudonym_key:
        pseudonym_key = decode_pseudonym_key(settings.pseudonym_key, where="CTIP_PSEUDONYM_KEY")
    else:
        pseudonym_key = load_pseudonym_key(settings.resolved_pseudonym_key_file)
    if pseudonym_key in ring.keys.values():
        raise KeyError_("The pseudonym key is the same as a sealing key.",
                        hint="the two keys must differ; run `ctip keys init` in a new home")
    return ring, pseudonym_key
