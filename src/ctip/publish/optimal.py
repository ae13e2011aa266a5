"""Optimal secondary suppression: the cheapest pattern, as a mixed-integer programme (HiGHS).

This is the "optimal" method of tau-ARGUS (Fischetti and Salazar-Gonzalez 1999, 2000) in its
Benders form (their "capacity constraints"), solved with HiGHS (called directly, ``publish.highs``)
instead of a hand-written branch and cut.

Model. The table is the k-dimensional array ``ext`` whose last index on each axis is the total
(as in ``suppression.py``). A binary x_c says "cell c is hidden". The attacker knows every shown
cell, every additive relation (each total = the sum of its cells) and that counts are >= 0; so
every table a + y with A y = 0, y_c = 0 where c is shown and y >= -a is one the attacker cannot
rule out. For each protected cell q the pattern must admit two such tables, y^{q+} and y^{q-},
with -a_c x_c <= y_c <= U x_c (a cell moves only when hidden; U = threshold is enough for every
box of the hypercube method, so the optimum is never worse than that heuristic), and:

- for a small cell q of value v (the rule of docs/methods/disclosure.md): y^{q+}_q >= T - v
  (it may be as large as T), y^{q-}_q <= -min(v, 1) (not even "at least v" is revealed) and
  y^{q+}_q - y^{q-}_q >= T (an interval at least T wide);
- for any other hidden cell q: y^{q+}_q - y^{q-}_q >= T x_q.

The tables exist if and only if the LP attacker's interval for q has the property (the
attacker's max and min are attained by such tables; the true table lies between them), so a
solution is protected by construction; a smaller U only makes the model stricter, never unsafe.

Solution (exact). The compact model (one copy of y per protected cell and direction, i.e.
(1 + 2 |protected|) x cells variables) is projected onto x: by LP duality the tables exist iff
every "capacity cut" sum_c (U w_c^+ + a_c w_c^-) x_c >= bound holds, w = +-e_q - A^T u for any
line weights u (``_separate``). The master problem (x only, cuts so far) starts with the cuts of
single lines (``_line_cuts``); each round solves it, then one block LP finds, for every small
cell (and every hidden cell the LP attacker found too narrow), its largest moves under the
pattern; a move short of the rule gives the cut (from the LP's duals) that the pattern
violates. A round that adds no cut has a pattern meeting the model: the solved tables certify
most hidden cells, and the LP attacker (no U) audits the rest; cells it finds too narrow are
modelled from the next round on. Every master is a relaxation of the full model, so its
optimum is a lower bound, and the last one is the optimum of the full model.

Size: the master has one binary per cell that may move (``max_variables``); the separation LPs
are cut into blocks of at most ``_LP_VARIABLES`` variables. ``suppress`` falls back to the
hypercube heuristic above ``max_variables`` (or ``max_group`` linked cells), after
``max_rounds`` rounds, or when the time limit passes without a solution.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components

from ctip.publish import boxes, highs

MAX_VARIABLES = 3_000
# The largest group of linked cells the master takes, and its rounds, for "auto": HiGHS's root
# solve of one group grows fast past a few hundred cells (a 378-cell 3-dimensional table with
# its margins took 0.4 s in round 1 and 3 s by round 9; 210 cells, 0.3 s in all), and both
# limits are deterministic, unlike the time limit.
MAX_GROUP = 300
AUTO_ROUNDS = 6
TIME_LIMIT = 10.0
_ROUNDS = 30
_LP_VARIABLES = 200_000
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


def additive_rows(shape: tuple[int, ...], var_of: np.ndarray,
                  lead: int = 0) -> tuple[csr_matrix, np.ndarray]:
    """The relations "details - total = 0" over the movable cells: (A, constant part).

    ``var_of`` maps each cell to its variable index, or -1 when the attacker knows it (fixed, so
    it moves by 0). Returns A (rows: lines with a movable cell) over the variables. The first
    ``lead`` axes index independent tables: no line runs along them."""
    flat = np.arange(int(np.prod(shape))).reshape(shape)
    rows, cols, vals = [], [], []
    r = 0
    for axis, n in enumerate(shape):
        if axis < lead:
            continue
        lines = np.moveaxis(flat, axis, -1).reshape(-1, n)
        coef = np.ones(n)
        coef[-1] = -1.0
        var = var_of.reshape(-1)[lines]  # (lines, n)
        var = var[(var >= 0).any(axis=1)]  # the lines with a movable cell, in order
        line, at = np.nonzero(var >= 0)
        rows.append(line + r)
        cols.append(var[line, at])
        vals.append(coef[at])
        r += len(var)
    rows_, cols_, vals_ = ((np.concatenate(v) if v else np.zeros(0)) for v in (rows, cols, vals))
    m = int(var_of.max()) + 1 if var_of.size and var_of.max() >= 0 else 0
    return coo_matrix((vals_, (rows_.astype(np.int64), cols_.astype(np.int64))),
                      shape=(r, m)).tocsr(), np.zeros(r)


def attacker_intervals(ext: np.ndarray, unknown: np.ndarray, cells: list[tuple[int, ...]],
                       lead: int = 0) -> dict[tuple[int, ...], tuple[float, float]]:
    """The LP attacker on arrays: for each cell, [min, max] over all tables a + y the attacker
    cannot rule out (``unknown`` = hidden or unpublished cells; ``inf`` when unbounded)."""
    var_of = np.full(ext.shape, -1, dtype=np.int64)
    positions = np.argwhere(unknown)
    var_of[tuple(positions.T)] = np.arange(len(positions))
    a_eq, b_eq = additive_rows(ext.shape, var_of, lead)
    lower = -ext[tuple(positions.T)].astype(np.float64)
    series = None
    out = {}
    for cell in cells:
        idx = int(var_of[cell])
        value = float(ext[cell])
        if idx < 0:
            out[cell] = (value, value)
            continue
        if series is None:  # one LP, its objective changed cell by cell (warm-started)
            zero = np.zeros(a_eq.shape[0])
            series = highs.LpSeries(a_eq if a_eq.shape[0] else None, zero, zero, lower,
                                    np.full(len(lower), highs.INF))
        # min y_q, then min -y_q (= -max y_q)
        ends = [value + series.extreme(idx, 1.0), value - series.extreme(idx, -1.0)]
        out[cell] = (ends[0], ends[1])
    return out


def violations(ext: np.ndarray, check: np.ndarray, free: np.ndarray, primary: np.ndarray,
               threshold: int, hidden: np.ndarray | None = None,
               lead: int = 0) -> list[tuple[int, ...]]:
    """Cells of ``check`` whose attacker interval breaks the protection rule, when the cells of
    ``hidden`` (default: ``check``) and ``free`` are unknown to the attacker."""
    cells = [tuple(int(i) for i in c) for c in np.argwhere(check & ~free)]
    unknown = (check if hidden is None else hidden) | free
    bounds = attacker_intervals(ext, unknown, cells, lead)
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
                    cutoff: float | None = None, lead: int = 0,
                    max_rounds: int = _ROUNDS,
                    max_group: int | None = None) -> Pattern | None:
    """The cheapest pattern protecting every ``primary`` cell (None: too large, or no solution
    within the time limit or ``max_rounds``, or infeasible, or none cheaper than ``cutoff``, or
    a group of linked cells larger than ``max_group``).

    ``candidate``: cells that may be hidden at ``cost``; ``free``: cells the attacker does not
    know anyway (unpublished margins; cost 0); every other cell is known to the attacker.
    ``gap``: stop when HiGHS proves the pattern within this relative gap of the optimum;
    ``nodes``: a branch-and-bound node limit (deterministic, unlike the time limit);
    ``cutoff``: only a pattern costing at most this is wanted (the cost of a pattern in hand):
    HiGHS prunes every branch that cannot beat it, and as each round's master is a relaxation
    of the next (rounds only add cuts), a round above it ends the search.
    ``lead``: the first ``lead`` axes index independent tables (no total on them), solved as
    one problem (one HiGHS call per round for all of them)."""
    movable = primary | candidate | free
    positions = np.argwhere(movable)
    m = len(positions)
    if m > max_variables:
        return None
    var_of = np.full(ext.shape, -1, dtype=np.int64)
    var_of[tuple(positions.T)] = np.arange(m)
    a_eq, _ = additive_rows(ext.shape, var_of, lead)
    at = tuple(positions.T)
    value = ext[at].astype(np.float64)
    is_primary = primary[at]
    is_free = free[at] & ~is_primary
    is_fixed_on = is_primary | is_free
    price = np.where(is_fixed_on, 0.0, cost[at])
    cuts = _line_cuts(ext.shape, var_of, value, is_primary, is_free, threshold, lead)
    groups = _components(a_eq, m)
    group_of = np.zeros(m, dtype=np.int64)
    for g, group in enumerate(groups):
        group_of[group.cols] = g
    if max_group is not None and max(len(group.cols) for group in groups) > max_group:
        return None
    watch: set[int] = set()  # complementary cells the LP attacker found too narrow
    deadline = time.monotonic() + time_limit
    # The master is separable by group (every cut lies in one group): after the first round
    # only the groups that got new cuts are solved again, and only their cells separated.
    x = np.zeros(m)
    dirty = np.ones(m, dtype=bool)
    pending: set[int] = set()
    tables: dict[int, np.ndarray] = {}  # target -> its two latest tables (rows of moves)
    optimal, achieved, rounds = True, 0.0, 0
    while rounds < max_rounds:
        rounds += 1
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        if dirty.any():
            bound = None if cutoff is None else cutoff - float(price[~dirty] @ x[~dirty])
            res = _master(price, is_fixed_on, cuts, left, gap, nodes, bound, dirty,
                          group_of)
            if res is None:
                return None
            x[dirty], done, got = res[0][dirty], res[1], res[2]
            optimal, achieved = optimal and done, max(achieved, got)
            if cutoff is not None and float(price @ x) > cutoff + _EPS:
                return None
            pending |= {int(q) for q in np.flatnonzero(dirty & (is_primary | np.isin(
                np.arange(m), list(watch))) & (x > 0.5))}
        on = x > 0.5
        unknown = np.zeros(ext.shape, dtype=bool)  # hidden or unpublished
        unknown[tuple(positions[on].T)] = True
        targets = np.array(sorted(pending), dtype=np.int64)
        pending = set()
        # a small cell a box of hidden cells protects needs no LP: it would add no cut
        small = is_primary[targets]
        boxed = boxes.certified(ext, unknown, positions[targets[small]],
                                np.ones(int(small.sum()), dtype=bool), threshold, lead)
        targets = np.concatenate([targets[small][~boxed], targets[~small]])
        moves, added, touched = _separate(a_eq, value, on, targets, is_primary, threshold, x,
                                          cuts, groups, group_of)
        for j, q in enumerate(targets):
            tables[int(q)] = moves[2 * j:2 * j + 2]
        dirty = np.isin(group_of, list(touched))
        if added:
            continue
        hidden = np.zeros(ext.shape, dtype=bool)
        hidden[tuple(positions[on].T)] = True
        hidden &= ~free
        # the separation's alternative tables certify most cells (checked: additive,
        # non-negative, shown cells unmoved); the LP attacker audits the cells they do not settle
        rows = [tables[q] for q in sorted(tables)]
        certified = _certified(a_eq, np.vstack(rows) if rows else np.zeros((0, m)), on, value,
                               is_primary, threshold)
        sure = np.zeros(ext.shape, dtype=bool)
        sure[tuple(positions[certified].T)] = True
        rest = np.argwhere(hidden & ~sure)
        sure[tuple(rest[boxes.certified(ext, unknown, rest, primary[tuple(rest.T)], threshold,
                                        lead)].T)] = True
        bad = violations(ext, hidden & ~sure, free, primary, threshold, hidden=hidden, lead=lead)
        if not bad:
            return Pattern(hidden, float(price @ x), optimal, achieved, rounds)
        new = {int(var_of[c]) for c in bad} - watch
        if not new:  # the model said protected, the attacker disagrees: numerical trouble
            return None
        watch |= new
        pending |= new
    return None


class _Cuts:
    """The master's cuts, row by row in COO form: sum_c coef_c x_c >= rhs."""

    def __init__(self) -> None:
        self.rows: list[np.ndarray] = []
        self.cols: list[np.ndarray] = []
        self.vals: list[np.ndarray] = []
        self.rhs: list[np.ndarray] = []
        self.count = 0

    def add(self, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, rhs: np.ndarray) -> None:
        """Rows numbered 0..len(rhs)-1 here, appended after the cuts so far."""
        self.rows.append(rows + self.count)
        self.cols.append(cols)
        self.vals.append(vals)
        self.rhs.append(np.asarray(rhs, dtype=np.float64))
        self.count += len(rhs)

    def matrix(self, m: int) -> tuple[csr_matrix, np.ndarray]:
        return (coo_matrix((np.concatenate(self.vals),
                            (np.concatenate(self.rows), np.concatenate(self.cols))),
                           shape=(self.count, m)).tocsr(), np.concatenate(self.rhs))


