"""``ctip finflows``: financial red flags and transaction networks (para 16).

``import`` statements (CSV with a column-mapping file, or camt.053 XML) and KYC files,
``run`` the rule file and graph patterns, list ``alerts``, ``review`` them (accept, dismiss
with a reason, link to a victim case; a SAR draft for an accepted one) and ``export`` FtM or
CSV. Reviewers act as a user of the store (``--user``), so their role and agency apply.
"""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from ctip.cli.common import console, err_console, print_json, progress, settings

JSON = typer.Option(False, "--json", help="Print one JSON document instead of text.")
AGENCY = typer.Option(..., "--agency", help="The agency (FIU, bank) whose data this is.")
USER = typer.Option(..., "--user", help="Act as this user of the store (role and agency).")

finflows_app = typer.Typer(
    help="Financial red flags and transaction networks: import, run, alerts, review, export.",
    no_args_is_help=True,
)


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _flows(ctx: typer.Context) -> Any:
    from ctip.services.finflows import FinFlows

    return FinFlows.open(settings(ctx))


def _principal(ctx: typer.Context, flows: Any, username: str) -> Any:
    from ctip.services.accounts import Accounts

    return Accounts.from_settings(settings(ctx), flows.engine, flows.sealer).principal_for(
        username.strip().lower())


@finflows_app.command("import")
def import_(
    ctx: typer.Context,
    files: list[Path] = typer.Argument(..., help="CSV or camt.053 (.xml) files."),
    agency: str = AGENCY,
    kind: str = typer.Option("transactions", "--kind", help="transactions or parties (KYC)."),
    mapping: Path = typer.Option(None, "--mapping",
                                 help="YAML/JSON file mapping the bank's columns to ctip's."),
    fmt: str = typer.Option(None, "--format", help="csv or camt053 (default: by suffix)."),
    json_out: bool = JSON,
) -> None:
    """Import transactions or parties; account numbers and names are sealed at once. Every row
    read is accepted or rejected with its reason (file, row, field)."""
    if kind not in ("transactions", "parties"):
        raise typer.BadParameter("--kind must be transactions or parties", param_hint="--kind")
    flows = _flows(ctx)
    reports = []
    with progress() as bar:
        for path in files:
            task = bar.add_task(f"import {path.name}", total=None)

            def on_progress(done: int, total: int, _task: Any = task) -> None:
                bar.update(_task, completed=done, total=total or None)

            reports.append(flows.import_file(path, agency=agency, actor=_actor(), kind=kind,
                                             mapping=mapping, fmt=fmt, on_progress=on_progress))
    if json_out:
        print_json([{"file": r.file, "batch_id": r.batch_id, "kind": r.kind,
                     "format": r.format, "read": r.read, "accepted": r.accepted,
                     "rejected": r.rejected, "rejects": r.rejects[:100]} for r in reports])
        return
    table = Table(title="Imports (read = accepted + rejected)", title_justify="left")
    for col in ("file", "format", "read", "accepted", "rejected"):
        table.add_column(col, justify="left" if col in ("file", "format") else "right")
    for r in reports:
        table.add_row(r.file, r.format, f"{r.read:,}", f"{r.accepted:,}", f"{r.rejected:,}")
    console.print(table)
    for r in reports:
        for reject in r.rejects[:20]:
            console.print(f"  rejected: {'; '.join(reject['reasons'])}", highlight=False)
        if len(r.rejects) > 20:
            console.print(f"  ... and {len(r.rejects) - 20} more rejected rows of {r.file} "
                          "(kept, sealed, with their reasons)")


@finflows_app.command("run")
def run(
    ctx: typer.Context,
    agency: str = AGENCY,
    rules: Path = typer.Option(None, "--rules", help="A rule file (default: the shipped one)."),
    lists: list[str] = typer.Option(
        [], "--list", help="NAME=FILE: a reference list (CSV), e.g. "
        "recruitment_agencies=register.csv; repeat for several."),
    no_review: bool = typer.Option(False, "--no-review",
                                   help="Store the alerts but do not queue them for review."),
    json_out: bool = JSON,
) -> None:
    """Run every rule and graph pattern over the agency's transactions; new alerts go to the
    review queue."""
    from ctip.services.finflows import load_rules

    files = {}
    for item in lists:
        name, sep, file = item.partition("=")
        if not sep:
            raise typer.BadParameter("write --list NAME=FILE", param_hint="--list")
        files[name.strip()] = Path(file)
    flows = _flows(ctx)
    with (err_console.status("Running the rules...") if not json_out else _Null()) as status:
        def step(text: str) -> None:
            if status is not None:
                status.update(f"Running the rules: {text}")

        report = flows.run(agency, actor=_actor(), rules=load_rules(rules), lists=files,
                           enqueue=not no_review, on_step=step)
    data = {"run_id": report.run_id, "transactions": report.transactions,
            "accounts": report.accounts, "hits": report.hits, "alerts": len(report.alerts),
            "alerts_per_10k_accounts": round(report.per_10k_accounts, 1),
            "new_alerts": report.new_alerts, "queued": report.enqueued,
            "not_assessed": report.not_assessed, "seconds": round(report.seconds, 2),
            "rules_version": report.rules.version}
    if json_out:
        print_json(data)
        return
    console.print(f"Ran {len(report.rules.running)} rules (file {report.rules.name} "
                  f"{report.rules.version}) over {report.transactions:,} transactions of "
                  f"{report.accounts:,} accounts in {report.seconds:.1f} s: {report.hits:,} "
                  f"rule hits, [bold]{len(report.alerts):,}[/] alerts "
                  f"({report.per_10k_accounts:.1f} per 10,000 accounts); "
                  f"{report.enqueued:,} new on the review queue.")
    for rule_id, why in sorted(report.not_assessed.items()):
        console.print(f"  not assessed: {rule_id}: {why}")


