"""Malformed files of every kind, through `ctip import` as a user runs it (issues 11 and 20).

Each kind is imported by the real command in its own process, text output as in a terminal
(Rich wraps it at 80 columns, which is where a 400 MB header once took minutes), with a 60 s
limit and the process's peak memory taken from the kernel (``ru_maxrss`` of the finished child).
For every kind: no traceback; exit 0 (imported, rows accounted for) or 4 (refused, one message
naming the file and saying what to do); output bounded; under 60 s; peak under 1 GB. For every
file imported, the stored batch reconciles (read = accepted + rejected, one kept reject per
rejected row, each reason naming the file and row).

The small files are the committed corpus (tests/data/malformed, made by make_corpus.py); the
big or binary ones are made here in a temporary folder.
"""

from __future__ import annotations

import codecs
import gzip
import io
import json
import os
import struct
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest

from ctip.services.home import init_home
from ctip.settings import Settings
from ctip.storage.repository import CaseStore

CORPUS = Path(__file__).resolve().parents[1] / "data" / "malformed"
HEADER = (CORPUS / "header_only.csv").read_text().strip()
GOOD = "R1,ngo-a,2023-04-01,identified,female,24,NGA,ITA,sexual_exploitation,Adaeze,Okafor,"
LIMIT_SECONDS = 60
LIMIT_KB = 1 << 20  # 1 GB
MAX_OUTPUT = 20_000  # characters a user sees for one import, at most

# runs `ctip` and reports exit code, output, time and the child's peak memory
RUNNER = r"""
import json, resource, subprocess, sys, time
start = time.monotonic()
try:
    done = subprocess.run(sys.argv[1:], capture_output=True, text=True, timeout=LIMIT,
                          errors="replace")
    result = {"rc": done.returncode, "out": done.stdout, "err": done.stderr}
except subprocess.TimeoutExpired:
    result = {"rc": None, "out": "", "err": "", "hang": True}
result["seconds"] = time.monotonic() - start
result["peak_kb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps(result))
""".replace("LIMIT", str(LIMIT_SECONDS))


def _rows(*lines: str) -> str:
    return "\n".join((HEADER, *lines)) + "\n"


def _xlsx(path: Path, rows: list[list[object]]) -> Path:
    wb = openpyxl.Workbook()
    for row in rows:
        wb.active.append(row)
    wb.save(path)
    return path


def _xlsx_header() -> list[str]:
    return HEADER.split(",")


