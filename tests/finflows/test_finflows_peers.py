"""The peer rules (F14-05, T20-FC) with their sums grouped in numpy (finflows/peers.py) give
the hits of the reference query, which joins the accounts to every transaction before grouping:
random frames with NULL amounts and currencies, accounts without KYC rows, thresholds lowered so
that the rules fire."""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_finflows_fast import BUSINESS, _connection, account_kyc, transaction

from ctip.finflows import detect, fast, graph
from ctip.finflows.rules import parse_rules, shipped_rules_bytes

PEER_RULES = {"F14-05", "T20-FC"}


def _rules(low: int, ratio: float) -> Any:
    data = yaml.safe_load(shipped_rules_bytes())
    for rule in data["rules"]:
        if rule["id"] in PEER_RULES:
            t = rule["thresholds"]
            t.update(min_peers=low, min_windows=low, min_employees=low)
            for name in ("min_denominator", "min_numerator"):
                if name in t:
                    t[name] = 100 * low
            for name in ("max_ratio_to_peer", "min_ratio_to_peer"):
                if name in t:
                    t[name] = ratio
            if rule["id"] == "T20-FC":  # the test's business types
                rule["scope"]["business_type_in"] = BUSINESS[:3]
    return parse_rules(yaml.safe_dump(data).encode())


def _run(con: Any, rules: Any, reference: bool) -> list[detect.Hit]:
    result = detect.run_rules(con, rules, graph_runner=graph.run_graph, only=PEER_RULES,
                              reference=reference)
    return result.hits


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kyc=st.lists(account_kyc, min_size=5, max_size=5),
       rows=st.lists(transaction, min_size=1, max_size=160),
       missing_kyc=st.sampled_from([0, 3]), low=st.integers(1, 2),
       ratio=st.sampled_from([0.5, 1.0, 1.5]), chunk=st.sampled_from([None, 7]))
def test_peer_rules_equal_the_reference_path(kyc: list[dict[str, Any]],
                                            rows: list[dict[str, Any]], missing_kyc: int,
                                            low: int, ratio: float,
                                            chunk: int | None) -> None:
    rules = _rules(low, ratio)
    con = _connection(kyc, rows, missing_kyc, chunk)
    assert fast.frames_for(con) is not None
    assert _run(con, rules, False) == _run(con, rules, True)


def test_the_comparison_sees_peer_hits() -> None:
    """Not vacuous: on a dense example both peer rules fire, and they take the shared sums."""
    rows = []
    for i in range(300):
        account = 1 + i % 5
        rows.append({"account": account, "day": i % 60, "hour": 10,
                     "amount": float(100 + 500 * (account == 2) + i % 7), "currency": "USD",
                     "channel": "wire" if i % 2 else "cash", "direction": ["in", "out"][i % 2],
                     "purpose": "SALA" if i % 4 == 1 else None, "time_known": True})
    kyc = [{"customer_type": "business", "business_type": BUSINESS[0], "employees": 5,
            "opens": 9, "closes": 17, "observed": None} for _ in range(5)]
    rules = _rules(2, 1.0)
    con = _connection(kyc, rows, 0)
    detect.prepare(con, rules)
    frames = fast.frames_for(con)
    compiler = detect.Compiler(rules)
    shared = detect.peer_sums(con, compiler, frames,
                              [r for r in rules.running if r.id in PEER_RULES])
    assert set(shared) == PEER_RULES
    quick = _run(con, rules, False)
    assert quick == _run(con, rules, True)
    assert {h.rule_id for h in quick} == PEER_RULES