def _line_cuts(shape: tuple[int, ...], var_of: np.ndarray, value: np.ndarray,
               is_primary: np.ndarray, is_free: np.ndarray, threshold: int, lead: int) -> _Cuts:
    """The cuts of single lines, known before any solve (they are the Benders cuts whose dual
    is one line, see ``_separate``): within each line through a small cell p of value v, the
    other hidden cells can take a move of p up by T - v, down by min(v, 1) and over T in all
    (a detail moving against p absorbs up to its value one way and U the other; the total, or
    a detail of a total p, moves with p); a complementary cell needs another hidden cell on
    each of its lines. Coefficients are capped at the right-hand side (valid for 0/1 x)."""
    t = float(threshold)
    cuts = _Cuts()
    for axis in range(lead, len(shape)):
        n = shape[axis]
        lines = np.moveaxis(var_of, axis, -1).reshape(-1, n)  # (lines, n): variable or -1
        movable = lines >= 0
        safe = np.where(movable, lines, 0)
        small = movable & is_primary[safe]
        other = movable & ~is_primary[safe] & ~is_free[safe]
        index = np.arange(n)
        # a complementary cell j of line l: the line's other movable cells sum to >= x_j
        line, j = np.nonzero(other)
        mask = movable[line]  # (pairs, n)
        r, c = np.nonzero(mask)
        cuts.add(r, safe[line[r], c], np.where(c == j[r], -1.0, 1.0), np.zeros(len(line)))
        # a small cell j of line l (value v): capacity of the others up, down, in all
        line, j = np.nonzero(small)
        if not len(line):
            continue
        v = value[safe[line, j]]
        others = movable[line] & (index[None, :] != j[:, None])
        same = (index[None, :] == n - 1) | (j[:, None] == n - 1)  # moves with p
        a = value[safe[line]]
        up, down = np.where(same, t, a), np.where(same, a, t)
        for coef, need in ((up, t - v), (down, np.minimum(v, 1.0)),
                           (up + down, np.full_like(v, t))):
            keep = need > 0
            if not keep.any():
                continue
            sub, k_line = others[keep], line[keep]
            r, c = np.nonzero(sub)
            cuts.add(r, safe[k_line[r], c], np.minimum(coef[keep][r, c], need[keep][r]),
                     need[keep])
    return cuts