def _rezip(source: Path, target: Path, replace: dict[str, bytes]) -> Path:
    """A copy of an XLSX with some parts replaced (deflated)."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            new.writestr(info.filename, replace.get(info.filename, old.read(info)))
    return target


def _base_xlsx(tmp: Path) -> Path:
    return _xlsx(tmp / "base.xlsx", [_xlsx_header(), GOOD.split(",")])


def _shared(texts: list[str]) -> bytes:
    items = "".join(f"<si><t>{t}</t></si>" for t in texts)
    return (
        '<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/'
        f'spreadsheetml/2006/main" count="{len(texts)}" uniqueCount="{len(texts)}">{items}</sst>'
    ).encode()


def _sheet_using_shared(n: int) -> bytes:
    cells = "".join(f'<c r="{chr(65 + i)}1" t="s"><v>{i}</v></c>' for i in range(n))
    return (
        '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.'
        f'org/spreadsheetml/2006/main"><sheetData><row r="1">{cells}</row></sheetData></worksheet>'
    ).encode()


def _with_shared_strings(tmp: Path, name: str, texts: list[str]) -> Path:
    base = _base_xlsx(tmp)
    path = _rezip(base, tmp / name, {"xl/worksheets/sheet1.xml": _sheet_using_shared(len(texts))})
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/sharedStrings.xml", _shared(texts))
        # the content types and relationships must name the new part for openpyxl to read it
    types = zipfile.ZipFile(path).read("[Content_Types].xml").replace(
        b"</Types>",
        b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats'
        b'-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
    )
    rels = zipfile.ZipFile(path).read("xl/_rels/workbook.xml.rels").replace(
        b"</Relationships>",
        b'<Relationship Id="rIdSS" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        b'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
    )
    out = tmp / f"final-{name}"
    with zipfile.ZipFile(path) as old, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            data = old.read(info)
            if info.filename == "[Content_Types].xml":
                data = types
            elif info.filename == "xl/_rels/workbook.xml.rels":
                data = rels
            if info.filename not in {i.filename for i in new.infolist()}:
                new.writestr(info.filename, data)
    final = tmp / name
    out.replace(final)
    return final


def _lying_sizes(tmp: Path) -> Path:
    """An XLSX whose sheet part inflates to far more than its headers declare."""
    base = _base_xlsx(tmp)
    big_sheet = _sheet_using_shared(0).replace(b"</sheetData>", b" " * (40 << 20) + b"</sheetData>")
    path = _rezip(base, tmp / "lying.xlsx", {"xl/worksheets/sheet1.xml": big_sheet})
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as z:
        info = z.getinfo("xl/worksheets/sheet1.xml")
    declared = 1000
    # local header: uncompressed size at offset 22; central directory entry: at offset 24
    struct.pack_into("<I", data, info.header_offset + 22, declared)
    start = 0
    while (start := data.find(b"PK\x01\x02", start)) >= 0:
        name_len = struct.unpack_from("<H", data, start + 28)[0]
        if data[start + 46:start + 46 + name_len] == b"xl/worksheets/sheet1.xml":
            struct.pack_into("<I", data, start + 24, declared)
        start += 4
    path.write_bytes(bytes(data))
    return path


def _bomb(tmp: Path) -> Path:
    base = _base_xlsx(tmp)
    sheet = _sheet_using_shared(0).replace(b"</sheetData>", b"\x20" * (200 << 20) + b"</sheetData>")
    return _rezip(base, tmp / "zip_bomb.xlsx", {"xl/worksheets/sheet1.xml": sheet})


def _billion_laughs(tmp: Path) -> Path:
    entities = '<!ENTITY a0 "ha">' + "".join(
        f'<!ENTITY a{i} "{("&a" + str(i - 1) + ";") * 10}">' for i in range(1, 10)
    )
    shared = (
        f'<?xml version="1.0"?><!DOCTYPE sst [{entities}]><sst xmlns="http://schemas.'
        'openxmlformats.org/spreadsheetml/2006/main"><si><t>&a9;</t></si></sst>'
    )
    path = _with_shared_strings(tmp, "billion_laughs.xlsx", ["x"])
    return _rezip(path, tmp / "billion_laughs2.xlsx", {"xl/sharedStrings.xml": shared.encode()})


def _formulas(tmp: Path) -> Path:
    return _xlsx(
        tmp / "formulas_no_value.xlsx",
        [_xlsx_header(), [*GOOD.split(",")[:5], "=20+4", *GOOD.split(",")[6:]]],
    )


def _deep_row(tmp: Path) -> Path:
    path = tmp / "nested_100k.jsonl"
    path.write_text(
        '{"source_record_id": "J1", "agency": "a", "sex": "female"}\n'
        + '{"source_record_id": "J2", "narrative": ' + "[" * 100_000 + "]" * 100_000 + "}\n"
        + "[" * 100_000 + "]" * 100_000 + "\n"
        + '{"source_record_id": "J3", "agency": "a", "sex": "male"}\n',
        encoding="utf-8",
    )
    return path


def _text(name: str, content: str | bytes) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        path = tmp / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", newline="")
        return path

    return make


def _folded_990(tmp: Path) -> Path:
    lines = [f"R{i},ngo-a,2023-04-01,identified,female,24,NGA,ITA,,Ana,Diaz," for i in range(1000)]
    lines[10] = lines[10] + '"she said'
    return _text("unbalanced_quote_990.csv", _rows(*lines))(tmp)


def _folded_closed(tmp: Path) -> Path:
    lines = [f"R{i},ngo-a,2023-04-01,identified,female,24,NGA,ITA,,Ana,Diaz," for i in range(50)]
    lines[5] = lines[5] + '"opened here'
    lines[30] = lines[30] + 'closed" later'
    return _text("unbalanced_quote_closed.csv", _rows(*lines))(tmp)


def _xlsx_dup_header(tmp: Path) -> Path:
    return _xlsx(
        tmp / "duplicate_header.xlsx", [["source_record_id", "agency", "Agency"], ["R1", "a", "b"]]
    )


def _xlsx_truncated(tmp: Path) -> Path:
    base = _xlsx(tmp / "t.xlsx", [_xlsx_header()] + [GOOD.split(",")] * 300)
    path = tmp / "truncated.xlsx"
    path.write_bytes(base.read_bytes()[: base.stat().st_size // 2])
    return path


def _xlsx_formula_text(tmp: Path) -> Path:
    row = GOOD.split(",")
    row[4] = "@SUM(A1)"
    row[0] = "=HYPERLINK(1)"
    wb = openpyxl.Workbook()
    wb.active.append(_xlsx_header())
    wb.active.append(row)
    for cell in wb.active[2]:
        cell.data_type = "s"  # text that looks like a formula, stored as text
    path = tmp / "formula_text.xlsx"
    wb.save(path)
    return path


def _zip_not_xlsx(tmp: Path) -> Path:
    path = tmp / "archive.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("data.csv", _rows(GOOD))
    return path


def _wide(tmp: Path) -> Path:
    names = [f"extra_{i}" for i in range(10_000)]
    return _text("ten_thousand_columns.csv", HEADER + "," + ",".join(names) + "\n" + GOOD
                 + "," * 10_000 + "\n")(tmp)


# kind -> (how to make the file, text the output must contain)
GENERATED: dict[str, tuple[Callable[[Path], Path], str]] = {
    "jsonl row nested 100,000 deep": (_deep_row, "too deeply"),
    "jsonl duplicate keys": (_text("dup_keys.jsonl", '{"source_record_id": "J1", "agency": "a"}\n'
                                   '{"source_record_id": "J2", "agency": "a", "agency": "b"}\n'),
                             "appears twice"),
    "jsonl utf-8 bom": (_text("bom.jsonl", codecs.BOM_UTF8 + b'{"source_record_id": "J1", '
                              b'"agency": "a", "sex": "female"}\n'), "rows read"),
    "jsonl 2 MB line": (_text("long_line.jsonl", '{"source_record_id": "J1", "agency": "a"}\n'
                              '{"source_record_id": "J2", "narrative": "' + "x" * (2 << 20)
                              + '"}\n'), "characters long"),
    "jsonl huge integer": (_text("huge_int.jsonl", '{"source_record_id": "J1", "agency": "a"}\n'
                                 '{"source_record_id": "J2", "age_at_identification": '
                                 + "9" * 5000 + "}\n"), "not valid JSON"),
    "json array": (_text("array.json", '[{"source_record_id": "J1"}]\n'), "JSON array"),
    "csv 10 MB single line": (_text("ten_mb_line.csv", _rows(GOOD, "R2," + "y" * (10 << 20))),
                              "characters long"),
    "csv 5 MB header line": (_text("huge_header.csv", "x" * (5 << 20) + "\n" + GOOD + "\n"),
                             "first line"),
    "csv 10,000-character column name": (_text("long_name.csv", "n" * 10_000 + ",agency\nR1,a\n"),
                                         "characters long"),
    "csv 1 MB cell": (_text("one_mb_cell.csv", _rows(GOOD[:-1] + "z" * (1 << 20))),
                      "characters long"),
    "csv unbalanced quote folding 990 rows": (_folded_990, "unbalanced quote"),
    "csv unbalanced quote closed 25 rows later": (_folded_closed, "unbalanced quote"),
    "csv Excel sep= line": (_text("excel_sep.csv", "sep=;\n" + _rows(GOOD).replace(",", ";")),
                            "rows read"),
    "csv old Mac CR line ends": (_text("cr_only.csv", _rows(GOOD, GOOD.replace("R1", "R2"))
                                       .replace("\n", "\r")), "rows read"),
    "csv 10,000 extra columns": (_wide, "and 9,980 more"),
    "csv UTF-32 with BOM": (_text("utf32.csv", _rows(GOOD).encode("utf-32")), "rows read"),
    "csv UTF-16 without BOM": (_text("utf16_nobom.csv", _rows(GOOD).encode("utf-16-le")),
                               "What to do"),
    # not UTF-8, so read as Windows-1252 (where both bytes are letters): a row of 2 fields
    "csv overlong UTF-8 sequence": (_text("overlong.csv", _rows(GOOD).encode() + b"R2,\xc0\xaf\n"),
                                    "2 fields"),
    "pdf named .csv": (
        _text("report.csv", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + bytes(range(256)) * 40), "What to do"
    ),
    "gzip named .csv": (_text("packed.csv", gzip.compress(_rows(GOOD).encode())), "What to do"),
    "zip that is not a workbook": (_zip_not_xlsx, "not an XLSX workbook"),
    "xlsx zip bomb": (_bomb, "zip bomb"),
    # zipfile stops at the declared size and the CRC then fails: refused as damaged, bounded
    "xlsx part larger than its header says": (_lying_sizes, "damaged"),
    "xlsx 5 MB shared string": (
        lambda tmp: _with_shared_strings(tmp, "huge_shared_string.xlsx", ["h" * (5 << 20)]),
        "holds a text of more than"),
    "xlsx entity expansion (billion laughs)": (_billion_laughs, "What to do"),
    "xlsx formulas without saved values": (_formulas, "no saved value"),
    "xlsx text that looks like formulas": (_xlsx_formula_text, "rows read"),
    "xlsx duplicate header": (_xlsx_dup_header, "twice"),
    "xlsx truncated": (_xlsx_truncated, "damaged or truncated"),
}
COMMITTED = sorted(p.name for p in CORPUS.iterdir())
KINDS = [f"corpus {name}" for name in COMMITTED] + list(GENERATED)
RESULTS: dict[str, dict] = {}


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("corpus-home")
    init_home(Settings(home=home, database_url=None, seal_key=None, pseudonym_key=None,
                       key_file=None, pseudonym_key_file=None))
    return home


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CTIP_")}
    return {**env, "CTIP_HOME": str(home), "COLUMNS": "80", "TERM": "xterm"}


@pytest.mark.parametrize("kind", KINDS)
def test_malformed_kind_through_ctip_import(kind: str, home: Path, tmp_path: Path) -> None:
    if kind.startswith("corpus "):
        path, expect = CORPUS / kind.removeprefix("corpus "), ""
    else:
        make, expect = GENERATED[kind]
        path = make(tmp_path)
    ctip = [sys.executable, "-m", "ctip", "import", str(path)]
    done = subprocess.run([sys.executable, "-c", RUNNER, *ctip], capture_output=True, text=True,
                          env=_env(home), timeout=LIMIT_SECONDS + 30, check=True)
    result = json.loads(done.stdout)
    RESULTS[kind] = result
    output = result["out"] + result["err"]
    assert not result.get("hang"), f"{kind}: no answer within {LIMIT_SECONDS} s"
    assert "Traceback" not in output, output[-3000:]
    assert result["peak_kb"] < LIMIT_KB, f"{kind}: peak {result['peak_kb'] / 1024:.0f} MB"
    assert len(output) < MAX_OUTPUT, f"{kind}: {len(output):,} characters of output"
    assert result["rc"] in (0, 4), output[-3000:]
    if result["rc"] == 4:  # refused as a whole: one message naming the file, with a way out
        assert "Error:" in result["err"] and path.name[:20] in result["err"].replace("\n", "")
        assert "What to do" in result["err"]
    else:
        assert "rows read" in result["out"]
        _reconciles(home, path.name)
    assert expect in " ".join(output.split()), output[-3000:]


def _reconciles(home: Path, name: str) -> None:
    settings = Settings(home=home, database_url=None, seal_key=None, pseudonym_key=None,
                        key_file=None, pseudonym_key_file=None)
    with CaseStore.open(settings, actor="test") as store:
        batch = [b for b in store.batches() if b.source_file == name][-1]
        assert batch.read == batch.accepted + batch.rejected
        assert store.reject_count(batch.batch_id) == batch.rejected
        for reject in store.rejects(batch.batch_id):
            assert reject.reasons and all(
                r.startswith(f"file {name}, row {reject.source_row}") for r in reject.reasons
            ), reject.reasons


def test_corpus_summary() -> None:
    """The figures of the whole corpus (printed with -s): kinds, tracebacks, hangs, peak."""
    assert len(KINDS) >= 40
    if len(RESULTS) < len(KINDS):
        return  # a selection of kinds ran (-k): the figures are those of the whole corpus
    tracebacks = sum("Traceback" in r["out"] + r["err"] for r in RESULTS.values())
    hangs = sum(bool(r.get("hang")) or r["seconds"] > LIMIT_SECONDS for r in RESULTS.values())
    peak = max(r["peak_kb"] for r in RESULTS.values()) / 1024
    slowest = max(RESULTS.items(), key=lambda kv: kv[1]["seconds"])
    print(f"\nmalformed corpus: {len(RESULTS)} kinds, {tracebacks} tracebacks, {hangs} hangs "
          f"over {LIMIT_SECONDS} s, peak memory {peak:.0f} MB, slowest {slowest[0]!r} "
          f"{slowest[1]['seconds']:.1f} s")
    assert tracebacks == hangs == 0 and peak < 1024
