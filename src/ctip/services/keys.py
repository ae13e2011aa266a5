"""Key use cases: create the keys, rotate the sealing key.

Rotation, step by step (each step leaves the store readable, so a crash anywhere is safe and a
rerun finishes the job):
1. add a new key to the ring and make it active; write the ring atomically (old keys stay in it);
2. re-seal every sealed column in committed batches (``storage.rotation``), audited;
3. check nothing is left under an old key; only then drop the old keys from the ring.
A ring that already holds more than one key is an unfinished rotation: step 1 is skipped.

Run it while no import or web session is writing: a writer that loaded the old ring before step 1
would seal under the old key after step 2 passed it (step 3 then refuses to drop that key and a
rerun re-seals the stragglers).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field

import ctip.storage
from ctip.errors import KeyError_
from ctip.services.home import init_keys
from ctip.settings import Settings
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
    """Re-seal everything under a new key; resumable (see the module docstring)."""
    if settings.seal_key:
        raise KeyError_(
            "The sealing key ring comes from CTIP_SEAL_KEY, so ctip cannot write the new ring.",
            hint="rotate with a key file (unset CTIP_SEAL_KEY, set CTIP_KEY_FILE), then store "
            "the new ring in your secret store",
        )
    path = settings.resolved_key_file
    ring = load_ring(path)
    resumed = ring.rotating
    if not resumed:
        ring.add_active()
        save_ring(path, ring)
    _load_sealing_areas()
    report = RotationReport(new_key_id=ring.active, retired_key_ids=[], resumed=resumed)
    with CaseStore.open(settings, actor=actor) as store:
        with store.engine.begin() as conn:
            store.audit.append(conn, actor=actor, action="keys.rotate.start", subject="keys",
                               details={"new_key": ring.active, "old_keys": list(ring.retiring),
                                        "resumed": resumed})
        for label, col in sorted(SEALED.items()):
            report.resealed[label] = reseal_column(store.engine, store.sealer, col, actor=actor,
                                                   batch_size=batch_size, on_batch=on_batch,
                                                   audit=store.audit)
        left = {label: n for label, col in SEALED.items()
                if (n := remaining(store.engine, col, ring.active))}
        left |= unregistered_under(store.engine, metadata, set(ring.retiring))
        if left:
            raise KeyError_(
                f"Values are still sealed under an old key after re-sealing: {left}.",
                hint="if a column is not registered with storage.rotation.register_sealed, "
                "register it; otherwise something wrote during the rotation: run "
                "`ctip keys rotate` again (the old keys are kept until then)",
            )
        report.retired_key_ids = list(ring.retiring)
        ring.keys = {ring.active: ring.keys[ring.active]}
        save_ring(path, ring)
        with store.engine.begin() as conn:
            store.audit.append(conn, actor=actor, action="keys.rotate.finish", subject="keys",
                               details={"active_key": ring.active,
                                        "retired_keys": report.retired_key_ids,
                                        "resealed": report.resealed})
    return report
