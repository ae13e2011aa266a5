"""``ctip supply``: screen suppliers and goods for forced and child labour (para 30).

``lists load-dol`` (the shipped DOL 2022 edition, or a CSV/XML file of another edition),
``lists load-entities`` (a UFLPA/WRO list as CSV or FollowTheMoney), ``lists show``; ``screen``
a purchase ledger; ``queue`` and ``decide`` (the due-diligence queue); ``finding add`` and
``findings`` (worker-level ILO indicators); ``report`` (HTML, XLSX, FtM); ``check`` (mapping
coverage, name-matching precision/recall, CSV vs XML). A hit is sector and geography risk, not
an allegation. The command line acts as an investigator of ``--agency``.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from ctip.cli.common import cli_investigator, console, err_console, os_user, print_json, settings

JSON = typer.Option(False, "--json", help="Print one JSON document instead of text.")
AGENCY = typer.Option(..., "--agency", help="The agency whose lists, screens and queue these are.")

supply_app = typer.Typer(help="Screen purchases and suppliers for forced-labour risk.",
                         no_args_is_help=True)
lists_app = typer.Typer(help="Reference lists: the DOL List and entity lists.",
                        no_args_is_help=True)
finding_app = typer.Typer(help="Worker-level findings against the ILO 11 indicators.",
                          no_args_is_help=True)
supply_app.add_typer(lists_app, name="lists")
supply_app.add_typer(finding_app, name="finding")


def _chains(ctx: typer.Context):
    from ctip.services.supply import SupplyChains

    return SupplyChains.open(settings(ctx))


@lists_app.command("load-dol")
def load_dol(ctx: typer.Context,
             file: Path | None = typer.Argument(None, help="DOL CSV or XML (default: shipped)."),
             edition: int = typer.Option(2022, "--edition", help="The List edition of FILE."),
             agency: str = AGENCY, json_out: bool = JSON) -> None:
    """Make a DOL List edition the agency's active one."""
    chains = _chains(ctx)
    try:
        info = chains.load_dol(file, agency=agency, actor=f"cli:{os_user()}", edition=edition)
    finally:
        chains.close()
    if json_out:
        print_json(info)
        return
    console.print(f"{info['label']} {info['edition']} edition: {info['entries']} entries, "
                  f"version {info['version']}")


@lists_app.command("load-entities")
def load_entities(ctx: typer.Context,
                  file: Path = typer.Argument(..., help="CSV (name, aliases, country, ...) or "
                                                        "FollowTheMoney JSON lines."),
                  label: str = typer.Option(..., "--label", help='e.g. "UFLPA Entity List"'),
                  kind: str = typer.Option("other", "--kind", help="uflpa, wro or other"),
                  agency: str = AGENCY, json_out: bool = JSON) -> None:
    """Load an entity list (replaces the active list of the same label)."""
    chains = _chains(ctx)
    try:
        info = chains.load_entities(file, agency=agency, actor=f"cli:{os_user()}", label=label,
                                    kind=kind)
    finally:
        chains.close()
    if json_out:
        print_json(info)
        return
    console.print(f"{escape(label)}: read {info['read']} = accepted {info['accepted']} + "
                  f"rejected {info['rejected']}; version {info['version']}")
    for r in info["rejects"][:20]:
        err_console.print(escape("; ".join(r["reasons"])))


@lists_app.command("show")
def show_lists(ctx: typer.Context, agency: str = AGENCY, json_out: bool = JSON) -> None:
    """Every list loaded for the agency (active ones marked)."""
    chains = _chains(ctx)
    try:
        found = chains.lists(agency)
    finally:
        chains.close()
    if json_out:
        print_json(found)
        return
    table = Table("active", "kind", "label", "edition", "version", "entries", "loaded")
    for r in found:
        table.add_row("yes" if r["active"] else "", r["kind"], escape(r["label"]),
                      str(r["edition"] or ""), r["version"], str(r["entries"]),
                      f"{r['loaded_at']:%Y-%m-%d %H:%M}")
    console.print(table)
    if not found:
        console.print("None loaded: screens use the shipped DOL List (2022 edition).")


