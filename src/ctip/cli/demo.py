"""``ctip demo``: run the main job on the embedded default and show what it did."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from ctip.cli.common import console, print_json, progress


def _counts_table(title: str, rows: list[tuple[str, int]], total: int) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column(title.split(" by ")[-1])
    table.add_column("records", justify="right")
    table.add_column("share", justify="right")
    for value, n in rows:
        table.add_row(value, f"{n:,}", f"{n / total:.1%}" if total else "-")
    return table


def _show(result: Any) -> None:
    imports = Table(title="Imports (read = accepted + rejected)", title_justify="left")
    for col in ("file", "batch", "read", "accepted", "rejected", "new", "unchanged"):
        imports.add_column(col, justify="left" if col in {"file", "batch"} else "right")
    for r in result.imports:
        imports.add_row(
            Path(r.file).name,
            r.batch_id[-12:],
            f"{r.read:,}",
            f"{r.accepted:,}",
            f"{r.rejected:,}",
            f"{r.new:,}",
            f"{r.unchanged:,}",
        )
    console.print(imports)
    total = result.summary.get("records", 0)
    console.print(
        f"\n[bold]{total:,}[/] victim records stored (identity sealed, never shown here)."
    )
    for label in ("sex", "age group", "form of exploitation (UNODC)"):
        console.print(_counts_table(f"Records by {label}", result.summary.get(label, []), total))
    if result.rejects:
        rejects = Table(
            title=f"Rejected rows ({len(result.rejects)}), kept with their reasons",
            title_justify="left",
        )
        rejects.add_column("file")
        rejects.add_column("row", justify="right")
        rejects.add_column("reasons")
        for r in result.rejects:
            rejects.add_row(Path(r.source_file).name, str(r.source_row), "\n".join(r.reasons))
        console.print(rejects)
    _show_later_stages(result)


def _show_later_stages(result: Any) -> None:
    from ctip.demo_data.generate import TRUE_POPULATION

    if result.linkage is not None:
        run = result.linkage.run
        console.print(
            f"\n[bold]Linkage[/]: {run.records:,} records -> {run.clusters:,} people; "
            f"{result.linkage.review_count:,} pairs wait in the review queue (borderline scores, "
            "or links refused because the dates of birth disagree: `ctip link review`)."
        )
        check = result.linkage_check
        if check:
            console.print(
                f"  Against the demo's ground truth: the agencies met {check['people_true']:,} "
                f"different people; pairwise precision {check['precision']:.2f}, recall "
                f"{check['recall']:.2f}. Records left unlinked look like people only one agency "
                "met, which inflates the estimate below; reviewing those pairs helps."
            )
    est = result.estimate
    if est is not None:
        if est.estimable:
            console.print(
                f"[bold]Estimate[/] ({est.method}, {est.interval} interval): "
                f"{est.observed:,} victims known to the {len(est.lists)} agencies; "
                f"about [bold]{est.estimate:,.0f}[/] in all "
                f"(95% interval {est.ci_low:,.0f} to {est.ci_high:,.0f}), so about "
                f"{est.hidden:,.0f} never met by any of them. Model terms: "
                f"{', '.join(est.model) or 'main effects only'}."
            )
            _show_sensitivity(est, result.other_estimates)
            console.print(f"  (The synthetic population really had {TRUE_POPULATION:,} people.)")
        else:
            console.print(f"[bold]Estimate[/]: not estimable: {est.reason}")
    if result.finance:
        _show_finance(result.finance)
    if result.supply:
        s = result.supply
        console.print(f"\n[bold]Supply chains[/] (para 30): {s['read']:,} purchase lines read = "
                      f"{s['accepted']:,} + {s['rejected']:,} rejected; {s['hits']:,} hits in "
                      f"{s['groups']:,} groups, {s['queued']:,} on the due-diligence queue "
                      f"(`ctip supply queue`). Report: {s['report']['by_supplier']}. A hit is "
                      "sector and geography risk, not an allegation.")
    if result.report is not None:
        console.print(f"[bold]Report[/]: {result.report.report}")
        for path in result.report.files:
            if path != result.report.report:
                console.print(f"  export: {path}")
    if result.evidence:
        ev = result.evidence
        state = "verifies" if ev["verified"] else "[red]does NOT verify[/]"
        console.print(f"[bold]Evidence bundle[/]: {ev['bundle']} ({state}; locker key "
                      f"{ev['locker_key']}; check it with sha256sum and openssl: README.txt)")


def _show_finance(finance: dict[str, Any]) -> None:
    reads = ", ".join(f"{i['file']} {i['read']:,} read = {i['accepted']:,} + {i['rejected']:,}"
                      for i in finance["imports"])
    truth = finance["against_ground_truth"]
    console.print(
        f"\n[bold]Finance[/] (para 16): {reads}. {finance['transactions']:,} transactions of "
        f"{finance['accounts']:,} accounts screened: {finance['hits']:,} rule hits, "
        f"[bold]{finance['alerts']:,}[/] alerts ({finance['alerts_per_10k_accounts']:,} per "
        f"10,000 accounts) on the review queue (`ctip finflows review`). Against the "
        f"generator's truth: precision {truth['precision_any']:.2f}, recall "
        f"{truth['recall_any']:.2f}. The top alert's network: {finance['page']}")
    table = Table(title="Typologies found (synthetic truth)", title_justify="left")
    for col in ("typology", "accounts", "recall", "precision"):
        table.add_column(col, justify="left" if col == "typology" else "right")
    for name, v in truth["typologies"].items():
        table.add_row(name, str(v["accounts"]), f"{v['recall']:.2f}", f"{v['precision']:.2f}")
    console.print(table)


def _show_sensitivity(headline: Any, others: list[Any]) -> None:
    """The headline beside the other models' figures, and a warning when they disagree."""
    shown = [e for e in [headline, *others] if e.estimable]
    if len(shown) < 2:
        return
    table = Table(title="The same lists under each model", title_justify="left")
    table.add_column("Model")
    table.add_column("Estimate", justify="right")
    table.add_column("95% interval", justify="right")
    for e in shown:
        table.add_row(e.method + (" (headline)" if e is headline else ""), f"{e.estimate:,.0f}",
                      f"{e.ci_low:,.0f} to {e.ci_high:,.0f}")
    console.print(table)
    if max(e.ci_low for e in shown) > min(e.ci_high for e in shown):
        console.print(
            "  [yellow]The models disagree[/] (their intervals do not all overlap): read the "
            "range, not one number. The log-linear models (stepwise, BIC, AIC, thresholding) "
            "differ in which dependences between lists they keep; LCMCR instead allows for "
            "people who are more or less visible to every agency alike "
            "(docs/methods/estimation.md)."
        )


