"""Wages and the outflows that follow them, in numpy over ``Frames``: the fast path of
``detect._wage_events`` (``ff_wage_out``, shared by A18-02 and T20-EE).

The reference path joins every salary credit, repeated for each day of the lag, with every
outgoing transaction on (account, day) in DuckDB: ten million rows probe a hash table, and each
carries its transaction id, for a few hundred thousand pairs. Here the outflows that can follow
a wage are picked first by a table of (account, day) cells a wage's lag reaches, then matched
by binary search among the wages sorted by (account, time): the same pairs, the condition being
``wage_at <= out_at <= wage_at + lag`` on the same account (the day cells of the reference path
only narrow its join; every pair within the lag lies in one of them). Transaction ids are taken
only for the pairs found. ``tests/finflows/test_finflows_wages.py`` checks that the table and
the hits built on it are those of the reference path.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ctip.finflows.columns import Frames

_US_DAY = 86_400_000_000
DAY_CELLS = 64_000_000  # the (account, day) table up to this many cells (a byte each)


def take(column: pa.ChunkedArray, rows: np.ndarray) -> pa.Array:
    """``column[rows]`` as one Arrow array, taken chunk by chunk (Arrow's take on a chunked
    column concatenates every chunk first)."""
    if column.num_chunks == 1:
        return column.chunk(0).take(pa.array(rows))
    order = np.argsort(rows, kind="stable")
    ordered = rows[order]
    bounds = np.cumsum([0] + [len(c) for c in column.chunks])
    cuts = np.searchsorted(ordered, bounds)
    parts = [chunk.take(pa.array(ordered[cuts[i]:cuts[i + 1]] - bounds[i]))
             for i, chunk in enumerate(column.chunks) if cuts[i + 1] > cuts[i]]
    if not parts:
        return pa.array([], column.type)
    joined = pa.concat_arrays(parts)
    inverse = np.empty_like(order)
    inverse[order] = np.arange(len(order))
    return joined.take(pa.array(inverse))


def _numbers(column: pa.ChunkedArray, rows: np.ndarray, kind: pa.DataType) -> pa.Array:
    return pc.cast(take(column, rows), kind)


def wage_pairs(f: Frames, lag_us: int) -> tuple[np.ndarray, np.ndarray] | None:
    """(wage row, outflow row) of every outflow of the wage's account booked within
    ``lag_us`` microseconds after it (the wage's time included); None where the keys would not
    fit in 64 bits (the reference path runs)."""
    direction = f.codes("direction")
    wages = np.flatnonzero(direction.lookup({"in"}) & f.codes("purpose").lookup({"SALA"}))
    return pairs_within(f, wages, direction.lookup({"out"}), lag_us)


def pairs_within(f: Frames, first: np.ndarray, second: np.ndarray,
                 lag_us: int) -> tuple[np.ndarray, np.ndarray] | None:
    """(row of ``first``, row where ``second`` holds) of the same account, the second booked
    from the first's time to ``lag_us`` microseconds after it, both ends included; None where
    the keys would not fit in 64 bits."""
    empty = np.zeros(0, np.int64)
    if not len(first):
        return empty, empty
    codes, accounts = f.account_codes
    t0 = int(f.ts.min())
    width = int(f.ts.max()) - t0 + lag_us + 1  # a gap of the lag between accounts' ranges
    if len(accounts) * width >= 2**62 or lag_us < 0:
        return None
    # (account, day) cells some first row's lag reaches: only second rows in them are matched
    days = f.days
    low = int(days.min())
    span = int(days.max()) - low + 1
    if len(accounts) * span <= DAY_CELLS:
        first_day = days[first].astype(np.int64) - low
        last = (f.ts[first] + lag_us) // _US_DAY - low  # the day the lag ends on
        cells = np.zeros(len(accounts) * span + 1, bool)
        base = codes[first].astype(np.int64) * span
        for k in range(int((last - first_day).max()) + 1):
            reach = first_day + k
            inside = reach <= np.minimum(last, span - 1)
            cells[(base + reach)[inside]] = True
        cell = codes.astype(np.int64 if len(cells) >= 2**31 else np.int32) * span
        np.add(cell, days, out=cell)  # in place, as ``+=`` (written so for mypy's numpy stubs)
        np.subtract(cell, low, out=cell)
        candidates = np.flatnonzero(second & cells[cell])
        del cell
    else:
        candidates = np.flatnonzero(second)
    first_key = codes[first].astype(np.int64) * width + (f.ts[first] - t0)
    order = np.argsort(first_key, kind="stable")
    first, first_key = first[order], first_key[order]
    key = codes[candidates].astype(np.int64) * width + (f.ts[candidates] - t0)
    order = np.argsort(key, kind="stable")  # sorted needles: the searches run twice as fast
    candidates, key = candidates[order], key[order]
    begin = np.searchsorted(first_key, key - lag_us, "left")
    end = np.searchsorted(first_key, key, "right")
    counts = end - begin
    total = int(counts.sum())
    seconds = np.repeat(candidates, counts)
    at = np.arange(total, dtype=np.int64)
    at -= np.repeat(np.cumsum(counts) - counts, counts)
    at += np.repeat(begin, counts)
    return first[at], seconds


def wage_events(f: Frames, lag_us: int) -> pa.Table | None:
    """``ff_wage_out``'s rows (account, wage_id, wage_at, wage, out_id, out_at, out_amount,
    counterparty) from ``wage_pairs``; None where it gives none."""
    pairs = wage_pairs(f, lag_us)
    if pairs is None:
        return None
    wage, out = pairs
    tx = f.tx
    stamp = pa.timestamp("us")
    return pa.table({
        "account": pa.array(f.account[wage], pa.int64()),
        "wage_id": pc.cast(take(tx.column("txn_id"), wage), pa.string()),
        "wage_at": pa.array(f.ts[wage], pa.int64()).cast(stamp),
        "wage": _numbers(tx.column("amount"), wage, pa.float64()),
        "out_id": pc.cast(take(tx.column("txn_id"), out), pa.string()),
        "out_at": pa.array(f.ts[out], pa.int64()).cast(stamp),
        "out_amount": _numbers(tx.column("amount"), out, pa.float64()),
        "counterparty": _numbers(tx.column("counterparty"), out, pa.int64()),
    })


def funnel_pairs(f: Frames, lag_us: int, threshold: float, currency: str) -> pa.Table | None:
    """T20-FA's pairs (account, dep_id, wd_id, dep_at, r1, r2): a cash deposit below
    ``threshold`` in ``currency`` with a region, and a cash withdrawal of the same account in
    another region within the lag (regions as numbers: the rule counts distinct ones)."""
    direction, channel, region = f.codes("direction"), f.codes("channel"), f.codes("region")
    cash = channel.lookup({"cash"}) & region.valid
    amount, valid = f.amount
    deposits = np.flatnonzero(cash & direction.lookup({"in"}) & valid & (amount < threshold)
                              & f.codes("currency").lookup({currency}))
    pairs = pairs_within(f, deposits, cash & direction.lookup({"out"}), lag_us)
    if pairs is None:
        return None
    dep, wd = pairs
    # one number per distinct region name (a dictionary may hold a name twice across chunks)
    names = np.asarray(region.values + [None], dtype=object)
    same = pd.factorize(names)[0].astype(np.int32)
    r1, r2 = same[region.index[dep]], same[region.index[wd]]
    other = r1 != r2
    dep, wd, r1, r2 = dep[other], wd[other], r1[other], r2[other]
    ids = f.tx.column("txn_id")
    return pa.table({
        "account": pa.array(f.account[dep], pa.int64()),
        "dep_id": pc.cast(take(ids, dep), pa.string()),
        "wd_id": pc.cast(take(ids, wd), pa.string()),
        "dep_at": pa.array(f.ts[dep], pa.int64()).cast(pa.timestamp("us")),
        "r1": pa.array(r1, pa.int32()), "r2": pa.array(r2, pa.int32()),
    })
