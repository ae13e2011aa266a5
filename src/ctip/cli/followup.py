"""``ctip followup``: follow-up and review of the Declaration's commitments (para 31).

ctip followup catalogue                          the 44 commitments, their indicators
ctip followup cycle new ALB --start 2025-01-01 --end 2028-12-31
ctip followup evidence add --cycle ALB-2025-2028 --indicator NAP --value yes --citation "..."
ctip followup evidence review ID --accept --by rita
ctip followup score --cycle ALB-2025-2028 --explain
ctip followup compare ALB-2021-2024 ALB-2025-2028
ctip followup gsi --data ../shared/data/gsi-2023-govt-response --explain Albania

On the command line you act as the local operator: ``--by`` names you (default: your login),
and entering evidence acts as a coordinator, reviewing as a reviewer (never your own entry).
"""

from __future__ import annotations

import getpass
from datetime import date
from pathlib import Path

import typer
from rich.table import Table

from ctip.cli.common import console, print_json, settings
from ctip.domain.access import Principal, Role
from ctip.errors import ValidationError

BY = typer.Option(None, "--by", help="Your name for the record (default: your login).")
JSON = typer.Option(False, "--json", help="Print JSON.")


def operator(by: str | None, role: Role) -> Principal:
    name = (by or getpass.getuser()).strip()
    return Principal(f"cli:{name}", name, role, "local")


