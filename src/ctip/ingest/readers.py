"""Read an agency's file (CSV, XLSX or JSON Lines) as a header plus a stream of rows.

``read_table(path)`` decides the format from the content (a ZIP is XLSX, a first ``{`` is JSON
Lines, anything else text is CSV), works out the text encoding and the CSV delimiter, and yields
``(row_number, row)`` pairs where ``row`` maps column name -> text. Rows are streamed: memory does
not grow with the file.

Two kinds of trouble, kept apart on purpose:
- the file cannot be read at all (empty, binary, not a spreadsheet, truncated XLSX, text that is
  neither UTF-8/UTF-16 nor Windows-1252): one ``InputFileError`` saying what to do;
- one row is malformed (wrong number of fields, broken JSON line): the row is still yielded, as a
  ``RawRow`` whose ``problems`` say what is wrong, so it can be rejected with its raw content.

Row numbers are what a person sees: in CSV and XLSX the header is row 1 and the first data row is
row 2 (a quoted line break does not start a new row); in JSON Lines it is the line number. Blank
lines are not records.

Encodings are detected by hand (BOM, then a strict UTF-8 pass, then Windows-1252) because the
usual guessing libraries guess silently; here a file is either decoded exactly or refused.
"""

from __future__ import annotations

import codecs
import csv
import json
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from ctip.domain.problems import Problem
from ctip.errors import InputFileError

CHUNK = 1 << 20
# Largest CSV field the parser will hold (cells above cells.MAX_CELL_CHARS are rejected later,
# with their row); beyond this the file is treated as broken (e.g. an unterminated quote).
MAX_FIELD_BYTES = 16 << 20
DELIMITERS = (",", ";", "\t", "|")


class RawRow(dict):
    """A row that could not be read cleanly: its raw content plus what was wrong."""

    __slots__ = ("problems",)

    def __init__(self, values: dict[str, str], problems: tuple[Problem, ...]) -> None:
        super().__init__(values)
        self.problems = problems


Row = tuple[int, dict[str, str]]


@dataclass
class TableSource:
    """An open table: format, header and a one-pass iterator of rows."""

    path: Path
    format: str  # "csv", "xlsx" or "jsonl"
    header: list[str]
    rows: Iterator[Row]
    encoding: str | None = None
    delimiter: str | None = None
    header_is_complete: bool = True  # False for JSON Lines: objects may carry other keys
    notes: list[str] = field(default_factory=list)

    def __iter__(self) -> Iterator[Row]:
        return self.rows

    def close(self) -> None:
        close = getattr(self.rows, "close", None)
        if close is not None:
            close()

    def __enter__(self) -> TableSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _fail(path: Path, what: str, hint: str) -> InputFileError:
    return InputFileError(f"cannot read {path.name}: {what}", hint=hint)


def read_table(path: str | Path) -> TableSource:
    """Open ``path`` as a table; raises ``InputFileError`` when it cannot be read at all."""
    path = Path(path)
    if not path.is_file():
        raise _fail(path, "no such file", "check the path")
    try:
        with open(path, "rb") as f:
            head = f.read(8192)
    except OSError as error:
        raise _fail(
            path, f"the file could not be opened ({error.strerror})", "check its permissions"
        ) from None
    if not head.strip(b" \t\r\n\xef\xbb\xbf\xff\xfe\x00"):
        raise _fail(
            path, "the file is empty", "export the data again, with a header row and data rows"
        )
    if head.startswith(b"PK\x03\x04"):
        return _read_xlsx(path)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise _fail(
            path,
            "this is an old binary Excel (.xls) or other OLE file",
            "save it as .xlsx or CSV (UTF-8) and import that",
        )
    if path.suffix.lower() in {".xlsx", ".xlsm"}:
        raise _fail(
            path,
            "the file is not a valid XLSX workbook (it is not a ZIP archive)",
            "open it in a spreadsheet program and save it again as .xlsx",
        )
    encoding = detect_encoding(path, head)
    first = _first_text(path, encoding)
    opening = first.strip()
    if opening == "[" or opening.startswith(("[{", "[ {")):
        raise _fail(
            path,
            "this is a JSON array, not JSON Lines or CSV",
            "write one JSON object per line (JSON Lines), or export CSV",
        )
    if path.suffix.lower() in {".jsonl", ".ndjson", ".json"} or first.lstrip().startswith("{"):
        return _read_jsonl(path, encoding)
    return _read_csv(path, encoding, first)


