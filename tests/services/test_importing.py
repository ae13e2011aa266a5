"""Importing into a real case store: exact reconciliation, rejects kept, idempotent re-import."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from ctip.cli import app
from ctip.errors import InputFileError
from ctip.services.home import init_home
from ctip.services.importing import export_rejects, import_file
from ctip.settings import Settings
from ctip.storage.repository import CaseStore

CORPUS = Path(__file__).resolve().parents[1] / "data" / "malformed"
HEADER = CORPUS.joinpath("header_only.csv").read_text().strip()


def make_settings(home: Path, database_url: str | None = None) -> Settings:
    return Settings(
        home=home,
        database_url=database_url,
        seal_key=None,
        pseudonym_key=None,
        key_file=None,
        pseudonym_key_file=None,
        batch_size=3,
    )


@pytest.fixture
def conf(tmp_path: Path, ctip_home: Path) -> Settings:
    settings = make_settings(ctip_home)
    init_home(settings)
    return settings


@pytest.fixture
def store(conf: Settings) -> Iterator[CaseStore]:
    with CaseStore.open(conf, actor="tester") as opened:
        yield opened


# file -> (read, accepted, rejected, rejected rows, text every reason of that row contains)
EXPECTED: dict[str, tuple[int, int, int, dict[int, str]]] = {
    "utf8.csv": (3, 3, 0, {}),
    "utf8_bom.csv": (3, 3, 0, {}),
    "utf16_bom.csv": (3, 3, 0, {}),
    "cp1252.csv": (3, 3, 0, {}),
    "semicolon.csv": (2, 2, 0, {}),
    "tab.tsv": (2, 2, 0, {}),
    "pipe.csv": (2, 2, 0, {}),
    "quoted_newlines.csv": (2, 2, 0, {}),
    "unterminated_quote.csv": (2, 1, 1, {3: "never closed"}),
    "missing_optional_columns.csv": (2, 2, 0, {}),
    "extra_columns.csv": (2, 2, 0, {}),
    "wrong_field_count.csv": (3, 1, 2, {3: "3 fields", 4: "13 fields"}),
    "bad_dates.csv": (
        5,
        1,
        4,
        {3: "not a valid date", 4: "not a valid date", 5: "in the future", 6: "before 1900"},
    ),
    "ages.csv": (
        6,
        2,
        4,
        {2: "outside 0-120", 3: "outside 0-120", 4: "not a whole number", 5: "not a whole number"},
    ),
    "unknown_countries.csv": (
        4,
        2,
        2,
        {2: "'Atlantis' is not a known country", 3: "not a known country"},
    ),
    "unknown_codes.csv": (
        4,
        1,
        3,
        {
            2: "not a code of sex",
            3: "not a code of identification_status",
            4: "'juggling' is not a code",
        },
    ),
    "missing_required_values.csv": (3, 1, 2, {2: "source_record_id", 3: "agency"}),
    "nul_bytes.csv": (2, 1, 1, {3: "U+0000"}),
    "control_chars.csv": (2, 1, 1, {3: "U+0007"}),
    "formula_injection.csv": (2, 1, 1, {3: "'=cmd' is not a code"}),
    "html_script.csv": (1, 1, 0, {}),
    "header_only.csv": (0, 0, 0, {}),
    "duplicates.csv": (
        4,
        2,
        2,
        {4: "duplicate of row 2", 5: "already used at row 2 with different content"},
    ),
    "broken.jsonl": (
        6,
        2,
        4,
        {3: "not valid JSON", 4: "not a JSON object", 5: "nested", 7: "outside 0-120"},
    ),
}
UNREADABLE = [
    "undecodable.csv",
    "mixed_utf8.csv",
    "binary.csv",
    "empty.csv",
    "whitespace_only.csv",
    "old_excel.xls",
    "not_a_workbook.xlsx",
    "duplicate_header.csv",
    "missing_required_column.csv",
]


def test_the_corpus_lists_every_file() -> None:
    assert {p.name for p in CORPUS.iterdir()} == set(EXPECTED) | set(UNREADABLE)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_file_reconciles_exactly_and_keeps_every_reject(store: CaseStore, name: str) -> None:
    read, accepted, rejected, reasons = EXPECTED[name]
    report = import_file(store, CORPUS / name)
    assert (report.read, report.accepted, report.rejected) == (read, accepted, rejected)
    assert report.read == report.accepted + report.rejected
    assert report.new == accepted and report.rejects_stored == rejected
    kept = {r.source_row: r for r in store.rejects(report.batch_id)}
    assert set(kept) == set(reasons)
    for row, text in reasons.items():
        assert any(text in reason for reason in kept[row].reasons), kept[row].reasons
        assert all(reason.startswith(f"file {name}, row {row}") for reason in kept[row].reasons)
    batch = next(b for b in store.batches() if b.batch_id == report.batch_id)
    assert (batch.read, batch.accepted, batch.rejected) == (read, accepted, rejected)


@pytest.mark.parametrize("name", UNREADABLE)
def test_unreadable_file_is_one_error_and_stores_nothing(store: CaseStore, name: str) -> None:
    with pytest.raises(InputFileError):
        import_file(store, CORPUS / name)
    assert store.batches() == [] and store.victim_count() == 0


def test_html_and_formulas_are_stored_as_text(store: CaseStore) -> None:
    def identity_of_r1() -> object:
        (victim_id,) = store.victim_ids()
        return store.identities([victim_id], actor="tester", reason="test: text stored verbatim")[
            victim_id
        ]

    import_file(store, CORPUS / "html_script.csv")
    html = identity_of_r1()
    assert html.narrative == '<img src=x onerror=alert(1)> & "quoted"'  # type: ignore[attr-defined]
    assert html.family_name == "<script>alert(1)</script>"  # type: ignore[attr-defined]
    report = import_file(store, CORPUS / "formula_injection.csv")  # same R1 of ngo-a: an update
    assert report.updated == 1
    formula = identity_of_r1()
    assert formula.narrative == "@SUM(A1)" and formula.family_name == "+cmd|calc"  # type: ignore[attr-defined]


def test_one_megabyte_cell_is_rejected_with_its_size(store: CaseStore, tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_text(
        f"{HEADER}\nR1,ngo-a,2023-01-01,identified,female,20,NGA,ITA,,,,{'x' * 1_048_576}\n"
        "R2,ngo-a,2023-01-01,identified,female,20,NGA,ITA,,,,short\n",
        encoding="utf-8",
    )
    report = import_file(store, path)
    assert (report.read, report.accepted, report.rejected) == (2, 1, 1)
    (reject,) = store.rejects(report.batch_id)
    assert reject.source_row == 2 and "1,048,576 characters" in reject.reasons[0]


def test_reimport_adds_nothing_and_says_unchanged(store: CaseStore) -> None:
    first = import_file(store, CORPUS / "duplicates.csv")
    second = import_file(store, CORPUS / "duplicates.csv")
    assert (second.read, second.accepted, second.rejected) == (
        first.read,
        first.accepted,
        first.rejected,
    )
    assert second.new == 0 and second.unchanged == first.accepted and second.rejects_stored == 0
    assert store.victim_count() == first.accepted and store.reject_count() == first.rejected


def test_agency_option_fills_rows_without_one(store: CaseStore, tmp_path: Path) -> None:
    path = tmp_path / "no_agency.csv"
    path.write_text("source_record_id,sex\nA1,female\nA2,male\n", encoding="utf-8")
    report = import_file(store, path, agency="labour-inspectorate")
    assert report.accepted == 2
    assert {r["agency"] for r in store.analytic_rows()} == {"labour-inspectorate"}


def test_rejects_export_neutralises_formulas_and_withholds_identity(
    conf: Settings, store: CaseStore, tmp_path: Path
) -> None:
    source = tmp_path / "=HYPERLINK(1).csv"
    source.write_text(
        f"{HEADER}\nR1,ngo-a,2023-01-01,identified,female,999,NGA,ITA,,Secretina,Doe,\n",
        encoding="utf-8",
    )
    report = import_file(store, source)
    out = tmp_path / "rejects.csv"
    assert export_rejects(conf, out, batch_id=report.batch_id) == 1
    with open(out, encoding="utf-8-sig", newline="") as f:
        (row,) = list(csv.DictReader(f))
    assert row["source_file"] == "'=HYPERLINK(1).csv"
    assert "Secretina" not in out.read_text(encoding="utf-8-sig")
    assert row["columns"] == "age_at_identification" and "outside 0-120" in row["reasons"]
    assert "999" not in row["reasons"] + row["raw"]  # raw content only with --with-identity
    assert export_rejects(
        conf, out, batch_id=report.batch_id, include_identity=True, reason="fix the source"
    ) == 1
    with open(out, encoding="utf-8-sig", newline="") as f:
        (row,) = list(csv.DictReader(f))
    assert json.loads(row["raw"])["age_at_identification"] == "999"


def test_cli_import_twice_is_idempotent_and_unreadable_files_exit_non_zero(conf: Settings) -> None:
    runner = CliRunner()
    first = runner.invoke(app, ["import", str(CORPUS / "bad_dates.csv"), "--json"])
    assert first.exit_code == 0, first.output
    one = json.loads(first.stdout)
    second = json.loads(
        runner.invoke(app, ["import", str(CORPUS / "bad_dates.csv"), "--json"]).stdout
    )
    assert (one["read"], one["accepted"], one["rejected"]) == (5, 1, 4)
    assert (second["new"], second["unchanged"], second["rejects_stored"]) == (0, 1, 0)
    assert second["batch_id"] != one["batch_id"]
    shown = runner.invoke(app, ["import", str(CORPUS / "ages.csv")])
    assert shown.exit_code == 0 and "rows read" in shown.stdout and "outside 0-120" in shown.stdout
    # the real entry point, with its one error handler: a message and exit code, no traceback
    failed = subprocess.run(
        [sys.executable, "-m", "ctip", "import", str(CORPUS / "binary.csv")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert failed.returncode == InputFileError.exit_code
    assert (
        "cannot read binary.csv" in failed.stderr
        and "Traceback" not in failed.stderr + failed.stdout
    )
    exported = runner.invoke(
        app, ["rejects", "export", "--out", str(conf.home / "r.xlsx"), "--json"]
    )
    assert exported.exit_code == 0 and json.loads(exported.stdout)["rejects"] == 8


def test_ctdc_kanon_file_imports_with_exact_counts(store: CaseStore, shared_data: Path) -> None:
    path = shared_data / "ctdc-kanon-2020-subset" / "ctdc_global_dataset_2020-04-14_subset.csv"
    with open(path, encoding="utf-8", newline="") as f:
        source = list(csv.DictReader(f))
    report = import_file(store, path, profile="ctdc", batch_size=5000)
    assert report.read == len(source) and report.read == report.accepted + report.rejected
    assert report.accepted == store.victim_count() and report.duplicates == 0
    assert report.rejected == 0  # the profile knows every value of the real file
    stored = Counter(row["sex"] for row in store.analytic_rows())
    assert stored == Counter(row["gender"].casefold() for row in source)


def test_ctdc_vp_file_imports_victims_and_perpetrators(store: CaseStore, shared_data: Path) -> None:
    path = shared_data / "ctdc-vp-synthetic" / "CTDC_VPsynthetic_condensed.csv"
    report = import_file(store, path, profile="ctdc_vp", batch_size=5000)
    assert report.read == 21_195 and report.read == report.accepted + report.rejected
    assert report.perpetrators_new > 0
    assert sum(1 for _ in store.perpetrator_rows()) >= report.perpetrators_new


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.lists(
        st.lists(
            st.sampled_from(
                [
                    "R1",
                    "R2",
                    "ngo-a",
                    "",
                    "2023-01-01",
                    "2999-01-01",
                    "female",
                    "x",
                    "-1",
                    "250",
                    "30",
                    "NGA",
                    "Atlantis",
                    "=1+1",
                    "<b>",
                    "a\x00b",
                    '"q"',
                    "forced_labour",
                ]
            ),
            min_size=10,
            max_size=13,
        ),
        max_size=12,
    )
)
def test_any_rows_reconcile_through_the_store(
    store: CaseStore, tmp_path: Path, body: list[list[str]]
) -> None:
    path = tmp_path / "fuzz.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER.split(","))
        writer.writerows(body)
    before = store.reject_count()
    try:
        report = import_file(store, path)
    except InputFileError as error:  # only a file dense with control bytes is refused as binary
        assert "binary" in str(error) and sum(row.count("a\x00b") for row in body) > 8
        return
    assert report.read == report.accepted + report.rejected
    assert report.read == sum(1 for row in body if any(cell.strip() for cell in row))
    assert store.reject_count() - before == report.rejects_stored <= report.rejected


def test_import_reconciles_and_is_idempotent_on_each_backend(
    tmp_path: Path, ctip_home: Path, database_url: str
) -> None:
    settings = make_settings(tmp_path / "home", database_url)
    init_home(settings)
    with CaseStore.open(settings, actor="tester") as store:
        reports = [import_file(store, CORPUS / name) for name in ("duplicates.csv", "broken.jsonl")]
        again = [import_file(store, CORPUS / name) for name in ("duplicates.csv", "broken.jsonl")]
        assert [(r.read, r.accepted, r.rejected) for r in reports] == [(4, 2, 2), (6, 2, 4)]
        assert [(r.new, r.unchanged, r.rejects_stored) for r in again] == [(0, 2, 0), (0, 2, 0)]
        assert store.victim_count() == 4 and store.reject_count() == 6


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(tail=st.binary(max_size=400))
def test_any_bytes_after_a_header_import_or_fail_cleanly(
    store: CaseStore, tmp_path: Path, tail: bytes
) -> None:
    path = tmp_path / "bytes.csv"
    path.write_bytes(HEADER.encode() + b"\r\n" + tail)
    try:
        report = import_file(store, path)
    except InputFileError as error:
        assert error.hint and "bytes.csv" in str(error)
        return
    assert report.read == report.accepted + report.rejected
    kept = sum(1 for _ in store.rejects(report.batch_id))
    assert kept == report.rejects_stored <= report.rejected


def test_xlsx_import_reports_spreadsheet_row_numbers(store: CaseStore, tmp_path: Path) -> None:
    import openpyxl

    path = tmp_path / "agency.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER.split(","))
    sheet.append(["X1", "ngo-x", "2023-04-01", "identified", "female", 24, "NGA", "ITA"])
    sheet.append([])
    sheet.append(["X2", "ngo-x", "2023-04-01", "identified", "female", 250, "NGA", "ITA"])
    book.save(path)
    report = import_file(store, path)
    assert (report.format, report.read, report.accepted, report.rejected) == ("xlsx", 2, 1, 1)
    (reject,) = store.rejects(report.batch_id)
    assert reject.source_row == 4 and "outside 0-120" in reject.reasons[0]
