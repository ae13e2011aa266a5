"""The attacker's view of a suppressed table: the tightest bounds linear programming can derive.

For each suppressed cell we solve two LPs (min and max of the cell) subject to: every published
cell fixed, every additive relation of the table (each margin = sum of its detailed cells; margins
absent from the table are known to the attacker when ``margins_known``), and non-negativity.
This is the classic audit of a suppression pattern (tau-ARGUS "audit"); it is exact but costs two
LPs per suppressed cell, so use it on tables of modest size (tests, a release check).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import linprog
from scipy.sparse import coo_matrix

from ctip.publish.suppression import TOTAL_LABELS, SuppressedTable, _categories, _is_total


def attacker_bounds(original: pd.DataFrame, released: SuppressedTable) -> pd.DataFrame:
    """One row per suppressed cell: dims, ``true`` value, ``lower`` and ``upper`` bounds (upper
    is ``inf`` when unbounded). ``original`` is the table before suppression (for the true values
    and for margins the attacker knows from elsewhere)."""
    dims, value = list(released.dims), released.value
    frame = released.frame
    cats = [_categories(pd.concat([original[d], frame[d]]), TOTAL_LABELS) for d in dims]
    shape = tuple(len(c) + 1 for c in cats)
    k = len(dims)

    def positions(df: pd.DataFrame) -> list[tuple[int, ...]]:
        cols = []
        for i, d in enumerate(dims):
            lookup = {c: n for n, c in enumerate(cats[i])}
            tot = _is_total(df[d], TOTAL_LABELS).to_numpy()
            cols.append([len(cats[i]) if t else lookup[x] for x, t in zip(df[d], tot, strict=True)])
        return list(zip(*cols, strict=True)) if k else [()] * len(df)

    # true full table, margins computed from the detailed cells
    truth = np.zeros(shape, dtype=np.float64)
    detail_rows = (
        ~np.any([_is_total(original[d], TOTAL_LABELS).to_numpy() for d in dims], axis=0)
        if k
        else np.ones(len(original), dtype=bool)
    )
    for pos, v in zip(
        positions(original[detail_rows]), original.loc[detail_rows, value], strict=True
    ):
        truth[pos] = v
    for i in range(k):
        last = tuple(shape[i] - 1 if a == i else slice(None) for a in range(k))
        body = tuple(slice(0, shape[i] - 1) if a == i else slice(None) for a in range(k))
        truth[last] = truth[body].sum(axis=i)

    # what the attacker knows: published cells; margins not in the table (if margins_known);
    # detailed cells absent from the table (a group-by omits zeros: they are known zeros)
    known = np.ones(shape, dtype=bool)
    in_table = np.zeros(shape, dtype=bool)
    for pos, supp in zip(positions(frame), frame["suppressed"], strict=True):
        in_table[pos] = True
        known[pos] = not supp
    if not released.margins_known:
        margin = np.ones(shape, dtype=bool)
        for i in range(k):
            margin[tuple(slice(0, shape[i] - 1) if a == i else slice(None) for a in range(k))] = (
                False
            )
        # a cell is a margin if any index is a total: complement of all-detail
        detail = np.ones(shape, dtype=bool)
        for i in range(k):
            detail[tuple(shape[i] - 1 if a == i else slice(None) for a in range(k))] = False
        known[~in_table & ~detail] = False

    unknown_cells = [tuple(c) for c in np.argwhere(~known)]
    var = {c: n for n, c in enumerate(unknown_cells)}
    rows, cols, vals, rhs = [], [], [], []
    r = 0
    for i in range(k):
        other_shapes = [range(shape[a]) for a in range(k) if a != i]
        for rest in np.ndindex(*[len(s) for s in other_shapes]):

            def cell(j: int, i: int = i, rest: tuple[int, ...] = rest) -> tuple[int, ...]:
                it = iter(rest)
                return tuple(j if a == i else next(it) for a in range(k))

            b = 0.0
            used = False
            for j in range(shape[i]):
                coef = -1.0 if j == shape[i] - 1 else 1.0
                c = cell(j)
                if c in var:
                    rows.append(r)
                    cols.append(var[c])
                    vals.append(coef)
                    used = True
                else:
                    b -= coef * truth[c]
            if used:
                rhs.append(b)
                r += 1
    n = len(unknown_cells)
    a_eq = coo_matrix((vals, (rows, cols)), shape=(r, n)).tocsr() if r else None
    out = []
    for c, idx in var.items():
        if not in_table[c]:
            continue
        bounds = []
        for sign in (1.0, -1.0):
            objective = np.zeros(n)
            objective[idx] = sign
            res = linprog(
                objective,
                A_eq=a_eq,
                b_eq=np.array(rhs) if r else None,
                bounds=(0, None),
                method="highs",
            )
            if res.status == 3:  # unbounded
                bounds.append(np.inf)
            elif res.status != 0:
                raise RuntimeError(f"LP failed: {res.message}")
            else:
                bounds.append(sign * res.fun)
        label = {d: (cats[i][c[i]] if c[i] < len(cats[i]) else "_T") for i, d in enumerate(dims)}
        out.append({**label, "true": truth[c], "lower": bounds[0], "upper": bounds[1]})
    return pd.DataFrame(out, columns=[*dims, "true", "lower", "upper"])
