"""Linkage over the store, end to end: link, review, export, capture histories, `ctip estimate`.

Runs on SQLite and on PostgreSQL. Identity goes in sealed; the run opens it through the audited
``records_for_linkage`` and writes back only ids, clusters and probabilities.
"""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from ctip.cli import app
from ctip.domain.records import Identity, VictimRecord
from ctip.linkage import synthetic
from ctip.linkage.model import ModelOptions
from ctip.services.home import init_home
from ctip.services.linkage import (
    cluster_table,
    histories,
    link_store,
    open_reviews,
    resolve_review,
)
from ctip.settings import Settings
from ctip.storage.linkage import linkage_clusters, linkage_pairs, linkage_runs
from ctip.storage.repository import CaseStore

AGENCY_TYPE = {"police": "police", "ngo": "ngo", "labour": "labour_inspectorate", "shelter": "ngo"}


def _records(n_people: int = 45) -> tuple[list[VictimRecord], pd.DataFrame]:
    frame = synthetic.records(synthetic.people(n_people, seed=11), seed=12)
    out = []
    for row in frame.itertuples():
        out.append(
            VictimRecord(
                source_record_id=row.unique_id,
                agency=row.list,
                agency_type=AGENCY_TYPE[row.list],
                identification_date=date(int(row.reference_year), 6, 1),
                sex=row.sex,
                age_at_identification=None if pd.isna(row.age) else int(row.age),
                citizenships=(row.citizenship,),
                identity=Identity(
                    given_name=row.given_name,
                    family_name=row.family_name,
                    aliases=tuple(row.aliases.split("|")) if row.aliases else (),
                    date_of_birth=row.date_of_birth,
                ),
            )
        )
    return out, frame


def _import_by_agency(store: CaseStore, records: list[VictimRecord]) -> None:
    """One import batch per agency, as `ctip import` of each agency's file makes."""
    for agency in sorted({r.agency for r in records}):
        batch = store.start_batch(
            source_file=f"{agency}.csv", file_sha256=None, profile="canonical", agency=agency
        )
        mine = [r for r in records if r.agency == agency]
        store.add_victims(batch, mine)
        store.finish_batch(batch, read=len(mine), accepted=len(mine), rejected=0)


@pytest.fixture
def settings(tmp_path: Path, ctip_home: Path, database_url: str) -> Settings:
    conf = Settings(home=ctip_home, database_url=database_url)
    init_home(conf)
    return conf


