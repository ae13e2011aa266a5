"""Use case: the country progress report (offline HTML with charts), its JSON and its SDMX-CSV.

The report follows the outline of the Secretary-General's reports on the coordination of efforts
(FOLLOW-UP-AND-EXCHANGE.md A1): where the country stands per pillar and per commitment, what
changed since the previous cycle, treaties, the Trust Fund, and outcomes for victims (labelled
"association, not proof"), then the method and every scoring step. Charts are rendered to inline
SVG by vl-convert (no script, no CDN). The release is audited with its hashes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import jinja2

from ctip.domain.access import Principal
from ctip.errors import CtipError
from ctip.followup import charts, exports, treaties
from ctip.ingest.writers import write_csv
from ctip.services.followup import FollowUp, _actor
from ctip.services.followup_ledgers import Ledgers
from ctip.stats.charts import to_svg

REPORT_FILE, JSON_FILE, SDMX_FILE = "progress_report.html", "assessment.json", \
    "indicators.sdmx.csv"


@dataclass
class ReportFiles:
    report: Path
    files: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _previous(fu: FollowUp, p: Principal, cycle_id: str) -> dict[str, Any] | None:
    """The change report against the country's previous cycle, if there is one."""
    this = fu.cycle(p, cycle_id)
    earlier = [c for c in fu.cycles(p, this.country) if c.period_end < this.period_start]
    if not earlier:
        return None
    try:
        return fu.compare(p, earlier[-1].cycle_id, cycle_id)
    except CtipError as error:  # not comparable, or not scored: say so in the report
        return {"error": error.message, "from": {"cycle": {"cycle_id": earlier[-1].cycle_id}}}


def _treaty_rows(ledgers: Ledgers, p: Principal, country: str) -> list[dict[str, Any]]:
    from ctip.domain.countries import normalise_country

    iso3 = normalise_country(country) or country
    rows = []
    for s in ledgers.statuses(p):
        if s.state == iso3 and s.treaty in treaties.TREATIES:
            rows.append({"treaty": treaties.TREATIES[s.treaty], "party": s.party,
                         "consent": s.consent_date or "", "type": s.consent_type,
                         "source": s.source, "as_of": s.as_of})
    return rows


def write_report(fu: FollowUp, p: Principal, cycle_id: str, out: Path, *,
                 outcome_data: dict[str, Any] | None = None, donor: str | None = None
                 ) -> ReportFiles:
    result = fu.latest(p, cycle_id)
    row = fu.cycle(p, cycle_id)
    framework, _ = fu.framework_of(row)
    snaps = fu.snapshots(p, cycle_id)
    evidence = json.loads(snaps[-1].inputs_json)["evidence"] if snaps else []
    out.mkdir(parents=True, exist_ok=True)
    files = ReportFiles(out / REPORT_FILE)
    titles = {u.id: u.title for u in framework.units}
    figures = [
        ("pillars", "Score per pillar, over the commitments with evidence",
         to_svg(charts.pillar_chart(result))),
        ("commitments", "Rating of each scored commitment",
         to_svg(charts.commitment_chart(result, titles))),
    ]
    if outcome_data and any(o["effect"] is not None for o in outcome_data["outcomes"]):
        figures.append(("outcomes", f"Outcomes for victims around '{outcome_data['measure']}' "
                        f"({outcome_data['start']})",
                        to_svg(charts.outcome_chart(outcome_data["outcomes"]))))
    ledgers = Ledgers(fu)
    pledge = ledgers.pledge_indicators(p, donor=donor, period_start=row.period_start.isoformat(),
                                       period_end=row.period_end.isoformat()) if donor else None
    env = jinja2.Environment(loader=jinja2.PackageLoader("ctip.services", "templates"),
                             autoescape=jinja2.select_autoescape(["html"]))
    html = env.get_template("followup_report.html").render(
        result=result, cycle=row, framework=framework, titles=titles, figures=figures,
        evidence={e["evidence_id"]: e for e in evidence}, change=_previous(fu, p, cycle_id),
        treaties=_treaty_rows(ledgers, p, row.country), pledge=pledge, donor=donor,
        outcomes=outcome_data, today=date.today().isoformat(),
        rows=framework.detail.get("rows", {}))
    files.report.write_text(html, encoding="utf-8")
    json_path = out / JSON_FILE
    json_path.write_text(exports.to_json(result), encoding="utf-8")
    sdmx_path = out / SDMX_FILE
    n = write_csv(sdmx_path, exports.HEADER, exports.sdmx_rows(result, framework, evidence))
    files.files += [files.report, json_path, sdmx_path]
    files.notes.append(f"{n} statistical indicator values in {SDMX_FILE}")
    with fu.engine.begin() as conn:
        fu.audit.append(conn, actor=_actor(p), action="followup.report", subject=cycle_id,
                        details={"inputs_sha256": result["inputs_sha256"],
                                 "files": [f.name for f in files.files],
                                 "outcomes": bool(outcome_data)})
    return files
