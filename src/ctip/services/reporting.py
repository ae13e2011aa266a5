"""Use case: the national report (``ctip report --out DIR``), a self-contained HTML file.

Each figure is computed by ``ctip.stats``, passed through disclosure control
(``services.statistics.publish``) and only then drawn (``stats.charts``, rendered to inline SVG by
vl-convert: no script, no CDN, works offline). Titles state the finding, computed from published
numbers only. The release is written to the audit log with its parameters, and the publish
engineer's exports (``services.publishing.export_all``) are written beside the report.
"""

from __future__ import annotations

import datetime as dt
import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import jinja2
import pandas as pd

from ctip.services.report_parts import (
    Figure,
    People,
    cell_value,
    country_name,
    fmt,
    headline_facts,
    html_table,
    linked_people,
    pyramid_figure,
    sdg_figure,
)
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
from ctip.stats.registry import StatTable, table_spec
from ctip.stats.sdg import sdg_16_2_2
from ctip.stats.tables import perpetrators_by, reporting_country_of, victims_by

TOP_ORIGINS = 10
NAV = {"trend": "Trend", "age_sex": "Age and sex", "forms": "Forms", "flows": "Flows",
       "flow_shares": "Distance", "disability": "Disability", "sdg": "SDG 16.2.2",
       "perpetrators": "Justice", "international": "World", "estimate": "Hidden victims",
       "quality": "Data quality",
       "empty": "No data"}
OTHER_ORIGINS = "Other countries"


@dataclass
class ReportResult:
    report: Path
    files: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    releases: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"report": str(self.report), "files": [str(f) for f in self.files],
                "notes": self.notes, "releases": self.releases}


def report_country(setting: str | None) -> str | None:
    """ISO3 of ``Settings.country`` (code or English name); None when not set."""
    from ctip.domain.countries import normalise_country
    from ctip.errors import ConfigurationError

    if setting is None or not setting.strip():
        return None
    iso3 = normalise_country(setting.strip())
    if iso3 is None:
        raise ConfigurationError(
            "CTIP_COUNTRY / --country {setting} is not a known country",
            hint="give an ISO 3166 code (GBR, GB, 826) or an English name (United Kingdom)",
            params={"setting": repr(setting)})
    return iso3


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
            note += (f" {country_name(iso3)} last reported {int(row['value']):,} detected "
                     f"victims to UNODC, for {int(row['year'])}.")
    return Figure("international", title, charts.to_svg(charts.regional_trend_chart(regions,
                                                                                     None)),
                  note=note, unit="detected victims as each country reported them to UNODC")


