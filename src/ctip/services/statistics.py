"""Use case: compute a national table from the store and make it safe to show.

The analytic tables are loaded from the CaseStore into an in-memory DuckDB connection (no identity
column ever leaves the store), the pure functions of ``ctip.stats`` compute the table, and every
table goes through ``ctip.publish.suppression.suppress`` before anyone sees it: small cells and
the complementary cells that would let them be recovered are shown as HIDDEN ("x"). One mark for
both, on purpose: a reader (or an attacker) cannot tell a small cell from a complementary one, and
a complementary cell of 73 must not be labelled "<5". Columns derived from a count (rates,
shares) are blanked with it, since a
public denominator would give the count back.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pandas as pd

from ctip.domain.derive import RollupRule
from ctip.errors import DisclosureError
from ctip.publish.shortcuts import refused_with_known_margins
from ctip.publish.suppression import TOTAL_LABELS, suppress, with_margins
from ctip.settings import Settings
from ctip.stats.registry import StatTable, TableSpec, compute, table_spec
from ctip.storage.repository import CaseStore

HIDDEN = "x"

# Columns computed from a cell's count: hidden whenever the count is hidden.
DERIVED = ("share", "rate", "share_unknown")
MULTI_RESPONSE = ("form",)
# Totals are the headline figures (the SDG indicator itself is a total): hide a detail cell
# rather than a total whenever the secondary suppression has the choice.
MARGIN_COST = 1000.0
# Tables made of independent slices, each suppressed on its own (see ``publish``).
SLICED = {"sdg-16-2-2": ("year", "ref_area", "series")}
ALL_AGENCIES = "all agencies"
# Data quality: an agency with at least this many x threshold records is a large group, whose
# counts of records with a field unknown are shown (they count gaps, not victims).
QUALITY_LARGE_GROUP = 20


@dataclass(frozen=True)
class PublishedTable:
    """A table after disclosure control: ``frame`` has the dims, ``count`` (<NA> when hidden),
    ``suppressed``, ``display`` (HIDDEN or the number) and any derived columns."""

    name: str
    title: str
    description: str
    by: tuple[str, ...]
    dims: tuple[str, ...]
    frame: pd.DataFrame
    threshold: int
    suppression: dict[str, Any] = field(default_factory=dict)

    @property
    def symbol(self) -> str:
        return HIDDEN


@contextmanager
def analytic_connection(store: CaseStore) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB connection holding the store's ``victims`` and ``perpetrators``."""
    con = duckdb.connect()
    try:
        store.to_duckdb(con)
        yield con
    finally:
        con.close()


def _suppress(frame: pd.DataFrame, dims: Sequence[str], threshold: int,
              method: str = "auto") -> tuple[pd.DataFrame, dict[str, Any]]:
    """suppress(), first assuming every margin is public (the safe default). When a small cell
    cannot be protected that way (it is alone on a line of its margin), the margins are put
    inside the table instead and suppressed with it where needed: they are then published only
    through this table, with their '<5' marks.
    """
    symbol = HIDDEN
    # certain refusals (a small cell whose published margin is below the threshold) skip the
    # first attempt: it would raise, whatever the method (publish.shortcuts)
    if not refused_with_known_margins(frame, "count", list(dims), threshold, TOTAL_LABELS):
        try:
            done = suppress(frame, value="count", dims=list(dims), threshold=threshold,
                            symbol=symbol, margin_cost=MARGIN_COST, method=method)
            return done.frame, done.describe()
        except DisclosureError:
            pass
    has_totals = any(frame[d].astype(str).isin(TOTAL_LABELS).any() for d in dims)
    full = frame if has_totals else with_margins(frame, dims=list(dims), total="total")
    done = suppress(full, value="count", dims=list(dims), threshold=threshold, symbol=symbol,
                    margins_known=False, margin_cost=MARGIN_COST, method=method)
    out = done.frame
    # a total over a multi-response dimension counts mentions, not victims: not shown
    for d in dims:
        if d in MULTI_RESPONSE:
            out = out[out[d] != "total"]
    return out.reset_index(drop=True), {**done.describe(), "margins": "inside the table"}