def _master(price: np.ndarray, is_fixed_on: np.ndarray, cuts: _Cuts, time_limit: float,
            gap: float, nodes: int | None, cutoff: float | None, sel: np.ndarray,
            group_of: np.ndarray) -> tuple[np.ndarray, bool, float] | None:
    """The master problem over the cells of ``sel`` (whole groups): min cost . x over 0/1 x
    (small and free cells fixed on) subject to the cuts so far on those cells. The LP
    relaxation first (a millisecond; branch and bound costs several even when its root
    settles it): a group whose relaxed solution is whole is solved (the problem is separable by
    group; a whole optimum of the relaxation is an optimum of the integer programme), and only
    the other groups go to branch and bound."""
    matrix, rhs = cuts.matrix(len(price)) if cuts.count else (None, None)
    if matrix is not None and rhs is not None:
        matrix, rhs = _tighten(matrix, rhs, is_fixed_on)
    if (matrix is not None and rhs is not None
            and ((np.diff(matrix.indptr) == 0) & (rhs > 0)).any()):
        return None  # a cut no cell can meet: no pattern at all
    x = np.zeros(len(price))
    relaxed = _solve_master(price, is_fixed_on, matrix, rhs, sel, time_limit, None, None,
                            None, integral=False)
    if relaxed is None:
        return None
    x[sel] = relaxed[0]
    bound = float(price[sel] @ x[sel])  # no pattern of these groups costs less
    if cutoff is not None and bound > cutoff + 1e-6 * (max(1.0, abs(cutoff)) + abs(bound)):
        return None  # none at most the cutoff: branch and bound would find none either
    fractional = np.abs(x - np.round(x)) > 1e-6
    whole = sel & ~np.isin(group_of, np.unique(group_of[fractional]))
    x[whole] = np.round(x[whole])
    sel = sel & ~whole
    if not sel.any():
        return x, True, 0.0
    if cutoff is not None:
        cutoff -= float(price[whole] @ x[whole])
    res = _solve_master(price, is_fixed_on, matrix, rhs, sel, time_limit, gap, nodes, cutoff)
    if res is None:
        return None
    x[sel] = res[0]
    return x, res[1], res[2]


