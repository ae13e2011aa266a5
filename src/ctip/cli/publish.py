"""``ctip publish``: releases beyond the report: the DP budget and DP count tables, and exports.

ctip publish budget                      show every dataset's budget and what is left
ctip publish budget victims-2025 --declare 1.0 [--contributions 1]
ctip publish dp-counts victims-2025 --by sex --by age_group --epsilon 0.25 --out dp.csv
ctip publish exports --out DIR     SDMX-CSV, UNODC XLSX, k-anon microdata, datapackage.json
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from ctip.cli.common import console, print_json, settings


def _years(text: str | None) -> list[int] | None:
    if not text:
        return None
    from ctip.errors import ValidationError

    try:
        first, _, last = text.partition("-")
        years = list(range(int(first), int(last or first) + 1))
    except ValueError:
        raise ValidationError(
            "years must look like 2019-2024", column="--years", value=text
        ) from None
    return years


def register(app: typer.Typer) -> None:
    publish = typer.Typer(
        help="Privacy-safe releases: DP budget and counts, file exports.", no_args_is_help=True
    )
    app.add_typer(publish, name="publish")

    @publish.command("budget")
    def budget(
        ctx: typer.Context,
        dataset: str = typer.Argument(
            None, help="Dataset name, e.g. victims-2025 (one budget each)."
        ),
        declare: float = typer.Option(None, "--declare", help="Declare the total epsilon (once)."),
        contributions: int = typer.Option(
            1,
            help="Most records one victim may have in the counted data: 1 only when every "
            "victim has one record; else the number of agencies that may record the same person.",
        ),
        json_out: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Declare a dataset's privacy budget (the privacy unit is one victim), or show budgets.

        The total cannot change once declared: declare a new dataset for a new period."""
        from ctip.services.publishing import budgets, declare_budget

        s = settings(ctx)
        if declare is not None:
            if not dataset:
                raise typer.BadParameter("name the dataset to declare a budget for")
            declare_budget(s, dataset=dataset, total_epsilon=declare, contributions=contributions)
        rows = [b for b in budgets(s) if dataset is None or b.dataset == dataset]
        if json_out:
            print_json(
                [
                    {
                        "dataset": b.dataset,
                        "total_epsilon": b.total_epsilon,
                        "spent_epsilon": b.spent_epsilon,
                        "remaining_epsilon": b.remaining_epsilon,
                        "privacy_unit": b.privacy_unit,
                        "contributions": b.contributions,
                        "dp_releases": b.releases,
                    }
                    for b in rows
                ]
            )
            return
        if not rows:
            console.print(
                "No privacy budget declared yet: `ctip publish budget NAME --declare EPSILON`."
            )
            return
        table = Table(
            "dataset", "unit", "contributions", "total ε", "spent ε", "left ε", "releases"
        )
        for b in rows:
            table.add_row(
                b.dataset,
                b.privacy_unit,
                str(b.contributions),
                f"{b.total_epsilon:g}",
                f"{b.spent_epsilon:g}",
                f"{b.remaining_epsilon:g}",
                str(b.releases),
            )
        console.print(table)

    @publish.command("dp-counts")
    def dp_counts(
        ctx: typer.Context,
        dataset: str = typer.Argument(..., help="Dataset whose budget pays for this release."),
        by: list[str] = typer.Option(
            ...,
            "--by",
            help="Column to count by (repeat): sex, "
            "age_group, victim_group, disability_status, primary_form, "
            "citizenship, country_of_detection, identification_year.",
        ),
        epsilon: float = typer.Option(..., help="Privacy loss spent by this table."),
        out: Path = typer.Option(..., help="CSV file to write."),
        years: str = typer.Option(
            None, help="Public year range for identification_year, e.g. 2019-2024."
        ),
        json_out: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Differentially private counts of detected victims (OpenDP, integer Laplace noise).

        Refused when the dataset's remaining budget is smaller than --epsilon."""
        from ctip.services.publishing import release_dp_counts

        result = release_dp_counts(
            settings(ctx), dataset=dataset, by=by, epsilon=epsilon, out=out, years=_years(years)
        )
        if json_out:
            print_json(result)
            return
        console.print(
            f"Wrote {result['file']}: {result['cells']} cells, ε = {epsilon:g}, noise "
            f"scale {result['scale']:g} (95% of cells within ±{result['accuracy']:.1f}). "
            f"Budget left for {dataset}: ε = {result['remaining_epsilon']:g}."
        )

    @publish.command("exports")
    def exports(
        ctx: typer.Context,
        out: Path = typer.Option(..., help="Directory for the files."),
        json_out: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """SDMX-CSV (SDG 16.2.2), UNODC questionnaire XLSX, k-anonymous CTDC microdata and a
        Frictionless datapackage.json, all disclosure-controlled and audited."""
        from ctip.services.publishing import export_files

        files = export_files(settings(ctx), out)
        if json_out:
            print_json({"files": [str(f) for f in files]})
            return
        for f in files:
            console.print(f"Wrote {f}")
