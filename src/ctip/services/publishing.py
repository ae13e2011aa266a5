"""Use case: publish a release of the national figures as files, and DP count releases.

``export_all`` (called by ``ctip report``) loads the analytic tables into DuckDB, takes the tables
from ``ctip.stats`` through the stats service's disclosure control (``services.statistics``: every
table suppressed, threshold from settings), writes SDMX-CSV for SDG 16.2.2, the UNODC questionnaire
XLSX, the k-anonymous CTDC microdata and ``datapackage.json``, and records each release in the
release ledger and the audit log with its parameters (never cell values).

``declare_budget`` / ``release_dp_counts`` are the DP path: the dataset's privacy unit and total
epsilon are declared once; each DP release is checked against the ledger, noised with OpenDP and
recorded in the same transaction as its audit entry, so a failed write spends nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from ctip.domain.countries import all_countries
from ctip.domain.vocabulary import code_list
from ctip.errors import DisclosureError
from ctip.ingest.writers import write_csv
from ctip.publish.dp import PrivacyContext, PrivacyUnit
from ctip.publish.exports.datapackage import (
    csv_resource,
    file_resource,
    write_datapackage,
    xlsx_resources,
)
from ctip.publish.exports.microdata import write_microdata_csv
from ctip.publish.exports.sdmx import write_sdmx_csv
from ctip.publish.exports.unodc_xlsx import grid, write_questionnaire
from ctip.publish.kanon import kanonymise
from ctip.publish.source import detected_victims
from ctip.publish.source import has_perpetrators as perpetrators_present
from ctip.publish.suppression import TOTAL_LABELS
from ctip.services.statistics import PublishedTable, analytic_connection, publish, published_table
from ctip.settings import Settings
from ctip.stats.registry import StatTable, table_spec
from ctip.stats.tables import perpetrators_by, reporting_country_of, victims_by
from ctip.storage import releases as ledger
from ctip.storage.repository import CaseStore

DEFAULT_DATASET = "national"
SDMX_FILE = "sdg_16_2_2.sdmx.csv"
XLSX_FILE = "unodc_questionnaire.xlsx"
MICRODATA_FILE = "ctdc_microdata_kanon.csv"
STAGE_SHEETS = {
    "suspected": "Q2 Formal contact",
    "prosecuted": "Q3 Prosecuted",
    "convicted": "Q4 Convicted",
}


@dataclass
class ExportResult:
    files: list[Path] = field(default_factory=list)
    releases: dict[str, dict[str, Any]] = field(default_factory=dict)


def _published_with_margins(
    con: duckdb.DuckDBPyConnection,
    spec_name: str,
    by: list[str],
    threshold: int,
    *,
    perpetrators: bool = False,
) -> PublishedTable:
    """A table with its 'total' rows inside, suppressed together (the grid shows the totals)."""
    if perpetrators:
        frame = perpetrators_by(con, by, reporting_country=reporting_country_of(con), margins=True)
    else:
        frame = victims_by(con, by, margins=True)
    return publish(StatTable(table_spec(spec_name), tuple(by), frame), threshold=threshold)


def questionnaire_sheets(
    con: duckdb.DuckDBPyConnection, threshold: int
) -> tuple[dict[str, tuple[list[str], list[list[Any]]]], dict[str, dict[str, Any]]]:
    """The UNODC questionnaire grids from published (suppressed) tables, and each one's release
    parameters."""
    sheets: dict[str, tuple[list[str], list[list[Any]]]] = {}
    info: dict[str, dict[str, Any]] = {}
    q5 = _published_with_margins(con, "victims", ["year", "sex", "age_group"], threshold)
    sheets["Q5 Victims"] = grid(q5.frame, rows=["year"], row_labels=["Year"])
    info["Q5 Victims"] = q5.suppression
    for name, dim, label in (
        ("Q5 Victims by form", "unodc_form", "Form of exploitation"),
        ("Q5 Victims by citizenship", "citizenship_origin", "Citizenship"),
    ):
        table = _published_with_margins(
            con, "victims", ["year", dim, "sex", "age_group"], threshold
        )
        sheets[name] = grid(table.frame, rows=["year", dim], row_labels=["Year", label])
        info[name] = table.suppression
    has_perpetrators = perpetrators_present(con)
    if has_perpetrators:
        table = _published_with_margins(
            con, "perpetrators", ["year", "stage", "sex", "age_group"], threshold, perpetrators=True
        )
        for stage, sheet in STAGE_SHEETS.items():
            part = table.frame[table.frame["stage"].astype(str) == stage]
            sheets[sheet] = grid(part, rows=["year"], row_labels=["Year"])
        info["Q2-Q4 Persons"] = table.suppression
    flows = published_table(con, "flows", threshold=threshold)
    home = reporting_country_of(con)
    # own nationals detected in another country (a 'total' margin row would include home)
    frame = flows.frame
    abroad = frame[
        (frame["origin"] == home)
        & (frame["destination"] != home)
        & ~frame["destination"].astype(str).isin(TOTAL_LABELS)
    ]
    sheets["Q6 Nationals abroad"] = (
        ["Country of detection", "Victims (own nationals)"],
        [
            [str(r["destination"]), str(r["display"]) if r["suppressed"] else int(r["count"])]
            for _, r in abroad.iterrows()
        ],
    )
    info["Q6 Nationals abroad"] = flows.suppression
    return sheets, info


def export_files(settings: Settings, out_dir: Path, *, actor: str = "publish") -> list[Path]:
    """``export_all`` over the store of ``settings`` (for ``ctip publish exports``)."""
    with CaseStore.open(settings, actor=actor) as store:
        return export_all(store, out_dir, settings, actor=actor)


def export_all(
    store: CaseStore,
    out_dir: Path,
    settings: Settings,
    *,
    dataset: str = DEFAULT_DATASET,
    actor: str = "publish",
) -> list[Path]:
    """Write every export of a release into ``out_dir`` (+ datapackage.json); returns the files."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    threshold = settings.suppression_threshold
    result = ExportResult()
    with analytic_connection(store) as con:
        sdg = published_table(con, "sdg-16-2-2", threshold=threshold)
        sdmx = out_dir / SDMX_FILE
        observations = write_sdmx_csv(sdmx, sdg.frame)
        result.releases[SDMX_FILE] = {
            "kind": "suppressed_table",
            "table": "sdg-16-2-2",
            "observations": observations,
            **sdg.suppression,
        }
        sheets, info = questionnaire_sheets(con, threshold)
        xlsx = out_dir / XLSX_FILE
        write_questionnaire(xlsx, sheets)
        result.releases[XLSX_FILE] = {
            "kind": "suppressed_table",
            "threshold": threshold,
            "sheets": info,
        }
        victims = detected_victims(con)
    release = kanonymise(victims, k=settings.k_anonymity)
    micro = out_dir / MICRODATA_FILE
    write_microdata_csv(micro, release)
    result.releases[MICRODATA_FILE] = {"kind": "kanon_microdata", **release.describe()}
    result.files += [sdmx, xlsx, micro]

    resources = [
        csv_resource(
            sdmx,
            title="SDG 16.2.2 detected victims (SDMX-CSV)",
            description="Counts and rates per 100,000 population; hidden cells have OBS_STATUS C.",
        ),
        *xlsx_resources(
            xlsx,
            {"Q1 Offences": ["Note"], **{n: h for n, (h, _) in sheets.items()}},
            title="UNODC questionnaire tables",
        ),
        csv_resource(
            micro,
            title=f"Victim microdata, {release.k}-anonymous (CTDC layout)",
            description=f"k={release.k}; records suppressed: {release.suppressed_share:.1%}; "
            f"l-diversity: {release.l_diversity}; generalisation: {release.levels}.",
            types={"yearOfRegistration": "string"},
        ),
    ]
    known = {p.name for p in result.files} | {"datapackage.json"}
    for other in sorted(out_dir.iterdir()):  # the report and anything else of this release
        if other.is_file() and other.name not in known and not other.name.startswith("."):
            resources.append(file_resource(other, title=other.name))
    package = write_datapackage(
        out_dir,
        resources,
        name=f"ctip-{dataset}",
        title=f"ctip release: {dataset}",
        description=f"Published with small-cell suppression (threshold {threshold}) and "
        f"{release.k}-anonymous microdata. Generated {dt.date.today().isoformat()}.",
        extra={
            "ctip": {
                "threshold": threshold,
                "k": release.k,
                "suppressed_share": round(release.suppressed_share, 4),
                "l_diversity": release.l_diversity,
            }
        },
    )
    result.files.append(package)
    with store.engine.begin() as conn:
        for name, params in result.releases.items():
            kind = str(params.get("kind", "export"))
            details = {"file": name, "dataset": dataset, **params}
            ledger.record_release(conn, dataset=dataset, kind=kind, actor=actor, parameters=details)
            store.audit.append(
                conn, actor=actor, action=f"release.{kind}", subject=name, details=details
            )
    return result.files