def compute_figures(con: duckdb.DuckDBPyConnection, *, threshold: int,
                    country: str | None = None, people: People | None = None) -> tuple[
        dict[str, Any], list[Figure], dict[str, PublishedTable]]:
    """Every figure of the report, from published tables only. Returns (facts, figures, tables).

    ``country``: ISO3 of the country the report is about (``Settings.country``); None names no
    country. ``people``: the linked count of detected victims for the headline."""
    sym = HIDDEN
    data_country = reporting_country_of(con)
    name = country_name(country) if country else None
    pub: dict[str, PublishedTable] = {}

    def add(key: str, table: StatTable) -> PublishedTable:
        pub[key] = publish(table, threshold=threshold)
        return pub[key]

    trend = add("trend", _stat("victims", ["year", "victim_group"],
                               victims_by(con, ["year", "victim_group"], margins=True)))
    years = sorted(y for y in trend.frame["year"].astype(str).unique() if y.isdigit())
    total = cell_value(trend, year="total", victim_group="total")
    facts: dict[str, Any] = {"country": name, "iso3": country, "first_year": years[0] if years
                             else None, "last_year": years[-1] if years else None,
                             "threshold": threshold, "hidden": HIDDEN,
                             "records": fmt(total, sym)}
    headline_facts(facts, total, people, threshold)
    figures: list[Figure] = []
    if not total:
        figures.append(Figure("empty", "No detected victims in the store yet", note=(
            "Import case records (`ctip import FILE`), then run `ctip report` again."), unit=""))
        return facts, figures, pub

    # 1. trend
    title = "Detected victims by year"
    if len(years) >= 2:
        last, prev = cell_value(trend, year=years[-1], victim_group="total"), cell_value(
            trend, year=years[-2], victim_group="total")
        if last is not None and prev is not None:
            verb = "rose" if last > prev else "fell" if last < prev else "held steady"
            title = (f"Detected victims {verb} from {prev:,} in {years[-2]} to {last:,} "
                     f"in {years[-1]}")
    figures.append(Figure("trend", title, charts.to_svg(charts.trend_chart(trend.frame, None)),
                          note="Women, men, girls (under 18) and boys; 'unknown' where sex or age "
                          "was not recorded. Points hidden for disclosure control are not drawn."))

    # key shares (of published totals)
    women_girls = [cell_value(trend, year="total", victim_group=g) for g in ("women", "girls")]
    children = [cell_value(trend, year="total", victim_group=g) for g in ("girls", "boys")]
    if total and None not in women_girls:
        facts["women_girls_share"] = f"{sum(women_girls) / total:.0%}"  # type: ignore[arg-type]
    if total and None not in children:
        facts["children_share"] = f"{sum(children) / total:.0%}"  # type: ignore[arg-type]

    # 2. age-sex pyramid
    pyr = add("age_sex", _stat("victims-by-age-sex", ["sex", "age_band"],
                               victims_by(con, ["sex", "age_band"], margins=True)))
    figures.append(pyramid_figure(pyr))

    # 3. forms of exploitation
    forms = add("forms", _stat("victims-by-form", ["unodc_form"],
                               victims_by(con, ["unodc_form"], margins=True)))
    known = forms.frame[~forms.frame["unodc_form"].isin(["total", "unknown"])].dropna(
        subset=["count"])
    title = "Detected victims by form of exploitation"
    if not known.empty and total:
        top = known.loc[known["count"].astype(int).idxmax()]
        label = charts.FORM_LABELS.get(top["unodc_form"], top["unodc_form"])
        title = (f"{label} was the most common form: {int(top['count']):,} of {total:,} "
                 "victim records")
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
    title = (f"Where victims detected in {name} came from" if name else
             "Where detected victims came from")
    if not dom.empty and pd.notna(dom.iloc[0]):
        foreign = 1 - float(dom.iloc[0])
        title = (f"{foreign:.0%} of victims with a known citizenship were foreign nationals")
        facts["foreign_share"] = f"{foreign:.0%}"
    labels = {o: country_name(o) if len(o) == 3 and o.isupper() else o
              for o in flow.frame["origin"].astype(str)}
    labels.update({d: country_name(d) for d in flow.frame["destination"].astype(str)
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
        "citizenship and country of detection are both known.",
        unit="share of agency records of detected victims whose citizenship and country of "
        "detection are both known"))

    # 5. disability
    dis = add("disability", _stat("victims-by-disability", ["disability"],
                                  victims_by(con, ["disability"], margins=True)))
    title = "Detected victims by disability"
    n_dis = cell_value(dis, disability="disability")
    if n_dis is not None and total:
        title = f"{n_dis:,} detected-victim records ({n_dis / total:.0%}) show a disability"
    dis_labels = {"disability": "Person with disability", "no_disability": "No disability",
                  "unknown": "Not known"}
    figures.append(Figure("disability", title, charts.to_svg(charts.bar_chart(
        dis.frame, "disability", None, dis_labels, order=["disability", "no_disability",
                                                           "unknown"],
        colour=charts.OKABE_ITO[2])), note="Declaration para 24 asks for figures by disability."))

    # 6. SDG 16.2.2
    sdg = add("sdg", _stat("sdg-16-2-2", [], sdg_16_2_2(con)))
    figures.append(sdg_figure(sdg, country or data_country, sym,
                               guessed=country is None and data_country is not None))

    # 7. perpetrators
    per = add("perpetrators", _stat("perpetrators", ["stage", "sex"],
                                    perpetrators_by(con, ["stage", "sex"], margins=True)))
    if per.frame.empty or cell_value(per, stage="total", sex="total") in (None, 0) and \
            per.frame["count"].fillna(0).sum() == 0:
        figures.append(Figure("perpetrators", "Suspected, prosecuted and convicted persons",
                              note="No perpetrator records are in the store yet: import the "
                              "criminal-justice data (GLOTIP Q2-Q4) to fill this table.",
                              unit="persons, once per stage of the justice process"))
    else:
        wide = per.frame.pivot_table(index="stage", columns="sex", values="display",
                                     aggfunc="first").reset_index()
        stage_order = {s: i for i, s in enumerate(["suspected", "prosecuted", "convicted",
                                                   "acquitted", "total"])}
        wide = wide.sort_values("stage", key=lambda s: s.map(stage_order))
        cols = {"stage": "Stage", **{c: c.capitalize() for c in ("female", "male", "other",
                                                                 "unknown", "total")
                                     if c in wide.columns}}
        convicted = cell_value(per, stage="convicted", sex="total")
        title = ("Persons suspected, prosecuted and convicted" if convicted is None else
                 f"{convicted:,} persons were convicted of trafficking in persons")
        figures.append(Figure("perpetrators", title, table_html=html_table(
            wide.fillna(""), cols, numeric=set(cols) - {"stage"}),
            note="GLOTIP Q2-Q4: persons brought into formal contact, prosecuted and convicted.",
            unit="persons, once per stage of the justice process"))

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
                          note="Per agency; grey cells are hidden by disclosure control.",
                          unit="share of an agency's records with the field unknown"))
    return facts, figures, pub