# --- encodings --------------------------------------------------------------------------------

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def detect_encoding(path: Path, head: bytes) -> str:
    """The one encoding that decodes the whole file exactly; ``InputFileError`` when none does."""
    for bom, name in _BOMS:
        if head.startswith(bom):
            bad = _first_decode_error(path, name)
            if bad is not None:
                raise _fail(
                    path,
                    f"the file starts with a {name.upper()} byte-order mark but is not "
                    f"valid {name.upper()} ({bad})",
                    "save it again as UTF-8",
                )
            return _not_binary(path, name)
    bad = _first_decode_error(path, "utf-8")
    if bad is None:
        return _not_binary(path, "utf-8")
    if head.count(b"\x00") > len(head) // 10:
        raise _fail(
            path,
            "this looks like a binary file or UTF-16 text without a byte-order mark",
            "save it as CSV (UTF-8) or XLSX",
        )
    if bad.startswith("after valid UTF-8"):
        raise _fail(
            path,
            f"the text is mostly UTF-8 but has undecodable bytes ({bad})",
            "the file is probably damaged or mixes encodings; save it again as UTF-8",
        )
    bad_1252 = _first_decode_error(path, "cp1252")
    if bad_1252 is not None:
        raise _fail(
            path,
            f"the text is neither UTF-8, UTF-16 nor Windows-1252 ({bad})",
            "save it as CSV (UTF-8) and import that",
        )
    return _not_binary(path, "cp1252")


def _first_decode_error(path: Path, encoding: str) -> str | None:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    offset = 0
    saw_multibyte = False
    with open(path, "rb") as f:
        while True:
            chunk = f.read(CHUNK)
            try:
                text = decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as error:
                where = offset + error.start
                prefix = (
                    "after valid UTF-8 text, "
                    if encoding == "utf-8" and (saw_multibyte or not chunk[: error.start].isascii())
                    else ""
                )
                return (
                    f"{prefix}byte 0x{chunk[error.start]:02X} at offset {where:,}"
                    if error.start < len(chunk)
                    else f"{prefix}incomplete character at the end of the file"
                )
            if encoding == "utf-8" and not saw_multibyte and not text.isascii():
                saw_multibyte = True
            if not chunk:
                return None
            offset += len(chunk)


