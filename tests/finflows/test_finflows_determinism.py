"""The same input gives byte-identical alerts, and FtM output that followthemoney validates and
reads back unchanged."""

from __future__ import annotations

import json

import duckdb
from followthemoney import model

from ctip.finflows import detect, ftm, graph, score, synthetic
from ctip.finflows.rules import shipped_rules


def _alerts(seed: int) -> tuple[str, list[score.Alert], synthetic.Bank]:
    rules = shipped_rules()
    bank = synthetic.generate(1200, seed=seed, instances=3)
    con = duckdb.connect()
    detect.load_frames(con, *bank.analytic())
    detect.load_lists(con, **synthetic.lists_for_rules(bank))
    alerts = score.score_accounts(
        detect.run_rules(con, rules, graph_runner=graph.run_graph).hits, rules)
    return score.alerts_csv(alerts), alerts, bank


def test_same_input_gives_byte_identical_alerts() -> None:
    first, alerts, _ = _alerts(5)
    second, _, _ = _alerts(5)
    assert first == second and len(alerts) > 10
    assert first != _alerts(6)[0]


def test_ftm_stream_validates_and_round_trips() -> None:
    _, alerts, bank = _alerts(5)
    tx, _, _ = bank.analytic()
    by_id = {r["txn_id"]: r for r in tx.to_pylist()}
    dicts = [{"alert_id": a.alert_id, "account_ref": a.account, "score": a.score,
              "rules": list(a.rules),
              "hits": [{"rule_id": h.rule_id, "rule_version": h.rule_version,
                        "window_start": h.window_start.isoformat(),
                        "window_end": h.window_end.isoformat(), "figures": h.figures,
                        "evidence": list(h.evidence), "evidence_count": h.evidence_count}
                       for h in a.hits]} for a in alerts[:20]]
    evidence = [{"txn_id": i, "account_ref": by_id[i]["account"],
                 "counterparty_ref": by_id[i]["counterparty"], **by_id[i]}
                for i in sorted({e for a in alerts[:20] for h in a.hits for e in h.evidence})]
    info = {r: ftm.AccountInfo(r, holder=True, customer_type="person")
            for r in {a.account for a in alerts[:20]}}
    entities = ftm.entities(dicts, info, evidence)
    assert ftm.validate(entities) == []
    schemata = {e["schema"] for e in entities}
    assert {"BankAccount", "Payment", "Note", "Ownership"} <= schemata
    text = ftm.to_lines(entities)
    assert text == ftm.to_lines(ftm.entities(dicts, info, evidence))  # byte-stable
    for line in text.splitlines():
        data = json.loads(line)
        proxy = model.get_proxy(data)
        assert proxy.to_dict()["properties"] == data["properties"]
        assert proxy.schema.name == data["schema"]
    flagged = [e for e in entities if e["schema"] == "BankAccount"
               and "crime.traffick.human" in e["properties"].get("topics", [])]
    assert len(flagged) == len(info)
    # no account number or name unless identities were opened
    assert not any("accountNumber" in e["properties"] for e in entities)