# --- differential privacy -------------------------------------------------------------------


def dp_keys(by: Sequence[str], years: Sequence[int] | None = None) -> dict[str, list[str]]:
    """The public categories of each column a DP count may use: code lists, never the data."""
    keys: dict[str, list[str]] = {}
    for column in by:
        if column == "sex":
            keys[column] = list(code_list("sex").codes)
        elif column == "disability_status":
            keys[column] = list(code_list("disability_status").codes)
        elif column == "age_group":
            keys[column] = ["0-17", "18+", "unknown"]
        elif column == "victim_group":
            keys[column] = ["women", "girls", "men", "boys", "unknown"]
        elif column == "primary_form":
            keys[column] = [
                *dict.fromkeys(
                    [
                        "sexual_exploitation",
                        "forced_labour",
                        "mixed",
                        "forced_criminality",
                        "begging",
                        "organ_removal",
                        "other",
                        "unknown",
                    ]
                )
            ]
        elif column in ("citizenship", "country_of_detection"):
            keys[column] = [c.iso3 for c in all_countries()] + ["unknown", "stateless"]
        elif column == "identification_year":
            if not years:
                raise DisclosureError(
                    "DP counts by year need the public list of years",
                    hint="pass --years FIRST-LAST (e.g. 2019-2024)",
                )
            keys[column] = [str(y) for y in years] + ["unknown"]
        else:
            raise DisclosureError(
                "no public category list for {column}",
                hint="use sex, age_group, victim_group, disability_status, "
                "primary_form, citizenship, country_of_detection, identification_year",
                params={"column": repr(column)})
    return keys


