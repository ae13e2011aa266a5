"""Write the malformed-file corpus in tests/data/malformed/ (small files, committed).

Big or binary-derived cases (1 MB cells, truncated XLSX) are made by the tests themselves in a
temporary directory, so the repository stays small. Run: python tests/data/make_corpus.py
"""

from __future__ import annotations

import codecs
from pathlib import Path

HERE = Path(__file__).resolve().parent / "malformed"
HEADER = (
    "source_record_id,agency,identification_date,identification_status,sex,age_at_identification,"
    "citizenships,country_of_detection,exploitation_forms,given_name,family_name,narrative"
)


def rows(*lines: str) -> str:
    return "\r\n".join((HEADER, *lines)) + "\r\n"


GOOD = "R1,ngo-a,2023-04-01,identified,female,24,NGA,ITA,sexual_exploitation,Adaeze,Okafor,"
GOOD2 = "R2,ngo-a,2023-05-02,presumed,male,31,Ukraine,IT,forced_labour,Mykola,Shevchenko,"
ACCENTED = "R3,ngo-a,2023-06-03,identified,female,19,CIV,ITA,,Zoë,Müller-Gómez,Café worker"

FILES: dict[str, bytes] = {
    # encodings: all four decode to the same three rows
    "utf8.csv": rows(GOOD, GOOD2, ACCENTED).encode("utf-8"),
    "utf8_bom.csv": codecs.BOM_UTF8 + rows(GOOD, GOOD2, ACCENTED).encode("utf-8"),
    "utf16_bom.csv": rows(GOOD, GOOD2, ACCENTED).encode("utf-16"),
    "cp1252.csv": rows(GOOD, GOOD2, ACCENTED).encode("cp1252"),
    "undecodable.csv": rows(GOOD).encode("utf-8")
    + b"R9,ngo-a,2023-01-01,identified,female,2\x81\x8d,NGA,ITA,,,,\r\n",
    "mixed_utf8.csv": rows(ACCENTED).encode("utf-8")
    + b"R9,ngo-a,2023-01-01,identified,f\xe9male,20,NGA,ITA,,,,\r\n",
    # delimiters and quoting
    "semicolon.csv": rows(GOOD, GOOD2).replace(",", ";").encode("utf-8"),
    "tab.tsv": rows(GOOD, GOOD2).replace(",", "\t").encode("utf-8"),
    "pipe.csv": rows(GOOD, GOOD2).replace(",", "|").encode("utf-8"),
    "quoted_newlines.csv": rows(
        GOOD + '"She said:\nline two, with a comma\r\nline three"', GOOD2
    ).encode(),
    "unterminated_quote.csv": rows(
        GOOD, 'R2,ngo-a,2023-05-02,presumed,male,31,UKR,ITA,,"Never closed,,'
    ).encode(),
    # columns
    "missing_required_column.csv": b"agency,sex,age_at_identification\r\nngo-a,female,20\r\n",
    "missing_optional_columns.csv": (
        b"source_record_id,agency,sex\r\nR1,ngo-a,female\r\nR2,ngo-a,\r\n"
    ),
    "extra_columns.csv": (
        HEADER + ",favourite_colour,shoe_size\r\n" + GOOD + ",blue,38\r\n" + GOOD2 + ",,\r\n"
    ).encode(),
    "wrong_field_count.csv": rows(
        GOOD, "R2,ngo-a,2023-05-02", GOOD2.replace("R2", "R3") + ",surplus"
    ).encode(),
    "duplicate_header.csv": b"source_record_id,agency,sex,Sex\r\nR1,ngo-a,female,female\r\n",
    # values
    "bad_dates.csv": rows(
        GOOD,
        "R2,ngo-a,2023-02-30,identified,female,24,NGA,ITA,,,,",
        "R3,ngo-a,01/02/2023,identified,female,24,NGA,ITA,,,,",
        "R4,ngo-a,2999-01-01,identified,female,24,NGA,ITA,,,,",
        "R5,ngo-a,1850-06-01,identified,female,24,NGA,ITA,,,,",
    ).encode(),
    "ages.csv": rows(
        "R1,ngo-a,2023-04-01,identified,female,-1,NGA,ITA,,,,",
        "R2,ngo-a,2023-04-01,identified,female,250,NGA,ITA,,,,",
        "R3,ngo-a,2023-04-01,identified,female,30.5,NGA,ITA,,,,",
        "R4,ngo-a,2023-04-01,identified,female,twenty,NGA,ITA,,,,",
        "R5,ngo-a,2023-04-01,identified,female,0,NGA,ITA,,,,",
        "R6,ngo-a,2023-04-01,identified,female,120,NGA,ITA,,,,",
    ).encode(),
    "unknown_countries.csv": rows(
        "R1,ngo-a,2023-04-01,identified,female,20,Atlantis,ITA,,,,",
        "R2,ngo-a,2023-04-01,identified,female,20,NGA,ZZ,,,,",
        "R3,ngo-a,2023-04-01,identified,female,20,Ivory Coast;NG,Italy,,,,",
        "R4,ngo-a,2023-04-01,identified,female,20,stateless,380,,,,",
    ).encode(),
    "unknown_codes.csv": rows(
        "R1,ngo-a,2023-04-01,identified,femal,20,NGA,ITA,,,,",
        "R2,ngo-a,2023-04-01,victim,female,20,NGA,ITA,,,,",
        "R3,ngo-a,2023-04-01,identified,female,20,NGA,ITA,sexual_exploitation;juggling,,,",
        "R4,ngo-a,2023-04-01,ActualVictimOfTrafficking,F,20,NGA,ITA,SexualExploitation;ForcedLabour,,,",
    ).encode(),
    "missing_required_values.csv": rows(
        ",ngo-a,2023-04-01,identified,female,20,NGA,ITA,,,,",
        "R2,,2023-04-01,identified,female,20,NGA,ITA,,,,",
        GOOD,
    ).encode(),
    "nul_bytes.csv": rows(
        GOOD, "R2,ngo-a,2023-04-01,identified,female,20,NGA,ITA,,Ad\x00a,Ok,"
    ).encode(),
    "control_chars.csv": rows(
        GOOD, "R2,ngo-a,2023-04-01,identified,female,20,NGA,ITA,,,,bell\x07here"
    ).encode(),
    "formula_injection.csv": rows(
        'R1,ngo-a,2023-04-01,identified,female,20,NGA,ITA,,=HYPERLINK("http://x.example"),+cmd|calc,@SUM(A1)',
        "R2,=1+1,2023-04-01,identified,female,20,NGA,ITA,=cmd,,,",
    ).encode(),
    "html_script.csv": rows(
        'R1,ngo-a,2023-04-01,identified,female,20,NGA,ITA,,<b>Ada</b>,"<script>alert(1)</script>",'
        '"<img src=x onerror=alert(1)> & ""quoted"""',
    ).encode(),
    "empty.csv": b"",
    "whitespace_only.csv": b"  \r\n\r\n \t \r\n",
    "header_only.csv": (HEADER + "\r\n").encode(),
    "duplicates.csv": rows(GOOD, GOOD2, GOOD, GOOD.replace("24,", "25,")).encode(),
    "binary.csv": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8,
    "old_excel.xls": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512,
    "not_a_workbook.xlsx": rows(GOOD).encode(),
    "broken.jsonl": (
        b'{"source_record_id": "J1", "agency": "ngo-j", "sex": "female", '
        b'"age_at_identification": 30}\n'
        b'{"source_record_id": "J2", "agency": "ngo-j", "sex": "male", '
        b'"citizenships": ["NGA", "GHA"]}\n'
        b"this is not json\n"
        b'["a", "list"]\n'
        b'{"source_record_id": "J5", "agency": "ngo-j", "sex": {"nested": true}}\n'
        b"\n"
        b'{"source_record_id": "J6", "agency": "ngo-j", "sex": "female", '
        b'"age_at_identification": 250}\n'
    ),
}


def main() -> None:
    HERE.mkdir(parents=True, exist_ok=True)
    for name, content in FILES.items():
        (HERE / name).write_bytes(content)
    print(f"wrote {len(FILES)} files to {HERE}")


if __name__ == "__main__":
    main()