def publish(table: StatTable, *, threshold: int, method: str = "auto") -> PublishedTable:
    """Disclosure control for one computed table (see module docstring). ``method``: the
    secondary suppression (``publish.suppression.METHODS``)."""
    spec, frame = table.spec, table.frame.copy()
    dims = list(table.dims)
    if spec.name == "data-quality":
        return _publish_quality(table, threshold, method)
    if frame.empty:
        out = frame.assign(suppressed=False, display="")
        return PublishedTable(spec.name, spec.title, spec.description, table.by, tuple(dims), out,
                              threshold, {"cells": 0})
    for d in dims:  # one type per dimension (years are text; 'total' rows are text)
        frame[d] = frame[d].astype(object)
    sliced = SLICED.get(spec.name, ())
    small = frame["count"].between(1, threshold - 1).any()
    if sliced and small:
        # independent slices (no margin across them is published): protect each one alone,
        # as a small cross-table with its own totals, instead of one 5-dimensional hypercube;
        # all in one pass (``slices``), or slice by slice when one needs its margins inside
        inner = [d for d in dims if d not in sliced]
        try:
            done = suppress(frame[[*dims, "count"]], value="count", dims=inner,
                            slices=list(sliced), threshold=threshold, symbol=HIDDEN,
                            margin_cost=MARGIN_COST, method=method)
            protected, found = done.frame, dict[str, Any](done.parameters)
            info = {**done.describe(), "slices": int(frame.groupby(list(sliced)).ngroups),
                    "sliced_by": list(sliced),
                    "hypercube_cost": float(found.get("hypercube_cost", found.get("cost", 0.0)))}
            for key in ("rounds", "mip_gap", "proven_optimal", "optimal_tried"):
                info.pop(key, None)
        except DisclosureError:
            protected, info = _suppress_slices(frame, dims, sliced, threshold, method)
    else:
        protected, info = _suppress(frame[[*dims, "count"]], dims, threshold, method)
    extra = [c for c in frame.columns if c not in (*dims, "count")]
    out = _with_columns(protected, frame, dims, extra)
    if "rate" in out.columns and "population" in out.columns:
        out["rate"] = out["rate"].astype("Float64")
    for column in DERIVED:
        if column in out.columns:
            out[column] = out[column].astype("Float64").mask(out["suppressed"])
    if spec.name == "flow-shares" and table.by:
        # shares of the published cells would give back a hidden one (they sum to 1)
        hidden = out.groupby(list(table.by))["suppressed"].transform("any")
        out["share"] = out["share"].mask(hidden)
    return PublishedTable(spec.name, spec.title, spec.description, table.by, tuple(dims), out,
                          threshold, info)


def _with_columns(protected: pd.DataFrame, frame: pd.DataFrame, dims: list[str],
                  extra: list[str]) -> pd.DataFrame:
    """The protected cells with the computed table's other columns (rates, shares): side by
    side when the rows are the same cells in the same order (suppress keeps the order), by a
    join on the dims otherwise (margins added inside the table)."""
    if len(protected) == len(frame) and protected[dims].reset_index(drop=True).equals(
            frame[dims].reset_index(drop=True)):
        out = protected.reset_index(drop=True)
        for column in extra:
            out[column] = frame[column].reset_index(drop=True)
        return out
    return protected.merge(frame[[*dims, *extra]], on=dims, how="left")


