"""``ctip followup`` commands beyond cycles and evidence: the GSI reproduction, crosswalks,
treaties, pledges, outcomes for victims and the country progress report."""

from __future__ import annotations

import csv
from pathlib import Path

import typer
from rich.table import Table

from ctip.cli.common import console, print_json, settings
from ctip.cli.followup import BY, JSON, _service, operator, parse_date, print_result
from ctip.domain.access import Role
from ctip.errors import InputFileError, ValidationError


def _read_crosswalk(path: Path) -> list[tuple[str, str, bool]]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as error:
        raise InputFileError(f"cannot read {path}: {error.strerror}") from error
    out = []
    for number, row in enumerate(rows, start=2):
        old, new = (row.get("old_code") or "").strip(), (row.get("new_code") or "").strip()
        flag = (row.get("comparable") or "").strip().lower()
        if not old or not new or flag not in {"yes", "no", "true", "false", "1", "0"}:
            raise ValidationError("each row needs old_code, new_code and comparable (yes/no)",
                                  file=str(path), row=number)
        out.append((old, new, flag in {"yes", "true", "1"}))
    return out


def register(group: typer.Typer) -> None:
    treaties = typer.Typer(help="Ratification tracker (UNTOC, Trafficking Protocol, CRC "
                           "protocols).", no_args_is_help=True)
    pledge = typer.Typer(help="UN Voluntary Trust Fund pledge ledger.", no_args_is_help=True)
    crosswalk = typer.Typer(help="Crosswalks between catalogue versions.", no_args_is_help=True)
    group.add_typer(treaties, name="treaties")
    group.add_typer(pledge, name="pledge")
    group.add_typer(crosswalk, name="crosswalk")

    @group.command("gsi")
    def gsi_cmd(data: Path = typer.Option(..., help="Folder of the GSI 2023 long-form files."),
                recode: bool = typer.Option(True, "--recode/--no-recode",
                                            help="Apply the declared note-3 recode."),
                explain: str = typer.Option(None, help="Print every step for one country."),
                json_out: bool = JSON) -> None:
        """Score the GSI 2023 government response from its published indicator ratings and
        compare with the published activity ratings and percentages."""
        from ctip.services.followup_gsi import country_result, reproduce

        results, rep = reproduce(data, recode=recode, explain=True)
        if json_out:
            print_json({"reproduction": rep.as_dict(),
                        "countries": {c: {"overall_pct": r["overall"]["pct"],
                                          "pillars": [p["pct"] for p in r["pillars"]]}
                                      for c, r in results.items()}})
            return
        if explain:
            print_result(country_result(results, explain), True)
        console.print(f"Activity ratings reproduced: {rep.activities_matched:,} of "
                      f"{rep.activities:,}; total % reproduced for {rep.totals_matched} of "
                      f"{rep.countries} countries (milestones: {rep.milestones_matched}).")
        if rep.mismatched_countries:
            console.print(f"Differences: {', '.join(rep.mismatched_countries)}"
                          + ("" if recode else " (run with --recode for the declared recode)"))

    @crosswalk.command("add")
    def crosswalk_add(ctx: typer.Context, file: Path,
                      from_key: str = typer.Option(..., "--from", help="'declaration-2025 v1'"),
                      to_key: str = typer.Option(..., "--to"), by: str = BY) -> None:
        """Declare a crosswalk from a CSV (old_code, new_code, comparable yes/no)."""
        n = _service(ctx).declare_crosswalk(operator(by, Role.COORDINATOR), from_key, to_key,
                                            _read_crosswalk(file))
        console.print(f"Declared {n} crosswalk entries {from_key} -> {to_key}.")

    def _ledgers(ctx: typer.Context):
        from ctip.services.followup_ledgers import Ledgers

        return Ledgers(_service(ctx))

    @treaties.command("load")
    def treaties_load(ctx: typer.Context, file: Path,
                      gsi: bool = typer.Option(False, "--gsi", help="The GSI 2022 flags file "
                                               "(or its folder)."),
                      treaty: str = typer.Option(None, help="UNTC code, e.g. XVIII-12-a."),
                      as_of: str = typer.Option(None, "--as-of", help="Date of the UNTC table."),
                      by: str = BY) -> None:
        """Load treaty status: a saved UNTC status table (CSV/XLSX) or the GSI 2022 flags."""
        p = operator(by, Role.COORDINATOR)
        if gsi:
            loaded = _ledgers(ctx).load_gsi_flags(p, file)
        else:
            when = parse_date(as_of, "--as-of")
            if not treaty or when is None:
                raise typer.BadParameter("a UNTC table needs --treaty and --as-of")
            loaded = _ledgers(ctx).load_untc(p, file, treaty=treaty, as_of=when)
        console.print(f"{loaded.source}: read {loaded.read}, accepted {loaded.accepted}, "
                      f"rejected {len(loaded.rejected)}")
        for row, reason in loaded.rejected:
            console.print(f"  row {row}: {reason}", highlight=False)

    @treaties.command("list")
    def treaties_list(ctx: typer.Context, treaty: str = typer.Option("XVIII-12-a"),
                      json_out: bool = JSON) -> None:
        """Status per state for one treaty, and the count of parties per source."""
        rows = _ledgers(ctx).statuses(operator(None, Role.COORDINATOR), treaty)
        if json_out:
            print_json([r.as_dict() for r in rows])
            return
        counts: dict[str, int] = {}
        for r in rows:
            counts[r.source] = counts.get(r.source, 0) + int(r.party)
        for source, n in sorted(counts.items()):
            console.print(f"{source}: {n} parties to {treaty}")

    @treaties.command("check")
    def treaties_check(ctx: typer.Context, treaty: str = typer.Option("XVIII-12-a")) -> None:
        """Cross-check a loaded UNTC table against the GSI flags (as of 31 August 2022)."""
        got = _ledgers(ctx).cross_check(operator(None, Role.COORDINATOR), treaty)
        console.print(f"{treaty}: {got['agree']} of {got['states']} states agree")
        for d in got["disagree"]:
            console.print(f"  {d['state']}: GSI {d['gsi']}, UNTC consent {d['untc_consent_date']}")

    @pledge.command("add")
    def pledge_add(ctx: typer.Context, donor: str = typer.Option(...),
                   donor_type: str = typer.Option("member_state"),
                   pledged_on: str = typer.Option(..., "--on"),
                   currency: str = typer.Option("USD"), amount: float = typer.Option(...),
                   paid: float = typer.Option(0.0), source: str = typer.Option(...),
                   by: str = BY) -> None:
        """Record a pledge to the UN Voluntary Trust Fund (with its source document)."""
        pledge_id = _ledgers(ctx).add_pledge(
            operator(by, Role.COORDINATOR), donor=donor, donor_type=donor_type,
            pledged_on=parse_date(pledged_on, "--on"), currency=currency,
            amount=amount, paid=paid, source_doc=source)
        console.print(f"Recorded pledge {pledge_id}.")

    @pledge.command("list")
    def pledge_list(ctx: typer.Context, donor: str = typer.Option(None),
                    json_out: bool = JSON) -> None:
        """Pledges and payments; the fund's indicators per currency."""
        svc = _ledgers(ctx)
        p = operator(None, Role.COORDINATOR)
        rows, summary = svc.pledges(p, donor), svc.pledge_indicators(p, donor=donor)
        if json_out:
            print_json({"pledges": [r.__dict__ for r in rows], "indicators": summary})
            return
        table = Table("donor", "type", "pledged on", "currency", "pledged", "paid", "source")
        for r in rows:
            table.add_row(r.donor, r.donor_type, r.pledged_on, r.currency,
                          f"{r.amount_pledged / 100:,.2f}", f"{r.amount_paid / 100:,.2f}",
                          r.source_doc)
        console.print(table)

    @group.command("outcomes")
    def outcomes_cmd(ctx: typer.Context, measure: str = typer.Option(..., help="The measure."),
                     start: str = typer.Option(..., help="Its start date, YYYY-MM-DD."),
                     country: str = typer.Option(None, help="ISO3, for the rate per 100,000."),
                     json_out: bool = JSON) -> None:
        """Outcomes for victims before and after a measure started (association, not proof)."""
        from ctip.services.followup_outcomes import outcomes_of

        when = parse_date(start, "--start")
        if when is None:
            raise typer.BadParameter("give --start")
        got = outcomes_of(settings(ctx), operator(None, Role.COORDINATOR), measure=measure,
                          start=when, country=country)
        if json_out:
            print_json(got)
            return
        table = Table("outcome", "before", "after", "change (95% interval)", "n")
        for o in got["outcomes"]:
            if o["effect"] is None:
                table.add_row(o["title"], "", "", o["note"], f"{o['n_before']}/{o['n_after']}")
            else:
                table.add_row(o["title"], f"{o['before']:.3g}", f"{o['after']:.3g}",
                              f"{o['effect']:.3g} ({o['low']:.3g} to {o['high']:.3g})",
                              f"{o['n_before']}/{o['n_after']}")
        console.print(table)
        console.print(f"[bold]{got['label']}[/]: " + " ".join(got["notes"]))

    @group.command("report")
    def report_cmd(ctx: typer.Context, cycle_id: str = typer.Option(..., "--cycle"),
                   out: Path = typer.Option(..., help="Folder for the report and its files."),
                   measure: str = typer.Option(None, help="A measure to show outcomes for."),
                   start: str = typer.Option(None, help="The measure's start date."),
                   donor: str = typer.Option(None, help="Trust Fund donor to report on."),
                   by: str = BY) -> None:
        """The country progress report (offline HTML with charts), JSON and SDMX-CSV."""
        from ctip.services.followup_outcomes import outcomes_of
        from ctip.services.followup_report import write_report

        svc = _service(ctx)
        p = operator(by, Role.COORDINATOR)
        outcome_data = None
        if measure:
            when = parse_date(start, "--start")
            if when is None:
                raise typer.BadParameter("--measure needs --start")
            outcome_data = outcomes_of(settings(ctx), p, measure=measure, start=when,
                                       country=svc.cycle(p, cycle_id).country)
        files = write_report(svc, p, cycle_id, out, outcome_data=outcome_data, donor=donor)
        for f in files.files:
            console.print(f"wrote {f}")
        for note in files.notes:
            console.print(note)
