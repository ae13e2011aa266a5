"""Key use cases: create the keys, rotate the sealing key.

Rotation, step by step (each step leaves the store readable, so a crash anywhere is safe and a
rerun finishes the job):
1. *switch*, under the exclusive key lock: add a new key to the ring file (old keys stay in
   it), record it in the database's key register as active and the old one as retiring;
2. re-seal every sealed column in committed batches (``storage.rotation``), audited;
3. *retire*, under the exclusive key lock again: re-seal whatever was written under an old key
   meanwhile, check that no column (registered or not) still holds a value under it, mark it
   retired; only then drop it from the ring file.

Writers need not stop: every sealing transaction reads the active key from the register under
the shared key lock (``storage.keystate``), so after step 1 they seal under the new key (a
process that loaded the ring earlier reloads it from the file), and anything they committed
under the old key before that is re-sealed by step 3, which no writer can overlap.
A register holding a retiring key is an unfinished rotation: step 1 is skipped.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import ctip.storage
from ctip.errors import KeyError_
from ctip.services.home import init_keys
from ctip.settings import Settings
from ctip.storage import keystate
from ctip.storage.keys import load_ring, save_ring
from ctip.storage.repository import CaseStore
from ctip.storage.rotation import SEALED, remaining, reseal_column, unregistered_under
from ctip.storage.tables import metadata

__all__ = ["RotationReport", "init_keys", "rotate_keys"]


@dataclass
class RotationReport:
    new_key_id: str
    retired_key_ids: list[str]
    resumed: bool
    resealed: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {"new_key_id": self.new_key_id, "retired_key_ids": self.retired_key_ids,
                "resumed": self.resumed, "resealed": self.resealed}


def _load_sealing_areas() -> None:
    """Import every storage module so each registers its sealed columns."""
    for module in pkgutil.iter_modules(ctip.storage.__path__):
        if module.name != "migrations":
            importlib.import_module(f"ctip.storage.{module.name}")


def rotate_keys(settings: Settings, *, actor: str = "system", batch_size: int = 2000,
                on_batch: Callable[[str, int], None] | None = None) -> RotationReport:
    """Re-seal everything under a new key while the store stays in use; resumable (see the
    module docstring)."""
    if settings.seal_key:
        raise KeyError_(
            "The sealing key ring comes from CTIP_SEAL_KEY, so ctip cannot write the new ring.",
            hint="rotate with a key file (unset CTIP_SEAL_KEY, set CTIP_KEY_FILE), then store "
            "the new ring in your secret store",
        )
    path = settings.resolved_key_file
    _load_sealing_areas()
    with CaseStore.open(settings, actor=actor) as store:
        new_key, resumed = _switch(store, path, actor)
        report = RotationReport(new_key_id=new_key, retired_key_ids=[], resumed=resumed)
        for label, col in sorted(SEALED.items()):
            report.resealed[label] = reseal_column(store.engine, store.sealer, col, actor=actor,
                                                   batch_size=batch_size, on_batch=on_batch)
        report.retired_key_ids = _retire(store, actor, report, batch_size)
    ring = load_ring(path)
    ring.keys = {k: v for k, v in ring.keys.items() if k not in report.retired_key_ids}
    ring.active = new_key
    save_ring(path, ring)
    return report


def _switch(store: CaseStore, path: Path, actor: str) -> tuple[str, bool]:
    """Step 1 (or, for an unfinished rotation, nothing): the new active key and whether this
    resumes a rotation."""
    with store.engine.begin() as conn:
        keystate.lock_exclusive(conn)
        known = keystate.seal_keys(conn)
        old = keystate.active_seal_key(conn)
        assert old is not None  # CaseStore.open registered the keys
        retiring = sorted(k for k, (state, _) in known.items() if state == keystate.RETIRING)
        resumed = bool(retiring)
        if resumed:
            new = old
        else:
            ring = load_ring(path)
            if ring.active not in known:  # a crash between writing the ring and recording it
                new = ring.active
            else:
                new = ring.add_active()
                save_ring(path, ring)  # the old keys stay in the file until step 3
            keystate.register_seal_key(conn, new, ring.keys[new], keystate.ACTIVE)
            keystate.set_state(conn, old, keystate.RETIRING)
            retiring = [old]
        store.audit.append(conn, actor=actor, action="keys.rotate.start", subject="keys",
                           details={"new_key": new, "old_keys": retiring, "resumed": resumed})
    store.sealer.refresh()
    return new, resumed


def _retire(store: CaseStore, actor: str, report: RotationReport, batch_size: int) -> list[str]:
    """Step 3, under the exclusive key lock: no sealing transaction runs meanwhile, so what it
    finds under an old key is all there is; it re-seals that, checks, and retires the keys."""
    with store.engine.begin() as conn:
        keystate.lock_exclusive(conn)
        active = keystate.active_seal_key(conn)
        assert active is not None
        old = sorted(k for k, (state, _) in keystate.seal_keys(conn).items()
                     if state == keystate.RETIRING)
        stragglers = 0
        for label, col in sorted(SEALED.items()):
            n = reseal_column(store.engine, store.sealer, col, actor=actor,
                              batch_size=batch_size, conn=conn)
            report.resealed[label] = report.resealed.get(label, 0) + n
            stragglers += n
        left = {label: n for label, col in SEALED.items() if (n := remaining(conn, col, active))}
        left |= unregistered_under(conn, metadata, set(old))
        if left:
            raise KeyError_(
                f"Values are still sealed under an old key after re-sealing: {left}.",
                hint="register the column with storage.rotation.register_sealed, then run "
                "`ctip keys rotate` again (the old keys are kept until then)",
            )
        for key_id in old:
            keystate.set_state(conn, key_id, keystate.RETIRED)
        store.audit.append(conn, actor=actor, action="keys.rotate.finish", subject="keys",
                           details={"active_key": active, "retired_keys": old,
                                    "resealed": report.resealed,
                                    "written_meanwhile": stragglers})
    return old
