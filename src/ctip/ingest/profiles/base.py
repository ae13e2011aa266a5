"""What every import profile shares: column resolution, the header check, and row rejection.

A profile turns one raw row (column name -> text) into a ``VictimRecord`` or a ``RejectedRow``
that names every problem. It is a pure function of the row: no files, no database.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from ctip.domain.problems import Problem, RejectedRow, SkippedRow
from ctip.domain.records import Perpetrator, VictimRecord
from ctip.errors import InputFileError
from ctip.ingest.cells import CellError
from ctip.ingest.readers import shown


def canonical_name(name: str) -> str:
    """Column names match whatever their case or spacing: "Source Record ID" == source_record_id."""
    return name.strip().casefold().replace(" ", "_").replace("-", "_")


@lru_cache(maxsize=64)
def _renames(keys: tuple[str, ...]) -> tuple[tuple[str, str], ...] | None:
    pairs = tuple((k, canonical_name(k)) for k in keys)
    return None if all(a == b for a, b in pairs) else pairs


def canonical_row(raw: dict[str, str]) -> dict[str, str]:
    """The row with canonical column names (no copy when the file already uses them)."""
    renames = _renames(tuple(raw))
    if renames is None:
        return raw
    return {new: raw[old] for old, new in renames}


@dataclass(frozen=True)
class HeaderCheck:
    extra_columns: tuple[str, ...]  # kept in the raw row of a reject, otherwise not imported
    missing_optional: tuple[str, ...]


class Profile(ABC):
    """Base class. Subclasses set ``name``, ``columns``, ``required`` and implement ``_map``."""

    name: str = ""
    description: str = ""
    columns: tuple[str, ...] = ()  # canonical names of the columns this profile reads
    required: tuple[str, ...] = ()  # columns that must be present in the header
    # True when rows carry no record id, so identical rows are different people (k-anonymised
    # data repeats rows by design); False when a repeated row is a duplicate to report.
    rows_are_distinct: bool = False
    has_perpetrators: bool = False  # rows also describe perpetrators (``perpetrators``)

    def check_header(
        self, header: Iterable[str], *, source_file: str, complete: bool = True
    ) -> HeaderCheck:
        names = {canonical_name(h): h for h in header}
        missing = [c for c in self.required if c not in names]
        if missing and complete:
            found = ", ".join(shown(name, 40) for name in list(names.values())[:12])
            more = f" and {len(names) - 12:,} more" if len(names) > 12 else ""
            raise InputFileError(
                f"{shown(source_file)} has no column {', '.join(repr(m) for m in missing)}, "
                f"which the {self.name!r} profile needs (found: {found}{more})",
                hint=f"add the column, rename it, or choose another profile with --profile "
                f"(known: {', '.join(PROFILE_NAMES)})",
            )
        extra = tuple(h for c, h in names.items() if c not in self.columns)
        optional_missing = tuple(
            c for c in self.columns if c not in names and c not in self.required
        )
        return HeaderCheck(extra, optional_missing)

    def map_row(
        self,
        raw: dict[str, str],
        *,
        source_file: str,
        source_row: int,
        agency: str | None = None,
        today: date | None = None,
    ) -> VictimRecord | RejectedRow | SkippedRow:
        problems = getattr(raw, "problems", ())
        if problems:
            return RejectedRow(source_file, source_row, dict(raw), tuple(problems))
        row = canonical_row(raw)
        reason = self.skip_reason(row)
        if reason is not None:
            return SkippedRow(source_file, source_row, reason)
        found: list[Problem] = []
        record = self._map(
            row,
            found,
            source_file=source_file,
            source_row=source_row,
            agency=agency,
            today=today or date.today(),
        )
        if found or record is None:
            return RejectedRow(source_file, source_row, dict(raw), tuple(found))
        return record

    def skip_reason(self, row: dict[str, str]) -> str | None:
        """Why a row (canonical column names) is not a record at all, or None. Only for rows
        that hold nothing to keep (a template's caption row, a numbered blank row): anything
        else that is wrong is a reject with its reasons."""
        return None

    def perpetrators(self, raw: dict[str, str], victim: VictimRecord) -> tuple[Perpetrator, ...]:
        """Perpetrators described in the same row (only the CTDC victim-perpetrator file)."""
        return ()

    @abstractmethod
    def _map(
        self,
        row: dict[str, str],
        problems: list[Problem],
        *,
        source_file: str,
        source_row: int,
        agency: str | None,
        today: date,
    ) -> VictimRecord | None:
        """Map one raw row to a record, adding every problem found to ``problems``."""


class Collector:
    """Run cell parsers, collecting each failure as a problem instead of stopping at the first."""

    __slots__ = ("problems",)

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems

    def __call__(
        self, parse: Callable[..., object], column: str, value: str, *args: object, **kwargs: object
    ) -> object:
        try:
            return parse(column, value, *args, **kwargs)
        except CellError as error:
            self.problems.append(error.problem)
            return None


PROFILE_NAMES: tuple[str, ...] = ("canonical", "ctdc", "ctdc_vp", "htcds")


@lru_cache(maxsize=8)
def _template(cls: type) -> tuple[dict[str, object], frozenset[str]] | None:
    """(field defaults, fields that must be given) of a plain frozen dataclass; None if unsafe."""
    import dataclasses

    if (
        hasattr(cls, "__post_init__")
        or hasattr(cls, "__slots__")
        or not dataclasses.is_dataclass(cls)
    ):
        return None
    defaults: dict[str, object] = {}
    needed = set()
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            defaults[f.name] = f.default
        else:
            needed.add(f.name)  # required, or made by a default_factory: the caller gives it
    return defaults, frozenset(needed)


def build(cls: type, values: dict[str, object]) -> object:
    """``cls(**values)`` for a frozen dataclass, several times faster on the import hot path.

    A frozen dataclass's ``__init__`` sets each of ~30 fields through ``object.__setattr__``;
    here the instance dict is filled at once. Only for dataclasses without ``__post_init__`` or
    slots (checked) when every required and factory-made field is given; else the normal call.
    """
    found = _template(cls)
    if (
        found is None
        or not found[1] <= values.keys()
        or not values.keys() <= found[0].keys() | found[1]
    ):
        return cls(**values)
    instance: Any = object.__new__(cls)
    state = dict(found[0])
    state.update(values)
    instance.__dict__.update(state)
    return instance