def _suppress_slices(frame: pd.DataFrame, dims: list[str], sliced: Sequence[str],
                     threshold: int, method: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Each slice of ``sliced`` suppressed on its own (``_suppress``: margins inside the slice
    where it needs them)."""
    inner = [d for d in dims if d not in sliced]
    parts, infos = [], []
    for key, part in frame.groupby(list(sliced), sort=False):
        if part["count"].between(1, threshold - 1).any():
            done, part_info = _suppress(part[[*inner, "count"]], inner, threshold, method)
        else:  # nothing small in this slice: nothing to hide (suppress would agree)
            done = part[[*inner]].assign(count=part["count"].astype("Int64"),
                                         suppressed=False,
                                         display=part["count"].astype(int).astype(str))
            part_info = {"primary": 0, "secondary": 0}
        for name, value in zip(sliced, key, strict=True):
            done[name] = value
        parts.append(done)
        infos.append(part_info)
    protected = pd.concat(parts, ignore_index=True)
    first = next((i for i in infos if "method" in i), infos[0])
    info = {**first, "slices": len(parts), "sliced_by": list(sliced),
            "cells": len(protected), "primary": sum(int(i["primary"]) for i in infos),
            "secondary": sum(int(i["secondary"]) for i in infos),
            "cost": sum(float(i.get("cost", 0.0)) for i in infos),
            "hypercube_cost": sum(float(i.get("hypercube_cost", i.get("cost", 0.0)))
                                  for i in infos),
            "pattern": sorted({str(i["pattern"]) for i in infos if "pattern" in i})}
    for key in ("rounds", "mip_gap", "proven_optimal", "optimal_tried"):
        info.pop(key, None)
    return protected, info


def _publish_quality(table: StatTable, threshold: int, method: str) -> PublishedTable:
    """Unknown counts by agency x field (agencies add up to 'all agencies'); records per agency.

    The records of an agency are a count of victims: small ones are hidden. The unknown counts
    are not counts of victims with a characteristic but of records with a gap; for an agency of
    at least ``QUALITY_LARGE_GROUP`` x threshold records they (and their shares) are shown as
    they are. The smaller agencies' unknown counts are suppressed as a table of their own whose
    margins (all agencies minus the large ones) the attacker knows."""
    frame = table.frame.copy()
    frame["agency"] = frame["agency"].replace({ALL_AGENCIES: "total"})
    records = frame.drop_duplicates("agency")[["agency", "records"]].rename(
        columns={"records": "count"})
    rec, _ = _suppress(records, ["agency"], threshold, method)
    rec = rec.rename(columns={"count": "records", "suppressed": "records_suppressed",
                              "display": "records_display"})
    large = (frame["records"] >= QUALITY_LARGE_GROUP * threshold) | (frame["agency"] == "total")
    shown = frame.loc[large, ["agency", "field", "count"]].assign(
        suppressed=False, display=lambda f: f["count"].astype(int).astype(str))
    shown["count"] = shown["count"].astype("Int64")
    parts, info = [shown], {"cells": int(large.sum()), "primary": 0, "secondary": 0}
    if (~large).any():
        small, info = _suppress(frame.loc[~large, ["agency", "field", "count"]],
                                ["agency", "field"], threshold, method)
        # the suppressor returns the margins it protected too; the table keeps its own cells
        cells = set(zip(frame["agency"], frame["field"], strict=True))
        small = small[[(a, f) in cells
                       for a, f in zip(small["agency"], small["field"], strict=True)]]
        parts.append(small)
    protected = pd.concat(parts, ignore_index=True)
    info = {**info, "cells": len(protected), "large_group": QUALITY_LARGE_GROUP * threshold,
            "shown_as_large": int(large.sum())}
    out = protected.merge(frame[["agency", "field", "label", "share_unknown"]],
                          on=["agency", "field"], how="left").merge(rec, on="agency", how="left")
    out["share_unknown"] = out["share_unknown"].astype("Float64").mask(
        out["suppressed"] | out["records_suppressed"])
    order = {(a, f): i for i, (a, f) in enumerate(zip(frame["agency"], frame["field"],
                                                       strict=True))}
    out = out.sort_values(["agency", "field"], key=lambda _: [
        order[(a, f)] for a, f in zip(out["agency"], out["field"], strict=True)])
    out["agency"] = out["agency"].replace({"total": ALL_AGENCIES})
    spec = table.spec
    return PublishedTable(spec.name, spec.title, spec.description, table.by, ("agency", "field"),
                          out.reset_index(drop=True), threshold, info)


def published_table(con: duckdb.DuckDBPyConnection, name: str, by: Sequence[str] | None = None, *,
                    threshold: int, rule: RollupRule | None = None) -> PublishedTable:
    """Compute a named table on an analytic connection and pass it through disclosure control."""
    return publish(compute(con, name, by, rule), threshold=threshold)


def stats_table(settings: Settings, name: str, by: Sequence[str] | None = None, *,
                rule: RollupRule | None = None) -> PublishedTable:
    """``ctip stats TABLE``: open the store, compute one table, suppress it."""
    table_spec(name)  # fail fast on a wrong name, before opening the store
    with CaseStore.open(settings, actor="stats") as store, analytic_connection(store) as con:
        return published_table(con, name, by, threshold=settings.suppression_threshold, rule=rule)


@dataclass(frozen=True)
class International:
    """UNODC's GLOTIP export, parsed: counts that reconcile, and the international tables."""

    read: int
    accepted: int
    rejected: pd.DataFrame
    unmapped: pd.DataFrame
    regions: pd.DataFrame
    flows: pd.DataFrame
    flow_shares: pd.DataFrame


def international(path: Any, *, year: int | None = None, level: str = "region") -> International:
    """``ctip glotip FILE``: parse the export, map citizenship, aggregate as UNODC does.

    Public data already published by UNODC (small counts already shown as "<5"), so no further
    suppression is applied; the "<5" cells enter the aggregates as bounds.
    """
    from pathlib import Path

    from ctip.stats import glotip
    from ctip.stats.glotip_map import unmapped_report

    data = glotip.load_glotip(Path(path))
    acc = data.accepted
    cit = acc[acc["dimension"].isin(glotip.CITIZENSHIP_DIMENSIONS)] if len(acc) else acc
    regions = glotip.regional_aggregates(data, level)
    if year is not None:
        regions = regions[regions["year"] == year]
    return International(
        read=data.read, accepted=len(acc), rejected=data.rejected,
        unmapped=unmapped_report(cit) if len(cit) else pd.DataFrame(),
        regions=regions.reset_index(drop=True),
        flows=glotip.flow_matrix(data, level=level, year=year),
        flow_shares=glotip.flow_type_shares(data, year=year))


def store_summary(settings: Settings) -> dict[str, Any]:
    """Counts by sex, age group and form of exploitation over the de-identified analytic view."""
    from ctip.stats.summary import demo_summary

    with CaseStore.open(settings, actor="stats") as store, analytic_connection(store) as con:
        return demo_summary(con)


def table_specs() -> list[TableSpec]:
    """Every national table `ctip stats` can make (name, title, default and allowed --by)."""
    from ctip.stats.registry import TABLES

    return list(TABLES.values())


def csv_text(frame: pd.DataFrame) -> str:
    """CSV text of a published table, every text cell made inert for spreadsheets
    (``ingest.writers.safe_cell``): agency names and categories come from imported files."""
    import io

    from ctip.ingest.writers import safe_cell

    safe = frame.copy()
    for column in safe.columns:
        if safe[column].dtype == object:
            safe[column] = safe[column].map(lambda v: v if v is None else safe_cell(v))
    buffer = io.StringIO()
    safe.to_csv(buffer, index=False)
    return buffer.getvalue()
