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
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from ctip.domain.problems import Problem
from ctip.errors import InputFileError, Phrase

CHUNK = 1 << 20
# Largest CSV field the parser will hold (cells above cells.MAX_CELL_CHARS are rejected later,
# with their row); beyond this the file is treated as broken (e.g. an unterminated quote).
MAX_FIELD_BYTES = 16 << 20
# Longest physical line read (CSV, JSON Lines), in characters: a row of 30 full cells fits. A
# longer line is rejected with its line number, never held whole (a 400 MB "line" is a damaged
# export, and holding it would cost gigabytes).
MAX_LINE_CHARS = 1 << 20
MAX_COLUMN_NAME = 256  # characters in a column name
KEPT_CHARS = 32_768  # of an over-long line, the part kept (sealed) with its reject
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
    # filled while the rows are read: physical "lines", records "folded" by an unbalanced quote
    # [(row, first line, last line)], "long_lines" rejected for their length
    stats: dict[str, Any] = field(default_factory=dict)

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


def _fail(path: Path, what: Phrase | str, hint: Phrase | str) -> InputFileError:
    """The refusal of a file: what is wrong and what to do are Phrases (the pages translate
    them; the xlsx guard's texts are plain English strings)."""
    return InputFileError("cannot read {file}: {what}", hint="{hint}",
                          params={"file": shown(path.name), "what": what, "hint": hint})


def shown(text: str, limit: int = 60) -> str:
    """A value quoted in a message, never longer than ``limit`` characters (a 400 MB header cell
    quoted whole made the terminal spend minutes wrapping one error)."""
    return text if len(text) <= limit else f"{text[:limit - 3]}... ({len(text):,} characters)"


class LineTooLong(Exception):
    """A physical line longer than ``MAX_LINE_CHARS``; its rest was skipped unread."""

    def __init__(self, line: int, length: int, kept: str) -> None:
        super().__init__(f"line {line} is {length} characters long")
        self.line, self.length, self.kept = line, length, kept

    def problem(self) -> Problem:
        return Problem(
            None,
            f"line {self.line:,} of the file is {self.length:,} characters long; this record "
            "was not read",
            None,
            f"lines of at most {MAX_LINE_CHARS:,} characters",
        )


class BoundedLines:
    """The physical lines of a text file, each at most ``MAX_LINE_CHARS`` characters.

    Written by hand because ``csv.reader`` and file iteration hold a whole line however long it
    is. Counts lines, so the CSV reader can tell how many physical lines a record took, and
    notes when the end of the file was asked for. A line over the limit raises ``LineTooLong``
    after its rest is skipped in chunks (memory stays flat)."""

    def __init__(self, handle: Any) -> None:
        self.handle = handle
        self.number = 0  # physical lines read so far
        self.exhausted = False  # the end of the file was asked for (e.g. inside a quote)

    def __iter__(self) -> BoundedLines:
        return self

    def __next__(self) -> str:
        line = self.handle.readline(MAX_LINE_CHARS + 1)
        if not line:
            self.exhausted = True
            raise StopIteration
        self.number += 1
        if len(line) > MAX_LINE_CHARS and not line.endswith(("\n", "\r")):
            kept, length = line[:KEPT_CHARS], len(line)
            while True:
                rest = self.handle.readline(CHUNK)
                length += len(rest)
                if not rest or rest.endswith(("\n", "\r")):
                    break
            raise LineTooLong(self.number, length, kept)
        return line


