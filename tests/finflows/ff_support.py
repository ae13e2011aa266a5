"""Small hand-built frames for rule tests: a transaction list, KYC rows and lists to DuckDB."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import duckdb
import pyarrow as pa

from ctip.finflows import detect, graph
from ctip.finflows.frames import ACCOUNT_COLUMNS, ANALYTIC_COLUMNS, IDENTIFIER_COLUMNS
from ctip.finflows.rules import shipped_rules

START = datetime(2024, 1, 1)


class Frames:
    def __init__(self) -> None:
        self.tx: list[dict[str, Any]] = []
        self.accounts: dict[int, dict[str, Any]] = {}
        self.identifiers: list[dict[str, Any]] = []
        self.lists: dict[str, Any] = {"countries": {"high_risk_countries": ["KP", "IR", "MM"]},
                                      "merchants": {"ad_sites": [
                                          ("nightads-example.invalid", "CY"),
                                          ("localads-example.invalid", "US")]},
                                      "refs": {}, "identifiers": {}}

    def account(self, ref: int, customer_type: str = "person", **kyc: Any) -> Frames:
        self.accounts[ref] = {"account": ref, "party": ref, "customer_type": customer_type,
                              **kyc}
        return self

    def add(self, account: int, day: float, amount: float, channel: str = "card",
            direction: str = "out", hour: float = 12, **extra: Any) -> Frames:
        if account not in self.accounts:
            self.account(account)
        at = START + timedelta(days=day, hours=hour)
        self.tx.append({"txn_id": f"t{len(self.tx) + 1:05d}", "booked_at": at,
                        "time_known": True, "amount": float(amount), "currency": "USD",
                        "channel": channel, "direction": direction, "account": account,
                        **extra})
        return self

    def transfer(self, src: int, dst: int, day: float, amount: float, channel: str = "transfer",
                 hour: float = 12, **extra: Any) -> Frames:
        """A payment between two customers: both statements show it."""
        self.add(src, day, amount, channel, "out", hour, counterparty=dst, **extra)
        self.add(dst, day, amount, channel, "in", hour + 0.001, counterparty=src, **extra)
        return self

    def run(self, rule_id: str) -> list[detect.Hit]:
        con = duckdb.connect()
        tx = pa.Table.from_pylist(
            [{c: row.get(c) for c in ANALYTIC_COLUMNS} for row in self.tx],
            schema=_schema(ANALYTIC_COLUMNS))
        accounts = pa.Table.from_pylist(
            [{c: row.get(c) for c in ACCOUNT_COLUMNS} for row in self.accounts.values()],
            schema=_schema(ACCOUNT_COLUMNS))
        idents = pa.Table.from_pylist(self.identifiers, schema=_schema(IDENTIFIER_COLUMNS))
        detect.load_frames(con, tx, accounts, idents)
        detect.load_lists(con, **self.lists)
        result = detect.run_rules(con, shipped_rules(), graph_runner=graph.run_graph,
                                  only={rule_id})
        assert rule_id not in result.not_assessed, result.not_assessed
        return [h for h in result.hits if h.rule_id == rule_id]


def _schema(columns: dict[str, str]) -> pa.Schema:
    types = {"VARCHAR": pa.string(), "TIMESTAMP": pa.timestamp("us"), "BOOLEAN": pa.bool_(),
             "DOUBLE": pa.float64(), "BIGINT": pa.int64(), "INTEGER": pa.int32()}
    return pa.schema([(c, types[t]) for c, t in columns.items()])


def accounts_hit(hits: list[detect.Hit]) -> set[int]:
    return {h.account for h in hits}
