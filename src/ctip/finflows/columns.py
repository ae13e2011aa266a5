"""The transaction table's columns in numpy for the fast path of the aggregate rules (``fast``).

Each column is read once from the Arrow table ``load_frames`` registered: low-cardinality codes
stay dictionary indices, numbers come with their validity, the holder's and the counterparty's
KYC rows are attached once per distinct account, and (account, window) groups are dense ids.
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
    def time_known(self) -> tuple[np.ndarray, np.ndarray | None]:
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