def read_table(path: str | Path) -> TableSource:
    """Open ``path`` as a table; raises ``InputFileError`` when it cannot be read at all."""
    path = Path(path)
    if not path.is_file():
        raise _fail(path, Phrase("no such file"), Phrase("check the path"))
    try:
        with open(path, "rb") as f:
            head = f.read(8192)
    except OSError as error:
        raise _fail(
            path, Phrase("the file could not be opened ({strerror})",
                         params={"strerror": error.strerror}), Phrase("check its permissions")
        ) from None
    if not head.strip(b" \t\r\n\xef\xbb\xbf\xff\xfe\x00"):
        raise _fail(
            path, Phrase("the file is empty"),
            Phrase("export the data again, with a header row and data rows")
        )
    if head.startswith(b"PK\x03\x04"):
        return _read_xlsx(path)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise _fail(
            path,
            Phrase("this is an old binary Excel (.xls) or other OLE file"),
            Phrase("save it as .xlsx or CSV (UTF-8) and import that"),
        )
    if path.suffix.lower() in {".xlsx", ".xlsm"}:
        raise _fail(
            path,
            Phrase("the file is not a valid XLSX workbook (it is not a ZIP archive)"),
            Phrase("open it in a spreadsheet program and save it again as .xlsx"),
        )
    encoding = detect_encoding(path, head)
    first = _first_text(path, encoding)
    opening = first.strip()
    if opening == "[" or opening.startswith(("[{", "[ {")):
        raise _fail(
            path,
            Phrase("this is a JSON array, not JSON Lines or CSV"),
            Phrase("write one JSON object per line (JSON Lines), or export CSV"),
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
                    Phrase("the file starts with a {upper} byte-order mark but is not valid "
                           "{upper} ({bad})",
                           params={"upper": name.upper(),
                                   "bad": bad}),
                    Phrase("save it again as UTF-8"),
                )
            return _not_binary(path, name)
    bad = _first_decode_error(path, "utf-8")
    if bad is None:
        return _not_binary(path, "utf-8")
    if head.count(b"\x00") > len(head) // 10:
        raise _fail(
            path,
            Phrase("this looks like a binary file or UTF-16 text without a byte-order mark"),
            Phrase("save it as CSV (UTF-8) or XLSX"),
        )
    if bad.startswith("after valid UTF-8"):
        raise _fail(
            path,
            Phrase("the text is mostly UTF-8 but has undecodable bytes ({bad})",
                   params={"bad": bad}),
            Phrase("the file is probably damaged or mixes encodings; save it again as UTF-8"),
        )
    bad_1252 = _first_decode_error(path, "cp1252")
    if bad_1252 is not None:
        raise _fail(
            path,
            Phrase("the text is neither UTF-8, UTF-16 nor Windows-1252 ({bad})",
                   params={"bad": bad}),
            Phrase("save it as CSV (UTF-8) and import that"),
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
            Phrase("this looks like a binary file, not a table (many control characters)"),
            Phrase("import a CSV, XLSX or JSON Lines file"),
        )
    return encoding


def _first_text(path: Path, encoding: str) -> str:
    """The first non-blank line; ``InputFileError`` when it is longer than a line may be."""
    with open(path, encoding=encoding, newline="") as f:
        try:
            for line in BoundedLines(f):
                if line.strip():
                    return line
        except LineTooLong as error:
            raise _fail(
                path,
                Phrase("its first line (the header) is {length} characters long",
                       params={"length": f"{error.length:,}"}),
                Phrase("a header names the columns in at most {max_line_chars} characters; "
                       "check that this is the file you meant, exported as CSV, XLSX or JSON "
                       "Lines",
                       params={"max_line_chars": f"{MAX_LINE_CHARS:,}"}),
            ) from None
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
        if len(name) > MAX_COLUMN_NAME:
            raise _fail(
                path,
                Phrase("the name of column {i} in the header is {name_count} characters long "
                       "({shown})",
                       params={"i": i,
                               "name_count": f"{len(name):,}",
                               "shown": repr(shown(name))}),
                Phrase("name columns in at most {max_column_name} characters; if the first row "
                       "is data, add a header row",
                       params={"max_column_name": MAX_COLUMN_NAME}),
            )
        key = name.casefold()
        if key in seen:
            raise _fail(
                path,
                Phrase("the header names column {shown} twice (columns {seen} and {i})",
                       params={"shown": repr(shown(name)),
                               "seen": seen[key],
                               "i": i}),
                Phrase("give every column a different name"),
            )
        seen[key] = i
        names.append(name)
    return names


def _excel_separator(line: str) -> str | None:
    """The delimiter named by Excel's optional first line ``sep=;``, or None."""
    text = line.strip().lstrip("\ufeff")
    if len(text) == 5 and text.casefold().startswith("sep=") and text[4] in DELIMITERS:
        return text[4]
    return None


def _read_csv(path: Path, encoding: str, first_line: str) -> TableSource:
    excel = _excel_separator(first_line)
    csv.field_size_limit(MAX_FIELD_BYTES)
    handle = open(path, encoding=encoding, newline="")  # noqa: SIM115 - closed by the generator
    lines = BoundedLines(handle)
    number = 0
    if excel is not None:  # "sep=;" is not the header: the line after it is
        for line in lines:
            if _excel_separator(line):
                break
        number = lines.number
        delimiter = excel
    else:
        delimiter = sniff_delimiter(first_line)
    reader = csv.reader(lines, delimiter=delimiter)
    try:
        for cells in reader:
            number += 1
            if any(c.strip() for c in cells):
                break
        else:
            handle.close()
            raise _fail(path, Phrase("the file has no header row"),
                        Phrase("the first row must name the columns"))
        header = _column_names(path, cells)
    except csv.Error as error:
        handle.close()
        raise _fail(
            path, Phrase("the header row cannot be parsed ({shown})",
                         params={"shown": shown(str(error))}), Phrase("check the quoting")
        ) from None
    except LineTooLong as error:
        handle.close()
        raise _fail(
            path,
            Phrase("its header row runs over a line of {length} characters",
                   params={"length": f"{error.length:,}"}),
            Phrase("check the quoting of the header row"),
        ) from None
    except InputFileError:
        handle.close()
        raise
    if lines.number > number:
        handle.close()
        raise _fail(
            path,
            Phrase("its header row runs over {count} lines (a quote in the header is not "
                   "closed, or a column name holds a line break)",
                   params={"count": lines.number - number + 1}),
            Phrase("put the column names on the first line, without line breaks"),
        )
    table = TableSource(path, "csv", header, iter(()), encoding=encoding, delimiter=delimiter)
    table.rows = _csv_rows(table, handle, lines, reader, header, number)
    return table


