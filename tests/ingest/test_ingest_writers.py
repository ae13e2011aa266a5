"""Writers neutralise spreadsheet formulas in every cell ctip writes."""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ctip.ingest.writers import FORMULA_PREFIXES, safe_cell, write_csv, write_xlsx

DANGEROUS = [
    '=HYPERLINK("http://x.example","click")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
    "  =1+1",
    "\uff1dSUM(A1)",
]


@pytest.mark.parametrize("value", DANGEROUS)
def test_formula_like_text_gets_an_apostrophe(value: str) -> None:
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize(
    "value", ["-3", "+4.5", "plain", "", "a=b", "2024-01-01", 7, -7, 1.5, None]
)
def test_ordinary_values_are_left_alone(value: object) -> None:
    assert safe_cell(value) == value


@given(st.text(max_size=40))
def test_no_text_leaves_safe_cell_starting_a_formula(text: str) -> None:
    out = safe_cell(text)
    stripped = out.lstrip(" \u00a0")
    if stripped.startswith(FORMULA_PREFIXES):
        float(out)  # only a plain signed number may start with + or -


def test_csv_and_xlsx_files_hold_neutralised_cells(tmp_path: Path) -> None:
    rows = [[v, 1] for v in DANGEROUS]
    out = tmp_path / "o.csv"
    assert write_csv(out, ["=header", "n"], rows) == len(rows)
    with open(out, encoding="utf-8-sig", newline="") as f:
        read = list(csv.reader(f))
    assert read[0] == ["'=header", "n"]
    assert [r[0] for r in read[1:]] == ["'" + v for v in DANGEROUS]
    book = tmp_path / "o.xlsx"
    write_xlsx(book, {"s": (["value", "n"], rows)})
    ws = openpyxl.load_workbook(book).active
    values = [c.value for c in ws["A"][1:]]
    # XML keeps a carriage return as a line feed; the apostrophe is what matters
    assert values == ["'" + v.replace("\r", "\n") for v in DANGEROUS]
    assert all(c.data_type == "s" for c in ws["A"])  # text, never a formula