def _tighten(matrix: csr_matrix, rhs: np.ndarray,
             is_fixed_on: np.ndarray) -> tuple[csr_matrix, np.ndarray]:
    """The cuts over the cells not fixed on (small and free cells are hidden in every pattern):
    each cut's fixed part moves to the right-hand side, a cut the fixed cells already meet is
    dropped, and in a cut with no negative coefficient every coefficient is capped at what is
    still needed (valid for 0/1 cells: one cell reaching the need meets the cut either way).
    The same 0/1 patterns meet the cuts; the LP relaxation is tighter, so more groups come out
    whole without branch and bound."""
    coo = matrix.tocoo()
    fixed = is_fixed_on[coo.col]
    need = rhs - np.bincount(coo.row[fixed], weights=coo.data[fixed], minlength=len(rhs))
    free = ~fixed
    row, col, data = coo.row[free], coo.col[free], coo.data[free]
    lowest = np.bincount(row, weights=np.minimum(data, 0.0), minlength=len(rhs))
    keep = lowest < need - 1e-9  # not met by every pattern
    cap = keep[row] & (lowest[row] >= 0)
    data = np.where(cap, np.minimum(data, need[row]), data)
    use = keep[row]
    rows = np.flatnonzero(keep)
    renumber = np.full(len(rhs), -1, dtype=np.int64)
    renumber[rows] = np.arange(len(rows))
    out = coo_matrix((data[use], (renumber[row[use]], col[use])),
                     shape=(len(rows), matrix.shape[1])).tocsr()
    return out, need[rows]


