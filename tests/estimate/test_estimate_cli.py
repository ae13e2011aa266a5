"""``ctip estimate FILE``: JSON fields, strata with estimable=false rows, XLSX, clear errors."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from ctip.cli import app
from ctip.errors import CtipError

runner = CliRunner()
FIELDS = {
    "observed",
    "estimate",
    "hidden",
    "ci_low",
    "ci_high",
    "interval",
    "method",
    "model",
    "lists",
    "estimable",
}


def _write(tmp_path, rows, name="lists.csv"):
    path = tmp_path / name
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


KOREA_LIKE = [
    {"A": 1, "B": 0, "C": 0, "count": 60},
    {"A": 0, "B": 1, "C": 0, "count": 45},
    {"A": 0, "B": 0, "C": 1, "count": 50},
    {"A": 1, "B": 1, "C": 0, "count": 15},
    {"A": 1, "B": 0, "C": 1, "count": 14},
    {"A": 0, "B": 1, "C": 1, "count": 11},
    {"A": 1, "B": 1, "C": 1, "count": 4},
]


def test_json_has_the_issue_fields(tmp_path):
    path = _write(tmp_path, KOREA_LIKE)
    result = runner.invoke(app, ["estimate", str(path), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) >= FIELDS
    assert data["observed"] == 199
    assert data["lists"] == ["A", "B", "C"]
    assert data["estimable"] is True
    assert data["ci_low"] <= data["estimate"] <= data["ci_high"]
    assert data["hidden"] == round(data["estimate"] - 199, 1)


def test_bootstrap_and_methods(tmp_path):
    path = _write(tmp_path, KOREA_LIKE)
    for args in (
        ["--method", "bic", "--bootstrap", "50", "--seed", "3"],
        ["--method", "main"],
        ["--method", "lcmcr", "--iterations", "300", "--chains", "2"],
        ["--interval", "profile"],
    ):
        result = runner.invoke(app, ["estimate", str(path), "--json", *args])
        assert result.exit_code == 0, result.output
        data = json.loads(result.output)
        assert data["estimable"] and data["method"] == (
            args[1] if args[0] == "--method" else "stepwise"
        )


def test_strata_give_one_row_each_plus_total_and_never_raise(tmp_path):
    rows = [{**r, "sex": "female"} for r in KOREA_LIKE]
    rows += [
        {"A": 1, "B": 0, "C": 0, "sex": "male", "count": 3},
        {"A": 0, "B": 1, "C": 0, "sex": "male", "count": 2},
    ]  # no overlap: not estimable
    path = _write(tmp_path, rows)
    result = runner.invoke(app, ["estimate", str(path), "--strata", "sex", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [d["stratum"]["sex"] for d in data] == ["female", "male", "total"]
    assert data[0]["estimable"] and not data[1]["estimable"]
    assert "overlap" in data[1]["reason"]
    assert data[2]["observed"] == 204
    table = runner.invoke(app, ["estimate", str(path), "--strata", "sex"])
    assert table.exit_code == 0 and "not estimable" in table.output


def test_xlsx_and_one_row_per_person(tmp_path):
    from ctip.ingest.writers import write_xlsx

    people = (
        [[1, 0, 0]] * 30
        + [[0, 1, 0]] * 25
        + [[0, 0, 1]] * 20
        + [[1, 1, 0]] * 8
        + [[0, 1, 1]] * 6
        + [[1, 0, 1]] * 5
    )
    path = tmp_path / "people.xlsx"
    write_xlsx(path, {"lists": (["police", "ngo", "labour"], people)})
    result = runner.invoke(app, ["estimate", str(path), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["observed"] == 94 and data["lists"] == ["police", "ngo", "labour"]


def test_bad_cell_names_file_row_and_column(tmp_path):
    rows = [dict(r) for r in KOREA_LIKE]
    rows[2]["B"] = 2
    path = _write(tmp_path, rows)
    result = runner.invoke(app, ["estimate", str(path)])
    assert result.exit_code != 0
    message = str(result.exception) + result.output
    assert "lists.csv" in message and "row 4" in message and "'B'" in message


def test_models_table(tmp_path):
    path = _write(tmp_path, KOREA_LIKE)
    result = runner.invoke(app, ["estimate", str(path), "--models", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert len(data["models"]) == 8 and data["result"]["estimable"]


def test_estimate_histories_from_linkage_frame():
    from ctip.services.estimation import estimate_histories

    frame = pd.DataFrame([{**r, "sex": s} for r in KOREA_LIKE for s in ("female",)])
    one = estimate_histories(frame.drop(columns=["sex"]))
    assert one.estimable and one.lists == ["A", "B", "C"]
    rows = estimate_histories(frame, strata=["sex"])
    assert [r.stratum["sex"] for r in rows] == ["female", "total"]
    assert rows[0].estimate == pytest.approx(one.estimate)


def test_new_methods_and_options(tmp_path):
    path = _write(tmp_path, KOREA_LIKE)
    for args, method in (
        (["--method", "dga"], "dga"),
        (["--method", "dga", "--prior", "lognormal:300:0.5", "--delta", "0.25"], "dga"),
        (["--method", "homeoffice"], "homeoffice"),
        (["--method", "bic", "--maxorder", "2"], "bic"),
        (["--method", "bayesthresh", "--threshold", "1.5"], "bayesthresh"),
        (["--model", "A:B,B:C"], "fixed"),
        (["--method", "lcmcr"], "lcmcr"),  # until converged
    ):
        result = runner.invoke(app, ["estimate", str(path), "--json", *args])
        assert result.exit_code == 0, result.output
        data = json.loads(result.output)
        assert data["estimable"] and data["method"] == method, data
    data = json.loads(
        runner.invoke(app, ["estimate", str(path), "--json", "--model", "a:b"]).output
    )
    assert data["model"] == ["A:B"]
    lcmcr = json.loads(
        runner.invoke(app, ["estimate", str(path), "--json", "--method", "lcmcr"]).output
    )
    assert lcmcr["details"]["converged"] and lcmcr["details"]["rhat"] < 1.01


def test_dga_prints_its_top_graphs_and_bad_options_are_clear(tmp_path):
    path = _write(tmp_path, KOREA_LIKE)
    result = runner.invoke(app, ["estimate", str(path), "--method", "dga"])
    assert result.exit_code == 0, result.output
    assert "Most probable graphs" in result.output
    bad = runner.invoke(app, ["estimate", str(path), "--method", "dga", "--prior", "beta"])
    assert bad.exit_code != 0 and "prior" in str(bad.exception) + bad.output
    assert isinstance(bad.exception, CtipError)  # the CLI's handler prints it, no traceback
    unknown = runner.invoke(app, ["estimate", str(path), "--model", "A:Z"])
    assert unknown.exit_code != 0 and isinstance(unknown.exception, CtipError)
    assert "unknown list" in str(unknown.exception)
