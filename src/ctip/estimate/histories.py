"""Capture histories: which lists each person was seen on, counted by pattern.

A capture-history table has one 0/1 column per list (agency) and a ``count`` column: the number of
people seen on exactly that combination of lists. Patterns that are absent have count 0; the
all-zero pattern (people on no list, the "dark figure") is never observed and may not be given.
Duplicate patterns are added together (as SparseMSE's ``tidylists`` does).

Internally every table is held on the full grid of the 2^t - 1 observable patterns, in the order of
their bit code (list j contributes 2^j), so models, bootstrap resamples and permutations all work on
the same fixed cells.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd

from ctip.errors import EstimationError, ValidationError

MAX_LISTS = 12  # 4,095 cells; beyond this a log-linear table is meaningless for trafficking data


def pattern_grid(t: int) -> np.ndarray:
    """All 2^t - 1 non-empty capture patterns as a (cells x t) 0/1 array, by bit code."""
    codes = np.arange(1, 2**t)
    return ((codes[:, None] >> np.arange(t)[None, :]) & 1).astype(np.int8)


def all_pairs(t: int) -> list[tuple[int, int]]:
    """List pairs in R's ``combn`` order (1,2), (1,3), ..., (2,3), ...: the tie-break order."""
    return list(combinations(range(t), 2))


@dataclass(frozen=True)
class CaptureHistory:
    """Counts of people by capture pattern over named lists.

    ``counts[k]`` is the number of people seen on exactly the lists of ``patterns[k]``.
    """

    lists: tuple[str, ...]
    counts: np.ndarray  # int64, length 2^t - 1, bit-code order

    def __post_init__(self) -> None:
        t = len(self.lists)
        if len(self.counts) != 2**t - 1:
            raise ValueError("counts must cover all 2^t - 1 observable patterns")

    @property
    def t(self) -> int:
        return len(self.lists)

    @property
    def patterns(self) -> np.ndarray:
        return pattern_grid(self.t)

    @property
    def observed(self) -> int:
        return int(self.counts.sum())

    def with_counts(self, counts: np.ndarray) -> CaptureHistory:
        return CaptureHistory(self.lists, np.asarray(counts, dtype=np.int64))

    def list_totals(self) -> dict[str, int]:
        return {
            name: int(self.counts[self.patterns[:, j] == 1].sum())
            for j, name in enumerate(self.lists)
        }

    def overlap(self, i: int, j: int) -> int:
        """N*_ij: people seen on both lists i and j (whatever else they are on)."""
        p = self.patterns
        return int(self.counts[(p[:, i] == 1) & (p[:, j] == 1)].sum())

    def empty_pairs(self) -> list[tuple[int, int]]:
        return [(i, j) for i, j in all_pairs(self.t) if self.overlap(i, j) == 0]

    def pair_name(self, pair: tuple[int, ...]) -> str:
        return ":".join(self.lists[k] for k in pair)

    def reorder(self, order: Sequence[int]) -> CaptureHistory:
        """The same table with the lists in another order (for permutation checks)."""
        p = self.patterns[:, list(order)]
        codes = (p.astype(np.int64) << np.arange(self.t)).sum(axis=1)
        new = np.zeros_like(self.counts)
        new[codes - 1] = self.counts
        return CaptureHistory(tuple(self.lists[k] for k in order), new)

    def drop_lists(self, names: Sequence[str]) -> CaptureHistory:
        """Remove lists (people seen only on them leave the table)."""
        keep = [k for k, name in enumerate(self.lists) if name not in set(names)]
        frame = self.to_frame()
        frame = frame[frame[[self.lists[k] for k in keep]].sum(axis=1) > 0]
        return from_frame(frame, lists=[self.lists[k] for k in keep])

    def to_frame(self, include_zero: bool = False) -> pd.DataFrame:
        frame = pd.DataFrame(self.patterns, columns=list(self.lists)).astype(int)
        frame["count"] = self.counts
        return frame if include_zero else frame[frame["count"] > 0].reset_index(drop=True)

    @classmethod
    def from_dict(cls, lists: Sequence[str], cells: dict[str, int]) -> CaptureHistory:
        """Build from {"101": 4, ...}: pattern strings in list order."""
        rows = [[int(ch) for ch in key] + [value] for key, value in cells.items()]
        return from_frame(pd.DataFrame(rows, columns=[*lists, "count"]), lists=list(lists))


def from_frame(
    frame: pd.DataFrame,
    *,
    lists: Sequence[str] | None = None,
    count: str = "count",
    source: str | None = None,
    row_numbers: Sequence[int] | None = None,
) -> CaptureHistory:
    """Validate a capture-history frame and collapse it onto the full pattern grid.

    ``lists`` defaults to every column but ``count``. Errors name the row (1-based data row, header
    = row 1) and column, so the person who made the file can fix it.
    """
    if count not in frame.columns:
        raise ValidationError(
            "a capture-history table needs a count column",
            file=source,
            column=count,
            hint="add a column 'count' with the number of people seen on each combination of lists",
        )
    names = list(lists) if lists is not None else [c for c in frame.columns if c != count]
    missing = [n for n in names if n not in frame.columns]
    if missing:
        raise ValidationError("list column not found", file=source, column=missing[0])
    if len(names) < 2:
        raise EstimationError(
            f"multiple systems estimation needs at least 2 lists; got {len(names)}",
            hint="give one 0/1 column per list (agency) and a count column",
        )
    if len(names) > MAX_LISTS:
        raise EstimationError(
            f"at most {MAX_LISTS} lists are supported; got {len(names)}",
            hint="merge small lists (e.g. by agency type) before estimating",
        )
    t = len(names)

    def row_of(k: int) -> int:
        return int(row_numbers[k]) if row_numbers is not None else k + 2

    bits = np.zeros(len(frame), dtype=np.int64)
    for j, name in enumerate(names):
        values = pd.to_numeric(frame[name], errors="coerce")
        bad = ~values.isin([0, 1])
        if bad.any():
            k = int(np.flatnonzero(bad.to_numpy())[0])
            raise ValidationError(
                "a list column must hold 0 or 1",
                file=source,
                row=row_of(k),
                column=name,
                value=frame[name].iloc[k],
                allowed="0, 1",
                hint="if this column describes the victims (sex, age group...), estimate by it "
                "with --strata " + str(name),
            )
        bits += values.to_numpy(dtype=np.int64) << j
    values = pd.to_numeric(frame[count], errors="coerce")
    bad = values.isna() | (values < 0) | (values != values.round())
    if bad.any():
        k = int(np.flatnonzero(bad.to_numpy())[0])
        raise ValidationError(
            "count must be a whole number >= 0",
            file=source,
            row=row_of(k),
            column=count,
            value=frame[count].iloc[k],
        )
    n = values.to_numpy(dtype=np.int64)
    zero = (bits == 0) & (n > 0)
    if zero.any():
        k = int(np.flatnonzero(zero)[0])
        raise ValidationError(
            "a row with no list marked cannot be observed (that is the dark figure to estimate)",
            file=source,
            row=row_of(k),
            column=count,
            value=int(n[k]),
        )
    counts = np.zeros(2**t - 1, dtype=np.int64)
    np.add.at(counts, bits[bits > 0] - 1, n[bits > 0])
    return CaptureHistory(tuple(str(x) for x in names), counts)
