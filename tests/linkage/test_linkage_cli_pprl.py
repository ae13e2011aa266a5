"""PPRL through the CLI: keygen at one agency, encode at two, match at the linkage unit."""

from __future__ import annotations

import base64
import csv
import json
import os
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from ctip.cli import app

DEMO = Path(__file__).resolve().parents[2] / "src" / "ctip" / "demo_data" / "files"


def test_keygen_encode_match_and_estimate(tmp_path: Path, ctip_home: Path) -> None:
    runner = CliRunner()
    key = tmp_path / "linkage.key"
    done = runner.invoke(app, ["link", "keygen", "--out", str(key)])
    assert done.exit_code == 0, done.output
    assert oct(os.stat(key).st_mode & 0o777) == "0o600"
    assert runner.invoke(app, ["link", "keygen", "--out", str(key)]).exit_code != 0  # no overwrite

    outputs = []
    for name in ("police-national", "ngo-safehouse"):
        out = tmp_path / f"{name}.clk.json"
        done = runner.invoke(
            app,
            [
                "link",
                "encode",
                str(DEMO / f"{name}.csv"),
                "--agency",
                name,
                "--key-file",
                str(key),
                "--out",
                str(out),
                "--json",
            ],
        )
        assert done.exit_code == 0, done.output
        report = json.loads(done.output)
        assert report["encoded"] > 100
        outputs.append(out)
        # what leaves the agency: record ids, base64 bit vectors, bucket numbers; no name
        doc = json.loads(out.read_text(encoding="utf-8"))
        assert {k for r in doc["records"] for k in r} == {"id", "clk", "blocks"}
        assert all(len(base64.b64decode(r["clk"], validate=True)) == 128 for r in doc["records"])
        clear = json.dumps({**doc, "records": [r["id"] for r in doc["records"]]}).lower()
        with (DEMO / f"{name}.csv").open(encoding="utf-8-sig") as handle:
            families = {
                r["family_name"].lower()
                for r in csv.DictReader(handle)
                if len(r["family_name"] or "") > 3
            }
        assert families and not any(f in clear for f in families)

    hist = tmp_path / "histories.csv"
    done = runner.invoke(
        app, ["link", "match", *map(str, outputs), "--histories", str(hist), "--json"]
    )
    assert done.exit_code == 0, done.output
    result = json.loads(done.output)
    table = pd.read_csv(hist, encoding="utf-8-sig")
    assert list(table.columns) == ["police-national", "ngo-safehouse", "count"]
    assert table["count"].sum() == result["people"] < result["records"]
    both = table[(table["police-national"] == 1) & (table["ngo-safehouse"] == 1)]["count"].sum()
    assert both > 0  # the demo lists overlap
    done = runner.invoke(app, ["estimate", str(hist), "--method", "main", "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["observed"] == table["count"].sum()


def test_match_refuses_files_made_with_different_keys(tmp_path: Path, ctip_home: Path) -> None:
    runner = CliRunner()
    files = []
    for name in ("police-national", "ngo-safehouse"):
        key = tmp_path / f"{name}.key"
        runner.invoke(app, ["link", "keygen", "--out", str(key)])
        out = tmp_path / f"{name}.clk.json"
        done = runner.invoke(
            app,
            [
                "link",
                "encode",
                str(DEMO / f"{name}.csv"),
                "--agency",
                name,
                "--key-file",
                str(key),
                "--out",
                str(out),
            ],
        )
        assert done.exit_code == 0, done.output
        files.append(str(out))
    done = runner.invoke(app, ["link", "match", *files])
    assert done.exit_code != 0
    assert "different secrets" in str(done.exception) + done.output
