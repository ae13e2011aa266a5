"""Which record ids an import has already accepted from the file it is reading, in bounded memory.

A record id that comes again later in the same file is a duplicate (same content) or a conflict
(different content), and the message names the row it first came from. So the import keeps, per
accepted record, a 64-bit key (hash of agency and record id) and a 64-bit value (first row << 32 |
32 bits of the row's content hash): 16 bytes a row in sorted numpy arrays, where a dict of Python
ints took about 90 (a 10-million-row file would have needed 900 MB for this alone).

Written by hand because no library offers this: a log-structured set of sorted runs. Each batch's
new keys become a run; a run is merged into the one before it while that one is at most twice
as large (so there are O(log n) runs, each key is copied O(log n) times, and a merge never needs
more than the two runs plus the result). Lookups are vectorised over a whole batch.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


class AcceptedInFile:
    """Record keys accepted so far from one file; ``classify`` one batch at a time, in order."""

    def __init__(self) -> None:
        self._runs: list[tuple[np.ndarray, np.ndarray]] = []  # (sorted keys, values)

    def __len__(self) -> int:
        return sum(len(keys) for keys, _ in self._runs)

    def _stored(self, keys: np.ndarray) -> np.ndarray:
        """The value stored for each key, -1 where none."""
        found = np.full(len(keys), -1, dtype=np.int64)
        for run_keys, run_values in self._runs:
            at = np.searchsorted(run_keys, keys)
            at[at == len(run_keys)] = 0
            hit = run_keys[at] == keys
            found[hit] = run_values[at[hit]]
        return found

    def classify(self, keys: Sequence[int], rows: Sequence[int],
                 contents: Sequence[int]) -> list[int | None]:
        """For each row of a batch, in file order: None if its key is new (it is now accepted),
        else the value of the earlier accepted row with that key (``row << 32 | content``)."""
        if not keys:
            return []
        stored = self._stored(np.asarray(keys, dtype=np.int64)).tolist()
        first: dict[int, int] = {}  # keys first accepted in this batch
        out: list[int | None] = []
        for key, row, content, earlier in zip(keys, rows, contents, stored, strict=True):
            if earlier >= 0:
                out.append(earlier)
            elif (prior := first.get(key)) is not None:
                out.append(prior)
            else:
                first[key] = row << 32 | content
                out.append(None)
        if first:
            new_keys = np.fromiter(first.keys(), dtype=np.int64, count=len(first))
            new_values = np.fromiter(first.values(), dtype=np.int64, count=len(first))
            order = np.argsort(new_keys)
            self._add(new_keys[order], new_values[order])
        return out

    def _add(self, keys: np.ndarray, values: np.ndarray) -> None:
        self._runs.append((keys, values))
        while len(self._runs) > 1 and len(self._runs[-2][0]) <= 2 * len(self._runs[-1][0]):
            small_keys, small_values = self._runs.pop()
            big_keys, big_values = self._runs.pop()
            at = np.searchsorted(big_keys, small_keys)  # keys never repeat across runs
            self._runs.append((np.insert(big_keys, at, small_keys),
                               np.insert(big_values, at, small_values)))

