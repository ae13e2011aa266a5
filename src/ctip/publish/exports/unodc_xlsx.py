"""XLSX tables in the layout of UNODC's GLOTIP questionnaire (STANDARDS.md 4.2), as far as the
data allows: Q2-Q4 (persons suspected, prosecuted, convicted) by sex x adult/minor, Q5 (victims
detected) by sex x age, by form and by citizenship, Q6 (own nationals detected abroad).
Q1 (offences recorded, with the criminal-code article) is not collected by ctip: its sheet says so.

Each sheet is a questionnaire grid: one row per year (and category), one column per sex x age
cell, and the row total. Hidden cells show the same mark as everywhere else ("x").
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ctip.ingest.writers import write_xlsx

SEXES = (("female", "Female"), ("male", "Male"), ("other", "Other"), ("unknown", "Unknown sex"))
AGES = (("0-17", "0 to 17 years"), ("18+", "18 years or over"), ("unknown", "Unknown age"))
TOTAL = "total"


def _cell(row: pd.Series | None) -> Any:
    if row is None:
        return 0
    if bool(row["suppressed"]):
        return str(row["display"])
    return int(row["count"])


def grid(
    frame: pd.DataFrame, *, rows: Sequence[str], row_labels: Sequence[str]
) -> tuple[list[str], list[list[Any]]]:
    """A questionnaire grid from a published table with dims rows..., sex, age_group (totals
    labelled 'total'). Only published cells are used; nothing is recomputed from hidden ones."""
    header = [*row_labels, *[f"{s} {a}" for _, s in SEXES for _, a in AGES], "Total"]
    index = {tuple(str(r[c]) for c in (*rows, "sex", "age_group")): r for _, r in frame.iterrows()}
    keys = frame[list(rows)].astype(str).drop_duplicates()
    keys = keys[~keys.isin([TOTAL]).any(axis=1)] if len(rows) else keys
    body = []
    for key in keys.itertuples(index=False):
        line = list(key)
        for sex, _ in SEXES:
            for age, _ in AGES:
                line.append(_cell(index.get((*key, sex, age))))
        line.append(_cell(index.get((*key, TOTAL, TOTAL))) if (*key, TOTAL, TOTAL) in index else "")
        body.append(line)
    return header, body


def write_questionnaire(path: Path, sheets: dict[str, tuple[list[str], list[list[Any]]]]) -> None:
    note = (
        ["Note"],
        [
            [
                "Offences of trafficking in persons and the criminal-code article are not "
                "recorded in ctip; fill this table from police or prosecution records."
            ]
        ],
    )
    write_xlsx(path, {"Q1 Offences": note, **sheets})
