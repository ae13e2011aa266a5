"""`ctip ads ...` as a user runs it: screen a file and a folder of saved pages, review, decide,
clusters, export, train, models and evaluate."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from ctip.ads.synthetic import rows
from ctip.cli import app


def _init(home: Path) -> None:
    from ctip.services.home import init_home
    from ctip.settings import Settings

    init_home(Settings(home=home))


def _csv(path: Path, n: int, seed: int) -> Path:
    data = list(rows(n, seed=seed))
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(data[0]))
        writer.writeheader()
        writer.writerows(data)
    return path


def _json(result):  # type: ignore[no-untyped-def]
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout[result.stdout.index(next(c for c in result.stdout
                                                            if c in "[{")):])


def test_screen_review_decide_clusters_export(ctip_home: Path, tmp_path: Path) -> None:
    _init(ctip_home)
    runner = CliRunner()
    file = _csv(tmp_path / "ads.csv", 200, 4)
    screened = _json(runner.invoke(app, ["ads", "screen", str(file), "--agency", "NGO", "--json"]))
    assert screened["read"] == 200 == screened["accepted"] + screened["rejected"]
    assert screened["queued"] > 0 and screened["score_kind"] == "indicators"
    text = runner.invoke(app, ["ads", "screen", str(file), "--agency", "NGO"])
    assert text.exit_code == 0 and "200 already screened" in " ".join(text.output.split())
    queue = _json(runner.invoke(app, ["ads", "review", "--agency", "NGO", "--json"]))
    item = queue[0]["item_id"]
    shown = runner.invoke(app, ["ads", "review", item, "--agency", "NGO"])
    assert shown.exit_code == 0 and "hypotheses" in shown.output
    done = runner.invoke(app, ["ads", "decide", item, "risky", "--agency", "NGO"])
    assert done.exit_code == 0 and "risky" in done.output
    clusters = _json(runner.invoke(app, ["ads", "clusters", "--agency", "NGO", "--json"]))
    assert clusters and clusters[0]["size"] >= 2
    out = tmp_path / "out.ftm"
    exported = runner.invoke(app, ["ads", "export", str(out), "--agency", "NGO",
                                   "--format", "ftm"])
    assert exported.exit_code == 0 and "Wrote 1 ads" in exported.output
    assert any(json.loads(line)["schema"] == "Document" for line in out.read_text().splitlines())
    assert _json(runner.invoke(app, ["ads", "review", "--agency", "Other", "--json"])) == []


def test_screen_a_folder_of_saved_pages(ctip_home: Path, tmp_path: Path) -> None:
    _init(ctip_home)
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "1.html").write_text("<html><body><main><h1>Chat Support in Bavet</h1><p>Earn "
                                  "$3,000/month, no experience needed, free flight. "
                                  "Telegram: @bavet_jobs</p></main></body></html>")
    (pages / "2.html").write_text("<html><body></body></html>")
    result = _json(CliRunner().invoke(app, ["ads", "screen", str(pages), "--agency", "NGO",
                                            "--json"]))
    assert result["profile"] == "html" and (result["accepted"], result["rejected"]) == (1, 1)
    assert {"R01", "R02", "R03", "R04", "R05", "R07"} <= set(result["by_indicator"])


def test_train_models_and_evaluate(ctip_home: Path, tmp_path: Path) -> None:
    _init(ctip_home)
    runner = CliRunner()
    file = _csv(tmp_path / "labelled.csv", 300, 8)
    figures = _json(runner.invoke(app, ["ads", "evaluate", str(file), "--folds", "3", "--json"]))
    assert figures["ads"] == 300 and figures["folds"] == 3 and "per_indicator" in figures
    trained = runner.invoke(app, ["ads", "train", str(file), "--agency", "NGO"])
    assert trained.exit_code == 0 and "grouped by company" in trained.output
    (model,) = _json(runner.invoke(app, ["ads", "models", "--agency", "NGO", "--json"]))
    assert model["active"] and model["ads"] == 300


def test_errors_are_messages_not_tracebacks(ctip_home: Path, tmp_path: Path) -> None:
    _init(ctip_home)
    done = subprocess.run([sys.executable, "-m", "ctip", "ads", "screen",
                           str(tmp_path / "missing.csv"), "--agency", "NGO"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 4 and "no such file" in " ".join(done.stderr.split())
    assert "Traceback" not in done.stderr
