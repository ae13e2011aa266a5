"""The financial-flow use cases on SQLite and PostgreSQL: import (CSV with a mapping, camt.053,
KYC), read = accepted + rejected with sealed rejects, no account number or name in clear at
rest, run -> alerts on the review queue, decisions, SAR draft, FtM export, audit."""

from __future__ import annotations

import csv
import json
import secrets
from pathlib import Path

import pytest
import sqlalchemy as sa

from ctip.domain.access import Principal, Role
from ctip.errors import InputFileError, ValidationError
from ctip.finflows import camt053, ftm, synthetic
from ctip.finflows.review import QUEUE_NAME
from ctip.services.finflows import FinFlows
from ctip.storage import finflows as db
from ctip.storage.engine import make_engine, migrate
from ctip.storage.keys import KeyRing
from ctip.storage.rotation import SEALED
from ctip.storage.sealing import Pseudonymiser, Sealer

INV = Principal("u1", "ines", Role.INVESTIGATOR, "FIU")
OTHER = Principal("u2", "bo", Role.INVESTIGATOR, "OTHER")

MAPPING = """kind: transactions
delimiter: ";"
columns: {txn_id: Ref, booked_at: When, amount: Amt, currency: Ccy, direction: DC,
          channel: Type, account: Acct, counterparty_account: CpAcct, counterparty_name: CpName,
          counterparty_country: CpCtry, merchant_name: Merchant, mcc: MCC, location: Branch,
          region: Region, purpose: Purpose}
values: {direction: {C: in, D: out}}
"""
HEADER = ["Ref", "When", "Amt", "Ccy", "DC", "Type", "Acct", "CpAcct", "CpName", "CpCtry",
          "Merchant", "MCC", "Branch", "Region", "Purpose"]
CANON = ["txn_id", "booked_at", "amount", "currency", "direction", "channel", "account",
         "counterparty_account", "counterparty_name", "counterparty_country", "merchant_name",
         "mcc", "location", "region", "purpose"]


@pytest.fixture
def flows(database_url: str):
    engine = make_engine(database_url)
    migrate(engine)
    yield FinFlows(engine, Sealer(KeyRing.generate()), Pseudonymiser(secrets.token_bytes(32)))
    engine.dispose()


def _write_bank(tmp_path: Path, bank: synthetic.Bank) -> tuple[Path, Path, list[dict]]:
    rows = list(bank.canonical_rows())
    tx = tmp_path / "statement.csv"
    with tx.open("w", newline="") as f:
        w = csv.writer(f, delimiter=";")
        w.writerow(HEADER)
        for r in rows:
            w.writerow([{"in": "C", "out": "D"}[r["direction"]] if c == "direction" else r[c]
                        for c in CANON])
        w.writerow(["bad-1", "yesterday", "12,x", "USD", "C", "cash", "SY1", "", "", "", "",
                    "", "", "", ""])
        w.writerow(["short", "2024-01-01"])
    parties = tmp_path / "kyc.csv"
    prows = list(bank.party_rows())
    with parties.open("w", newline="") as f:
        w2 = csv.DictWriter(f, fieldnames=list(prows[0]))
        w2.writeheader()
        w2.writerows(prows)
    return tx, parties, rows