def parse_date(text: str | None, option: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError("dates are YYYY-MM-DD", column=option, value=text) from None


def _service(ctx: typer.Context):
    from ctip.services.followup import FollowUp

    return FollowUp.open(settings(ctx))


def _pct(value: float | None) -> str:
    return "no evidence" if value is None else f"{value:.1f}%"


def print_result(result: dict, explain: bool) -> None:
    if explain:
        for step in result.get("steps", []):
            console.print(step, highlight=False, markup=False)
        console.print()
    table = Table("pillar", "points", "score", "assessed", "floor", title=(
        f"{result['country']}: {result['framework']['id']} v{result['framework']['version']}, "
        f"rules {result['rules']['id']} v{result['rules']['version']}"))
    for p in result["pillars"]:
        if p["scored"]:
            table.add_row(p["name"], f"{p['points']:g} / {p['max']:g}", _pct(p["pct"]),
                          f"{p['assessed']} of {p['scored']}", _pct(p["pct_floor"]))
    o = result["overall"]
    table.add_row("[bold]overall[/]", f"{o['points']:g} / {o['max']:g}", _pct(o["pct"]),
                  f"{o['assessed']} of {o['scored']}", _pct(o["pct_floor"]))
    console.print(table)
    if o.get("weighted_pct") is not None:
        console.print(f"Declared weights {result['weights']['name']!r}: "
                      f"{_pct(o['weighted_pct'])} (beside the equal-weight score above)")
    c = result["confidence"]
    console.print(f"Confidence (not part of the score): {c['evidenced']} of {c['indicators']} "
                  f"indicators evidenced, {c['graded_ab']} on A/B sources, {c['stale']} stale; "
                  f"{c['no_evidence']} have no evidence (not counted as 'not met').")


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="Follow-up of the Declaration's commitments: evidence, transparent "
                        "scores, cycles, treaties, pledges.", no_args_is_help=True)
    app.add_typer(group, name="followup")
    cycle = typer.Typer(help="Review cycles (one country, one period).", no_args_is_help=True)
    evidence = typer.Typer(help="Evidence per indicator, reviewed by a second person.",
                           no_args_is_help=True)
    group.add_typer(cycle, name="cycle")
    group.add_typer(evidence, name="evidence")

    @group.command("catalogue")
    def catalogue_cmd(indicators: bool = typer.Option(False, "--indicators",
                                                      help="List every indicator."),
                      json_out: bool = JSON) -> None:
        """The commitment catalogue (44 rows) with its version hash."""
        from ctip.services.followup import catalogue_framework

        fw = catalogue_framework()
        if json_out:
            print_json(fw.as_data() | {"sha256": fw.sha256})
            return
        if indicators:
            table = Table("code", "unit", "harm", "definition", "crosswalk")
            for code, i in sorted(fw.indicators.items()):
                table.add_row(code, i.unit, "harm" if i.harm else "", i.definition[:70],
                              ", ".join(i.crosswalk))
        else:
            table = Table("id", "pillar", "scoring", "title", "indicators")
            for u in fw.units:
                table.add_row(u.id, u.pillar, u.scoring, u.title, ", ".join(u.indicators))
        console.print(table)
        console.print(f"{fw.key}, sha256 {fw.sha256}")

    @cycle.command("new")
    def cycle_new(ctx: typer.Context, country: str = typer.Argument(..., help="ISO3 or name."),
                  start: str = typer.Option(..., help="Period start, YYYY-MM-DD."),
                  end: str = typer.Option(..., help="Period end, YYYY-MM-DD."),
                  kind: str = typer.Option("quadrennial", help="annual or quadrennial."),
                  cycle_id: str = typer.Option(None, "--id", help="Default COUNTRY-YYYY-YYYY."),
                  by: str = BY) -> None:
        """Open a review cycle for a country."""
        svc = _service(ctx)
        row = svc.new_cycle(operator(by, Role.COORDINATOR), country=country,
                            period_start=parse_date(start, "--start"),
                            period_end=parse_date(end, "--end"),
                            kind=kind, cycle_id=cycle_id)
        console.print(f"Opened cycle [bold]{row.cycle_id}[/] ({row.framework_id} "
                      f"v{row.framework_version}, rules {row.rules_id} v{row.rules_version}).")

    @cycle.command("list")
    def cycle_list(ctx: typer.Context, country: str = typer.Option(None), json_out: bool = JSON
                   ) -> None:
        """Cycles, with their status."""
        rows = _service(ctx).cycles(operator(None, Role.COORDINATOR), country)
        if json_out:
            print_json([r.__dict__ for r in rows])
            return
        table = Table("cycle", "country", "period", "framework", "status")
        for r in rows:
            table.add_row(r.cycle_id, r.country, f"{r.period_start} to {r.period_end}",
                          f"{r.framework_id} v{r.framework_version}", r.status)
        console.print(table)

    @cycle.command("close")
    def cycle_close(ctx: typer.Context, cycle_id: str, by: str = BY) -> None:
        """Score a cycle one last time and freeze it (no more evidence changes)."""
        scored = _service(ctx).close_cycle(operator(by, Role.COORDINATOR), cycle_id)
        console.print(f"Closed {cycle_id}; final snapshot {scored.assessment_id} "
                      f"(inputs {scored.inputs_sha256[:12]}).")

    @evidence.command("add")
    def evidence_add(ctx: typer.Context, cycle_id: str = typer.Option(..., "--cycle"),
                     indicator: str = typer.Option(..., help="Indicator code, e.g. NAP."),
                     value: str = typer.Option(..., help="yes/no, a number, or 0/1/2."),
                     citation: str = typer.Option(..., help="Document, article, table, URL."),
                     as_of: str = typer.Option(None, "--as-of", help="Date the value holds."),
                     source_kind: str = typer.Option("report", help="law, policy, statistics, "
                                                     "report, budget, treaty, ctip, other"),
                     grade: str = typer.Option("B2", help="Source A/B/C/X + information 1-4."),
                     file: Path = typer.Option(None, help="Attach a file (its SHA-256 is kept)."),
                     by: str = BY) -> None:
        """Record one piece of evidence; it counts once a reviewer accepts it."""
        if len(grade) != 2:
            raise ValidationError("a grade is two characters, e.g. B2", column="--grade",
                                  value=grade)
        eid = _service(ctx).add_evidence(
            operator(by, Role.COORDINATOR), cycle_id, indicator=indicator, value=value,
            as_of=parse_date(as_of, "--as-of"), citation=citation, source_kind=source_kind,
            reliability=grade[0].upper(), credibility=grade[1], file=file)
        console.print(f"Recorded evidence [bold]{eid}[/] (waiting for review).")

    @evidence.command("list")
    def evidence_list(ctx: typer.Context, cycle_id: str = typer.Option(..., "--cycle"),
                      json_out: bool = JSON) -> None:
        """A cycle's evidence, every status."""
        rows = _service(ctx).evidence(operator(None, Role.COORDINATOR), cycle_id)
        if json_out:
            print_json(rows)
            return
        table = Table("id", "indicator", "value", "as of", "grade", "status", "entered by",
                      "file")
        for r in rows:
            table.add_row(r["evidence_id"][:8], r["indicator_code"], r["value"],
                          str(r["as_of"] or ""), r["reliability"] + r["credibility"],
                          r["status"], r["entered_by"], (r["file_sha256"] or "")[:12])
        console.print(table)

    @evidence.command("review")
    def evidence_review(ctx: typer.Context, evidence_id: str,
                        accept: bool = typer.Option(..., "--accept/--reject"),
                        note: str = typer.Option(None, help="Why (required to reject)."),
                        by: str = BY) -> None:
        """Accept or reject evidence someone else entered."""
        _service(ctx).review(operator(by, Role.REVIEWER), evidence_id, accept=accept, note=note)
        console.print(f"{'Accepted' if accept else 'Rejected'} {evidence_id}.")

    @evidence.command("withdraw")
    def evidence_withdraw(ctx: typer.Context, evidence_id: str,
                          reason: str = typer.Option(...), by: str = BY) -> None:
        """Take evidence out of the scoring (it stays on record with the reason)."""
        _service(ctx).withdraw(operator(by, Role.COORDINATOR), evidence_id, reason=reason)
        console.print(f"Withdrew {evidence_id}.")

    @group.command("score")
    def score_cmd(ctx: typer.Context, cycle_id: str = typer.Option(..., "--cycle"),
                  explain: bool = typer.Option(False, "--explain", help="Print every step."),
                  weights: Path = typer.Option(None, help="JSON {name, weights: {P8: 2, ...}}: "
                                               "scored beside the equal weights."),
                  dry_run: bool = typer.Option(False, "--dry-run", help="Do not store."),
                  json_out: bool = JSON, by: str = BY) -> None:
        """Score a cycle from its accepted evidence and store the snapshot."""
        from ctip.services.followup import read_weights

        declared = read_weights(weights) if weights is not None else None
        scored = _service(ctx).score(operator(by, Role.COORDINATOR), cycle_id, weights=declared,
                                     save=not dry_run)
        if json_out:
            print_json(scored.result)
            return
        print_result(scored.result, explain)
        console.print(f"Snapshot {scored.assessment_id or '(not stored)'}: inputs "
                      f"{scored.inputs_sha256[:16]}, result {scored.result_sha256[:16]}"
                      + (" (new)" if scored.new else ""))

    @group.command("verify")
    def verify_cmd(ctx: typer.Context, cycle_id: str = typer.Option(..., "--cycle")) -> None:
        """Recompute every stored snapshot of a cycle: are the bytes identical?"""
        results = _service(ctx).verify(operator(None, Role.COORDINATOR), cycle_id)
        for assessment_id, ok in results:
            console.print(f"{assessment_id}: {'identical' if ok else '[red]DIFFERS[/]'}")
        if not all(ok for _, ok in results):
            raise typer.Exit(1)

    @group.command("compare")
    def compare_cmd(ctx: typer.Context, old: str, new: str, json_out: bool = JSON) -> None:
        """Change report between two cycles (crosswalk needed across framework versions)."""
        report = _service(ctx).compare(operator(None, Role.COORDINATOR), old, new)
        if json_out:
            print_json(report)
            return
        table = Table("indicator", "before", "after", "change", "evidence now")
        for line in report["lines"]:
            if line["change"] != "unchanged" or line["evidence_changed"]:
                table.add_row(line["indicator"], line["before"], line["after"], line["change"],
                              ", ".join(e[:8] for e in line["evidence_after"]))
        console.print(table)
        console.print(f"Counts: {report['counts']}; not comparable: "
                      f"{len(report['not_comparable'])}"
                      + ("; the rules changed between them" if report["rules_changed"] else ""))

    from ctip.cli import followup_more

    followup_more.register(group)
