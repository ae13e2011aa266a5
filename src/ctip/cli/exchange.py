"""``ctip exchange``: signed, encrypted packages between agencies and countries (issue 17).

Every command acts as a named ctip user (``--user``; role and agency apply). ``keys`` makes and
shows this agency's key files; ``directory`` is the root of trust (the anchor countersigns
cards and publishes the directory; agencies pin their anchor and import directories; anchors
cross-sign each other after checking fingerprints out of band). Packages are files
(``<package id>.ctipx``) that any transport can carry.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from ctip.cli.common import console, print_json, settings

if TYPE_CHECKING:
    from ctip.domain.access import Principal
    from ctip.services.exchange_payloads import ExchangePayloads

JSON = typer.Option(False, "--json", help="Print one JSON document instead of text.")
USER = typer.Option(..., "--user", help="The ctip user you act as (role and agency apply).")
TO = typer.Option(..., "--to", help="Recipient agency id; repeat.")
ITEMS = typer.Option(..., "--item", help="Evidence item hash or prefix; repeat.")
OUT = typer.Option(Path("."), "--out", help="Folder for the package written.",
                   file_okay=False)

exchange_app = typer.Typer(help="Signed, encrypted exchange packages between ctip instances.",
                           no_args_is_help=True)
keys_app = typer.Typer(help="This agency's exchange keys (key files, never the database).",
                       no_args_is_help=True)
directory_app = typer.Typer(help="Agency directory: the root of trust (anchors, cards, "
                            "cross-signing, import).", no_args_is_help=True)
exchange_app.add_typer(keys_app, name="keys")
exchange_app.add_typer(directory_app, name="directory")


def _open(ctx: typer.Context, user: str) -> tuple[ExchangePayloads, Principal]:
    from ctip.services.accounts import Accounts
    from ctip.services.exchange_payloads import ExchangePayloads

    x = ExchangePayloads.open(settings(ctx))
    p = Accounts.from_settings(settings(ctx), x.engine, x.sealer, x.audit).principal_for(user)
    return x, p


def _read_json(path: Path) -> Any:
    from ctip.errors import InputFileError

    try:
        return json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as error:
        raise InputFileError(f"{path} is not a readable JSON file ({error}).") from None


def _write(path: Path, data: bytes | Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", "utf-8")
    console.print(f"written {path}", highlight=False)


def _rows(rows: list[dict[str, Any]], json_out: bool, *, one: bool = False) -> None:
    if json_out:
        print_json(rows[0] if one else rows)
        return
    for row in rows:
        console.print(row, highlight=False)


# ---- keys ------------------------------------------------------------------------------------
@keys_app.command("init")
def keys_init(ctx: typer.Context, user: str = USER,
              agency: str = typer.Option(..., "--agency", help="This agency's id."),
              name: str = typer.Option(..., "--name", help="Its legal name."),
              country: str = typer.Option(..., "--country", help="ISO 3166 code.")) -> None:
    """Create the signing key and a mailbox key (files under CTIP_HOME/keys/exchange)."""
    x, p = _open(ctx, user)
    for made in x.init_agency(p, agency=agency, name=name, country=country):
        console.print(f"[green]created[/] {made}", highlight=False)
    keys = x.agency_keys()
    console.print(f"signing key {keys.key_id}; mailbox {keys.recipients[0]}", highlight=False)


@keys_app.command("show")
def keys_show(ctx: typer.Context, user: str = USER, json_out: bool = JSON) -> None:
    """This agency's public keys (never the private ones)."""
    x, _ = _open(ctx, user)
    k = x.agency_keys()
    _rows([{"agency": k.agency, "country": k.country, "signing_key_id": k.key_id,
            "mailboxes": list(k.recipients)}], json_out, one=True)


