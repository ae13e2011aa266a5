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
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ctip.finflows.rules import Rule

# the Arrow tables load_frames registered, per connection, until run_rules takes them (a
# strong reference to the connection keeps its id from being reused; the newest few only)
_REGISTRY: list[tuple[Any, pa.Table, pa.Table]] = []
_KEEP = 4
_EPOCH = datetime(1970, 1, 1)
THREADS = max(1, min(2, os.cpu_count() or 1))
EVIDENCE_CAP = 100  # as detect.EVIDENCE_CAP (detect imports this module)
_US_DAY = 86_400_000_000
_US_HOUR = 3_600_000_000

Pred = tuple[np.ndarray, np.ndarray | None]  # (true, false); neither = NULL


def remember(con: Any, tx: pa.Table, accounts: pa.Table) -> None:
    _REGISTRY[:] = [e for e in _REGISTRY if e[0] is not con][-(_KEEP - 1):]
    _REGISTRY.append((con, tx, accounts))


def forget(con: Any) -> None:
    _REGISTRY[:] = [e for e in _REGISTRY if e[0] is not con]


class Codes:
    """A string column as dictionary indices (NULL = the last index) and its dictionary."""

    def __init__(self, column: pa.ChunkedArray) -> None:
        if not pa.types.is_dictionary(column.type):
            column = pc.dictionary_encode(column)
        column = column.unify_dictionaries()
        self.values: list[str] = (column.chunk(0).dictionary.to_pylist()
                                  if column.num_chunks else [])
        null = len(self.values)
        indices = (pa.concat_arrays([c.indices for c in column.chunks]) if column.num_chunks
                   else pa.array([], pa.int32()))
        if indices.null_count:
            indices = pc.fill_null(indices, null)
        self.index = indices.to_numpy().astype(np.int32, copy=False)
        valid = self.index != null
        self.valid = valid
        self.has_nulls = not bool(valid.all())

    def lookup(self, wanted: Any) -> np.ndarray:
        """True where the value is in ``wanted`` (a set or a predicate on the string)."""
        test = wanted if callable(wanted) else wanted.__contains__
        table = np.array([bool(test(v)) for v in self.values] + [False])
        hits = np.flatnonzero(table)
        if len(hits) == 0:
            return np.zeros(len(self.index), bool)
        if len(hits) == 1:  # one value: a comparison, cheaper than a gather
            return self.index == hits[0]
        return table[self.index]


def _numbers(column: pa.ChunkedArray, dtype: Any, fill: Any) -> tuple[np.ndarray, np.ndarray]:
    if not column.null_count:
        values = column.to_numpy().astype(dtype, copy=False)
        return values, np.ones(len(values), bool)
    valid = column.is_valid().to_numpy(zero_copy_only=False)
    values = column.fill_null(fill).to_numpy().astype(dtype, copy=False)
    return values, valid


