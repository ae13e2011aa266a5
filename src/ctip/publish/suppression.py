"""Small-cell suppression with secondary (complementary) suppression for published count tables.

Why by hand: pytauargus does this well but is young (2026), ships a native engine and rejects the
hypercube method headless; acro only does primary suppression. The hypercube method (GHMITER,
Repsilber 1994; used by tau-ARGUS) is short, needs only numpy, and is *provably* sound for the
attacker we state below, so we write it here and check it with a linear-programming attacker
(``ctip.publish.audit``) in the tests. The boxes are greedy; ``publish.optimal`` solves for the
cheapest pattern with HiGHS, and ``suppress(method="auto")`` publishes the cheaper of the two.

Attacker model and protection rule (docs/methods/disclosure.md):
- the attacker knows every published cell, that each margin is the sum of its detailed cells (the
  margins in the table, and by default also every margin *not* in the table, as if published
  elsewhere), and that counts are non-negative;
- every suppressed cell is shown with one symbol (default "x"), so the attacker cannot tell a
  small cell from a complementary one;
- rule: for every primary cell (value v: 1..threshold-1, or 0 when ``zeros_sensitive``) the
  tightest interval [lo, hi] the attacker can derive has hi >= threshold (it may not be small at
  all), lo <= max(v - 1, 0) (not even "at least v" is revealed) and hi - lo >= threshold; every
  suppressed cell's interval has width >= threshold.

How: the table (with all its margins) is a k-dimensional array whose last index on each axis is
the total. For a primary cell p (value v) we choose, on each axis i, a partner index j_i != p_i;
the 2^k corners of the box {p_i, j_i}^k are suppressed. Adding t to the corners with sign
prod_i s_i (s_i = -1 when p_i and j_i are both details, +1 when one is the total) keeps
every line sum intact, so every t with all corners >= 0 gives a table the attacker cannot rule
out. With d_down = the smallest corner of p's sign (p included) and d_up = the smallest corner of
the other sign, t ranges over [-d_down, d_up]; we require d_up >= threshold - v, d_down >= 1
(when v >= 1) and d_down + d_up >= threshold, which gives the rule above for p and a range of
width >= threshold for every corner. Among feasible boxes we take the cheapest (cost = value + 1
of each newly suppressed cell; margins cost ``margin_cost`` times more). One box per primary cell
is enough for the rule; the LP attacker usually finds wider intervals, as boxes overlap.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ctip.errors import DisclosureError
from ctip.publish import shortcuts
from ctip.publish.optimal import AUTO_ROUNDS, MAX_GROUP, MAX_VARIABLES, optimal_pattern

# "auto": HiGHS stops within 2% of the optimum or after AUTO_NODES branch-and-bound nodes (a
# deterministic limit: the same table gets the same pattern on a busy machine); the time limit
# is only a safety net. "optimal" (the reference in benchmarks and tests) solves to the end.
AUTO_GAP, AUTO_NODES, AUTO_TIME_LIMIT = 0.02, 500, 60.0
OPTIMAL_TIME_LIMIT = 120.0

TOTAL_LABELS: tuple[str, ...] = ("_T", "total", "Total")
_PUBLISHED, _SUPPRESSED, _UNPUBLISHED = (shortcuts.PUBLISHED, shortcuts.SUPPRESSED,
                                        shortcuts.UNPUBLISHED)
# Above this many candidate boxes per primary cell, partners are pruned to the most promising.
_MAX_BOXES = 3_000
# Up to this many boxes per small cell of a two-dimensional table, they are scored in plain
# Python (a few microseconds each); more, in arrays.
_PLAIN_BOXES = 100
METHODS = ("auto", "optimal", "hypercube")


@dataclass(frozen=True)
class SuppressedTable:
    """A table ready to publish: ``frame`` has the dims, ``value`` (nullable Int64, <NA> when
    suppressed), ``suppressed`` (bool) and ``display`` (number as text, or the symbol)."""

    frame: pd.DataFrame
    dims: tuple[str, ...]
    value: str
    threshold: int
    primary: int
    secondary: int
    symbol: str
    zeros_sensitive: bool
    margins_known: bool
    parameters: dict[str, object] = field(default_factory=dict)

    @property
    def suppressed_cells(self) -> int:
        return self.primary + self.secondary

    def describe(self) -> dict[str, object]:
        """Release parameters for the audit log and the data package (no cell values)."""
        return {
            "method": "secondary suppression",
            **self.parameters,
            "dims": list(self.dims),
            "value": self.value,
            "threshold": self.threshold,
            "zeros_sensitive": self.zeros_sensitive,
            "margins_known": self.margins_known,
            "cells": len(self.frame),
            "primary": self.primary,
            "secondary": self.secondary,
            "symbol": self.symbol,
        }


def _is_total(series: pd.Series, labels: Sequence[str]) -> pd.Series:
    # isin on the values as they are: a total label is text, and text compares as text
    return series.isin(list(labels)).astype(bool)


def _categories(column: pd.Series, labels: Sequence[str]) -> list[object]:
    details = column[~_is_total(column, labels)].drop_duplicates().tolist()
    return sorted(details, key=lambda x: (str(type(x)), str(x)))


def suppress(
    table: pd.DataFrame,
    *,
    value: str = "count",
    dims: Sequence[str],
    threshold: int = 5,
    zeros_sensitive: bool = False,
    total: Sequence[str] = TOTAL_LABELS,
    margins_known: bool = True,
    symbol: str = "x",
    margin_cost: float = 10.0,
    method: str = "auto",
    slices: Sequence[str] = (),
) -> SuppressedTable:
    """Suppress cells 1..threshold-1 (and 0 if ``zeros_sensitive``) plus enough complementary
    cells that none can be recovered from the published cells and margins.

    ``table``: one row per cell; rows whose dim value is one of ``total`` are margins and must
    equal the sum of their detailed cells. ``margins_known``: assume margins absent from the table
    are published elsewhere (safe default); if False they are treated as unpublished.
    ``method``: "auto" (the cheaper of the optimal pattern and the hypercube heuristic; the
    heuristic alone when the table is too large for the integer programme), "optimal" (the
    integer programme, no size limit) or "hypercube".
    ``slices``: columns that split the table into independent tables (no margin across them is
    published, none is in the table): each is protected on its own, exactly as if suppressed
    alone, but all in one pass (one integer programme for all of them).
    Raises ``DisclosureError`` when a cell cannot be protected (only possible when small margins
    are published elsewhere) or the table is not additive.
    """
    if method not in METHODS:
        raise DisclosureError("unknown suppression method {method}",
                              hint="one of {methods}",
                              params={"method": repr(method), "methods": ", ".join(METHODS)})
    parameters: dict[str, object] = {}
    dims = tuple(dims)
    if threshold < 1:
        raise DisclosureError("threshold must be at least 1, got {threshold}",
                              params={"threshold": threshold})
    if slices and zeros_sensitive:
        raise DisclosureError("sensitive zeros are not supported with slices",
                              hint="suppress each slice on its own")
    missing = [c for c in (*dims, value) if c not in table.columns]
    if missing:
        raise DisclosureError(
            "table has no column(s) {missing}", hint="columns are {columns}",
            params={"missing": missing, "columns": list(table.columns)})
    frame = table.reset_index(drop=True).copy()
    slices = tuple(slices)
    missing = [c for c in slices if c not in table.columns]
    if missing or set(slices) & set(dims):
        raise DisclosureError("slice column(s) {slices} must be columns of the table and not "
                              "dims", hint="columns are {columns}",
                              params={"slices": list(slices), "columns": list(table.columns)})
    counts = pd.to_numeric(frame[value], errors="coerce")
    if counts.isna().any() or (counts < 0).any() or (counts != counts.round()).any():
        bad = frame.loc[counts.isna() | (counts < 0) | (counts != counts.round()), value].iloc[0]
        raise DisclosureError(
            "column {value} must hold non-negative whole counts; found {bad}",
            params={"value": repr(value), "bad": repr(bad)})
    if frame.duplicated([*slices, *dims]).any():
        raise DisclosureError(
            "table has duplicate cells for dims {dims}",
            hint="aggregate the table (one row per cell) before suppressing it",
            params={"dims": [*slices, *dims]})
    counts = counts.astype(np.int64).to_numpy()

    cats = [_categories(frame[d], total) for d in dims]
    lead = 1 if slices else 0
    n_slices = 1
    positions = np.zeros((len(frame), lead + len(dims)), dtype=np.int64)
    if slices:
        codes, uniques = pd.MultiIndex.from_frame(frame[list(slices)]).factorize()
        positions[:, 0], n_slices = codes, len(uniques)
    for i, d in enumerate(dims):
        is_tot = _is_total(frame[d], total).to_numpy()
        found = pd.Index(cats[i], dtype=object).get_indexer(frame[d].to_numpy(dtype=object))
        positions[:, lead + i] = np.where(is_tot, len(cats[i]), found)
    shape = (n_slices,) * lead + tuple(len(c) + 1 for c in cats)
    cell_of_row = tuple(positions[:, i] for i in range(lead + len(dims)))

    ext = np.zeros(shape, dtype=np.int64)
    in_table = np.zeros(shape, dtype=bool)
    given = np.full(shape, -1, dtype=np.int64)
    in_table[cell_of_row] = True
    given[cell_of_row] = counts
    is_detail = np.ones(shape, dtype=bool)
    ndim = len(shape)
    for i in range(lead, ndim):
        is_detail[_at(i, shape[i] - 1, ndim)] = False
    ext[is_detail] = np.where(given[is_detail] >= 0, given[is_detail], 0)
    for i in range(lead, ndim):  # fill margins axis by axis: totals of totals come out right
        ext[_at(i, shape[i] - 1, ndim)] = ext[_at(i, slice(0, shape[i] - 1), ndim)].sum(axis=i)
    wrong = in_table & ~is_detail & (given != ext)
    if wrong.any():
        where = np.argwhere(wrong)[0]
        raise DisclosureError(
            "margin {label} is {given} but its cells sum to {ext}: the table is not additive",
            hint="suppress multi-response tables without total rows, or recompute the totals",
            params={"label": _label(where[lead:], cats),
                    "given": given[tuple(where)],
                    "ext": ext[tuple(where)]})
    if zeros_sensitive:  # an absent cell is a published zero: make it a row so it can be hidden
        in_table |= is_detail

    state = np.full(shape, _PUBLISHED, dtype=np.int8)
    if not margins_known:
        state[~in_table & ~is_detail] = _UNPUBLISHED
    small = (ext >= 1) & (ext < threshold)
    if zeros_sensitive:
        small |= ext == 0
    primary = in_table & small
    state[primary] = _SUPPRESSED
    cost = np.where(is_detail, ext + 1.0, (ext + 1.0) * margin_cost)
    cost[~in_table & (state == _PUBLISHED)] = np.inf

    state = _pattern(method, ext, state, cost, primary, in_table, threshold, cats, parameters,
                     lead)
    suppressed = state[cell_of_row] == _SUPPRESSED
    out = frame[[*slices, *dims]].copy()
    if zeros_sensitive:
        out, counts, suppressed = _add_absent_cells(
            out, dims, cats, ext, state, cell_of_row, counts, suppressed
        )
    out[value] = pd.array(np.where(suppressed, 0, counts), dtype="Int64")
    out.loc[suppressed, value] = pd.NA
    out["suppressed"] = suppressed
    out["display"] = np.where(suppressed, symbol, counts.astype(str)).astype(object)
    n_primary = int(primary.sum())
    return SuppressedTable(
        frame=out.reset_index(drop=True),
        dims=dims,
        value=value,
        threshold=threshold,
        primary=n_primary,
        secondary=int(suppressed.sum()) - n_primary,
        symbol=symbol,
        zeros_sensitive=zeros_sensitive,
        margins_known=margins_known,
        parameters=parameters,
    )


def _pattern(method: str, ext: np.ndarray, state: np.ndarray, cost: np.ndarray,
             primary: np.ndarray, in_table: np.ndarray, threshold: int, cats: list[list[object]],
             parameters: dict[str, object], lead: int = 0) -> np.ndarray:
    """The secondary pattern, through the exact shortcuts of ``publish.shortcuts``: a cache keyed
    by the cells, and one-category dimensions folded away. The first ``lead`` axes (0 or 1)
    index independent tables (slices)."""
    # the labels are in the key too: a refusal's message names the cell
    key = shortcuts.cache_key(method, threshold,
                              (AUTO_GAP, AUTO_NODES, MAX_VARIABLES, MAX_GROUP, AUTO_ROUNDS,
                               cats, lead),
                              ext, state, cost, primary, in_table)

    def solve(params: dict[str, object]) -> np.ndarray:
        return _folded(method, ext, state, cost, primary, in_table, threshold, cats, params, lead)

    out, found = shortcuts.cached(key, solve)
    parameters.update(found)
    return out


def _folded(method: str, ext: np.ndarray, state: np.ndarray, cost: np.ndarray,
            primary: np.ndarray, in_table: np.ndarray, threshold: int, cats: list[list[object]],
            parameters: dict[str, object], lead: int = 0) -> np.ndarray:
    axis = shortcuts.foldable_axis(ext, state, cost, primary, lead)
    if axis is None:
        return _solve_pattern(method, ext, state, cost, primary, in_table, threshold, cats,
                              parameters, lead)
    arrays = shortcuts.fold(axis, ext, state, cost, primary, in_table)
    inner = axis - lead
    folded = _folded(method, *arrays, threshold, cats[:inner] + cats[inner + 1:], parameters,
                     lead)
    parameters["folded_dims"] = int(parameters.get("folded_dims", 0)) + 1  # type: ignore[call-overload]
    return shortcuts.unfold(axis, state, folded)


def _solve_pattern(method: str, ext: np.ndarray, state: np.ndarray, cost: np.ndarray,
                   primary: np.ndarray, in_table: np.ndarray, threshold: int,
                   cats: list[list[object]], parameters: dict[str, object],
                   lead: int = 0) -> np.ndarray:
    """The secondary pattern: hypercube boxes, the optimal integer programme, or the cheaper.

    Both start from ``state`` (primary cells suppressed). The optimum is never dearer than the
    boxes (their moves fit its model), but it has a size limit and a time limit; so "auto" runs
    the heuristic first and keeps the optimum only when it is found and not dearer. With slices
    (``lead`` = 1) the boxes are chosen slice by slice, one integer programme covers every slice
    whose boxes cost something, and each slice keeps the cheaper of its two patterns: the same
    choice as suppressing each slice alone, within the gap (a gap over all slices at once)."""
    parts = [(s,) for s in range(ext.shape[0])] if lead else [()]
    boxes, refusal = state.copy(), None
    if method != "optimal":
        try:
            for part in parts:
                if primary[part].any():
                    _hypercube(ext[part], boxes[part], cost[part], primary[part], threshold, cats)
        except DisclosureError as error:
            refusal = error
    if not primary.any():
        parameters["pattern"] = "none needed"
        return boxes
    extra = np.where((boxes == _SUPPRESSED) & ~primary, cost, 0.0)
    per_part = extra.reshape(len(parts), -1).sum(axis=1)
    heuristic_cost = float(per_part.sum())
    found = None
    todo = np.flatnonzero(per_part > 0) if method != "optimal" else np.arange(len(parts))
    if lead:
        todo = np.array([s for s in todo if primary[s].any()], dtype=np.int64)
    # auto: the optimum only improves a pattern the boxes found (a refusal goes back to the
    # caller, who may put the margins inside the table), within a size and time budget
    if method == "optimal" or (method == "auto" and refusal is None and len(todo)):
        pick = (todo,) if lead else ()
        sub_h = float(per_part[todo].sum())
        found = optimal_pattern(
            ext[pick], primary=primary[pick],
            candidate=(in_table & (state == _PUBLISHED) & np.isfinite(cost))[pick],
            free=(state == _UNPUBLISHED)[pick], cost=cost[pick], threshold=threshold,
            max_variables=10**12 if method == "optimal" else MAX_VARIABLES,
            max_group=None if method == "optimal" else MAX_GROUP,
            max_rounds=10**6 if method == "optimal" else AUTO_ROUNDS,
            time_limit=OPTIMAL_TIME_LIMIT if method == "optimal" else AUTO_TIME_LIMIT,
            gap=1e-9 if method == "optimal" else AUTO_GAP,
            nodes=None if method == "optimal" else AUTO_NODES,
            # auto wants the optimum only if it beats the boxes by more than the gap: a pattern
            # dearer than that is pruned, and the boxes (within the gap of it) are published
            cutoff=None if method == "optimal" else sub_h * (1 - AUTO_GAP), lead=lead)
    if found is not None:
        mine = np.zeros(state.shape, dtype=bool)
        mine[(todo,) if lead else ()] = found.hidden
        new = np.where(mine & ~primary, cost, 0.0).reshape(len(parts), -1).sum(axis=1)
        use = np.zeros(len(parts), dtype=bool)
        use[todo] = (method == "optimal") | (new[todo] <= per_part[todo])
        if not lead and refusal is not None:
            use[:] = True
    if found is not None and use.any():
        out = boxes.copy()
        for i in np.flatnonzero(use):
            part = parts[i]
            out[part] = state[part]
            out[part][mine[part]] = _SUPPRESSED
        chosen = float(np.where(use, new, per_part).sum())
        patterns = {"optimal (HiGHS integer programme)"}
        if (~use & (per_part > 0)).any():
            patterns.add("hypercube (heuristic)")
        parameters.update(pattern=sorted(patterns) if lead else patterns.pop(), cost=chosen,
                          proven_optimal=found.optimal, mip_gap=round(found.gap, 4),
                          rounds=found.rounds)
        if refusal is None and method != "optimal":
            parameters["hypercube_cost"] = heuristic_cost
        return out
    if refusal is not None:
        raise refusal
    if method == "optimal":
        raise DisclosureError("the optimal suppression pattern was not found within the time "
                              "limit (or the rounds of cuts)",
                              hint='use method="auto" or "hypercube"')
    parameters.update(pattern=["hypercube (heuristic)"] if lead else "hypercube (heuristic)",
                      cost=heuristic_cost, optimal_tried=method != "hypercube")
    return boxes


def _hypercube(ext: np.ndarray, state: np.ndarray, cost: np.ndarray, primary: np.ndarray,
               threshold: int, cats: list[list[object]]) -> None:
    """GHMITER: one cheapest feasible box per primary cell not yet protected (updates state)."""
    order = sorted(map(tuple, np.argwhere(primary)), key=lambda p: (ext[p], p))
    boxes_of: dict[tuple[int, ...], list[tuple[int, float, float]]] = {}
    for p in order:
        if _already_protected(int(ext[p]), boxes_of.get(p, ()), threshold):
            continue
        box = _best_box(ext, state, cost, p, threshold)
        if box is None:
            raise DisclosureError(
                "cell {label} (a small count) cannot be protected: its margins are published "
                "and too small",
                hint="include the margin rows in the table so they can be suppressed too, or "
                "publish this table at a coarser level",
                params={"label": _label(p, cats)})
        corners, down, up = box
        for corner, sign in corners:
            if state[corner] == _PUBLISHED:
                state[corner] = _SUPPRESSED
            boxes_of.setdefault(corner, []).append((sign, down, up))


def _at(axis: int, index: int | slice, ndim: int) -> tuple[Any, ...]:
    return tuple(index if a == axis else slice(None) for a in range(ndim))


def _label(position: Sequence[int], cats: list[list[object]]) -> str:
    parts = [str(cats[i][j]) if j < len(cats[i]) else "total" for i, j in enumerate(position)]
    return "(" + ", ".join(parts) + ")"


def _partners(
    ext: np.ndarray, state: np.ndarray, p: tuple[int, ...], axis: int, keep: int
) -> np.ndarray:
    """Partner indices on one axis: all but p's own; pruned to the total, indices already
    suppressed on p's line and the ``keep`` largest cells on it when the box count explodes."""
    n = ext.shape[axis]
    others = np.array([j for j in range(n) if j != p[axis]], dtype=np.int64)
    if len(others) <= keep:
        return others
    line = tuple(slice(None) if a == axis else p[a] for a in range(ext.ndim))
    values, states = ext[line][others], state[line][others]
    chosen = set(others[np.argsort(-values, kind="stable")[:keep]].tolist())
    chosen |= set(others[states != _PUBLISHED].tolist()) | {n - 1}
    return np.array(sorted(chosen), dtype=np.int64)


