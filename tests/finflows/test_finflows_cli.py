"""`ctip finflows import|run|alerts|review|export` run as a user would, on real-shaped files
(a bank CSV with its mapping file, a camt.053 statement and a KYC file)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from typer.testing import CliRunner

from ctip.cli import app
from ctip.errors import InputFileError, ValidationError
from ctip.finflows import camt053, synthetic


def _setup(home: Path) -> None:
    from ctip.services.home import init_home
    from ctip.settings import Settings

    init_home(Settings(home=home))
    result = CliRunner().invoke(app, ["users", "add", "ines", "--role", "investigator",
                                      "--agency", "FIU", "--json"],
                                input="a long enough password\na long enough password\n")
    assert result.exit_code == 0, result.output


def test_finflows_commands_end_to_end(ctip_home: Path, tmp_path: Path) -> None:
    _setup(ctip_home)
    bank = synthetic.generate(250, seed=8, instances=3, months=3)
    rows = list(bank.canonical_rows())
    first = bank.account_number(0)
    camt_rows = [r for r in rows if r["account"] == first]
    csv_rows = [r for r in rows if r["account"] != first]
    tx = tmp_path / "bank.csv"
    with tx.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["Ref", *[k for k in rows[0] if k != "txn_id"]])
        w.writeheader()
        for r in csv_rows:
            w.writerow({"Ref": r["txn_id"], **{k: v for k, v in r.items() if k != "txn_id"}})
    mapping = tmp_path / "bank.yaml"
    mapping.write_text("kind: transactions\ncolumns:\n  txn_id: Ref\n" + "".join(
        f"  {k}: {k}\n" for k in rows[0] if k != "txn_id"))
    statement = tmp_path / "statement.xml"
    statement.write_bytes(camt053.write_camt053("ST-1", first, "USD", camt_rows))
    kyc = tmp_path / "kyc.csv"
    prows = list(bank.party_rows())
    with kyc.open("w", newline="") as f:
        w2 = csv.DictWriter(f, fieldnames=list(prows[0]))
        w2.writeheader()
        w2.writerows(prows)
    runner = CliRunner()

    def ok(*args: str) -> str:
        result = runner.invoke(app, list(args))
        assert result.exit_code == 0, result.output
        return result.output

    out = json.loads(ok("finflows", "import", str(tx), "--agency", "FIU", "--mapping",
                        str(mapping), "--json"))
    assert out[0]["read"] == out[0]["accepted"] == len(csv_rows)
    out = json.loads(ok("finflows", "import", str(statement), "--agency", "FIU", "--json"))
    assert out[0]["format"] == "camt053" and out[0]["accepted"] == len(camt_rows)
    ok("finflows", "import", str(kyc), "--agency", "FIU", "--kind", "parties")
    run = json.loads(ok("finflows", "run", "--agency", "FIU", "--json"))
    assert run["transactions"] == len(rows) and run["alerts"] > 0
    assert run["queued"] == run["alerts"] and "alerts_per_10k_accounts" in run
    alerts = json.loads(ok("finflows", "alerts", "--user", "ines", "--json", "--limit", "500"))
    assert len(alerts) == run["alerts"] and all("account_ref" in a for a in alerts)
    items = json.loads(ok("finflows", "review", "--user", "ines", "--json"))
    item = items[0]["item_id"]
    refused = runner.invoke(app, ["finflows", "review", "--user", "ines", "--item", item,
                                  "--decide", "dismiss"])
    # the root handler (ctip.cli.main) prints CtipErrors; CliRunner hands them back
    assert isinstance(refused.exception, ValidationError) and "reason" in str(refused.exception)
    sar = tmp_path / "sar.txt"
    shown = json.loads(ok("finflows", "review", "--user", "ines", "--item", item, "--decide",
                          "accept", "--sar", str(sar), "--json"))
    assert shown["decisions"][-1]["decision"] == "accept"
    assert "HUMAN TRAFFICKING FIN-2020-A008" in sar.read_text()
    assert first not in sar.read_text()
    ok("finflows", "export", str(tmp_path / "alerts.ftm.json"), "--user", "ines")
    ok("finflows", "export", str(tmp_path / "alerts.csv"), "--user", "ines")
    ok("finflows", "export", str(tmp_path / "alerts.html"), "--user", "ines")
    page = (tmp_path / "alerts.html").read_text()
    assert "<svg" in page and "unverified paraphrase" in page and first not in page
    assert first not in (tmp_path / "alerts.ftm.json").read_text()
    bad = runner.invoke(app, ["finflows", "import", str(tmp_path / "missing.csv"),
                              "--agency", "FIU"])
    assert isinstance(bad.exception, InputFileError) and bad.exception.exit_code == 4
    assert "cannot be read" in str(bad.exception)
