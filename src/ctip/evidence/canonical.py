"""RFC 8785 (JSON Canonicalization Scheme) bytes and SHA-256 digests.

Everything ctip signs or hashes as JSON goes through ``canonical_json``: the same object always
gives the same bytes (sorted keys, no whitespace, ECMAScript number form, UTF-8), so a signature
made here verifies anywhere that canonicalises by RFC 8785.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

import rfc8785


def canonical_json(value: Any) -> bytes:
    """The RFC 8785 bytes of a JSON value (dicts, lists, str, int, bool, None; no floats with
    fractions beyond IEEE doubles)."""
    return rfc8785.dumps(value)


def is_canonical(value: Any, data: bytes) -> bool:
    """Whether ``data`` is the RFC 8785 form of ``value`` (parsed from it).

    Fast path first: for JSON without floats and with ASCII keys (every custody event and
    checkpoint ctip writes), Python's sorted, compact, non-ASCII-preserving ``json.dumps`` gives
    the same bytes as RFC 8785, and it runs in C; any difference is settled by ``rfc8785``."""
    if not _has_float(value):
        fast = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        if fast.encode("utf-8") == data:
            return True
    return canonical_json(value) == data


def _has_float(value: Any) -> bool:
    if isinstance(value, float):
        return True
    if isinstance(value, dict):
        return any(not k.isascii() or _has_float(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_float(v) for v in value)
    return False


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def digest_json(value: Any) -> str:
    """SHA-256 (hex) of a value's canonical JSON."""
    return sha256_hex(canonical_json(value))


class StreamDigest:
    """SHA-256 over chunks as they arrive (the exact bytes, before anything else touches them)."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self.size = 0

    def update(self, chunk: bytes | memoryview) -> None:
        self._hash.update(chunk)
        self.size += len(chunk)

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def digest_chunks(chunks: Iterable[bytes]) -> tuple[str, int]:
    """(SHA-256 hex, size) of a stream of chunks."""
    d = StreamDigest()
    for chunk in chunks:
        d.update(chunk)
    return d.hexdigest(), d.size