def test_link_store_review_export_and_histories(settings: Settings, tmp_path: Path) -> None:
    records, truth = _records()
    with CaseStore.open(settings, actor="tester") as store:
        _import_by_agency(store, records)

        options = ModelOptions(u_max_pairs=2e5, review_threshold=0.3)
        result = link_store(
            store, actor="tester", reason="test linkage", options=options, strata=("sex",)
        )

        # clusters: one per record, and they recover the synthetic people well
        clusters = result.clusters
        assert len(clusters) == len(records) == result.run.records
        person = dict(zip(truth["unique_id"], truth["person_id"], strict=True))
        clusters["person"] = clusters["source_record_id"].map(person)
        pure = clusters.groupby("cluster_id")["person"].nunique().eq(1).mean()
        assert pure > 0.95
        assert clusters["cluster_id"].nunique() < len(records)  # duplicates were merged
        assert clusters["cluster_id"].nunique() >= truth["person_id"].nunique() * 0.9

        # capture histories count people, one 0/1 column per agency, by sex
        hist = result.histories
        assert list(hist.columns) == ["labour", "ngo", "police", "shelter", "sex", "count"]
        assert hist["count"].sum() == clusters["cluster_id"].nunique()
        assert set(hist["sex"]) <= {"female", "male", "unknown"}

        # nothing identifying was written: no name appears anywhere in the linkage tables
        with store.engine.connect() as conn:
            dumped = json.dumps(
                [
                    list(map(str, r))
                    for t in (linkage_runs, linkage_clusters, linkage_pairs)
                    for r in conn.execute(sa.select(t))
                ]
            ).lower()
            actions = [r.action for r in conn.execute(sa.text("SELECT action FROM audit_log"))]
        for rec in records[:40]:
            assert rec.identity.family_name.lower() not in dumped
        assert "identity.read_for_linkage" in actions and "linkage.run" in actions

        # the review queue: deciding "match" merges two people
        items = open_reviews(store)
        assert len(items) == result.review_count
        if items:
            before = cluster_table(store)["cluster_id"].nunique()
            resolve_review(store, items[0].review_id, "match", actor="reviewer")
            assert cluster_table(store)["cluster_id"].nunique() == before - 1
            assert len(open_reviews(store)) == len(items) - 1
        assert histories(store)["count"].sum() == cluster_table(store)["cluster_id"].nunique()

    # CLI: export and histories, then `ctip estimate` reads the histories file as is
    runner = CliRunner()
    env = {"CTIP_HOME": str(settings.home), "CTIP_DATABASE_URL": settings.resolved_database_url}
    out = tmp_path / "clusters.csv"
    done = runner.invoke(app, ["link", "export", "--out", str(out), "--json"], env=env)
    assert done.exit_code == 0, done.output
    with out.open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(records) and set(rows[0]) == {
        "agency",
        "source_record_id",
        "cluster_id",
    }
    hist_file = tmp_path / "histories.csv"
    done = runner.invoke(app, ["link", "histories", "--out", str(hist_file), "--json"], env=env)
    assert done.exit_code == 0, done.output
    done = runner.invoke(app, ["estimate", str(hist_file), "--method", "main", "--json"], env=env)
    assert done.exit_code == 0, done.output
    estimate = json.loads(done.output)
    observed = pd.read_csv(hist_file, encoding="utf-8-sig")["count"].sum()
    assert estimate["observed"] == observed
    assert estimate["estimate"] >= observed
    # the same table corrected for the run's own estimated linkage errors, uncorrected beside
    done = runner.invoke(app, ["estimate", str(hist_file), "--method", "main", "--linkage-run",
                               "latest", "--json"], env=env)
    assert done.exit_code == 0, done.output
    fixed = json.loads(done.output)
    correction = fixed["details"]["linkage_correction"]
    assert correction["uncorrected"]["estimate"] == pytest.approx(estimate["estimate"], abs=0.05)
    assert correction["observed_people_linked"] == observed
    assert correction["errors"]["scored_pairs"] > 0
    # the pairs kept are those the run scored for review anyway (no extra scoring)
    assert correction["errors"]["pair_probability_floor"] == 0.3  # the run's review threshold
    assert 0 <= correction["errors"]["missed_two_lists"] <= 1
    assert fixed["observed"] <= observed  # missed links split people: the correction rejoins
    done = runner.invoke(app, ["estimate", str(hist_file), "--linkage-run", "latest"], env=env)
    assert done.exit_code == 0, done.output
    assert "Corrected for linkage errors" in done.output
    assert "Without the correction" in done.output
    # `ctip link run --json` makes a new run (one JSON document); `review --json` lists its queue
    done = runner.invoke(app, ["link", "run", "--lists", "agency_type", "--json"], env=env)
    assert done.exit_code == 0, done.output
    summary = json.loads(done.output)
    assert summary["records"] == len(records) and summary["lists_by"] == "agency_type"
    lists_seen = set(summary["capture_histories"][0]) - {"count"}
    assert lists_seen == {"labour_inspectorate", "ngo", "police"}
    done = runner.invoke(app, ["link", "review", "--json"], env=env)
    assert done.exit_code == 0, done.output
    assert len(json.loads(done.output)) == summary["review_pairs"]


def _store_and_link(home: Path, records: list[VictimRecord]) -> pd.DataFrame:
    conf = Settings(home=home)
    init_home(conf)
    with CaseStore.open(conf, actor="tester") as store:
        _import_by_agency(store, records)
        # few random pairs for u, so which pairs are drawn matters
        result = link_store(store, actor="tester", reason="test linkage",
                            options=ModelOptions(u_max_pairs=3e3))
    clusters = result.clusters
    return clusters.assign(record=clusters["agency"] + "/" + clusters["source_record_id"])


def test_the_same_files_imported_twice_link_the_same_way(tmp_path: Path) -> None:
    """Victim ids are random on each import; the run must depend on the records alone."""
    records, _ = _records(n_people=250)
    first = _store_and_link(tmp_path / "a", records)
    second = _store_and_link(tmp_path / "b", records)
    assert set(first["victim_id"]).isdisjoint(second["victim_id"])  # new ids, same records

    def partition(clusters: pd.DataFrame) -> set[frozenset[str]]:
        return {frozenset(g) for _, g in clusters.groupby("cluster_id")["record"]}

    assert partition(first) == partition(second)
