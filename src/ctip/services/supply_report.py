"""Supply-chain outputs: HTML and XLSX reports, and the FollowTheMoney export, of a screen run.

Written from the stored hit groups of the agency's latest (or named) run; each file names the
lists with edition and version and carries the caveat that a hit is sector and geography risk,
not an allegation. Writing is audited (what was written, never a supplier's name).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ctip.domain.access import Principal
from ctip.services.supply import SupplyChains
from ctip.supply import outputs


def _run_info(run: Any) -> dict[str, Any]:
    return {"run_id": run.run_id, "lists": json.loads(run.lists_json), "edition": run.edition,
            "file": run.source_file, "read": run.read_count, "accepted": run.accepted_count,
            "rejected": run.rejected_count}


def write_reports(chains: SupplyChains, p: Principal, out: Path, *,
                  run_id: str | None = None) -> dict[str, Any]:
    """``by-supplier.html``, ``by-country-good.html``, ``supply-risk.xlsx`` and
    ``supply-risk.ftm.json`` (FtM JSON lines) in ``out``."""
    run, groups = chains.groups(p, run_id=run_id)
    info = _run_info(run)
    out.mkdir(parents=True, exist_ok=True)
    files = {"by_supplier": out / "by-supplier.html",
             "by_country_good": out / "by-country-good.html",
             "xlsx": out / "supply-risk.xlsx", "ftm": out / "supply-risk.ftm.json"}
    files["by_supplier"].write_text(outputs.html_report(groups, by="supplier", run=info),
                                    encoding="utf-8")
    files["by_country_good"].write_text(outputs.html_report(groups, by="country_good", run=info),
                                        encoding="utf-8")
    files["xlsx"].write_bytes(outputs.xlsx_report(groups, run=info))
    owned = sorted({(g["parent"], g["supplier"]) for g in groups if g.get("parent")})
    entities = outputs.ftm_entities(groups, owned)
    files["ftm"].write_text(outputs.ftm_lines(entities), encoding="utf-8")
    with chains.engine.begin() as conn:
        chains.audit.append(conn, actor=f"{p.username}@{p.agency}", action="supply.export",
                            subject=run.run_id, details={"files": sorted(files),
                                                         "groups": len(groups),
                                                         "ftm_entities": len(entities)})
    return {"run": info, "groups": len(groups), "ftm_entities": len(entities),
            "files": {k: str(v) for k, v in files.items()}}
