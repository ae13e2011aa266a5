"""``ctip stats TABLE`` (one national table, disclosure-controlled), ``ctip glotip FILE`` and
``ctip report --out DIR``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from ctip.cli.common import console, print_json, settings


def _rule(mixed: bool, begging_as_labour: bool) -> Any:
    from ctip.domain.derive import DEFAULT_ROLLUP, RollupRule

    if mixed and not begging_as_labour:
        return None  # the stored default roll-up
    return RollupRule(mixed=mixed, begging_and_criminality_as_labour=begging_as_labour,
                      precedence=DEFAULT_ROLLUP.precedence)


def _records(frame: Any) -> list[dict[str, Any]]:
    out = []
    for row in frame.to_dict(orient="records"):
        clean = {}
        for key, value in row.items():
            try:
                missing = value is None or value != value or str(value) == "<NA>"
            except (TypeError, ValueError):
                missing = False
            clean[key] = None if missing else value
        out.append(clean)
    return out


def _csv_text(frame: Any) -> str:
    from ctip.services.statistics import csv_text

    return csv_text(frame)


def _cell(column: str, value: Any) -> str:
    if value is None:
        return ""
    if column in ("share", "share_unknown"):
        return f"{value:.1%}"
    if column == "rate":
        return f"{value:.2f}"
    if column == "population":
        return f"{int(value):,}"
    return str(value)


def _show_table(published: Any) -> None:
    """Long tables as they are; a plain count table with a short last dimension as a cross-tab
    (rows = the other dimensions, one column per level of the last), which reads far better."""
    frame, dims = published.frame, list(published.dims)
    if frame.empty:
        console.print(f"{published.title}: no records to count yet (import some with "
                      "`ctip import`).")
        return
    extra = [c for c in ("share", "rate", "share_unknown", "population", "records_display")
             if c in frame.columns]
    table = Table(title=published.title, title_justify="left")
    last = dims[-1] if dims else None
    levels = list(dict.fromkeys(frame[last])) if last else []
    if len(dims) >= 2 and not extra and len(levels) <= 12:
        rows_dims = dims[:-1]
        for d in rows_dims:
            table.add_column(d)
        for level in levels:
            table.add_column(str(level), justify="right")
        for key, group in frame.groupby(rows_dims, sort=False):
            key = key if isinstance(key, tuple) else (key,)
            shown = dict(zip(group[last], group["display"], strict=True))
            table.add_row(*[str(k) for k in key], *[str(shown.get(lv, "")) for lv in levels])
    else:
        columns = [*dims, "display", *extra]
        for column in columns:
            header = {"display": "count", "records_display": "records"}.get(column, column)
            table.add_column(header, justify="left" if column in dims else "right")
        for row in _records(frame[columns]):
            table.add_row(*[_cell(c, row[c]) for c in columns])
    console.print(table)
    console.print(f"{published.description}\n[dim]{published.symbol} = hidden: a count below "
                  f"{published.threshold}, or a cell that would let one be worked out.[/]")


def register(app: typer.Typer) -> None:
    """Add ``stats`` and ``report`` to the root app."""

    @app.command()
    def stats(
        ctx: typer.Context,
        table: str = typer.Argument(None, help="Table name; leave out to list the tables."),
        by: str = typer.Option(None, "--by", help="Comma-separated breakdowns, e.g. "
                               "year,victim_group (see the list of tables for what each allows)."),
        output: str = typer.Option("table", "--format", help="table, csv or json."),
        mixed: bool = typer.Option(True, "--mixed/--no-mixed", help="Count sexual exploitation "
                                   "with forced labour as 'mixed' (UNODC) or by precedence."),
        begging_as_labour: bool = typer.Option(False, "--begging-as-labour", help="Roll forced "
                                               "begging and forced criminality up to forced "
                                               "labour, as some national laws do."),
    ) -> None:
        """One national table from the store, with small cells hidden ("x").

        Examples: `ctip stats victims --by year,sex,age_group`, `ctip stats sdg-16-2-2
        --format csv`, `ctip stats flows --format json`. Without TABLE: the list of tables.
        """
        from ctip.services.statistics import table_specs

        if output not in {"table", "csv", "json"}:
            raise typer.BadParameter("use table, csv or json", param_hint="--format")
        if table is None:
            if output == "json":
                print_json([{"name": s.name, "title": s.title, "default_by": list(s.default_by),
                             "allowed_by": list(s.allowed)} for s in table_specs()])
                return
            listing = Table(title="Tables (ctip stats TABLE [--by ...])", title_justify="left")
            for column in ("table", "what", "default --by"):
                listing.add_column(column)
            for s in table_specs():
                listing.add_row(s.name, s.title, ",".join(s.default_by) or "-")
            console.print(listing)
            groups: dict[tuple[str, ...], list[str]] = {}
            for s in table_specs():
                if s.allowed:
                    groups.setdefault(s.allowed, []).append(s.name)
            for allowed, names in groups.items():
                console.print(f"[bold]--by for {', '.join(names)}:[/] {', '.join(allowed)}")
            return
        from ctip.services.statistics import stats_table

        chosen = None if by is None else [b.strip() for b in by.split(",") if b.strip()]
        published = stats_table(settings(ctx), table, chosen, rule=_rule(mixed, begging_as_labour))
        if output == "json":
            print_json({"table": published.name, "title": published.title,
                        "dims": list(published.dims), "threshold": published.threshold,
                        "suppression": published.suppression,
                        "rows": _records(published.frame)})
        elif output == "csv":
            typer.echo(_csv_text(published.frame), nl=False)
        else:
            _show_table(published)

    @app.command()
    def glotip(
        path: Path = typer.Argument(..., help="UNODC's GLOTIP export (data_glotip.csv or .xlsx "
                                    "from dataUNODC)."),
        show: str = typer.Option("regions", "--show", help="regions, flows, flow-shares, "
                                 "rejects or unmapped."),
        year: int = typer.Option(None, "--year", help="One year (default: all years)."),
        level: str = typer.Option("region", "--level", help="region or subregion (UN M49)."),
        output: str = typer.Option("table", "--format", help="table, csv or json."),
    ) -> None:
        """The international level: read UNODC's GLOTIP export ("<5" kept as bounds, corrupt
        values rejected with reasons), map citizenship to ISO3, and show regional and global
        totals or citizenship-to-detection flows as UNODC aggregates them."""
        from ctip.services.statistics import international

        if level not in {"region", "subregion"}:
            raise typer.BadParameter("use region or subregion", param_hint="--level")
        result = international(path, year=year, level=level)
        frames = {"regions": result.regions, "flows": result.flows,
                  "flow-shares": result.flow_shares, "rejects": result.rejected,
                  "unmapped": result.unmapped}
        if show not in frames:
            raise typer.BadParameter(f"use one of {', '.join(frames)}", param_hint="--show")
        frame = frames[show]
        summary = {"read": result.read, "accepted": result.accepted,
                   "rejected": len(result.rejected), "unmapped_categories": len(result.unmapped)}
        if output == "json":
            print_json({**summary, show: _records(frame)})
            return
        if output == "csv":
            typer.echo(_csv_text(frame), nl=False)
            return
        console.print(f"read {result.read:,} = accepted {result.accepted:,} + rejected "
                      f"{len(result.rejected):,}; unmapped citizenship categories: "
                      f"{len(result.unmapped)}")
        table = Table(title=f"GLOTIP {show}" + (f", {year}" if year else ""), title_justify="left")
        for column in frame.columns:
            table.add_column(str(column), justify="right" if frame[column].dtype.kind in "iuf"
                             else "left")
        for row in _records(frame.head(200)):
            table.add_row(*[_cell(str(c), v) if c == "share" else ("" if v is None else str(v))
                            for c, v in row.items()])
        console.print(table)
        if len(frame) > 200:
            console.print(f"[dim]{len(frame) - 200:,} more rows: use --format csv[/]")

    @app.command()
    def report(
        ctx: typer.Context,
        out: Path = typer.Option(Path("ctip-report"), "--out", help="Folder for report.html and "
                                 "the exports (created if absent)."),
        title: str = typer.Option(None, "--title",
                                  help="Report title (default names the country when one is "
                                  "set, else none)."),
        country: str = typer.Option(None, "--country", help="Country the report is about "
                                    "(ISO code or English name; default CTIP_COUNTRY): its "
                                    "title, SDG 16.2.2 rates and GLOTIP context."),
        glotip_file: Path = typer.Option(None, "--glotip", help="UNODC's GLOTIP export "
                                         "(data_glotip.csv): adds the regional and world "
                                         "figures as context."),
        json_output: bool = typer.Option(False, "--json", help="Print one JSON object instead."),
    ) -> None:
        """Write the national report (self-contained HTML with charts, works offline) and the
        exports. Every figure and file passes disclosure control first."""
        from ctip.services.reporting import build_report

        conf = settings(ctx)
        if country is not None:
            conf = conf.model_copy(update={"country": country})
        result = build_report(conf, out, title=title, glotip=glotip_file)
        if json_output:
            print_json(result.as_dict())
            return
        console.print(f"Report written to [bold]{result.report}[/]")
        for path in result.files:
            console.print(f"  {path}")
        for note in result.notes:
            console.print(f"[yellow]{note}[/]")
