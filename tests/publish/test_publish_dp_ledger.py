"""The DP budget ledger persists across releases (and processes); over budget is refused."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from publish_helpers import victim_records
from typer.testing import CliRunner

from ctip.cli import app
from ctip.errors import DisclosureError, NotFoundError
from ctip.services.home import init_home
from ctip.services.publishing import budgets, declare_budget, release_dp_counts
from ctip.settings import Settings
from ctip.storage import releases as ledger
from ctip.storage.repository import CaseStore


@pytest.fixture
def settings(
    tmp_path: Path, database_url: str, ctip_home: Path, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    home = tmp_path / "home"
    monkeypatch.setenv("CTIP_HOME", str(home))
    monkeypatch.setenv("CTIP_DATABASE_URL", database_url)
    s = Settings(
        home=home,
        database_url=database_url,
        seal_key=None,
        pseudonym_key=None,
        key_file=None,
        pseudonym_key_file=None,
    )
    init_home(s)
    with CaseStore.open(s, actor="tester") as store:
        batch = store.start_batch(
            source_file="a.csv", file_sha256=None, profile="canonical", agency="police"
        )
        store.add_victims(batch, victim_records(300, seed=1))
        store.finish_batch(batch, read=300, accepted=300, rejected=0)
    return s


def test_budget_is_declared_once_spent_across_releases_and_refused_when_exceeded(
    settings, tmp_path
):
    with pytest.raises(NotFoundError, match="no privacy budget"):
        release_dp_counts(
            settings, dataset="v2025", by=["sex"], epsilon=0.1, out=tmp_path / "x.csv"
        )
    declare_budget(settings, dataset="v2025", total_epsilon=1.0, contributions=1)
    declare_budget(settings, dataset="v2025", total_epsilon=1.0, contributions=1)  # same: no-op
    with pytest.raises(DisclosureError, match="it is fixed"):
        declare_budget(settings, dataset="v2025", total_epsilon=5.0)

    runner = CliRunner()
    out = tmp_path / "dp.csv"
    first = runner.invoke(
        app,
        [
            "publish",
            "dp-counts",
            "v2025",
            "--by",
            "sex",
            "--by",
            "age_group",
            "--epsilon",
            "0.6",
            "--out",
            str(out),
            "--json",
        ],
    )
    assert first.exit_code == 0, first.output
    result = json.loads(first.output)
    assert result["remaining_epsilon"] == pytest.approx(0.4)
    with open(out, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 4 * 3  # every public sex x age category
    assert abs(sum(int(r["count"]) for r in rows) - 300) < 12 * 6  # noise scale 1/0.6 per cell

    # a new process sees the spent budget: the ledger is in the database
    second = runner.invoke(
        app,
        [
            "publish",
            "dp-counts",
            "v2025",
            "--by",
            "sex",
            "--epsilon",
            "0.5",
            "--out",
            str(tmp_path / "dp2.csv"),
        ],
    )
    assert second.exit_code != 0
    assert isinstance(second.exception, DisclosureError)  # main() turns it into exit code 9
    assert "exceed the privacy budget" in str(second.exception)
    assert not (tmp_path / "dp2.csv").exists()

    [b] = budgets(settings)
    assert b.spent_epsilon == pytest.approx(0.6) and b.releases == 1
    shown = runner.invoke(app, ["publish", "budget", "--json"])
    assert json.loads(shown.output)[0]["remaining_epsilon"] == pytest.approx(0.4)
    with CaseStore.open(settings) as store, store.engine.connect() as conn:
        actions = [e.action for e in store.audit.entries(conn)]
        recorded = ledger.list_releases(conn, "v2025")
    assert "release.budget_declared" in actions and actions.count("release.dp_counts") == 1
    assert recorded[0].epsilon == pytest.approx(0.6) and recorded[0].parameters["by"] == [
        "sex",
        "age_group",
    ]


def test_dp_counts_need_public_categories(settings, tmp_path):
    declare_budget(settings, dataset="d", total_epsilon=1.0)
    with pytest.raises(DisclosureError, match="years"):
        release_dp_counts(
            settings, dataset="d", by=["identification_year"], epsilon=0.1, out=tmp_path / "y.csv"
        )
    with pytest.raises(DisclosureError, match="no public category list"):
        release_dp_counts(settings, dataset="d", by=["agency"], epsilon=0.1, out=tmp_path / "y.csv")