def _folded(cells: list[str], delimiter: str, width: int, open_at_end: bool, first: int,
            last: int) -> Problem | None:
    """The problem of a record that an unbalanced quote made out of several rows, or None.

    A quoted cell may hold line breaks (a narrative); what gives a fold away is a line inside a
    cell with a whole row's worth of delimiters, or a record that ends with its quote still open
    (the parser asked for the end of the file inside the record: only an open quote does)."""
    span = f"this record runs from line {first:,} to line {last:,} ({last - first + 1:,} lines)"
    if open_at_end:
        return Problem(
            None,
            f"a quote opened in this record is never closed: {span}, the end of the file, "
            "and was read as one record; any rows inside it were not imported",
            None,
            "every opening quote closed in the same field",
        )
    need = max(2, width - 1)
    for column, cell in enumerate(cells, start=1):
        if "\n" not in cell and "\r" not in cell:
            continue
        rowlike = sum(1 for line in cell.splitlines()[1:] if line.count(delimiter) >= need)
        if rowlike:
            return Problem(
                None,
                f"an unbalanced quote: {span}, and its field {column} holds {rowlike:,} "
                "line(s) that look like rows of their own; they were not imported",
                None,
                "every opening quote closed in the same field",
            )
    return None


def _csv_rows(
    table: TableSource, handle: Any, lines: BoundedLines, reader: Any, header: list[str],
    number: int,
) -> Iterator[Row]:
    width = len(header)
    stats = table.stats
    try:
        while True:
            first = lines.number + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except LineTooLong as error:
                number += 1
                stats["long_lines"] = stats.get("long_lines", 0) + 1
                yield number, RawRow({"line": error.kept}, (error.problem(),))
                continue
            except csv.Error as error:
                number += 1
                yield (
                    number,
                    RawRow(
                        {},
                        (
                            Problem(
                                None,
                                f"the rest of the file from line {first:,} cannot be split "
                                f"into fields ({shown(str(error))}); it was not read",
                                None,
                                "well-formed CSV quoting",
                            ),
                        ),
                    ),
                )
                return
            number += 1
            if lines.number > first or lines.exhausted:  # several lines, or open at the end
                fold = _folded(cells, reader.dialect.delimiter, width, lines.exhausted,
                               first, lines.number)
                if fold is not None:
                    stats.setdefault("folded", []).append((number, first, lines.number))
                    values = dict(zip(header, cells, strict=False))
                    for i, extra in enumerate(cells[width:], start=width + 1):
                        values[f"column_{i}"] = extra
                    yield number, RawRow(values, (fold,))
                    continue
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
        stats["lines"] = lines.number
        handle.close()


# --- XLSX -------------------------------------------------------------------------------------


def _read_xlsx(path: Path) -> TableSource:
    from ctip.ingest.xlsx_guard import DAMAGED, XlsxRefused, check_xlsx

    try:
        facts = check_xlsx(str(path))
    except XlsxRefused as refused:
        raise _fail(path, refused.what, refused.hint) from None
    except DAMAGED as error:
        raise _fail(
            path,
            Phrase("the XLSX workbook is damaged or truncated ({shown})",
                   params={"shown": shown(str(error), 120)}),
            Phrase("open it in a spreadsheet program and save it again, or export CSV"),
        ) from None
    try:
        import openpyxl

        # validation lists (IOM's HTCDS template has them) only constrain input in Excel:
        # nothing to read, so openpyxl's note that it drops them (given while the rows stream,
        # hence a filter and not a catch_warnings block) is noise on the user's screen
        warnings.filterwarnings("ignore", message="Data Validation extension",
                                category=UserWarning, module="openpyxl")
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
                Phrase("the first sheet is empty"),
                Phrase("put a header row and data rows on the first sheet"),
            )
    except InputFileError:
        raise
    except Exception as error:  # openpyxl raises many types for damaged parts
        raise _fail(
            path,
            Phrase("the XLSX workbook cannot be read ({name}: {shown})",
                   params={"name": type(error).__name__,
                           "shown": shown(str(error), 120)}),
            Phrase("open it in a spreadsheet program and save it again, or export CSV"),
        ) from None
    while cells and (cells[-1] is None or not str(cells[-1]).strip()):
        cells = cells[:-1]
    header = _column_names(path, list(cells))
    table = TableSource(path, "xlsx", header, _xlsx_rows(path, workbook, rows, header, number))
    if facts.formulas_without_value:
        table.notes.append(
            f"{facts.formulas_without_value:,} cell(s) of the sheet hold a formula with no saved "
            f"value (first: {facts.first_without_value}) and were read as empty: open the file "
            "in a spreadsheet program, let it calculate, save and import again"
        )
    elif facts.formulas:
        table.notes.append(
            f"{facts.formulas:,} cell(s) of the sheet hold formulas: their last calculated "
            "values were imported, not the formulas"
        )
    return table


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
            Phrase("the XLSX workbook is damaged at row {number} ({name})",
                   params={"number": number,
                           "name": type(error).__name__}),
            Phrase("open it in a spreadsheet program and save it again, or export CSV"),
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


