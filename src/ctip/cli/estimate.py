"""``ctip estimate FILE``: multiple systems estimation of the number of victims on no list."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from ctip.cli.common import console, print_json, progress, settings


def _dga_options(delta: float | None, prior: str) -> dict[str, Any]:
    """--delta and --prior ("1/N", "uniform", "lognormal:MEDIAN:SDLOG") for dga."""
    from ctip.errors import ValidationError

    out: dict[str, Any] = {} if delta is None else {"delta": delta}
    kind, _, rest = prior.partition(":")
    if kind == "lognormal":
        try:
            median, _, sdlog = rest.partition(":")
            out.update(prior="lognormal", prior_median=float(median), prior_sdlog=float(sdlog or 1))
        except ValueError as error:
            raise ValidationError(
                "a log-normal prior is written lognormal:MEDIAN:SDLOG",
                column="--prior",
                value=prior,
                hint="e.g. --prior lognormal:12000:0.5",
            ) from error
    elif kind in ("1/N", "uniform"):
        out["prior"] = kind
    else:
        raise ValidationError(
            "unknown prior on N", column="--prior", value=prior, allowed="1/N, uniform, lognormal"
        )
    return out


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _model_label(r: Any) -> str:
    if r.method == "lcmcr":
        return f"latent classes (K={r.details.get('K', '?')})"
    if r.method == "dga":
        top = r.details.get("top_models") or [{}]
        return f"averaged over graphs; best {top[0].get('cliques', '?')}"
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


def _show_correction(r: Any) -> None:
    """What the linkage-error correction did: the rates it used, the figure without it."""
    c = r.details.get("linkage_correction")
    if not c:
        return
    e, raw = c["errors"], c["uncorrected"]
    console.print(
        f"[bold]Corrected for linkage errors[/] ({e['source']}): missed links "
        f"{e['missed_two_lists']:.1%} between lists, {e['missed_one_list']:.1%} within a list "
        f"(unlinked pairs inside clusters of 3+ records: {e['cluster_pairs_two_lists']:,} and "
        f"{e['cluster_pairs_one_list']:,} pairs); expected false links "
        f"{e['expected_false_links']:.1f} (the model's 1 - p); people "
        f"{c['observed_people_linked']:,} linked -> {c['observed_people_corrected']:,} corrected.",
        highlight=False,
    )
    console.print(
        f"Without the correction: {_fmt(raw['estimate'])} "
        f"[{_fmt(raw['ci_low'])} to {_fmt(raw['ci_high'])}], model "
        f"{', '.join(raw['model']) or 'main effects'}. Not covered: true pairs the blocking never "
        "compared, and errors concentrated in some people (docs/methods/estimation.md).",
        highlight=False,
    )


def _show_top_graphs(r: Any) -> None:
    """dga: the most probable graphs, their weights and what each alone would say."""
    table = Table(title="Most probable graphs (dga)", title_justify="left")
    for col in ("cliques", "posterior weight", "median N", "95% interval"):
        table.add_column(col, justify="left" if col == "cliques" else "right")
    for m in r.details.get("top_models", []):
        table.add_row(
            m["cliques"],
            f"{m['weight']:.1%}",
            _fmt(m["median"]),
            f"{_fmt(m['ci_low'])} to {_fmt(m['ci_high'])}",
        )
    console.print(table)


def _table_of_models(path: Path, method: str, maxorder: int | None) -> Any:
    from ctip.services.estimation import model_table_for_file

    return model_table_for_file(path, method=method, maxorder=maxorder)


def _show_models(path: Path, method: str, maxorder: int | None) -> None:
    frame = _table_of_models(path, method, maxorder)
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
        ctx: typer.Context,
        file: Path = typer.Argument(
            ...,
            help="Capture-history CSV/XLSX: one 0/1 column per list, "
            "optional strata columns, and `count` (people with that pattern).",
        ),
        method: str = typer.Option(
            "stepwise",
            help="stepwise (SparseMSE, the default), homeoffice (AIC stepwise with a p-value "
            "stop and profile intervals, Home Office 2014), aic, bic (every hierarchical model, "
            "three-way terms for 4-5 lists), main (main effects only), lcmcr (Bayesian latent "
            "classes), bayesthresh (Bayesian thresholding), dga (model averaging over "
            "decomposable graphs, HRDAG).",
        ),
        model: str | None = typer.Option(
            None,
            "--model",
            help='Fit this one model instead of selecting one, e.g. "LA:NG,NG:GP" or "A:B:C" '
            "(completed to a hierarchical model).",
        ),
        threshold: float | None = typer.Option(
            None,
            help="p-value threshold: stepwise 0.02 (SparseMSE), homeoffice 0.05; "
            "bayesthresh: |posterior mean|/sd, default 2.",
        ),
        maxorder: int | None = typer.Option(
            None,
            help="aic/bic: most lists in one interaction term (default 2 for 3 and 6 lists, "
            "3 for 4-5 lists, as MultipleSystemsEstimation); bayesthresh: 2 or 3.",
        ),
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
            1234, help="Random seed (bootstrap, MCMC): same seed, same answer."
        ),
        interval: str = typer.Option("auto", help="auto, wald, profile or bootstrap."),
        level: float = typer.Option(0.95, help="Interval level."),
        iterations: int = typer.Option(
            0,
            help="LCMCR: iterations per chain after burn-in; 0 (default) = until converged "
            "(R-hat < 1.01 and effective sample size >= 400).",
        ),
        max_iterations: int = typer.Option(
            400_000, help="LCMCR: cap on iterations per chain when running until converged."
        ),
        chains: int = typer.Option(4, help="MCMC chains (for R-hat)."),
        delta: float | None = typer.Option(
            None, help="dga: hyper-Dirichlet prior people per cell (default 2^-lists)."
        ),
        prior: str = typer.Option(
            "1/N",
            help="dga: prior on N: 1/N (as dga), uniform, or lognormal:MEDIAN:SDLOG.",
        ),
        workers: int = typer.Option(1, help="Processes for the bootstrap."),
        models: bool = typer.Option(
            False,
            "--models",
            help="Also show every candidate model "
            "(estimate, interval, AIC, BIC): how much the answer depends on it.",
        ),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
        model_sensitivity: bool = typer.Option(
            True, "--sensitivity/--no-sensitivity",
            help="Also estimate with every defensible method (stepwise, AIC, BIC, Bayesian "
            "thresholding, LCMCR) and print the range: one model's figure alone misleads.",
        ),
        linkage_run: str | None = typer.Option(
            None,
            "--linkage-run",
            help="Correct FILE (that run's `ctip link histories`) for the run's estimated "
            "linkage errors first: `latest` or a run id. The uncorrected figure is shown beside.",
        ),
    ) -> None:
        """Estimate how many victims there are in total, including those on no agency's list."""
        from ctip.services.estimation import estimate_file, progress_total

        errors = None
        if linkage_run:
            from ctip.services.linkage import LinkageWork, linkage_errors

            with LinkageWork.open(settings(ctx), actor="cli") as work:
                errors = linkage_errors(work.store, linkage_run)

        lcmcr_options: dict[str, Any] = {
            "iterations": iterations or None,
            "chains": chains,
            "max_iterations": max_iterations,
        }
        bayes_options: dict[str, Any] = {"chains": chains}
        if method == "bayesthresh":
            if threshold is not None:
                bayes_options["threshold"] = threshold
            if maxorder is not None:
                bayes_options["maxorder"] = maxorder
            threshold = maxorder = None
        options: dict[str, Any] = dict(
            method=method,
            strata=strata,
            threshold=threshold,
            interval=interval,
            bootstrap=bootstrap,
            seed=seed,
            level=level,
            workers=workers,
            maxorder=maxorder,
            model=model,
            lcmcr_options=lcmcr_options,
            dga_options=_dga_options(delta, prior),
            bayes_options=bayes_options,
            linkage_errors=errors,
        )
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
        if method == "lcmcr" and not strata and not as_json and not total:
            with progress() as bar:
                task = bar.add_task("LCMCR sampling until the chains converge", total=None)
                result = estimate_file(file, on_progress=lambda k: bar.advance(task, k), **options)
        elif total:
            with progress() as bar:
                what = "LCMCR sampling" if method == "lcmcr" else "bootstrap with selection"
                task = bar.add_task(what, total=total)
                result = estimate_file(file, on_progress=lambda k: bar.advance(task, k), **options)
        else:
            result = estimate_file(file, **options)
        results = result if isinstance(result, list) else [result]
        sens = None
        if model_sensitivity and not strata and results[0].estimable:
            from ctip.services.estimation import sensitivity_for_file

            sens = sensitivity_for_file(file, results[0], errors)
        if as_json:
            payload: Any = [r.to_dict() for r in results] if strata else results[0].to_dict()
            if sens is not None:
                payload["model_sensitivity"] = sens.as_dict()
            if models:
                frame = _table_of_models(file, method, maxorder)
                payload = {
                    "result": payload,
                    "models": frame.drop(columns=["terms"]).to_dict(orient="records"),
                }
            print_json(payload)
            return
        _show(results, f"Multiple systems estimation: {file.name}")
        if errors is not None:
            _show_correction(results[0])
        if sens is not None:
            console.print(f"[bold]{sens.caveat()}[/]", highlight=False)
        elif not strata:
            console.print("[yellow]Model sensitivity not computed (--no-sensitivity): this is "
                          "one model's figure; other defensible models may differ widely.[/]",
                          highlight=False)
        if method == "dga" and not strata and results[0].estimable:
            _show_top_graphs(results[0])
        if models:
            _show_models(file, method, maxorder)
