"""``ctip evidence``: the evidence locker (issue 14; INVESTIGATIONS.md section 3).

Every command that touches a case acts as a named user (``--user``), checked by role and agency
like the web pages, and leaves a signed custody event. ``setup`` makes the notary key (and, for
tests and demos, a local OpenSSL TSA); ``verify`` checks the locker or an exported bundle.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from ctip.cli.common import console, err_console, print_json, progress, settings

if TYPE_CHECKING:
    from ctip.domain.access import Principal
    from ctip.services.evidence import Locker

JSON = typer.Option(False, "--json", help="Print one JSON document instead of text.")
USER = typer.Option(..., "--user", help="The ctip user you act as (role and agency apply).")
PURPOSE = typer.Option("investigation", "--purpose",
                       help="Why (investigation, prosecution, disclosure, court-order, "
                       "identification, quality-check, retention, victim-request, other).")
NOTE = typer.Option(None, "--note", help="A free-text note (sealed; the event keeps its hash).")

evidence_app = typer.Typer(
    help="Evidence locker: items kept unaltered, with a signed chain of custody and trusted time.",
    no_args_is_help=True)


def _locker(ctx: typer.Context) -> Locker:
    from ctip.services.evidence import Locker

    return Locker.open(settings(ctx))


def _principal(ctx: typer.Context, locker: Locker, user: str) -> Principal:
    from ctip.services.accounts import Accounts

    return Accounts.from_settings(settings(ctx), locker.engine, locker.sealer,
                                  locker.audit).principal_for(user)


@evidence_app.command("setup")
def setup(ctx: typer.Context, local_tsa: bool = typer.Option(
        False, "--local-tsa", help="Also make a local OpenSSL time-stamp authority under "
        "CTIP_HOME/tsa (tests and demos only; then set CTIP_TSA=local).")) -> None:
    """Create the notary key (signs checkpoints and bundles; back it up) where it is absent."""
    from ctip.services.anchoring import init_notary, load_notary
    from ctip.services.timestamping import init_local_tsa

    s = settings(ctx)
    created = init_notary(s)
    if local_tsa:
        created += init_local_tsa(s.resolved_tsa_dir)
    for item in created:
        console.print(f"[green]created[/] {item}", highlight=False)
    console.print(f"notary key fingerprint: {load_notary(s).key_id} (give it to those who "
                  "will verify your bundles, by another channel)", highlight=False)


@evidence_app.command("ingest")
def ingest(ctx: typer.Context, case_id: str = typer.Argument(..., metavar="CASE"),
           files: list[Path] = typer.Argument(..., exists=True, dir_okay=False),
           user: str = USER, source: str | None = typer.Option(
               None, "--source", help="Where the files came from (sealed)."),
           purpose: str = PURPOSE, note: str | None = NOTE,
           derived_from: str | None = typer.Option(
               None, "--derived-from", help="Hash of the original when these are working "
               "copies (redacted, converted)."),
           json_out: bool = JSON) -> None:
    """Hash, encrypt and store files as evidence of CASE, each with an RFC 3161 token."""
    locker = _locker(ctx)
    p = _principal(ctx, locker, user)
    done = []
    with progress() as bar:
        task = bar.add_task("ingesting", total=len(files))
        for path in files:
            with path.open("rb") as handle:
                got = locker.ingest(p, case_id, handle, name=path.name, origin=source,
                                    purpose=purpose, note=note, derived_from=derived_from)
            done.append(got)
            bar.advance(task)
    if json_out:
        print_json([{"sha256": g.item.sha256, "size": g.item.size, "mime": g.item.mime,
                     "new": g.new, "token_time": g.item.token_time} for g in done])
        return
    for g in done:
        state = "stored" if g.new else "already held (acquire recorded)"
        console.print(f"{g.item.sha256}  {g.item.size:>12,} B  {g.item.mime:<24} {state}",
                      highlight=False)


@evidence_app.command("log")
def log(ctx: typer.Context, case_id: str = typer.Argument(..., metavar="CASE"),
        user: str = USER, json_out: bool = JSON) -> None:
    """The items of CASE and its custody log (who did what, when, why)."""
    from rich.table import Table

    locker = _locker(ctx)
    p = _principal(ctx, locker, user)
    items, events = locker.items(p, case_id), locker.custody(p, case_id)
    if json_out:
        print_json({"items": [i.__dict__ for i in items], "events": events})
        return
    table = Table("sha256", "name", "type", "size", "acquired", "status", title="items")
    for i in items:
        table.add_row(i.sha256[:16], i.name, i.mime, f"{i.size:,}", str(i.acquired_at)[:19],
                      i.status + (" (legal hold)" if i.legal_hold else ""))
    console.print(table)
    table = Table("seq", "at", "action", "item", "actor", "purpose", title="custody log")
    for e in events:
        table.add_row(str(e["seq"]), e["at"][:19], e["action"], (e["item"] or "")[:16],
                      e["actor"], e["purpose"])
    console.print(table)


@evidence_app.command("export")
def export(ctx: typer.Context, case_id: str = typer.Argument(..., metavar="CASE"),
           out: Path = typer.Argument(..., help="A new folder for the bundle."),
           user: str = USER, purpose: str = typer.Option("prosecution", "--purpose"),
           note: str | None = NOTE, item: list[str] = typer.Option(  # noqa: B006
               [], "--item", help="Only this item (hash or prefix); repeatable.")) -> None:
    """Write a bundle a court can check with sha256sum and openssl alone (README.txt inside).
    The evidence in it is in plaintext: carry it on encrypted media."""
    from ctip.services.evidence_bundle import export_bundle

    locker = _locker(ctx)
    path = export_bundle(locker, _principal(ctx, locker, user), case_id, out, purpose=purpose,
                         note=note, items=item)
    console.print(f"bundle written to {path} (locker key {locker.notary.key_id})",
                  highlight=False)


@evidence_app.command("verify")
def verify(ctx: typer.Context,
           bundle: Path | None = typer.Argument(None, help="An exported bundle folder; "
                                                "without it the locker itself is checked."),
           case_id: list[str] = typer.Option([], "--case", help="Only this case; repeatable."),  # noqa: B006
           locker_key: str | None = typer.Option(
               None, "--locker-key", help="The locker key fingerprint the sender gave you."),
           tsa_ca: Path | None = typer.Option(None, "--tsa-ca", exists=True,
                                              help="The TSA root certificate you trust."),
           json_out: bool = JSON) -> None:
    """Re-check every hash, link, signature and token. Exit 0 when all hold, 11 otherwise."""
    from ctip.services.evidence_bundle import verify_folder, verify_locker

    if bundle is not None:
        report = verify_folder(bundle, trusted_locker=locker_key,
                               trusted_ca=tsa_ca.read_bytes() if tsa_ca else None)
        if json_out:
            print_json(report.as_dict())
        else:
            for line in report.checks:
                console.print(f"checked: {line}", highlight=False)
            for line in report.trusted_time:
                console.print(f"trusted time: {line}", highlight=False)
            if locker_key is None:
                console.print(f"[yellow]trusting the locker key inside the bundle[/] "
                              f"({report.locker_key}): compare it with the sender's, or pass "
                              "--locker-key", highlight=False)
        ok, problems = report.ok, report.problems
    else:
        found = verify_locker(_locker(ctx), case_id)
        if json_out:
            print_json({"ok": found.ok, "cases": found.cases, "items": found.items,
                        "events": found.events, "checkpoints": found.checkpoints,
                        "problems": [str(p) for p in found.problems]})
        else:
            console.print(f"checked {found.cases} cases, {found.items} items, {found.events} "
                          f"custody events, {found.checkpoints} checkpoints", highlight=False)
        ok, problems = found.ok, found.problems
    if not json_out:
        for problem in problems:
            err_console.print(f"[bold red]fails[/] {problem}", highlight=False)
        if ok:
            console.print("[green]evidence verifies[/]")
    if not ok:
        raise typer.Exit(11)


@evidence_app.command("capture")
def capture(ctx: typer.Context, case_id: str = typer.Argument(..., metavar="CASE"),
            url: str = typer.Argument(..., help="The page to capture (http or https)."),
            user: str = USER, purpose: str = PURPOSE, note: str | None = NOTE) -> None:
    """Capture a web page as WACZ (WARC inside) plus a full-page screenshot (headless
    Chromium), each hashed, time-stamped and logged as evidence of CASE."""
    from ctip.services.web_capture import capture_page

    locker = _locker(ctx)
    got = capture_page(locker, _principal(ctx, locker, user), case_id, url, purpose=purpose,
                       note=note)
    for g in got:
        console.print(f"{g.item.sha256}  {g.item.kind:<12} {g.item.name}", highlight=False)


@evidence_app.command("hold")
def hold(ctx: typer.Context, case_id: str = typer.Argument(..., metavar="CASE"),
         item: str = typer.Argument(..., help="Item hash or prefix."), user: str = USER,
         release: bool = typer.Option(False, "--release", help="Lift the hold instead."),
         purpose: str = typer.Option("court-order", "--purpose"), note: str | None = NOTE) -> None:
    """Place (or lift) a legal hold: an item under hold cannot be disposed of."""
    locker = _locker(ctx)
    view = locker.hold(_principal(ctx, locker, user), case_id, item, on=not release,
                       purpose=purpose, note=note)
    console.print(f"{view.sha256}: legal hold {'on' if view.legal_hold else 'off'}",
                  highlight=False)


@evidence_app.command("dispose")
def dispose(ctx: typer.Context, case_id: str = typer.Argument(..., metavar="CASE"),
            item: str = typer.Argument(..., help="Item hash or prefix."), user: str = USER,
            note: str | None = NOTE) -> None:
    """Dispose of an item at the end of retention (its hash, token and custody stay)."""
    locker = _locker(ctx)
    view = locker.dispose(_principal(ctx, locker, user), case_id, item, note=note)
    console.print(f"{view.sha256}: disposed", highlight=False)


@evidence_app.command("checkpoint")
def checkpoint(ctx: typer.Context) -> None:
    """Sign and time-stamp checkpoints of every custody log with new events and of the audit
    log (run it regularly, e.g. hourly from cron)."""
    for log_name, size in _locker(ctx).checkpoint():
        console.print(f"checkpoint {log_name}: {size} entries", highlight=False)


@evidence_app.command("revoke-key")
def revoke_key(ctx: typer.Context, username: str = typer.Argument(...)) -> None:
    """Revoke a user's signing keys (lost device, departure): any later signature by them
    fails verification; they get a new key at their next action."""
    import getpass

    locker = _locker(ctx)
    p = _principal(ctx, locker, username)
    ids = locker.revoke_keys(p.user_id, by=f"cli:{getpass.getuser()}")
    console.print(f"revoked {len(ids)} key(s) of {username}: {', '.join(ids) or 'none'}",
                  highlight=False)


def register(app: typer.Typer) -> None:
    """Add this area's commands to the root app."""
    app.add_typer(evidence_app, name="evidence")