class _Null:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


@finflows_app.command("alerts")
def alerts(ctx: typer.Context, user: str = USER, limit: int = typer.Option(20, "--limit"),
           json_out: bool = JSON) -> None:
    """The latest run's alerts, highest score first (account references only)."""
    flows = _flows(ctx)
    found = flows.alerts(_principal(ctx, flows, user))
    if json_out:
        print_json(found[:limit])
        return
    table = Table(title=f"Alerts ({len(found):,})", title_justify="left")
    for col in ("alert", "account ref", "score", "rules"):
        table.add_column(col, justify="right" if col == "score" else "left")
    for a in found[:limit]:
        table.add_row(a["alert_id"][:12], str(a["account_ref"]), f"{a['score']:g}",
                      ", ".join(a["rules"]))
    console.print(table)


@finflows_app.command("review")
def review(
    ctx: typer.Context,
    user: str = USER,
    item: str = typer.Option(None, "--item", help="Show this review item (or decide on it)."),
    decide: str = typer.Option(None, "--decide", help="accept, dismiss or link_case."),
    reason: str = typer.Option(None, "--reason", help="Why (required to dismiss)."),
    case: str = typer.Option(None, "--case", help="The victim case id (for link_case)."),
    sar_out: Path = typer.Option(None, "--sar", help="Write a draft SAR of an accepted item."),
    json_out: bool = JSON,
) -> None:
    """List open alerts on the review queue, show one, decide, or draft a SAR."""
    from ctip.services.finflows import QUEUE, QUEUE_NAME

    flows = _flows(ctx)
    p = _principal(ctx, flows, user)
    queues = flows.queues
    if item is None:
        items = queues.items(p, QUEUE_NAME)
        if json_out:
            print_json([{"item_id": i.item_id, "alert_id": i.subject, "score": i.score,
                         "rules": [r.code for r in i.reasons]} for i in items])
            return
        console.print(f"[dim]{QUEUE.caveat}[/]")
        table = Table(title=f"Open alerts ({len(items)} shown)", title_justify="left")
        for col in ("item", "score", "rules"):
            table.add_column(col)
        for i in items:
            table.add_row(i.item_id, f"{i.score:g}", ", ".join(r.code for r in i.reasons))
        console.print(table)
        return
    if decide:
        queues.decide(p, item, decide, reason=reason, linked_case=case)
    if sar_out is not None:
        sar_out.write_text(flows.sar_draft(p, item), encoding="utf-8")
        if not json_out:
            console.print(f"Draft SAR written to {sar_out} (account by reference; not filed).")
    shown = queues.item(p, item)
    if json_out:
        print_json({"item_id": shown.item_id, "alert_id": shown.subject, "score": shown.score,
                    "reasons": [{"code": r.code, "text": r.text, "figures": r.figures,
                                 "evidence": list(r.evidence)} for r in shown.reasons],
                    "decisions": [{"decision": d.decision, "actor": d.actor,
                                   "at": d.at.isoformat(), "case": d.linked_case}
                                  for d in shown.decisions]})
        return
    console.print(f"Item {shown.item_id}: alert {shown.subject}, score {shown.score:g}")
    for r in shown.reasons:
        console.print(f"  [bold]{r.code}[/] {r.text}", highlight=False)
        console.print("    " + ", ".join(f"{k}={v}" for k, v in r.figures.items()),
                      highlight=False)
        console.print(f"    evidence: {' '.join(r.evidence[:12])}"
                      + (" ..." if len(r.evidence) > 12 else ""), highlight=False)
    for d in shown.decisions:
        console.print(f"  decided {d.decision} by {d.actor} at {d.at:%Y-%m-%d %H:%M}"
                      + (f" (case {d.linked_case})" if d.linked_case else ""))


@finflows_app.command("export")
def export(
    ctx: typer.Context,
    out: Path = typer.Argument(..., help="Output file (.ftm.json lines, .csv or .html)."),
    user: str = USER,
    fmt: str = typer.Option(None, "--format", help="ftm, csv or html (default: by suffix)."),
    identities: bool = typer.Option(False, "--identities",
                                    help="Include account numbers and names (audited)."),
    reason: str = typer.Option(None, "--reason", help="Why identities are opened."),
) -> None:
    """Export the latest run's alerts: FollowTheMoney entities (Aleph, Neo4j), CSV, or an HTML
    page with the network of the top alert drawn."""
    flows = _flows(ctx)
    p = _principal(ctx, flows, user)
    fmt = fmt or ("csv" if out.suffix == ".csv" else "html" if out.suffix == ".html" else "ftm")
    if fmt == "csv":
        n = flows.export_csv(p, out)
        console.print(f"{n:,} alerts written to {out}.")
    elif fmt == "html":
        from ctip.services.finflows_report import write_report

        write_report(flows, p, out)
        console.print(f"Alert report with the network picture written to {out}.")
    elif fmt == "ftm":
        n = flows.export_ftm(p, out, identities=identities, reason=reason)
        console.print(f"{n:,} FollowTheMoney entities written to {out}"
                      + (" (identities included; audited)." if identities else
                         " (accounts by reference)."))
    else:
        raise typer.BadParameter("--format must be ftm, csv or html", param_hint="--format")


def register(app: typer.Typer) -> None:
    app.add_typer(finflows_app, name="finflows")
