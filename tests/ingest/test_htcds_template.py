"""IOM's own HTCDS v2.0 Excel templates (../shared/data/htcds), as an agency would fill them in.

The validation lists are read from the workbooks themselves (Excel's x14 data-validation
extension, which openpyxl drops: parsed here from the sheet XML), so a value IOM adds to a list
is tested without anyone copying it here.
"""

from __future__ import annotations

import re
import shutil
import warnings
import zipfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from ctip.domain.problems import RejectedRow, SkippedRow
from ctip.domain.records import VictimRecord
from ctip.ingest.profiles import get_profile
from ctip.services.home import init_home
from ctip.services.importing import import_file
from ctip.settings import Settings
from ctip.storage.repository import CaseStore

WORKBOOKS = ("HTCDS_Excel_Spreadsheet_single_select_with_validation_v2.0.xlsx",
             "HTCDS_Excel_Spreadsheet_v2.0.xlsx")
TODAY = date(2026, 1, 1)
# the record field each column the profile reads lands in
FIELD_OF = {"prs_gender": "gender_identity", "prs_citizenship": "citizenships",
            "vic_methodsofcontrol": "means_of_control",
            "vic_typeofexploitation": "exploitation_forms",
            "vic_forcedlabourindustry": "labour_sector_isic",
            "vic_typeofsexexploitation": "sexual_exploitation_type",
            "vic_traffickingstatus": "identification_status",
            "vic_traffickinstatusdecisionmakingorg": "agency_type"}


