"""``ctip estimate FILE``: multiple systems estimation of the number of victims on no list."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from ctip.cli.common import console, print_json, progress


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _model_label(r: Any) -> str:
    if r.method == "lcmcr":
        return f"latent classes (K={r.details.get('K', '?')})"
    return " ".join(r.model) or "main effects"


def _short_reason(reason: str) -> str:
    return "not identifiable" if "not identifiable" in reason else "MLE does not exist"


def _show(results: list[Any], title: str) -> None:
    strata = results[0].stratum is not None
    table = Table(title=title, title_justify="left")
    if strata:
        for col in results[0].stratum:
            table.add_column(col)
    for col in ("observed", "estimate N", "hidden", "95% interval", "model"):
        table.add_column(col, justify="right" if col != "model" else "left")
    for r in results:
        cells = [str(v) for v in r.stratum.values()] if strata else []
        if r.estimable:
            cells += [
                f"{r.observed:,}",
                _fmt(r.estimate),
                _fmt(r.hidden),
                f"{_fmt(r.ci_low)} to {_fmt(r.ci_high)}",
                _model_label(r),
            ]
        else:
            cells += [f"{r.observed:,}", "not estimable", "", "", r.reason]
        table.add_row(*cells)
    console.print(table)
    first = results[-1]
    console.print(
        f"method: {first.method}; lists: {', '.join(first.lists)}; interval: {first.interval}"
    )
    for r in results:
        for warning in r.warnings:
            label = f"{r.stratum}: " if strata else ""
            console.print(f"[yellow]warning:[/] {label}{warning}")


def _show_models(path: Path) -> None:
    from ctip.estimate.report import model_table
    from ctip.services.estimation import history_from_file

    frame = model_table(history_from_file(path))
    table = Table(title="Every candidate model (best BIC first)", title_justify="left")
    for col in ("model", "estimate", "95% Wald interval", "AIC", "BIC", "chosen by"):
        table.add_column(col, justify="left" if col in ("model", "chosen by") else "right")
    for row in frame.head(30).itertuples():
        if row.estimable:
            table.add_row(
                row.model,
                _fmt(row.estimate),
                f"{_fmt(row.ci_low)} to {_fmt(row.ci_high)}",
                f"{row.aic:.1f}",
                f"{row.bic:.1f}",
                row.selected_by,
            )
        else:
            table.add_row(row.model, "-", _short_reason(row.reason), "", "", "")
    console.print(table)
    if len(frame) > 30:
        console.print(f"... {len(frame) - 30} more models (use --json with --models for all)")


HELP = (
    "Estimate how many victims there are in total, including those on no agency's list.\n\n"
    "Multiple systems estimation over the overlaps between the lists. "
    "JSON output (--json): observed, estimate (total N), hidden, ci_low, ci_high, interval, "
    "method, model (interactions kept, as A:B), lists, estimable (with a reason when false). "
    "Methods and when not to trust a figure: docs/methods/estimation.md."
)


def register(app: typer.Typer) -> None:
    """Add ``ctip estimate``."""

    @app.command(help=HELP)
    def estimate(
        file: Path = typer.Argument(
            ...,
            help="Capture-history CSV/XLSX: one 0/1 column per list, "
            "optional strata columns, and `count` (people with that pattern).",
        ),
        method: str = typer.Option(
            "stepwise",
            help="stepwise (SparseMSE), aic, bic, main "
            "(main effects only), lcmcr (Bayesian latent classes), bayesthresh.",
        ),
        threshold: float = typer.Option(0.02, help="p-value threshold of the stepwise selection."),
        strata: list[str] = typer.Option(
            [],
            "--strata",
            help="Column to estimate separately by (repeatable); a total row is added.",
        ),
        bootstrap: int = typer.Option(
            0,
            help="Bootstrap replicates (model selection repeated in "
            "each); 0 = Wald interval. 1000 is the usual choice.",
        ),
        seed: int = typer.Option(
            1234, help="Random seed (bootstrap, LCMCR): same seed, same answer."
        ),
        interval: str = typer.Option("auto", help="auto, wald, profile or bootstrap."),
        level: float = typer.Option(0.95, help="Interval level."),
        iterations: int = typer.Option(
            10_000, help="LCMCR: Gibbs iterations per chain after burn-in."
        ),
        chains: int = typer.Option(4, help="LCMCR: number of chains (for R-hat)."),
        workers: int = typer.Option(1, help="Processes for the bootstrap."),
        models: bool = typer.Option(
            False,
            "--models",
            help="Also show every candidate model "
            "(estimate, interval, AIC, BIC): how much the answer depends on it.",
        ),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
    ) -> None:
        """Estimate how many victims there are in total, including those on no agency's list."""
        from ctip.services.estimation import estimate_file, progress_total

        lcmcr_options = {
            "iterations": iterations,
            "chains": chains,
            "burnin": max(1000, iterations // 5),
        }
        total = (
            progress_total(
                file,
                method=method,
                bootstrap=bootstrap,
                interval=interval,
                lcmcr_options=lcmcr_options,
            )
            if not strata
            else 0
        )
        options: dict[str, Any] = dict(
            method=method,
            strata=strata,
            threshold=threshold,
            interval=interval,
            bootstrap=bootstrap,
            seed=seed,
            level=level,
            workers=workers,
            lcmcr_options=lcmcr_options,
        )
        if total:
            with progress() as bar:
                what = "LCMCR sampling" if method == "lcmcr" else "bootstrap with selection"
                task = bar.add_task(what, total=total)
                result = estimate_file(file, on_progress=lambda k: bar.advance(task, k), **options)
        else:
            result = estimate_file(file, **options)
        results = result if isinstance(result, list) else [result]
        if as_json:
            payload: Any = [r.to_dict() for r in results] if strata else results[0].to_dict()
            if models:
                from ctip.estimate.report import model_table
                from ctip.services.estimation import history_from_file

                frame = model_table(history_from_file(file))
                payload = {
                    "result": payload,
                    "models": frame.drop(columns=["terms"]).to_dict(orient="records"),
                }
            print_json(payload)
            return
        _show(results, f"Multiple systems estimation: {file.name}")
        if models:
            _show_models(file)
