"""Use case: the national report (``ctip report --out DIR``), a self-contained HTML file.

Each figure is computed by ``ctip.stats``, passed through disclosure control
(``services.statistics.publish``) and only then drawn (``stats.charts``, rendered to inline SVG by
vl-convert: no script, no CDN, works offline). Titles state the finding, computed from published
numbers only. The release is written to the audit log with its parameters, and the publish
engineer's exports (``services.publishing.export_all``) are written beside the report.
"""

from __future__ import annotations

import datetime as dt
import html
import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import jinja2
import pandas as pd

from ctip.services.statistics import (
    HIDDEN,
    PublishedTable,
    analytic_connection,
    publish,
    published_table,
)
from ctip.settings import Settings
from ctip.stats import charts
from ctip.stats.flows import flow_shares, flows
from ctip.stats.query import AGE_BAND_ORDER
from ctip.stats.registry import StatTable, table_spec
from ctip.stats.sdg import SERIES_LABELS, sdg_16_2_2
from ctip.stats.tables import perpetrators_by, reporting_country_of, victims_by

TOP_ORIGINS = 10
NAV = {"trend": "Trend", "age_sex": "Age and sex", "forms": "Forms", "flows": "Flows",
       "flow_shares": "Distance", "disability": "Disability", "sdg": "SDG 16.2.2",
       "perpetrators": "Justice", "international": "World", "estimate": "Hidden victims",
       "quality": "Data quality",
       "empty": "No data"}
OTHER_ORIGINS = "Other countries"


@dataclass
class Figure:
    key: str
    title: str
    svg: str | None = None
    table_html: str | None = None
    note: str = ""


@dataclass
class ReportResult:
    report: Path
    files: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    releases: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"report": str(self.report), "files": [str(f) for f in self.files],
                "notes": self.notes, "releases": self.releases}


def _country_name(iso3: str | None) -> str:
    from ctip.domain.countries import country

    if not iso3:
        return "the reporting country"
    try:
        return country(iso3).name
    except LookupError:
        return iso3


def _value(p: PublishedTable, **dims: str) -> int | None:
    """A published cell's count, or None when hidden or absent."""
    f = p.frame
    mask = pd.Series(True, index=f.index)
    for k, v in dims.items():
        mask &= f[k].astype(str) == v
    hit = f.loc[mask, "count"]
    if hit.empty or pd.isna(hit.iloc[0]):
        return None
    return int(hit.iloc[0])


def _fmt(n: int | None, symbol: str) -> str:
    return symbol if n is None else f"{n:,}"


def _html_table(frame: pd.DataFrame, columns: dict[str, str], *, numeric: set[str]) -> str:
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


def _stat(name: str, by: list[str], frame: pd.DataFrame) -> StatTable:
    return StatTable(table_spec(name), tuple(by), frame)


def _top_origins(frame: pd.DataFrame) -> pd.DataFrame:
    """Keep the largest origins, group the rest (before suppression, so the group is protected)."""
    totals = frame.groupby("origin")["count"].sum().sort_values(ascending=False)
    keep = [o for o in totals.index if o != "unknown"][:TOP_ORIGINS]
    out = frame.assign(origin=frame["origin"].where(frame["origin"].isin([*keep, "unknown"]),
                                                    OTHER_ORIGINS))
    return out.groupby(["origin", "destination"], as_index=False)["count"].sum()


def international_figure(glotip_path: Path, iso3: str | None) -> Figure:
    """UNODC's regional figures (public GLOTIP data) as context for the national ones."""
    from ctip.stats.glotip import load_glotip, regional_aggregates, victim_totals

    data = load_glotip(glotip_path)
    regions = regional_aggregates(data)
    world = regions[regions["area"] == "World"].sort_values("year")
    last = world.iloc[-1]
    title = (f"Worldwide, {int(last['countries'])} countries reported {int(last['known']):,} "
             f"detected victims to UNODC in {int(last['year'])}")
    note = ("Source: UNODC, Global Report on Trafficking in Persons / dataUNODC (GLOTIP export). "
            "Sums of national figures of the countries that reported each year, so the lines "
            "move with the number of reporting countries as well as with detections.")
    if iso3:
        own = victim_totals(data)
        own = own[(own["iso3"] == iso3) & own["value"].notna()].sort_values("year")
        if not own.empty:
            row = own.iloc[-1]
            note += (f" {_country_name(iso3)} last reported {int(row['value']):,} detected "
                     f"victims to UNODC, for {int(row['year'])}.")
    return Figure("international", title, charts.to_svg(charts.regional_trend_chart(regions,
                                                                                     None)),
                  note=note)