def _column_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def validation_lists(path: Path) -> Iterator[tuple[str | None, list[str]]]:
    """(header of the column in row 1, values) for every list validation of every sheet."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        book = openpyxl.load_workbook(path)
    with zipfile.ZipFile(path) as z:
        rels = dict(re.findall(r'Id="(\w+)"[^>]*Target="([^"]+)"',
                               z.read("xl/_rels/workbook.xml.rels").decode()))
        sheets = re.findall(r'<sheet name="([^"]+)"[^>]*r:id="(\w+)"',
                            z.read("xl/workbook.xml").decode())
        for name, rid in sheets:
            xml = z.read("xl/" + rels[rid].removeprefix("/xl/")).decode()
            header = {c.column: c.value for c in book[name][1]}
            for kind, formula, sqref in re.findall(
                    r'<(?:x14:)?dataValidation [^>]*type="(\w+)".*?<(?:xm:f|formula1)>(.*?)</'
                    r'.*?<(?:xm:)?sqref>(.*?)</', xml, re.S):
                if kind != "list":
                    continue
                if formula.startswith('"'):
                    values = formula.strip('"').split(",")
                else:
                    ref_sheet, ref = formula.split("!")
                    values = [str(c.value) for row in book[ref_sheet.strip("'")][
                        ref.replace("$", "")] for c in row if c.value is not None]
                for area in sqref.split():
                    letters = re.match(r"[A-Z]+", area)
                    assert letters is not None
                    yield header.get(_column_number(letters.group())), values


@pytest.fixture
def workbooks(shared_data: Path) -> list[Path]:
    return [shared_data / "htcds" / name for name in WORKBOOKS]


def test_every_value_of_every_validation_list_maps(workbooks: list[Path]) -> None:
    htcds = get_profile("htcds")
    checked = 0
    for path in workbooks:
        for header, values in validation_lists(path):
            column = header or "column_36"  # a list on a column IOM left without a name
            for value in values:
                row = {"prs_FirstName": "Ana", column: value}
                result = htcds.map_row(row, source_file=path.name, source_row=3, agency="IOM",
                                       today=TODAY)
                assert isinstance(result, VictimRecord), (header, value, result)
                field = FIELD_OF.get(column.casefold())
                if field is not None:  # a column the profile reads is read, not left empty
                    assert getattr(result, field) not in (None, ()), (header, value)
                checked += 1
    assert checked >= 300  # 12 lists, 249 countries among them


def test_template_labels_with_commas_are_one_value_each() -> None:
    htcds = get_profile("htcds")
    result = htcds.map_row({
        "prs_FirstName": "Ana",
        "vic_ForcedLabourIndustry": "Agriculture, forestry and fishing; Construction, "
                                    "Water supply; sewerage, waste management and remediation",
        "prs_Citizenship": "Korea, Republic of, FR; Congo, Democratic Republic of the",
        "vic_TypeOfExploitation": "Forced labour, Forced military (by non-state actors)",
        "vic_TraffickingStatus": "Actual victim of trafficking",
        "vic_TraffickinStatusDecisionMakingOrg": "Court or prosecution",
    }, source_file="t.xlsx", source_row=3, agency="IOM", today=TODAY)
    assert isinstance(result, VictimRecord), result
    assert result.labour_sector_isic == ("A", "F", "E")
    assert result.citizenships == ("KOR", "FRA", "COD")
    assert result.exploitation_forms == ("forced_labour", "forced_military_non_state")
    assert result.identification_status == "identified" and result.agency_type == "prosecution"
    wrong = htcds.map_row(
        {"vic_ForcedLabourIndustry": "Agriculture, forestry and fishing, juggling"},
        source_file="t.xlsx", source_row=4, agency="IOM", today=TODAY)
    assert isinstance(wrong, RejectedRow)
    assert "'juggling' is not an ISIC Rev.4 section" in wrong.problems[0].message


def test_label_row_and_blank_numbered_rows_are_skipped_not_rejected() -> None:
    htcds = get_profile("htcds")
    labels = htcds.map_row({"column_1": "", "prs_FirstName": "First Name",
                            "prs_SecondName": "Second Name", "prs_Gender": "Gender"},
                           source_file="t.xlsx", source_row=2, agency="IOM", today=TODAY)
    blank = htcds.map_row({"column_1": "7", "prs_FirstName": ""}, source_file="t.xlsx",
                          source_row=9, agency="IOM", today=TODAY)
    assert isinstance(labels, SkippedRow) and "labels" in labels.reason
    assert isinstance(blank, SkippedRow) and "blank" in blank.reason
    # a person called "First Name" in one column only is a record, not a caption row
    named = htcds.map_row({"prs_FirstName": "Gender"}, source_file="t.xlsx", source_row=5,
                          agency="IOM", today=TODAY)
    assert isinstance(named, VictimRecord)
    # a note in an unnamed column is not a blank row: rejected with its reason, kept
    noted = htcds.map_row({"column_1": "see file 12"}, source_file="t.xlsx", source_row=6,
                          agency="IOM", today=TODAY)
    assert isinstance(noted, RejectedRow) and "no HTCDS value" in noted.problems[0].message


def _fill(template: Path, out: Path, lists: dict[str, list[str]]) -> int:
    """Five rows of the template filled with values of IOM's validation lists."""
    shutil.copyfile(template, out)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        book = openpyxl.load_workbook(out)
    sheet = book.worksheets[0]
    header = {c.value: c.column for c in sheet[1] if c.value}
    for i in range(5):
        row = 3 + i
        sheet.cell(row, header["prs_FirstName"], f"Person {i}")
        for name, values in lists.items():
            sheet.cell(row, header[name], values[(i * 7) % len(values)])
    book.save(out)
    return 5


@pytest.mark.parametrize("name", WORKBOOKS)
def test_filled_template_imports_with_exact_counts(shared_data: Path, tmp_path: Path,
                                                   ctip_home: Path, name: str) -> None:
    conf = Settings(home=ctip_home)
    init_home(conf)
    template = shared_data / "htcds" / name
    lists = {h: v for h, v in validation_lists(shared_data / "htcds" / WORKBOOKS[0]) if h}
    filled = tmp_path / name
    rows = _fill(template, filled, lists)
    with CaseStore.open(conf, actor="tester") as store:
        empty = import_file(store, template, profile="htcds", agency="IOM")
        report = import_file(store, filled, profile="htcds", agency="IOM")
    assert (empty.read, empty.accepted, empty.rejected, empty.skipped) == (1001, 0, 0, 1001)
    assert empty.skipped_reasons == {"the template's row of field labels": 1,
                                     "a blank numbered row of the template": 1000}
    assert (report.read, report.accepted, report.rejected) == (1001, rows, 0)
    assert report.skipped == 1001 - rows
