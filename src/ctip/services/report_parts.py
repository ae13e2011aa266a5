"""Parts of the national report (``services.reporting``): what a figure is and the unit it
counts, the headline count (people through a linkage run, else records, and why), the age-sex
pyramid (one banding, "no data" rather than empty axes) and the SDG 16.2.2 table.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import duckdb
import pandas as pd

from ctip.services.statistics import HIDDEN, PublishedTable
from ctip.stats import charts
from ctip.stats.query import AGE_BAND_ORDER, FINE_AGE_BANDS, WIDE_AGE_BANDS
from ctip.stats.sdg import SERIES_LABELS

RECORDS = ("agency records of detected victims (one per victim per agency: a person known to "
           "two agencies counts twice)")


@dataclass
class Figure:
    key: str
    title: str
    svg: str | None = None
    table_html: str | None = None
    note: str = ""
    unit: str = RECORDS  # what one counted item is, shown with every figure


def country_name(iso3: str | None) -> str:
    from ctip.domain.countries import country

    if not iso3:
        return "the reporting country"
    try:
        return country(iso3).name
    except LookupError:
        return iso3


def cell_value(p: PublishedTable, **dims: str) -> int | None:
    """A published cell's count, or None when hidden or absent."""
    f = p.frame
    mask = pd.Series(True, index=f.index)
    for k, v in dims.items():
        mask &= f[k].astype(str) == v
    hit = f.loc[mask, "count"]
    if hit.empty or pd.isna(hit.iloc[0]):
        return None
    return int(hit.iloc[0])


def fmt(n: int | None, symbol: str) -> str:
    return symbol if n is None else f"{n:,}"


