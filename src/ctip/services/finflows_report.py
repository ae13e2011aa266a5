"""An investigator's HTML page of a run's alerts with the network of the top alert drawn.

Not the national report: this page names accounts (by reference), alerts and the rules behind
them, which is investigation material, not a statistic, so it never goes through publication.
It is self-contained (inline SVG, no script) and written for the agency's reviewers only.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from ctip.domain.access import Principal
from ctip.finflows.picture import network_svg
from ctip.finflows.rules import shipped_rules

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Financial-flow alerts</title><style>
body{{font-family:system-ui,sans-serif;max-width:980px;margin:24px auto;color:#222}}
table{{border-collapse:collapse;font-size:13px}}td,th{{border-bottom:1px solid #ddd;
padding:3px 8px;text-align:left}}.note{{color:#555;font-size:13px}}
.chart svg{{max-width:100%;height:auto}}</style></head><body>
<h1>Financial-flow alerts</h1>
<p class="note">{caveat}</p>
<p>{summary}</p>
<h2 id="network">{title}</h2><figure class="chart" role="img" aria-label="{title}"
style="margin:0">{svg}</figure>
<h2>Alerts</h2><table><thead><tr><th>alert</th><th>account ref</th><th>score</th>
<th>rules</th></tr></thead><tbody>{rows}</tbody></table>
<h2>Rules</h2><table><thead><tr><th>id</th><th>v</th><th>rule (paraphrase)</th>
<th>source</th><th>mark</th></tr></thead><tbody>{rules}</tbody></table>
</body></html>
"""


def network_figure(flows: Any, p: Principal, alert: dict[str, Any]) -> tuple[str, str]:
    """(title, svg) of one alert's evidence transactions."""
    with flows.engine.connect() as conn:
        evidence = flows.evidence_rows(conn, p.agency, [alert])
    title = (f"Alert {alert['alert_id'][:12]}: account ref {alert['account_ref']}, score "
             f"{alert['score']:g} ({', '.join(alert['rules'])})")
    return title, network_svg(evidence, {alert["account_ref"]}, title=title)


def write_report(flows: Any, p: Principal, out: Path) -> Path:
    from ctip.finflows.review import QUEUE

    alerts = flows.alerts(p)
    rules = shipped_rules()
    if alerts:
        title, svg = network_figure(flows, p, alerts[0])
    else:
        title, svg = "No alert", ""
    rows = "".join(f"<tr><td>{a['alert_id'][:12]}</td><td>{a['account_ref']}</td>"
                   f"<td>{a['score']:g}</td><td>{html.escape(', '.join(a['rules']))}</td></tr>"
                   for a in alerts[:200])
    rule_rows = "".join(
        f"<tr><td>{r.id}</td><td>{r.version}</td><td>{html.escape(r.title)}"
        f"{' <b>(unverified paraphrase)</b>' if r.unverified else ''}</td>"
        f"<td>{html.escape(rules.source_title(r))}</td><td>{html.escape(r.mark)}</td></tr>"
        for r in rules.rules)
    summary = f"{len(alerts):,} alerts in the latest run of agency {html.escape(p.agency)}."
    out.write_text(PAGE.format(caveat=html.escape(QUEUE.caveat), summary=summary,
                               title=html.escape(title), svg=svg, rows=rows, rules=rule_rows),
                   encoding="utf-8")
    return out