class DuplicateKey(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object's fields; a key given twice is an error (``json`` would keep the last one in
    silence, so a value would be lost)."""
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        twice = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        raise DuplicateKey(f"the field {shown(twice, 40)!r} appears twice in one object")
    return obj


def _json_line(line: str) -> tuple[Any, str | None]:
    """(object, None) or (None, what is wrong). Nesting deeper than Python's recursion limit
    (a row nested 100,000 deep) is a broken line like any other, not a crash."""
    try:
        return json.loads(line, object_pairs_hook=_unique_keys), None
    except RecursionError:
        return None, "the line nests JSON values too deeply to read"
    except DuplicateKey as error:
        return None, f"the line is not a usable JSON object ({error})"
    except ValueError as error:
        return None, f"the line is not valid JSON ({shown(str(error), 120)})"


def _read_jsonl(path: Path, encoding: str) -> TableSource:
    header: list[str] = []
    with open(path, encoding=encoding, newline="") as f:
        try:
            for line in BoundedLines(f):
                if line.strip():
                    first, _ = _json_line(line)
                    if isinstance(first, dict):
                        header = [str(k) for k in first]
                    break
        except LineTooLong:
            pass  # refused below, like any first line that is not an object
    if not header:
        raise _fail(
            path,
            Phrase("the first line is not a JSON object with fields (of at most "
                   "{max_line_chars} characters)",
                   params={"max_line_chars": f"{MAX_LINE_CHARS:,}"}),
            Phrase("JSON Lines needs one object per line, e.g. {example}",
                   params={"example": '{"source_record_id": "A1", ...}'}),
        )
    for i, name in enumerate(header, start=1):
        if len(name) > MAX_COLUMN_NAME:
            raise _fail(
                path,
                Phrase("field {i} of the first object has a name of {name_count} characters "
                       "({shown})",
                       params={"i": i,
                               "name_count": f"{len(name):,}",
                               "shown": repr(shown(name))}),
                Phrase("name fields in at most {max_column_name} characters",
                       params={"max_column_name": MAX_COLUMN_NAME}),
            )
    table = TableSource(path, "jsonl", header, iter(()), encoding=encoding,
                        header_is_complete=False)
    table.rows = _jsonl_rows(table, path, encoding)
    return table


def _broken_line(number: int, line: str, message: str) -> Row:
    return (
        number,
        RawRow(
            {"line": line.rstrip("\r\n")},
            (Problem(None, message, None, "one JSON object per line"),),
        ),
    )


def _jsonl_rows(table: TableSource, path: Path, encoding: str) -> Iterator[Row]:
    with open(path, encoding=encoding, newline="") as f:
        lines = BoundedLines(f)
        try:
            while True:
                try:
                    line = next(lines)
                except StopIteration:
                    return
                except LineTooLong as error:
                    table.stats["long_lines"] = table.stats.get("long_lines", 0) + 1
                    yield error.line, RawRow({"line": error.kept}, (error.problem(),))
                    continue
                number = lines.number
                if not line.strip():
                    continue
                obj, wrong = _json_line(line)
                if wrong is not None:
                    yield _broken_line(number, line, wrong)
                    continue
                if not isinstance(obj, dict):
                    yield _broken_line(number, line, "the line is not a JSON object")
                    continue
                values: dict[str, str] = {}
                bad: list[Problem] = []
                for key, value in obj.items():
                    text = _json_text(value)
                    if text is None:
                        bad.append(
                            Problem(
                                shown(str(key)),
                                "holds a nested JSON value",
                                None,
                                "text, a number, true/false, null, or a list of texts",
                            )
                        )
                        text = json.dumps(value, ensure_ascii=False)
                    values[str(key)] = text
                yield number, (RawRow(values, tuple(bad)) if bad else values)
        finally:
            table.stats["lines"] = lines.number
