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

import duckdb
import pandas as pd

from ctip.domain.derive import RollupRule
from ctip.stats.population import population_table
from ctip.stats.tables import victims_by

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


def _series(form: str) -> str | None:
    if form == "unknown":
        return None
    return FORM_SERIES.get(form, OTHER_SERIES)


def sdg_16_2_2(con: duckdb.DuckDBPyConnection, *, rule: RollupRule = SDG_RULE,
               population: pd.DataFrame | None = None, table: str = "victims") -> pd.DataFrame:
    """One row per year x country x series x sex x age, with count, population and rate.

    ``population``: iso3, year, population (default: the shipped World Bank extract). The rate is
    None where the population is unknown, or where the year or country is unknown.
    """
    cells = victims_by(con, ["year", "country_of_detection", "sex", "age_group", "unodc_form"],
                       rule=rule, table=table, complete=False)
    cells["series"] = cells["unodc_form"].map(_series)
    parts = [cells.assign(series=TOTAL_SERIES), cells.dropna(subset=["series"])]
    long = pd.concat(parts, ignore_index=True)
    long["sex"] = long["sex"].map(SEX_CODES).fillna("_U")
    long["age"] = long["age_group"].map(AGE_CODES).fillna("_U")
    keys = ["year", "country_of_detection", "series"]
    frames = []
    for sex_total in (False, True):
        for age_total in (False, True):
            g = long.assign(sex="_T" if sex_total else long["sex"],
                            age="_T" if age_total else long["age"])
            frames.append(g.groupby([*keys, "sex", "age"], as_index=False)["count"].sum())
    table_ = pd.concat(frames, ignore_index=True).rename(
        columns={"country_of_detection": "ref_area"})
    pop = population if population is not None else population_table()
    pop = pop.rename(columns={"iso3": "ref_area"}).assign(year=lambda p: p["year"].astype(str))
    table_ = table_.merge(pop[["ref_area", "year", "population"]], on=["ref_area", "year"],
                          how="left")
    table_["population"] = table_["population"].astype("Int64")
    table_["rate"] = rate(table_["count"], table_["population"])
    series_order = {s: i for i, s in enumerate(SERIES_LABELS)}
    code_order = {c: i for i, c in enumerate(["_T", "F", "M", "_O", "Y0T17", "Y_GE18", "_U"])}
    table_ = table_.sort_values(
        ["ref_area", "year", "series", "sex", "age"],
        key=lambda s: s.map(series_order) if s.name == "series"
        else (s.map(code_order) if s.name in ("sex", "age") else s))
    return table_.reset_index(drop=True)


def rate(count: pd.Series, population: pd.Series) -> pd.Series:
    """count / population x 100,000 (None where either is missing or the population is 0)."""
    pop = population.astype("Float64")
    out = count.astype("Float64") / pop.where(pop > 0) * PER
    return out.astype("Float64")