def _already_protected(v: int, boxes: object, threshold: int) -> bool:
    """Whether a box chosen for another cell already gives this cell the rule's interval.

    A box moves its reference cell over [-down, up]; a corner of sign -1 moves the other way."""
    for sign, down, up in boxes:  # type: ignore[attr-defined]
        lo_move, hi_move = (down, up) if sign > 0 else (up, down)
        if v + hi_move >= threshold and lo_move >= min(v, 1) and lo_move + hi_move >= threshold:
            return True
    return False


Box = tuple[list[tuple[tuple[int, ...], int]], float, float]


def _best_box(
    ext: np.ndarray, state: np.ndarray, cost: np.ndarray, p: tuple[int, ...], threshold: int
) -> Box | None:
    """The cheapest feasible box protecting p: (corner, sign) pairs and p's range [-down, up].

    All candidate boxes are scored at once: axis 0 of the gathered arrays runs over the 2^k
    corners (bit i of the corner number: partner on axis i), the other axes over partners."""
    if ext.ndim == 2 and (ext.shape[0] - 1) * (ext.shape[1] - 1) <= _PLAIN_BOXES:
        return _best_box_2d(ext, state, cost, p, threshold)
    return _best_box_any(ext, state, cost, p, threshold)


def _best_box_any(
    ext: np.ndarray, state: np.ndarray, cost: np.ndarray, p: tuple[int, ...], threshold: int
) -> Box | None:
    """``_best_box`` in any number of dimensions."""
    k, v = ext.ndim, int(ext[p])
    keep = max(2, int(_MAX_BOXES ** (1 / k)))
    partners = [_partners(ext, state, p, i, keep) for i in range(k)]
    if any(len(c) == 0 for c in partners):
        return None
    grid = tuple(len(c) for c in partners)
    bits = (np.arange(2**k)[:, None] >> np.arange(k)[None, :]) & 1  # (2^k, k)
    index, sign = [], np.ones((2**k, *grid), dtype=np.int64)
    for i in range(k):
        shape_i = [1] * (k + 1)
        shape_i[i + 1] = -1
        use = bits[:, i].reshape([-1] + [1] * k).astype(bool)
        index.append(np.where(use, partners[i].reshape(shape_i), p[i]))
        # a line holds details summing to its total: two details move oppositely, a detail and
        # the total move together (either may be p's own index)
        s_i = np.where((partners[i] == ext.shape[i] - 1) | (p[i] == ext.shape[i] - 1), 1, -1)
        sign = sign * np.where(use, s_i.reshape(shape_i), 1)
    idx = tuple(index)
    values = ext[idx].astype(np.float64)
    extra = np.where(state[idx] == _PUBLISHED, cost[idx], 0.0)  # already hidden: free
    same = sign > 0
    down = np.where(same, values, np.inf).min(axis=0)  # p is corner 0, so down <= v
    up = np.where(same, np.inf, values).min(axis=0)
    feasible = np.isfinite(extra).all(axis=0)
    feasible &= (up >= threshold - v) & (down + up >= threshold) & (down >= min(v, 1))
    if not feasible.any():
        return None
    total_cost = np.where(feasible, np.where(np.isfinite(extra), extra, 0.0).sum(axis=0), np.inf)
    best = np.unravel_index(int(np.argmin(total_cost)), grid)
    chosen = [int(partners[i][best[i]]) for i in range(k)]
    corners = [
        (tuple(chosen[i] if bits[c, i] else p[i] for i in range(k)), int(sign[(c, *best)]))
        for c in range(2**k)
    ]
    return corners, float(down[best]), float(up[best])


