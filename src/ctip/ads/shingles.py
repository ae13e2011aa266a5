"""CRC-32 of every word 4-shingle of a batch of texts, in numpy: the values ``zlib.crc32`` gives
for each shingle's UTF-8 bytes ("w1 w2 w3 w4"), without a call per shingle.

CRC-32 is linear over GF(2): with ``R(x)`` the register after reading bytes ``x`` from zero,
``R(a + b) = Z^len(b)(R(a)) ^ R(b)``, where ``Z^n`` is reading ``n`` zero bytes, itself linear in
the register, so it is four table look-ups (one per byte of the register; ``_zero_tables``).
A shingle's CRC is then made of its words' registers (each word's computed once by ``zlib``),
one word at a time (Horner), so every shift is by one word's length:
``R(w1 w2 w3 w4) = Z^|w4|(Z^|w3 |(Z^|w2 |(R(w1 )) ^ R(w2 )) ^ R(w3 )) ^ R(w4)``, and
``zlib.crc32`` adds the start value 0xFFFFFFFF read through the whole shingle and a final
0xFFFFFFFF.
Shingles longer than the tables (``MAX_BYTES``) are hashed by ``zlib`` itself.

tests/ads/test_ads_fast_paths.py compares the signatures built on this with datasketch's.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from ctip.ads import tokens

SHINGLE = 4
MAX_BYTES = 512
_ONES = 0xFFFFFFFF


@lru_cache(maxsize=1)
def _zero_tables() -> tuple[np.ndarray, np.ndarray]:
    """``tables[n * 1024 + k * 256 + v]`` = Z^n(v << 8k) for n <= MAX_BYTES, and
    ``ones[n]`` = Z^n(0xFFFFFFFF)."""
    crc = np.arange(256, dtype=np.uint32)
    for _ in range(8):
        crc = np.where(crc & 1, (crc >> 1) ^ np.uint32(0xEDB88320), crc >> 1).astype(np.uint32)
    step = crc  # the byte table: one zero byte is c -> step[c & 0xFF] ^ (c >> 8)
    tables = np.empty((MAX_BYTES + 1, 4, 256), dtype=np.uint32)
    tables[0] = np.arange(256, dtype=np.uint32)[None, :] << (np.arange(4, dtype=np.uint32)[:, None]
                                                            * np.uint32(8))
    ones = np.empty(MAX_BYTES + 1, dtype=np.uint32)
    ones[0] = _ONES
    for n in range(1, MAX_BYTES + 1):
        prev = tables[n - 1]
        tables[n] = step[prev & 0xFF] ^ (prev >> 8)
        ones[n] = step[ones[n - 1] & 0xFF] ^ (ones[n - 1] >> 8)
    return tables.reshape(-1), ones


def _shift(x: np.ndarray, n: np.ndarray, tables: np.ndarray) -> np.ndarray:
    """Z^n(x), elementwise (n <= MAX_BYTES)."""
    base = n * 1024
    out = tables[base + (x & 0xFF)]
    out ^= tables[base + 256 + ((x >> 8) & 0xFF)]
    out ^= tables[base + 512 + ((x >> 16) & 0xFF)]
    out ^= tables[base + 768 + (x >> 24)]
    return out


def few(words: Sequence[str]) -> set[int]:
    """Fewer words than a shingle: the CRC of each word (of "" for none)."""
    return {zlib.crc32(w.encode("utf-8")) for w in words or [""]}


def batch_hashes(texts: Sequence[str]) -> list[np.ndarray]:
    """For each text, the CRC-32 of each word 4-shingle of its lower-cased words (``\\w+``),
    as ``cluster._shingle_hashes`` gives them (a shingle that repeats may repeat here)."""
    return token_hashes(tokens.of_texts(texts))


def token_hashes(toks: tokens.Tokens) -> list[np.ndarray]:
    """``batch_hashes`` of the signature texts of a batch split by ``ctip.ads.tokens`` (each
    text's words ``toks.ids[sig_lo[k]:sig_hi[k]]``)."""
    n_texts = len(toks)
    out: list[np.ndarray] = [np.empty(0, np.uint32)] * n_texts
    lo, hi = toks.sig_lo, toks.sig_hi
    counts = hi - lo
    enough = counts >= SHINGLE
    for k in np.flatnonzero(~enough).tolist():
        out[k] = np.fromiter(few(toks.words(int(lo[k]), int(hi[k]))), np.uint32)
    owners = np.flatnonzero(enough)
    if not len(owners):
        return out
    counts = counts[owners]
    # every signature word's position in toks.ids, the texts one after another
    offsets = np.repeat(lo[owners] - (np.cumsum(counts) - counts), counts)
    ids = toks.ids[np.arange(int(counts.sum())) + offsets]
    spaced_all, bare_all, length_all, _ = toks.table.arrays()
    sp, ln = spaced_all[ids], length_all[ids]
    n = len(ids) - SHINGLE + 1
    # Horner's rule, one word at a time: shifts by one word's length (small rows of the table)
    s1, s2, s3 = ln[1:n + 1] + 1, ln[2:n + 2] + 1, ln[3:n + 3]
    total = ln[:n] + 1 + s1 + s2 + s3
    long = (s1 > MAX_BYTES) | (s2 > MAX_BYTES) | (s3 > MAX_BYTES) | (total > MAX_BYTES)
    tables, ones = _zero_tables()
    if long.any():
        s1, s2, s3, total = (np.minimum(v, MAX_BYTES) for v in (s1, s2, s3, total))
    r = _shift(sp[:n], s1, tables) ^ sp[1:n + 1]
    r = _shift(r, s2, tables) ^ sp[2:n + 2]
    r = _shift(r, s3, tables) ^ bare_all[ids[3:n + 3]]
    crc = r ^ ones[total] ^ np.uint32(_ONES)
    doc = np.repeat(np.arange(len(counts)), counts)
    keep = doc[:n] == doc[SHINGLE - 1:]  # shingles within one text
    if long.any():  # very long words: zlib, one shingle at a time
        words = toks.table.words
        for i in np.flatnonzero(long & keep).tolist():
            crc[i] = zlib.crc32(" ".join(words[w] for w in ids[i:i + SHINGLE].tolist())
                                .encode("utf-8"))
    crc, doc_of = crc[keep], doc[:n][keep]
    bounds = np.searchsorted(doc_of, np.arange(len(counts) + 1))
    for j, k in enumerate(owners.tolist()):
        out[k] = crc[bounds[j]:bounds[j + 1]]
    return out