def register(app: typer.Typer) -> None:
    @app.command()
    def demo(
        directory: Path = typer.Option(
            Path("ctip-demo"),
            "--dir",
            help="Where the demo keeps its keys, database and outputs (created if absent).",
        ),
        json_output: bool = typer.Option(False, "--json", help="Print one JSON object instead."),
    ) -> None:
        """Run the main job on synthetic data from four agencies: keys, a sealed SQLite store,
        imports that lose nothing, a summary, linkage, an estimate of the hidden number and the
        report with its exports. Safe to run again (re-imports add nothing)."""
        from ctip.demo import run_demo

        say = (lambda _msg: None) if json_output else console.print
        with progress() as bar:
            tasks: dict[str, Any] = {}

            def on_progress(name: str, done: int, total: int) -> None:
                if name not in tasks:
                    tasks[name] = bar.add_task(f"import {name}", total=total or None)
                bar.update(tasks[name], completed=done, total=total or None)

            result = run_demo(directory, say=say, on_progress=None if json_output else on_progress)
        if json_output:
            print_json(
                {
                    "directory": str(result.directory),
                    "imports": [dataclasses.asdict(r) for r in result.imports],
                    "summary": result.summary,
                    "rejects": [
                        {"file": r.source_file, "row": r.source_row, "reasons": r.reasons}
                        for r in result.rejects
                    ],
                    "linkage": None
                    if result.linkage is None
                    else {
                        "records": result.linkage.run.records,
                        "people": result.linkage.run.clusters,
                        "review_pairs": result.linkage.review_count,
                        "against_ground_truth": result.linkage_check,
                    },
                    "estimate": None if result.estimate is None else result.estimate.to_dict(),
                    "finance": result.finance,
                    "supply": result.supply,
                    "other_estimates": [e.to_dict() for e in result.other_estimates],
                    "evidence": result.evidence,
                    "report": None
                    if result.report is None
                    else [str(p) for p in result.report.files],
                }
            )
        else:
            _show(result)