def compute_figures(con: duckdb.DuckDBPyConnection, *, threshold: int) -> tuple[
        dict[str, Any], list[Figure], dict[str, PublishedTable]]:
    """Every figure of the report, from published tables only. Returns (facts, figures, tables)."""
    sym = HIDDEN
    country = reporting_country_of(con)
    name = _country_name(country)
    pub: dict[str, PublishedTable] = {}

    def add(key: str, table: StatTable) -> PublishedTable:
        pub[key] = publish(table, threshold=threshold)
        return pub[key]

    trend = add("trend", _stat("victims", ["year", "victim_group"],
                               victims_by(con, ["year", "victim_group"], margins=True)))
    years = sorted(y for y in trend.frame["year"].astype(str).unique() if y.isdigit())
    total = _value(trend, year="total", victim_group="total")
    facts: dict[str, Any] = {"country": name, "iso3": country, "first_year": years[0] if years
                             else None, "last_year": years[-1] if years else None,
                             "total": _fmt(total, sym), "threshold": threshold,
                             "hidden": HIDDEN}
    figures: list[Figure] = []
    if not total:
        figures.append(Figure("empty", "No detected victims in the store yet", note=(
            "Import case records (`ctip import FILE`), then run `ctip report` again.")))
        return facts, figures, pub

    # 1. trend
    title = "Detected victims by year"
    if len(years) >= 2:
        last, prev = _value(trend, year=years[-1], victim_group="total"), _value(
            trend, year=years[-2], victim_group="total")
        if last is not None and prev is not None:
            verb = "rose" if last > prev else "fell" if last < prev else "held steady"
            title = (f"Detected victims {verb} from {prev:,} in {years[-2]} to {last:,} "
                     f"in {years[-1]}")
    figures.append(Figure("trend", title, charts.to_svg(charts.trend_chart(trend.frame, None)),
                          note="Women, men, girls (under 18) and boys; 'unknown' where sex or age "
                          "was not recorded. Points hidden for disclosure control are not drawn."))

    # key shares (of published totals)
    women_girls = [_value(trend, year="total", victim_group=g) for g in ("women", "girls")]
    children = [_value(trend, year="total", victim_group=g) for g in ("girls", "boys")]
    if total and None not in women_girls:
        facts["women_girls_share"] = f"{sum(women_girls) / total:.0%}"  # type: ignore[arg-type]
    if total and None not in children:
        facts["children_share"] = f"{sum(children) / total:.0%}"  # type: ignore[arg-type]

    # 2. age-sex pyramid
    pyr = add("age_sex", _stat("victims-by-age-sex", ["sex", "age_band"],
                               victims_by(con, ["sex", "age_band"], margins=True)))
    bands = pyr.frame[(pyr.frame["sex"] == "total") & ~pyr.frame["age_band"].isin(["total",
                                                                                    "unknown"])]
    bands = bands.dropna(subset=["count"])
    title = "Detected victims by age and sex"
    if not bands.empty:
        top = bands.loc[bands["count"].astype(int).idxmax()]
        title = f"The largest age group of detected victims was {top['age_band']} years"
    figures.append(Figure("age_sex", title, charts.to_svg(charts.pyramid_chart(
        pyr.frame, None, list(AGE_BAND_ORDER))), note="Age at identification. Victims of other "
        "or unknown sex are in the tables, not in this picture."))

    # 3. forms of exploitation
    forms = add("forms", _stat("victims-by-form", ["unodc_form"],
                               victims_by(con, ["unodc_form"], margins=True)))
    known = forms.frame[~forms.frame["unodc_form"].isin(["total", "unknown"])].dropna(
        subset=["count"])
    title = "Detected victims by form of exploitation"
    if not known.empty and total:
        top = known.loc[known["count"].astype(int).idxmax()]
        label = charts.FORM_LABELS.get(top["unodc_form"], top["unodc_form"])
        title = f"{label} was the most common form: {int(top['count']):,} of {total:,} victims"
        facts["top_form"] = label
    figures.append(Figure("forms", title, charts.to_svg(charts.bar_chart(
        forms.frame, "unodc_form", None, charts.FORM_LABELS, colour=charts.OKABE_ITO[0])),
        note="One form per victim (UNODC roll-up): a victim of both sexual exploitation and "
        "forced labour is counted once, as 'sexual exploitation and forced labour'."))

    # 4. flows
    raw = _top_origins(flows(con))
    flow = add("flows", _stat("flows", [], raw))
    shares = add("flow_shares", _stat("flow-shares", [], flow_shares(con, by=())))
    dom = shares.frame.loc[shares.frame["flow_type"] == "domestic", "share"]
    title = f"Where victims detected in {name} came from"
    if not dom.empty and pd.notna(dom.iloc[0]):
        foreign = 1 - float(dom.iloc[0])
        title = (f"{foreign:.0%} of victims with a known citizenship were foreign nationals")
        facts["foreign_share"] = f"{foreign:.0%}"
    labels = {o: _country_name(o) if len(o) == 3 and o.isupper() else o
              for o in flow.frame["origin"].astype(str)}
    labels.update({d: _country_name(d) for d in flow.frame["destination"].astype(str)
                   if len(d) == 3 and d.isupper()})
    labels["unknown"] = "Not known"
    sankey = charts.sankey_chart(flow.frame, None, hidden_width=threshold / 2, label_of=labels)
    figures.append(Figure("flows", title, charts.to_svg(sankey), note=(
        f"Citizenship (left) to country of detection (right); the {TOP_ORIGINS} largest "
        f"origins, the rest grouped. Band width is the number of victims; flows of fewer than "
        f"{threshold} are all drawn at one thin width.")))
    share_title = "Flows by distance (UN M49 regions)"
    figures.append(Figure("flow_shares", share_title, charts.to_svg(charts.flow_share_chart(
        shares.frame, None)), note="Domestic: detected in their own country; same "
        "subregion, same region, or another region of the world. Share of victims whose "
        "citizenship and country of detection are both known."))

    # 5. disability
    dis = add("disability", _stat("victims-by-disability", ["disability"],
                                  victims_by(con, ["disability"], margins=True)))
    title = "Detected victims by disability"
    n_dis = _value(dis, disability="disability")
    if n_dis is not None and total:
        title = f"{n_dis:,} detected victims ({n_dis / total:.0%}) had a disability"
    dis_labels = {"disability": "Person with disability", "no_disability": "No disability",
                  "unknown": "Not known"}
    figures.append(Figure("disability", title, charts.to_svg(charts.bar_chart(
        dis.frame, "disability", None, dis_labels, order=["disability", "no_disability",
                                                           "unknown"],
        colour=charts.OKABE_ITO[2])), note="Declaration para 24 asks for figures by disability."))

    # 6. SDG 16.2.2
    sdg = add("sdg", _stat("sdg-16-2-2", [], sdg_16_2_2(con)))
    figures.append(_sdg_figure(sdg, country, sym))

    # 7. perpetrators
    per = add("perpetrators", _stat("perpetrators", ["stage", "sex"],
                                    perpetrators_by(con, ["stage", "sex"], margins=True)))
    if per.frame.empty or _value(per, stage="total", sex="total") in (None, 0) and \
            per.frame["count"].fillna(0).sum() == 0:
        figures.append(Figure("perpetrators", "Suspected, prosecuted and convicted persons",
                              note="No perpetrator records are in the store yet: import the "
                              "criminal-justice data (GLOTIP Q2-Q4) to fill this table."))
    else:
        wide = per.frame.pivot_table(index="stage", columns="sex", values="display",
                                     aggfunc="first").reset_index()
        stage_order = {s: i for i, s in enumerate(["suspected", "prosecuted", "convicted",
                                                   "acquitted", "total"])}
        wide = wide.sort_values("stage", key=lambda s: s.map(stage_order))
        cols = {"stage": "Stage", **{c: c.capitalize() for c in ("female", "male", "other",
                                                                 "unknown", "total")
                                     if c in wide.columns}}
        convicted = _value(per, stage="convicted", sex="total")
        title = ("Persons suspected, prosecuted and convicted" if convicted is None else
                 f"{convicted:,} persons were convicted of trafficking in persons")
        figures.append(Figure("perpetrators", title, table_html=_html_table(
            wide.fillna(""), cols, numeric=set(cols) - {"stage"}),
            note="GLOTIP Q2-Q4: persons brought into formal contact, prosecuted and convicted."))

    # 8. data quality
    quality = published_table(con, "data-quality", threshold=threshold)
    pub["quality"] = quality
    q = quality.frame
    overall = q[q["agency"] == "all agencies"].dropna(subset=["share_unknown"])
    title = "Data quality: share of records with the field unknown"
    if not overall.empty:
        worst = overall.loc[overall["share_unknown"].astype(float).idxmax()]
        title = (f"{worst['label']} is the field most often missing "
                 f"({float(worst['share_unknown']):.0%} of records)")
    figures.append(Figure("quality", title, charts.to_svg(charts.heatmap_chart(q, None)),
                          note="Per agency; grey cells are hidden by disclosure control."))
    return facts, figures, pub