def _best_box_2d(ext: np.ndarray, state: np.ndarray, cost: np.ndarray, p: tuple[int, ...],
                 threshold: int) -> Box | None:
    """``_best_box`` for two dimensions and every partner (no pruning): the same box, the same
    ties (the first cheapest in the order of partner rows, then partner columns), scored in
    plain Python (a slice of a few rows and columns: a numpy call per step cost more)."""
    i, j = (int(x) for x in p)
    n_rows, n_cols = ext.shape
    values, states, costs = ext.tolist(), state.tolist(), cost.tolist()
    inf = float("inf")

    def extra(r: int, c: int) -> float:
        return float(costs[r][c]) if states[r][c] == _PUBLISHED else 0.0

    v = values[i][j]
    p_extra = extra(i, j)
    need_down = min(v, 1)
    best: tuple[float, int, int, int, int, float, float] | None = None
    for r in range(n_rows):
        if r == i:
            continue
        s_row = 1 if (r == n_rows - 1 or i == n_rows - 1) else -1
        v_rj, e_rj = values[r][j], extra(r, j)
        for c in range(n_cols):
            if c == j:
                continue
            total = e_rj + extra(i, c) + extra(r, c) + p_extra
            if total == inf or (best is not None and total >= best[0]):
                continue
            s_col = 1 if (c == n_cols - 1 or j == n_cols - 1) else -1
            down, up = float(v), inf
            for value, sign in ((v_rj, s_row), (values[i][c], s_col),
                                (values[r][c], s_row * s_col)):
                if sign > 0:
                    down = min(down, value)
                else:
                    up = min(up, value)
            if up >= threshold - v and down + up >= threshold and down >= need_down:
                best = (total, r, c, s_row, s_col, down, up)
    if best is None:
        return None
    _, r, c, s_row, s_col, down, up = best
    corners: list[tuple[tuple[int, ...], int]] = [
        ((i, j), 1), ((r, j), s_row), ((i, c), s_col), ((r, c), s_row * s_col)]
    return corners, float(down), float(up)


