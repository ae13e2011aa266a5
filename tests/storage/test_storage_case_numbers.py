"""Migration 1310 numbers the cases made before it, per agency and year in creation order, and
the counters carry on after them; new cases get the next number in one transaction."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import command

from ctip.domain.casework import format_case_number
from ctip.storage.casework import case_counters, cases, next_case_number
from ctip.storage.engine import _config


def _old_case(conn: sa.Connection, case_id: str, agency: str, created: datetime) -> None:
    conn.execute(sa.text(
        "INSERT INTO cases (case_id, agency, status, status_since, sex, age_disputed, languages,"
        " interpreter_needed, exploitation_forms, assistance_state, justice_state,"
        " non_punishment_state, non_punishment_flag, child_state, identity_sealed, created_at,"
        " updated_at, created_by, version) VALUES (:id, :agency, 'signal', :at, 'unknown', false,"
        " '[]', false, '[]', 'none', 'none', 'none', false, 'not_applicable', :blob, :at, :at,"
        " 'u', 1)"), {"id": case_id, "agency": agency, "at": created, "blob": b"x"})


def test_old_cases_are_numbered_and_counters_continue(database_url: str) -> None:
    engine = sa.create_engine(database_url)
    config = _config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0106_residence_region")
        _old_case(conn, "c-2", "Agency A", datetime(2025, 3, 1, tzinfo=UTC))
        _old_case(conn, "c-1", "Agency A", datetime(2025, 1, 1, tzinfo=UTC))
        _old_case(conn, "c-3", "Agency A", datetime(2026, 1, 1, tzinfo=UTC))
        _old_case(conn, "c-4", "Other Agency", datetime(2025, 6, 1, tzinfo=UTC))
        command.upgrade(config, "1310_case_numbers")
        numbers = dict(conn.execute(sa.select(cases.c.case_id, cases.c.case_number)).all())
        assert numbers == {
            "c-1": format_case_number("Agency A", 2025, 1),
            "c-2": format_case_number("Agency A", 2025, 2),
            "c-3": format_case_number("Agency A", 2026, 1),
            "c-4": format_case_number("Other Agency", 2025, 1),
        }
        assert numbers["c-2"] == "AA-2025-00002" and numbers["c-4"] == "OA-2025-00001"
        assert next_case_number(conn, "Agency A", 2025) == 3
        assert next_case_number(conn, "Agency A", 2027) == 1  # a new year starts at one
        assert next_case_number(conn, "Agency A", 2027) == 2
        last = conn.execute(sa.select(case_counters.c.last).where(
            case_counters.c.agency == "Other Agency")).scalar_one()
        assert last == 1
    engine.dispose()


def test_concurrent_intakes_get_distinct_numbers(database_url: str) -> None:
    import threading

    from ctip.storage.engine import migrate

    engine = sa.create_engine(database_url, pool_size=8, max_overflow=0) if "postgres" in \
        database_url else sa.create_engine(database_url, connect_args={"timeout": 30})
    migrate(engine)
    got: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(6)

    def intake() -> None:
        start.wait()
        for _ in range(5):
            with engine.begin() as conn:
                n = next_case_number(conn, "Agency Z", 2030)
            with lock:
                got.append(n)

    threads = [threading.Thread(target=intake) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    engine.dispose()
    assert sorted(got) == list(range(1, 31))  # thirty intakes, thirty numbers, no gap or twin
