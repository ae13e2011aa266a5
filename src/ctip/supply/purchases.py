"""Purchase ledgers: one line per purchase (supplier, country, product text or HS code, value,
date), read into Arrow columns.

pyarrow's CSV reader does the parsing (fast, bounded memory); a row with the wrong number of
cells is kept aside by its row number instead of stopping the read, so read = accepted +
rejected holds from the first step. Values are checked later, in one pass of SQL
(``screen.py``), each rejected row with file, row and column reasons.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from ctip.errors import InputFileError

REQUIRED = ("supplier", "country", "value", "date")
OPTIONAL = ("line_id", "supplier_id", "parent", "product", "hs_code", "currency")
ALIASES = {"hs": "hs_code", "hs code": "hs_code", "description": "product",
           "product_text": "product", "amount": "value", "supplier_name": "supplier",
           "supplier_country": "country", "purchase_date": "date", "order_date": "date",
           "parent_company": "parent", "owner": "parent"}
COLUMNS = (*REQUIRED, *OPTIONAL)


@dataclass
class Purchases:
    source_name: str
    table: pa.Table  # string columns COLUMNS plus int64 ``row`` (the file's row number)
    bad_rows: list[dict[str, Any]] = field(default_factory=list)  # row, reasons

    @property
    def read(self) -> int:
        return self.table.num_rows + len(self.bad_rows)


def _header(data: bytes, source_name: str) -> list[str]:
    end = data.find(b"\n")
    first = data[: end if end >= 0 else len(data)].decode("utf-8-sig", errors="replace")
    first = first.strip("\r")
    import csv

    names = next(csv.reader([first]), [])
    out = [ALIASES.get(n.strip().casefold(), n.strip().casefold()) for n in names]
    missing = [c for c in REQUIRED if c not in out]
    if missing or not ({"product", "hs_code"} & set(out)):
        need = ", ".join(missing + ([] if {"product", "hs_code"} & set(out)
                                    else ["product or hs_code"]))
        raise InputFileError("{source_name} lacks the columns {need}",
                             hint="columns: supplier, country, product and/or hs_code, value, "
                                  "date (optional: line_id, supplier_id, currency)",
                             params={"source_name": source_name, "need": need})
    return out


def read_purchases(data: bytes, *, source_name: str) -> Purchases:
    if not data or data.isspace():  # (not data.strip(): a copy of the whole file)
        raise InputFileError("{source_name} is empty",
                             params={"source_name": source_name})
    if b"\0" in data[:4096]:
        raise InputFileError("{source_name} is not a text file",
                             hint="export the ledger as CSV (UTF-8)",
                             params={"source_name": source_name})
    names = _header(data, source_name)
    bad: list[dict[str, Any]] = []

    def invalid(row: Any) -> str:
        bad.append({"row": row.number, "reasons": [
            f"file {source_name}, row {row.number}: {row.actual_columns} cells where the header "
            f"has {row.expected_columns}"]})
        return "skip"

    def parse(handler: Any) -> pa.Table:
        return pacsv.read_csv(
            pa.py_buffer(data),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, use_threads=False,
                                           encoding="utf8"),
            parse_options=pacsv.ParseOptions(invalid_row_handler=handler),
            convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()),
                                                 strings_can_be_null=False))

    try:
        # a row handler halves pyarrow's speed, so a well-formed file (most) is read without
        # one; on any error (a row with the wrong number of cells among them) it is read again
        # with the handler, which keeps such rows aside by number
        try:
            table = parse(None)
        except (pa.ArrowInvalid, UnicodeDecodeError):
            table = parse(invalid)
    except (pa.ArrowInvalid, UnicodeDecodeError) as error:
        raise InputFileError("{source_name} cannot be read as CSV: {error}",
                             hint="save it as UTF-8 CSV with one header row",
                             params={"source_name": source_name,
                                     "error": str(error)[:200]}) from None
    # file row numbers of the kept rows: every data row (2..) but the skipped ones
    lines = np.arange(2, table.num_rows + len(bad) + 2, dtype=np.int64)
    rows = lines[~np.isin(lines, [b["row"] for b in bad])] if bad else lines
    columns = {c: (table.column(c) if c in table.column_names
                   else pa.nulls(table.num_rows, pa.string())) for c in COLUMNS}
    columns["row"] = pa.array(rows, pa.int64())
    return Purchases(source_name, pa.table(columns), bad)
