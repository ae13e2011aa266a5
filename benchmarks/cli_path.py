"""The product's own linkage path, as a user runs it: agencies' canonical CSV files ->
``ctip import`` -> ``ctip link run`` -> ``ctip link export`` (each a ``ctip`` process in a fresh
home), for the linkage benchmarks (``linkage_bench.py``, ``population_bench.py``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd


@dataclass
class CliRun:
    exported: pd.DataFrame  # agency, source_record_id, cluster_id
    run: dict  # `ctip link run --json`
    seconds: float  # link run alone
    home: Path
    imported: int


def ctip(home: Path, *args: str) -> dict:
    env = {**os.environ, "CTIP_HOME": str(home)}
    for var in ("CTIP_DATABASE_URL", "CTIP_KEY_FILE", "CTIP_PSEUDONYM_KEY_FILE", "CTIP_SEAL_KEY",
                "CTIP_PSEUDONYM_KEY"):
        env.pop(var, None)
    done = subprocess.run([sys.executable, "-m", "ctip", *args, "--json"], env=env,
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"ctip {' '.join(args)} failed ({done.returncode}):\n"
                           f"{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return json.loads(done.stdout) if done.stdout.strip() else {}


def run_cli_path(files: Sequence[tuple[str, Path]], workdir: Path | None = None,
                 link_args: Sequence[str] = ()) -> CliRun:
    """Import each (agency, file), link, export; the exported clusters and the run's report."""
    base = Path(workdir or tempfile.mkdtemp(prefix="ctip-link-"))
    home = base / "home"
    ctip(home, "init")
    imported = 0
    for agency, path in files:
        report = ctip(home, "import", str(path), "--agency", agency)
        imported += int(report.get("accepted", 0))
    start = time.perf_counter()
    run = ctip(home, "link", "run", *link_args)
    seconds = time.perf_counter() - start
    out = base / "clusters.csv"
    ctip(home, "link", "export", "--out", str(out))
    exported = pd.read_csv(out, dtype=str, encoding="utf-8-sig")
    return CliRun(exported=exported, run=run, seconds=seconds, home=home, imported=imported)
