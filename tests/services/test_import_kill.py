"""An import killed with -9 (issue 20, item 9): its worker processes, which hold the sealing key
in memory, die with it, and the batch it left unfinished is marked and reported by the next
import (once), with the rows it had stored kept."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import sqlalchemy as sa

from ctip.services.home import init_home
from ctip.settings import Settings
from ctip.storage.tables import audit_log, import_batches, victims

HEADER = ("source_record_id,agency,identification_date,identification_status,sex,"
          "age_at_identification,citizenships,country_of_detection,exploitation_forms,"
          "given_name,family_name,narrative")


def _csv(path: Path, rows: int, prefix: str = "K") -> Path:
    lines = [HEADER] + [f"{prefix}{i},ngo-k,2023-04-01,identified,female,{18 + i % 60},NGA,ITA,"
                        f"forced_labour,Given{i},Family{i},a note about {i}" for i in range(rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CTIP_")}
    return {**env, "CTIP_HOME": str(home), "CTIP_IMPORT_WORKERS": "2",
            "CTIP_BATCH_SIZE": "2000"}


def _alive(pids: list[int]) -> list[int]:
    out = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                out.append(pid)
        except psutil.NoSuchProcess:
            pass
    return out


def test_killed_import_takes_its_workers_along_and_is_reported(tmp_path: Path,
                                                               ctip_home: Path) -> None:
    home = tmp_path / "home"
    settings = Settings(home=home)
    init_home(settings)
    big = _csv(tmp_path / "big.csv", 120_000)
    importer = subprocess.Popen([sys.executable, "-m", "ctip", "import", str(big), "--json"],
                                env=_env(home), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
    engine = sa.create_engine(settings.resolved_database_url)
    descendants: list[int] = []
    stored = 0
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and importer.poll() is None:
        descendants = [c.pid for c in psutil.Process(importer.pid).children(recursive=True)]
        with engine.connect() as conn:
            stored = conn.execute(sa.select(sa.func.count()).select_from(victims)).scalar_one()
        if len(descendants) >= 3 and stored >= 4000:  # fork server + 2 workers, batches stored
            break
        time.sleep(0.1)
    assert importer.poll() is None, "the import finished before it could be killed"
    importer.kill()
    importer.wait()
    gone_by = time.monotonic() + 10
    while _alive(descendants) and time.monotonic() < gone_by:
        time.sleep(0.2)
    assert _alive(descendants) == []  # no process holding the key outlives the import

    small = _csv(tmp_path / "small.csv", 3, prefix="S")
    later = subprocess.run([sys.executable, "-m", "ctip", "import", str(small), "--json"],
                           env=_env(home), capture_output=True, text=True, check=True)
    warnings = " ".join(json.loads(later.stdout)["warnings"])
    assert "earlier import of big.csv" in warnings and "interrupted" in warnings
    with engine.connect() as conn:
        kept = conn.execute(sa.select(sa.func.count()).select_from(victims)
                            .where(victims.c.source_record_id.like("K%"))).scalar_one()
        marked = conn.execute(sa.select(import_batches.c.interrupted_at)
                              .where(import_batches.c.source_file == "big.csv")).scalar_one()
        audited = conn.execute(sa.select(audit_log.c.details)
                               .where(audit_log.c.action == "batch.interrupted")).scalars().all()
    engine.dispose()
    assert marked is not None and len(audited) == 1
    assert json.loads(audited[0])["victims_kept"] >= 4000 and f"{kept:,} records" in warnings
    again = subprocess.run([sys.executable, "-m", "ctip", "import", str(small), "--json"],
                           env=_env(home), capture_output=True, text=True, check=True)
    assert "interrupted" not in " ".join(json.loads(again.stdout)["warnings"])  # reported once