def html_table(frame: pd.DataFrame, columns: dict[str, str], *, numeric: set[str]) -> str:
    """A plain accessible HTML table (caption comes from the figure)."""
    head = "".join(f'<th scope="col"{" class=num" if c in numeric else ""}>{html.escape(t)}</th>'
                   for c, t in columns.items())
    rows = []
    for row in frame[list(columns)].itertuples(index=False):
        cells = []
        for c, v in zip(columns, row, strict=True):
            text = "" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v)
            cells.append(f'<td{" class=num" if c in numeric else ""}>{html.escape(text)}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


@dataclass(frozen=True)
class People:
    """Detected victims counted as people through a linkage run (``linked_people``)."""

    people: int  # distinct people: clusters of the run, plus records the run has not seen
    records: int  # detected-victim records
    unlinked: int  # of which imported after the run (each counted as one person)
    run_date: str


def linked_people(con: duckdb.DuckDBPyConnection, clusters: pd.DataFrame,
                  run_date: str) -> People | None:
    """Distinct people among the detected victims, by a linkage run's clusters (victim_id ->
    cluster_id); None when the run holds none of them."""
    from ctip.stats.tables import detected_in_clusters

    records, in_run, people = detected_in_clusters(con, clusters)
    if not in_run:
        return None
    return People(int(people) + int(records - in_run), int(records), int(records - in_run),
                  run_date)


def headline_facts(facts: dict[str, Any], total: int | None, people: People | None,
              threshold: int) -> None:
    """The first card: people when a linkage run says who is who, else records, and why."""
    if people is not None:
        shown = people.people if people.people >= threshold else None
        facts["total"] = fmt(shown, HIDDEN)
        facts["total_label"] = "detected victims (people)"
        why = (f"People, not records: the {people.records:,} agency records of detected "
               f"victims are linked into {people.people:,} people by the linkage run of "
               f"{people.run_date} (a person known to two agencies counts once)")
        if people.unlinked:
            why += (f"; {people.unlinked:,} records imported after that run count as one "
                    "person each until `ctip link run` is run again")
        facts["total_note"] = why + "."
        return
    facts["total"] = fmt(total, HIDDEN)
    facts["total_label"] = "detected-victim records"
    facts["total_note"] = ("Records, not people: no linkage run yet, so a person known to two "
                           "agencies counts twice. Run `ctip link run` to count people.")


def pyramid_figure(pyr: PublishedTable) -> Figure:
    """The age-sex pyramid in one banding: the fine bands (from ages in years) or, when most
    records only carry a band from their source (CTDC ageBroad), under 18 / 18 and over; the
    other banding's records stay in the table. "No data" instead of empty axes."""
    f = pyr.frame
    totals = f[f["sex"] == "total"].set_index(f.loc[f["sex"] == "total", "age_band"].astype(str))

    def known(bands: tuple[str, ...]) -> int:
        return int(totals["count"].reindex(list(bands)).fillna(0).sum())

    fine, wide = known(FINE_AGE_BANDS), known(WIDE_AGE_BANDS)
    bands, other = (FINE_AGE_BANDS, wide) if fine >= wide else (WIDE_AGE_BANDS, fine)
    drawn = f[f["sex"].isin(["female", "male"]) & f["age_band"].astype(str).isin(bands)]
    has_marks = bool(drawn["count"].fillna(0).gt(0).any() or drawn["suppressed"].any()) \
        if "suppressed" in drawn else bool(drawn["count"].fillna(0).gt(0).any())
    if not has_marks:
        return Figure("age_sex", "Detected victims by age and sex: no data", note=(
            "No detected-victim record of known sex has an age or an age band, so there is no "
            "pyramid to draw; the counts by sex and 'unknown' age are in the exported table."))
    shown = totals.loc[totals.index.isin(bands)].dropna(subset=["count"])
    title = "Detected victims by age and sex"
    if not shown.empty:
        top = shown["count"].astype(int).idxmax()
        label = {"0-17": "under 18", "18+": "18 and over"}.get(top, f"{top} years")
        title = f"The largest age group of detected victims was {label}"
    note = ("Age at identification. Victims of other or unknown sex are in the tables, not in "
            "this picture.")
    if bands == WIDE_AGE_BANDS:
        note += (" Most records give an age band from their source (such as CTDC's ageBroad) "
                 "rather than an age in years, so the picture shows under 18 and 18 and over.")
    if other:
        which = ("an age band only (under 18 / 18 and over)" if bands == FINE_AGE_BANDS
                 else "an age in years")
        note += f" {other:,} records with {which} are in the table, not in this picture."
    frame = f[f["age_band"].astype(str).isin([*bands, "total", "unknown"])]
    return Figure("age_sex", title, charts.to_svg(charts.pyramid_chart(
        frame, None, list(AGE_BAND_ORDER))), note=note)


def sdg_figure(sdg: PublishedTable, country: str | None, sym: str, *,
                guessed: bool = False) -> Figure:
    f = sdg.frame
    if country is not None:
        f = f[f["ref_area"] == country]
    f = f[f["year"].astype(str).str.isdigit()]
    years = sorted(f["year"].astype(str).unique())[-6:]
    f = f[f["year"].astype(str).isin(years)]
    rows = f[(f["sex"] != "_U") & (f["age"] != "_U") & (
        (f["series"] == "VC_HTF_DETV") | ((f["sex"] == "_T") & (f["age"] == "_T")))].copy()
    rows["what"] = rows["series"].map(SERIES_LABELS)
    sex = {"_T": "All", "F": "Female", "M": "Male", "_O": "Other sex"}
    age = {"_T": "all ages", "Y0T17": "under 18", "Y_GE18": "18 and over"}
    rows["who"] = rows["sex"].map(sex).fillna(rows["sex"]) + ", " + rows["age"].map(age).fillna(
        rows["age"])
    rows["cell"] = [
        sym if d == sym else (f"{float(r):.2f}" if pd.notna(r) else "n/a") + f" ({d})"
        for r, d in zip(rows["rate"], rows["display"], strict=True)]
    wide = rows.pivot_table(index=["what", "who"], columns="year", values="cell",
                            aggfunc="first").reset_index()
    series_order = {v: i for i, v in enumerate(SERIES_LABELS.values())}
    who_order = {f"{s}, {a}": i for i, (s, a) in enumerate(
        (s, a) for s in sex.values() for a in age.values())}
    wide = wide.sort_values(["what", "who"], key=lambda s: s.map(series_order)
                            if s.name == "what" else s.map(who_order))
    cols = {"what": "Form", "who": "Sex, age", **{y: y for y in years}}
    total = f[(f["series"] == "VC_HTF_DETV") & (f["sex"] == "_T") & (f["age"] == "_T")]
    title = "SDG 16.2.2: detected victims per 100,000 population"
    latest = total[total["year"].astype(str) == (years[-1] if years else "")]
    where = f" in {country_name(country)}" if country and not guessed else ""
    if not latest.empty and pd.notna(latest["rate"].iloc[0]):
        title = (f"SDG 16.2.2: {float(latest['rate'].iloc[0]):.2f} detected victims per 100,000 "
                 f"population{where} in {years[-1]}")
    scope = (f" Rates for {country_name(country)}, the most frequent country of detection in "
             "these records (set CTIP_COUNTRY or --country to choose)." if guessed else "")
    # a series with no row for a year had no victims of that form that year
    return Figure("sdg", title, table_html=html_table(wide.fillna("0.00 (0)"), cols,
                                                        numeric=set(years)),
                  note="Rate per 100,000 total population (count in brackets). Denominator: "
                  "World Bank total population (SP.POP.TOTL) for every breakdown, so the rates "
                  "of the groups add up to the total. A form series counts each victim under "
                  "one form (sexual exploitation before forced labour when both). n/a: no "
                  f"population figure for that year. {sym}: hidden, and the rate with it." + scope,
                  unit="detected-victim records per 100,000 population")
