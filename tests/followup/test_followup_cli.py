"""``ctip followup`` end to end, as a user runs it: a cycle, evidence, review, score --explain,
verify, the report (offline HTML, JSON, SDMX-CSV), and the GSI reproduction."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ctip.cli import app
from ctip.errors import PermissionDeniedError, ValidationError

runner = CliRunner()


def ctip(*args: str) -> str:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_a_cycle_from_evidence_to_report(ctip_home: Path, tmp_path: Path) -> None:
    ctip("init")
    ctip("followup", "cycle", "new", "ALB", "--start", "2025-01-01", "--end", "2028-12-31",
         "--by", "cora")
    out = ctip("followup", "evidence", "add", "--cycle", "ALB-2025-2028", "--indicator",
               "ASSIST-SHARE", "--value", "93", "--citation", "NRM table 3", "--as-of",
               "2025-06-30", "--grade", "A2", "--by", "cora")
    eid = re.search(r"[0-9a-f-]{36}", out).group(0)
    refused = runner.invoke(app, ["followup", "evidence", "review", eid, "--accept", "--by",
                                  "cora"])
    # four eyes: not your own entry (main() turns this into exit code 6)
    assert isinstance(refused.exception, PermissionDeniedError)
    ctip("followup", "evidence", "review", eid, "--accept", "--by", "rita")
    explained = ctip("followup", "score", "--cycle", "ALB-2025-2028", "--explain")
    assert "ASSIST-SHARE=93 met" in explained and "overall" in explained
    data = json.loads(ctip("followup", "score", "--cycle", "ALB-2025-2028", "--json"))
    assert data["indicators"]["ASSIST-SHARE"]["status"] == "met"
    assert "identical" in ctip("followup", "verify", "--cycle", "ALB-2025-2028")
    out_dir = tmp_path / "report"
    ctip("followup", "report", "--cycle", "ALB-2025-2028", "--out", str(out_dir),
         "--measure", "NRM reform", "--start", "2025-01-01")
    html = (out_dir / "progress_report.html").read_text(encoding="utf-8")
    assert "<svg" in html and "<script" not in html and "no evidence" in html
    assert json.loads((out_dir / "assessment.json").read_text())["inputs_sha256"]
    sdmx = (out_dir / "indicators.sdmx.csv").read_text(encoding="utf-8-sig").splitlines()
    assert sdmx[0].startswith("STRUCTURE,STRUCTURE_ID") and ",ASSIST-SHARE,2025,93,PT," in sdmx[1]
    bad = runner.invoke(app, ["followup", "evidence", "add", "--cycle", "ALB-2025-2028",
                              "--indicator", "NAP", "--value", "perhaps", "--citation", "x"])
    assert isinstance(bad.exception, ValidationError) and "yes/no" in str(bad.exception)


@pytest.mark.shared_data
def test_gsi_reproduction_command(shared_data: Path) -> None:
    folder = str(shared_data / "gsi-2023-govt-response")
    out = ctip("followup", "gsi", "--data", folder, "--no-recode")
    assert "7,386 of 7,392" in out and "174 of 176" in out and "Kosovo, Taiwan" in out
    data = json.loads(ctip("followup", "gsi", "--data", folder, "--json"))
    assert data["reproduction"]["activities_matched"] == 7392


@pytest.mark.shared_data
def test_treaty_loader_agrees_with_the_gsi_flags(ctip_home: Path, shared_data: Path) -> None:
    ctip("init")
    out = ctip("followup", "treaties", "load", str(shared_data / "treaty-status-gsi-2022"),
               "--gsi")
    assert "read 176, accepted 176, rejected 0" in out
    listed = ctip("followup", "treaties", "list", "--treaty", "XVIII-12-a")
    assert "164 parties to XVIII-12-a" in listed
