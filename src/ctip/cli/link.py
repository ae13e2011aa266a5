"""``ctip link``: deduplicate and link victim records, and privacy-preserving linkage.

Inside one authority: ``run`` (Splink over the store), ``review``, ``export``, ``histories``.
Between agencies that may not share names: ``keygen`` (once, shared secretly between agencies),
``encode`` (at each agency), ``match`` (at the linkage unit, which never holds the key).
"""

from __future__ import annotations

import base64
import getpass
import json
import os
import secrets
from pathlib import Path

import typer

from ctip.cli.common import console, err_console, print_json, settings

JSON = typer.Option(False, "--json", help="Print one JSON document instead of text.")
STRATA = typer.Option("", "--strata", help="Comma-separated strata, e.g. sex,age_group.")

link_app = typer.Typer(
    help="Link victim records across agencies' lists (deduplication, PPRL).", no_args_is_help=True
)


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _strata(text: str) -> list[str]:
    return [s.strip() for s in text.split(",") if s.strip()]


def _work(ctx: typer.Context):
    from ctip.services.linkage import LinkageWork

    return LinkageWork.open(settings(ctx), actor=_actor())


def _write_frame(path: Path, frame) -> int:
    from ctip.services.linkage import write_frame

    return write_frame(path, frame)


@link_app.command("run")
def run(
    ctx: typer.Context,
    lists: str = typer.Option("agency", "--lists", help="What a list is: agency or agency_type."),
    engine: str = typer.Option("duckdb", "--engine", help="duckdb (default) or spark."),
    threshold: float = typer.Option(
        0.95,
        "--threshold",
        min=0.5,
        max=1.0,
        help="Match probability at which two records are one person.",
    ),
    review_threshold: float = typer.Option(
        0.8,
        "--review-threshold",
        min=0.0,
        max=1.0,
        help="Pairs from here up to --threshold go to review.",
    ),
    reason: str = typer.Option(
        "linkage run for statistics and estimation",
        "--reason",
        help="Why identities are opened (written to the audit log).",
    ),
    json_out: bool = JSON,
) -> None:
    """Deduplicate and link every victim record in the store (Splink; identities stay in memory)."""
    with _work(ctx) as work, (
        console.status("Linking records (train, predict, cluster)...") if not json_out else _Null()
    ):
        result = work.run(lists=lists, reason=reason, engine=engine, match_threshold=threshold,
                          review_threshold=review_threshold)
    run_ = result.run
    data = {
        "run_id": run_.run_id,
        "records": run_.records,
        "people": run_.clusters,
        "review_pairs": result.review_count,
        "lists_by": lists,
        "engine": engine,
        "match_threshold": threshold,
        "capture_histories": result.histories.to_dict(orient="records"),
        "notices": result.notices,
    }
    if json_out:
        print_json(data)
        return
    for notice in result.notices:
        err_console.print(f"[yellow]Notice:[/] {notice}", highlight=False)
    console.print(
        f"Linked {run_.records} records into [bold]{run_.clusters}[/] people "
        f"(threshold {threshold}); {result.review_count} pairs to review (borderline, or refused "
        "links whose dates of birth disagree: `ctip link review`)."
    )
    console.print(result.histories.to_string(index=False))


class _Null:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


@link_app.command("review")
def review(
    ctx: typer.Context,
    decide: int = typer.Option(None, "--decide", help="Resolve this review item (with --as)."),
    as_: str = typer.Option(None, "--as", help="match or non_match"),
    show_identity: bool = typer.Option(
        False, "--show-identity", help="Open the two identities (audited) to compare them."
    ),
    json_out: bool = JSON,
) -> None:
    """List borderline pairs, or resolve them: interactively, or with --decide ID --as match."""
    with _work(ctx) as work:
        if decide is not None:
            if as_ not in ("match", "non_match"):
                raise typer.BadParameter("--as must be match or non_match", param_hint="--as")
            work.resolve(decide, as_)
            if json_out:
                print_json({"review_id": decide, "decision": as_})
            else:
                console.print(f"Review item {decide}: {as_}.")
            return
        items = work.reviews()
        if json_out:
            print_json([item.__dict__ for item in items])
            return
        if not items:
            console.print("No open review items.")
            return
        interactive = os.isatty(0)
        for item in items:
            console.print(
                f"[bold]#{item.review_id}[/] p={item.match_probability:.3f}  "
                f"{item.victim_id_l}  <->  {item.victim_id_r}",
                highlight=False,
            )
            if show_identity:
                ids = work.identities(
                    [item.victim_id_l, item.victim_id_r],
                    reason=f"linkage review item {item.review_id}",
                )
                for vid in (item.victim_id_l, item.victim_id_r):
                    ident = ids.get(vid)
                    if ident is not None:
                        console.print(
                            f"    {ident.given_name or '?'} {ident.family_name or '?'}"
                            f"  born {ident.date_of_birth or '?'}",
                            highlight=False,
                        )
            if interactive:
                answer = typer.prompt("Same person? [y]es/[n]o/[s]kip/[q]uit", default="s")
                if answer.lower().startswith("q"):
                    break
                if answer.lower()[:1] in ("y", "n"):
                    work.resolve(
                        item.review_id, "match" if answer.lower().startswith("y") else "non_match"
                    )