class Frames:
    """The columns of ``tx`` in numpy, with the holder's and the counterparty's KYC rows."""

    def __init__(self, tx: pa.Table, accounts: pa.Table) -> None:
        self.tx, self.accounts = tx, accounts
        self.lock = threading.RLock()  # rules run in threads: each column is built once
        self.n = tx.num_rows
        self.ts = tx.column("booked_at").cast(pa.int64()).to_numpy()
        self.account = tx.column("account").to_numpy()

    # ---- columns, read when a rule first needs them ----------------------------------------
    def codes(self, name: str) -> Codes:
        cache = self.__dict__.setdefault("_codes", {})
        with self.lock:
            if name not in cache:
                cache[name] = Codes(self.tx.column(name))
        return cache[name]

    @cached_property
    def amount(self) -> tuple[np.ndarray, np.ndarray]:
        return _numbers(self.tx.column("amount"), np.float64, 0.0)

    @cached_property
    def counterparty(self) -> tuple[np.ndarray, np.ndarray]:
        return _numbers(self.tx.column("counterparty"), np.int64, 0)

    @cached_property
    def time_known(self) -> Pred:
        values, valid = _numbers(self.tx.column("time_known"), bool, False)
        return values & valid, ~values & valid

    @cached_property
    def hour(self) -> np.ndarray:
        return ((self.ts // _US_HOUR) % 24).astype(np.int8)

    @cached_property
    def _kyc_index(self) -> pd.Index:
        return pd.Index(self.accounts.column("account").to_numpy(zero_copy_only=False))

    @cached_property
    def holder_row(self) -> np.ndarray:
        """Index of each row's accounts row (-1: none): looked up once per distinct account."""
        codes, accounts = self.account_codes
        return self._kyc_index.get_indexer(accounts).astype(np.int32)[codes]

    @cached_property
    def counterparty_row(self) -> np.ndarray:
        values, valid = self.counterparty
        rows = self._kyc_index.get_indexer(values).astype(np.int32)
        rows[~valid] = -1
        return rows

    def kyc_codes(self, name: str, who: str = "holder") -> Codes:
        """An accounts string column per transaction row, of the holder's or the
        counterparty's accounts row (none: NULL)."""
        cache = self.__dict__.setdefault("_kyc", {})
        with self.lock:
            if (name, who) in cache:
                return cache[(name, who)]
            rows = self.holder_row if who == "holder" else self.counterparty_row
            codes = Codes(self.accounts.column(name))
            null = len(codes.values)
            per_row = object.__new__(Codes)
            per_row.values = codes.values
            per_row.index = np.append(codes.index, null).astype(np.int32)[rows]  # -1: NULL
            per_row.valid = per_row.index != null
            per_row.has_nulls = not bool(per_row.valid.all())
            cache[(name, who)] = per_row
            return per_row

    def kyc_number(self, name: str, fill: int) -> np.ndarray:
        """coalesce(accounts.name, fill) per transaction row (the holder's row)."""
        values, valid = _numbers(self.accounts.column(name), np.int64, fill)
        return np.append(np.where(valid, values, fill), fill)[self.holder_row]

    # ---- windows and groups ------------------------------------------------------------------
    def bucket(self, window: str) -> np.ndarray:
        """date_trunc(window, booked_at) as an integer: months, Monday-weeks or days since
        1970 (floor division, so dates before 1970 fall in the right bucket too)."""
        cache = self.__dict__.setdefault("_buckets", {})
        if window not in cache:
            if window == "month":
                cache[window] = self.ts.astype("datetime64[us]").astype("datetime64[M]").astype(
                    np.int64)
            else:
                days = self.ts // _US_DAY
                cache[window] = days - (days + 3) % 7 if window == "week" else days
        return cache[window]

    @cached_property
    def account_codes(self) -> tuple[np.ndarray, np.ndarray]:
        codes, uniques = pd.factorize(self.account, sort=True)
        return codes.astype(np.int32), np.asarray(uniques)

    def done_with(self, window: str) -> None:
        """Drop a window's group ids and buckets (memory: four bytes a row each)."""
        for name in ("_groups", "_buckets"):
            self.__dict__.get(name, {}).pop(window, None)

    def groups(self, window: str) -> tuple[np.ndarray, int, Any]:
        """A dense group id per row for (account, window), the number of ids and a function
        from ids to (account, window start)."""
        cache = self.__dict__.setdefault("_groups", {})
        if window not in cache:
            codes, accounts = self.account_codes
            bucket = self.bucket(window)
            low = int(bucket.min()) if self.n else 0
            span = (int(bucket.max()) - low + 1) if self.n else 1
            gid = codes.astype(np.int64) * span + (bucket - low)
            if len(accounts) * span <= 32_000_000:
                size = len(accounts) * span

                def decode(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
                    return accounts[ids // span], ids % span + low
            else:  # long spans of daily windows: number the groups that exist
                gid, uniques = pd.factorize(gid, sort=True)
                size = len(uniques)

                def decode(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
                    raw = np.asarray(uniques)[ids]
                    return accounts[raw // span], raw % span + low
            cache[window] = (gid.astype(np.int32 if size < 2**31 else np.int64), size, decode)
        return cache[window]


def window_start(value: int, window: str) -> datetime:
    if window == "month":
        return datetime(1970 + value // 12, value % 12 + 1, 1)
    return _EPOCH + timedelta(days=int(value))


def frames_for(con: Any) -> Frames | None:
    """The fast path's frames for this connection, or None where the reference path must run."""
    entry = next((e for e in _REGISTRY if e[0] is con), None)
    if entry is None:
        return None
    _, tx, accounts = entry
    if any(tx.column(c).null_count for c in ("booked_at", "account", "txn_id")):
        return None  # rows without a time, account or id: the reference path groups them
    keys = accounts.column("account")
    if keys.null_count or len(pc.unique(keys)) != accounts.num_rows:
        return None  # a KYC row twice would multiply the joined rows in the reference path
    return Frames(tx, accounts)


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


def _nullable(t: np.ndarray, codes: Codes) -> Pred:
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
                part = _known(f.kyc_number("employees", 0) >= int(value))
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
        opens = f.kyc_number("opens", DEFAULT_OPENS)
        closes = f.kyc_number("closes", DEFAULT_CLOSES)
        hr = f.hour
        outside = np.where(opens < closes, (hr < opens) | (hr >= closes),
                           (hr >= closes) & (hr < opens))
        return _known(outside)

    def rule(self, rule: Rule) -> np.ndarray:
        """Rows the rule's ``where`` holds for (with the currency check amounts need)."""
        from ctip.finflows.detect import uses_amount

        t, _ = self.where(rule.where)
        if uses_amount(rule):
            t = t & self._in("currency", [self.compiler.rules.currency])[0]
        return t

    def distinct_codes(self, rule: Rule) -> tuple[np.ndarray, np.ndarray]:
        """The column of ``having.distinct`` as integers, and where it is not NULL."""
        column = rule.having["distinct"]["column"]
        if column == "mcc_category":
            category = np.full(self.f.n, -1, np.int64)
            for i, name in reversed(list(enumerate(rule.where["mcc_category"]))):
                hit, _ = self._in("mcc", self.compiler.rules.categories[name])
                category[hit] = i  # CASE takes the first category that matches
            return category, category >= 0
        if column == "counterparty":
            return self.f.counterparty
        codes = self.f.codes(column)
        return codes.index.astype(np.int64), codes.valid


def _windows_per_account(accounts: np.ndarray) -> np.ndarray:
    """For each entry, how many entries share its account (``count(*) OVER (PARTITION BY
    account)``)."""
    _, inverse, counts = np.unique(accounts, return_inverse=True, return_counts=True)
    return counts[inverse]


def fired_groups(p: Predicates, rule: Rule, window: str,
                 where: np.ndarray) -> tuple[list[tuple[Any, ...]], np.ndarray]:
    """As ``detect.fired_groups``: (account, window start, n, total, distinct, base) of the
    windows where the rule fires, repetition included, ordered by account and window; and
    their group ids."""
    f = p.f
    gid, size, decode = f.groups(window)
    g = gid[where]
    n = np.bincount(g, minlength=size)
    ok = n > 0
    h = rule.having
    total = None
    if "sum_gte" in h:
        amount, valid = f.amount
        keep = where & valid
        total = np.bincount(gid[keep], weights=amount[keep], minlength=size)
        has_total = np.bincount(gid[keep], minlength=size) > 0  # sum of no value is NULL
        ok &= has_total & (total >= float(h["sum_gte"]))
    if "count_gte" in h:
        ok &= n >= int(h["count_gte"])
    distinct_n = None
    distinct = h.get("distinct")
    if distinct:
        codes, valid = p.distinct_codes(rule)
        keep = where & valid
        distinct_n = _distinct_per_group(gid[keep], codes[keep], size)
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
    rows = []
    for k in order:
        i = ids[k]
        rows.append((int(accounts[k]), window_start(int(starts[k]), window), int(n[i]),
                     float(total[i]) if total is not None else None,
                     int(distinct_n[i]) if distinct_n is not None else None,
                     int(base_n[i]) if base_n is not None else None))
    return rows, ids[order]


def _distinct_per_group(groups: np.ndarray, codes: np.ndarray, size: int) -> np.ndarray:
    """count(DISTINCT code) per group id."""
    if not len(groups):
        return np.zeros(size, np.int64)
    dense, uniques = pd.factorize(codes)
    width = len(uniques)
    if size * width <= 64_000_000:  # few values (regions, categories): a bitmap per group
        seen = np.bincount(groups.astype(np.int64) * width + dense, minlength=size * width)
        return (seen.reshape(size, width) > 0).sum(axis=1)
    pairs = pd.unique(groups.astype(np.int64) * width + dense)
    return np.bincount(pairs // width, minlength=size)


def run_aggregates(con: Any, compiler: Any, frames: Frames, rules: list[Rule],
                   window: str) -> tuple[list[tuple[Any, ...]], dict[tuple[Any, ...], Any]]:
    """The fired windows of every rule of one window (``(r, account, ws, n, total, distinct,
    base)`` rows) and their evidence: ``(r, account, ws) -> (first txn ids, count)``."""
    p = Predicates(frames, compiler, con)
    gid, size, _ = frames.groups(window)

    def one(rule: Rule) -> tuple[list[tuple[Any, ...]], np.ndarray]:
        where = p.rule(rule)
        rows, groups = fired_groups(p, rule, window, where)
        wanted = np.zeros(size, bool)
        wanted[groups] = True
        return rows, np.flatnonzero(where & wanted[gid])  # the rows of the fired windows

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
            rule_of.append(np.full(len(rows_picked), r, np.int64))
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
                      "txn": frames.tx.column("txn_id").take(pa.array(rows))})
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
