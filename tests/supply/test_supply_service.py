"""The supply-chain service on SQLite and PostgreSQL: lists, screen into the review queue,
decisions, findings with sealed notes, reports; and the migration matches the tables."""

from __future__ import annotations

import json
from datetime import date

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from ctip.domain.access import Principal, Role
from ctip.errors import NotFoundError, PermissionDeniedError, ValidationError
from ctip.services.supply import SupplyChains
from ctip.services.supply_report import write_reports
from ctip.storage import supply as tables
from ctip.storage.engine import make_engine, migrate
from ctip.storage.keys import KeyRing
from ctip.storage.sealing import Sealer

LEDGER = (b"supplier,country,product,hs_code,value,date,parent\n"
                        b"Sunny PV Ltd,VN,Solar panels,,1000,2024-01-02,Sun Group\n"
                        b"Hoshine Silicon Co Ltd,CN,,280461,500,2024-02-01,\n"
                        b"Nobody,FR,widgets,,1,2024-01-01,\n"
                        b"Bad,FR,toys,,x,2024-01-01,\n")


@pytest.fixture
def chains(database_url, tmp_path):
    engine = make_engine(database_url)
    migrate(engine)
    yield SupplyChains(engine, Sealer(KeyRing.generate()))
    engine.dispose()


def test_migration_matches_the_supply_tables(database_url) -> None:
    engine = make_engine(database_url)
    try:
        migrate(engine)
        ours = sa.MetaData()
        for name in ("supply_lists", "supply_runs", "supply_rejects", "supply_hit_groups",
                     "supply_findings"):
            tables.metadata.tables[name].to_metadata(ours)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), ours)
        assert [d for d in diff if not (isinstance(d, tuple) and d[0].startswith("remove_"))] \
            == []
    finally:
        engine.dispose()


def test_screen_queue_decide_findings_report(chains, tmp_path) -> None:
    (tmp_path / "p.csv").write_bytes(LEDGER)
    (tmp_path / "e.csv").write_bytes(b'name,country\n"Hoshine Silicon Co., Ltd.",CN\n')
    loaded = chains.load_entities(tmp_path / "e.csv", agency="A", actor="t", label="UFLPA",
                                  kind="uflpa")
    report = chains.screen(tmp_path / "p.csv", agency="A", actor="t", queue_above=0.3)
    assert report.read == 4 == report.accepted + report.rejected and report.rejected == 1
    assert report.lists["UFLPA"] == loaded["version"]
    inv = Principal("i", "ines", Role.INVESTIGATOR, "A")
    items = chains.queue(inv)
    assert items and items[0].group["rule"] == "entity_list"
    assert all(i.item.reasons[0].figures["list_version"] == i.group["list_version"]
               for i in items)
    again = chains.screen(tmp_path / "p.csv", agency="A", actor="t", queue_above=0.3)
    assert again.queued == 0 and again.already_queued == report.queued
    with pytest.raises(ValidationError):
        chains.decide(inv, items[0].item.item_id, "not_relevant")  # needs a reason
    done = chains.decide(inv, items[0].item.item_id, "not_relevant", reason="other company")
    assert done.current.decision == "not_relevant"
    with pytest.raises(NotFoundError):
        chains.item(Principal("o", "olga", Role.INVESTIGATOR, "B"), items[0].item.item_id)
    with pytest.raises(PermissionDeniedError):
        chains.queue(Principal("c", "carl", Role.CASEWORKER, "A"))
    found = chains.add_finding(inv, supplier="Sunny PV Ltd", source="grievance",
                               indicator="withholding_of_wages", evidence_type="said",
                               observed_on=date(2024, 5, 1), note="named worker")
    with pytest.raises(ValidationError):
        chains.add_finding(inv, supplier="x", source="audit", indicator="nope",
                           evidence_type="said", observed_on=date(2024, 5, 1))
    with pytest.raises(NotFoundError):
        chains.add_finding(inv, supplier="x", source="audit", indicator="deception",
                           evidence_type="said", observed_on=date(2024, 5, 1), case_id="none")
    with chains.engine.connect() as conn:
        sealed = conn.execute(sa.select(tables.supply_findings.c.note_sealed)).scalar()
    assert b"named worker" not in sealed
    assert chains.findings(inv, with_notes=True)[0].note == "named worker"
    assert chains.findings(inv)[0].note is None and found.finding_id
    out = write_reports(chains, inv, tmp_path / "out")
    html = (tmp_path / "out" / "by-supplier.html").read_text()
    assert "not an allegation" in html and "dol-2022:" in html
    lines = [json.loads(x) for x in (tmp_path / "out" / "supply-risk.ftm.json").read_text()
             .splitlines()]
    schemata = {e["schema"] for e in lines}
    assert {"Company", "Risk", "Ownership"} <= schemata
    topics = {t for e in lines for t in e["properties"].get("topics", [])}
    assert {"forced.labor", "export.risk"} <= topics
    assert out["groups"] >= 3
