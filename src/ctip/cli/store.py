"""Store commands: ``ctip init``, ``ctip backup``, ``ctip restore``, ``ctip keys init|rotate``,
``ctip audit verify``."""

from __future__ import annotations

import getpass
from pathlib import Path

import typer

from ctip.cli.common import console, err_console, print_json, progress, settings
from ctip.services.backup import backup, restore
from ctip.services.home import init_home, verify_audit
from ctip.services.keys import init_keys, rotate_keys

keys_app = typer.Typer(help="Create and rotate the sealing and pseudonym keys.",
                       no_args_is_help=True)
audit_app = typer.Typer(help="Check the hash-chained audit log.", no_args_is_help=True)

JSON = typer.Option(False, "--json", help="Print one JSON document instead of text.")


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _show(created: list[str], existing: list[str]) -> None:
    for item in created:
        console.print(f"[green]created[/] {item}", highlight=False)
    for item in existing:
        console.print(f"[dim]kept[/]    {item}", highlight=False)


def init(ctx: typer.Context, json_out: bool = JSON) -> None:
    """Create the ctip home (CTIP_HOME), the keys (0600) and the database, migrated to the latest
    schema. Safe to run again: nothing that exists is replaced."""
    report = init_home(settings(ctx))
    if json_out:
        print_json(report.as_dict())
        return
    _show(report.created, report.existing)
    console.print(f"ctip home ready: {report.home}", highlight=False)


@keys_app.command("init")
def keys_init(ctx: typer.Context, json_out: bool = JSON) -> None:
    """Create the sealing key ring and the pseudonym key where they are absent (never replaced:
    a replaced key would make every sealed value unreadable). Back both files up."""
    created, kept = init_keys(settings(ctx))
    if json_out:
        print_json({"created": created, "existing": kept})
        return
    _show(created, kept)


@keys_app.command("rotate")
def keys_rotate(
    ctx: typer.Context,
    json_out: bool = JSON,
    batch_size: int = typer.Option(2000, min=1, help="Rows re-sealed per committed batch."),
) -> None:
    """Re-seal every sealed value under a new key, then retire the old key. If interrupted, run
    it again: it resumes, and nothing is lost meanwhile (old keys stay until the end)."""
    with progress() as bar:
        task = bar.add_task("re-sealing", total=None)

        def on_batch(label: str, rows: int) -> None:
            bar.update(task, advance=rows, description=f"re-sealing {label}")

        report = rotate_keys(settings(ctx), actor=_actor(), batch_size=batch_size,
                             on_batch=on_batch)
    if json_out:
        print_json(report.as_dict())
        return
    if report.resumed:
        console.print("Resumed an unfinished rotation.")
    for label, count in report.resealed.items():
        console.print(f"re-sealed {count:>10,} values in {label}", highlight=False)
    console.print(f"active key: {report.new_key_id}; retired: "
                  f"{', '.join(report.retired_key_ids) or 'none'}", highlight=False)


@audit_app.command("verify")
def audit_verify(
    ctx: typer.Context,
    json_out: bool = JSON,
    expect_head: str | None = typer.Option(
        None, help="The head (SEQ:HASH or HASH) recorded earlier outside the database; "
        "detects entries cut off the end or a rewritten chain."),
) -> None:
    """Walk the audit log's hash chain. Exit 0 when it holds; exit 1 naming the first bad entry
    (edited, deleted, inserted or reordered)."""
    result = verify_audit(settings(ctx), expect_head=expect_head)
    if json_out:
        print_json({"ok": result.ok, "entries": result.entries, "first_bad": result.first_bad,
                    "problem": result.problem, "head_seq": result.head_seq,
                    "head_hash": result.head_hash})
    elif result.ok:
        head = f"{result.head_seq}:{result.head_hash}" if result.head_seq else "empty"
        console.print(f"[green]audit chain holds[/]: {result.entries} entries", highlight=False)
        console.print(f"head: {head}", highlight=False, soft_wrap=True)
        console.print("Record the head somewhere the database administrator cannot write, and "
                      "check it later with --expect-head.", style="dim")
    else:
        err_console.print(f"[bold red]audit chain broken[/] at entry {result.first_bad}: "
                          f"{result.problem}", highlight=False)
    if not result.ok:
        raise typer.Exit(1)


def backup_command(
    ctx: typer.Context,
    out: Path = typer.Option(..., "--out", "-o", help="Folder for the backup file and its "
                             "manifest (created 0700)."),
    keys_to: Path | None = typer.Option(
        None, "--keys-to", help="Also copy the key files here: another folder, on other "
        "storage, under other protection (never beside the database backup)."),
    json_out: bool = JSON,
) -> None:
    """Back up the SQLite database while ctip runs (SQLite's online backup API: every committed
    change, nothing half-written), with a manifest (SHA-256, audit head, keys' check values).
    Keys are not in the backup. PostgreSQL: prints the pg_dump command to use."""
    report = backup(settings(ctx), out, keys_to=keys_to)
    if json_out:
        print_json(report.as_dict())
        return
    console.print(f"[green]backed up[/] {report.bytes:,} bytes to {report.path} in "
                  f"{report.seconds:.1f} s", highlight=False)
    console.print(f"manifest {report.manifest}; audit head {report.audit_head}", highlight=False,
                  soft_wrap=True)
    if report.keys_copied_to:
        console.print(f"keys copied to {report.keys_copied_to}: keep them apart from the "
                      "database backups", highlight=False)
    else:
        console.print("The keys are not in this backup: keep a copy of the key files "
                      "elsewhere (`--keys-to`), or the backup cannot be read.", style="dim")


def restore_command(
    ctx: typer.Context,
    backup_file: Path = typer.Argument(..., help="A .db file written by `ctip backup`."),
    replace: bool = typer.Option(False, "--replace", help="Put the current database aside "
                                 "(renamed, kept) and restore in its place."),
    json_out: bool = JSON,
) -> None:
    """Restore a backup: checks its integrity and SHA-256, and that the keys in place are the
    ones it was sealed with, before anything is replaced; then migrates it and verifies the
    audit chain. PostgreSQL: prints the pg_restore command to use."""
    report = restore(settings(ctx), backup_file, replace=replace)
    if json_out:
        print_json(report.as_dict())
        return
    for aside in report.kept_aside:
        console.print(f"kept aside {aside}", highlight=False)
    console.print(f"[green]restored[/] {report.restored_from} to {report.database}: "
                  f"{report.audit_entries:,} audit entries verified, head {report.audit_head}",
                  highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add this area's commands to the root app."""
    app.command("init")(init)
    app.command("backup")(backup_command)
    app.command("restore")(restore_command)
    app.add_typer(keys_app, name="keys")
    app.add_typer(audit_app, name="audit")
