"""The aggregate rules in numpy over the whole table at once: the fast path of ``detect``.

Why not DuckDB here: one filtered GROUP BY per rule rescans ten million rows thirty times and
joins the accounts table in each pass; one DuckDB pass computing every rule's predicate as a
CASE is slower still (no filter pushdown, one mark join per list). Here each column is read
once from the Arrow table ``load_frames`` registered (low-cardinality codes stay dictionary
indices, so ``channel IN (...)`` is a lookup in a table of a dozen entries), the holder's and the
counterparty's KYC rows are attached once by binary search, and a rule costs a few boolean
operations and ``bincount``s over ten million entries.

Results are those of the reference path (``detect.run_aggregates``, one SQL query per rule):
predicates follow SQL's three-valued logic (each predicate is a pair of arrays, "true" and
"false"; a row where neither holds is NULL), groups, counts, sums, distinct counts and
repetition are the same, evidence is ordered by (booked_at, txn_id) and capped alike
(``tests/finflows/test_finflows_fast.py`` checks it with hypothesis). Where the frames are
not what this path expects (no Arrow table, duplicate account rows, rows without time or
account) ``frames_for`` returns None and ``detect`` runs the reference path.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ctip.finflows.columns import (
    Codes,
    Frames,
    KycCodes,
    forget,
    frames_for,
    remember,
    take_strings,
    window_start,
)
from ctip.finflows.rules import Rule

__all__ = ["Frames", "forget", "frames_for", "remember", "run_aggregates"]

THREADS = max(1, min(2, os.cpu_count() or 1))
EVIDENCE_CAP = 100  # as detect.EVIDENCE_CAP (detect imports this module)
# count(DISTINCT) by a bitmap of (group, value) up to this many cells, or as many per row
BITMAP_CELLS, BITMAP_PER_ROW = 1 << 20, 4
Pred = tuple[np.ndarray, np.ndarray | None]  # (true, false); neither = NULL


@contextmanager
def small_pages() -> Iterator[None]:
    """Run without numpy's request for transparent huge pages (``NUMPY_MADVISE_HUGEPAGE``).

    numpy marks every large array for huge pages; where the kernel compacts memory on demand
    for such requests (THP defrag ``madvise``, Ubuntu's default) each fresh temporary of ten
    million rows waits for it. The rules allocate many short-lived arrays of that size: on the
    benchmark machine this was two thirds of their system time. The setting is numpy's own
    (process-wide); the previous value is restored on the way out."""
    core = getattr(np, "_core", None) or getattr(np, "core", None)
    setter = getattr(getattr(core, "multiarray", None), "_set_madvise_hugepage", None)
    if setter is None:  # pragma: no cover - a numpy without the switch
        yield
        return
    previous = setter(False)
    try:
        yield
    finally:
        setter(previous)


# A predicate is (true, false) with false None when it is never NULL (then false = ~true):
# most columns have no NULLs, and the second array would double every operation.
def _false(p: Pred) -> np.ndarray:
    return ~p[0] if p[1] is None else p[1]


def _and(a: Pred, b: Pred) -> Pred:
    if a[1] is None and b[1] is None:
        return a[0] & b[0], None
    return a[0] & b[0], _false(a) | _false(b)


def _or(a: Pred, b: Pred) -> Pred:
    if a[1] is None and b[1] is None:
        return a[0] | b[0], None
    return a[0] | b[0], _false(a) & _false(b)


def _known(t: np.ndarray) -> Pred:
    return t, None


def _nullable(t: np.ndarray, codes: Codes | KycCodes) -> Pred:
    """``t`` is False where the value is NULL; there the predicate is NULL, not false."""
    return (t, None) if not codes.has_nulls else (t, ~t & codes.valid)


def _valid(t: np.ndarray, valid: np.ndarray) -> Pred:
    """A comparison on a numeric column (``t`` computed on NULLs filled in)."""
    if valid.all():
        return t, None
    return t & valid, ~t & valid


def _is(p: Pred, value: bool) -> Pred:
    if value:
        return p
    return (~p[0], None) if p[1] is None else (p[1], p[0])


class Predicates:
    """The rule file's ``where`` vocabulary over ``Frames``: the same meaning as
    ``detect.Compiler.where`` gives it in SQL, NULLs included."""

    def __init__(self, frames: Frames, compiler: Any, con: Any) -> None:
        self.f, self.compiler = frames, compiler
        self.home = compiler.rules.home_country
        # the reference lists, read here: the rules run in threads, a connection is not shared
        self.lists: dict[tuple[str, str], set[Any]] = {}
        for kind, sql in (
                ("country", "SELECT list, code FROM ff_list_country"),
                ("merchant", "SELECT list, merchant FROM ff_merchants"),
                ("merchant_abroad", "SELECT list, merchant FROM ff_merchants WHERE country <> ?"),
                ("ref", "SELECT list, ref FROM ff_list_ref")):
            params = [self.home] if "?" in sql else []
            for name, value in con.execute(sql, params).fetchall():
                self.lists.setdefault((kind, name), set()).add(value)

    def _in(self, column: str, values: Any) -> Pred:
        values = {values} if isinstance(values, str) else set(values)
        codes = self.f.codes(column)
        return _nullable(codes.lookup(values), codes)

    def _not_in(self, column: str, values: Any) -> Pred:  # NOT coalesce(col, chr(0)) IN (...)
        t, _ = self._in(column, values)
        return _known(~t)

    def _subquery(self, column: str, found: set[Any]) -> Pred:
        # x IN (SELECT ...): FALSE for every row when the subquery is empty, NULL for x NULL
        if not found:
            return _known(np.zeros(self.f.n, bool))
        return self._in(column, found)

    def _list(self, kind: str, name: str) -> set[Any]:
        return self.lists.get((kind, name), set())

    def _kyc_in(self, column: str, values: Any, who: str = "holder") -> Pred:
        codes = self.f.kyc_codes(column, who)
        wanted = {values} if isinstance(values, str) else set(values)
        return _nullable(codes.lookup(wanted), codes)

    def where(self, clause: dict[str, Any] | None) -> Pred:
        f = self.f
        if not clause:
            return _known(np.ones(f.n, bool))
        result: Pred | None = None
        for key, value in clause.items():
            if key in ("channel", "purpose"):
                part = self._in(key, value)
            elif key == "direction":
                part = self._in("direction", [value])
            elif key == "purpose_not":
                part = self._not_in("purpose", value)
            elif key == "mcc_category":
                part = self._in("mcc", self.compiler.mccs(value))
            elif key == "amount":
                amount, valid = f.amount
                t = np.ones(f.n, bool)
                if "gte" in value:
                    t &= amount >= float(value["gte"])
                if "lt" in value:
                    t &= amount < float(value["lt"])
                part = _valid(t, valid)
            elif key == "counterparty_country_in":
                part = self._subquery("counterparty_country", self._list("country", value))
            elif key == "counterparty_abroad":
                codes = f.codes("counterparty_country")
                part = _is(_known(codes.lookup(lambda v: v != self.home) & codes.valid),
                           bool(value))
            elif key == "merchant_in":
                part = self._subquery("merchant", self._list("merchant", value))
            elif key == "merchant_abroad_in":
                part = self._subquery("merchant", self._list("merchant_abroad",
                                                                  value))
            elif key == "counterparty_in":
                refs = np.array(sorted(self._list("ref", value)), dtype=np.int64)
                cp, valid = f.counterparty
                part = (_valid(np.isin(cp, refs), valid) if len(refs)
                        else _known(np.zeros(f.n, bool)))
            elif key in ("counterparty_known", "counterparty_hidden"):
                _, valid = f.counterparty
                part = _is(_known(valid if key == "counterparty_known" else ~valid), bool(value))
            elif key == "counterparty_internal":
                part = _is(_known(f.counterparty_row >= 0), bool(value))
            elif key == "counterparty_customer_type":
                part = self._kyc_in("customer_type", value, "counterparty")
            elif key == "customer_type":
                part = self._kyc_in("customer_type", value)
            elif key == "business_type_in":
                part = self._kyc_in("business_type", value)
            elif key == "business_type_not_in":
                part = _known(~self._kyc_in("business_type", value)[0])
            elif key == "employees_gte":
                per_code = f.holder_number("employees", 0) >= int(value)
                part = _known(per_code[f.account_codes[0]])
            elif key == "observed":
                part = _known(f.kyc_codes("observed").lookup(lambda v, x=value: x in v))
            elif key == "outside_business_hours":
                part = _is(_and(f.time_known, self._outside()), bool(value))
            elif key == "hours_between":
                start, end = int(value[0]), int(value[1])
                hr = f.hour
                t = (hr >= start) | (hr < end) if start > end else (hr >= start) & (hr < end)
                part = _and(f.time_known, _known(t))
            elif key == "any":
                part = self.where(value[0]) if value else _known(np.zeros(f.n, bool))
                for sub in value[1:]:
                    part = _or(part, self.where(sub))
            else:  # pragma: no cover - parse_rules refuses unknown keys
                raise ValueError(key)
            result = part if result is None else _and(result, part)
        assert result is not None
        return result

    def _outside(self) -> Pred:
        from ctip.finflows.detect import DEFAULT_CLOSES, DEFAULT_OPENS

        f = self.f
        # per account code and hour of the day, then one gather per row
        opens = f.holder_number("opens", DEFAULT_OPENS)[:, None]
        closes = f.holder_number("closes", DEFAULT_CLOSES)[:, None]
        hr = np.arange(24)[None, :]
        table = np.where(opens < closes, (hr < opens) | (hr >= closes),
                         (hr >= closes) & (hr < opens)).ravel()
        at = f.account_codes[0] * np.int32(24)
        at += f.hour
        return _known(table[at])

    def rule(self, rule: Rule) -> np.ndarray:
        """Rows the rule's ``where`` holds for (with the currency check amounts need)."""
        from ctip.finflows.detect import uses_amount

        t, _ = self.where(rule.where)
        if uses_amount(rule):
            t = t & self._in("currency", [self.compiler.rules.currency])[0]
        return t

    def distinct_codes(self, rule: Rule, rows: np.ndarray) -> tuple[np.ndarray, int]:
        """The column of ``having.distinct`` at ``rows`` as dense integers (-1: NULL) and how
        many values they can take (dictionary indices and categories are dense already)."""
        column = rule.having["distinct"]["column"]
        if column == "mcc_category":  # CASE takes the first category that matches
            mcc = self.f.codes("mcc")
            names = list(rule.where["mcc_category"])
            table = np.full(len(mcc.values) + 1, -1, np.int32)
            for i, name in reversed(list(enumerate(names))):
                table[_table_of(mcc.values, set(self.compiler.rules.categories[name]))] = i
            return table[mcc.index[rows]], len(names)
        if column == "counterparty":
            values, valid = self.f.counterparty
            picked = values[rows]
            dense, uniques = pd.factorize(picked)
            dense = dense.astype(np.int64)
            dense[~valid[rows]] = -1
            return dense, len(uniques)
        codes = self.f.codes(column)
        index = codes.index[rows]
        return np.where(index == codes.null, np.int32(-1), index), len(codes.values)


def _table_of(values: list[str], wanted: set[str]) -> np.ndarray:
    return np.array([v in wanted for v in values] + [False])


def _windows_per_account(accounts: np.ndarray) -> np.ndarray:
    """For each entry, how many entries share its account (``count(*) OVER (PARTITION BY
    account)``)."""
    _, inverse, counts = np.unique(accounts, return_inverse=True, return_counts=True)
    return counts[inverse]


def fired_groups(p: Predicates, rule: Rule, window: str, where: np.ndarray
                 ) -> tuple[list[tuple[Any, ...]], np.ndarray, np.ndarray]:
    """As ``detect.fired_groups``: (account, window start, n, total, distinct, base) of the
    windows where the rule fires, repetition included, ordered by account and window; their
    group ids; and the rows of ``where`` in those windows (the evidence). Past the predicate
    every step works on the rows it selects, not on the whole table."""
    f = p.f
    gid, size, decode = f.groups(window)
    rows = np.flatnonzero(where)
    g = gid[rows]
    n = np.bincount(g, minlength=size)
    ok = n > 0
    h = rule.having
    total = None
    if "sum_gte" in h:
        amount, valid = f.amount
        keep = valid[rows]
        kept = g[keep]
        total = np.bincount(kept, weights=amount[rows[keep]], minlength=size)
        has_total = np.bincount(kept, minlength=size) > 0  # sum of no value is NULL
        ok &= has_total & (total >= float(h["sum_gte"]))
    if "count_gte" in h:
        ok &= n >= int(h["count_gte"])
    distinct_n = None
    distinct = h.get("distinct")
    if distinct:
        codes, width = p.distinct_codes(rule, rows)
        keep = codes >= 0
        distinct_n = _distinct_per_group(g[keep], codes[keep], size, width)
        ok &= distinct_n >= int(distinct["gte"])
    base_n = None
    if rule.base is not None:
        base_n = np.bincount(gid[p.where(rule.base)[0]], minlength=size)
        if "share_gte" in h:
            ok &= n >= float(h["share_gte"]) * base_n
    if rule.absent is not None and h.get("absent"):
        absent_n = np.bincount(gid[p.where(rule.absent)[0]], minlength=size)
        ok &= absent_n == 0
    ids = np.flatnonzero(ok)
    accounts, starts = decode(ids)
    if rule.min_windows > 1 and len(ids):
        enough = _windows_per_account(accounts) >= rule.min_windows
        ids, accounts, starts = ids[enough], accounts[enough], starts[enough]
    order = np.lexsort((starts, accounts))
    out = []
    for k in order:
        i = ids[k]
        out.append((int(accounts[k]), window_start(int(starts[k]), window), int(n[i]),
                    float(total[i]) if total is not None else None,
                    int(distinct_n[i]) if distinct_n is not None else None,
                    int(base_n[i]) if base_n is not None else None))
    wanted = np.zeros(size, bool)
    wanted[ids] = True
    return out, ids[order], rows[wanted[g]]


def _distinct_per_group(groups: np.ndarray, codes: np.ndarray, size: int,
                        width: int) -> np.ndarray:
    """count(DISTINCT code) per group id, codes in [0, width)."""
    if not len(groups):
        return np.zeros(size, np.int64)
    width = max(width, 1)
    cells = size * width
    wide = np.dtype(np.int64 if cells >= 2**31 else np.int32)
    pairs = groups.astype(wide) * np.array(width, wide)
    pairs += codes.astype(wide, copy=False)
    if cells <= max(BITMAP_PER_ROW * len(groups), BITMAP_CELLS):  # a byte a cell
        seen = np.zeros(cells, bool)
        seen[pairs] = True
        return seen.reshape(size, width).sum(axis=1)
    return np.bincount(pd.unique(pairs) // width, minlength=size)


def run_aggregates(con: Any, compiler: Any, frames: Frames, rules: list[Rule],
                   window: str) -> tuple[list[tuple[Any, ...]], dict[tuple[Any, ...], Any]]:
    """The fired windows of every rule of one window (``(r, account, ws, n, total, distinct,
    base)`` rows) and their evidence: ``(r, account, ws) -> (first txn ids, count)``."""
    p = Predicates(frames, compiler, con)
    frames.groups(window)

    def one(rule: Rule) -> tuple[list[tuple[Any, ...]], np.ndarray]:
        rows, _, picked = fired_groups(p, rule, window, p.rule(rule))
        return rows, picked

    # numpy releases the GIL in its loops: rules in two threads use both cores (the results
    # are gathered in rule order, so the output does not depend on the threads)
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        done = list(pool.map(one, rules))
    fired: list[tuple[Any, ...]] = []
    picked: list[np.ndarray] = []
    rule_of: list[np.ndarray] = []
    for r, (rows, rows_picked) in enumerate(done):
        fired += [(r, *row) for row in rows]
        if rows:
            picked.append(rows_picked)
            rule_of.append(np.full(len(rows_picked), r, np.int32))
    evidence = _evidence(frames, window, picked, rule_of) if picked else {}
    frames.done_with(window)
    return fired, evidence


def _evidence(frames: Frames, window: str, picked: list[np.ndarray],
              rule_of: list[np.ndarray]) -> dict[tuple[Any, ...], Any]:
    """Each fired window's transaction ids in (booked_at, txn_id) order (Arrow sorts strings by
    their bytes, as DuckDB's ORDER BY does), the first ``EVIDENCE_CAP`` of them, and the count."""
    gid, _, decode = frames.groups(window)
    rows = np.concatenate(picked)
    table = pa.table({"r": np.concatenate(rule_of), "g": gid[rows], "ts": frames.ts[rows],
                      "txn": pa.array(take_strings(frames.tx.column("txn_id"), rows),
                                      pa.string())})
    table = table.take(pc.sort_indices(table, [("r", "ascending"), ("g", "ascending"),
                                               ("ts", "ascending"), ("txn", "ascending")]))
    r = table.column("r").to_numpy()
    g = table.column("g").to_numpy()
    txn = table.column("txn").to_pylist()
    starts = np.flatnonzero(np.r_[True, (r[1:] != r[:-1]) | (g[1:] != g[:-1])])
    ends = np.r_[starts[1:], len(r)]
    owners, begins = decode(g[starts])
    return {(int(r[a]), owner, window_start(begin, window)): (txn[a:min(b, a + EVIDENCE_CAP)],
                                                            int(b - a))
            for a, b, owner, begin in zip(starts.tolist(), ends.tolist(), owners.tolist(),
                                          begins.tolist(), strict=True)}
