"""The export bundle: what it holds, its manifest, and how it is verified.

A bundle is a folder a court expert can check with ``sha256sum`` and ``openssl`` alone
(docs/methods/evidence.md gives the commands), and that ``ctip evidence verify`` checks fully::

    manifest.json  manifest.sig   RFC 8785 manifest, signed by the locker key (Ed25519)
    SHA256SUMS                    every other file, in ``sha256sum -c`` format
    items/<sha256>                the evidentiary copies, byte for byte
    tokens/<sha256>.tsr           RFC 3161 token over each item's SHA-256 (at ingest)
    custody/NNNNNN.json .sig      the case's custody events (the whole chain) and signatures
    checkpoints/NNNNNN.json .sig .tsr   signed, time-stamped checkpoints of that chain
    keys/<key_id>.pem             public keys of the locker and of every signer
    tsa/ca.pem  tsa/tsa.pem       the TSA's root and signing certificates
    notes/<sha256>.txt            free-text notes the events refer to by hash

``verify_bundle`` reads through a ``BundleFiles`` (a folder, or anything else that can list,
read and hash files), so it has no file I/O of its own.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from ctip.evidence.canonical import canonical_json, sha256_hex
from ctip.evidence.checkpoint import Checkpoint, check_checkpoint
from ctip.evidence.custody import (
    KeyInfo,
    Problem,
    SignedEvent,
    TrustedCheckpoint,
    parse_time,
    verify_chain,
)
from ctip.evidence.signing import fingerprint, public_from_pem, verify_signature
from ctip.evidence.timestamp import TokenError, TokenInfo, verify_token

FORMAT = "ctip-evidence-bundle-1"
SUMS = "SHA256SUMS"


class BundleFiles(Protocol):
    def names(self) -> list[str]: ...
    def read(self, name: str) -> bytes: ...
    def sha256(self, name: str) -> str: ...


@dataclass
class BundleReport:
    case: str | None = None
    items: int = 0
    events: int = 0
    checkpoints: int = 0
    signers: list[str] = field(default_factory=list)
    locker_key: str | None = None
    trusted_time: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "case": self.case, "items": self.items, "events": self.events,
                "checkpoints": self.checkpoints, "locker_key": self.locker_key,
                "signers": self.signers, "trusted_time": self.trusted_time,
                "checks": self.checks,
                "problems": [{"code": p.code, "where": p.where, "message": p.message}
                             for p in self.problems]}


def sums_text(entries: Iterable[tuple[str, str]]) -> bytes:
    """``sha256sum`` output for (name, hex digest) pairs (two spaces: text mode, as coreutils)."""
    return "".join(f"{digest}  {name}\n" for name, digest in sorted(entries)).encode()


def parse_sums(text: bytes) -> dict[str, str]:
    out = {}
    for line in text.decode("utf-8", "replace").splitlines():
        digest, _, name = line.partition("  ")
        if name:
            out[name.lstrip("*")] = digest
    return out


def _check_sums(files: BundleFiles, report: BundleReport) -> None:
    names = set(files.names())
    if SUMS not in names:
        report.problems.append(Problem("bundle.sums", SUMS, "is missing"))
        return
    listed = parse_sums(files.read(SUMS))
    for name, digest in sorted(listed.items()):
        if name not in names:
            report.problems.append(Problem("bundle.missing", name, "is listed but missing"))
        elif files.sha256(name) != digest:
            report.problems.append(Problem("bundle.file", name,
                                           "its SHA-256 differs from SHA256SUMS (changed)"))
    for name in sorted(names - set(listed) - {SUMS}):
        report.problems.append(Problem("bundle.extra", name, "is not listed in SHA256SUMS"))
    report.checks.append(f"SHA256SUMS: {len(listed)} files")


def _token(files: BundleFiles, name: str | None, digest: bytes, where: str, ca: bytes,
           tsa: bytes, report: BundleReport) -> TokenInfo | None:
    if not name:
        report.problems.append(Problem("token.missing", where, "has no time-stamp token"))
        return None
    try:
        info = verify_token(files.read(name), digest, root_pem=ca, tsa_pem=tsa)
    except (TokenError, OSError, KeyError) as error:
        report.problems.append(Problem("token.invalid", where, str(error)))
        return None
    return info


def verify_bundle(files: BundleFiles, *, trusted_locker: str | None = None,
                  trusted_ca: bytes | None = None) -> BundleReport:
    """Check every hash, link, signature and token of a bundle (see the module docstring).

    ``trusted_locker`` (a key fingerprint) and ``trusted_ca`` (PEM) come from outside the
    bundle; without them the bundle's own locker key and TSA root are used, and the report
    says which fingerprint to compare with the sender's."""
    report = BundleReport()
    _check_sums(files, report)
    try:
        manifest_bytes = files.read("manifest.json")
        manifest = json.loads(manifest_bytes)
        keys_meta = {k["key_id"]: k for k in manifest["keys"]}
        locker_id = manifest["locker_key"]
        locker_pub = public_from_pem(files.read(keys_meta[locker_id]["file"]))
    except (OSError, ValueError, KeyError, TypeError) as error:
        report.problems.append(Problem("manifest.malformed", "manifest.json",
                                       f"cannot be read ({error})"))
        return report
    report.case = manifest.get("case")
    report.locker_key = fingerprint(locker_pub)
    if trusted_locker is not None and trusted_locker != report.locker_key:
        report.problems.append(Problem("manifest.signer", "manifest.json",
                                       f"is signed by locker key {report.locker_key}, not the "
                                       f"trusted {trusted_locker}"))
    if canonical_json(manifest) != manifest_bytes or manifest.get("format") != FORMAT:
        report.problems.append(Problem("manifest.edited", "manifest.json", "is not canonical"))
    if not verify_signature(locker_pub, manifest_bytes, files.read("manifest.sig")):
        report.problems.append(Problem("manifest.signature", "manifest.json",
                                       "its signature by the locker key does not verify"))
    ca = trusted_ca or files.read(manifest["tsa"]["ca"])
    tsa = files.read(manifest["tsa"]["cert"])
    keys: dict[str, KeyInfo] = {}
    for key_id, meta in keys_meta.items():
        pub = public_from_pem(files.read(meta["file"]))
        revoked = parse_time(meta["revoked_at"]) if meta.get("revoked_at") else None
        keys[key_id] = KeyInfo(key_id, meta["owner"], pub, revoked)
    report.signers = sorted(f"{k.owner} ({k.key_id})" for k in keys.values())
    events = [SignedEvent(files.read(e["file"]), files.read(e["sig"]))
              for e in manifest["events"]]
    hashes = [e.event_hash for e in events]
    log = f"custody/{manifest['case']}"
    trusted: list[TrustedCheckpoint] = []
    for meta in manifest["checkpoints"]:
        cp = Checkpoint(files.read(meta["file"]), files.read(meta["sig"]))
        report.problems += check_checkpoint(cp, log=log, entry_hashes=hashes,
                                            signers={locker_id: locker_pub})
        gen = _token(files, meta.get("token"), bytes.fromhex(sha256_hex(cp.payload)),
                     f"checkpoint {cp.size}", ca, tsa, report)
        if gen is not None:
            trusted.append(TrustedCheckpoint(cp.size, gen.gen_time, gen.accuracy))
            report.trusted_time.append(f"checkpoint {cp.size}: {gen.gen_time.isoformat()}")
    if not trusted:
        report.problems.append(Problem("checkpoint.missing", "custody log",
                                       "no verified, time-stamped checkpoint covers it"))
    elif max(c.size for c in trusted) < len(events):
        report.problems.append(Problem("checkpoint.partial", "custody log",
                                       f"events after {max(c.size for c in trusted)} are not "
                                       "covered by a time-stamped checkpoint"))
    report.problems += verify_chain(manifest["case"], events, keys, trusted)
    ingested = {e.fields().get("item") for e in events if e.fields().get("action") == "ingest"}
    for item in manifest["items"]:
        where = f"item {item['sha256'][:16]}"
        if files.sha256(item["file"]) != item["sha256"]:
            report.problems.append(Problem("item.hash", where,
                                           "its bytes do not match the recorded SHA-256"))
        if item["sha256"] not in ingested:
            report.problems.append(Problem("item.custody", where,
                                           "has no ingest event in the custody log"))
        gen = _token(files, item.get("token"), bytes.fromhex(item["sha256"]), where, ca, tsa,
                     report)
        if gen is not None:
            report.trusted_time.append(f"{where}: {gen.gen_time.isoformat()}")
    report.items, report.events, report.checkpoints = (len(manifest["items"]), len(events),
                                                       len(trusted))
    report.checks += [f"manifest signed by locker key {report.locker_key}",
                      f"{len(events)} custody events: chain, signatures, times",
                      f"{len(trusted)} checkpoints: signature, Merkle root, RFC 3161 token",
                      f"{len(manifest['items'])} items: SHA-256 and RFC 3161 token"]
    return report
