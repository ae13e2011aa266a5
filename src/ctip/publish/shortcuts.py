"""Exact shortcuts for the secondary suppression pattern (``publish.suppression._pattern``).

Neither changes which pattern is published; both only avoid work.

1. **One-category dimensions.** On an axis with a single category the detail cell and its total
   are the same number (the line says detail - total = 0), so the attacker knows one exactly when
   he knows the other, and a pattern must hide both or neither. Such an axis is folded away: the
   pair becomes one cell, known if either member is known, hidden at the sum of the members'
   costs, small if either is small; the pattern of the smaller problem is the pattern of the
   table. (A table of perpetrators by year x stage x sex x age group where every one is "18+" is
   solved as year x stage x sex: half the cells, a quarter of the integer programme.) An axis is
   folded only when no small cell's twin is known to the attacker (that table has no pattern at
   all; the full problem says so with its own message).
2. **Content-addressed cache.** The pattern is a pure function of the arrays and the method; its
   key is a SHA-256 of them (and of the solver limits), so publishing the same cells again (a
   report rebuilt, a second export of one release, the same slice of another year) costs a
   dictionary look-up and returns the same pattern, refusals included. In memory, bounded
   (least recently used entries go first).
3. **A refusal known in advance** (``refused_with_known_margins``). When a small cell lies on a
   line whose total is published elsewhere and smaller than the threshold, the attacker knows
   the cell is below the threshold whatever is hidden: ``suppress`` with known margins must
   refuse (every box, and every pattern of the integer programme, is bounded by that total).
   A caller that would then put the margins inside the table goes there directly.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np

PUBLISHED, SUPPRESSED, UNPUBLISHED = 0, 1, 2
CACHE_SIZE = 1024

Arrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]
_cache: OrderedDict[str, tuple[np.ndarray | None, dict[str, object], Exception | None]] = (
    OrderedDict()
)


def clear_cache() -> None:
    """Forget every cached pattern (benchmarks time the cold path with this)."""
    _cache.clear()


def cache_key(method: str, threshold: int, limits: tuple[object, ...], *arrays: np.ndarray) -> str:
    digest = hashlib.sha256(repr((method, threshold, limits)).encode())
    for a in arrays:
        digest.update(repr((a.dtype.str, a.shape)).encode())
        digest.update(np.ascontiguousarray(a).tobytes())
    return digest.hexdigest()


def cached(key: str, solve: Callable[[dict[str, object]], np.ndarray]) -> tuple[
        np.ndarray, dict[str, object]]:
    """``solve(parameters)`` once per key; later calls return copies of the same answer (or
    raise the same refusal)."""
    if key in _cache:
        _cache.move_to_end(key)
        hit, known, error = _cache[key]
        if error is not None:
            raise error
        assert hit is not None
        return hit.copy(), {**known, "cached": True}
    parameters: dict[str, object] = {}
    try:
        state = solve(parameters)
    except Exception as error:
        _store(key, (None, dict(parameters), error))
        raise
    _store(key, (state.copy(), dict(parameters), None))
    return state, parameters


def _store(key: str, entry: tuple[np.ndarray | None, dict[str, object], Exception | None]) -> None:
    _cache[key] = entry
    while len(_cache) > CACHE_SIZE:
        _cache.popitem(last=False)


def _pair(axis: int, index: int, ndim: int) -> tuple[Any, ...]:
    return tuple(index if a == axis else slice(None) for a in range(ndim))


def foldable_axis(ext: np.ndarray, state: np.ndarray, cost: np.ndarray,
                  primary: np.ndarray, lead: int = 0) -> int | None:
    """An axis with one category whose folding is exact (see module docstring), or None. The
    first ``lead`` axes index independent tables (they have no total): never folded."""
    for axis, n in enumerate(ext.shape):
        if axis < lead or n != 2 or ext.ndim < lead + 2:
            continue
        detail, total = _pair(axis, 0, ext.ndim), _pair(axis, 1, ext.ndim)
        known = (state == PUBLISHED) & ~np.isfinite(cost)
        if not ((primary[detail] & known[total]).any() or (primary[total] & known[detail]).any()):
            return axis
    return None


def fold(axis: int, ext: np.ndarray, state: np.ndarray, cost: np.ndarray, primary: np.ndarray,
         in_table: np.ndarray) -> Arrays:
    """The arrays of the problem without ``axis`` (a one-category axis)."""
    d, t = _pair(axis, 0, ext.ndim), _pair(axis, 1, ext.ndim)
    sd, st = state[d], state[t]
    hidden = (sd == SUPPRESSED) | (st == SUPPRESSED)
    free = (sd == UNPUBLISHED) & (st == UNPUBLISHED)
    new_state = np.where(hidden, SUPPRESSED, np.where(free, UNPUBLISHED, PUBLISHED)).astype(
        state.dtype)
    # hiding the cell hides every member still shown: their costs add (inf if one is known)
    new_cost = (np.where(sd == PUBLISHED, cost[d], 0.0) + np.where(st == PUBLISHED, cost[t], 0.0))
    return ext[d].copy(), new_state, new_cost, primary[d] | primary[t], in_table[d] | in_table[t]


def unfold(axis: int, state: np.ndarray, folded: np.ndarray) -> np.ndarray:
    """The full state from the folded pattern: a hidden cell hides its shown members."""
    out = state.copy()
    for index in (0, 1):
        part = out[_pair(axis, index, state.ndim)]
        part[(folded == SUPPRESSED) & (part == PUBLISHED)] = SUPPRESSED
    return out


def refused_with_known_margins(table: Any, value: str, dims: list[str], threshold: int,
                               totals: tuple[str, ...], max_cells: int = 1_000_000) -> bool:
    """True when ``suppress(table, margins_known=True)`` is certain to refuse (module docstring,
    3): a cell 1..threshold-1 on a line whose total (not in the table: no dim has a total row)
    is below the threshold. False means "not certain", never "protectable"."""
    import pandas as pd

    if not dims or len(table) == 0:
        return False
    counts = pd.to_numeric(table[value], errors="coerce")
    if counts.isna().any() or (counts < 0).any():
        return False
    codes = []
    for d in dims:
        column = table[d]
        if column.isin(list(totals)).any():
            return False
        code, uniques = pd.factorize(column, use_na_sentinel=False)
        codes.append(code)
    shape = tuple(int(c.max()) + 1 for c in codes)
    if float(np.prod(shape, dtype=np.float64)) > max_cells:
        return False
    cells = np.zeros(shape, dtype=np.float64)
    np.add.at(cells, tuple(codes), counts.to_numpy(dtype=np.float64))
    small = (cells >= 1) & (cells < threshold)
    if not small.any():
        return False
    return any(bool((small & (cells.sum(axis=i, keepdims=True) < threshold)).any())
               for i in range(len(shape)))
