"""Supply-chain outputs: HTML and XLSX reports, and the FollowTheMoney export, of a screen run.

Written from the stored hit groups of the agency's latest (or named) run; each file names the
lists with edition and version and carries the caveat that a hit is sector and geography risk,
not an allegation. Writing is audited (what was written, never a supplier's name).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jinja2 import Environment, select_autoescape

from ctip.domain.access import Principal
from ctip.services.supply import SupplyChains
from ctip.supply import outputs

_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{{ title }}</title><style>body{font-family:sans-serif;margin:2em}
table{border-collapse:collapse}td,th{border:1px solid #999;padding:.3em .6em;text-align:left}
.caveat{background:#fff4d6;padding:.6em;border-left:4px solid #c90}</style></head><body>
<h1>{{ title }}</h1>
<p class="caveat">{{ caveat }}</p>
<p>Lists: {% for label, version in lists|dictsort %}{{ label }} <code>{{ version }}</code>
{%- if not loop.last %}; {% endif %}{% endfor %}. DOL List edition {{ edition }}.
Source file {{ file }}: {{ read }} lines read = {{ accepted }} accepted + {{ rejected }} rejected.
</p>
{% for section in sections %}<h2>{{ section.title }}</h2>
<table><thead><tr>{% for h in headers %}<th>{{ h }}</th>{% endfor %}</tr></thead><tbody>
{% for row in section.rows %}<tr>{% for h in keys %}<td>{{ row[h] if row[h] is not none else "" }}
</td>{% endfor %}</tr>{% endfor %}</tbody></table>{% endfor %}
</body></html>"""

def html_report(groups: Sequence[dict[str, Any]], *, by: str, run: dict[str, Any]) -> str:
    env = Environment(autoescape=select_autoescape(default=True))
    title = ("Supply-chain risk by supplier" if by == "supplier"
             else "Supply-chain risk by country and good")
    return env.from_string(_PAGE).render(
        title=title, caveat=outputs.CAVEAT, lists=run["lists"], edition=run["edition"],
        file=run["file"], read=run["read"], accepted=run["accepted"], rejected=run["rejected"],
        sections=outputs.sections(groups, by), headers=outputs.HEADERS,
        keys=outputs.KEYS)



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
    files["by_supplier"].write_text(html_report(groups, by="supplier", run=info),
                                    encoding="utf-8")
    files["by_country_good"].write_text(html_report(groups, by="country_good", run=info),
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