@keys_app.command("rotate-mailbox")
def keys_rotate(ctx: typer.Context, user: str = USER) -> None:
    """A new mailbox key; the old ones stay to open packages already sent to them."""
    x, p = _open(ctx, user)
    console.print(f"new mailbox {x.rotate_mailbox(p)}: make a new card", highlight=False)


@keys_app.command("card")
def keys_card(ctx: typer.Context, out: Path = typer.Argument(..., dir_okay=False),
              user: str = USER, valid_days: int = typer.Option(365, "--valid-days"),
              serial: int = typer.Option(1, "--serial"),
              contact: str = typer.Option("", "--contact")) -> None:
    """Write this agency's card, self-signed, for the national anchor to countersign."""
    x, p = _open(ctx, user)
    _write(out, x.card(p, valid_days=valid_days, serial=serial, contact=contact))


# ---- directory -------------------------------------------------------------------------------
@directory_app.command("anchor-init")
def anchor_init(ctx: typer.Context, out: Path = typer.Argument(..., dir_okay=False),
                user: str = USER, anchor_id: str = typer.Option(..., "--id"),
                country: str = typer.Option(..., "--country"),
                name: str = typer.Option(..., "--name")) -> None:
    """Make this instance a national trust anchor; write its public record to OUT."""
    from ctip.services.exchange_directory import fingerprint_of

    x, p = _open(ctx, user)
    record = x.init_anchor(p, anchor_id=anchor_id, country=country, name=name)
    _write(out, record)
    console.print(f"fingerprint (give it out of band): {fingerprint_of(record)}",
                  highlight=False)


@directory_app.command("fingerprint")
def fingerprint(path: Path = typer.Argument(..., exists=True, dir_okay=False)) -> None:
    """The out-of-band fingerprint of an anchor record (12 groups of 5 digits)."""
    from ctip.services.exchange_directory import fingerprint_of

    console.print(fingerprint_of(_read_json(path)), highlight=False)


@directory_app.command("countersign")
def countersign(ctx: typer.Context, card: Path = typer.Argument(..., exists=True),
                user: str = USER) -> None:
    """Countersign an agency card as the national anchor (it joins the next directory)."""
    x, p = _open(ctx, user)
    entry = x.countersign(p, _read_json(card))
    console.print(f"countersigned {entry['card']['agency']} ({entry['card']['key_id']})",
                  highlight=False)


@directory_app.command("revoke")
def revoke(ctx: typer.Context, agency: str = typer.Argument(...),
           key_id: str = typer.Argument(...), user: str = USER,
           reason: str = typer.Option(..., "--reason")) -> None:
    """Revoke an agency's signing key (in the next directory published)."""
    x, p = _open(ctx, user)
    x.revoke_key(p, agency=agency, key_id=key_id, reason=reason)
    console.print(f"revoked {key_id}; publish the directory now", highlight=False)


@directory_app.command("publish")
def publish(ctx: typer.Context, out: Path = typer.Argument(..., dir_okay=False),
            user: str = USER) -> None:
    """Sign the anchor's directory with the next serial and write it to OUT."""
    x, p = _open(ctx, user)
    _write(out, x.publish(p))


@directory_app.command("trust")
def trust(ctx: typer.Context, anchor: Path = typer.Argument(..., exists=True),
          user: str = USER, fingerprint_given: str = typer.Option(..., "--fingerprint",
          help="As received from the anchor on another channel.")) -> None:
    """Pin this instance's national anchor (never without its fingerprint)."""
    x, p = _open(ctx, user)
    x.trust_anchor(p, _read_json(anchor), fingerprint_given)
    console.print("anchor pinned", highlight=False)