SYNTHETIC_NOTE = ("Synthetic data made up by `ctip demo`: no figure here describes real people "
                  "or a real country.")


def default_title(facts: dict[str, Any], *, synthetic: bool = False) -> str:
    """Names the country only when one was set (``Settings.country``): records alone do not
    say whose report it is (CTDC data, for one, is worldwide)."""
    where = f" in {facts['country']}" if facts.get("country") else ""
    title = f"Trafficking in persons: detected victims{where}"
    return title + " (synthetic demo data)" if synthetic else title


def render_report(facts: dict[str, Any], figures: list[Figure], pub: dict[str, PublishedTable],
                  *, title: str | None = None, synthetic: bool = False) -> str:
    env = jinja2.Environment(loader=jinja2.PackageLoader("ctip.services", "templates"),
                             autoescape=jinja2.select_autoescape(["html"]))
    template = env.get_template("report.html")
    suppression = [
        {"table": p.title, "cells": p.suppression.get("cells", len(p.frame)),
         "hidden": int(p.frame["suppressed"].sum()) if "suppressed" in p.frame else 0}
        for p in pub.values()]
    return template.render(
        title=title or default_title(facts, synthetic=synthetic),
        synthetic=SYNTHETIC_NOTE if synthetic else "",
        facts=facts, figures=figures, suppression=suppression, nav=NAV,
        generated=dt.datetime.now(dt.UTC).strftime("%d %B %Y, %H:%M UTC"))


@dataclass
class Linked:
    """What the latest linkage run gives the report: the estimation section and the people."""

    figures: tuple[Figure, ...] = ()
    clusters: pd.DataFrame | None = None
    run_date: str = ""
    estimate_range: tuple[float, float] | None = None
    estimate_method: str = ""


