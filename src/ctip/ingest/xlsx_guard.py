"""Check an XLSX archive before openpyxl opens it: zip bombs, over-long texts, formulas.

openpyxl trusts the archive: it inflates every part it reads, keeps the whole shared-string
table in memory and hands a text node over as one string, however big. A 50 kB zip bomb or a
pasted 400 MB blob in one cell then costs gigabytes and minutes. So before openpyxl sees the
file, every part is read once, in chunks, with a byte budget:

- a part that inflates to more than its header says (a lying header), past ``MAX_PART_BYTES``,
  or at a ratio only a bomb reaches is refused; the CRC of every part is checked on the way
  (``zipfile`` does it at the end of each part), which is what ``ZipFile.testzip`` did;
- a text run longer than ``MAX_TEXT_CHARS`` (bytes between two tags) in any XML part is refused,
  naming the part and, in a sheet, the cell;
- the shared-string table may not exceed ``MAX_SHARED_STRINGS_BYTES`` (openpyxl holds it whole);
- formulas in the first sheet are counted, and those without a saved value (a workbook written by
  a program that never calculated it): openpyxl reads those cells as empty, so the import says so.

Written by hand: no library checks an archive this way, and the scan runs at C speed (regular
expressions over bytes), about a second per 300 MB.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import PurePosixPath

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

MAX_PART_BYTES = 1 << 30  # one part, inflated
MAX_TOTAL_BYTES = 2 << 30  # all parts, inflated
MAX_RATIO = 400  # inflated / compressed, for parts over RATIO_FLOOR bytes: only bombs go past
RATIO_FLOOR = 8 << 20
MAX_SHARED_STRINGS_BYTES = 256 << 20
MAX_TEXT_CHARS = 1 << 20  # as readers.MAX_LINE_CHARS: a cell over cells.MAX_CELL_CHARS is a reject
READ = 1 << 20

_RUN = re.compile(rb"[^<]{%d}" % MAX_TEXT_CHARS)
_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")
_NO_VALUE = re.compile(  # a formula, then no value or an empty one, then the cell's end
    rb"(?:</(?:\w+:)?f>|<(?:\w+:)?f\b[^>]*/>)\s*"
    rb"(?:<(?:\w+:)?v\s*/>|<(?:\w+:)?v>\s*</(?:\w+:)?v>)?\s*</(?:\w+:)?c>"
)
_CELL_REF = re.compile(rb'<(?:\w+:)?c\b[^>]*\br="([A-Z]{1,3}[0-9]{1,7})"')


class XlsxRefused(Exception):
    """What is wrong with the archive, and what to do (turned into an ``InputFileError``)."""

    def __init__(self, what: str, hint: str) -> None:
        super().__init__(what)
        self.what, self.hint = what, hint


@dataclass
class XlsxFacts:
    formulas: int = 0  # formula cells in the first sheet
    formulas_without_value: int = 0  # of those, cells with no saved value (read as empty)
    first_without_value: str | None = None  # e.g. "C7"


def _first_sheet(archive: zipfile.ZipFile, names: set[str]) -> str | None:
    """The part of the workbook's first sheet (what openpyxl's ``worksheets[0]`` reads)."""
    try:
        workbook = ElementTree.fromstring(_small(archive, "xl/workbook.xml"))
        rels = ElementTree.fromstring(_small(archive, "xl/_rels/workbook.xml.rels"))
    except (KeyError, ElementTree.ParseError, DefusedXmlException):
        return None
    sheet = next((e for e in workbook.iter() if e.tag.endswith("}sheet")), None)
    if sheet is None:
        return None
    rid = next((v for k, v in sheet.attrib.items() if k.endswith("}id")), None)
    for rel in rels.iter():
        if rel.attrib.get("Id") == rid:
            target = rel.attrib.get("Target", "")
            path = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
            path = str(PurePosixPath(path))
            return path if path in names else None
    return None


def _small(archive: zipfile.ZipFile, name: str) -> bytes:
    info = archive.getinfo(name)
    if info.file_size > 16 << 20:
        raise XlsxRefused(f"its part {name} is {info.file_size:,} bytes",
                          "save the workbook again from a spreadsheet program")
    return _read_part(archive, info, lambda _chunk: None, keep=True)


def _read_part(archive: zipfile.ZipFile, info: zipfile.ZipInfo, scan: object, *,
               keep: bool = False) -> bytes:
    """Inflate one part in chunks within its budget (returned when ``keep``)."""
    parts: list[bytes] = []
    total = 0
    with archive.open(info) as stream:
        while chunk := stream.read(READ):
            total += len(chunk)
            if total > min(info.file_size, MAX_PART_BYTES):
                raise XlsxRefused(
                    f"its part {info.filename} inflates to more than the "
                    f"{info.file_size:,} bytes its header declares (a zip bomb or a damaged file)",
                    "do not open it; ask the sender for a new export",
                )
            scan(chunk)  # type: ignore[operator]
            if keep:
                parts.append(chunk)
    return b"".join(parts)


class _Scanner:
    """Text runs over the limit in an XML part, across chunk boundaries; formulas in a sheet."""

    def __init__(self, part: str, sheet: bool, facts: XlsxFacts) -> None:
        self.part, self.sheet, self.facts = part, sheet, facts
        self.run = 0  # bytes since the last "<" at the end of the previous chunk
        self.tail = b""  # the end of the previous chunk, for matches across the boundary

    def __call__(self, chunk: bytes) -> None:
        first = chunk.find(b"<")
        if first < 0:
            self.run += len(chunk)
        else:
            self.run += first
        if self.run >= MAX_TEXT_CHARS or _RUN.search(chunk):
            self._too_long(chunk)
        if first >= 0:
            self.run = len(chunk) - chunk.rfind(b"<") - 1
        if self.sheet:
            window = self.tail + chunk
            skip = len(self.tail)
            self.facts.formulas += sum(1 for m in _FORMULA.finditer(window) if m.end() > skip)
            for match in _NO_VALUE.finditer(window):
                if match.end() <= skip:
                    continue
                self.facts.formulas_without_value += 1
                if self.facts.first_without_value is None:
                    refs = list(_CELL_REF.finditer(window, 0, match.start()))
                    self.facts.first_without_value = refs[-1].group(1).decode() if refs else "?"
            self.tail = window[-512:]

    def _too_long(self, chunk: bytes) -> None:
        where = ""
        if self.sheet:
            refs = list(_CELL_REF.finditer(self.tail + chunk))
            if refs:
                where = f" (near cell {refs[-1].group(1).decode()})"
        raise XlsxRefused(
            f"its part {self.part} holds a text of more than {MAX_TEXT_CHARS:,} characters"
            f"{where}; a cell holds at most 32,768",
            "find the cell with the pasted blob, clear it, save and import again (or export CSV)",
        )


def check_xlsx(path: str) -> XlsxFacts:
    """Read every part of the archive once, within budgets; ``XlsxRefused`` when one is broken.

    Raises ``zipfile.BadZipFile`` (and the other errors a damaged archive gives) as they come:
    the reader turns them into its "damaged or truncated" message."""
    facts = XlsxFacts()
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
        names = {i.filename for i in infos}
        if "xl/workbook.xml" not in names:
            raise XlsxRefused("this ZIP archive is not an XLSX workbook",
                              "import a .xlsx, CSV or JSON Lines file")
        total = sum(i.file_size for i in infos)
        if total > MAX_TOTAL_BYTES:
            raise XlsxRefused(f"it inflates to {total:,} bytes",
                              "split the workbook, or export it as CSV (no size limit)")
        for info in infos:
            if info.file_size > MAX_PART_BYTES or (
                info.file_size > RATIO_FLOOR
                and info.file_size > MAX_RATIO * max(info.compress_size, 1)
            ):
                raise XlsxRefused(
                    f"its part {info.filename} inflates {info.compress_size:,} bytes to "
                    f"{info.file_size:,} (a zip bomb, or a sheet too large for XLSX import)",
                    "do not open it if you do not trust the sender; otherwise export CSV",
                )
        shared = next((i for i in infos if i.filename.lower() == "xl/sharedstrings.xml"), None)
        if shared is not None and shared.file_size > MAX_SHARED_STRINGS_BYTES:
            raise XlsxRefused(
                f"its shared-string table is {shared.file_size:,} bytes (at most "
                f"{MAX_SHARED_STRINGS_BYTES:,}: it is held in memory whole)",
                "export the sheet as CSV and import that",
            )
        sheet = _first_sheet(archive, names)
        for info in infos:
            xml = info.filename.endswith((".xml", ".rels"))
            scan = _Scanner(info.filename, info.filename == sheet, facts) if xml else (
                lambda _chunk: None)
            _read_part(archive, info, scan)
    return facts


DAMAGED = (zipfile.BadZipFile, OSError, EOFError, ValueError, zlib.error, NotImplementedError)
