"""Parsing and checking one cell: the small rules every import profile shares.

Each parser returns the parsed value or raises ``CellError`` carrying a ``Problem`` (column, what
was wrong, the value, what is allowed). Profiles collect every problem of a row, so a person sees
all that is wrong with it at once.

Speed matters (a million rows per import): parsers are plain functions over dict lookups and
caches, with no regular expressions on the per-cell path.

Identity columns (names, dates of birth, contacts...) never echo their value into a problem:
reasons are shown and exported, and must not carry a victim's identity in plaintext.
"""

from __future__ import annotations

from datetime import date
from functools import cache

from ctip.domain.countries import normalise_country
from ctip.domain.problems import Problem
from ctip.domain.records import IDENTITY_FIELDS
from ctip.domain.vocabulary import code_list

# Longest cell accepted, in characters. A narrative of 20 pages fits; a 1 MB blob does not.
MAX_CELL_CHARS = 32_768
MAX_ID_CHARS = 200
MIN_YEAR = 1900
UNKNOWN_TOKENS = frozenset(
    {"", "unknown", "not specified", "not_specified", "nonspecifiedunknown", "-99", "n/a"}
)  # not "na": that is Namibia
NONE_TOKEN = "none"  # noqa: S105 - the known-empty value of a multi-valued field
WITHHELD = "[identity value withheld]"

# Control characters that never belong in text (tab, newline and carriage return are allowed).
_CONTROL = frozenset(chr(c) for c in range(32) if chr(c) not in "\t\n\r") | {"\x7f"}