def _solve_master(price: np.ndarray, is_fixed_on: np.ndarray, matrix: csr_matrix | None,
                  rhs: np.ndarray | None, sel: np.ndarray, time_limit: float, gap: float | None,
                  nodes: int | None, cutoff: float | None,
                  integral: bool = True) -> tuple[np.ndarray, bool, float] | None:
    cols = np.flatnonzero(sel)
    sub, lower = None, np.zeros(0)
    if matrix is not None and rhs is not None:
        rows = np.flatnonzero(abs(matrix) @ sel.astype(np.float64) > 0)
        if len(rows):
            sub, lower = matrix[rows][:, cols], rhs[rows]
    if not integral:  # the LP relaxation: HiGHS directly
        relaxed = highs.solve(price[cols], sub, lower, np.full(len(lower), highs.INF),
                              np.where(is_fixed_on[cols], 1.0, 0.0), np.ones(len(cols)),
                              time_limit=time_limit, presolve=False)
        return None if relaxed.x is None else (relaxed.x, relaxed.status == "optimal", 0.0)
    # the integer programme through scipy's HiGHS (1.12): its branch and bound is 1.5-2.5x
    # faster on these small masters than highspy 1.16's (same optimum, same gap). Without the
    # feasibility-jump heuristic: it costs ~6 ms a call whatever the size (a 3-variable
    # programme: 7 ms with it, 0.6 without), and these masters are settled at the root node.
    options: dict[str, object] = {"time_limit": time_limit, "disp": False,
                                  "mip_heuristic_run_feasibility_jump": False}
    if gap is not None:
        options["mip_rel_gap"] = gap
    if nodes is not None:
        options["node_limit"] = nodes
    if cutoff is not None:  # a HiGHS option scipy passes on verbatim (with a warning)
        options["objective_bound"] = cutoff + 1e-6 * max(1.0, abs(cutoff))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Unrecognized options", RuntimeWarning)
        res = milp(price[cols], integrality=np.ones(len(cols)),
                   bounds=Bounds(np.where(is_fixed_on[cols], 1.0, 0.0), np.ones(len(cols))),
                   constraints=() if sub is None else LinearConstraint(sub, lower, np.inf),
                   options=options)
    if res.x is None:
        return None
    return np.round(res.x), res.status == 0, float(getattr(res, "mip_gap", 0.0) or 0.0)


