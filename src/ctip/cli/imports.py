"""Import commands: ``ctip import FILE`` and ``ctip rejects export``."""

from __future__ import annotations

import getpass
from pathlib import Path

import typer
from rich.table import Table

from ctip.cli.common import console, print_json, progress, settings
from ctip.services.importing import PROFILE_NAMES, ImportReport, export_rejects, import_path

rejects_app = typer.Typer(
    help="Rows rejected by imports, kept with their reasons.", no_args_is_help=True
)


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _summary(report: ImportReport) -> None:
    table = Table(title=f"Import of {report.file} ({report.profile})", show_header=False)
    table.add_column("", style="bold")
    table.add_column("", justify="right")
    for label, value in (
        ("rows read", report.read),
        ("accepted", report.accepted),
        ("  new", report.new),
        ("  unchanged (already stored)", report.unchanged),
        ("  updated", report.updated),
        ("rejected", report.rejected),
        ("  of which duplicates in the file", report.duplicates),
        ("  rejects newly kept", report.rejects_stored),
        *((("skipped (template label row, blank rows)", report.skipped),)
          if report.skipped else ()),
    ):
        table.add_row(label, f"{value:,}")
    if report.perpetrators_new or report.perpetrators_unchanged:
        table.add_row(
            "perpetrators new / unchanged",
            f"{report.perpetrators_new:,} / {report.perpetrators_unchanged:,}",
        )
    table.add_row("batch id", report.batch_id)
    console.print(table)
    for warning in report.warnings:
        console.print(f"[yellow]note:[/] {warning}", highlight=False, markup=True)
    if report.rejects_sample:
        console.print(
            f"[bold]First rejected rows[/] (all {report.rejected:,}: "
            f"`ctip rejects export --batch {report.batch_id}`):",
            highlight=False,
        )
        for reason in report.rejects_sample[:10]:
            console.print(f"  - {reason}", highlight=False, markup=False)


def register(app: typer.Typer) -> None:
    """Add this area's commands to the root app."""

    @app.command("import")
    def import_(
        ctx: typer.Context,
        file: Path = typer.Argument(
            ..., help="CSV (any common delimiter/encoding), XLSX or JSON Lines file."
        ),
        profile: str = typer.Option(
            "canonical",
            "--profile",
            "-p",
            help=f"Column layout of the file: {', '.join(PROFILE_NAMES)}.",
        ),
        agency: str = typer.Option(
            None,
            "--agency",
            "-a",
            help="Agency for rows that do not name one (and for CTDC files).",
        ),
        json_out: bool = typer.Option(
            False, "--json", help="Print one JSON object instead of text."
        ),
    ) -> None:
        """Import one agency file. Every row is accepted or rejected with its reasons (read =
        accepted + rejected, + skipped for a template's label row and blank numbered rows);
        rejected rows are kept (`ctip rejects export`). Importing the same
        file again adds nothing."""
        conf = settings(ctx)
        if json_out:
            report = import_path(conf, file, profile=profile, agency=agency, actor=_actor())
            print_json(report.as_dict())
            return
        with progress() as bar:
            task = bar.add_task(f"importing {file.name}", total=None)

            def on_progress(done: int, total: int | None) -> None:
                bar.update(task, completed=done, total=max(total, done) if total else None)

            report = import_path(
                conf, file, profile=profile, agency=agency, actor=_actor(), on_progress=on_progress
            )
        _summary(report)

    @rejects_app.command("export")
    def rejects_export(
        ctx: typer.Context,
        out: Path = typer.Option(
            Path("rejects.csv"), "--out", "-o", help="CSV or .xlsx file to write."
        ),
        batch: str = typer.Option(None, "--batch", help="Only this import batch (default: all)."),
        with_identity: bool = typer.Option(
            False,
            "--with-identity",
            help="Include each reject's raw content and the values its reasons quote (withheld "
            "by default: a row that did not split can hold names in any column). The file "
            "then holds identity in plaintext: keep it safe, delete it after use. Needs "
            "--reason; audited.",
        ),
        reason: str = typer.Option(
            None, "--reason", help="Why identity is exported (audited; never name the person)."
        ),
        json_out: bool = typer.Option(
            False, "--json", help="Print one JSON object instead of text."
        ),
    ) -> None:
        """Write rejected rows (file, row, columns at fault, reasons) to a CSV or XLSX file
        readable by you only (0600); raw content only with --with-identity. Cells that a
        spreadsheet would run as formulas are neutralised. Every export is audited."""
        count = export_rejects(
            settings(ctx),
            out,
            batch_id=batch,
            actor=_actor(),
            include_identity=with_identity,
            reason=reason,
        )
        if json_out:
            print_json({"out": str(out), "rejects": count, "batch_id": batch})
            return
        console.print(f"wrote {count:,} rejected rows to {out}", highlight=False)

    app.add_typer(rejects_app, name="rejects")
