"""CSV with a column-mapping file: a bank's own column names and codes to ctip's fields.

A mapping file (YAML or JSON) says which of the bank's columns holds each canonical field
(``frames.TRANSACTION_FIELDS`` or ``frames.PARTY_FIELDS``), how to recode values, and defaults::

    kind: transactions          # or parties
    delimiter: ";"
    columns: {txn_id: Reference, booked_at: "Booking date", amount: Amount, ...}
    values: {direction: {C: in, D: out}, channel: {ATM: cash, POS: card}}
    defaults: {currency: EUR}

The reader yields ``(row_number, raw)`` per data row, numbered as a person counts rows in the
file (header = row 1). A row that does not have the header's number of cells is yielded with the
problem, so nothing is dropped: the caller rejects it with its reason.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

from ctip.domain.problems import Problem
from ctip.errors import InputFileError
from ctip.finflows.frames import PARTY_FIELDS, TRANSACTION_FIELDS

KINDS = {"transactions": TRANSACTION_FIELDS, "parties": PARTY_FIELDS}


@dataclass(frozen=True)
class Mapping:
    kind: str = "transactions"
    delimiter: str = ","
    encoding: str = "utf-8-sig"
    columns: dict[str, str] = field(default_factory=dict)  # canonical -> the file's column
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    defaults: dict[str, str] = field(default_factory=dict)


def parse_mapping(text: bytes, *, source_name: str) -> Mapping:
    """A checked mapping from the bytes of a YAML or JSON mapping file."""
    try:
        data = (json.loads(text) if text.lstrip().startswith(b"{") else yaml.safe_load(text))
    except (ValueError, yaml.YAMLError) as error:
        raise InputFileError("the mapping file {source_name} cannot be read: {error}",
                             hint="write it as YAML or JSON (see docs/methods/finflows.md)",
                             params={"source_name": source_name, "error": error}) from None
    if not isinstance(data, dict):
        raise InputFileError("the mapping file {source_name} is not a mapping of settings",
                             params={"source_name": source_name})
    kind = str(data.get("kind", "transactions"))
    if kind not in KINDS:
        raise InputFileError("the mapping file {source_name} names an unknown kind {kind}",
                             hint="kind: transactions or kind: parties",
                             params={"source_name": source_name, "kind": repr(kind)})
    known = {name for name, _ in KINDS[kind]}
    columns = {str(k): str(v) for k, v in (data.get("columns") or {}).items()}
    unknown = sorted(set(columns) - known)
    if unknown:
        raise InputFileError("the mapping file {source_name} maps fields ctip does not know: "
                             "{unknown}", hint="known fields: {known}",
                             params={"source_name": source_name, "unknown": ", ".join(unknown),
                                     "known": ", ".join(sorted(known))})
    values = {str(k): {str(a): str(b) for a, b in v.items()}
              for k, v in (data.get("values") or {}).items()}
    defaults = {str(k): str(v) for k, v in (data.get("defaults") or {}).items()}
    delimiter = str(data.get("delimiter", ","))
    if len(delimiter) != 1:
        raise InputFileError("the mapping file {source_name}: the delimiter must be one "
                             "character, got {delimiter}",
                             params={"source_name": source_name, "delimiter": repr(delimiter)})
    return Mapping(kind=kind, delimiter=delimiter,
                   encoding=str(data.get("encoding", "utf-8-sig")), columns=columns,
                   values=values, defaults=defaults)


def identity_mapping(kind: str = "transactions") -> Mapping:
    """The file already uses ctip's field names (the ones present are read)."""
    return Mapping(kind=kind)


def read_csv(data: bytes, mapping: Mapping, *, source_name: str
             ) -> Iterator[tuple[int, dict[str, str | None] | None, dict[str, str] | str,
                                 tuple[Problem, ...]]]:
    """Yield ``(row, canonical raw values or None, the row as read, problems)`` per data row."""
    try:
        text = data.decode(mapping.encoding)
    except UnicodeDecodeError as error:
        raise InputFileError("{source_name} is not {encoding} text (byte {start})",
                             hint="set `encoding:` in the mapping file",
                             params={"source_name": source_name,
                                     "encoding": mapping.encoding,
                                     "start": error.start}) from None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=mapping.delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise InputFileError("{source_name} is empty", hint="export the file again",
                             params={"source_name": source_name}) from None
    except csv.Error as error:
        raise InputFileError("{source_name} is not CSV: {error}",
                             params={"source_name": source_name, "error": error}) from None
    header = [h.strip() for h in header]
    position = {name: i for i, name in enumerate(header)}
    columns = mapping.columns or {n: n for n, _ in KINDS[mapping.kind] if n in position}
    missing = [f"{canon} (column {col!r})" for canon, col in columns.items()
               if col not in position]
    if missing:
        raise InputFileError("{source_name} lacks columns the mapping names: {missing}",
                             hint="the file has: {header}",
                             params={"source_name": source_name,
                                     "missing": ", ".join(missing),
                                     "header": ", ".join(header)[:300]})
    required = [name for name, needed in KINDS[mapping.kind] if needed
                and name not in columns and name not in mapping.defaults]
    if required:
        raise InputFileError("{source_name}: the mapping gives no column for {required}",
                             hint="add them under `columns:`",
                             params={"source_name": source_name, "required": ", ".join(required)})
    line = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            line += 1
            yield line, None, "", (Problem(None, f"the row cannot be split: {error}"),)
            continue
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        as_read = dict(zip(header, cells, strict=False))
        if len(cells) != len(header):
            yield line, None, as_read, (Problem(
                None, f"has {len(cells)} cells, the header has {len(header)}"),)
            continue
        raw: dict[str, str | None] = dict(mapping.defaults)
        for canon, col in columns.items():
            value = cells[position[col]].strip()
            if value:
                recode = mapping.values.get(canon)
                raw[canon] = recode.get(value, value) if recode else value
        yield line, raw, as_read, ()


def raw_text(as_read: Any) -> str:
    return as_read if isinstance(as_read, str) else json.dumps(as_read, ensure_ascii=False)
