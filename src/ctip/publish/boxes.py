"""Box certificates: a hidden cell protected by a box of hidden cells needs no LP to say so.

In a table of two dimensions (after ``lead`` slice axes), four hidden cells at the corners of a
rectangle {i, r} x {j, c} let the attacker add t to two of them and -t to the other two (a
total moves with its details) without changing any line sum: every t with all corners >= 0
gives a table he cannot rule out (the argument of the hypercube method, ``publish.suppression``).
So with ``down`` the smallest corner moving with q and ``up`` the smallest moving against it, q
may be anything in [v - down, v + up]; the rule holds for q when
up >= T - v, down >= min(v, 1) and down + up >= T (a small cell), or down + up >= T (any other
hidden cell). Clipping t to [-min(down, T), min(up, T)] keeps the rule and keeps every move
within the bounds of the optimal model (``publish.optimal``: -a_c <= y_c <= T on hidden
cells), so a certified cell is one the model's separation would find protected: skipping its
LP adds no cut and removes none. A cell with no such box is simply not certified here.
"""

from __future__ import annotations

import numpy as np

_CHUNK = 2_000_000  # corner combinations scored at once (targets x rows x columns)


def certified(ext: np.ndarray, hidden: np.ndarray, cells: np.ndarray, small: np.ndarray,
              threshold: int, lead: int = 0) -> np.ndarray:
    """For each cell of ``cells`` (positions over ``ext``, one row each; all hidden), whether a
    box of hidden cells certifies its rule (``small``: the small-cell rule, else the width).
    Only tables of two dimensions after the ``lead`` slice axes (0 or 1) are looked at."""
    out = np.zeros(len(cells), dtype=bool)
    if ext.ndim - lead != 2 or not len(cells):
        return out
    n_rows, n_cols = ext.shape[lead], ext.shape[lead + 1]
    step = max(1, _CHUNK // (n_rows * n_cols))
    for start in range(0, len(cells), step):
        part = slice(start, start + step)
        out[part] = _certified(ext, hidden, cells[part], small[part], threshold, lead,
                               n_rows, n_cols)
    return out


def _certified(ext: np.ndarray, hidden: np.ndarray, cells: np.ndarray, small: np.ndarray,
               threshold: int, lead: int, n_rows: int, n_cols: int) -> np.ndarray:
    if lead:
        values = ext[cells[:, 0]].astype(np.float64)  # (n, rows, cols)
        shown = hidden[cells[:, 0]]
    else:
        values = np.broadcast_to(ext.astype(np.float64), (len(cells), n_rows, n_cols))
        shown = np.broadcast_to(hidden, (len(cells), n_rows, n_cols))
    i, j = cells[:, lead], cells[:, lead + 1]
    k = np.arange(len(cells))
    v = values[k, i, j]
    rows, cols = np.arange(n_rows), np.arange(n_cols)
    # a partner on an axis moves against q, unless one of the two is that axis's total
    row_with = (rows[None, :] == n_rows - 1) | (i[:, None] == n_rows - 1)  # (n, rows)
    col_with = (cols[None, :] == n_cols - 1) | (j[:, None] == n_cols - 1)  # (n, cols)
    sign_rc = np.where(row_with, 1, -1)[:, :, None] * np.where(col_with, 1, -1)[:, None, :]
    v_ic = values[k, i, :][:, None, :]  # corner (i, c): moves with q iff col_with
    v_rj = values[k, :, j][:, :, None]  # corner (r, j): moves with q iff row_with
    h_ic = shown[k, i, :][:, None, :]
    h_rj = shown[k, :, j][:, :, None]
    boxes = h_ic & h_rj & shown & (rows[None, :, None] != i[:, None, None]) \
        & (cols[None, None, :] != j[:, None, None])
    inf = np.inf
    down = np.minimum(np.minimum(v[:, None, None], np.where(col_with[:, None, :], v_ic, inf)),
                      np.minimum(np.where(row_with[:, :, None], v_rj, inf),
                                 np.where(sign_rc > 0, values, inf)))
    up = np.minimum(np.minimum(np.where(col_with[:, None, :], inf, v_ic),
                               np.where(row_with[:, :, None], inf, v_rj)),
                    np.where(sign_rc > 0, inf, values))
    t = float(threshold)
    ok = boxes & (down + up >= t)
    rule = (up >= t - v[:, None, None]) & (down >= np.minimum(v, 1.0)[:, None, None])
    ok &= rule | ~small[:, None, None]
    return np.asarray(ok.any(axis=(1, 2)))
