"""export_all: SDMX-CSV, UNODC XLSX, CTDC microdata and datapackage.json from a real store;
no cell below the threshold, no identity, a valid data package, every release audited."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook
from publish_helpers import perpetrators, victim_records

from ctip.publish.exports.sdmx import HEADER
from ctip.services.home import init_home
from ctip.services.publishing import MICRODATA_FILE, SDMX_FILE, XLSX_FILE, export_all
from ctip.settings import Settings
from ctip.storage import releases as ledger
from ctip.storage.repository import CaseStore

THRESHOLD = 5


def _settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        home=tmp_path / "home",
        database_url=database_url,
        seal_key=None,
        pseudonym_key=None,
        key_file=None,
        pseudonym_key_file=None,
        suppression_threshold=THRESHOLD,
        k_anonymity=11,
    )


def _export(tmp: Path, database_url: str):  # type: ignore[no-untyped-def]
    settings = _settings(tmp, database_url)
    init_home(settings)
    with CaseStore.open(settings, actor="tester") as store:
        batch = store.start_batch(
            source_file="a.csv", file_sha256=None, profile="canonical", agency="police"
        )
        store.add_victims(batch, victim_records(600, seed=4))
        store.add_perpetrators(batch, perpetrators(120, seed=4))
        store.finish_batch(batch, read=600, accepted=600, rejected=0)
        out = tmp / "out"
        out.mkdir()
        (out / "report.html").write_text("<html><body>report</body></html>", encoding="utf-8")
        files = export_all(store, out, settings)
        with store.engine.connect() as conn:
            audit = list(store.audit.entries(conn))
            recorded = ledger.list_releases(conn)
            verified = store.audit.verify(conn)
    return out, files, audit, recorded, verified


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """One release on SQLite, shared by the content checks (they do not depend on the backend)."""
    tmp = tmp_path_factory.mktemp("export")
    return _export(tmp, f"sqlite:///{tmp / 'ctip.db'}")


def _all_text(out: Path) -> str:
    parts = []
    for path in out.iterdir():
        if path.suffix == ".xlsx":
            for sheet in load_workbook(path, read_only=True):
                for row in sheet.iter_rows(values_only=True):
                    parts.append(" ".join("" if v is None else str(v) for v in row))
        else:
            parts.append(path.read_text(encoding="utf-8-sig"))
    return "\n".join(parts)


def test_every_file_is_written_and_described(exported):
    out, files, _, _, _ = exported
    names = {p.name for p in files}
    assert {SDMX_FILE, XLSX_FILE, MICRODATA_FILE, "datapackage.json"} <= names
    package = json.loads((out / "datapackage.json").read_text())
    described = {r["path"] for r in package["resources"]}
    assert described == {p.name for p in out.iterdir() if p.name != "datapackage.json"}
    assert package["ctip"]["k"] == 11


def test_data_package_validates_with_frictionless(exported):
    out = exported[0]
    cli = Path(sys.executable).with_name("frictionless")
    run = subprocess.run(
        [str(cli), "validate", "--json", "datapackage.json"],
        cwd=out,
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = json.loads(run.stdout)
    assert report["valid"], json.dumps(report)[:2000]


def test_no_cell_below_threshold_and_no_identity(exported):
    out = exported[0]
    text = _all_text(out)
    for secret in ("Zorbanella", "Quistwhorp", "PX99887", "1991-07-14", "Story told"):
        assert secret not in text
    with open(out / SDMX_FILE, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0].keys()) == list(HEADER)
    counts = [r for r in rows if r["UNIT_MEASURE"] == "NUMBER"]
    assert counts and {r["REF_AREA"] for r in counts} == {"380", "250"}  # Italy as M49
    for r in counts:
        if r["OBS_STATUS"] == "C":
            assert r["OBS_VALUE"] == ""
        else:
            assert int(r["OBS_VALUE"]) == 0 or int(r["OBS_VALUE"]) >= THRESHOLD
    workbook = load_workbook(out / XLSX_FILE, read_only=True)
    assert {"Q2 Formal contact", "Q3 Prosecuted", "Q4 Convicted", "Q5 Victims"} <= set(
        workbook.sheetnames
    )
    q6 = list(workbook["Q6 Nationals abroad"].iter_rows(min_row=2, values_only=True))
    abroad = sum(1 for r in victim_records(600, seed=4) if r.country_of_detection == "FRA")
    assert q6 == [("FRA", abroad)]  # own nationals (Italy reports) detected in France
    q2 = list(workbook["Q2 Formal contact"].iter_rows(min_row=2, values_only=True))
    assert [row[0] for row in q2] == ["2021", "2022", "2023"]
    numbers = [
        v
        for sheet in workbook
        for row in sheet.iter_rows(min_row=2, values_only=True)
        for v in row
        if isinstance(v, int) and not isinstance(v, bool)
    ]
    years = {2021, 2022, 2023}
    assert numbers and all(v == 0 or v >= THRESHOLD or v in years for v in numbers)


def test_microdata_is_k_anonymous_in_ctdc_layout(exported):
    out = exported[0]
    with open(out / MICRODATA_FILE, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows and "yearOfRegistration" in rows[0] and "isSexualExploit" in rows[0]
    classes: dict[tuple, int] = {}
    for r in rows:
        key = (
            r["yearOfRegistration"],
            r["gender"],
            r["ageBroad"],
            r["citizenship"],
            r["CountryOfExploitation"],
        )
        classes[key] = classes.get(key, 0) + 1
    assert min(classes.values()) >= 11


def test_every_release_is_audited_with_its_parameters(tmp_path, database_url, ctip_home):
    _, _, audit, recorded, verified = _export(tmp_path, database_url)
    kinds = {e.action for e in audit if e.action.startswith("release.")}
    assert {"release.suppressed_table", "release.kanon_microdata"} <= kinds
    micro = next(e for e in audit if e.action == "release.kanon_microdata")
    assert (
        micro.details["k"] == 11
        and "l_diversity" in micro.details
        and "suppressed_share" in micro.details
    )
    assert {r.parameters["file"] for r in recorded} == {SDMX_FILE, XLSX_FILE, MICRODATA_FILE}
    assert verified.ok