@directory_app.command("cross-sign")
def cross_sign(ctx: typer.Context, anchor: Path = typer.Argument(..., exists=True),
               out: Path = typer.Argument(..., dir_okay=False), user: str = USER,
               fingerprint_given: str = typer.Option(..., "--fingerprint"),
               agreement: str = typer.Option(..., "--agreement",
                                             help="MoU or MLA treaty reference."),
               valid_days: int = typer.Option(365, "--valid-days")) -> None:
    """As anchor, trust a foreign anchor whose fingerprint you checked out of band; the
    statement (OUT) also goes to this country's agencies (`directory add-cross`)."""
    x, p = _open(ctx, user)
    _write(out, x.cross_sign(p, _read_json(anchor), fingerprint_given=fingerprint_given,
                             agreement=agreement, valid_days=valid_days))


@directory_app.command("add-cross")
def add_cross(ctx: typer.Context, statement: Path = typer.Argument(..., exists=True),
              user: str = USER) -> None:
    """Keep a cross-sign statement made by our own anchor."""
    x, p = _open(ctx, user)
    x.add_cross_signature(p, _read_json(statement))
    console.print("cross-signature kept", highlight=False)


@directory_app.command("import")
def import_directory(ctx: typer.Context, path: Path = typer.Argument(..., exists=True),
                     user: str = USER) -> None:
    """Verify and keep a directory (its anchor must be ours or cross-signed by ours)."""
    x, p = _open(ctx, user)
    console.print(f"directory serial {x.import_directory(p, _read_json(path))} imported",
                  highlight=False)


@directory_app.command("show")
def directory_show(ctx: typer.Context, user: str = USER, json_out: bool = JSON) -> None:
    """Trusted anchors (with fingerprints) and current directories."""
    x, _ = _open(ctx, user)
    _rows([x.summary()], json_out, one=True)


# ---- packages and referrals ------------------------------------------------------------------
@exchange_app.command("refer")
def refer(ctx: typer.Context, case_id: str = typer.Argument(..., metavar="CASE"),
          user: str = USER, to: str = typer.Option(..., "--to", help="Recipient agency id."),
          profile: str = typer.Option("cross-border-return", "--profile"),
          field: list[str] = typer.Option(..., "--field", help="A field to share; repeat."),  # noqa: B008
          need: list[str] = typer.Option([], "--need", help="A need to name; repeat."),  # noqa: B008
          out: Path = OUT) -> None:
    """Refer CASE to an agency of another ctip instance: only the fields named leave."""
    x, p = _open(ctx, user)
    sent = x.refer_abroad(p, case_id, to_agency=to, profile_id=profile, fields=field,
                          needs=need)
    _write(out / sent.file_name, sent.data)


@exchange_app.command("send-findings")
def send_findings(ctx: typer.Context,
                  entities: Path = typer.Argument(..., exists=True, dir_okay=False,
                                                  help="FtM NDJSON (finflows or supply export)."),
                  user: str = USER, to: list[str] = TO,
                  legal_basis: str = typer.Option("statute", "--legal-basis",
                                                  help="statute or mla-request"),
                  out: Path = OUT) -> None:
    """Send investigation findings (FollowTheMoney entities), profile ``investigation``."""
    x, p = _open(ctx, user)
    lines = [json.loads(line) for line in entities.read_text("utf-8").splitlines()
             if line.strip()]
    sent = x.send_findings(p, to=to, entities=lines, legal_basis=legal_basis)
    _write(out / sent.file_name, sent.data)


@exchange_app.command("send-statistics")
def send_statistics(ctx: typer.Context,
                    sdmx: Path = typer.Argument(..., exists=True, dir_okay=False,
                                                help="The SDMX-CSV file ctip publish wrote."),
                    user: str = USER, to: list[str] = TO, out: Path = OUT) -> None:
    """Send published statistics (SDMX-CSV), profile ``statistics``."""
    x, p = _open(ctx, user)
    sent = x.send_statistics(p, to=to, sdmx_csv=sdmx.read_bytes())
    _write(out / sent.file_name, sent.data)