@link_app.command("export")
def export(
    ctx: typer.Context,
    out: Path = typer.Option(..., "--out", help="CSV file to write."),
    json_out: bool = JSON,
) -> None:
    """Write one row per record of the latest run: agency, source_record_id, cluster_id."""
    with _work(ctx) as work:
        frame = work.clusters()[["agency", "source_record_id", "cluster_id"]]
    rows = _write_frame(out, frame)
    if json_out:
        print_json({"out": str(out), "rows": rows})
    else:
        console.print(f"Wrote {rows} rows to {out}.")


@link_app.command("histories")
def histories(
    ctx: typer.Context,
    out: Path = typer.Option(..., "--out", help="CSV file for `ctip estimate`."),
    strata: str = STRATA,
    json_out: bool = JSON,
) -> None:
    """Write the capture-history table of the latest run (0/1 per list, strata, count)."""
    with _work(ctx) as work:
        frame = work.histories(_strata(strata))
    rows = _write_frame(out, frame)
    if json_out:
        print_json({"out": str(out), "rows": rows, "people": int(frame["count"].sum())})
    else:
        console.print(
            f"Wrote {rows} capture patterns ({int(frame['count'].sum())} people) to {out}."
        )


@link_app.command("keygen")
def keygen(out: Path = typer.Option(..., "--out", help="Key file to create (mode 0600).")) -> None:
    """Make a shared linkage secret. Give it to the agencies only, never to the linkage unit."""
    if out.exists():
        raise typer.BadParameter(f"{out} exists; refusing to overwrite a key", param_hint="--out")
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(base64.b64encode(secrets.token_bytes(32)).decode() + "\n")
    console.print(
        f"Wrote a new linkage secret to {out}. Share it with the agencies over a "
        "secure channel; the linkage unit must not receive it."
    )


@link_app.command("encode")
def encode(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="The agency's records file (CSV, XLSX or JSONL)."),
    agency: str = typer.Option(..., "--agency", help="This agency's list name."),
    out: Path = typer.Option(..., "--out", help="Encodings file to send to the linkage unit."),
    key_file: Path = typer.Option(
        None, "--key-file", help="Shared linkage secret (or CTIP_LINKAGE_KEY)."
    ),
    profile: str = typer.Option("canonical", "--profile", help="Import profile of the file."),
    json_out: bool = JSON,
) -> None:
    """Encode an agency's records into keyed Bloom filters (run at the agency)."""
    from ctip.services.linkage import encode_file, read_secret

    secret = read_secret(key_file, settings(ctx).linkage_key)
    doc, encoded, rejected = encode_file(file, agency=agency, secret=secret, profile=profile)
    out.write_text(json.dumps(doc), encoding="utf-8")
    data = {"out": str(out), "agency": agency, "encoded": encoded, "rejected": rejected}
    if json_out:
        print_json(data)
    else:
        console.print(
            f"Encoded {encoded} records of {agency} to {out}"
            + (f" ({rejected} rows rejected: fix them with `ctip import`)" if rejected else ".")
        )


@link_app.command("match")
def match(
    encoded: list[Path] = typer.Argument(..., help="Encodings files, one per agency."),
    threshold: float = typer.Option(
        0.75,
        "--threshold",
        min=0.5,
        max=1.0,
        help="Dice similarity at which two encodings are one person.",
    ),
    clusters_out: Path = typer.Option(None, "--clusters", help="CSV: list, id, cluster_id."),
    histories_out: Path = typer.Option(None, "--histories", help="CSV capture histories."),
    json_out: bool = JSON,
) -> None:
    """Link agencies' encodings by Dice similarity (run at the linkage unit; sees no names)."""
    from ctip.services.linkage import match_files

    if len(encoded) < 1:
        raise typer.BadParameter("give at least one encodings file")
    result, hist = match_files(encoded, threshold=threshold)
    if clusters_out:
        _write_frame(clusters_out, result.clusters)
    if histories_out:
        _write_frame(histories_out, hist)
    data = {
        "records": len(result.clusters),
        "people": int(result.clusters["cluster_id"].nunique()),
        "links": len(result.pairs),
        "comparisons": result.comparisons,
        "capture_histories": hist.to_dict(orient="records"),
    }
    if json_out:
        print_json(data)
    else:
        err_console.print(
            f"{data['records']} records, {data['people']} people, "
            f"{data['links']} links ({result.comparisons:,} comparisons)."
        )
        console.print(hist.to_string(index=False))


def register(app: typer.Typer) -> None:
    """Add this area's commands to the root app."""
    app.add_typer(link_app, name="link")
