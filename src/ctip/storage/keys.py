"""Key files: the sealing key ring and the pseudonym key, read and written with 0600 permissions.

The sealing key ring is JSON ``{"format", "active", "keys": {key_id: base64}}``. More than one
key in the ring means a rotation has started and not finished (``ctip keys rotate`` resumes it).
The pseudonym key is one base64 line. Either may instead come from the environment
(``CTIP_SEAL_KEY``: base64 of the ring JSON, or of a bare 32-byte key; ``CTIP_PSEUDONYM_KEY``).

Files are written atomically (temporary file, fsync, rename) so an interruption never leaves a
half-written key ring: either the old ring or the new one is on disk.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import secrets
import stat
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ctip.errors import KeyError_

RING_FORMAT = "ctip-keyring-1"
KEY_BYTES = 32  # AES-256-GCM and HMAC-SHA256 keys


def new_key_id() -> str:
    return f"k{datetime.now(UTC):%Y%m%d}-{secrets.token_hex(4)}"


@dataclass
class KeyRing:
    """Sealing keys by id; ``active`` seals new values, the others only open old ones."""

    active: str
    keys: dict[str, bytes] = field(default_factory=dict)

    @classmethod
    def generate(cls) -> KeyRing:
        key_id = new_key_id()
        return cls(active=key_id, keys={key_id: secrets.token_bytes(KEY_BYTES)})

    @property
    def rotating(self) -> bool:
        """An unfinished rotation: old keys are kept until nothing is sealed under them."""
        return len(self.keys) > 1

    @property
    def retiring(self) -> tuple[str, ...]:
        return tuple(k for k in self.keys if k != self.active)

    def key(self, key_id: str) -> bytes:
        try:
            return self.keys[key_id]
        except KeyError:
            raise KeyError_(
                f"Sealed data uses key {key_id!r}, which is not in the key ring.",
                hint="restore the key file that was in use when this data was written",
            ) from None

    def add_active(self) -> str:
        key_id = new_key_id()
        while key_id in self.keys:
            key_id = new_key_id()
        self.keys[key_id] = secrets.token_bytes(KEY_BYTES)
        self.active = key_id
        return key_id

    def to_json(self) -> str:
        return json.dumps({
            "format": RING_FORMAT,
            "active": self.active,
            "keys": {k: base64.b64encode(v).decode("ascii") for k, v in self.keys.items()},
        }, indent=1)

    @classmethod
    def from_json(cls, text: str, *, where: str) -> KeyRing:
        try:
            data = json.loads(text)
            if data.get("format") != RING_FORMAT:
                raise ValueError(f"format is {data.get('format')!r}, expected {RING_FORMAT!r}")
            keys = {str(k): base64.b64decode(v, validate=True) for k, v in data["keys"].items()}
            active = str(data["active"])
            if active not in keys or any(len(v) != KEY_BYTES for v in keys.values()):
                raise ValueError("active key missing or a key is not 32 bytes")
        except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as error:
            raise KeyError_(
                f"The sealing key ring in {where} is malformed ({error}).",
                hint="restore the key file from your backup; never edit it by hand",
            ) from error
        return cls(active=active, keys=keys)

    @classmethod
    def from_env(cls, value: str) -> KeyRing:
        """CTIP_SEAL_KEY: base64 of the ring JSON, or base64 of one bare 32-byte key."""
        try:
            raw = base64.b64decode(value.strip(), validate=True)
        except (ValueError, binascii.Error) as error:
            raise KeyError_(
                "CTIP_SEAL_KEY is not valid base64.",
                hint="set it to the base64 of a 32-byte key or of a key ring",
            ) from error
        if len(raw) == KEY_BYTES:
            key_id = "env-" + hashlib.sha256(b"ctip key id" + raw).hexdigest()[:8]
            return cls(active=key_id, keys={key_id: raw})
        return cls.from_json(raw.decode("utf-8", "replace"), where="CTIP_SEAL_KEY")


def check_permissions(path: Path) -> None:
    """Refuse a key file others can read or write: the key is the only lock on identity."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise KeyError_(
            f"The key file {path} has permissions {mode:04o}; other users could read it.",
            hint=f"run `chmod 600 {path}` (and check who may have copied it)",
        )


def read_key_text(path: Path, *, what: str) -> str:
    if not path.exists():
        raise KeyError_(f"The {what} file {path} does not exist.",
                        hint="run `ctip init` (or `ctip keys init`) to create the keys")
    check_permissions(path)
    try:
        return path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise KeyError_(f"The {what} file {path} cannot be read: {error}.",
                        hint="check the file and its owner") from error


def write_secret(path: Path, text: str) -> None:
    """Write atomically with 0600: temp file in the same folder, fsync, rename over the old."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def load_ring(path: Path) -> KeyRing:
    return KeyRing.from_json(read_key_text(path, what="sealing key"), where=str(path))


def save_ring(path: Path, ring: KeyRing) -> None:
    write_secret(path, ring.to_json())


def load_pseudonym_key(path: Path) -> bytes:
    return decode_pseudonym_key(read_key_text(path, what="pseudonym key"), where=str(path))


def decode_pseudonym_key(text: str, *, where: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (ValueError, binascii.Error) as error:
        raise KeyError_(f"The pseudonym key in {where} is not valid base64.",
                        hint="restore it from your backup") from error
    if len(key) < KEY_BYTES:
        raise KeyError_(f"The pseudonym key in {where} is shorter than {KEY_BYTES} bytes.",
                        hint="restore it from your backup")
    return key


def new_pseudonym_key_text() -> str:
    return base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii") + "\n"
