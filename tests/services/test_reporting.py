"""The report: built from a hand-made analytic view and from a real store; safe, offline, drawn.

Checks: no published cell below the threshold (tables and the HTML), no identity value, no
external resource; the store-backed run writes report.html and audits the release; headless
Chromium opens the file, every chart renders marks, and a screenshot is taken.
"""

from __future__ import annotations

import csv
import json
import random
import re
import sys
from pathlib import Path

import duckdb
import pytest
import sqlalchemy as sa

from ctip.domain.analytic import ANALYTIC_COLUMNS, PERPETRATOR_COLUMNS
from ctip.services.reporting import build_report, write_report
from ctip.services.statistics import QUALITY_LARGE_GROUP
from ctip.settings import Settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "stats"))
from stats_fixture import FIXTURE_PERPETRATORS, load, victim  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
THRESHOLD = 5
ORIGINS = ["MLT", "MLT", "MLT", "ROU", "ITA", "NGA", "PHL", "SYR", "unknown", "UKR"]
FORMS = [
    ("sexual_exploitation",),
    ("forced_labour",),
    ("forced_labour", "sexual_exploitation"),
    ("forced_begging",),
    None,
    ("organ_removal",),
]


def _victims(n: int = 400, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        row = victim(
            i,
            year=rng.choice([2020, 2021, 2022, 2023, None]),
            sex=rng.choice(["female"] * 5 + ["male"] * 4 + ["unknown"]),
            age=rng.choice([None, *range(3, 70)]),
            forms=rng.choice(FORMS),
            citizenship=rng.choice(ORIGINS),
            detection="MLT",
            disability=rng.choice(["no_disability", "disability", "unknown"]),
            agency=rng.choice(["police", "ngo", "labour-inspection"]),
        )
        row["victim_id"] = f"VICTIMID{i:05d}"
        row["pseudonym"] = f"PSEUDONYM{i:05d}"
        rows.append(row)
    return rows


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """Built once for the module: rendering the charts takes a few seconds."""
    con = duckdb.connect()
    load(con, "victims", ANALYTIC_COLUMNS, _victims())
    load(con, "perpetrators", PERPETRATOR_COLUMNS, FIXTURE_PERPETRATORS * 4)
    path, tables = write_report(con, tmp_path_factory.mktemp("report"), threshold=THRESHOLD)
    return path, tables


def test_no_published_cell_below_threshold(report):
    path, tables = report
    for name, table in tables.items():
        frame = table.frame
        if name == "quality":  # gaps counted in a large agency are shown (not counts of victims)
            frame = frame[~(frame["records"].fillna(0) >= QUALITY_LARGE_GROUP * THRESHOLD)]
        shown = frame.loc[~frame["suppressed"], "count"].astype(int)
        assert not ((shown > 0) & (shown < THRESHOLD)).any(), name
        assert frame.loc[frame["suppressed"], "display"].eq("x").all(), name
    assert any(t.frame["suppressed"].any() for t in tables.values())  # the fixture has small cells
    html = path.read_text(encoding="utf-8")
    for cell in re.findall(r"<td class=num>([^<]*)</td>", html):
        counts = re.findall(r"\((\d[\d,]*)\)", cell) or (
            [cell] if re.fullmatch(r"\d[\d,]*", cell) else []
        )
        for count in counts:
            n = int(count.replace(",", ""))
            assert n == 0 or n >= THRESHOLD, cell


def test_no_identity_and_nothing_external(report):
    path, _ = report
    html = path.read_text(encoding="utf-8")
    assert "VICTIMID" not in html and "PSEUDONYM" not in html
    assert "<script" not in html.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?https?:""", html, re.I)
    assert "@import" not in html and "url(http" not in html
    assert html.count("<svg") >= 7  # trend, pyramid, forms, flows, distance, disability, quality


def test_titles_state_findings(report):
    html = report[0].read_text(encoding="utf-8")
    titles = re.findall(r'<h2 id="[a-z_]+-title">([^<]+)</h2>', html)
    assert any(re.search(r"(rose|fell|held steady) from", t) for t in titles), titles
    assert any("most common form" in t for t in titles), titles
    assert any("per 100,000" in t for t in titles), titles


@pytest.mark.browser
def test_report_renders_in_headless_chromium(report, tmp_path):
    if not CHROMIUM.exists():
        pytest.skip("headless Chromium not installed at /usr/bin/chromium (CI installs it)")
    from playwright.sync_api import sync_playwright

    path, _ = report
    shot = tmp_path / "report.png"
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 900})
            requests: list[str] = []
            page.on("request", lambda r: requests.append(r.url))
            page.goto(path.as_uri())
            charts = page.locator("figure.chart svg")
            assert charts.count() >= 7
            for i in range(charts.count()):
                svg = charts.nth(i)
                box = svg.bounding_box()
                assert box and box["width"] > 200 and box["height"] > 40, i
                marks = svg.locator("g[class*='role-mark'] path, g[class*='role-mark'] rect")
                assert marks.count() > 0, f"chart {i} has no marks"
            assert page.locator("h1").inner_text().startswith("Trafficking in persons")
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert shot.stat().st_size > 50_000
    assert all(u.startswith("file:") or u.startswith("data:") for u in requests), requests


def _small_canonical_file(tmp_path: Path, rows: int = 150) -> Path:
    from importlib import resources

    source = resources.files("ctip.demo_data").joinpath("files/police-national.csv")
    target = tmp_path / "police-sample.csv"
    with (
        source.open("r", encoding="utf-8", newline="") as f,
        target.open("w", encoding="utf-8", newline="") as out,
    ):
        reader = csv.reader(f)
        writer = csv.writer(out)
        for i, row in enumerate(reader):
            if i > rows:
                break
            writer.writerow(row)
    return target


def test_report_from_a_store_is_audited(tmp_path, ctip_home):
    from ctip.services.home import init_home
    from ctip.services.importing import import_file
    from ctip.storage.repository import CaseStore

    settings = Settings(home=ctip_home)
    init_home(settings)
    with CaseStore.open(settings, actor="test") as store:
        import_file(store, _small_canonical_file(tmp_path), profile="canonical")
    result = build_report(settings, tmp_path / "report")
    assert result.report.exists() and result.report.name == "report.html"
    html = result.report.read_text(encoding="utf-8")
    assert "detected victims" in html.lower()
    with CaseStore.open(settings, actor="test") as store, store.engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT details FROM audit_log WHERE action = 'release.report'")
        ).fetchall()
        assert len(rows) == 1
        details = json.loads(rows[0][0])
        assert details["threshold"] == settings.suppression_threshold
        assert "trend" in details["tables"]
        assert store.audit.verify(conn).ok


def test_cli_stats_json_is_suppressed(tmp_path, ctip_home):
    from typer.testing import CliRunner

    from ctip.cli import app
    from ctip.services.home import init_home
    from ctip.services.importing import import_file
    from ctip.storage.repository import CaseStore

    settings = Settings(home=ctip_home)
    init_home(settings)
    with CaseStore.open(settings, actor="test") as store:
        import_file(store, _small_canonical_file(tmp_path, 80), profile="canonical")
    runner = CliRunner()
    out = runner.invoke(app, ["stats", "victims", "--by", "year,sex", "--format", "json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    counts = [r["count"] for r in doc["rows"] if r["count"] is not None]
    assert counts and all(c == 0 or c >= THRESHOLD for c in counts)
    bad = runner.invoke(app, ["stats", "victims", "--by", "shoe_size"])
    assert bad.exit_code != 0
    listing = runner.invoke(app, ["stats", "--format", "json"])
    assert {t["name"] for t in json.loads(listing.output)} >= {"victims", "sdg-16-2-2"}


def test_empty_store_says_so(tmp_path):
    con = duckdb.connect()
    load(con, "victims", ANALYTIC_COLUMNS, [])
    load(con, "perpetrators", PERPETRATOR_COLUMNS, [])
    path, _ = write_report(con, tmp_path, threshold=THRESHOLD)
    html = path.read_text(encoding="utf-8")
    assert "No detected victims in the store yet" in html and "<svg" not in html


@pytest.mark.shared_data
def test_report_with_international_context(shared_data, tmp_path):
    con = duckdb.connect()
    load(con, "victims", ANALYTIC_COLUMNS, _victims(60))
    load(con, "perpetrators", PERPETRATOR_COLUMNS, [])
    glotip = shared_data / "unodc-glotip" / "data_glotip.csv"
    path, _ = write_report(con, tmp_path, threshold=THRESHOLD, glotip=glotip, country="MLT")
    html = path.read_text(encoding="utf-8")
    assert "Worldwide, 112 countries reported 75,128 detected victims to UNODC in 2022" in html
    assert "Malta last reported" in html