def declare_budget(
    settings: Settings,
    *,
    dataset: str,
    total_epsilon: float,
    contributions: int = 1,
    actor: str = "publish",
) -> ledger.Budget:
    unit = PrivacyUnit(contributions=contributions)
    with CaseStore.open(settings, actor=actor) as store, store.engine.begin() as conn:
        budget = ledger.declare_budget(
            conn,
            dataset=dataset,
            total_epsilon=total_epsilon,
            privacy_unit=unit.description,
            contributions=contributions,
            actor=actor,
        )
        store.audit.append(
            conn,
            actor=actor,
            action="release.budget_declared",
            subject=dataset,
            details={
                "total_epsilon": total_epsilon,
                "contributions": contributions,
                "privacy_unit": unit.description,
            },
        )
    return budget


def budgets(settings: Settings) -> list[ledger.Budget]:
    with CaseStore.open(settings, actor="publish") as store, store.engine.connect() as conn:
        return ledger.budgets(conn)


def release_dp_counts(
    settings: Settings,
    *,
    dataset: str,
    by: Sequence[str],
    epsilon: float,
    out: Path,
    years: Sequence[int] | None = None,
    actor: str = "publish",
) -> dict[str, Any]:
    """One DP count table of detected victims, written to ``out`` (CSV), within the budget."""
    keys = dp_keys(by, years)
    with CaseStore.open(settings, actor=actor) as store, store.engine.begin() as conn:
        current = ledger.budget(conn, dataset, lock=True)
        context = PrivacyContext(
            dataset,
            PrivacyUnit(current.contributions),
            current.total_epsilon,
            current.spent_epsilon,
        )
        context.check(epsilon)  # refuse before touching the data
        with analytic_connection(store) as con:
            victims = detected_victims(con)
        for column in by:
            victims[column] = victims[column].astype("string").fillna("unknown")
        released = context.counts(victims, by=list(by), epsilon=epsilon, keys=keys)
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        write_csv(
            out,
            [*by, "count"],
            released.frame[[*by, "count"]].itertuples(index=False, name=None),
        )
        details = {
            "dataset": dataset,
            "file": out.name,
            **released.describe(),
            "privacy_unit": current.privacy_unit,
            "total_epsilon": current.total_epsilon,
            "spent_before": current.spent_epsilon,
        }
        release_id = ledger.spend(
            conn, dataset=dataset, epsilon=epsilon, actor=actor, parameters=details
        )
        store.audit.append(
            conn,
            actor=actor,
            action="release.dp_counts",
            subject=dataset,
            details={"release_id": release_id, **details},
        )
    return {
        "release_id": release_id,
        **details,
        "file": str(out),
        "remaining_epsilon": current.total_epsilon - current.spent_epsilon - epsilon,
    }