def write_report(con: duckdb.DuckDBPyConnection, out: Path, *, threshold: int,
                 title: str | None = None, glotip: Path | None = None,
                 extra: tuple[Figure, ...] = (), country: str | None = None,
                 linked: Linked | None = None, synthetic: bool = False,
                 ) -> tuple[Path, dict[str, PublishedTable]]:
    """Compute, protect, draw and write report.html into ``out``; returns its path and tables.

    ``glotip``: UNODC's GLOTIP export, for a section putting the national figures in context.
    ``country``: ISO3 the report is about (None: a title naming no country). ``linked``: the
    latest linkage run's people and estimate; without it the headline counts records.
    """
    people = None
    if linked is not None and linked.clusters is not None:
        people = linked_people(con, linked.clusters, linked.run_date)
    facts, figures, pub = compute_figures(con, threshold=threshold, country=country,
                                          people=people)
    if linked is not None and linked.estimate_range is not None:
        low, high = linked.estimate_range
        facts["estimate"] = (f"{low:,.0f}" if round(low) == round(high) else
                             f"{low:,.0f}\u2013{high:,.0f}")
        facts["estimate_method"] = linked.estimate_method
    if glotip is not None:
        place = next((i for i, f in enumerate(figures) if f.key == "quality"), len(figures))
        figures.insert(place, international_figure(glotip, facts.get("iso3")))
    for figure in (*extra, *(linked.figures if linked else ())):
        place = next((i for i, f in enumerate(figures) if f.key == "quality"), len(figures))
        figures.insert(place, figure)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "report.html"
    path.write_text(render_report(facts, figures, pub, title=title, synthetic=synthetic),
                    encoding="utf-8")
    return path, pub


def _export_all() -> Any:
    """The publish engineer's ``services.publishing.export_all`` when it is installed."""
    try:
        module = importlib.import_module("ctip.services.publishing")
    except ModuleNotFoundError:
        return None
    return getattr(module, "export_all", None)


def _linked(store: Any, method: str, given: dict[str, Any] | None = None) -> Linked | None:
    """The latest linkage run's people and estimation section, or None before any run."""
    from ctip.errors import NotFoundError
    from ctip.estimate.sensitivity import LABELS
    from ctip.services import linkage
    from ctip.services.report_estimation import estimation_section

    try:
        with store.engine.connect() as conn:
            run = linkage.tables.latest_run(conn)
    except NotFoundError:
        return None  # no linkage run yet: records only, nothing to estimate from
    clusters = linkage.cluster_table(store)
    linked = Linked(clusters=clusters, run_date=f"{run.started_at:%d %B %Y}",
                    estimate_method=LABELS.get(method, method))
    note = (f"Lists linked by the linkage run of {run.started_at:%d %B %Y}: {run.records:,} "
            f"records, {run.clusters:,} people, {run.review_pairs:,} borderline pairs for review.")
    section = estimation_section(linkage.histories_from(clusters, pd.DataFrame()),
                                 linkage_note=note, method=method, given=given)
    if section is not None:
        linked.figures = (Figure("estimate", section["title"], section["svg"],
                                 section["table_html"], section["note"],
                                 unit="people (linked across agencies), not records"),)
        linked.estimate_range = section["range"]
    return linked


def build_report(settings: Settings, out: Path, *, title: str | None = None,
                 glotip: Path | None = None, synthetic: bool = False,
                 estimates: dict[str, Any] | None = None) -> ReportResult:
    """``ctip report``: the HTML report and the exports from the store, audited as a release.

    ``synthetic``: the store holds made-up data (``ctip demo``): the report says so.
    ``estimates``: method -> result already computed on the latest run's histories (reused)."""
    from ctip.storage.repository import CaseStore

    country = report_country(settings.country)
    with CaseStore.open(settings, actor="report") as store:
        linked = _linked(store, settings.estimate_method, estimates)
        with analytic_connection(store) as con:
            path, pub = write_report(con, out, threshold=settings.suppression_threshold,
                                     title=title, glotip=glotip, country=country,
                                     linked=linked, synthetic=synthetic)
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
                                        "country": country, "synthetic": synthetic,
                                        "tables": result.releases})
    return result
