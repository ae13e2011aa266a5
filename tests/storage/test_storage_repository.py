"""CaseStore on SQLite and PostgreSQL: idempotent adds, audited identity reads, rejects, export."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import duckdb
import pytest
from storage_helpers import make_settings, victim

from ctip.domain.analytic import ANALYTIC_COLUMNS, PERPETRATOR_COLUMNS
from ctip.domain.problems import Problem, RejectedRow
from ctip.domain.records import Identity, JusticeStage, Perpetrator
from ctip.errors import ConfigurationError, KeyError_, PermissionDeniedError
from ctip.storage.repository import CaseStore


def _batch(store: CaseStore, name: str = "a.csv") -> str:
    return store.start_batch(source_file=name, file_sha256="00" * 32, profile="canonical",
                             agency="ngo-a")


def _actions(store: CaseStore) -> list[str]:
    with store.engine.connect() as conn:
        return [e.action for e in store.audit.entries(conn)]


def test_add_victims_is_idempotent_and_updates_changed_content(store: CaseStore) -> None:
    records = [victim(i) for i in range(50)]
    first = _batch(store)
    result = store.add_victims(first, records)
    assert (result.new, result.unchanged, result.updated) == (50, 0, 0)
    result = store.add_victims(first, records)
    assert (result.new, result.unchanged, result.updated) == (0, 50, 0)
    assert store.victim_count() == 50

    second = _batch(store, "b.csv")
    changed = [dataclasses.replace(r, age_at_identification=99) if i < 5 else r
               for i, r in enumerate(records)]
    result = store.add_victims(second, changed + [victim(1000)])
    assert (result.new, result.unchanged, result.updated) == (1, 45, 5)
    assert store.victim_count() == 51
    ages = {row["source_record_id"]: row["age"] for row in store.analytic_rows()}
    assert [ages[f"R{i:05d}"] for i in range(6)] == [99] * 5 + [records[5].age_at_identification]

    with store.engine.connect() as conn:
        adds = [e for e in store.audit.entries(conn, action="victims.add")]
    assert [(e.details["new"], e.details["updated"]) for e in adds] == [(50, 0), (1, 5)]
    assert len(adds[1].details["updated_ids"]) == 5


def test_same_key_twice_in_one_call(store: CaseStore) -> None:
    batch = _batch(store)
    result = store.add_victims(batch, [victim(1), victim(1), victim(1, age_at_identification=70)])
    assert (result.new, result.unchanged, result.updated) == (1, 1, 1)
    assert [r["age"] for r in store.analytic_rows()] == [70]


def test_identity_round_trip_is_audited_with_reason(store: CaseStore) -> None:
    batch = _batch(store)
    store.add_victims(batch, [victim(i) for i in range(3)])
    ids = store.victim_ids()
    opened = store.identities(ids[:2], actor="caseworker-7", reason="case review")
    assert {o.given_name for o in opened.values()} <= {f"Zorbanella{i}" for i in range(3)}
    assert len(opened) == 2
    with store.engine.connect() as conn:
        reads = list(store.audit.entries(conn, action="identity.read"))
    assert reads[-1].actor == "caseworker-7"
    assert reads[-1].details == {"victim_ids": ids[:2], "reason": "case review"}
    with pytest.raises(PermissionDeniedError):
        store.identities(ids, actor="x", reason=" ")


def test_records_for_linkage_rebuilds_records(store: CaseStore) -> None:
    batch = _batch(store)
    originals = {r.source_record_id: r for r in (victim(i) for i in range(7))}
    store.add_victims(batch, list(originals.values()))
    got = dict(store.records_for_linkage(actor="linker", reason="MSE run 2024"))
    assert len(got) == 7
    for record in got.values():
        original = originals[record.source_record_id]
        assert record.identity == original.identity
        assert record.exploitation_forms == original.exploitation_forms
        assert record.means_of_control == ()  # known empty stays empty
        assert record.recruiter_relationship is None  # unknown stays unknown
        assert record.consent == original.consent
        assert record.identification_date == original.identification_date
    assert _actions(store).count("identity.read_for_linkage") == 1


def test_pseudonym_links_spelling_variants(store: CaseStore) -> None:
    batch = _batch(store)
    a = victim(1, identity=Identity(given_name="María José", family_name="López",
                                    date_of_birth="1990-02-03"))
    b = victim(2, agency="police", identity=Identity(given_name="LOPEZ", family_name="maria jose",
                                                     date_of_birth="1990-02-03"))
    c = victim(3, identity=Identity(given_name="Maria", family_name="Lopez",
                                    date_of_birth="1990-02-03"))
    d = victim(4, identity=Identity())
    store.add_victims(batch, [a, b, c, d])
    pseudo = {r["source_record_id"]: r["pseudonym"] for r in store.analytic_rows()}
    assert pseudo["R00001"] == pseudo["R00002"]
    assert pseudo["R00001"] != pseudo["R00003"]
    assert pseudo["R00004"] is None


def test_rejects_are_kept_once_with_reasons(store: CaseStore) -> None:
    batch = _batch(store)
    rows = [RejectedRow("a.csv", 7, {"given_name": "Zorbanella", "age": "250"},
                        (Problem("age", "age out of range", "250", "0-120"),)),
            RejectedRow("a.csv", 9, "\x00garbage", (Problem(None, "row could not be split"),))]
    assert store.add_rejects(batch, rows) == 2
    again = _batch(store)
    assert store.add_rejects(again, rows) == 0
    stored = list(store.rejects())
    assert [(r.source_row, r.batch_id) for r in stored] == [(7, batch), (9, batch)]
    assert stored[0].raw == {"given_name": "Zorbanella", "age": "250"}
    assert stored[1].raw == "\x00garbage"
    assert "row 7" in stored[0].reasons[0] and "allowed: 0-120" in stored[0].reasons[0]
    assert list(store.rejects(again)) == []
    assert "rejects.read" in _actions(store)


def test_batches_record_counts(store: CaseStore) -> None:
    batch = _batch(store)
    store.finish_batch(batch, read=10, accepted=8, rejected=2)
    (summary,) = store.batches()
    assert (summary.batch_id, summary.read, summary.accepted, summary.rejected) == (
        batch, 10, 8, 2)
    assert summary.finished_at is not None


def test_perpetrators_idempotent_and_exported_per_stage(store: CaseStore) -> None:
    batch = _batch(store)
    p1 = Perpetrator("P1", "police", sex="male", age=40, citizenships=("ITA",),
                     roles=("recruiter",),
                     stages=(JusticeStage("prosecuted", exploitation_forms=("forced_labour",)),
                             JusticeStage("convicted")),
                     victim_links=(("R00001", "partner"),))
    p2 = Perpetrator("P2", "police")
    assert store.add_perpetrators(batch, [p1, p2]).new == 2
    assert store.add_perpetrators(batch, [p1, p2]).unchanged == 2
    p1b = dataclasses.replace(p1, stages=p1.stages[:1])
    assert store.add_perpetrators(batch, [p1b]).updated == 1
    rows = list(store.perpetrator_rows())
    assert [list(r) for r in rows] == [list(PERPETRATOR_COLUMNS)] * 2
    by_id = {r["perpetrator_id"]: r for r in rows}
    assert by_id["P1"]["stage"] == "prosecuted" and by_id["P1"]["age_group"] == "18+"
    assert by_id["P1"]["exploitation_forms"] == ["forced_labour"]
    assert by_id["P2"]["stage"] is None and by_id["P2"]["citizenship"] == "unknown"


def test_to_duckdb_gives_exactly_the_analytic_schema(store: CaseStore) -> None:
    batch = _batch(store)
    store.add_victims(batch, [victim(i) for i in range(30)])
    store.add_perpetrators(batch, [Perpetrator("P1", "police", stages=(
        JusticeStage("suspected"),))])
    con = duckdb.connect()
    store.to_duckdb(con)
    described = con.execute("DESCRIBE victims").fetchall()
    assert [(r[0], r[1]) for r in described] == list(ANALYTIC_COLUMNS.items())
    described = con.execute("DESCRIBE perpetrators").fetchall()
    assert [(r[0], r[1]) for r in described] == list(PERPETRATOR_COLUMNS.items())
    expected = list(store.analytic_rows())
    got = con.execute("SELECT * FROM victims ORDER BY victim_id").fetchall()
    assert [dict(zip(ANALYTIC_COLUMNS, row, strict=True)) for row in got] == expected
    assert con.execute("SELECT count(*) FROM victims WHERE means_of_control = []").fetchone() == (
        30,)
    assert con.execute("SELECT count(*) FROM victims WHERE recruiter_relationship IS NULL"
                       ).fetchone() == (30,)
    # loading again replaces rather than appends
    store.to_duckdb(con)
    assert con.execute("SELECT count(*) FROM victims").fetchone() == (30,)
    text = json.dumps(con.execute("SELECT * FROM victims").fetchall(), default=str)
    assert "Zorbanella" not in text and "Quistwhorp" not in text


def test_open_without_keys_says_run_init(tmp_path: Path, ctip_home: Path) -> None:
    with pytest.raises(KeyError_, match="ctip init"):
        CaseStore.open(make_settings(tmp_path / "nowhere"))


def test_open_without_home_folder_says_run_init(tmp_path: Path, ctip_home: Path) -> None:
    from ctip.storage.engine import make_engine

    with pytest.raises(ConfigurationError, match="ctip init"):
        make_engine(f"sqlite:///{tmp_path / 'missing' / 'ctip.db'}")


def test_fast_and_plain_export_paths_agree(store: CaseStore) -> None:
    """The ADBC (Arrow straight from the database) path and the SQLAlchemy path give one table."""
    import adbc_driver_postgresql  # noqa: F401 - the fast path must really run on both backends
    import adbc_driver_sqlite  # noqa: F401

    from ctip.storage.export import to_duckdb

    batch = _batch(store)
    records = [victim(i) for i in range(40)]
    records[3] = dataclasses.replace(records[3], identification_date=None, citizenships=None,
                                     age_at_identification=None, consent=None)
    store.add_victims(batch, records)
    store.add_perpetrators(batch, [Perpetrator("P1", "police", stages=(
        JusticeStage("convicted", exploitation_forms=("forced_labour",)),)),
        Perpetrator("P2", "police")])
    tables = {}
    for fast in (False, True):
        con = duckdb.connect()
        to_duckdb(store.engine, con, fast=fast)
        tables[fast] = (con.execute("SELECT * FROM victims ORDER BY victim_id").fetchall(),
                        con.execute("SELECT * FROM perpetrators ORDER BY perpetrator_id, stage"
                                    ).fetchall(),
                        con.execute("DESCRIBE victims").fetchall())
    assert tables[True] == tables[False]
    assert len(tables[True][0]) == 40 and len(tables[True][1]) == 2