def _sdg_figure(sdg: PublishedTable, country: str | None, sym: str) -> Figure:
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
    if not latest.empty and pd.notna(latest["rate"].iloc[0]):
        title = (f"SDG 16.2.2: {float(latest['rate'].iloc[0]):.2f} detected victims per 100,000 "
                 f"population in {years[-1]}")
    # a series with no row for a year had no victims of that form that year
    return Figure("sdg", title, table_html=_html_table(wide.fillna("0.00 (0)"), cols,
                                                        numeric=set(years)),
                  note="Rate per 100,000 total population (count in brackets). Denominator: "
                  "World Bank total population (SP.POP.TOTL) for every breakdown, so the rates "
                  "of the groups add up to the total. A form series counts each victim under "
                  "one form (sexual exploitation before forced labour when both). n/a: no "
                  f"population figure for that year. {sym}: hidden, and the rate with it.")


def render_report(facts: dict[str, Any], figures: list[Figure], pub: dict[str, PublishedTable],
                  *, title: str | None = None) -> str:
    env = jinja2.Environment(loader=jinja2.PackageLoader("ctip.services", "templates"),
                             autoescape=jinja2.select_autoescape(["html"]))
    template = env.get_template("report.html")
    suppression = [
        {"table": p.title, "cells": p.suppression.get("cells", len(p.frame)),
         "hidden": int(p.frame["suppressed"].sum()) if "suppressed" in p.frame else 0}
        for p in pub.values()]
    return template.render(
        title=title or f"Trafficking in persons: detected victims in {facts['country']}",
        facts=facts, figures=figures, suppression=suppression, nav=NAV,
        generated=dt.datetime.now(dt.UTC).strftime("%d %B %Y, %H:%M UTC"))


