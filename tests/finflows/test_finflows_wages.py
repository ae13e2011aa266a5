"""The numpy joins (finflows/wages.py) give the reference path's ``ff_wage_out`` and the same
A18-02 (pass-through), T20-EE (collector) and T20-FA (funnel) hits, on random frames with NULL
amounts, directions, purposes and regions, outflows exactly at the lag's end, and lags that are
not whole days."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_finflows_fast import _connection, account_kyc, transaction

from ctip.finflows import detect, fast, graph, wages
from ctip.finflows.rules import parse_rules, shipped_rules_bytes

WAGE_RULES = {"A18-02", "T20-EE"}
JOIN_RULES = WAGE_RULES | {"T20-FA"}


def _rules(lag: float, low: int) -> Any:
    data = yaml.safe_load(shipped_rules_bytes())
    for rule in data["rules"]:
        if rule["id"] in JOIN_RULES:
            rule["thresholds"]["lag_hours"] = lag
            for name in ("min_sources", "min_windows", "min_pairs"):
                if name in rule["thresholds"]:
                    rule["thresholds"][name] = low
    return parse_rules(yaml.safe_dump(data).encode())


def _table(con: Any) -> list[tuple[Any, ...]] | None:
    if not con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'ff_wage_out'"
                       ).fetchall()[0][0]:
        return None  # not assessed (no purpose in the data): no join made
    return sorted(con.execute("SELECT * FROM ff_wage_out").fetchall(), key=repr)


@contextmanager
def _no_day_table() -> Iterator[None]:
    saved = wages.DAY_CELLS
    wages.DAY_CELLS = 0
    try:
        yield
    finally:
        wages.DAY_CELLS = saved


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kyc=st.lists(account_kyc, min_size=5, max_size=5),
       rows=st.lists(transaction, min_size=1, max_size=160),
       lag=st.sampled_from([48.0, 24.0, 1.5, 0.25, 100.0]), low=st.integers(1, 3),
       chunk=st.sampled_from([None, 7]), no_day_table=st.booleans())
def test_wage_join_equals_the_reference_path(kyc: list[dict[str, Any]],
                                            rows: list[dict[str, Any]], lag: float, low: int,
                                            chunk: int | None, no_day_table: bool) -> None:
    rules = _rules(lag, low)
    con = _connection(kyc, rows, 0, chunk)
    assert fast.frames_for(con) is not None
    with _no_day_table() if no_day_table else nullcontext():
        quick = detect.run_rules(con, rules, graph_runner=graph.run_graph, only=JOIN_RULES)
    quick_table = _table(con)
    reference = detect.run_rules(con, rules, graph_runner=graph.run_graph, only=JOIN_RULES,
                                 reference=True)
    assert quick_table == _table(con)
    assert quick.hits == reference.hits


def test_the_comparison_sees_wages_passed_on() -> None:
    """Not vacuous: wages passed on to one collector by three accounts fire both wage rules;
    cash deposited in one region and withdrawn in another fires the funnel rule."""
    rows: list[dict[str, Any]] = []
    for account in (1, 2, 3):
        for day in (3, 33):
            rows.append({"account": account, "day": day, "hour": 9, "amount": 1000.0,
                         "currency": "USD", "direction": "in", "purpose": "SALA",
                         "counterparty": 77, "time_known": True})
            rows.append({"account": account, "day": day + 2, "hour": 8, "amount": 900.0,
                         "currency": "USD", "direction": "out", "counterparty": 4,
                         "time_known": True})
    for day in (40, 41):
        rows.append({"account": 5, "day": day, "hour": 9, "amount": 9000.0, "currency": "USD",
                     "channel": "cash", "direction": "in", "region": "north"})
        rows.append({"account": 5, "day": day, "hour": 15, "amount": 8000.0, "currency": "USD",
                     "channel": "cash", "direction": "out", "region": "south"})
    kyc = [{"customer_type": "person"}] * 5
    rules = _rules(48.0, 2)
    con = _connection(kyc, rows, 0)
    made = wages.wage_events(fast.frames_for(con), detect.lag_microseconds(con, 48.0))
    assert made is not None and made.num_rows == 6  # the fast path makes the pairs
    pairs = wages.funnel_pairs(fast.frames_for(con), detect.lag_microseconds(con, 48.0),
                               10000.0, "USD")
    assert pairs is not None and pairs.num_rows == 3  # day 40's deposit meets both
    quick = detect.run_rules(con, rules, graph_runner=graph.run_graph, only=JOIN_RULES)
    reference = detect.run_rules(con, rules, graph_runner=graph.run_graph, only=JOIN_RULES,
                                 reference=True)
    assert quick.hits == reference.hits
    assert {h.rule_id for h in quick.hits} == JOIN_RULES
