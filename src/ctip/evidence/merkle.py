"""The Merkle tree hash of RFC 9162 (Certificate Transparency 2.0) over a log's entry hashes.

Written by hand: the definition is a dozen lines (leaf = SHA-256(0x00 || entry), node =
SHA-256(0x01 || left || right), split at the largest power of two below n), and a checkpoint's
root must be recomputable from that definition by anyone, so the code follows it literally.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

EMPTY_ROOT = hashlib.sha256(b"").hexdigest()


def _leaf(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def merkle_root(entry_hashes: Sequence[str]) -> str:
    """MTH over the entries (each given as hex; the leaf data is the entry hash's 32 bytes)."""
    if not entry_hashes:
        return EMPTY_ROOT
    level = [_leaf(bytes.fromhex(h)) for h in entry_hashes]
    # bottom-up with the odd node carried up unchanged gives exactly RFC 9162's MTH
    while len(level) > 1:
        paired = [_node(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0].hex()