def write_report(con: duckdb.DuckDBPyConnection, out: Path, *, threshold: int,
                 title: str | None = None, glotip: Path | None = None,
                 extra: tuple[Figure, ...] = (),
                 ) -> tuple[Path, dict[str, PublishedTable]]:
    """Compute, protect, draw and write report.html into ``out``; returns its path and tables.

    ``glotip``: UNODC's GLOTIP export, for a section putting the national figures in context.
    """
    facts, figures, pub = compute_figures(con, threshold=threshold)
    if glotip is not None:
        place = next((i for i, f in enumerate(figures) if f.key == "quality"), len(figures))
        figures.insert(place, international_figure(glotip, facts.get("iso3")))
    for figure in extra:
        place = next((i for i, f in enumerate(figures) if f.key == "quality"), len(figures))
        figures.insert(place, figure)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "report.html"
    path.write_text(render_report(facts, figures, pub, title=title), encoding="utf-8")
    return path, pub


def _export_all() -> Any:
    """The publish engineer's ``services.publishing.export_all`` when it is installed."""
    try:
        module = importlib.import_module("ctip.services.publishing")
    except ModuleNotFoundError:
        return None
    return getattr(module, "export_all", None)


def _estimation_figures(store: Any) -> tuple[Figure, ...]:
    """The estimation section from the latest linkage run's capture histories, if there is one."""
    from ctip.errors import NotFoundError
    from ctip.services import linkage
    from ctip.services.report_estimation import estimation_section

    try:
        with store.engine.connect() as conn:
            run = linkage.tables.latest_run(conn)
    except NotFoundError:
        return ()  # no linkage run yet: nothing to estimate from
    note = (f"Lists linked by the linkage run of {run.started_at:%d %B %Y}: {run.records:,} "
            f"records, {run.clusters:,} people, {run.review_pairs:,} borderline pairs for review.")
    section = estimation_section(linkage.histories(store), linkage_note=note)
    if section is None:
        return ()
    return (Figure("estimate", section["title"], section["svg"], section["table_html"],
                   section["note"]),)


def build_report(settings: Settings, out: Path, *, title: str | None = None,
                 glotip: Path | None = None) -> ReportResult:
    """``ctip report``: the HTML report and the exports from the store, audited as a release."""
    from ctip.storage.repository import CaseStore

    with CaseStore.open(settings, actor="report") as store:
        extra = _estimation_figures(store)
        with analytic_connection(store) as con:
            path, pub = write_report(con, out, threshold=settings.suppression_threshold,
                                     title=title, glotip=glotip, extra=extra)
        result = ReportResult(path, [path])
        result.releases = {k: p.suppression for k, p in pub.items()}
        export_all = _export_all()
        if export_all is not None:
            exported = export_all(store, out, settings)
            result.files += [Path(p) for p in getattr(exported, "files", exported or [])]
        else:
            result.notes.append("Exports (SDMX-CSV, XLSX, microdata) are not available yet.")
        with store.engine.begin() as conn:
            store.audit.append(conn, actor="report", action="release.report", subject=str(path),
                               details={"threshold": settings.suppression_threshold,
                                        "tables": result.releases})
    return result
