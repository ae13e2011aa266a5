"""HiGHS called directly (``highspy``), for the many small programmes of ``publish.optimal``.

Why not ``scipy.optimize.milp`` / ``linprog`` (the same solver): each call there checks its
inputs, builds an options manager, converts the integrality one variable at a time and reads the
bound multipliers in a Python loop over the columns, a millisecond or more per call before HiGHS
starts; secondary suppression makes a few dozen calls per table. Here the model goes to HiGHS
as arrays (column-wise) and only the solution, the row duals and the MIP gap come back.

One model in, one ``Solution`` out (``solve``), or one LP whose objective changes between
solves (``LpSeries``: the attacker's min and max of cell after cell, each warm-started from the
previous basis). Statuses are read as scipy reads them: an LP has a solution only when
optimal; a MIP also when a limit stopped it with a feasible point in hand.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from highspy import _core as _h
from scipy.sparse import csc_matrix, spmatrix

_MS = _h.HighsModelStatus
_LIMITS = (_MS.kTimeLimit, _MS.kIterationLimit, _MS.kSolutionLimit)
INF = float(_h.kHighsInf)


@dataclass(frozen=True)
class Solution:
    """``status``: "optimal", "limit" (a MIP stopped by a limit, ``x`` its best point),
    "unbounded", "infeasible" or "failed" (no ``x``)."""

    status: str
    x: np.ndarray | None
    row_dual: np.ndarray | None
    objective: float
    mip_gap: float


def _new(options: dict[str, float | int | str | None]) -> _h._Highs:
    highs = _h._Highs()
    highs.setOptionValue("output_flag", False)
    for key, value in options.items():
        if value is not None:
            highs.setOptionValue(key, value)
    return highs


def _pass(highs: _h._Highs, cost: np.ndarray, matrix: spmatrix | None, row_lower: np.ndarray,
          row_upper: np.ndarray, col_lower: np.ndarray, col_upper: np.ndarray,
          integral: bool = False) -> bool:
    """The model to HiGHS as arrays (column-wise), no per-element conversion."""
    n = len(cost)
    a = csc_matrix((len(row_lower), n)) if matrix is None else csc_matrix(matrix)
    f64 = np.float64
    status = highs.passModel(
        n, a.shape[0], a.nnz, int(_h.MatrixFormat.kColwise), int(_h.ObjSense.kMinimize), 0.0,
        np.ascontiguousarray(cost, dtype=f64), np.ascontiguousarray(col_lower, dtype=f64),
        np.ascontiguousarray(col_upper, dtype=f64), np.ascontiguousarray(row_lower, dtype=f64),
        np.ascontiguousarray(row_upper, dtype=f64), a.indptr.astype(np.int32),
        a.indices.astype(np.int32), a.data.astype(f64),
        np.full(n, 1 if integral else 0, dtype=np.int32))
    return bool(status != _h.HighsStatus.kError)


def solve(cost: np.ndarray, matrix: spmatrix | None, row_lower: np.ndarray,
          row_upper: np.ndarray, col_lower: np.ndarray, col_upper: np.ndarray, *,
          integral: bool = False, time_limit: float | None = None,
          mip_rel_gap: float | None = None, node_limit: int | None = None,
          objective_bound: float | None = None, presolve: bool = True) -> Solution:
    """min cost . x subject to row_lower <= A x <= row_upper, col_lower <= x <= col_upper (x
    integer when ``integral``). ``objective_bound``: a MIP point must cost at most this (HiGHS
    prunes the rest; none: status "failed")."""
    highs = _new({"time_limit": time_limit, "mip_rel_gap": mip_rel_gap,
                  "mip_max_nodes": node_limit, "objective_bound": objective_bound,
                  "presolve": None if presolve else "off"})
    if (not _pass(highs, cost, matrix, row_lower, row_upper, col_lower, col_upper, integral)
            or highs.run() == _h.HighsStatus.kError):
        return Solution("failed", None, None, INF, INF)
    return _read(highs, integral)


def _read(highs: _h._Highs, integral: bool) -> Solution:
    status = highs.getModelStatus()
    info = highs.getInfo()
    gap = float(info.mip_gap) if integral else 0.0
    if status == _MS.kOptimal:
        name = "optimal"
    elif integral and status in _LIMITS and info.objective_function_value < INF:
        name = "limit"
    else:
        name = ("unbounded" if status in (_MS.kUnbounded, _MS.kUnboundedOrInfeasible)
                else "infeasible" if status == _MS.kInfeasible else "failed")
        return Solution(name, None, None, INF, gap)
    solution = highs.getSolution()
    duals = None if integral else np.asarray(solution.row_dual, dtype=np.float64)
    return Solution(name, np.asarray(solution.col_value, dtype=np.float64), duals,
                    float(info.objective_function_value), gap)


class LpSeries:
    """One LP over fixed constraints whose objective is one variable, +-x_j, solve after solve
    (warm-started): ``extreme(j, sign)`` is min sign * x_j, or -inf when unbounded."""

    def __init__(self, matrix: spmatrix | None, row_lower: np.ndarray, row_upper: np.ndarray,
                 col_lower: np.ndarray, col_upper: np.ndarray) -> None:
        n = len(col_lower)
        self._highs = _new({})
        if not _pass(self._highs, np.zeros(n), matrix, row_lower, row_upper, col_lower,
                     col_upper):
            raise RuntimeError("attacker LP could not be loaded")
        self._last: int | None = None

    def extreme(self, j: int, sign: float) -> float:
        highs = self._highs
        if self._last is not None and self._last != j:
            highs.changeColCost(self._last, 0.0)
        highs.changeColCost(j, sign)
        self._last = j
        highs.run()
        status = highs.getModelStatus()
        if status not in (_MS.kOptimal, _MS.kUnbounded):
            # the warm start went wrong (HiGHS can end in "unknown" after an unbounded solve),
            # or presolve could not tell unbounded from infeasible: from scratch, no presolve
            highs.clearSolver()
            highs.setOptionValue("presolve", "off")
            highs.run()
            status = highs.getModelStatus()
            highs.setOptionValue("presolve", "choose")
        if status == _MS.kUnbounded:
            highs.clearSolver()  # the next solve starts from a clean basis
            return -INF
        if status != _MS.kOptimal:
            raise RuntimeError(f"attacker LP failed: {highs.modelStatusToString(status)}")
        return float(highs.getInfo().objective_function_value)
