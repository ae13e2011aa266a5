"""The transaction table's columns in numpy for the fast path of the aggregate rules (``fast``).

Each column is read once from the Arrow table ``load_frames`` registered, chunk by chunk into
one preallocated array (concatenating the chunks first would copy every column twice):
low-cardinality codes stay dictionary indices, numbers come with their validity, the holder's
KYC fields are kept per distinct account (a lookup is made on that small table, then gathered
once per row), and (account, window) groups are dense int32 ids.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

# the Arrow tables load_frames registered, per connection, until run_rules takes them (a
# strong reference to the connection keeps its id from being reused; the newest few only)
_REGISTRY: list[tuple[Any, pa.Table, pa.Table]] = []
_KEEP = 4
_EPOCH = datetime(1970, 1, 1)
_US_DAY = 86_400_000_000
_US_HOUR = 3_600_000_000
DENSE_GROUPS = 32_000_000  # (account, window) ids as account x span up to this many
DENSE_KEYS = 1 << 24  # account references looked up in a table up to this span (or one per row)


def remember(con: Any, tx: pa.Table, accounts: pa.Table) -> None:
    _REGISTRY[:] = [e for e in _REGISTRY if e[0] is not con][-(_KEEP - 1):]
    _REGISTRY.append((con, tx, accounts))


def forget(con: Any) -> None:
    _REGISTRY[:] = [e for e in _REGISTRY if e[0] is not con]


def _dense(low: int, span: int, rows: int) -> bool:
    """Whether references from ``low`` over ``span`` values are looked up in a table (its
    size bounded by ``DENSE_KEYS`` or the rows looked up; 0 turns tables off, for tests)."""
    return DENSE_KEYS > 0 and low >= 0 and span <= max(DENSE_KEYS, rows)


def _table(values: list[str], wanted: Any) -> np.ndarray:
    """Per dictionary entry, and NULL last, whether it is in ``wanted`` (a set or a test)."""
    test = wanted if callable(wanted) else wanted.__contains__
    return np.array([bool(test(v)) for v in values] + [False])


class Codes:
    """A string column as dictionary indices (NULL = the last index) and its dictionary."""

    def __init__(self, column: pa.ChunkedArray) -> None:
        if not pa.types.is_dictionary(column.type):
            column = pc.dictionary_encode(column)
        column = column.unify_dictionaries()
        self.values: list[str] = (column.chunk(0).dictionary.to_pylist()
                                  if column.num_chunks else [])
        self.null = len(self.values)
        if column.num_chunks == 1:  # the indices in place (read-only), not copied
            indices = column.chunk(0).indices
            if indices.null_count:
                indices = pc.fill_null(indices, self.null)
            self.index = indices.to_numpy().astype(np.int32, copy=False)
            self.has_nulls = bool(column.null_count)
            return
        self.index = np.empty(len(column), np.int32)
        at = 0
        for chunk in column.chunks:
            indices = chunk.indices
            if indices.null_count:
                indices = pc.fill_null(indices, self.null)
            self.index[at:at + len(indices)] = indices.to_numpy()
            at += len(indices)
        self.has_nulls = bool(column.null_count)

    @cached_property
    def valid(self) -> np.ndarray:
        return self.index != self.null

    def lookup(self, wanted: Any) -> np.ndarray:
        """True where the value is in ``wanted`` (a set or a predicate on the string)."""
        table = _table(self.values, wanted)
        hits = np.flatnonzero(table)
        if len(hits) == 0:
            return np.zeros(len(self.index), bool)
        if len(hits) == 1:  # one value: a comparison, cheaper than a gather
            return self.index == hits[0]
        return table[self.index]


class KycCodes:
    """An accounts string column seen from each transaction row: ``small`` holds per key the
    value's index (NULL = ``len(values)``), ``key`` each row's key (-1: the last entry)."""

    def __init__(self, values: list[str], small: np.ndarray, key: np.ndarray) -> None:
        self.values, self.small, self.key = values, small, key
        self.null = len(values)

    @cached_property
    def valid(self) -> np.ndarray:
        return (self.small != self.null)[self.key]

    @cached_property
    def has_nulls(self) -> bool:
        if bool((self.small != self.null).all()):
            return False
        return not bool(self.valid.all())

    def lookup(self, wanted: Any) -> np.ndarray:
        per_key = _table(self.values, wanted)[self.small]
        if not per_key.any():
            return np.zeros(len(self.key), bool)
        return per_key[self.key]


def _numbers(column: pa.ChunkedArray, dtype: Any, fill: Any) -> tuple[np.ndarray, np.ndarray]:
    """The values (NULLs filled in) and where they are valid."""
    if column.num_chunks == 1 and not column.null_count:  # in place (read-only), not copied
        values = column.chunk(0).to_numpy(zero_copy_only=False).astype(dtype, copy=False)
        return values, np.ones(len(column), bool)
    values = np.empty(len(column), dtype)
    valid = np.ones(len(column), bool)
    at = 0
    for chunk in column.chunks:
        k = len(chunk)
        if chunk.null_count:
            valid[at:at + k] = chunk.is_valid().to_numpy(zero_copy_only=False)
            chunk = chunk.fill_null(fill)
        values[at:at + k] = chunk.to_numpy(zero_copy_only=False)
        at += k
    return values, valid


def _ints(column: pa.ChunkedArray) -> np.ndarray:
    """An integer or timestamp column without NULLs as int64."""
    if column.num_chunks == 1:  # in place (read-only), not copied
        return column.chunk(0).to_numpy().view(np.int64)
    out = np.empty(len(column), np.int64)
    at = 0
    for chunk in column.chunks:
        out[at:at + len(chunk)] = chunk.to_numpy().view(np.int64)
        at += len(chunk)
    return out


def take_strings(column: pa.ChunkedArray, rows: np.ndarray) -> list[Any]:
    """``column[rows]`` as Python values, taken chunk by chunk (Arrow's take on a chunked
    string column concatenates all its chunks first: every string of the table copied)."""
    order = np.argsort(rows, kind="stable")
    ordered = rows[order]
    bounds = np.cumsum([0] + [len(c) for c in column.chunks])
    cuts = np.searchsorted(ordered, bounds)
    parts: list[Any] = []
    for i, chunk in enumerate(column.chunks):
        if cuts[i + 1] > cuts[i]:
            local = ordered[cuts[i]:cuts[i + 1]] - bounds[i]
            parts += chunk.take(pa.array(local)).to_pylist()
    out: list[Any] = [None] * len(rows)
    for position, value in zip(order.tolist(), parts, strict=True):
        out[position] = value
    return out


class Frames:
    """The columns of ``tx`` in numpy, with the holder's and the counterparty's KYC rows."""

    def __init__(self, tx: pa.Table, accounts: pa.Table) -> None:
        self.tx, self.accounts = tx, accounts
        self.lock = threading.RLock()  # rules run in threads: each column is built once
        self.n = tx.num_rows
        self.ts = _ints(tx.column("booked_at"))
        self.account = _ints(tx.column("account"))

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
    def time_known(self) -> tuple[np.ndarray, np.ndarray | None]:
        """(true, false) of the column; false is None where it has no NULLs (``fast.Pred``)."""
        values, valid = _numbers(self.tx.column("time_known"), bool, False)
        if self.tx.column("time_known").null_count == 0:
            return values, None
        return values & valid, ~values & valid

    @cached_property
    def days(self) -> np.ndarray:
        """Days since 1970 (floor division: dates before 1970 fall on the right day)."""
        return (self.ts // _US_DAY).astype(np.int32)

    @cached_property
    def hour(self) -> np.ndarray:
        return ((self.ts // _US_HOUR) % 24).astype(np.int8)

    @cached_property
    def _kyc_keys(self) -> np.ndarray:
        return self.accounts.column("account").to_numpy(zero_copy_only=False).astype(np.int64)

    @cached_property
    def _kyc_index(self) -> pd.Index:
        return pd.Index(self._kyc_keys)

    def _kyc_rows(self, values: np.ndarray) -> np.ndarray:
        """Each value's accounts row (-1: none): a gather from a table indexed by reference
        where the references span a small range, else a hash lookup."""
        keys = self._kyc_keys
        if not len(values) or not len(keys):
            return np.full(len(values), -1, np.int32)
        low, high = int(keys.min()), int(keys.max())
        span = high - low + 1
        if not _dense(low, span, len(values)):
            return self._kyc_index.get_indexer(values).astype(np.int32)
        table = np.full(span + 1, -1, np.int32)  # the last entry: out of range
        table[keys - low] = np.arange(len(keys), dtype=np.int32)
        at = values - np.int64(low)
        at[(at < 0) | (at > span)] = span
        return table[at]

    @cached_property
    def holder_kyc(self) -> np.ndarray:
        """Per account code (``account_codes``), the holder's accounts row (-1: none)."""
        _, accounts = self.account_codes
        return self._kyc_rows(accounts)

    @cached_property
    def counterparty_row(self) -> np.ndarray:
        """Each row's counterparty's accounts row (-1: none); looked up where there is one."""
        values, valid = self.counterparty
        if valid.all():
            return self._kyc_rows(values)
        rows = np.full(self.n, -1, np.int32)
        known = np.flatnonzero(valid)
        rows[known] = self._kyc_rows(values[known])
        return rows

    def kyc_codes(self, name: str, who: str = "holder") -> KycCodes:
        """An accounts string column per transaction row, of the holder's or the
        counterparty's accounts row (none: NULL)."""
        cache = self.__dict__.setdefault("_kyc", {})
        with self.lock:
            if (name, who) in cache:
                return cache[(name, who)]
            codes = Codes(self.accounts.column(name))
            per_row = np.append(codes.index, codes.null).astype(np.int32)  # [-1]: NULL
            if who == "holder":  # per account code, then the row's code
                found = KycCodes(codes.values, per_row[self.holder_kyc], self.account_codes[0])
            else:
                found = KycCodes(codes.values, per_row, self.counterparty_row)
            cache[(name, who)] = found
            return found

    def holder_number(self, name: str, fill: int) -> np.ndarray:
        """coalesce(accounts.name, fill) of the holder, per account code (``account_codes``)."""
        values, valid = _numbers(self.accounts.column(name), np.int64, fill)
        return np.append(np.where(valid, values, fill), fill)[self.holder_kyc]

    # ---- windows and groups ------------------------------------------------------------------
    def bucket(self, window: str) -> np.ndarray:
        """date_trunc(window, booked_at) as an integer: months, Monday-weeks or days since
        1970 (int32; a month is looked up in a table of the days the data spans)."""
        cache = self.__dict__.setdefault("_buckets", {})
        if window not in cache:
            days = self.days
            if window == "month":
                low = int(days.min()) if self.n else 0
                span = (int(days.max()) - low + 1) if self.n else 1
                table = (np.arange(low, low + span).astype("datetime64[D]")
                         .astype("datetime64[M]").astype(np.int32))
                cache[window] = table[days - np.int32(low)]
            elif window == "week":
                cache[window] = days - (days + np.int32(3)) % np.int32(7)
            else:
                cache[window] = days
        return cache[window]

    @cached_property
    def account_codes(self) -> tuple[np.ndarray, np.ndarray]:
        """Each row's account as a dense code in the order of the references (int32), and the
        references. Where they span a small range, by a table of the references present
        (factorize hashes ten million values and sorts them afterwards: several times slower)."""
        values = self.account
        low = int(values.min()) if self.n else 0
        span = (int(values.max()) - low + 1) if self.n else 0
        if not self.n or not _dense(low, span, self.n):  # keyed references: hashed
            codes, uniques = pd.factorize(values)  # then ranked (faster than sort=True)
            order = np.argsort(uniques, kind="stable")
            rank = np.empty(len(order), np.int32)
            rank[order] = np.arange(len(order), dtype=np.int32)
            return rank[codes], np.asarray(uniques)[order]
        at = values - np.int64(low) if low else values
        present = np.zeros(span, bool)
        present[at] = True
        table = np.cumsum(present, dtype=np.int32)
        table -= np.int32(1)
        return table[at], np.flatnonzero(present) + low

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
            if len(accounts) * span <= DENSE_GROUPS:  # int32 all the way
                size = len(accounts) * span
                gid = codes * np.int32(span)
                gid += bucket
                gid -= np.int32(low)

                def decode(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
                    return accounts[ids // span], ids % span + low
            else:  # long spans of daily windows: number the groups that exist
                wide = codes.astype(np.int64) * span + (bucket - low)
                wide, uniques = pd.factorize(wide, sort=True)
                size = len(uniques)
                gid = wide.astype(np.int32 if size < 2**31 else np.int64)

                def decode(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
                    raw = np.asarray(uniques)[ids]
                    return accounts[raw // span], raw % span + low
            cache[window] = (gid, size, decode)
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