class CellError(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def problem(column: str, message: str, value: str | None, allowed: str | None = None) -> CellError:
    if column in IDENTITY_FIELDS or column.endswith(("Name", "Birthdate", "Email", "Phone")):
        value = None if value is None else WITHHELD
    elif value is not None and len(value) > 200:
        value = value[:200] + "..."
    return CellError(Problem(column, message, value, allowed))


def check_text(column: str, value: str) -> str:
    """Stored as text, never interpreted: HTML or script is kept verbatim; control bytes are not."""
    if len(value) > MAX_CELL_CHARS:
        raise problem(
            column,
            f"cell is {len(value):,} characters long",
            value[:40],
            f"at most {MAX_CELL_CHARS:,} characters",
        )
    if not value.isprintable() and any(ch in _CONTROL for ch in value):
        bad = next(ch for ch in value if ch in _CONTROL)
        raise problem(
            column,
            f"contains the control character U+{ord(bad):04X}",
            value,
            "printable text (tab and line breaks are allowed)",
        )
    return value


def text_or_none(column: str, value: str) -> str | None:
    value = value.strip()
    return check_text(column, value) if value else None


def record_id(column: str, value: str) -> str:
    value = value.strip()
    if not value:
        raise problem(column, "is required and empty", value, "a non-empty identifier")
    if len(value) > MAX_ID_CHARS:
        raise problem(
            column,
            f"identifier is {len(value):,} characters long",
            value[:40],
            f"at most {MAX_ID_CHARS} characters",
        )
    return check_text(column, value)


@cache
def _iso_date(text: str) -> date | None:
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def iso_date(column: str, value: str, *, today: date) -> date | None:
    """An ISO 8601 calendar date (YYYY-MM-DD), not in the future and not before 1900."""
    value = value.strip()
    if value.casefold() in UNKNOWN_TOKENS:
        return None
    parsed = _iso_date(value)
    if parsed is None:
        raise problem(column, "is not a valid date", value, "an ISO 8601 date YYYY-MM-DD")
    if parsed > today:
        raise problem(column, "is in the future", value, f"a date on or before {today.isoformat()}")
    if parsed.year < MIN_YEAR:
        raise problem(column, "is before 1900", value, "a date from 1900 on")
    return parsed


def partial_date(column: str, value: str, *, today: date) -> str | None:
    """A date of birth as known: YYYY, YYYY-MM or YYYY-MM-DD (kept as ISO text)."""
    value = value.strip()
    if value.casefold() in UNKNOWN_TOKENS:
        return None
    if len(value) == 4 and value.isdigit():
        year = int(value)
        if MIN_YEAR <= year <= today.year:
            return value
    elif len(value) == 7 and value[4] == "-" and value[:4].isdigit() and value[5:].isdigit():
        if MIN_YEAR <= int(value[:4]) <= today.year and 1 <= int(value[5:]) <= 12:
            return value
    else:
        parsed = _iso_date(value)
        if parsed is not None and parsed.year >= MIN_YEAR and parsed <= today:
            return value
    raise problem(
        column,
        "is not a valid date of birth",
        value,
        "YYYY, YYYY-MM or YYYY-MM-DD, from 1900 up to today",
    )


_SMALL_INTS = {str(i): i for i in range(0, 201)}


def integer(column: str, value: str, low: int, high: int, what: str) -> int | None:
    value = value.strip()
    if value.casefold() in UNKNOWN_TOKENS:
        return None
    number = _SMALL_INTS.get(value)
    if number is None:
        text = value[:-2] if value.endswith(".0") else value
        try:
            number = int(text)
        except ValueError:
            raise problem(
                column,
                f"is not a whole number of {what}",
                value,
                f"a whole number from {low} to {high}",
            ) from None
    if not low <= number <= high:
        raise problem(
            column, f"is outside {low}-{high} {what}", value, f"a whole number from {low} to {high}"
        )
    return number


def age(column: str, value: str) -> int | None:
    return integer(column, value, 0, 120, "years")


def birth_year(column: str, value: str, *, today: date) -> int | None:
    return integer(column, value, MIN_YEAR, today.year, "(a year)")


# --- code lists -------------------------------------------------------------------------------

_STANDARDS = ("htcds", "ctdc", "glotip", "sdg")


@cache
def code_lookup(list_name: str) -> dict[str, str]:
    """Accepted spellings (case-folded) -> canonical code.

    Canonical codes first; then the names other standards use (HTCDS, CTDC, GLOTIP, SDG) where
    they name exactly one of our codes (an ambiguous crosswalk name such as CTDC's
    ``recruiterRelationOther`` is not guessed at: the profile for that standard decides).
    Spaces and hyphens are read as underscores ("Forced labour" -> forced_labour).
    """
    codes = code_list(list_name)
    lookup = {c.casefold(): c for c in codes.codes}
    seen: dict[str, set[str]] = {}
    for entry in codes.entries:
        for standard in _STANDARDS:
            name = entry.get(standard)
            if isinstance(name, str):
                seen.setdefault(name.casefold(), set()).add(entry["code"])
    for name, targets in seen.items():
        if len(targets) == 1:
            lookup.setdefault(name, next(iter(targets)))
    for spelling, code in list(lookup.items()):
        lookup.setdefault(spelling.replace("_", " "), code)
        lookup.setdefault(spelling.replace("_", "-"), code)
    return lookup


def one_code(
    column: str,
    value: str,
    list_name: str,
    *,
    lookup: dict[str, str] | None = None,
    unknown: str | None = None,
) -> str | None:
    """A single code from a code list; empty/'unknown' -> ``unknown`` (the list's code or None)."""
    key = value.strip().casefold()
    table = lookup if lookup is not None else code_lookup(list_name)
    found = table.get(key)
    if found is not None:
        return found
    if key in UNKNOWN_TOKENS:
        return unknown
    raise problem(
        column, f"is not a code of {list_name}", value, code_list(list_name).allowed_text()
    )


def split_multi(value: str, sep: str = ";") -> list[str] | None:
    """A multi-valued cell: None = unknown (empty), [] = known empty ('none'), else its parts."""
    value = value.strip()
    if not value or value.casefold() in UNKNOWN_TOKENS:
        return None
    if value.casefold() == NONE_TOKEN:
        return []
    return [p.strip() for p in value.split(sep) if p.strip()]


def many_codes(
    column: str, value: str, list_name: str, *, lookup: dict[str, str] | None = None, sep: str = ";"
) -> tuple[str, ...] | None:
    parts = split_multi(value, sep)
    if parts is None:
        return None
    table = lookup if lookup is not None else code_lookup(list_name)
    out: list[str] = []
    for part in parts:
        code = table.get(part.casefold())
        if code is None:
            raise problem(
                column,
                f"{part!r} is not a code of {list_name}",
                value,
                code_list(list_name).allowed_text(),
            )
        if code not in out:
            out.append(code)
    return tuple(out)


@cache
def _isic_lookup() -> dict[str, str]:
    lookup = dict(code_lookup("isic_section"))
    return lookup


def isic_sections(column: str, value: str, sep: str = ";") -> tuple[str, ...] | None:
    """ISIC Rev.4 sections; a division or class ("A01", "A_Agriculture...") keeps its section."""
    parts = split_multi(value, sep)
    if parts is None:
        return None
    lookup = _isic_lookup()
    out: list[str] = []
    for part in parts:
        code = lookup.get(part.casefold())
        if (
            code is None
            and len(part) > 1
            and part[0].isalpha()
            and (part[1].isdigit() or part[1] == "_")
        ):
            code = lookup.get(part[0].casefold())
        if code is None:
            raise problem(
                column,
                f"{part!r} is not an ISIC Rev.4 section",
                value,
                "a section letter A-U (a division such as A01 keeps its section)",
            )
        if code not in out:
            out.append(code)
    return tuple(out)


# --- countries --------------------------------------------------------------------------------

COUNTRY_ALLOWED = "ISO 3166-1 alpha-3 (alpha-2, M49 numbers and English names are accepted)"


def one_country(column: str, value: str) -> str | None:
    text = value.strip()
    if text.casefold() in UNKNOWN_TOKENS:
        return None
    iso3 = normalise_country(text)
    if iso3 is None:
        raise problem(column, "is not a known country", value, COUNTRY_ALLOWED)
    return iso3


def many_countries(
    column: str, value: str, *, allow_stateless: bool = False, sep: str = ";"
) -> tuple[str, ...] | None:
    parts = split_multi(value, sep)
    if parts is None:
        return None
    out: list[str] = []
    for part in parts:
        if allow_stateless and part.casefold() == "stateless":
            iso3: str | None = "stateless"
        else:
            iso3 = normalise_country(part)
        if iso3 is None:
            raise problem(
                column,
                f"{part!r} is not a known country",
                value,
                COUNTRY_ALLOWED + (", or 'stateless'" if allow_stateless else ""),
            )
        if iso3 not in out:
            out.append(iso3)
    return tuple(out)


_TRUE = frozenset({"true", "yes", "y", "1", "1.0", "x"})
_FALSE = frozenset({"false", "no", "n", "0", "0.0"})


def boolean(column: str, value: str) -> bool | None:
    key = value.strip().casefold()
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    if key in UNKNOWN_TOKENS:
        return None
    raise problem(column, "is not yes/no", value, "true/false, yes/no, 1/0, or empty for unknown")
