"""Shared helpers of the evidence tests (people, a case, files)."""

from __future__ import annotations

import io

from ctip.domain.access import Principal, Role
from ctip.domain.records import Identity
from ctip.services.casework import CaseIntake, Casework
from ctip.services.evidence import Locker


def person(role: str, agency: str = "A") -> Principal:
    return Principal(f"u-{role}-{agency}", f"{role}.{agency}".lower(), Role(role), agency)


CW, SUP, INV, B_CA, B_CW, C_CW = (person("caseworker"), person("supervisor"),
                                  person("investigator"), person("competent_authority", "B"),
                                  person("caseworker", "B"), person("caseworker", "C"))


def new_case(cw: Casework) -> str:
    intake = CaseIntake(sex="female", age=30, nationality="NGA", languages=("en",),
                        exploitation_forms=("forced_labour",),
                        identity=Identity(given_name="Amina", family_name="Okafor"))
    return cw.create_case(CW, intake).case_id


def ingest(locker: Locker, case_id: str, data: bytes, name: str = "chat.txt"):  # type: ignore[no-untyped-def]
    return locker.ingest(SUP, case_id, io.BytesIO(data), name=name, origin="phone of witness")


def drop_guards(conn) -> None:  # type: ignore[no-untyped-def]
    """What an attacker with database rights does first: drop the append-only triggers."""
    for table in ("evidence_events", "log_checkpoints", "audit_tags", "audit_log"):
        if conn.dialect.name == "postgresql":
            trigger = "audit_log_append_only" if table == "audit_log" else f"{table}_append_only"
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
        else:
            for verb in ("update", "delete"):
                conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_no_{verb}")
