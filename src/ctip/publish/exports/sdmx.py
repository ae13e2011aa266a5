"""SDMX-CSV for SDG 16.2.2 with the SDG data structure's dimensions (STANDARDS.md 5.3/5.4).

Why the stdlib writer and not pysdmx: the layout is a fixed column order with "_T" fill, and
pysdmx needs a full Schema object; STANDARDS.md recommends the csv module for core.

Rows: one per published cell of the SDG table, count series (VC_HTF_DETV...) with UNIT_MEASURE
NUMBER and, where the population is known, the rate series (the count code + "R", per 100,000
population; that naming is seen in extracts but not verified against the SDG code list). A hidden
cell keeps its row with an empty OBS_VALUE and OBS_STATUS "C" (confidential), so users see that a
figure exists but is withheld; its rate is withheld with it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from ctip.domain.countries import country
from ctip.ingest.writers import write_csv

STRUCTURE_ID = "IAEG-SDGs:SDG(1.0)"
DIMENSIONS = (
    "FREQ",
    "REPORTING_TYPE",
    "SERIES",
    "REF_AREA",
    "SEX",
    "AGE",
    "URBANISATION",
    "INCOME_WEALTH_QUANTILE",
    "EDUCATION_LEV",
    "OCCUPATION",
    "CUST_BREAKDOWN",
    "COMPOSITE_BREAKDOWN",
    "DISABILITY_STATUS",
    "ACTIVITY",
    "PRODUCT",
)
HEADER = (
    "STRUCTURE",
    "STRUCTURE_ID",
    "ACTION",
    *DIMENSIONS,
    "TIME_PERIOD",
    "OBS_VALUE",
    "UNIT_MEASURE",
    "UNIT_MULT",
    "NATURE",
    "OBS_STATUS",
)
RATE_UNIT = "PER_100000_POP"  # code unverified (STANDARDS.md 9.2)


def m49(iso3: str) -> str | None:
    try:
        return country(str(iso3)).m49
    except LookupError:
        return None


def sdmx_rows(sdg: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of the SDMX-CSV file from the published SDG table (year, ref_area ISO3, series, sex,
    age, count <NA> when hidden, suppressed, rate). Cells of an unknown country or year are left
    out: SDMX has no code for them."""
    rows: list[dict[str, Any]] = []
    for cell in sdg.to_dict("records"):
        area = m49(cell["ref_area"])
        year = str(cell["year"])
        if area is None or not year.isdigit():
            continue
        hidden = bool(cell.get("suppressed"))
        base: dict[str, Any] = {h: "_T" for h in DIMENSIONS}
        base.update(
            STRUCTURE="datastructure",
            STRUCTURE_ID=STRUCTURE_ID,
            ACTION="I",
            FREQ="A",
            REPORTING_TYPE="N",
            REF_AREA=area,
            SEX=cell["sex"],
            AGE=cell["age"],
            TIME_PERIOD=year,
            UNIT_MULT=0,
            NATURE="C",
        )
        count = cell.get("count")
        rows.append(
            {
                **base,
                "SERIES": cell["series"],
                "UNIT_MEASURE": "NUMBER",
                "OBS_VALUE": "" if hidden or pd.isna(count) else int(count),
                "OBS_STATUS": "C" if hidden else "A",
            }
        )
        rate = cell.get("rate")
        if "rate" in cell and (hidden or not pd.isna(rate)):
            rows.append(
                {
                    **base,
                    "SERIES": f"{cell['series']}R",
                    "UNIT_MEASURE": RATE_UNIT,
                    "OBS_VALUE": "" if hidden or pd.isna(rate) else round(float(rate), 4),
                    "OBS_STATUS": "C" if hidden else "A",
                }
            )
    return rows


def write_sdmx_csv(path: Path, sdg: pd.DataFrame) -> int:
    """Write SDMX-CSV 2.0; returns the number of observations."""
    return write_csv(path, HEADER, sdmx_rows(sdg))
