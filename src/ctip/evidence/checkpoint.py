"""Checkpoints: a signed, time-stamped statement "log L had N entries, ending in hash H, with
Merkle root R", for a case's custody log and for the main audit log alike.

The checkpoint is RFC 8785 JSON (``payload``), signed by the locker's key (Ed25519, detached
signature) and time-stamped (RFC 3161 over SHA-256 of the payload bytes). Anyone holding the
payload, signature, token, the locker's public key and the TSA's certificates can check it with
OpenSSL alone; ``check_checkpoint`` checks it against the log as it is now: an entry cut off the
tail, or a chain rewritten before entry N, no longer matches.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from ctip.evidence.canonical import canonical_json
from ctip.evidence.custody import Problem, iso, parse_time
from ctip.evidence.merkle import merkle_root
from ctip.evidence.signing import Ed25519PrivateKey, verify_signature

FORMAT = "ctip-checkpoint-1"


@dataclass(frozen=True)
class Checkpoint:
    payload: bytes  # canonical JSON, exactly as signed and time-stamped
    signature: bytes
    token: bytes | None = None  # RFC 3161 response over SHA-256(payload)

    def fields(self) -> dict[str, object]:
        value = json.loads(self.payload)
        if not isinstance(value, dict):
            raise ValueError("a checkpoint is a JSON object")
        return value

    @property
    def size(self) -> int:
        return int(self.fields()["size"])  # type: ignore[call-overload]

    @property
    def log(self) -> str:
        return str(self.fields()["log"])

    @property
    def at(self) -> datetime:
        return parse_time(str(self.fields()["at"]))


def checkpoint_payload(*, log: str, entry_hashes: Sequence[str], at: datetime,
                       signer: str) -> bytes:
    return canonical_json({
        "format": FORMAT, "log": log, "size": len(entry_hashes),
        "head": entry_hashes[-1] if entry_hashes else None,
        "root": merkle_root(entry_hashes), "at": iso(at), "signer": signer,
    })


def make_checkpoint(key: Ed25519PrivateKey, signer: str, *, log: str,
                    entry_hashes: Sequence[str], at: datetime) -> Checkpoint:
    """Sign a checkpoint of ``log`` over its entries so far (the token is added afterwards)."""
    payload = checkpoint_payload(log=log, entry_hashes=entry_hashes, at=at, signer=signer)
    return Checkpoint(payload=payload, signature=key.sign(payload))


def check_checkpoint(cp: Checkpoint, *, log: str, entry_hashes: Sequence[str],
                     signers: Mapping[str, bytes]) -> list[Problem]:
    """Signature by a trusted signer, and agreement with the log's entries as they are now."""
    try:
        f = cp.fields()
        size = int(str(f["size"]))
        where = f"checkpoint {size}"
    except (ValueError, KeyError, TypeError):
        return [Problem("checkpoint.malformed", "checkpoint", "cannot be read")]
    problems: list[Problem] = []
    if canonical_json(f) != cp.payload:
        problems.append(Problem("checkpoint.edited", where, "is not in canonical form"))
    if f.get("format") != FORMAT or f.get("log") != log:
        problems.append(Problem("checkpoint.log", where,
                                f"belongs to log {f.get('log')!r}, not {log!r}"))
    public = signers.get(str(f.get("signer")))
    if public is None:
        problems.append(Problem("checkpoint.signer", where,
                                f"is signed by {f.get('signer')!r}, which is not a trusted "
                                "checkpoint key"))
    elif not verify_signature(public, cp.payload, cp.signature):
        problems.append(Problem("checkpoint.signature", where, "its signature does not verify"))
    if size > len(entry_hashes):
        problems.append(Problem("log.truncated", where,
                                f"covers {size} entries but the log now has "
                                f"{len(entry_hashes)}: entries were cut off its end"))
        return problems
    head = entry_hashes[size - 1] if size else None
    if f.get("head") != head:
        problems.append(Problem("log.rewritten", where,
                                f"entry {size} no longer has the hash this checkpoint "
                                "recorded: the log was rewritten up to there"))
    elif f.get("root") != merkle_root(entry_hashes[:size]):
        problems.append(Problem("log.rewritten", where,
                                "the Merkle root of the entries no longer matches"))
    return problems
