"""Population denominators for SDG 16.2.2 (World Bank SP.POP.TOTL, shipped as a compact extract).

The extract (data/population.csv, ODC-PDDL; provenance in data/SOURCE.md) is reference data like a
code list, read from the package. ``python -m ctip.stats.population SOURCE.csv`` rebuilds it.
"""

from __future__ import annotations

import csv
import sys
from functools import cache
from importlib import resources
from pathlib import Path

import pandas as pd

SOURCE = "World Bank, SP.POP.TOTL (via datasets/population, ODC-PDDL-1.0)"
FIRST_YEAR = 2000


@cache
def _table() -> pd.DataFrame:
    data = resources.files("ctip.stats").joinpath("data/population.csv")
    with data.open("r", encoding="utf-8") as f:
        frame = pd.read_csv(f, dtype={"iso3": "string", "year": "int64", "population": "int64"})
    return frame


def population_table() -> pd.DataFrame:
    """Columns iso3, year, population (a copy: callers may change it)."""
    return _table().copy()


def population(iso3: str, year: int) -> int | None:
    """Total population of one country in one year, or None when the World Bank has no figure."""
    frame = _table()
    hit = frame[(frame["iso3"] == iso3) & (frame["year"] == year)]
    return None if hit.empty else int(hit["population"].iloc[0])


def build_extract(source: Path, target: Path) -> int:
    """Write the compact extract from the World Bank CSV: real ISO3 codes only, FIRST_YEAR on."""
    from ctip.domain.countries import all_countries

    iso3 = {c.iso3 for c in all_countries()}
    with source.open(encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f)
                if r["Country Code"] in iso3 and int(r["Year"]) >= FIRST_YEAR and r["Value"]]
    rows.sort(key=lambda r: (r["Country Code"], int(r["Year"])))
    with target.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["iso3", "year", "population"])
        for r in rows:
            writer.writerow([r["Country Code"], r["Year"], int(float(r["Value"]))])
    return len(rows)


if __name__ == "__main__":  # pragma: no cover - maintenance script
    out = Path(__file__).with_name("data") / "population.csv"
    print(build_extract(Path(sys.argv[1]), out), "rows written to", out)