def test_import_run_review_export(flows: FinFlows, tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("ctip.services.finflows.IMPORT_CHUNK", 5000)  # several chunks a file
    bank = synthetic.generate(300, seed=4, instances=3, months=3)
    tx, parties, rows = _write_bank(tmp_path, bank)
    mapping = tmp_path / "bank.yaml"
    mapping.write_text(MAPPING)
    report = flows.import_file(tx, agency="FIU", actor="t", mapping=mapping)
    assert report.read == len(rows) + 2 == report.accepted + report.rejected
    assert report.rejected == 2
    reasons = " ".join(r for rej in report.rejects for r in rej["reasons"])
    assert "row" in reasons and "booked_at" in reasons and "cells" in reasons
    again = flows.import_file(tx, agency="FIU", actor="t", mapping=mapping)
    assert again.accepted == 0 and again.rejected == again.read  # already imported, kept
    kyc = flows.import_file(parties, agency="FIU", actor="t", kind="parties")
    assert kyc.accepted == 300 and kyc.rejected == 0

    with flows.engine.connect() as conn:
        stored = conn.execute(sa.select(db.ff_rejects.c.sealed)).scalars().all()
        dump = " ".join(str(r) for t in (db.ff_transactions, db.ff_accounts, db.ff_parties,
                                         db.ff_rejects, db.ff_identifiers)
                        for r in conn.execute(sa.select(t)).all())
    assert len(stored) == 2 + again.rejected
    some = [r["account"] for r in rows[:50]] + [bank.name(i) for i in range(20)]
    assert not [s for s in some if s in dump], "account numbers or names in clear"
    for column in db.SEALED_COLUMNS:
        assert column.label in SEALED

    run = flows.run("FIU", actor="t", lists={})
    assert run.transactions == len(rows) and run.alerts and run.enqueued == len(run.alerts)
    assert set(run.not_assessed) == {"F14-04", "F20-06", "F20-08"}  # user lists not given
    rerun = flows.run("FIU", actor="t")
    assert rerun.enqueued == 0 and rerun.new_alerts == 0  # same alerts, nothing new queued

    items = flows.queues.items(INV, QUEUE_NAME, limit=1000)
    assert len(items) == len(run.alerts) and flows.queues.items(OTHER, QUEUE_NAME) == []
    top = items[0]
    reason = top.reasons[0]
    assert {"rule_version", "window", "source", "mark"} <= set(reason.figures)
    assert any(k.startswith("threshold.") for k in reason.figures)
    assert reason.evidence and all(e.startswith("T") for e in reason.evidence)
    text = json.dumps([r.__dict__ for i in items for r in i.reasons], default=str)
    assert not [s for s in some if s in text]
    with pytest.raises(ValidationError, match="reason"):
        flows.queues.decide(INV, top.item_id, "dismiss")
    with pytest.raises(ValidationError, match="accepted"):
        flows.sar_draft(INV, top.item_id)
    flows.queues.decide(INV, top.item_id, "accept")
    draft = flows.sar_draft(INV, top.item_id)
    assert "HUMAN TRAFFICKING FIN-2020-A008" in draft and "identity not opened" in draft
    assert not [s for s in some if s in draft]

    out = tmp_path / "alerts.ftm.json"
    n = flows.export_ftm(INV, out)
    entities = [json.loads(line) for line in out.read_text().splitlines()]
    assert n == len(entities) and ftm.validate(entities) == []
    assert "accountNumber" not in out.read_text()
    with pytest.raises(ValidationError, match="reason"):
        flows.export_ftm(INV, tmp_path / "x.json", identities=True)
    flows.export_ftm(INV, tmp_path / "named.json", identities=True, reason="request 12/2024")
    assert "accountNumber" in (tmp_path / "named.json").read_text()
    csv_out = tmp_path / "alerts.csv"
    flows.export_csv(INV, csv_out)
    assert csv_out.read_text().startswith("alert_id,account_ref,score")

    with flows.engine.connect() as conn:
        actions = [r[0] for r in conn.execute(sa.text("SELECT action FROM audit_log"))]
    for action in ("finflows.import", "finflows.run", "review.enqueue", "review.decide",
                   "finflows.sar", "finflows.export", "finflows.export.identity"):
        assert action in actions, action


def test_camt053_statement_imports_with_rejects_kept(flows: FinFlows, tmp_path: Path) -> None:
    rows = [
        {"txn_id": "E1", "booked_at": "2024-01-05T10:00:00", "amount": "9500.00",
         "currency": "USD", "direction": "in", "channel": "cash"},
        {"txn_id": "E2", "booked_at": "2024-01-06", "amount": "2500.00", "currency": "USD",
         "direction": "in", "channel": "ach", "counterparty_account": "DE89370400440532013000",
         "counterparty_name": "Employer X", "purpose": "SALA"},
        {"txn_id": "E3", "booked_at": "2024-01-07T23:10:00", "amount": "-5", "currency": "USD",
         "direction": "out", "channel": "card", "merchant_name": "HOTEL 1"},
    ]
    data = camt053.write_camt053("S1", "SY0000000001", "USD", rows)
    data = data.replace(b"<Amt Ccy=\"USD\">-5</Amt>", b"<Amt Ccy=\"USD\">five</Amt>")
    path = tmp_path / "statement.xml"
    path.write_bytes(data)
    report = flows.import_file(path, agency="FIU", actor="t")
    assert (report.read, report.accepted, report.rejected) == (3, 2, 1)
    assert "amount" in report.rejects[0]["reasons"][0] and report.rejects[0]["ref"] == "S1:3.1"
    (tmp_path / "bad.xml").write_bytes(b"<Document><oops>")
    with pytest.raises(InputFileError, match="well-formed"):
        flows.import_file(tmp_path / "bad.xml", agency="FIU", actor="t")
    (tmp_path / "bomb.xml").write_bytes(
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa">]><Document>&a;</Document>')
    with pytest.raises(InputFileError):
        flows.import_file(tmp_path / "bomb.xml", agency="FIU", actor="t")