def _add_absent_cells(out, dims, cats, ext, state, cell_of_row, counts, suppressed):  # noqa: ANN001
    """With sensitive zeros, absent detail cells are zeros the table would reveal: add them."""
    present = set(zip(*[c.tolist() for c in cell_of_row], strict=True))
    rows, extra_counts, extra_supp = [], [], []
    for pos in itertools.product(*[range(len(c)) for c in cats]):
        if pos not in present:
            rows.append({d: cats[i][pos[i]] for i, d in enumerate(dims)})
            extra_counts.append(int(ext[pos]))
            extra_supp.append(bool(state[pos] == _SUPPRESSED))
    if not rows:
        return out, counts, suppressed
    out = pd.concat([out, pd.DataFrame(rows)], ignore_index=True)
    return (
        out,
        np.concatenate([counts, np.array(extra_counts, dtype=np.int64)]),
        np.concatenate([suppressed, np.array(extra_supp, dtype=bool)]),
    )


def with_margins(
    table: pd.DataFrame, *, value: str = "count", dims: Sequence[str], total: str = "_T"
) -> pd.DataFrame:
    """The table plus every margin (each subset of dims summed), labelled ``total``.

    Publishing margins inside the table lets ``suppress`` hide a margin when that is the cheapest
    protection, instead of assuming it is published elsewhere. A margin row exists for each
    combination of the kept dims seen in the table (as a group-by gives), in sorted order.
    """
    dims = list(dims)
    fast = _margins_by_array(table, value, dims, total) if dims else None
    if fast is not None:
        return fast
    parts = [table[[*dims, value]]]
    for r in range(1, len(dims) + 1):
        for summed in itertools.combinations(dims, r):
            keep = [d for d in dims if d not in summed]
            if keep:
                part = table.groupby(keep, dropna=False, observed=True)[value].sum().reset_index()
            else:
                part = pd.DataFrame({value: [table[value].sum()]})
            for d in summed:
                part[d] = total
            parts.append(part[[*dims, value]])
    result = pd.concat([p.astype({d: "object" for d in dims}) for p in parts], ignore_index=True)
    return result


