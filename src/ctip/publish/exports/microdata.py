"""The k-anonymous microdata file in the CTDC column layout (27 variables)."""

from __future__ import annotations

from pathlib import Path

from ctip.ingest.writers import write_csv
from ctip.publish.ctdc import CTDC_COLUMNS
from ctip.publish.kanon import KAnonRelease


def write_microdata_csv(path: Path, release: KAnonRelease) -> int:
    frame = release.frame[list(CTDC_COLUMNS)].fillna("")
    return write_csv(path, CTDC_COLUMNS, frame.itertuples(index=False, name=None))