@supply_app.command("screen")
def screen(ctx: typer.Context,
           file: Path = typer.Argument(..., help="Purchases CSV: supplier, country, product "
                                                 "and/or hs_code, value, date."),
           agency: str = AGENCY,
           queue_above: float = typer.Option(0.5, "--queue-above", min=0.0, max=1.0,
                                             help="Queue hit groups scoring at least this."),
           threshold: float = typer.Option(0.88, "--name-threshold", min=0.5, max=1.0,
                                           help="Least name similarity of an entity match."),
           json_out: bool = JSON) -> None:
    """Screen every line against the DOL List (goods, inputs) and the entity lists."""
    chains = _chains(ctx)
    try:
        report = chains.screen(file, agency=agency, actor=f"cli:{os_user()}",
                               queue_above=queue_above, threshold=threshold)
    finally:
        chains.close()
    if json_out:
        print_json(report.__dict__)
        return
    console.print(f"{report.file}: read {report.read:,} = accepted {report.accepted:,} + "
                  f"rejected {report.rejected:,}; {report.unmatched_goods:,} accepted lines "
                  "name no listed good.")
    console.print(f"{report.hits:,} hits in {report.groups:,} groups; {report.queued} queued "
                  f"for due diligence ({report.already_queued} already queued).")
    for label, version in sorted(report.lists.items()):
        console.print(f"  list {escape(label)}: {version}")
    for r in report.rejects[:20]:
        err_console.print(escape("; ".join(r["reasons"])))
    if len(report.rejects) > 20:
        err_console.print(f"... and {len(report.rejects) - 20} more rejected rows")
    console.print("[dim]A hit is sector and geography risk, not an allegation.[/]")


@supply_app.command("queue")
def queue(ctx: typer.Context, agency: str = AGENCY,
          all_items: bool = typer.Option(False, "--all", help="Decided items too."),
          limit: int = typer.Option(20, "--limit", min=1, max=1000),
          json_out: bool = JSON) -> None:
    """The due-diligence queue, highest score first."""
    chains = _chains(ctx)
    try:
        principal = cli_investigator(agency)
        found = chains.queue(principal, open_only=not all_items, limit=limit)
        counts = chains.counts(principal)
    finally:
        chains.close()
    rows = [{"item_id": d.item.item_id, "score": d.item.score, "supplier": d.group["supplier"],
             "rule": d.group["rule"], "good": d.group["good"],
             "country": d.group["hit_country"], "path": d.group["path"],
             "entity": d.group["matched_name"], "lines": d.group["lines"],
             "list_version": d.group["list_version"],
             "decision": d.item.current.decision if d.item.current else None} for d in found]
    if json_out:
        print_json({"counts": counts, "items": rows})
        return
    table = Table("item", "score", "supplier", "why", "lines", "list", "decision",
                  title="Due diligence: " + ", ".join(f"{k} {v}" for k, v in sorted(
                      counts.items())))
    for r in rows:
        why = (f"entity {r['entity']}" if r["rule"] == "entity_list"
               else r["path"] or f"{r['good']} / {r['country']}")
        table.add_row(r["item_id"], f"{r['score']:.2f}", escape(r["supplier"]), escape(why),
                      str(r["lines"]), r["list_version"], r["decision"] or "")
    console.print(table)
    console.print("[dim]A hit is sector and geography risk, not an allegation.[/]")


@supply_app.command("decide")
def decide(ctx: typer.Context, item: str = typer.Argument(...),
           decision: str = typer.Argument(..., help="due_diligence, mitigated, not_relevant "
                                                    "or escalate"),
           reason: str | None = typer.Option(None, "--reason"), agency: str = AGENCY) -> None:
    """Record a decision on a queue item (all but due_diligence need --reason)."""
    chains = _chains(ctx)
    try:
        done = chains.decide(cli_investigator(agency), item, decision, reason=reason)
    finally:
        chains.close()
    console.print(f"{item}: {done.current.decision if done.current else ''}")


