"""Write CSV and XLSX files that are safe to open in a spreadsheet program.

Every CSV/XLSX ctip writes goes through ``write_csv`` / ``write_xlsx`` (or ``safe_cell``), so a
cell that came from an agency's file can never run as a formula when a colleague opens the export
(CWE-1236, "CSV injection"). The rule follows OWASP: a text cell starting with ``=``, ``+``,
``-``, ``@``, tab or carriage return gets a leading apostrophe, which spreadsheets show as text.
Numbers are left alone (``-3`` stays a number); only text is neutralised.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")
# Full-width forms some spreadsheet programs also read as formula starts.
_WIDE = ("\uff1d", "\uff0b", "\uff0d", "\uff20")


def safe_cell(value: Any) -> Any:
    """The value, with a text cell that a spreadsheet would run as a formula made inert."""
    if value is None or isinstance(value, (bool, int, float, date, datetime)):
        return value
    text = value if isinstance(value, str) else str(value)
    stripped = text.lstrip(" \u00a0")
    if stripped.startswith(FORMULA_PREFIXES) or stripped.startswith(_WIDE):
        if _is_plain_number(text):
            return text
        return "'" + text
    return text


def _is_plain_number(text: str) -> bool:
    """'-3' or '+4.5' is a number, not a formula; keep it as the person wrote it."""
    try:
        float(text)
    except ValueError:
        return False
    return text.strip() == text and text[:1] in "+-" and text[1:2].isdigit()


def private_file(path: str | Path) -> None:
    """Create (or empty) ``path`` readable and writable by its owner only (0600), before any
    content is written: an export of rejects or identities is as sensitive as the database."""
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)  # an existing file keeps its old mode through O_CREAT


def write_csv(
    path: str | Path,
    header: Sequence[str],
    rows: Iterable[Sequence[Any] | Mapping[str, Any]],
    *,
    delimiter: str = ",",
    private: bool = False,
) -> int:
    """Write a UTF-8 CSV (with BOM, so Excel knows the encoding); returns the data row count.
    ``private``: the file is created 0600 before anything is written."""
    count = 0
    if private:
        private_file(path)
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f, delimiter=delimiter)
        writer.writerow([safe_cell(h) for h in header])
        for row in rows:
            values = [row.get(h) for h in header] if isinstance(row, Mapping) else row
            writer.writerow(["" if v is None else safe_cell(v) for v in values])
            count += 1
    return count


def write_xlsx(
    path: str | Path,
    sheets: Mapping[str, tuple[Sequence[str], Iterable[Sequence[Any]]]],
    *,
    private: bool = False,
) -> None:
    """Write an XLSX workbook: sheet name -> (header, rows). Streams rows (write-only mode).
    ``private``: the file is created 0600 before anything is written."""
    from openpyxl import Workbook

    if private:
        private_file(path)
    workbook = Workbook(write_only=True)
    for name, (header, rows) in sheets.items():
        sheet = workbook.create_sheet(title=name[:31])
        sheet.append([safe_cell(h) for h in header])
        for row in rows:
            sheet.append([safe_cell(v) for v in row])
    workbook.save(path)
