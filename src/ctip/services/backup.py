"""Back up and restore the case store, with the keys kept apart.

``backup``: SQLite's online backup API copies the committed state while ctip keeps running
(``storage.backup``); beside the copy goes a manifest (``<name>.json``: its SHA-256, the audit
chain's head, the keys' check values, counts). The keys are never in the database backup: with
``keys_to`` they are copied to a *different* folder, to be stored under other protection (a
database backup without its keys is unreadable, which is the point; keys without a backup are
harmless). For PostgreSQL the server's own tools are the right ones: ``backup`` says exactly
which (``pg_dump`` / ``pg_restore``) instead of writing a half measure.

``restore``: checks the backup (SQLite's integrity check, the manifest's SHA-256), checks that
the keys in place are the ones it was sealed with (check values) before anything is replaced,
keeps the database it replaces aside, copies the backup in, migrates it to the current schema
and verifies the audit chain.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ctip.errors import ConfigurationError, InputFileError, KeyError_
from ctip.settings import Settings
from ctip.storage import backup as sqlite_backup
from ctip.storage.engine import make_engine, migrate, sqlite_path
from ctip.storage.keys import write_secret
from ctip.storage.keystate import PSEUDONYM, check_value
from ctip.storage.sealing import load_keys

__all__ = ["BackupReport", "RestoreReport", "backup", "restore"]


@dataclass
class BackupReport:
    path: str
    manifest: str
    bytes: int
    sha256: str
    audit_head: str | None
    counts: dict[str, int]
    seconds: float
    keys_copied_to: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RestoreReport:
    database: str
    restored_from: str
    audit_head: str | None
    audit_entries: int
    counts: dict[str, int]
    kept_aside: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _postgres_guidance(settings: Settings, what: str) -> ConfigurationError:
    from sqlalchemy import make_url

    url = make_url(settings.resolved_database_url)
    target = url.set(drivername="postgresql").render_as_string(hide_password=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return ConfigurationError(
        "ctip {what} handles SQLite files; this store is PostgreSQL ({target}).",
        hint="back up with `pg_dump --format=custom --file=ctip-{stamp}.dump '{target}'` and "
        "restore with `pg_restore --clean --if-exists --dbname='{target}' ctip-{stamp}.dump` "
        "(the dump holds only sealed identity: it is unreadable without the keys); back up the "
        "key files (or the secret store's CTIP_SEAL_KEY / CTIP_PSEUDONYM_KEY) separately, "
        "under other protection",
        params={"what": what, "target": target, "stamp": stamp},
    )


def _database_file(settings: Settings, what: str) -> Path:
    from sqlalchemy import make_url

    path = sqlite_path(settings.resolved_database_url)
    if path is None:
        if make_url(settings.resolved_database_url).get_backend_name() == "postgresql":
            raise _postgres_guidance(settings, what)
        raise ConfigurationError("An in-memory database cannot be backed up or restored.",
                                 hint="set CTIP_DATABASE_URL to a file")
    return path


def _inside(path: Path, folder: Path) -> bool:
    path, folder = path.resolve(), folder.resolve()
    return path == folder or folder in path.parents


def backup(settings: Settings, out_dir: str | Path, *,
           keys_to: str | Path | None = None) -> BackupReport:
    """Copy the database (consistent, while in use) into ``out_dir``; keys only to ``keys_to``,
    which must be another folder."""
    started = time.perf_counter()
    source = _database_file(settings, "backup")
    if not source.exists():
        raise ConfigurationError("There is no database at {source} to back up.",
                                 hint="run `ctip init`, or check CTIP_HOME / CTIP_DATABASE_URL",
                                 params={"source": source})
    out = Path(out_dir)
    if keys_to is not None and (_inside(Path(keys_to), out) or _inside(out, Path(keys_to))):
        raise ConfigurationError(
            "The keys must not go where the database backup goes.",
            hint="give --keys-to a folder on other storage, under other protection",
        )
    out.mkdir(parents=True, exist_ok=True, mode=0o700)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f")
    target = out / f"ctip-{stamp}.db"
    sqlite_backup.copy_database(source, target)
    check = sqlite_backup.integrity(target)
    if check != "ok":
        target.unlink()
        raise ConfigurationError("The copy failed SQLite's integrity check ({check}).",
                                 hint="check the disk and run `ctip backup` again",
                                 params={"check": check})
    facts = sqlite_backup.facts(target)
    digest = sqlite_backup.sha256(target)
    manifest = target.with_suffix(".json")
    write_secret(manifest, json.dumps({
        "format": "ctip-backup-1", "created_at": datetime.now(UTC).isoformat(),
        "file": target.name, "sha256": digest, **facts}, indent=1))
    report = BackupReport(str(target), str(manifest), target.stat().st_size, digest,
                          facts["audit_head"], facts["counts"],
                          round(time.perf_counter() - started, 3))
    if keys_to is not None:
        report.keys_copied_to = str(_copy_keys(settings, Path(keys_to), stamp))
    return report


def _copy_keys(settings: Settings, folder: Path, stamp: str) -> Path:
    if settings.seal_key or settings.pseudonym_key:
        raise KeyError_("The keys come from the environment (CTIP_SEAL_KEY / "
                        "CTIP_PSEUDONYM_KEY), so they are backed up with your secret store.",
                        hint="leave out --keys-to")
    load_keys(settings)  # refuses loose permissions before copying
    target = folder / f"ctip-keys-{stamp}"
    target.mkdir(parents=True, mode=0o700)
    for path in (settings.resolved_key_file, settings.resolved_pseudonym_key_file):
        write_secret(target / path.name, path.read_text("utf-8"))
    return target


def _check_keys(settings: Settings, keys: list[dict[str, str]]) -> None:
    """The keys in place must be the ones the backup was sealed with (check values)."""
    ring, pseudonym_key = load_keys(settings)
    wanted = {k["key_id"]: k for k in keys}
    pseudonym = wanted.get(PSEUDONYM)
    if pseudonym and pseudonym["check_value"] != check_value(pseudonym_key, PSEUDONYM):
        raise KeyError_("The pseudonym key in place is not the one this backup was made with.",
                        hint="put back the key files kept with this backup, then restore")
    live = {k: v for k, v in wanted.items() if v["kind"] == "seal" and v["state"] != "retired"}
    for key_id, row in live.items():
        key = ring.keys.get(key_id)
        if key is None or check_value(key, "seal") != row["check_value"]:
            raise KeyError_(
                f"The sealing key ring in place lacks the backup's key {key_id!r} (or holds "
                "another key under that id).",
                hint="put back the key files kept with this backup, then restore",
            )


def restore(settings: Settings, backup_file: str | Path, *, replace: bool = False
            ) -> RestoreReport:
    """Put a backup in place of the configured database (kept aside, with ``replace``)."""
    from ctip.storage.repository import CaseStore

    source = Path(backup_file)
    target = _database_file(settings, "restore")
    if not source.is_file():
        raise InputFileError("There is no backup file {source}.", hint="check the path",
                             params={"source": source})
    manifest_path = source.with_suffix(".json")
    manifest = json.loads(manifest_path.read_text("utf-8")) if manifest_path.exists() else None
    if manifest is not None and manifest.get("sha256") != sqlite_backup.sha256(source):
        raise InputFileError("The backup {name} does not match its manifest's SHA-256.",
                             hint="the file is damaged or was changed; use another backup",
                             params={"name": source.name})
    try:
        check = sqlite_backup.integrity(source)
    except Exception as error:  # noqa: BLE001 - sqlite3 raises DatabaseError for a non-database
        raise InputFileError("{name} is not a ctip database backup ({error}).",
                             hint="give the .db file `ctip backup` wrote",
                             params={"name": source.name, "error": error}) from None
    if check != "ok":
        raise InputFileError("The backup {name} fails SQLite's integrity check ({check}).",
                             hint="use another backup",
                             params={"name": source.name, "check": check})
    _check_keys(settings, sqlite_backup.facts(source)["keys"])
    kept: list[str] = []
    if target.exists():
        if not replace:
            raise ConfigurationError(
                "A database already exists at {target}.",
                hint="add --replace to put it aside (it is kept, renamed) and restore",
                params={"target": target},
            )
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        for suffix in ("", "-wal", "-shm"):
            old = Path(f"{target}{suffix}")
            if old.exists():
                aside = Path(f"{target}.before-restore-{stamp}{suffix}")
                os.replace(old, aside)
                kept.append(str(aside))
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    sqlite_backup.copy_database(source, target, journal="WAL")
    engine = make_engine(settings.resolved_database_url)
    try:
        migrate(engine)
    finally:
        engine.dispose()
    with CaseStore.open(settings, actor="restore") as store, store.engine.connect() as conn:
        verified = store.audit.verify(conn)
    if not verified.ok:
        raise ConfigurationError("The restored audit chain does not verify: {problem}.",
                                 hint="the backup was altered; restore another one",
                                 params={"problem": verified.problem})
    facts = sqlite_backup.facts(target)
    return RestoreReport(str(target), str(source), facts["audit_head"], verified.entries,
                         facts["counts"], kept)