@dataclass(frozen=True)
class Group:
    """Variables no line links to the others (a slice, or a part of a table no hidden cell
    joins): its columns and rows of A, and A restricted to them (COO, local indices)."""

    cols: np.ndarray
    n_rows: int
    row: np.ndarray
    col: np.ndarray
    data: np.ndarray

    def transpose_dot(self, u: np.ndarray) -> np.ndarray:
        """A_group^T u."""
        return np.bincount(self.col, weights=self.data * u[self.row], minlength=len(self.cols))


def _components(a_eq: csr_matrix, m: int) -> list[Group]:
    """The variables in groups no line links (independent slices, or parts of a table no
    hidden cell joins), with A restricted to each. A move of q needs only q's group: the others
    stay put."""
    empty = np.zeros(0, dtype=np.int64)
    if a_eq.shape[0] == 0:
        return [Group(np.array([q]), 0, empty, empty, np.zeros(0)) for q in range(m)]
    link = (a_eq.T @ a_eq) != 0
    count, label = connected_components(link, directed=False)
    row_label = label[a_eq.indices[a_eq.indptr[:-1]]] if a_eq.nnz else np.zeros(0, dtype=int)
    order_cols, order_rows = np.argsort(label, kind="stable"), np.argsort(row_label, kind="stable")
    col_cut = np.searchsorted(label[order_cols], np.arange(count + 1))
    row_cut = np.searchsorted(row_label[order_rows], np.arange(count + 1))
    # local indices: the rank of a column (row) within its group
    col_rank = np.empty(m, dtype=np.int64)
    col_rank[order_cols] = np.arange(m) - col_cut[label[order_cols]]
    row_rank = np.empty(len(row_label), dtype=np.int64)
    row_rank[order_rows] = np.arange(len(row_label)) - row_cut[row_label[order_rows]]
    coo = a_eq.tocoo()
    entry_group = label[coo.col]
    order = np.argsort(entry_group, kind="stable")
    entry_cut = np.searchsorted(entry_group[order], np.arange(count + 1))
    e_row, e_col, e_data = row_rank[coo.row[order]], col_rank[coo.col[order]], coo.data[order]
    out = []
    for g in range(count):
        e = slice(entry_cut[g], entry_cut[g + 1])
        out.append(Group(order_cols[col_cut[g]:col_cut[g + 1]], int(row_cut[g + 1] - row_cut[g]),
                         e_row[e], e_col[e], e_data[e]))
    return out


