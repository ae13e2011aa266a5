"""Anchoring logs in trusted time: the notary key, checkpoints, and the audit log's full check.

One mechanism for every log (a case's custody log ``custody/<case>`` and the main audit log
``audit``): a checkpoint "N entries, head H, Merkle root R" signed by the notary key (Ed25519,
a key file outside the database) and time-stamped by the TSA, stored in ``log_checkpoints`` and,
for the audit log, also written to files to keep where the database administrator cannot write.
A checkpoint later contradicted by the log (entries cut off its end, or rewritten before N) is
reported by ``verify_audit`` and by the evidence locker's verification.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization

from ctip.errors import ConfigurationError, KeyError_
from ctip.evidence.canonical import sha256_hex
from ctip.evidence.checkpoint import Checkpoint, check_checkpoint, make_checkpoint
from ctip.evidence.custody import Problem, TrustedCheckpoint
from ctip.evidence.signing import (
    Ed25519PrivateKey,
    fingerprint,
    new_signing_key,
    public_raw,
)
from ctip.evidence.timestamp import TokenError, verify_token
from ctip.services.timestamping import TimestampAuthority
from ctip.settings import Settings
from ctip.storage import evidence as edb
from ctip.storage.audit import AuditLog, VerifyResult
from ctip.storage.keys import read_key_text, write_secret

AUDIT_LOG = "audit"


def custody_log(case_id: str) -> str:
    return f"custody/{case_id}"


@dataclass(frozen=True)
class Notary:
    """The locker's own signing key: checkpoints and bundle manifests."""

    key: Ed25519PrivateKey

    @property
    def public_key(self) -> bytes:
        return public_raw(self.key)

    @property
    def key_id(self) -> str:
        return fingerprint(self.public_key)


def load_notary(settings: Settings) -> Notary:
    path = settings.resolved_notary_key_file
    text = read_key_text(path, what="notary key")
    try:
        key = serialization.load_pem_private_key(text.encode(), password=None)
    except ValueError as error:
        raise KeyError_(f"The notary key {path} cannot be read ({error}).",
                        hint="restore it from your backup") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyError_(f"The notary key {path} is not an Ed25519 key.",
                        hint="restore it from your backup")
    return Notary(key)


def init_notary(settings: Settings) -> list[str]:
    """Create the notary key file (0600) where it is absent; never replaced."""
    path = settings.resolved_notary_key_file
    if path.exists():
        load_notary(settings)
        return []
    key = new_signing_key()
    write_secret(path, key.private_bytes(serialization.Encoding.PEM,
                                         serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption()).decode())
    return [f"notary key {path} ({fingerprint(public_raw(key))})"]


def record_checkpoint(conn: sa.Connection, notary: Notary, tsa: TimestampAuthority | None, *,
                      log: str, entry_hashes: Sequence[str],
                      clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> Checkpoint:
    """Sign (and time-stamp, when a TSA is given) a checkpoint of the log as it is; stored."""
    cp = make_checkpoint(notary.key, notary.key_id, log=log, entry_hashes=entry_hashes,
                         at=clock())
    gen_time = None
    if tsa is not None:
        stamp = tsa.stamp(bytes.fromhex(sha256_hex(cp.payload)))
        cp = Checkpoint(cp.payload, cp.signature, stamp.token)
        gen_time = stamp.info.gen_time
    if len(entry_hashes) > edb.latest_checkpoint_size(conn, log):
        edb.insert_checkpoint(conn, log=log, size=len(entry_hashes), payload=cp.payload,
                              signature=cp.signature, token=cp.token, gen_time=gen_time)
    return cp


def check_checkpoints(checkpoints: Sequence[Checkpoint], *, log: str,
                      entry_hashes: Sequence[str], signers: dict[str, bytes],
                      ca_pem: bytes | None, tsa_pem: bytes | None,
                      ) -> tuple[list[Problem], list[TrustedCheckpoint]]:
    """Each checkpoint against the log and its token; the trusted times of those that hold."""
    problems: list[Problem] = []
    trusted: list[TrustedCheckpoint] = []
    for cp in checkpoints:
        found = check_checkpoint(cp, log=log, entry_hashes=entry_hashes, signers=signers)
        problems += found
        if cp.token is None:
            continue
        if ca_pem is None or tsa_pem is None:
            problems.append(Problem("token.unchecked", f"checkpoint {cp.size}",
                                    "has a token but the TSA certificates are not configured"))
            continue
        try:
            info = verify_token(cp.token, bytes.fromhex(sha256_hex(cp.payload)),
                                root_pem=ca_pem, tsa_pem=tsa_pem)
        except TokenError as error:
            problems.append(Problem("token.invalid", f"checkpoint {cp.size}", str(error)))
            continue
        if not found:
            trusted.append(TrustedCheckpoint(cp.size, info.gen_time, info.accuracy))
    return problems, trusted


def stored_checkpoints(conn: sa.Connection, log: str) -> list[Checkpoint]:
    return [Checkpoint(bytes(r.payload), bytes(r.signature),
                       bytes(r.token) if r.token is not None else None)
            for r in edb.checkpoints_of(conn, log)]


def write_checkpoint_files(cp: Checkpoint, folder: Path) -> list[Path]:
    """``<log>-<size>.json`` (payload), ``.sig`` and ``.tsr``: what to keep off the server."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / f"{cp.log.replace('/', '-')}-{cp.size:08d}"
    out = [stem.with_suffix(".json"), stem.with_suffix(".sig")]
    out[0].write_bytes(cp.payload)
    out[1].write_bytes(cp.signature)
    if cp.token is not None:
        out.append(stem.with_suffix(".tsr"))
        out[2].write_bytes(cp.token)
    return out


def read_checkpoint_file(path: Path) -> Checkpoint:
    try:
        payload = path.read_bytes()
        signature = path.with_suffix(".sig").read_bytes()
    except OSError as error:
        raise ConfigurationError(f"The checkpoint file {error.filename} cannot be read.",
                                 hint="give the .json file written by `ctip audit checkpoint`; "
                                 "its .sig (and .tsr) must be beside it") from None
    token_path = path.with_suffix(".tsr")
    return Checkpoint(payload, signature, token_path.read_bytes() if token_path.exists() else None)


@dataclass
class AuditReport:
    chain: VerifyResult
    checkpoints: int = 0
    trusted_time: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.chain.ok and not self.problems


def verify_audit_anchors(conn: sa.Connection, audit: AuditLog, *, expect_head: str | None,
                         anchors: Sequence[Checkpoint], signers: dict[str, bytes],
                         ca_pem: bytes | None, tsa_pem: bytes | None) -> AuditReport:
    """The chain (and keyed tags), then every checkpoint (stored and given) against it."""
    report = AuditReport(audit.verify(conn, expect_head=expect_head))
    checkpoints = stored_checkpoints(conn, AUDIT_LOG) + list(anchors)
    if not checkpoints:
        return report
    hashes = audit.entry_hashes(conn)
    problems, trusted = check_checkpoints(checkpoints, log=AUDIT_LOG, entry_hashes=hashes,
                                          signers=signers, ca_pem=ca_pem, tsa_pem=tsa_pem)
    report.problems, report.checkpoints = problems, len(checkpoints)
    report.trusted_time = [f"entries 1..{t.size} existed at {t.gen_time.isoformat()}"
                           for t in sorted(trusted, key=lambda t: t.size)[-3:]]
    return report
