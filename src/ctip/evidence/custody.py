"""Custody events: what happened to which item, by whom, when and why, in a signed hash chain.

An event is a JSON object serialised by RFC 8785; its hash is SHA-256 over those exact bytes and
it names the previous event's hash (``prev``), so editing, deleting, inserting or reordering an
event breaks the chain at that point. Each event is signed (Ed25519) by the acting user's key.
Events hold hashes, codes and ids, never identity: a free-text note is kept sealed elsewhere and
the event carries its SHA-256 (``note``).

``verify_chain`` checks one case's log from its first event, against the signing keys and the
checkpoints already verified (``checkpoint.verify_checkpoints``), whose trusted times decide
two things an event's own clock cannot: whether a key was still valid (an event signed by a key
revoked at R is valid only if a checkpoint time-stamped before R covers it), and whether the
event's time is credible (not before the trusted time of a checkpoint that precedes it, not
after that of the first checkpoint that covers it, never before the event before it).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ctip.evidence.canonical import canonical_json, is_canonical, sha256_hex
from ctip.evidence.signing import verify_signature

GENESIS = "0" * 64
FORMAT = 1
ACTIONS = frozenset({
    "acquire", "ingest", "view", "export", "copy", "transfer", "redact-copy", "annotate",
    "seal", "unseal", "legal-hold", "hold-release", "dispose", "verify",
})
PURPOSES = frozenset({
    "investigation", "prosecution", "disclosure", "court-order", "identification",
    "quality-check", "retention", "victim-request", "other",
})
# TSA and server clocks differ a little: times within this are not called backdated
CLOCK_TOLERANCE = timedelta(minutes=5)


@dataclass(frozen=True)
class Problem:
    """One thing that does not hold, named so a person can find it."""

    code: str  # e.g. "event.edited", "item.hash", "token.imprint"
    where: str  # e.g. "event 7", "item 3fa2...", "checkpoint 12"
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass(frozen=True)
class SignedEvent:
    body: bytes  # the RFC 8785 bytes, exactly as signed and hashed
    signature: bytes

    @property
    def event_hash(self) -> str:
        return sha256_hex(self.body)

    def fields(self) -> dict[str, object]:
        value = json.loads(self.body)
        if not isinstance(value, dict):
            raise ValueError("an event is a JSON object")
        return value


@dataclass(frozen=True)
class KeyInfo:
    key_id: str
    owner: str  # user id or "locker"
    public_key: bytes  # raw 32 bytes
    revoked_at: datetime | None = None


@dataclass(frozen=True)
class TrustedCheckpoint:
    """A checkpoint whose signature and token held: it covers events 1..size at gen_time."""

    size: int
    gen_time: datetime
    accuracy: timedelta = timedelta(seconds=1)

    @property
    def latest(self) -> datetime:
        """The latest time the TSA's statement allows."""
        return self.gen_time + self.accuracy


def event_body(*, case: str, seq: int, prev: str, at: datetime, action: str, item: str | None,
               actor: str, role: str, purpose: str, note: str | None, key: str,
               details: Mapping[str, object] | None = None) -> bytes:
    """The canonical bytes of a new event (validated: known action and purpose, UTC time)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown custody action {action!r}")
    if purpose not in PURPOSES:
        raise ValueError(f"unknown purpose {purpose!r}")
    if at.utcoffset() != timedelta(0):
        raise ValueError("event times are UTC")
    return canonical_json({
        "v": FORMAT, "case": case, "seq": seq, "prev": prev, "at": iso(at), "action": action,
        "item": item, "actor": actor, "role": role, "purpose": purpose, "note": note,
        "key": key, "details": dict(details or {}),
    })


def as_utc(at: datetime) -> datetime:
    """A time read back from a database that drops the zone (SQLite) is UTC."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def iso(at: datetime) -> str:
    return as_utc(at).isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _covering(checkpoints: Sequence[TrustedCheckpoint], seq: int) -> TrustedCheckpoint | None:
    found = [c for c in checkpoints if c.size >= seq]
    return min(found, key=lambda c: c.gen_time) if found else None


def _preceding(checkpoints: Sequence[TrustedCheckpoint], seq: int) -> TrustedCheckpoint | None:
    found = [c for c in checkpoints if c.size < seq]
    return max(found, key=lambda c: c.gen_time) if found else None


def verify_chain(case: str, events: Sequence[SignedEvent], keys: Mapping[str, KeyInfo],
                 checkpoints: Sequence[TrustedCheckpoint] = ()) -> list[Problem]:
    """Every problem of one case's custody log (empty when it holds)."""
    problems: list[Problem] = []
    prev, last_at = GENESIS, None
    for position, event in enumerate(events, start=1):
        where = f"event {position}"
        try:
            f = event.fields()
            canonical = is_canonical(f, event.body)
        except (ValueError, TypeError):
            problems.append(Problem("event.malformed", where, "is not a JSON object"))
            prev = event.event_hash
            continue
        if not canonical:
            problems.append(Problem("event.edited", where, "is not in canonical form "
                                    "(its bytes were changed after it was written)"))
        if f.get("seq") != position:
            problems.append(Problem("event.sequence", where,
                                    f"carries sequence number {f.get('seq')!r}: an event "
                                    "before it was deleted or inserted, or events were "
                                    "reordered"))
        if f.get("prev") != prev:
            problems.append(Problem("event.link", where, "does not link to the event before "
                                    "it (an event was edited, deleted, inserted or reordered)"))
        if f.get("case") != case:
            problems.append(Problem("event.case", where, f"belongs to case {f.get('case')!r}"))
        if f.get("action") not in ACTIONS:
            problems.append(Problem("event.action", where, f"unknown action {f.get('action')!r}"))
        key = keys.get(str(f.get("key")))
        if key is None:
            problems.append(Problem("signature.key", where,
                                    f"is signed by an unknown key {f.get('key')!r}"))
        elif not verify_signature(key.public_key, event.body, event.signature):
            problems.append(Problem("signature.invalid", where,
                                    f"its signature by key {key.key_id} does not verify "
                                    "(the event was changed or signed by someone else)"))
        try:
            at = parse_time(str(f.get("at")))
        except ValueError:
            problems.append(Problem("event.time", where, f"has no valid time {f.get('at')!r}"))
            prev = event.event_hash
            continue
        covering = _covering(checkpoints, position)
        if key is not None and key.revoked_at is not None and (
                covering is None or covering.latest >= key.revoked_at):
            problems.append(Problem(
                "signature.revoked", where,
                f"is signed by key {key.key_id}, revoked at {iso(key.revoked_at)}, and no "
                "time-stamped checkpoint proves it was signed before then"))
        if last_at is not None and at < last_at:
            problems.append(Problem("event.backdated", where,
                                    f"claims {iso(at)}, earlier than the event before it "
                                    f"({iso(last_at)})"))
        before = _preceding(checkpoints, position)
        if before is not None and at < before.gen_time - CLOCK_TOLERANCE:
            problems.append(Problem("event.backdated", where,
                                    f"claims {iso(at)}, but it comes after a checkpoint "
                                    f"time-stamped at {iso(before.gen_time)}"))
        if covering is not None and at > covering.gen_time + CLOCK_TOLERANCE:
            problems.append(Problem("event.future", where,
                                    f"claims {iso(at)}, after the trusted time "
                                    f"{iso(covering.gen_time)} of the checkpoint covering it"))
        prev, last_at = event.event_hash, max(at, last_at) if last_at else at
    return problems
