"""Worker processes change how fast an import runs, never what it stores or reports."""

from __future__ import annotations

import csv
import pickle
import random
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from ctip.errors import InputFileError
from ctip.ingest.profiles.canonical import COLUMNS
from ctip.services import import_pool
from ctip.services.home import init_home
from ctip.services.import_pool import RowMapper, outcomes
from ctip.services.importing import import_file
from ctip.settings import Settings
from ctip.storage.repository import CaseStore
from ctip.storage.tables import victims
from ctip.storage.victim_rows import PreparedVictim

PER_IMPORT = {"victim_id", "import_batch", "identity_sealed", "created_at", "updated_at"}


def write_rows(path: Path, n: int, seed: int = 3) -> list[dict[str, str]]:
    """``n`` canonical rows with every kind of outcome: good rows, bad cells, and ids repeated
    with the same and with different content."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        row = dict.fromkeys(COLUMNS, "")
        row.update(
            source_record_id=f"R-{i:05d}",
            agency=f"agency-{i % 3}",
            identification_date=f"2023-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            identification_status=rng.choice(["identified", "presumed", "possible"]),
            sex=rng.choice(["female", "male", "unknown"]),
            age_at_identification=rng.choice(["17", "34", "-1", "250", ""]),
            citizenships=rng.choice(["NGA", "UKR", "Atlantis", "PH"]),
            exploitation_forms=rng.choice(["forced_labour", "sexual_exploitation", "juggling"]),
            given_name=rng.choice(["Amina", "Olena", "José"]),
            family_name=rng.choice(["Okafor", "Reyes"]),
            date_of_birth=f"19{rng.randint(50, 99)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
            document_number=f"X{rng.randint(10**6, 10**7)}",
        )
        if i < 10:  # good rows, repeated below
            row.update(age_at_identification="34", citizenships="NGA",
                       exploitation_forms="forced_labour")
        rows.append(row)
    rows += [dict(rows[5]), dict(rows[9], sex="male" if rows[9]["sex"] != "male" else "female")]
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return rows


@pytest.fixture
def two_stores(tmp_path: Path, ctip_home: Path) -> Iterator[tuple[CaseStore, CaseStore]]:
    """Two databases under the same keys, so keyed hashes and pseudonyms are comparable."""
    settings = Settings(home=ctip_home, database_url=None, seal_key=None, pseudonym_key=None,
                        key_file=None, pseudonym_key_file=None, batch_size=50)
    init_home(settings)
    other = settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'other.db'}"})
    with CaseStore.open(settings, actor="t") as one, CaseStore.open(other, actor="t") as two:
        yield one, two


def stored(store: CaseStore) -> list[tuple[object, ...]]:
    columns = [c for c in victims.c if c.name not in PER_IMPORT]
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(*columns).order_by(victims.c.agency,
                                                         victims.c.source_record_id))
        return [tuple(r) for r in rows]


def identities(store: CaseStore) -> list[object]:
    opened = store.identities(store.victim_ids(), actor="t", reason="test: compare")
    return sorted(repr(i) for i in opened.values())


def test_workers_store_and_report_exactly_what_one_process_does(
    two_stores: tuple[CaseStore, CaseStore], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    one, two = two_stores
    path = tmp_path / "agency.csv"
    write_rows(path, 400)
    monkeypatch.setattr(import_pool, "CHUNK_ROWS", 7)  # many chunks in flight, out of step
    alone = import_file(one, path, workers=1, batch_size=50)
    pooled = import_file(two, path, workers=2, batch_size=50)
    drop = {"batch_id", "seconds"}
    assert {k: v for k, v in alone.as_dict().items() if k not in drop} == {
        k: v for k, v in pooled.as_dict().items() if k not in drop}
    assert alone.read == 402 == alone.accepted + alone.rejected
    assert alone.duplicates == 2 and 0 < alone.accepted < alone.read
    assert [(r.source_row, r.reasons) for r in one.rejects(alone.batch_id)] == [
        (r.source_row, r.reasons) for r in two.rejects(pooled.batch_id)]
    assert stored(one) == stored(two)
    assert identities(one) == identities(two)


def test_changed_record_keeps_its_id_and_its_identity_opens(
    two_stores: tuple[CaseStore, CaseStore], tmp_path: Path
) -> None:
    store = two_stores[0]
    path = tmp_path / "agency.csv"
    rows = write_rows(path, 60)
    import_file(store, path, workers=2)
    ids = set(store.victim_ids())
    again = import_file(store, path, workers=2)
    assert (again.new, again.updated) == (0, 0) and again.unchanged == again.accepted
    rows[3]["given_name"] = "Mariam"  # identity changed: the stored row is re-sealed under its id
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, COLUMNS)
        writer.writeheader()
        writer.writerows(rows[:60])
    changed = import_file(store, path, workers=2)
    assert (changed.new, changed.updated) == (0, 1)
    assert set(store.victim_ids()) == ids
    assert "Mariam" in {i.given_name for i in
                        store.identities(list(ids), actor="t", reason="test").values()}


def test_rows_read_before_a_reader_error_still_come_out(
    two_stores: tuple[CaseStore, CaseStore], tmp_path: Path
) -> None:
    store = two_stores[0]
    rows = write_rows(tmp_path / "x.csv", 30)

    def failing() -> Iterator[tuple[int, dict[str, str]]]:
        yield from enumerate(rows[:25], start=2)
        raise InputFileError("the file ends in the middle of a row")

    mapper = RowMapper("canonical", "x.csv", None, date(2025, 1, 1), "batch", store.preparer)
    seen: list[int] = []
    with pytest.raises(InputFileError):
        for _raw, (number, result, _perps) in outcomes(failing(), mapper, workers=2):
            seen.append(number)
            assert isinstance(result, PreparedVictim) or result.source_row == number
    assert seen == list(range(2, 27))


def test_sealer_survives_the_trip_to_a_worker(two_stores: tuple[CaseStore, CaseStore]) -> None:
    sealer = two_stores[0].sealer
    with two_stores[0].engine.begin():  # a store's sealer seals inside a transaction only
        blob = sealer.seal("Amina Okafor", context="victims/v1/identity")
    copy = pickle.loads(pickle.dumps(sealer))
    assert copy.open(blob, context="victims/v1/identity") == "Amina Okafor"


def test_small_files_stay_in_process_and_big_ones_use_every_cpu() -> None:
    assert import_pool.use_workers(None, 100) == 1
    assert import_pool.use_workers(None, None) == 1
    assert import_pool.use_workers(None, import_pool.MIN_ROWS_FOR_WORKERS) >= 1
    assert import_pool.use_workers(3, 10) == 3
    assert import_pool.use_workers(0, 10) == import_pool.default_workers()


def test_cli_import_with_workers(tmp_path: Path, ctip_home: Path) -> None:
    """The CLI path with worker processes (they start from multiprocessing's fork server)."""
    import json
    import os
    import subprocess
    import sys

    path = tmp_path / "agency.csv"
    write_rows(path, 40)
    env = {**os.environ, "CTIP_HOME": str(ctip_home), "CTIP_IMPORT_WORKERS": "2"}
    subprocess.run([sys.executable, "-m", "ctip", "init"], env=env, check=True,
                   capture_output=True)
    done = subprocess.run([sys.executable, "-m", "ctip", "import", str(path), "--json"], env=env,
                          check=True, capture_output=True, text=True, timeout=120)
    report = json.loads(done.stdout)
    assert report["read"] == 42 == report["accepted"] + report["rejected"]


def test_rows_travel_to_workers_unchanged() -> None:
    from ctip.domain.problems import Problem
    from ctip.ingest.readers import RawRow

    bad = RawRow({"a": "1"}, (Problem(None, "the row has 3 fields", None, "2 fields"),))
    chunk = [(2, {"a": "1", "b": ""}), (3, {"a": "x", "b": "y"}), (4, bad), (5, {"c": "z"})]
    packed = import_pool.pack(chunk)
    assert packed[0][1] is packed[1][1]  # one tuple of column names, pickled once
    back = import_pool.unpack(pickle.loads(pickle.dumps(packed)))
    assert back == chunk
    assert [type(raw) for _, raw in back] == [dict, dict, RawRow, dict]
    assert back[2][1].problems == bad.problems