@exchange_app.command("send-evidence")
def send_evidence(ctx: typer.Context, case_id: str = typer.Argument(..., metavar="CASE"),
                  user: str = USER, to: list[str] = TO,
                  item: list[str] = ITEMS,
                  purpose: str = typer.Option("prosecution", "--purpose"),
                  note: str | None = typer.Option(None, "--note"), out: Path = OUT) -> None:
    """Send evidence items with their custody excerpt, profile ``mla-evidence``."""
    from ctip.services.evidence import Locker

    x, p = _open(ctx, user)
    sent = x.send_evidence(p, Locker.over(x.casework, settings(ctx)), case_id, to=to,
                           items=item, purpose=purpose, note=note)
    _write(out / sent.file_name, sent.data)


@exchange_app.command("files")
def files(ctx: typer.Context, package_id: str = typer.Argument(...), user: str = USER,
          out: Path = typer.Option(..., "--out", file_okay=False,
                                   help="Folder for the payload files (the read is audited).")
          ) -> None:
    """Write the payload files of a received package (any kind) to a folder."""
    x, p = _open(ctx, user)
    for path, data in sorted(x.open_files(p, package_id).items()):
        _write(out / Path(path).name, data)


@exchange_app.command("receive")
def receive(ctx: typer.Context, package: Path = typer.Argument(..., exists=True),
            user: str = USER, out: Path = OUT) -> None:
    """Check and take in a package; writes the signed receipt to send back."""
    x, p = _open(ctx, user)
    got = x.receive(p, package.read_bytes())
    console.print(f"{got.kind} {got.package_id} from {got.sender} ({got.profile})"
                  + (" [yellow]signed by a key later revoked[/]" if got.later_revoked else "")
                  + f"; time-stamp: {got.timestamp}", highlight=False)
    if got.reply is not None:
        _write(out / got.reply.file_name, got.reply.data)


@exchange_app.command("inbox")
def inbox(ctx: typer.Context, user: str = USER, json_out: bool = JSON) -> None:
    """Referrals received from other instances."""
    x, p = _open(ctx, user)
    _rows(x.inbox(p), json_out)


@exchange_app.command("show")
def show(ctx: typer.Context, referral_id: str = typer.Argument(...), user: str = USER) -> None:
    """The shared fields of an incoming referral (the read is audited)."""
    x, p = _open(ctx, user)
    print_json(x.referral(p, referral_id))


@exchange_app.command("answer")
def answer(ctx: typer.Context, referral_id: str = typer.Argument(...), user: str = USER,
           decision: str = typer.Option(..., "--answer", help="accepted, declined, completed"),
           outcome: str | None = typer.Option(None, "--outcome"), out: Path = OUT) -> None:
    """Answer an incoming referral; the signed answer is written to send back."""
    x, p = _open(ctx, user)
    sent = x.answer(p, referral_id, answer=decision, outcome=outcome)
    _write(out / sent.file_name, sent.data)


@exchange_app.command("recall")
def recall(ctx: typer.Context, package_id: str = typer.Argument(...), user: str = USER,
           reason: str = typer.Option(..., "--reason"), out: Path = OUT) -> None:
    """Recall a package sent (a ctip receiver shreds it and confirms)."""
    x, p = _open(ctx, user)
    sent = x.recall(p, package_id, reason=reason)
    _write(out / sent.file_name, sent.data)


@exchange_app.command("packages")
def packages(ctx: typer.Context, user: str = USER, json_out: bool = JSON) -> None:
    """Packages sent and received, with their status."""
    x, _ = _open(ctx, user)
    _rows(x.packages(), json_out)


@exchange_app.command("purge-expired")
def purge_expired(ctx: typer.Context, user: str = USER) -> None:
    """Shred every received package past its signed expiry."""
    x, p = _open(ctx, user)
    console.print(f"purged {len(x.purge_expired(p))} package(s)", highlight=False)


def register(app: typer.Typer) -> None:
    """Add this area's commands to the root app."""
    app.add_typer(exchange_app, name="exchange")
