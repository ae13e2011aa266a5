"""Optimal secondary suppression: the cheapest pattern, as a mixed-integer programme (HiGHS).

This is the "optimal" method of tau-ARGUS (Fischetti and Salazar-Gonzalez 1999, 2000) in its
compact form, solved with HiGHS through ``scipy.optimize.milp`` instead of a hand-written search.

Model. The table is the k-dimensional array ``ext`` whose last index on each axis is the total
(as in ``suppression.py``). A binary x_c says "cell c is hidden". The attacker knows every shown
cell, every additive relation (each total = the sum of its cells) and that counts are >= 0; so
every table a + y with A y = 0, y_c = 0 where c is shown and y >= -a is one the attacker cannot
rule out. For each protected cell q we ask for two such tables, y^{q+} and y^{q-}:

- A y = 0 and -a_c x_c <= y_c <= U x_c (a cell moves only when hidden; U = threshold is enough
  for every box of the hypercube method, so the optimum is never worse than that heuristic);
- for a small cell q of value v (the rule of docs/methods/disclosure.md): y^{q+}_q >= T - v
  (it may be as large as T), y^{q-}_q <= -min(v, 1) (not even "at least v" is revealed) and
  y^{q+}_q - y^{q-}_q >= T (an interval at least T wide);
- for any other hidden cell q: y^{q+}_q - y^{q-}_q >= T x_q.

The two tables exist if and only if the LP attacker's interval for q has the property (the
attacker's max and min are attained by such tables; the true table lies between them), so a
solution is protected by construction; a smaller U only makes the model stricter, never unsafe.
Minimising sum cost_c x_c gives the cheapest protected pattern. Widths of complementary cells are
added lazily (constraint generation): solve with the small cells only, audit every hidden cell
with the LP attacker, add the cells whose interval is too narrow, solve again.

Size: (1 + 2 |protected|) x cells variables, so this is for the tables ctip publishes (a few
hundred cells, a few dozen small ones); ``suppress`` falls back to the hypercube heuristic above
``max_variables`` or when the time limit passes without a solution.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.sparse import coo_matrix, csr_matrix

MAX_VARIABLES = 3_000
TIME_LIMIT = 10.0
_ROUNDS = 12
_EPS = 1e-6


@dataclass(frozen=True)
class Pattern:
    """A solved pattern: ``hidden`` (bool array over ``ext``), its cost, and whether HiGHS proved
    it optimal (``gap`` is HiGHS's relative MIP gap; 0 when optimal)."""

    hidden: np.ndarray
    cost: float
    optimal: bool
    gap: float
    rounds: int


def additive_rows(shape: tuple[int, ...], var_of: np.ndarray) -> tuple[csr_matrix, np.ndarray]:
    """The relations "details - total = 0" over the movable cells: (A, constant part).

    ``var_of`` maps each cell to its variable index, or -1 when the attacker knows it (fixed, so
    it moves by 0). Returns A (rows: lines with a movable cell) over the variables."""
    flat = np.arange(int(np.prod(shape))).reshape(shape)
    rows, cols, vals = [], [], []
    r = 0
    for axis, n in enumerate(shape):
        lines = np.moveaxis(flat, axis, -1).reshape(-1, n)
        coef = np.ones(n)
        coef[-1] = -1.0
        var = var_of.reshape(-1)[lines]  # (lines, n)
        used = (var >= 0).any(axis=1)
        for line in np.flatnonzero(used):
            keep = var[line] >= 0
            rows.extend([r] * int(keep.sum()))
            cols.extend(var[line][keep].tolist())
            vals.extend(coef[keep].tolist())
            r += 1
    m = int(var_of.max()) + 1 if var_of.size and var_of.max() >= 0 else 0
    return coo_matrix((vals, (rows, cols)), shape=(r, m)).tocsr(), np.zeros(r)


def attacker_intervals(ext: np.ndarray, unknown: np.ndarray,
                       cells: list[tuple[int, ...]]) -> dict[tuple[int, ...], tuple[float, float]]:
    """The LP attacker on arrays: for each cell, [min, max] over all tables a + y the attacker
    cannot rule out (``unknown`` = hidden or unpublished cells; ``inf`` when unbounded)."""
    var_of = np.full(ext.shape, -1, dtype=np.int64)
    positions = np.argwhere(unknown)
    var_of[tuple(positions.T)] = np.arange(len(positions))
    a_eq, b_eq = additive_rows(ext.shape, var_of)
    lower = -ext[tuple(positions.T)].astype(np.float64)
    bounds = list(zip(lower, [None] * len(lower), strict=True))
    out = {}
    for cell in cells:
        idx = int(var_of[cell])
        value = float(ext[cell])
        if idx < 0:
            out[cell] = (value, value)
            continue
        ends = []
        for sign in (1.0, -1.0):
            objective = np.zeros(len(positions))
            objective[idx] = sign
            res = linprog(objective, A_eq=a_eq if a_eq.shape[0] else None,
                          b_eq=b_eq if a_eq.shape[0] else None, bounds=bounds, method="highs")
            if res.status == 3:
                ends.append(-np.inf if sign > 0 else np.inf)
            elif res.status != 0:
                raise RuntimeError(f"attacker LP failed: {res.message}")
            else:
                ends.append(value + sign * res.fun)
        out[cell] = (ends[0], ends[1])
    return out


def violations(ext: np.ndarray, check: np.ndarray, free: np.ndarray, primary: np.ndarray,
               threshold: int, hidden: np.ndarray | None = None) -> list[tuple[int, ...]]:
    """Cells of ``check`` whose attacker interval breaks the protection rule, when the cells of
    ``hidden`` (default: ``check``) and ``free`` are unknown to the attacker."""
    cells = [tuple(int(i) for i in c) for c in np.argwhere(check & ~free)]
    unknown = (check if hidden is None else hidden) | free
    bounds = attacker_intervals(ext, unknown, cells)
    bad = []
    for cell, (lo, hi) in bounds.items():
        v = int(ext[cell])
        ok = hi - lo >= threshold - _EPS
        if primary[cell]:
            ok = ok and hi >= threshold - _EPS and lo <= max(v - 1, 0) + _EPS
        if not ok:
            bad.append(cell)
    return bad


def optimal_pattern(ext: np.ndarray, *, primary: np.ndarray, candidate: np.ndarray,
                    free: np.ndarray, cost: np.ndarray, threshold: int,
                    time_limit: float = TIME_LIMIT, max_variables: int = MAX_VARIABLES,
                    gap: float = 1e-9, nodes: int | None = None,
                    cutoff: float | None = None) -> Pattern | None:
    """The cheapest pattern protecting every ``primary`` cell (None: too large, or no solution
    within the time limit, or infeasible, or none cheaper than ``cutoff``).

    ``candidate``: cells that may be hidden at ``cost``; ``free``: cells the attacker does not
    know anyway (unpublished margins; cost 0); every other cell is known to the attacker.
    ``gap``: stop when HiGHS proves the pattern within this relative gap of the optimum;
    ``nodes``: a branch-and-bound node limit (deterministic, unlike the time limit);
    ``cutoff``: only a pattern costing at most this is wanted (the cost of a pattern in hand):
    HiGHS prunes every branch that cannot beat it, and as each round's model is a relaxation of
    the next (rounds only add cells to protect), a round above it ends the search."""
    movable = primary | candidate | free
    positions = np.argwhere(movable)
    m = len(positions)
    var_of = np.full(ext.shape, -1, dtype=np.int64)
    var_of[tuple(positions.T)] = np.arange(m)
    a_eq, _ = additive_rows(ext.shape, var_of)
    value = ext[tuple(positions.T)].astype(np.float64)
    is_primary = primary[tuple(positions.T)]
    is_fixed_on = is_primary | free[tuple(positions.T)]
    price = np.where(is_fixed_on, 0.0, cost[tuple(positions.T)])
    protected = _first_cells(positions, is_primary)
    rounds = 0  # (``gap`` is the requested gap in every round, not the last round's result)
    deadline = time.monotonic() + time_limit
    while rounds < _ROUNDS:
        rounds += 1
        left = deadline - time.monotonic()
        if m * (1 + 2 * len(protected)) > max_variables or left <= 0:
            return None
        res = _solve(a_eq, value, is_primary, is_fixed_on, price, protected, threshold, left,
                     gap, nodes, cutoff)
        if res is None:
            return None
        x, moves, optimal, achieved = res
        if cutoff is not None and float(price @ (x > 0.5)) > cutoff + _EPS:
            return None
        hidden = np.zeros(ext.shape, dtype=bool)
        chosen = positions[x > 0.5]
        hidden[tuple(chosen.T)] = True
        hidden &= ~free
        # the solution's own alternative tables certify most cells: tables the attacker cannot
        # rule out (checked here: additive, non-negative, shown cells unmoved) bound each
        # cell's interval from inside; the LP attacker audits the cells they do not settle
        certified = _certified(a_eq, moves, x > 0.5, value, is_primary, threshold)
        sure = np.zeros(ext.shape, dtype=bool)
        sure[tuple(positions[certified].T)] = True
        bad = violations(ext, hidden & ~sure, free, primary, threshold, hidden=hidden)
        if not bad:
            return Pattern(hidden, float(price @ (x > 0.5)), optimal, achieved, rounds)
        new = sorted({int(var_of[c]) for c in bad} - set(protected))
        # cells the model did not hold yet: now it does
        if not new:  # the model said protected, the attacker disagrees: numerical trouble
            return None
        protected += new
    return None


def _first_cells(positions: np.ndarray, is_primary: np.ndarray) -> list[int]:
    """The small cells modelled in the first round: one per line (on any axis), smallest first.

    A pattern that protects one small cell of a line usually protects the others of it too; the
    rounds add any the LP attacker finds unprotected, so this only saves time, never safety."""
    chosen: list[int] = []
    lines: set[tuple[int, tuple[int, ...]]] = set()
    for i in np.flatnonzero(is_primary):
        pos = tuple(int(v) for v in positions[i])
        keys = {(axis, pos[:axis] + pos[axis + 1:]) for axis in range(len(pos))}
        if not keys & lines or not len(pos):
            chosen.append(int(i))
            lines |= keys
    return chosen


def _certified(a_eq: csr_matrix, moves: np.ndarray, on: np.ndarray, value: np.ndarray,
               is_primary: np.ndarray, threshold: int) -> np.ndarray:
    """Cells whose rule is proven by the solved alternative tables a + y (one row of ``moves``
    per table); a table counts only if it is truly one the attacker cannot rule out."""
    tol = 1e-6
    valid = [y for y in moves
             if (np.abs(a_eq @ y).max(initial=0.0) <= tol and (y >= -value - tol).all()
                 and (np.abs(y[~on]) <= tol).all())]
    if not valid:
        return np.zeros(len(value), dtype=bool)
    tables = np.vstack(valid)
    hi, lo = value + tables.max(axis=0), value + tables.min(axis=0)
    ok = hi - lo >= threshold - tol
    ok &= ~is_primary | ((hi >= threshold - tol) & (lo <= np.maximum(value - 1, 0) + tol))
    return ok & on


def _solve(a_eq: csr_matrix, value: np.ndarray, is_primary: np.ndarray, is_fixed_on: np.ndarray,
           price: np.ndarray, protected: list[int], threshold: int, time_limit: float,
           gap: float = 1e-9, nodes: int | None = None,
           cutoff: float | None = None) -> tuple[np.ndarray, np.ndarray, bool, float] | None:
    m, t = len(value), float(threshold)
    q = len(protected)
    n_blocks = 2 * q
    n = m * (1 + n_blocks)
    lower = np.zeros(n)
    upper = np.ones(n)
    lower[:m] = np.where(is_fixed_on, 1.0, 0.0)
    integrality = np.zeros(n)
    integrality[:m] = 1
    objective = np.zeros(n)
    objective[:m] = price
    blocks_lo, blocks_hi = [], []
    for b in range(n_blocks):
        lo, hi = -value.copy(), np.full(m, t)
        p = protected[b // 2]
        if is_primary[p]:
            v = value[p]
            if b % 2 == 0:
                lo[p] = max(lo[p], t - v)
            else:
                hi[p] = min(hi[p], -min(v, 1.0))
        blocks_lo.append(lo)
        blocks_hi.append(hi)
    if n_blocks:
        lower[m:] = np.concatenate(blocks_lo)
        upper[m:] = np.concatenate(blocks_hi)
    # the constraint matrix in COO form, built at once (per block: additivity rows, then the
    # links y - U x <= 0 and -y - a x <= 0, a cell moves only when hidden; then one width row
    # per protected cell: y+_p - y-_p >= T, or >= T x_p for a complementary cell)
    coo = a_eq.tocoo()
    r_a = a_eq.shape[0]
    per_block = r_a + 2 * m
    blocks = np.arange(n_blocks)
    cells = np.arange(m)
    base = (blocks * per_block)[:, None]
    col0 = m + (blocks * m)[:, None]
    rows_a = (base + coo.row[None, :]).ravel()
    cols_a = (col0 + coo.col[None, :]).ravel()
    vals_a = np.tile(coo.data, n_blocks)
    up_row = base + r_a + cells[None, :]
    lo_row = up_row + m
    y_col = col0 + cells[None, :]
    x_col = np.broadcast_to(cells[None, :], (n_blocks, m))
    row_parts = [rows_a, up_row.ravel(), up_row.ravel(), lo_row.ravel(), lo_row.ravel()]
    col_parts = [cols_a, y_col.ravel(), x_col.ravel(), y_col.ravel(), x_col.ravel()]
    val_parts = [vals_a, np.ones(n_blocks * m), np.full(n_blocks * m, -t),
                 np.full(n_blocks * m, -1.0), np.tile(-value, n_blocks)]
    width_row = n_blocks * per_block + np.arange(q)
    prot = np.asarray(protected, dtype=np.int64)
    j = np.arange(q)
    secondary = ~is_primary[prot] if q else np.zeros(0, dtype=bool)
    row_parts += [width_row, width_row, width_row[secondary]]
    col_parts += [m + 2 * j * m + prot, m + (2 * j + 1) * m + prot, prot[secondary]]
    val_parts += [np.ones(q), -np.ones(q), np.full(int(secondary.sum()), -t)]
    n_rows = n_blocks * per_block + q
    matrix = coo_matrix((np.concatenate(val_parts),
                         (np.concatenate(row_parts), np.concatenate(col_parts))),
                        shape=(n_rows, n)).tocsr()
    lb = np.full(n_rows, -np.inf)
    ub = np.zeros(n_rows)
    for blk in range(n_blocks):
        lb[blk * per_block: blk * per_block + r_a] = 0.0
    lb[n_blocks * per_block:] = np.where(secondary, 0.0, t)
    ub[n_blocks * per_block:] = np.inf
    constraints = LinearConstraint(matrix, lb, ub) if n_rows else ()
    options: dict[str, object] = {"time_limit": time_limit, "mip_rel_gap": gap, "disp": False}
    if nodes is not None:
        options["node_limit"] = nodes
    if cutoff is not None:  # a HiGHS option scipy passes on verbatim (with a warning)
        options["objective_bound"] = cutoff + 1e-6 * max(1.0, abs(cutoff))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Unrecognized options", RuntimeWarning)
        res = milp(objective, integrality=integrality, bounds=Bounds(lower, upper),
                   constraints=constraints, options=options)
    if res.x is None:
        return None
    gap = float(getattr(res, "mip_gap", 0.0) or 0.0)
    return np.round(res.x[:m]), res.x[m:].reshape(n_blocks, m), res.status == 0, gap
