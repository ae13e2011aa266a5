"""Readers: encodings, delimiters, quoting, XLSX and JSON Lines, and files that cannot be read."""

from __future__ import annotations

import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctip.errors import InputFileError
from ctip.ingest.readers import RawRow, read_table, sniff_delimiter

CORPUS = Path(__file__).resolve().parents[1] / "data" / "malformed"


def rows_of(path: Path) -> list[tuple[int, dict[str, str]]]:
    with read_table(path) as table:
        return list(table)


@pytest.mark.parametrize(
    ("name", "encoding"),
    [
        ("utf8.csv", "utf-8"),
        ("utf8_bom.csv", "utf-8-sig"),
        ("utf16_bom.csv", "utf-16"),
        ("cp1252.csv", "cp1252"),
    ],
)
def test_every_encoding_decodes_to_the_same_text(name: str, encoding: str) -> None:
    with read_table(CORPUS / name) as table:
        assert table.encoding == encoding
        assert table.header[0] == "source_record_id"  # no BOM left on the first column name
        rows = list(table)
    assert [n for n, _ in rows] == [2, 3, 4]
    assert rows[2][1]["given_name"] == "Zoë" and rows[2][1]["family_name"] == "Müller-Gómez"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("undecodable.csv", "neither UTF-8, UTF-16 nor Windows-1252"),
        ("mixed_utf8.csv", "mostly UTF-8 but has undecodable bytes"),
        ("binary.csv", "cannot read binary.csv"),
        ("empty.csv", "the file is empty"),
        ("whitespace_only.csv", "the file is empty"),
        ("old_excel.xls", "old binary Excel"),
        ("not_a_workbook.xlsx", "not a valid XLSX workbook"),
        ("duplicate_header.csv", "names column 'Sex' twice"),
    ],
)
def test_unreadable_files_give_one_clear_error(name: str, message: str) -> None:
    with pytest.raises(InputFileError, match=message) as caught:
        rows_of(CORPUS / name)
    assert caught.value.hint  # always says what to do
    assert caught.value.exit_code != 0


@pytest.mark.parametrize(
    ("name", "delimiter"),
    [
        ("utf8.csv", ","),
        ("semicolon.csv", ";"),
        ("tab.tsv", "\t"),
        ("pipe.csv", "|"),
    ],
)
def test_delimiter_is_sniffed(name: str, delimiter: str) -> None:
    with read_table(CORPUS / name) as table:
        assert table.delimiter == delimiter
        first = next(iter(table))[1]
    assert first["source_record_id"] == "R1" and first["citizenships"] == "NGA"


def test_sniffing_ignores_delimiters_inside_quotes() -> None:
    assert sniff_delimiter('"a,b,c";"d,e";f\r\n') == ";"
    assert sniff_delimiter("single_column\n") == ","


def test_quoted_line_breaks_stay_in_their_cell_and_rows_count_as_records() -> None:
    rows = rows_of(CORPUS / "quoted_newlines.csv")
    assert [n for n, _ in rows] == [2, 3]
    assert rows[0][1]["narrative"] == "She said:\nline two, with a comma\r\nline three"


def test_rows_with_the_wrong_number_of_fields_are_kept_with_a_reason() -> None:
    rows = rows_of(CORPUS / "wrong_field_count.csv")
    assert [type(r) for _, r in rows] == [dict, RawRow, RawRow]
    short, long = rows[1][1], rows[2][1]
    assert (
        isinstance(short, RawRow) and "3 fields but the header has 12" in short.problems[0].message
    )
    assert isinstance(long, RawRow) and long["column_13"] == "surplus"


def test_trailing_empty_fields_are_not_an_error(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("a,b\r\n1,2,,\r\n\r\n3,4\r\n", encoding="utf-8")
    assert rows_of(path) == [(2, {"a": "1", "b": "2"}), (4, {"a": "3", "b": "4"})]


def test_xlsx_values_are_read_as_the_text_a_person_sees(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(
        ["source_record_id", "identification_date", "age_at_identification", "narrative", None]
    )
    ws.append(["X1", datetime(2023, 4, 1), 24, "<b>kept as text</b>", None])
    ws.append([None, None, None, None, None])
    ws.append(["X2", date(2022, 1, 2), 31.0, None, "stray"])
    wb.save(path)
    rows = rows_of(path)
    assert rows[0] == (
        2,
        {
            "source_record_id": "X1",
            "identification_date": "2023-04-01",
            "age_at_identification": "24",
            "narrative": "<b>kept as text</b>",
        },
    )
    assert rows[1][0] == 4 and isinstance(rows[1][1], RawRow)  # value beyond the named columns


def test_truncated_or_corrupt_xlsx_is_one_clear_error(tmp_path: Path) -> None:
    good = tmp_path / "good.xlsx"
    wb = openpyxl.Workbook()
    for i in range(200):
        wb.active.append([f"R{i}", "ngo", "female", i % 90])
    wb.save(good)
    data = good.read_bytes()
    truncated = tmp_path / "truncated.xlsx"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputFileError, match="damaged or truncated"):
        rows_of(truncated)
    corrupt = tmp_path / "corrupt.xlsx"
    body = bytearray(data)
    with zipfile.ZipFile(good) as z:
        info = z.getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename) + 10
    body[start : start + 20] = b"\x00" * 20
    corrupt.write_bytes(bytes(body))
    with pytest.raises(InputFileError, match="damaged"):
        rows_of(corrupt)


def test_json_lines_rows_and_broken_lines() -> None:
    with read_table(CORPUS / "broken.jsonl") as table:
        assert table.format == "jsonl" and not table.header_is_complete
        rows = list(table)
    assert [n for n, _ in rows] == [1, 2, 3, 4, 5, 7]  # the blank line 6 is not a record
    assert rows[0][1]["age_at_identification"] == "30"
    assert rows[1][1]["citizenships"] == "NGA;GHA"
    assert [isinstance(r, RawRow) for _, r in rows] == [False, False, True, True, True, False]


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(content=st.binary(max_size=600) | st.text(max_size=300).map(lambda t: t.encode("utf-8")))
def test_any_bytes_are_read_or_refused_with_a_reason(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "fuzz.csv"
    path.write_bytes(content)
    try:
        with read_table(path) as table:
            width = len(table.header)
            for number, row in table:
                assert number >= 2
                assert isinstance(row, RawRow) or len(row) == width
                if isinstance(row, RawRow):
                    assert row.problems and all(p.message for p in row.problems)
    except InputFileError as error:
        assert str(error).startswith("cannot read fuzz.csv: ") and error.hint


def test_a_json_array_is_refused_with_the_way_out(tmp_path: Path) -> None:
    path = tmp_path / "cases.json"
    path.write_text('[{"source_record_id": "A"}]', encoding="utf-8")
    with pytest.raises(InputFileError, match="JSON array") as caught:
        rows_of(path)
    assert "JSON Lines" in (caught.value.hint or "")