def _separate(a_eq: csr_matrix, value: np.ndarray, on: np.ndarray, targets: np.ndarray,
              is_primary: np.ndarray, threshold: int, x: np.ndarray, cuts: _Cuts,
              groups: list[Group],
              group_of: np.ndarray) -> tuple[np.ndarray, int, set[int]]:
    """The model's alternative tables for the pattern ``on``: for each target cell q, the
    tables a + y (A y = 0, -a_c <= y_c <= U on hidden cells, 0 elsewhere; U = threshold, enough
    for every box of the hypercube method) moving q most up and most down, solved as one block
    LP (each block over q's group of linked cells only). Where q's rule fails, a Benders cut is
    added from the LP's line duals u: with w = +-e_q - A^T u, every table of a pattern x has
    +-y_q <= sum_c (U w_c^+ + a_c w_c^-) x_c (weak duality; valid whatever u is), so the rule
    asks that sum to reach the bound. Returns the tables (two rows per target, over all cells),
    the number of cuts added and the groups they lie in."""
    m, t = len(value), float(threshold)
    moves, added, touched = [], 0, set()
    size_of = np.array([len(g.cols) for g in groups])
    start = 0
    while start < len(targets):
        # targets in this LP, while it stays under _LP_VARIABLES
        sizes = 2 * size_of[group_of[targets[start:]]]
        stop = start + max(1, int(np.searchsorted(np.cumsum(sizes), _LP_VARIABLES,
                                                  side="right")))
        part = [int(q) for q in targets[start:stop]]
        start = stop
        objective, lo_b, hi_b, offsets, row_offsets = [], [], [], [0], [0]
        e_rows, e_cols, e_vals, block_cols = [], [], [], []
        bounds: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        for q in part:
            g = int(group_of[q])
            group = groups[g]
            cols = group.cols
            if g not in bounds:
                bounds[g] = (np.where(on[cols], -value[cols], 0.0), np.where(on[cols], t, 0.0))
            here = (cols == q).astype(np.float64)
            for sign in (-1.0, 1.0):  # max y_q, then min y_q
                objective.append(sign * here)
                e_rows.append(group.row + row_offsets[-1])
                e_cols.append(group.col + offsets[-1])
                e_vals.append(group.data)
                lo_b.append(bounds[g][0])
                hi_b.append(bounds[g][1])
                block_cols.append(cols)
                offsets.append(offsets[-1] + len(cols))
                row_offsets.append(row_offsets[-1] + group.n_rows)
        big = coo_matrix((np.concatenate(e_vals), (np.concatenate(e_rows),
                                                   np.concatenate(e_cols))),
                         shape=(row_offsets[-1], offsets[-1])).tocsc()
        has_rows = big.shape[0] > 0
        zero = np.zeros(big.shape[0])
        res = highs.solve(np.concatenate(objective), big if has_rows else None, zero, zero,
                          np.concatenate(lo_b), np.concatenate(hi_b))
        if res.x is None or res.row_dual is None:
            raise RuntimeError(f"separation LP failed: {res.status}")
        # HiGHS: objective = A^T duals + bound multipliers, so u = -duals for max y_q
        marg = res.row_dual
        y = np.zeros((2 * len(part), m))
        y[np.repeat(np.arange(2 * len(part)), np.diff(offsets)),
          np.concatenate(block_cols)] = res.x
        moves.append(y)
        for j, q in enumerate(part):
            hi, lo, v = y[2 * j, q], y[2 * j + 1, q], value[q]
            need = []
            if is_primary[q]:
                need += [("up", t - v)] if hi < t - v - _EPS else []
                need += [("down", min(v, 1.0))] if lo > -min(v, 1.0) + _EPS else []
            need += [("width", t)] if hi - lo < t - _EPS else []
            if not need:
                continue
            group = groups[group_of[q]]
            cols = group.cols
            here = cols == q
            f_up, f_down = (
                _dual_cut(group, marg[row_offsets[b]:row_offsets[b + 1]], sign, here,
                          value[cols], t) for b, sign in ((2 * j, 1.0), (2 * j + 1, -1.0)))
            for kind, bound in need:
                row = f_up if kind == "up" else f_down if kind == "down" else f_up + f_down
                if not is_primary[q]:  # a complementary cell's width: f(x) >= T x_q
                    row = row - bound * here
                    bound = 0.0
                if row @ x[cols] >= bound - 1e-7:  # not cut off (inexact duals): audit decides
                    continue
                keep = np.flatnonzero(row > 1e-9) if is_primary[q] else np.flatnonzero(row)
                cuts.add(np.zeros(len(keep), dtype=np.int64), cols[keep],
                         np.minimum(row[keep], bound) if is_primary[q] else row[keep],
                         np.array([bound]))
                added += 1
                touched.add(int(group_of[q]))
    return (np.vstack(moves) if moves else np.zeros((0, m))), added, touched


def _dual_cut(group: Group, marginals: np.ndarray, sign: float, here: np.ndarray,
              value: np.ndarray, threshold: float) -> np.ndarray:
    """Coefficients f (over q's group; 0 elsewhere) with sign * y_q <= f . x for every table of
    every pattern x; ``here`` marks q in the group."""
    w = sign * here.astype(np.float64)
    w += group.transpose_dot(marginals)
    return threshold * np.maximum(w, 0.0) + value * np.maximum(-w, 0.0)


def _certified(a_eq: csr_matrix, moves: np.ndarray, on: np.ndarray, value: np.ndarray,
               is_primary: np.ndarray, threshold: int) -> np.ndarray:
    """Cells whose rule is proven by the solved alternative tables a + y (one row of ``moves``
    per table); a table counts only if it is truly one the attacker cannot rule out."""
    tol = 1e-6
    if not len(moves):
        return np.zeros(len(value), dtype=bool)
    residual = np.abs(a_eq @ moves.T).max(axis=0) if a_eq.shape[0] else np.zeros(len(moves))
    valid = ((residual <= tol) & (moves >= -value - tol).all(axis=1)
             & (np.abs(moves[:, ~on]) <= tol).all(axis=1))
    if not valid.any():
        return np.zeros(len(value), dtype=bool)
    tables = moves[valid]
    hi, lo = value + tables.max(axis=0), value + tables.min(axis=0)
    ok = hi - lo >= threshold - tol
    ok &= ~is_primary | ((hi >= threshold - tol) & (lo <= np.maximum(value - 1, 0) + tol))
    return ok & on
