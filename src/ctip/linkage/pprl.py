"""Privacy-preserving encodings: keyed, balanced, record-level Bloom filters (CLK style).

Each agency runs this on its own machine with a secret agreed out of band between agencies
(never given to the linkage unit). What leaves the agency is, per record, one bit vector and a
few keyed blocking buckets; no name, date or code. Hand-written because the maintained options
do not fit: clkhash/anonlink are unmaintained and pin old cryptography/numpy (see
LINKAGE-AND-PRIVACY.md section 4.1); the encoding follows the CLK idea (Schnell et al. 2011)
with these hardenings against frequency attacks (documented in docs/methods/linkage.md):

1. Keyed "random hashing": each token's bit positions come from keyed BLAKE2b under a key
   derived per field from the secret, so the positions of a bigram differ between fields and
   are unpredictable without the key; no double-hashing structure an attacker can invert.
2. Record-level filter: all fields go into one filter, so no single field's value frequencies
   appear as repeated patterns (field-level filters leak those directly).
3. Balancing (Schnell 2016): the filter is concatenated with its complement, so every encoding
   has exactly half its bits set and the Hamming weight no longer reveals name length.
4. Keyed permutation of the balanced filter's bits, so the complement half cannot be located.
5. Blocking keys are keyed hashes folded into a small number of buckets, so many values share
   a bucket and bucket sizes are a blurred picture of value frequencies.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

ENCODING_FORMAT = "ctip-clk/1"


@dataclass(frozen=True)
class FieldSpec:
    """One field of the prepared frame: how it is split into tokens and how many bits each sets."""

    column: str
    tokens: str  # "bigrams" | "positional" | "exact" | "year_window"
    bits_per_token: int


@dataclass(frozen=True)
class EncodingSchema:
    fields: tuple[FieldSpec, ...]
    filter_bits: int = 512  # before balancing; the encoding is twice this (1,024 bits)
    blocking: tuple[tuple[str, ...], ...] = ()  # column groups hashed into buckets
    buckets: int = 4096

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EncodingSchema:
        return cls(
            fields=tuple(FieldSpec(**f) for f in data["fields"]),
            filter_bits=int(data["filter_bits"]),
            blocking=tuple(tuple(b) for b in data.get("blocking", ())),
            buckets=int(data.get("buckets", 4096)),
        )


#: The victim-record schema: names in any order (one key for given and family name, so a
#: swapped order encodes the same), date of birth digit by digit (partial dates agree as far
#: as they go), birth year with its neighbours (approximate ages), sex and citizenship.
VICTIM_SCHEMA = EncodingSchema(
    fields=(
        FieldSpec("full_name", "bigrams", 12),
        FieldSpec("dob", "positional", 10),
        FieldSpec("birth_year", "year_window", 6),
        FieldSpec("sex", "exact", 5),
        FieldSpec("citizenship", "exact", 5),
    ),
    blocking=(("birth_year",), ("family_prefix", "given_prefix")),
)


def _tokens(kind: str, value: object) -> list[str]:
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return []
    text = str(value)
    if kind == "bigrams":
        # padded bigrams of each token; tokens sorted so name order does not matter
        grams: list[str] = []
        for part in sorted(text.split(" ")):
            padded = f"_{part}_"
            grams += [padded[i : i + 2] for i in range(len(padded) - 1)]
        return grams
    if kind == "positional":
        digits = text.replace("-", "")
        return [f"{i}:{c}" for i, c in enumerate(digits)]
    if kind == "exact":
        return [text]
    if kind == "year_window":
        year = int(float(text))
        return [f"y{year - 1}", f"y{year}", f"y{year + 1}"]
    raise ValueError(f"unknown token kind {kind!r}")


def derive_key(secret: bytes, purpose: str) -> bytes:
    """A sub-key per purpose (field, permutation, blocking), so no two uses share a key."""
    return hmac.new(secret, f"ctip-pprl/{purpose}".encode(), hashlib.sha256).digest()


def key_check(secret: bytes) -> str:
    """A short public fingerprint: lets the linkage unit see all files used one key, not the key."""
    return derive_key(secret, "check").hex()[:16]


@dataclass
class Encoded:
    """Encodings of one list: ids, packed bit vectors (n x bytes), blocking buckets (n x r)."""

    list_name: str
    ids: np.ndarray
    clks: np.ndarray  # uint8, packed bits
    blocks: np.ndarray  # int32
    schema: EncodingSchema = field(default_factory=lambda: VICTIM_SCHEMA)
    key_check: str = ""


def encode(
    frame: pd.DataFrame,
    secret: bytes,
    schema: EncodingSchema = VICTIM_SCHEMA,
    *,
    list_name: str = "list",
    id_column: str = "unique_id",
) -> Encoded:
    """Encode a prepared frame (``normalise.prepare_frame``) into hardened record-level filters."""
    if len(secret) < 16:
        raise ValueError("the linkage secret must be at least 16 bytes")
    size = schema.filter_bits
    n = len(frame)
    bits = np.zeros((n, size), dtype=bool)
    for spec in schema.fields:
        if spec.column not in frame.columns:
            continue
        key = derive_key(secret, f"field/{spec.column}")
        digest_size = 2 * spec.bits_per_token  # 16-bit positions: filters up to 65,536 bits
        if digest_size > 64 or size > 65536:
            raise ValueError(
                f"bits_per_token of {spec.column} must be at most 32 and filter_bits at most 65536"
            )
        cache: dict[str, np.ndarray] = {}
        rows: list[int] = []
        cols: list[np.ndarray] = []
        for row, value in enumerate(frame[spec.column].tolist()):
            for token in _tokens(spec.tokens, value):
                positions = cache.get(token)
                if positions is None:
                    raw = hashlib.blake2b(token.encode(), key=key, digest_size=digest_size).digest()
                    positions = np.frombuffer(raw, dtype="<u2") % size
                    cache[token] = positions
                rows.append(row)
                cols.append(positions)
        if rows:
            r = np.repeat(np.asarray(rows), spec.bits_per_token)
            bits[r, np.concatenate(cols)] = True
    balanced = np.concatenate([bits, ~bits], axis=1)
    perm_seed = int.from_bytes(derive_key(secret, "permutation")[:8], "little")
    permutation = np.random.default_rng(perm_seed).permutation(2 * size)
    clks = np.packbits(balanced[:, permutation], axis=1)
    return Encoded(
        list_name=list_name,
        ids=frame[id_column].astype(str).to_numpy(),
        clks=clks,
        blocks=blocking_buckets(frame, secret, schema),
        schema=schema,
        key_check=key_check(secret),
    )


def blocking_buckets(frame: pd.DataFrame, secret: bytes, schema: EncodingSchema) -> np.ndarray:
    """One keyed bucket number per blocking group; -1 when a part is missing (never blocks)."""
    out = np.full((len(frame), len(schema.blocking)), -1, dtype=np.int32)
    for j, group in enumerate(schema.blocking):
        key = derive_key(secret, "block/" + "+".join(group))
        cols = [frame[c].tolist() if c in frame.columns else [None] * len(frame) for c in group]
        for i, parts in enumerate(zip(*cols, strict=True)):
            if any(p is None or p is pd.NA or (isinstance(p, float) and p != p) for p in parts):
                continue
            text = "\x1f".join(str(p) for p in parts)
            digest = hmac.new(key, text.encode(), hashlib.sha256).digest()
            out[i, j] = int.from_bytes(digest[:4], "little") % schema.buckets
    return out


def to_document(encoded: Encoded) -> dict[str, object]:
    """The JSON document an agency sends to the linkage unit (no identifying values)."""
    return {
        "format": ENCODING_FORMAT,
        "list": encoded.list_name,
        "key_check": encoded.key_check,
        "schema": encoded.schema.to_dict(),
        "records": [
            {"id": rid, "clk": base64.b64encode(clk.tobytes()).decode(), "blocks": blk.tolist()}
            for rid, clk, blk in zip(encoded.ids, encoded.clks, encoded.blocks, strict=True)
        ],
    }


def from_document(doc: dict[str, object]) -> Encoded:
    """Read an encodings document back; raises ``ValueError`` naming what is wrong."""
    if doc.get("format") != ENCODING_FORMAT:
        raise ValueError(f"not a {ENCODING_FORMAT} document (format={doc.get('format')!r})")
    schema = EncodingSchema.from_dict(doc["schema"])  # type: ignore[arg-type]
    records: Sequence[dict[str, object]] = doc["records"]  # type: ignore[assignment]
    width = schema.filter_bits * 2 // 8
    clks = np.zeros((len(records), width), dtype=np.uint8)
    for i, rec in enumerate(records):
        raw = base64.b64decode(str(rec["clk"]))
        if len(raw) != width:
            raise ValueError(
                f"record {i} ({rec.get('id')}): encoding is {len(raw)} bytes, expected {width}"
            )
        clks[i] = np.frombuffer(raw, dtype=np.uint8)
    blocks = np.asarray([rec.get("blocks", []) for rec in records], dtype=np.int32).reshape(
        len(records), len(schema.blocking)
    )
    return Encoded(
        list_name=str(doc["list"]),
        ids=np.asarray([str(r["id"]) for r in records]),
        clks=clks,
        blocks=blocks,
        schema=schema,
        key_check=str(doc.get("key_check", "")),
    )
