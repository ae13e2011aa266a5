"""Problems found in input, and rows rejected because of them. Nothing is silently dropped."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one value: where, what was found, and what is allowed."""

    column: str | None
    message: str
    value: str | None = None
    allowed: str | None = None

    def describe(
        self, file: str | None = None, row: int | None = None, *, show_value: bool = True
    ) -> str:
        """Where, what and what is allowed; ``show_value=False`` leaves out the value found
        (a reject's raw content is identity by default: exports withhold it)."""
        where = ", ".join(
            p for p in (f"file {file}" if file else "", f"row {row}" if row is not None else "",
                        f"column {self.column!r}" if self.column else "") if p
        )
        text = f"{where}: {self.message}" if where else self.message
        if self.value is not None and show_value:
            shown = self.value if len(self.value) <= 80 else self.value[:77] + "..."
            text += f" (got {shown!r})"
        if self.allowed:
            text += f"; allowed: {self.allowed}"
        return text


@dataclass(frozen=True)
class RejectedRow:
    """A source row kept with its raw content and every reason it was rejected."""

    source_file: str
    source_row: int  # 1-based row number as a person counts it in the file (CSV header = row 1)
    raw: dict[str, str] | str  # the row as read (column -> text), or raw text if it did not split
    problems: tuple[Problem, ...]

    def reasons(self, *, show_values: bool = True) -> list[str]:
        return [
            p.describe(self.source_file, self.source_row, show_value=show_values)
            for p in self.problems
        ]


@dataclass(frozen=True)
class SkippedRow:
    """A row that is not a record and carries nothing to keep: a template's caption row, or a
    numbered row left blank. Counted apart (read = accepted + rejected + skipped), never stored."""

    source_file: str
    source_row: int
    reason: str  # e.g. "the template's row of field labels", "a blank numbered row"