_MAX_DENSE = 1_000_000


def _margins_by_array(table: pd.DataFrame, value: str, dims: list[str],
                      total: str) -> pd.DataFrame | None:
    """``with_margins`` on a dense array of the dims' codes (one pass instead of a group-by per
    margin); None when the array would be large or the values are not plain integers."""
    counts = table[value]
    if counts.isna().any() or not pd.api.types.is_integer_dtype(counts.dtype):
        return None
    codes, labels = [], []
    try:
        for d in dims:
            code, unique = pd.factorize(table[d], sort=True, use_na_sentinel=False)
            codes.append(code)
            labels.append(np.asarray(unique, dtype=object))
    except TypeError:  # labels that do not sort together: the group-by path says so
        return None
    shape = tuple(len(u) for u in labels)
    if int(np.prod(shape, dtype=np.float64)) > _MAX_DENSE:
        return None
    sums = np.zeros(shape, dtype=np.int64)
    seen = np.zeros(shape, dtype=bool)
    np.add.at(sums, tuple(codes), counts.to_numpy(dtype=np.int64))
    seen[tuple(codes)] = True
    # the columns of every part as arrays, one frame at the end (a frame per margin cost more
    # than the sums)
    columns: list[list[np.ndarray]] = [[table[d].astype(object).to_numpy()] for d in dims]
    values = [counts.to_numpy(dtype=np.int64)]
    for r in range(1, len(dims) + 1):
        for summed in itertools.combinations(range(len(dims)), r):
            keep = [i for i in range(len(dims)) if i not in summed]
            if not keep:  # the grand total
                for i in range(len(dims)):
                    columns[i].append(np.array([total], dtype=object))
                values.append(np.array([sums.sum()], dtype=np.int64))
                continue
            part_sum = sums.sum(axis=summed)
            where = np.nonzero(seen.any(axis=summed))
            for i in range(len(dims)):
                columns[i].append(np.full(len(where[0]), total, dtype=object) if i in summed
                                  else labels[i][where[keep.index(i)]])
            values.append(part_sum[where])
    frame: dict[str, np.ndarray] = {d: np.concatenate(columns[i]) for i, d in enumerate(dims)}
    frame[value] = np.concatenate(values)
    result = pd.DataFrame(frame)
    result[value] = result[value].astype(counts.dtype)
    return result
