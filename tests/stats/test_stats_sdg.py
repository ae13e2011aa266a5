"""SDG 16.2.2 against a published national series: Malta (NSO Malta, Open SDG), 2019-2025.

The victims table is built from Malta's published counts (by sex); our rate uses the World Bank
population we ship. NSO Malta divides by its own population estimate, so we compare at the
precision Malta publishes (one decimal).
"""

from __future__ import annotations

import csv

import duckdb
import pandas as pd
import pytest
from stats_fixture import load, victim

from ctip.domain.analytic import ANALYTIC_COLUMNS
from ctip.stats.population import population
from ctip.stats.sdg import sdg_16_2_2


@pytest.mark.shared_data
def test_rates_match_malta_published_series(shared_data):
    path = shared_data / "sdg-16-2-2-national" / "malta_nso_indicator_16-2-2.csv"
    with path.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    counts, rates = {}, {}
    for r in rows:
        if (
            r["Series"].startswith("1.")
            and r["Age"] == "All Ages"
            and r["Broad citizenship"] == "All citizens"
            and r["Form of exploitation"] == "All forms"
        ):
            counts[(int(r["Year"]), r["Sex"])] = int(r["Value"])
        elif r["Series"].startswith("2."):
            rates[int(r["Year"])] = float(r["Value"])
    victims, n = [], 0
    for (year, sex), count in counts.items():
        if sex == "Both Sexes":
            continue
        for _ in range(count):
            n += 1
            victims.append(
                victim(n, year=year, sex="female" if sex == "Females" else "male", detection="MLT")
            )
    con = duckdb.connect()
    load(con, "victims", ANALYTIC_COLUMNS, victims)
    table = sdg_16_2_2(con)
    total = table[
        (table["series"] == "VC_HTF_DETV") & (table["sex"] == "_T") & (table["age"] == "_T")
    ].set_index("year")
    checked = 0
    for year, published in rates.items():
        ours = total.loc[str(year)]
        assert int(ours["count"]) == counts[(year, "Both Sexes")]
        if population("MLT", year) is None:  # 2025: no World Bank figure yet -> no rate
            assert pd.isna(ours["rate"])
            continue
        expected = counts[(year, "Both Sexes")] / population("MLT", year) * 100_000
        assert float(ours["rate"]) == pytest.approx(expected)
        assert round(float(ours["rate"]), 1) == pytest.approx(published, abs=0.051), year
        checked += 1
    assert checked == 6  # 2019-2024
    females = table[
        (table["series"] == "VC_HTF_DETV") & (table["sex"] == "F") & (table["age"] == "_T")
    ].set_index("year")
    assert int(females.loc["2020", "count"]) == counts[(2020, "Females")] == 12
