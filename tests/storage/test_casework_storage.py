"""Case-management tables: the Alembic revision builds exactly the tables the code declares,
nothing identifying is stored in plaintext, and a stale version never overwrites a case."""

from __future__ import annotations

import secrets

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from ctip.domain.access import Principal, Role
from ctip.domain.records import Identity
from ctip.errors import ConflictError
from ctip.services.casework import CaseIntake, Casework
from ctip.storage import casework as db
from ctip.storage.engine import make_engine, migrate
from ctip.storage.keys import KeyRing
from ctip.storage.sealing import Pseudonymiser, Sealer
from ctip.storage.tables import metadata

CASEWORK_TABLES = {t.name for t in db.TABLES}


def _table_of(diff):  # type: ignore[no-untyped-def]
    """The table an Alembic autogenerate difference is about."""
    item = diff[0] if isinstance(diff, list) else diff
    for part in item[1:]:
        if isinstance(part, sa.Table):
            return part.name
        table = getattr(part, "table", None)
        if isinstance(table, sa.Table):
            return table.name
    return item[2] if len(item) > 2 and isinstance(item[2], str) else None


@pytest.fixture
def engine(database_url):  # type: ignore[no-untyped-def]
    engine = make_engine(database_url)
    migrate(engine)
    yield engine
    engine.dispose()


def test_migration_matches_the_declared_tables(engine):  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    ours = [d for d in diff if _table_of(d) in CASEWORK_TABLES]
    assert not ours, ours
    assert set(sa.inspect(engine).get_table_names()) >= CASEWORK_TABLES


def test_free_text_and_identity_are_sealed(engine):  # type: ignore[no-untyped-def]
    cw = Casework(engine, Sealer(KeyRing.generate()), Pseudonymiser(secrets.token_bytes(32)))
    me = Principal("u1", "worker", Role.CASEWORKER, "A")
    case = cw.create_case(
        me,
        CaseIntake(
            sex="male",
            age=33,
            notes="sleeps at the Zephyrhof building",
            identity=Identity(given_name="Quintus", family_name="Vandermeer", phone="+31611112222"),
        ),
    )
    cw.transition(
        me,
        case.case_id,
        to_state="screening",
        confirmations=("safe_setting", "interpreter_offered"),
    )
    cw.transition(me, case.case_id, to_state="not_indicated", reason="Quintus says he is fine")
    cw.record_service(me, case.case_id, service_type="legal", note="Vandermeer lawyer call")
    with engine.connect() as conn:
        dump = ""
        for name in CASEWORK_TABLES | {"audit_log"}:
            for row in conn.execute(sa.text(f"SELECT * FROM {name}")):
                dump += " ".join(
                    v.decode("latin-1") if isinstance(v, bytes) else str(v) for v in row
                )
    for secret in ("Quintus", "Vandermeer", "31611112222", "Zephyrhof"):
        assert secret not in dump


def test_stale_version_is_refused(engine):  # type: ignore[no-untyped-def]
    cw = Casework(engine, Sealer(KeyRing.generate()), Pseudonymiser(secrets.token_bytes(32)))
    case = cw.create_case(Principal("u1", "w", Role.CASEWORKER, "A"), CaseIntake())
    with engine.begin() as conn:
        assert db.update_case(conn, case.case_id, expected_version=1, values={"age": 20}) == 2
    with engine.begin() as conn, pytest.raises(ConflictError):
        db.update_case(conn, case.case_id, expected_version=1, values={"age": 21})