def _not_binary(path: Path, encoding: str) -> str:
    with open(path, encoding=encoding, newline="") as f:
        sample = f.read(65536)
    control = sum(1 for ch in sample if ch < " " and ch not in "\t\r\n\f")
    if control > max(8, len(sample) // 100):
        raise _fail(
            path,
            "this looks like a binary file, not a table (many control characters)",
            "import a CSV, XLSX or JSON Lines file",
        )
    return encoding


def _first_text(path: Path, encoding: str) -> str:
    with open(path, encoding=encoding, newline="") as f:
        for line in f:
            if line.strip():
                return line
    return ""


# --- CSV --------------------------------------------------------------------------------------


def sniff_delimiter(header_line: str) -> str:
    """The delimiter used most often in the header line, outside quotes (ties: , ; tab |).

    Written by hand: ``csv.Sniffer`` looks at whole samples and is thrown by quoted line breaks
    and free text; a header line of column names is the reliable witness.
    """
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for ch in header_line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(DELIMITERS, key=lambda d: (counts[d], -DELIMITERS.index(d)))
    return best if counts[best] else ","


def _column_names(path: Path, cells: list[Any]) -> list[str]:
    names: list[str] = []
    seen: dict[str, int] = {}
    for i, cell in enumerate(cells, start=1):
        name = "" if cell is None else str(cell).strip().lstrip("\ufeff").strip()
        if not name:
            name = f"column_{i}"
        key = name.casefold()
        if key in seen:
            raise _fail(
                path,
                f"the header names column {name!r} twice (columns {seen[key]} and {i})",
                "give every column a different name",
            )
        seen[key] = i
        names.append(name)
    return names


def _read_csv(path: Path, encoding: str, first_line: str) -> TableSource:
    delimiter = sniff_delimiter(first_line)
    csv.field_size_limit(MAX_FIELD_BYTES)
    handle = open(path, encoding=encoding, newline="")  # noqa: SIM115 - closed by the generator
    reader = csv.reader(handle, delimiter=delimiter)
    number = 0
    try:
        for cells in reader:
            number += 1
            if any(c.strip() for c in cells):
                break
        else:
            handle.close()
            raise _fail(path, "the file has no header row", "the first row must name the columns")
        header = _column_names(path, cells)
    except csv.Error as error:
        handle.close()
        raise _fail(
            path, f"the header row cannot be parsed ({error})", "check the quoting"
        ) from None
    except InputFileError:
        handle.close()
        raise
    return TableSource(
        path,
        "csv",
        header,
        _csv_rows(path, handle, reader, header, number),
        encoding=encoding,
        delimiter=delimiter,
    )


def _csv_rows(
    path: Path, handle: Any, reader: Any, header: list[str], number: int
) -> Iterator[Row]:
    width = len(header)
    try:
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                number += 1
                yield (
                    number,
                    RawRow(
                        {},
                        (
                            Problem(
                                None,
                                f"the rest of the file from here cannot be split "
                                f"into fields ({error}); it was not read",
                                None,
                                "well-formed CSV quoting",
                            ),
                        ),
                    ),
                )
                return
            number += 1
            if len(cells) == width:
                yield number, dict(zip(header, cells))  # noqa: B905 - lengths checked above
            elif not any(c.strip() for c in cells):
                continue  # a blank line is not a record
            elif len(cells) > width and not any(c.strip() for c in cells[width:]):
                yield number, dict(zip(header, cells[:width], strict=True))  # trailing delimiters
            else:
                values = dict(zip(header, cells, strict=False))
                for i, extra in enumerate(cells[width:], start=width + 1):
                    values[f"column_{i}"] = extra
                yield (
                    number,
                    RawRow(
                        values,
                        (
                            Problem(
                                None,
                                f"the row has {len(cells)} fields but the header has {width}",
                                None,
                                f"{width} fields separated by the file's delimiter",
                            ),
                        ),
                    ),
                )
    finally:
        handle.close()


# --- XLSX -------------------------------------------------------------------------------------


def _read_xlsx(path: Path) -> TableSource:
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
            names = set(archive.namelist())
    except (
        zipfile.BadZipFile,
        OSError,
        EOFError,
        ValueError,
        zlib.error,
        NotImplementedError,
    ) as error:
        raise _fail(
            path,
            f"the XLSX workbook is damaged or truncated ({error})",
            "open it in a spreadsheet program and save it again, or export CSV",
        ) from None
    if bad is not None:
        raise _fail(
            path,
            f"the XLSX workbook is damaged (part {bad} fails its checksum)",
            "save it again from the spreadsheet program",
        )
    if "xl/workbook.xml" not in names:
        raise _fail(
            path,
            "this ZIP archive is not an XLSX workbook",
            "import a .xlsx, CSV or JSON Lines file",
        )
    try:
        import openpyxl

        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()
        rows = sheet.iter_rows(values_only=True)
        number = 0
        for cells in rows:
            number += 1
            if any(c is not None and str(c).strip() for c in cells):
                break
        else:
            workbook.close()
            raise _fail(
                path,
                "the first sheet is empty",
                "put a header row and data rows on the first sheet",
            )
    except InputFileError:
        raise
    except Exception as error:  # openpyxl raises many types for damaged parts
        raise _fail(
            path,
            f"the XLSX workbook cannot be read ({type(error).__name__}: {error})",
            "open it in a spreadsheet program and save it again, or export CSV",
        ) from None
    while cells and (cells[-1] is None or not str(cells[-1]).strip()):
        cells = cells[:-1]
    header = _column_names(path, list(cells))
    return TableSource(path, "xlsx", header, _xlsx_rows(path, workbook, rows, header, number))


def xlsx_text(value: Any) -> str:
    """A spreadsheet value as the text a person sees (dates ISO, whole numbers without .0)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _xlsx_rows(
    path: Path, workbook: Any, rows: Iterator[Any], header: list[str], number: int
) -> Iterator[Row]:
    width = len(header)
    try:
        for cells in rows:
            number += 1
            texts = [xlsx_text(c) for c in cells]
            if not any(t.strip() for t in texts):
                continue
            if len(texts) > width and any(t.strip() for t in texts[width:]):
                values = dict(zip(header, texts, strict=False))
                for i, extra in enumerate(texts[width:], start=width + 1):
                    if extra.strip():
                        values[f"column_{i}"] = extra
                yield (
                    number,
                    RawRow(
                        values,
                        (
                            Problem(
                                None,
                                "the row has values beyond the last named column",
                                None,
                                f"values only under the {width} named columns",
                            ),
                        ),
                    ),
                )
                continue
            texts = texts[:width] + [""] * (width - len(texts))
            yield number, dict(zip(header, texts, strict=True))
    except Exception as error:
        raise _fail(
            path,
            f"the XLSX workbook is damaged at row {number} ({type(error).__name__})",
            "open it in a spreadsheet program and save it again, or export CSV",
        ) from None
    finally:
        workbook.close()


# --- JSON Lines -------------------------------------------------------------------------------


def _json_text(value: Any) -> str | None:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, list) and all(
        isinstance(v, (str, int)) and not isinstance(v, bool) for v in value
    ):
        return ";".join(str(v) for v in value) if value else "none"
    return None


def _read_jsonl(path: Path, encoding: str) -> TableSource:
    header: list[str] = []
    with open(path, encoding=encoding) as f:
        for line in f:
            if line.strip():
                try:
                    first = json.loads(line)
                except ValueError:
                    first = None
                if isinstance(first, dict):
                    header = [str(k) for k in first]
                break
    if not header:
        raise _fail(
            path,
            "the first line is not a JSON object with fields",
            'JSON Lines needs one object per line, e.g. {"source_record_id": "A1", ...}',
        )
    return TableSource(
        path,
        "jsonl",
        header,
        _jsonl_rows(path, encoding),
        encoding=encoding,
        header_is_complete=False,
    )


def _jsonl_rows(path: Path, encoding: str) -> Iterator[Row]:
    with open(path, encoding=encoding) as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except ValueError as error:
                yield (
                    number,
                    RawRow(
                        {"line": line.rstrip("\r\n")},
                        (
                            Problem(
                                None,
                                f"the line is not valid JSON ({error})",
                                None,
                                "one JSON object per line",
                            ),
                        ),
                    ),
                )
                continue
            if not isinstance(obj, dict):
                yield (
                    number,
                    RawRow(
                        {"line": line.rstrip("\r\n")},
                        (
                            Problem(
                                None,
                                "the line is not a JSON object",
                                None,
                                "one JSON object per line",
                            ),
                        ),
                    ),
                )
                continue
            values: dict[str, str] = {}
            bad: list[Problem] = []
            for key, value in obj.items():
                text = _json_text(value)
                if text is None:
                    bad.append(
                        Problem(
                            str(key),
                            "holds a nested JSON value",
                            None,
                            "text, a number, true/false, null, or a list of texts",
                        )
                    )
                    text = json.dumps(value, ensure_ascii=False)
                values[str(key)] = text
            yield number, (RawRow(values, tuple(bad)) if bad else values)
