"""The main job, end to end, as a user runs it: `ctip demo --json` in an empty directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ctip.cli import app
from ctip.demo_data.generate import generate


@pytest.mark.slow  # the whole demo: ~1 min
def test_demo_runs_every_stage_reconciles_and_prints_no_identity(tmp_path, monkeypatch):
    for var in ("CTIP_HOME", "CTIP_DATABASE_URL", "CTIP_KEY_FILE", "CTIP_PSEUDONYM_KEY_FILE"):
        monkeypatch.delenv(var, raising=False)
    out = CliRunner().invoke(app, ["demo", "--dir", str(tmp_path / "d"), "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    rows = generate()
    assert [i["read"] for i in data["imports"]] == [len(r) for r in rows.values()]
    assert all(i["read"] == i["accepted"] + i["rejected"] for i in data["imports"])
    assert len(data["rejects"]) == sum(i["rejected"] for i in data["imports"]) > 0
    assert all(r["reasons"] for r in data["rejects"])
    assert data["summary"]["records"] == sum(i["accepted"] for i in data["imports"])
    check = data["linkage"]["against_ground_truth"]
    # the linkage the demo reports against its own truth (tests/linkage/test_linkage_demo_data.py
    # explains the data); under-linking would inflate the estimate below
    assert 0.9 <= check["precision"] <= 1 and 0.9 <= check["recall"] <= 1, check
    assert abs(data["linkage"]["people"] - check["people_true"]) <= 0.05 * check["people_true"]
    assert data["linkage"]["people"] <= data["summary"]["records"]
    assert (
        data["estimate"]["estimable"]
        and data["estimate"]["estimate"] >= data["estimate"]["observed"]
    )
    others = data["other_estimates"]  # how much the figure depends on the model, shown beside it
    assert [e["method"] for e in others] == ["bic", "aic", "bayesthresh", "lcmcr"]
    assert all(e["estimate"] >= e["observed"] == data["estimate"]["observed"] for e in others)
    assert any(p.endswith("report.html") for p in data["report"])
    finance = data["finance"]  # the finance stage (issue 15)
    assert all(i["read"] == i["accepted"] + i["rejected"] for i in finance["imports"])
    assert finance["alerts"] > 0 and finance["queued"] == finance["alerts"]
    assert finance["not_assessed"] == {}
    assert finance["against_ground_truth"]["recall_any"] >= 0.7
    page = Path(finance["page"]).read_text()
    assert "<svg" in page and "SY0" not in page and "SY0" not in out.stdout
    supply = data["supply"]  # the supply-chain stage (issue 18)
    assert supply["read"] == supply["accepted"] + supply["rejected"] and supply["rejected"] > 0
    assert supply["queued"] > 0 and all(v for v in supply["lists"].values())
    assert "not an allegation" in Path(supply["report"]["by_supplier"]).read_text()
    evidence = data["evidence"]  # one file kept, exported, the bundle verified
    assert evidence["verified"] and evidence["events"] == 2  # ingest, export
    names = {r["family_name"] for rs in rows.values() for r in rs if len(r["family_name"]) > 5}
    assert not [n for n in names if n in out.stdout]

    again = CliRunner().invoke(app, ["demo", "--dir", str(tmp_path / "d"), "--json"])
    assert again.exit_code == 0, again.output
    assert all(i["new"] == 0 for i in json.loads(again.stdout)["imports"])
    finance_again = json.loads(again.stdout)["finance"]
    assert all(i["accepted"] == 0 for i in finance_again["imports"][:2])  # nothing new
    assert finance_again["queued"] == 0
    assert json.loads(again.stdout)["supply"]["queued"] == 0  # the same hits are not queued twice
