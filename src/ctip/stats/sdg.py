"""SDG indicator 16.2.2: detected victims per 100,000 population, by sex, age and form.

Definition (UN metadata, STANDARDS.md 5.1): victims detected in a country / population resident in
that country x 100,000. Convention for sex-, age- and form-specific rates (stated in the report
and the exports): the denominator is always the TOTAL population of the country, because the
World Bank series we ship has totals only. So the rates for women and girls add up to the rate
for females, and all rates add up to the total.

Series (STANDARDS.md 5.2): VC_HTF_DETV (all forms), VC_HTF_DETVSX (sexual exploitation),
VC_HTF_DETVFL (forced labour), VC_HTF_DETVOG (removal of organs), VC_HTF_DETVOP (other purposes).
A form series needs one form per victim: the roll-up rule decides, and by default a victim of
sexual exploitation and forced labour ('mixed') is counted under sexual exploitation (the first
form of the rule's precedence), so the form series add up to the total minus unknown forms.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import duckdb
import pandas as pd

from ctip.domain.derive import RollupRule
from ctip.stats.population import population_table
from ctip.stats.tables import victims_query

SDG_RULE = RollupRule(mixed=False)
TOTAL_SERIES = "VC_HTF_DETV"
FORM_SERIES = {
    "sexual_exploitation": "VC_HTF_DETVSX",
    "forced_labour": "VC_HTF_DETVFL",
    "organ_removal": "VC_HTF_DETVOG",
}
OTHER_SERIES = "VC_HTF_DETVOP"
SERIES_LABELS = {
    "VC_HTF_DETV": "All forms",
    "VC_HTF_DETVSX": "Sexual exploitation",
    "VC_HTF_DETVFL": "Forced labour",
    "VC_HTF_DETVOG": "Removal of organs",
    "VC_HTF_DETVOP": "Other purposes",
}
SEX_CODES = {"female": "F", "male": "M", "other": "_O", "unknown": "_U"}
AGE_CODES = {"0-17": "Y0T17", "18+": "Y_GE18", "unknown": "_U"}
PER = 100_000


_SERIES_ORDER = tuple(SERIES_LABELS)
_CODE_ORDER = ("_T", "F", "M", "_O", "Y0T17", "Y_GE18", "_U")
_CELLS = ["year", "country_of_detection", "sex", "age_group", "unodc_form"]


def _case(column: str, mapping: dict[str, str], default: str) -> str:
    whens = " ".join(f"WHEN {column} = '{k}' THEN '{v}'" for k, v in mapping.items())
    return f"CASE {whens} ELSE '{default}' END"


def _rank(column: str, order: Sequence[str]) -> str:
    return "CASE " + " ".join(f"WHEN {column} = '{v}' THEN {i}" for i, v in enumerate(order)) + \
        f" ELSE {len(order)} END"


def indicator_sql(cells: str) -> str:
    """The indicator's counts from ``cells`` (a query with the columns of ``_CELLS`` and
    ``count``): each victim under the total series and under the series of its form (none for an
    unknown form), sex and age as SDMX codes, and the totals over sex, over age and over both
    (GROUPING SETS), in the published order. Plain SQL (Spark has GROUPING SETS too)."""
    forms = {**FORM_SERIES}
    series = _case("c.unodc_form", forms, OTHER_SERIES)
    sex = _case("c.sex", SEX_CODES, "_U")
    age = _case("c.age_group", AGE_CODES, "_U")
    keys = "year, ref_area, series"
    return f"""
    WITH c AS ({cells}),
    long AS (
      SELECT c.year AS year, c.country_of_detection AS ref_area, '{TOTAL_SERIES}' AS series,
             {sex} AS sex, {age} AS age, c.count AS count FROM c
      UNION ALL
      SELECT c.year, c.country_of_detection, {series}, {sex}, {age}, c.count FROM c
      WHERE c.unodc_form <> 'unknown'
    ), g AS (
      SELECT {keys},
             CASE WHEN GROUPING(sex) = 1 THEN '_T' ELSE sex END AS sex,
             CASE WHEN GROUPING(age) = 1 THEN '_T' ELSE age END AS age,
             CAST(SUM(count) AS BIGINT) AS count
      FROM long
      GROUP BY GROUPING SETS (({keys}, sex, age), ({keys}, sex), ({keys}, age), ({keys}))
    )
    SELECT {keys}, sex, age, count FROM g
    ORDER BY ref_area, year, {_rank("series", _SERIES_ORDER)}, {_rank("sex", _CODE_ORDER)},
             {_rank("age", _CODE_ORDER)}"""


@cache
def _shipped_population() -> dict[tuple[str, str], int]:
    return _lookup(population_table())


def _lookup(population: pd.DataFrame) -> dict[tuple[str, str], int]:
    return {(str(a), str(y)): int(p) for a, y, p in zip(
        population["iso3"], population["year"], population["population"], strict=True)
        if not pd.isna(p)}


def sdg_16_2_2(con: duckdb.DuckDBPyConnection, *, rule: RollupRule = SDG_RULE,
               population: pd.DataFrame | None = None, table: str = "victims") -> pd.DataFrame:
    """One row per year x country x series x sex x age, with count, population and rate.

    ``population``: iso3, year, population (default: the shipped World Bank extract). The rate is
    None where the population is unknown, or where the year or country is unknown.
    One query (``indicator_sql``) over the counts by year, country, sex, age group and form:
    the series, the totals and the order are computed in DuckDB, not in pandas.
    """
    cells = victims_query(_CELLS, rule=rule, table=table).sql()
    frame = con.sql(indicator_sql(cells)).df()
    frame["count"] = frame["count"].astype("int64")
    lookup = _shipped_population() if population is None else _lookup(population)
    found = [lookup.get(key) for key in zip(frame["ref_area"], frame["year"], strict=True)]
    frame["population"] = pd.array(found, dtype="Int64")
    frame["rate"] = rate(frame["count"], frame["population"])
    return frame


def rate(count: pd.Series, population: pd.Series) -> pd.Series:
    """count / population x 100,000 (None where either is missing or the population is 0)."""
    pop = population.astype("Float64")
    out = count.astype("Float64") / pop.where(pop > 0) * PER
    return out.astype("Float64")
