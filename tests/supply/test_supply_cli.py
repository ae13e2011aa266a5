"""`ctip supply ...` as a user runs it: lists, screen, queue, decide, findings, report, check."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from ctip.cli import app
from ctip.errors import InputFileError, ValidationError

LEDGER = ("supplier,country,product,hs_code,value,date\n"
          "Hoshine Silicon Co Ltd,CN,,280461,500,2024-02-01\n"
          "Cocoa Trading,GH,cocoa beans,,12,2024-03-01\n"
          "Bad,FR,toys,,x,2024-01-01\n")


def _json(result):  # type: ignore[no-untyped-def]
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout[result.stdout.index(next(c for c in result.stdout
                                                            if c in "[{")):])


def test_lists_screen_queue_decide_report(ctip_home: Path, tmp_path: Path) -> None:
    from ctip.services.home import init_home
    from ctip.settings import Settings

    init_home(Settings(home=ctip_home))
    run = CliRunner().invoke
    (tmp_path / "p.csv").write_text(LEDGER)
    (tmp_path / "e.csv").write_text('name,country\n"Hoshine Silicon Co., Ltd.",CN\n,\n')
    dol = _json(run(app, ["supply", "lists", "load-dol", "--agency", "A", "--json"]))
    assert dol["version"].startswith("dol-2022:") and dol["entries"] == 467
    ents = _json(run(app, ["supply", "lists", "load-entities", str(tmp_path / "e.csv"),
                           "--label", "UFLPA", "--kind", "uflpa", "--agency", "A", "--json"]))
    assert ents["read"] == 2 and ents["accepted"] == 1 and ents["rejected"] == 1
    shown = _json(run(app, ["supply", "lists", "show", "--agency", "A", "--json"]))
    assert {r["kind"] for r in shown} == {"dol", "entities"}
    screened = _json(run(app, ["supply", "screen", str(tmp_path / "p.csv"), "--agency", "A",
                               "--json"]))
    assert screened["read"] == 3 == screened["accepted"] + screened["rejected"]
    assert "column 'value'" in screened["rejects"][0]["reasons"][0]
    queue = _json(run(app, ["supply", "queue", "--agency", "A", "--json"]))
    assert queue["items"] and all(i["list_version"] for i in queue["items"])
    item = queue["items"][0]["item_id"]
    refused = run(app, ["supply", "decide", item, "escalate", "--agency", "A"])
    # the app raises our error; ctip.cli.main turns it into a message and exit code 4
    assert isinstance(refused.exception, ValidationError) and refused.exception.exit_code == 4
    assert "reason" in str(refused.exception)
    ok = run(app, ["supply", "decide", item, "escalate", "--reason", "UFLPA entity",
                   "--agency", "A"])
    assert ok.exit_code == 0, ok.output
    added = run(app, ["supply", "finding", "add", "--supplier", "Cocoa Trading", "--indicator",
                      "debt_bondage", "--evidence", "said", "--date", "2024-05-01",
                      "--agency", "A"])
    assert added.exit_code == 0, added.output
    profile = _json(run(app, ["supply", "findings", "--agency", "A", "--json"]))["profile"]
    assert profile["debt_bondage"]["said"] == 1 and len(profile) == 11
    out = _json(run(app, ["supply", "report", "--out", str(tmp_path / "r"), "--agency", "A",
                          "--json"]))
    assert Path(out["files"]["xlsx"]).stat().st_size > 0
    missing = run(app, ["supply", "screen", str(tmp_path / "nope.csv"), "--agency", "A"])
    assert isinstance(missing.exception, InputFileError) and "nope.csv" in str(missing.exception)


def test_check_reports_coverage_and_matching(ctip_home: Path) -> None:
    result = _json(CliRunner().invoke(app, ["supply", "check", "--pairs", "200", "--json"]))
    assert result["csv_equals_xml"] is True
    assert result["coverage"]["iso_share"] == 1.0
    assert 0 < result["matching"]["precision"] <= 1 and 0 < result["matching"]["recall"] <= 1
