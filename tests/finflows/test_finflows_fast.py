"""The numpy path of the aggregate rules (finflows/fast.py) gives exactly the hits of the
reference path (one DuckDB query per rule), on random frames with NULLs, KYC gaps, internal and
outside counterparties, list hits and low thresholds (so that rules fire as well as not)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import timedelta
from typing import Any

import duckdb
import pyarrow as pa
import yaml
from ff_support import START, Frames, _schema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctip.finflows import columns, detect, fast, graph
from ctip.finflows.frames import ACCOUNT_COLUMNS, ANALYTIC_COLUMNS, IDENTIFIER_COLUMNS
from ctip.finflows.rules import parse_rules, shipped_rules_bytes

CHANNELS = ["cash", "wire", "ach", "card", "prepaid", "msb", "crypto", "transfer", None]
MCCS = ["7011", "7512", "4121", "5411", "5912", "6540", "7273", "4829", "5999", None]
MERCHANTS = ["NightAds-Example.invalid*12", "localads-example.invalid", "Corner Shop", None]
COUNTRIES = ["US", "KP", "DE", "MM", None]
PURPOSES = ["SALA", "PAYR", "GDDS", None]
REGIONS = ["north", "south", "east", "west", "centre", None]
BUSINESS = ["hotel", "restaurant", "nail_salon", "transport", None]
ACCOUNTS = [1, 2, 3, 4, 5]


def _rules(low: int) -> Any:
    """The shipped rule file with every count, sum and repetition threshold lowered."""
    data = yaml.safe_load(shipped_rules_bytes())
    for rule in data["rules"]:
        for name, value in list((rule.get("thresholds") or {}).items()):
            if name.startswith("min_") and isinstance(value, int | float):
                rule["thresholds"][name] = min(value, low if name != "min_total" else 50 * low)
    return parse_rules(yaml.safe_dump(data).encode())


account_kyc = st.fixed_dictionaries({
    "customer_type": st.sampled_from(["person", "business", None]),
    "business_type": st.sampled_from(BUSINESS),
    "employees": st.one_of(st.none(), st.integers(0, 30)),
    "opens": st.one_of(st.none(), st.integers(0, 23)),
    "closes": st.one_of(st.none(), st.integers(0, 24)),
    "observed": st.sampled_from([None, "third_party_present",
                                 "accompanied_by_controller;third_party_present"]),
})
transaction = st.fixed_dictionaries({
    "account": st.sampled_from(ACCOUNTS),
    "day": st.integers(0, 75),
    "hour": st.integers(0, 23),
    "amount": st.one_of(st.sampled_from([9500.0, 9999.99, 10000.0, 250.0, 1200.5]),
                        st.floats(1, 12000).map(lambda x: round(x, 2)), st.none()),
    "currency": st.sampled_from(["USD", "USD", "USD", "EUR"]),
    "channel": st.sampled_from(CHANNELS),
    "direction": st.sampled_from(["in", "out", "out", None]),
    "counterparty": st.sampled_from([1, 2, 3, 4, 5, 77, 88, None]),
    "counterparty_country": st.sampled_from(COUNTRIES),
    "merchant": st.sampled_from(MERCHANTS),
    "mcc": st.sampled_from(MCCS),
    "region": st.sampled_from(REGIONS),
    "purpose": st.sampled_from(PURPOSES),
    "time_known": st.sampled_from([True, True, False, None]),
})


def _connection(kyc: list[dict[str, Any]], rows: list[dict[str, Any]],
                missing_kyc: int, chunk: int | None = None) -> Any:
    frames = Frames()
    frames.lists["refs"] = {"recruitment_agencies": [77], "darknet_wallets": [88]}
    for ref, values in zip(ACCOUNTS, kyc, strict=False):
        if ref != missing_kyc:  # one account may have no KYC row at all
            frames.account(ref, **values)
    tx = []
    for i, row in enumerate(rows):
        at = START + timedelta(days=row["day"], hours=row["hour"], seconds=i % 3)
        tx.append({**{k: v for k, v in row.items() if k not in ("day", "hour")},
                   "txn_id": f"t{(i * 7919) % 1000:04d}-{i}", "booked_at": at})
    con = duckdb.connect()
    table = pa.Table.from_pylist([{c: r.get(c) for c in ANALYTIC_COLUMNS} for r in tx],
                                 schema=_schema(ANALYTIC_COLUMNS))
    if chunk:  # several record batches, as a large file arrives: columns are read per chunk
        table = pa.Table.from_batches(table.to_batches(max_chunksize=chunk), table.schema)
    detect.load_frames(
        con, table,
        pa.Table.from_pylist([{c: r.get(c) for c in ACCOUNT_COLUMNS}
                              for r in frames.accounts.values()],
                             schema=_schema(ACCOUNT_COLUMNS)),
        pa.Table.from_pylist([], schema=_schema(IDENTIFIER_COLUMNS)))
    detect.load_lists(con, **frames.lists)
    return con


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kyc=st.lists(account_kyc, min_size=5, max_size=5),
       rows=st.lists(transaction, min_size=1, max_size=160),
       missing_kyc=st.sampled_from([0, 3]), low=st.integers(1, 3))
def test_fast_aggregates_equal_the_reference_path(kyc: list[dict[str, Any]],
                                                  rows: list[dict[str, Any]], missing_kyc: int,
                                                  low: int) -> None:
    rules = _rules(low)
    only = {r.id for r in rules.running if r.kind == "aggregate"}
    con = _connection(kyc, rows, missing_kyc)
    assert fast.frames_for(con) is not None  # the fast path runs, not the fallback
    quick = detect.run_rules(con, rules, graph_runner=graph.run_graph, only=only)
    reference = detect.run_rules(con, rules, graph_runner=graph.run_graph, only=only,
                                 reference=True)
    assert quick.not_assessed == reference.not_assessed  # present columns from Arrow alike
    assert (quick.transactions, quick.accounts) == (reference.transactions, reference.accounts)
    assert quick.hits == reference.hits


@contextmanager
def _other_paths() -> Iterator[None]:
    """The code paths large tables take: count(DISTINCT) by unique (group, value) pairs rather
    than a bitmap, (account, window) ids numbered rather than account x span, account
    references hashed rather than looked up in a table."""
    saved = fast.BITMAP_CELLS, fast.BITMAP_PER_ROW, columns.DENSE_GROUPS, columns.DENSE_KEYS
    fast.BITMAP_CELLS = fast.BITMAP_PER_ROW = columns.DENSE_GROUPS = columns.DENSE_KEYS = 0
    try:
        yield
    finally:
        (fast.BITMAP_CELLS, fast.BITMAP_PER_ROW, columns.DENSE_GROUPS,
         columns.DENSE_KEYS) = saved


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kyc=st.lists(account_kyc, min_size=5, max_size=5),
       rows=st.lists(transaction, min_size=1, max_size=160),
       missing_kyc=st.sampled_from([0, 3]), low=st.integers(1, 3),
       chunk=st.sampled_from([1, 7, 50]), other=st.booleans())
def test_chunked_tables_and_the_large_table_paths_equal_the_reference(
        kyc: list[dict[str, Any]], rows: list[dict[str, Any]], missing_kyc: int, low: int,
        chunk: int, other: bool) -> None:
    rules = _rules(low)
    only = {r.id for r in rules.running if r.kind == "aggregate"}
    con = _connection(kyc, rows, missing_kyc, chunk)
    assert fast.frames_for(con) is not None
    with _other_paths() if other else nullcontext():
        quick = detect.run_rules(con, rules, graph_runner=graph.run_graph, only=only)
    reference = detect.run_rules(con, rules, graph_runner=graph.run_graph, only=only,
                                 reference=True)
    assert quick.hits == reference.hits


def test_the_comparison_sees_hits() -> None:
    """The property above is not vacuous: on a dense example most aggregate rules fire."""
    rows = [{"account": 1 + i % 3, "day": i % 40, "hour": (i * 5) % 24,
             "amount": [9500.0, 300.0, 1200.0][i % 3], "currency": "USD",
             "channel": CHANNELS[i % 8], "direction": ["in", "out"][i % 2],
             "counterparty": [2, 3, 77, 88, None][i % 5],
             "counterparty_country": COUNTRIES[i % 5], "merchant": MERCHANTS[i % 4],
             "mcc": MCCS[i % 10], "region": REGIONS[i % 6], "purpose": PURPOSES[i % 4],
             "time_known": True} for i in range(400)]
    kyc = [{"customer_type": t, "business_type": "nail_salon", "employees": 5, "opens": 9,
            "closes": 17, "observed": "third_party_present"}
           for t in ("business", "person", "person", "business", "person")]
    rules = _rules(1)
    only = {r.id for r in rules.running if r.kind == "aggregate"}
    con = _connection(kyc, rows, 0)
    quick = detect.run_rules(con, rules, graph_runner=graph.run_graph, only=only)
    reference = detect.run_rules(con, rules, graph_runner=graph.run_graph, only=only,
                                 reference=True)
    assert quick.hits == reference.hits
    assert len({h.rule_id for h in quick.hits}) >= len(only) // 2
    assert any("distinct_counterparty" in h.figures for h in quick.hits)  # distinct: fired
    assert any("distinct_region" in h.figures for h in quick.hits)
    con = _connection(kyc, rows, 0, chunk=33)
    with _other_paths():
        assert detect.run_rules(con, rules, graph_runner=graph.run_graph,
                                only=only).hits == reference.hits


def test_duplicate_kyc_rows_take_the_reference_path() -> None:
    con = duckdb.connect()
    accounts = pa.Table.from_pylist([{"account": 1, "party": 1}, {"account": 1, "party": 2}],
                                    schema=_schema(ACCOUNT_COLUMNS))
    tx = pa.Table.from_pylist([{"txn_id": "a", "booked_at": START, "account": 1,
                                "amount": 1.0}], schema=_schema(ANALYTIC_COLUMNS))
    detect.load_frames(con, tx, accounts, pa.Table.from_pylist(
        [], schema=_schema(IDENTIFIER_COLUMNS)))
    assert fast.frames_for(con) is None
