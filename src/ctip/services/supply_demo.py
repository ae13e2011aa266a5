"""The demo's supply-chain stage (``ctip demo``): a synthetic purchase ledger screened.

A procurement office's ledger (5,000 lines from 400 suppliers, a few of them listed entities
under other spellings, a few bad rows) and a UFLPA-style entity list of synthetic names are
written into the demo directory once, the list is loaded, the ledger screened against it and the
shipped DOL List (2022 edition), an audit finding is recorded against an ILO indicator, and the
reports are written. Nothing here names a real company.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from ctip.settings import Settings

AGENCY = "Procurement office"
LINES, SUPPLIERS, LISTED = 5_000, 400, 40


def write_files(folder: Path) -> dict[str, Path]:
    from ctip.supply import synthetic

    folder.mkdir(parents=True, exist_ok=True)
    files = {"ledger": folder / "purchases.csv", "entities": folder / "entity-list.csv"}
    if all(p.exists() for p in files.values()):
        return files
    listed = synthetic.entity_names(LISTED, seed=1801)
    with files["entities"].open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "name", "country", "program", "listed_on"])
        writer.writerows([f"demo-{i:03d}", n, "CN", "UFLPA (synthetic)", "2024-01-01"]
                         for i, n in enumerate(listed))
    with files["ledger"].open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(synthetic.HEADER)
        writer.writerows(synthetic.ledger_rows(LINES, suppliers=SUPPLIERS, listed=listed,
                                               seed=1801))
    return files


def supply_stage(settings: Settings, *, say: Callable[[str], None] = print) -> dict[str, Any]:
    from ctip.domain.access import Principal, Role
    from ctip.services.supply import SupplyChains
    from ctip.services.supply_report import write_reports

    say("Supply-chain stage: a synthetic purchase ledger screened against the DOL List and an "
        "entity list...")
    files = write_files(settings.home / "supply")
    chains = SupplyChains.open(settings)
    officer = Principal("demo-procurement", "demo.procurement", Role.INVESTIGATOR, AGENCY)
    try:
        loaded = chains.load_entities(files["entities"], agency=AGENCY, actor="demo",
                                      label="UFLPA Entity List (synthetic)", kind="uflpa")
        report = chains.screen(files["ledger"], agency=AGENCY, actor="demo")
        top = chains.queue(officer, limit=1)
        if top:
            chains.add_finding(officer, supplier=top[0].group["supplier"], source="audit",
                               indicator="retention_of_documents", evidence_type="observed",
                               observed_on=date(2024, 6, 1))
        written = write_reports(chains, officer, settings.home / "supply-report")
    finally:
        chains.close()
    return {"ledger": str(files["ledger"]), "read": report.read, "accepted": report.accepted,
            "rejected": report.rejected, "hits": report.hits, "groups": report.groups,
            "queued": report.queued, "lists": report.lists, "entity_list": loaded["version"],
            "report": written["files"]}
