"""The report says what it counts: people or records (and why), whose country, synthetic or not,
the range across models, and ages from bands when a source gives no years.

Expected figures are worked out here from the rows themselves, not copied from a run.
"""

from __future__ import annotations

import csv
import random
import re
import sys
from html import unescape
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from ctip.domain.analytic import ANALYTIC_COLUMNS, PERPETRATOR_COLUMNS
from ctip.errors import ConfigurationError
from ctip.estimate.api import estimate
from ctip.estimate.histories import from_frame
from ctip.services.report_estimation import estimation_section
from ctip.services.reporting import Linked, report_country, write_report
from ctip.stats.quality import data_quality

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "stats"))
from stats_fixture import load, victim  # noqa: E402

THRESHOLD = 5


def _rows(n: int = 300, seed: int = 3, *, ages: bool = True) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        row = victim(i, year=rng.choice([2021, 2022, 2023]), sex=rng.choice(["female", "male"]),
                     age=rng.choice(range(5, 60)) if ages else None,
                     agency=rng.choice(["police", "ngo", "shelter"]),
                     status=rng.choice(["identified"] * 9 + ["not_a_victim"]),
                     withdrawn=rng.random() < 0.03)
        rows.append(row)
    return rows


def _con(rows: list[dict]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    load(con, "victims", ANALYTIC_COLUMNS, rows)
    load(con, "perpetrators", PERPETRATOR_COLUMNS, [])
    return con


def _first_card(html: str) -> tuple[str, str]:
    match = re.search(r'<div class="fact" role="listitem"><b>([^<]+)</b><span>([^<]+)</span>',
                      html)
    assert match is not None
    return match.group(1), match.group(2)


def _detected(rows: list[dict]) -> list[dict]:
    return [r for r in rows if r["detected"] and not r["consent_withdrawn"]]


def test_without_linkage_the_headline_counts_records_and_says_why(tmp_path: Path) -> None:
    rows = _rows()
    path, _ = write_report(_con(rows), tmp_path, threshold=THRESHOLD)
    html = path.read_text(encoding="utf-8")
    number, label = _first_card(html)
    assert number == f"{len(_detected(rows)):,}" and label == "detected-victim records"
    assert "Records, not people: no linkage run yet" in html


def test_with_a_linkage_run_the_headline_counts_people(tmp_path: Path) -> None:
    rows = _rows()
    rng = random.Random(11)
    # a run that has seen all but the last 20 records; people known to two agencies share a
    # cluster (pairs of consecutive records), and some records are alone
    seen = rows[:-20]
    clusters = pd.DataFrame({"victim_id": [r["victim_id"] for r in seen],
                             "cluster_id": [f"c{i // 2 if rng.random() < 0.6 else i + 10_000}"
                                            for i in range(len(seen))]})
    detected = _detected(rows)
    by_id = dict(zip(clusters["victim_id"], clusters["cluster_id"], strict=True))
    in_run = [r for r in detected if r["victim_id"] in by_id]
    expected = len({by_id[r["victim_id"]] for r in in_run}) + len(detected) - len(in_run)
    assert expected < len(detected)  # the test means something: people < records
    linked = Linked(clusters=clusters, run_date="01 March 2026")
    path, _ = write_report(_con(rows), tmp_path, threshold=THRESHOLD, linked=linked)
    html = path.read_text(encoding="utf-8")
    number, label = _first_card(html)
    assert number == f"{expected:,}" and label == "detected victims (people)"
    assert f"the {len(detected):,} agency records of detected victims are linked into" in html
    assert f"{len(detected) - len(in_run):,} records imported after that run" in html


def test_every_figure_states_its_unit(tmp_path: Path) -> None:
    path, _ = write_report(_con(_rows()), tmp_path, threshold=THRESHOLD)
    html = path.read_text(encoding="utf-8")
    sections = re.findall(r'<section class="figure" id="([a-z_]+)".*?</section>', html, re.S)
    units = re.findall(r'<section class="figure" id="[a-z_]+".*?<p class="note unit">Unit: ',
                       html, re.S)
    assert len(sections) >= 8 and len(units) == len(sections)


def test_title_names_a_country_only_when_set_and_the_demo_says_synthetic(tmp_path: Path) -> None:
    con = _con(_rows())  # every record detected in Malta: still no country unless set
    neutral = write_report(con, tmp_path / "a", threshold=THRESHOLD)[0].read_text("utf-8")
    assert "<h1>Trafficking in persons: detected victims</h1>" in neutral
    assert "Malta" not in re.search(r"<h1>.*?</h1>", neutral).group(0)  # type: ignore[union-attr]
    named = write_report(con, tmp_path / "b", threshold=THRESHOLD,
                         country=report_country("Malta"))[0].read_text("utf-8")
    assert "<h1>Trafficking in persons: detected victims in Malta</h1>" in named
    demo = write_report(con, tmp_path / "c", threshold=THRESHOLD,
                        synthetic=True)[0].read_text("utf-8")
    assert "(synthetic demo data)</h1>" in demo and "Synthetic data made up by" in demo
    with pytest.raises(ConfigurationError, match="not a known country"):
        report_country("Atlantis")


def _section(html: str, key: str) -> str:
    match = re.search(rf'<section class="figure" id="{key}".*?</section>', html, re.S)
    assert match is not None, key
    return match.group(0)


def test_pyramid_uses_bands_when_years_are_absent_and_says_no_data_when_none(
        tmp_path: Path) -> None:
    rows = _rows(ages=False)
    for i, row in enumerate(rows):  # a source's band: under 18 for a third, adult for the rest
        row["age_group"] = "0-17" if i % 3 == 0 else "18+"
    con = _con(rows)
    html = write_report(con, tmp_path / "bands", threshold=THRESHOLD)[0].read_text("utf-8")
    pyramid = _section(html, "age_sex")
    assert "<svg" in pyramid and "The largest age group of detected victims was 18 and over" \
        in pyramid
    quality = data_quality(con)  # a band is a known age: not counted as missing
    assert quality.loc[quality["field"] == "age", "unknown"].sum() == 0
    unknown = _rows(ages=False)  # age_group 'unknown' throughout
    html = write_report(_con(unknown), tmp_path / "none", threshold=THRESHOLD)[0].read_text(
        "utf-8")
    pyramid = _section(html, "age_sex")
    assert "no data" in pyramid and "<svg" not in pyramid


def _three_lists() -> pd.DataFrame:
    rows = [(0, 0, 1, 40), (0, 1, 0, 35), (0, 1, 1, 12), (1, 0, 0, 50), (1, 0, 1, 15),
            (1, 1, 0, 14), (1, 1, 1, 6)]
    return pd.DataFrame(rows, columns=["police", "ngo", "shelter", "count"])


def test_estimate_headline_is_the_range_across_models_with_the_offices_choice() -> None:
    frame = _three_lists()
    methods = ("stepwise", "aic", "bic")
    section = estimation_section(frame, method="bic", methods=methods)
    assert section is not None
    history = from_frame(frame)
    results = {m: estimate(history, m) for m in methods}
    values = [r.estimate for r in results.values() if r.estimable]
    low, high = min(values), max(values)  # type: ignore[type-var]
    title = section["title"]
    if round(low) != round(high):
        assert f"between {low:,.0f} and {high:,.0f} people in all" in title
    assert f"best BIC: {results['bic'].estimate:,.0f}" in title
    assert "Model sensitivity: the defensible models estimate" in section["note"]
    assert unescape(section["table_html"]).count("(office's choice)") == 1


def test_cli_estimate_prints_the_model_sensitivity(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from ctip.cli import app

    path = tmp_path / "lists.csv"
    _three_lists().to_csv(path, index=False)
    out = CliRunner().invoke(app, ["estimate", str(path)])
    assert out.exit_code == 0, out.output
    text = " ".join(out.output.split())
    assert "Model sensitivity: the defensible models estimate" in text
    assert "Read the range, not one number." in text


def _ctdc_sample(shared: Path, out: Path, every: int = 6) -> Path:
    source = shared / "ctdc-kanon-2020-subset" / "ctdc_global_dataset_2020-04-14_subset.csv"
    with source.open(encoding="utf-8", newline="") as f, out.open("w", encoding="utf-8",
                                                                  newline="") as g:
        reader, writer = csv.reader(f), csv.writer(g)
        writer.writerow(next(reader))
        for i, row in enumerate(reader):
            if i % every == 0:
                writer.writerow(row)
    return out


def test_ctdc_report_is_neutral_and_draws_ages_from_age_broad(shared_data: Path, tmp_path: Path,
                                                              ctip_home: Path) -> None:
    from ctip.services.home import init_home
    from ctip.services.importing import import_file
    from ctip.services.reporting import build_report
    from ctip.settings import Settings
    from ctip.storage.repository import CaseStore

    conf = Settings(home=ctip_home)
    init_home(conf)
    sample = _ctdc_sample(shared_data, tmp_path / "ctdc.csv")
    with CaseStore.open(conf, actor="test") as store:
        report = import_file(store, sample, profile="ctdc", agency="CTDC")
    assert report.accepted > 5000
    html = build_report(conf, tmp_path / "report").report.read_text("utf-8")
    assert "<h1>Trafficking in persons: detected victims</h1>" in html  # worldwide data
    pyramid = _section(html, "age_sex")
    assert "<svg" in pyramid and "no data" not in pyramid
    assert "under 18 and 18 and over" in pyramid  # bands, as CTDC gives no years
    number, label = _first_card(html)
    assert label == "detected-victim records"


def test_an_unknown_country_is_refused_in_english_and_in_the_readers_language() -> None:
    """The refusal is a template with the setting in ``params``: the CLI shows it in English and
    a page in Spanish, with the same value filled in and the hint translated too."""
    from starlette.requests import Request

    from ctip.web.pages.common import localised

    with pytest.raises(ConfigurationError) as caught:
        report_country("Atlantis")
    error = caught.value
    assert error.template == "CTIP_COUNTRY / --country {setting} is not a known country"
    assert error.message == "CTIP_COUNTRY / --country 'Atlantis' is not a known country"
    assert error.hint is not None and error.hint.startswith("give an ISO 3166 code")
    spanish = Request({"type": "http", "headers": [], "state": {"locale": "es"}})
    message, hint = localised(spanish, error)
    assert message == "CTIP_COUNTRY / --country 'Atlantis' no es un país conocido"
    assert hint.startswith("indique un código ISO 3166 (GBR, GB, 826)")
