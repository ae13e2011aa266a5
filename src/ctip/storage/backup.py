"""SQLite backups with SQLite's own online backup API, and what a backup's manifest records.

A plain copy of an open SQLite database misses whatever still sits in its write-ahead log (the
red-team copy lost 25 of 75 cases). ``sqlite3.Connection.backup`` copies the committed state
page by page from a read transaction: writers go on meanwhile (WAL readers do not block them),
and the copy holds every transaction committed before it started, none after. The copy is then
switched to a rollback journal, so a backup is one self-contained file, created 0600 before a
byte is written.

Keys are not in a database, so not in its backup: the manifest records only the keys' check
values (``storage.keystate``), which lets ``restore`` refuse keys that do not belong to it.
"""

from __future__ import annotations

import hashlib
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

from ctip.storage.engine import create_sqlite_file


def copy_database(source: Path, target: Path, *, journal: str = "DELETE") -> None:
    """Copy the committed state of ``source`` into a new file ``target`` (0600)."""
    create_sqlite_file(target)
    with closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as src, \
            closing(sqlite3.connect(target)) as dst:
        src.execute("PRAGMA busy_timeout=30000")
        src.backup(dst)
        dst.execute(f"PRAGMA journal_mode={journal}")


def integrity(path: Path) -> str:
    """SQLite's own check of every page and index: "ok", or what is wrong."""
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        rows = db.execute("PRAGMA integrity_check").fetchall()
    return "; ".join(str(r[0]) for r in rows[:5])


def facts(path: Path) -> dict[str, Any]:
    """What the manifest records of a database file: audit head, keys' check values, counts."""
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        head = db.execute("SELECT seq, entry_hash FROM audit_log ORDER BY seq DESC LIMIT 1"
                          ).fetchone() if "audit_log" in tables else None
        keys = [dict(zip(("key_id", "kind", "check_value", "state"), r, strict=True))
                for r in db.execute("SELECT key_id, kind, check_value, state FROM key_register")
                ] if "key_register" in tables else []
        counts = {t: db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]  # noqa: S608
                  for t in ("victims", "import_rejects", "cases", "users", "audit_log")
                  if t in tables}
        revisions = sorted(r[0] for r in db.execute("SELECT version_num FROM alembic_version")
                           ) if "alembic_version" in tables else []
    return {"audit_head": f"{head[0]}:{head[1]}" if head else None, "keys": keys,
            "counts": counts, "revisions": revisions}


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
