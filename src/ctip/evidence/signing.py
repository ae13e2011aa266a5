"""Ed25519 signatures (``cryptography``): who signed, over canonical JSON or raw bytes.

A key is named by its fingerprint: the first 32 hex digits of SHA-256 over the raw 32-byte public
key. Public keys travel as PEM (SubjectPublicKeyInfo), which ``openssl pkeyutl -verify -rawin``
reads, so a signature in an export bundle can be checked with OpenSSL alone.
"""

from __future__ import annotations

import hashlib
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from ctip.evidence.canonical import canonical_json

__all__ = [
    "Ed25519PrivateKey",
    "Ed25519PublicKey",
    "fingerprint",
    "new_signing_key",
    "private_from_raw",
    "private_raw",
    "public_from_pem",
    "public_from_raw",
    "public_pem",
    "public_raw",
    "sign_canonical",
    "verify_canonical",
    "verify_signature",
]


def new_signing_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def private_raw(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                             serialization.NoEncryption())


def private_from_raw(raw: bytes) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(raw)


def public_raw(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    pub = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_from_raw(raw: bytes) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(raw)


def public_pem(raw_public: bytes) -> bytes:
    return public_from_raw(raw_public).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def public_from_pem(pem: bytes) -> bytes:
    """The raw 32-byte public key of a PEM public key (ValueError if it is not Ed25519)."""
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return public_raw(key)


def fingerprint(raw_public: bytes) -> str:
    return hashlib.sha256(raw_public).hexdigest()[:32]


def verify_signature(raw_public: bytes, message: bytes, signature: bytes) -> bool:
    try:
        public_from_raw(raw_public).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def sign_canonical(key: Ed25519PrivateKey, value: Any) -> bytes:
    """Signature over the RFC 8785 bytes of ``value``."""
    return key.sign(canonical_json(value))


def verify_canonical(raw_public: bytes, value: Any, signature: bytes) -> bool:
    return verify_signature(raw_public, canonical_json(value), signature)