@finding_app.command("add")
def add_finding(ctx: typer.Context,
                supplier: str = typer.Option(..., "--supplier"),
                indicator: str = typer.Option(..., "--indicator",
                                              help="an ILO indicator, e.g. debt_bondage"),
                evidence_type: str = typer.Option(..., "--evidence", help="said, observed or "
                                                                          "document"),
                source: str = typer.Option("audit", "--source",
                                           help="audit, grievance, interview or inspection"),
                observed_on: str = typer.Option(..., "--date", help="YYYY-MM-DD"),
                site: str | None = typer.Option(None, "--site"),
                case: str | None = typer.Option(None, "--case", help="a victim case id"),
                evidence_item: str | None = typer.Option(None, "--evidence-item"),
                note: str | None = typer.Option(None, "--note", help="sealed at rest"),
                agency: str = AGENCY) -> None:
    """Record one worker-level indicator found by an audit or a grievance."""
    from ctip.errors import ValidationError

    try:
        day = date.fromisoformat(observed_on)
    except ValueError:
        raise ValidationError("is not a date (YYYY-MM-DD)", column="date",
                              value=observed_on) from None
    chains = _chains(ctx)
    try:
        found = chains.add_finding(cli_investigator(agency), supplier=supplier, source=source,
                                   indicator=indicator, evidence_type=evidence_type,
                                   observed_on=day, site=site, case_id=case,
                                   evidence_item=evidence_item, note=note)
    finally:
        chains.close()
    console.print(f"finding {found.finding_id}: {indicator} ({evidence_type}) at "
                  f"{escape(supplier)}")


@supply_app.command("findings")
def findings(ctx: typer.Context, supplier: str | None = typer.Option(None, "--supplier"),
             agency: str = AGENCY, json_out: bool = JSON) -> None:
    """Findings with the indicator profile (counts per ILO indicator and evidence type)."""
    from ctip.domain.supply import ILO_INDICATORS, indicator_profile

    chains = _chains(ctx)
    try:
        found = chains.findings(cli_investigator(agency), supplier)
    finally:
        chains.close()
    profile = indicator_profile(found)
    if json_out:
        print_json({"findings": [f.__dict__ for f in found], "profile": profile})
        return
    table = Table("indicator", "said", "observed", "document", title="ILO indicator profile")
    for key, title in ILO_INDICATORS.items():
        counts = profile[key]
        table.add_row(title, str(counts["said"]), str(counts["observed"]),
                      str(counts["document"]))
    console.print(table)


@supply_app.command("report")
def report(ctx: typer.Context, out: Path = typer.Option(Path("supply-report"), "--out"),
           run: str | None = typer.Option(None, "--run", help="a run id (default: latest)"),
           agency: str = AGENCY, json_out: bool = JSON) -> None:
    """HTML and XLSX reports per supplier and per country x good, and a FtM export."""
    from ctip.services.supply_report import write_reports

    chains = _chains(ctx)
    try:
        info = write_reports(chains, cli_investigator(agency), out, run_id=run)
    finally:
        chains.close()
    if json_out:
        print_json(info)
        return
    for name, path in info["files"].items():
        console.print(f"{name}: {path}")


@supply_app.command("check")
def check(json_out: bool = JSON,
          pairs: int = typer.Option(2000, "--pairs", min=100, help="perturbed name pairs")) -> None:
    """Mapping coverage, name-matching precision/recall, and CSV vs XML load equal."""
    from ctip.services.supply_checks import run_checks

    result = run_checks(pairs=pairs)
    if json_out:
        print_json(result)
        return
    cov = result["coverage"]
    console.print(f"DOL {result['version']}: {cov['entries']} entries, ISO mapped "
                  f"{cov['iso_share']:.1%}, HS mapped {cov['hs_share']:.1%}; unmapped goods: "
                  + ", ".join(f"{g} ({why})" for g, why in cov["unmapped_goods"]))
    console.print(f"CSV and XML load equal: {result['csv_equals_xml']}")
    m = result["matching"]
    console.print(f"Name matching on {m['pairs']} perturbed pairs + {m['negatives']} "
                  f"non-matches: precision {m['precision']:.3f}, recall {m['recall']:.3f} "
                  f"(threshold {m['threshold']})")
    for kind, r in sorted(m["recall_by_perturbation"].items()):
        console.print(f"  recall, {kind}: {r:.3f}")


def register(app: typer.Typer) -> None:
    app.add_typer(supply_app, name="supply")
