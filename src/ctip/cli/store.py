"""Store commands: ``ctip init``, ``ctip migrate``, ``ctip backup``, ``ctip restore``,
``ctip keys init|rotate``,
``ctip audit verify``."""

from __future__ import annotations

import getpass
from pathlib import Path

import typer

from ctip.cli.common import console, err_console, print_json, progress, settings
from ctip.services.backup import backup, restore
from ctip.services.home import adopt_audit_entries, init_home, migrate_home, verify_audit
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


def migrate(ctx: typer.Context, json_out: bool = JSON) -> None:
    """Upgrade the database to this version's schema, after an upgrade of ctip (back the
    database up first). Safe to run again. Other commands refuse a database that is behind."""
    report = migrate_home(settings(ctx))
    if json_out:
        print_json(report.as_dict())
        return
    if report.changed:
        console.print(f"[green]migrated[/] {report.database}: "
                      f"{', '.join(report.before) or 'empty'} -> {', '.join(report.after)}",
                      highlight=False, soft_wrap=True)
    else:
        console.print(f"{report.database} is up to date.", highlight=False)


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
        None, help="A head (SEQ:HASH, or HASH) recorded earlier outside the database: the chain "
        "must still contain that entry (entries appended since are fine)."),
    anchor: list[Path] = typer.Option(  # noqa: B006 - typer reads the default
        [], "--anchor", help="A checkpoint file (.json, with its .sig and .tsr beside it) "
        "written by `ctip audit checkpoint --out` and kept off the server; repeatable."),
) -> None:
    """Check the audit log: the hash chain, every entry's keyed tag (forged or rewritten
    entries fail), every signed, time-stamped checkpoint (entries cut off the end fail) and the
    recorded head. Exit 0 when all hold; exit 1 naming the first bad entry or checkpoint."""
    report = verify_audit(settings(ctx), expect_head=expect_head, anchors=anchor)
    result = report.chain
    if json_out:
        print_json({"ok": report.ok, "entries": result.entries, "first_bad": result.first_bad,
                    "problem": result.problem, "head_seq": result.head_seq,
                    "head_hash": result.head_hash, "tagged": result.tagged,
                    "checkpoints": report.checkpoints, "trusted_time": report.trusted_time,
                    "problems": [str(p) for p in report.problems]})
    elif report.ok:
        head = f"{result.head_seq}:{result.head_hash}" if result.head_seq else "empty"
        console.print(f"[green]audit chain holds[/]: {result.entries} entries, "
                      f"{report.checkpoints} checkpoints", highlight=False)
        console.print(f"head: {head}", highlight=False, soft_wrap=True)
        for line in report.trusted_time:
            console.print(f"trusted time: {line}", highlight=False)
        if not result.tagged:
            err_console.print("[yellow]keyed tags not checked[/] (no pseudonym key here): a "
                              "forged entry with a valid hash would not be noticed.")
        console.print("Keep the head and `ctip audit checkpoint --out` files where the "
                      "database administrator cannot write (docs/methods/evidence.md).",
                      style="dim")
    else:
        if not result.ok:
            err_console.print(f"[bold red]audit chain broken[/] at entry {result.first_bad}: "
                              f"{result.problem}", highlight=False)
        for problem in report.problems:
            err_console.print(f"[bold red]audit checkpoint fails[/]: {problem}",
                              highlight=False)
    if not report.ok:
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


@audit_app.command("checkpoint")
def audit_checkpoint(
    ctx: typer.Context,
    out: Path | None = typer.Option(
        None, help="Also write the checkpoint (.json, .sig, .tsr) to this folder: copy it "
        "somewhere the database administrator cannot write."),
) -> None:
    """Sign and time-stamp a checkpoint of the audit log (needs the notary key and the TSA:
    `ctip evidence setup`). Run it regularly (cron); `ctip audit verify` checks them all."""
    from ctip.services.anchoring import AUDIT_LOG, stored_checkpoints
    from ctip.services.evidence import Locker

    locker = Locker.open(settings(ctx))
    made = locker.checkpoint_audit()
    with locker.engine.connect() as conn:
        latest = stored_checkpoints(conn, AUDIT_LOG)[-1:]
    if not latest:
        console.print("The audit log is empty: nothing to checkpoint.")
        return
    console.print(f"checkpoint of entries 1..{latest[0].size}"
                  + ("" if made else " (already made; nothing new since)"), highlight=False)
    if out is not None:
        from ctip.services.anchoring import write_checkpoint_files

        for path in write_checkpoint_files(latest[0], out):
            console.print(f"wrote {path}", highlight=False)


@audit_app.command("adopt")
def audit_adopt(ctx: typer.Context) -> None:
    """Once, after upgrading a database whose audit entries predate keyed tags: check the
    chain, then tag those entries (trust on first use; recorded in the log)."""
    count = adopt_audit_entries(settings(ctx), actor=_actor())
    console.print(f"tagged {count} earlier entries", highlight=False)


def register(app: typer.Typer) -> None:
    """Add this area's commands to the root app."""
    app.command("init")(init)
    app.command("migrate")(migrate)
    app.command("backup")(backup_command)
    app.command("restore")(restore_command)
    app.add_typer(keys_app, name="keys")
    app.add_typer(audit_app, name="audit")
