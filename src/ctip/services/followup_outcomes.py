"""Use case: outcomes for victims around a measure's start date, from ctip's own data (para 31).

Reads only de-identified data: the analytic view's victim and perpetrator rows (no identity
column exists there), per-case workflow facts (dates and flags, no case id; see
``storage.followup_outcomes``) and the latest linkage run's record-to-person map. Nothing here
opens a sealed field. Figures over fewer cases than the suppression threshold are withheld.
Every result is labelled "association, not proof" (``followup.outcomes``).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd

from ctip.domain.access import Action, Principal, require_role
from ctip.errors import NotFoundError
from ctip.followup import outcomes as oc
from ctip.settings import Settings
from ctip.stats.population import population
from ctip.storage import followup_outcomes as facts
from ctip.storage import linkage as linkage_db
from ctip.storage.repository import CaseStore

CASE_COLUMNS = ("signal_at", "rg_decision_at", "entitled", "assisted", "np_flagged",
                "np_decided", "comp_claimed", "comp_awarded")


def _window(dates: list[pd.Series]) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    parts = [pd.to_datetime(d).dropna() for d in dates if len(d)]
    known = pd.concat(parts, ignore_index=True) if parts else pd.Series(dtype="datetime64[ns]")
    if known.empty:
        return None
    return known.min().normalize(), known.max().normalize()


def _naive(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series, utc=True).dt.tz_localize(None)


def case_frame(store: CaseStore) -> pd.DataFrame:
    with store.engine.connect() as conn:
        rows = facts.case_outcome_rows(conn)
    frame = pd.DataFrame(rows, columns=list(CASE_COLUMNS))
    if frame.empty:
        return frame
    frame["signal_at"] = _naive(frame["signal_at"])
    frame["rg_decision_at"] = _naive(frame["rg_decision_at"])
    frame["days_to_rg"] = (frame["rg_decision_at"] - frame["signal_at"]).dt.total_seconds() / 86400
    for column in CASE_COLUMNS[2:]:
        frame[column] = frame[column].fillna(0).astype(bool)
    return frame


def linked_people(store: CaseStore, victims: pd.DataFrame) -> pd.DataFrame | None:
    """Victim records with their person (cluster) from the latest linkage run, if any."""
    with store.engine.connect() as conn:
        try:
            run = linkage_db.latest_run(conn)
        except NotFoundError:  # no run yet: re-identification is not computable
            return None
        mapping = linkage_db.cluster_map(conn, run.run_id)
    linked = victims[victims["victim_id"].isin(mapping)].copy()
    linked["cluster_id"] = linked["victim_id"].map(mapping)
    return linked


def outcomes(store: CaseStore, p: Principal, *, measure: str, start: date,
             country: str | None = None, threshold: int = 5) -> dict[str, Any]:
    require_role(p, Action.FOLLOWUP_READ)
    victims = pd.DataFrame(list(store.analytic_rows()))
    perps = pd.DataFrame(list(store.perpetrator_rows()))
    cases = case_frame(store)
    when = pd.Timestamp(start)
    detected = victims[victims["detected"].fillna(False).astype(bool)] if len(victims) else victims
    ident = pd.to_datetime(detected["identification_date"]) if len(detected) else pd.Series(
        dtype="datetime64[ns]")
    window = _window([ident, cases["signal_at"] if len(cases) else pd.Series(dtype="object")])
    results: list[oc.Outcome] = []
    notes: list[str] = []
    if window is None:
        notes.append("no dated victim records or cases: nothing to compare")
    else:
        first, last = window
        results.append(oc.rate_ratio("identifications", "Victims identified per year", ident,
                                     when, first, last, threshold))
        for stage, title in (("prosecuted", "Persons prosecuted per year"),
                             ("convicted", "Persons convicted per year")):
            years = perps[perps["stage"] == stage]["stage_year"] if len(perps) else pd.Series()
            dated = pd.to_datetime(years.dropna().astype(int).astype(str) + "-07-01")
            results.append(oc.rate_ratio(stage, title, dated, when, first, last, threshold))
    if len(cases):
        entitled = cases[cases["entitled"]]
        results.append(oc.median_difference(
            "days_to_decision", "Days from signal to the reasonable-grounds decision", cases,
            "signal_at", "days_to_rg", when, threshold))
        results.append(oc.share_difference("assistance", "Presumed victims who received "
                                           "assistance", entitled, "signal_at", "assisted",
                                           when, threshold))
        flagged = cases[cases["np_flagged"]]
        results.append(oc.share_difference("non_punishment", "Non-punishment reviews that reached "
                                           "a prosecutor's decision", flagged, "signal_at",
                                           "np_decided", when, threshold))
        claimed = cases[cases["comp_claimed"]]
        results.append(oc.share_difference("compensation", "Compensation claims awarded",
                                           claimed, "signal_at", "comp_awarded", when,
                                           threshold))
    linked = linked_people(store, victims) if len(victims) else None
    if linked is not None and len(linked):
        people = oc.re_identified(linked)
        results.append(oc.share_difference("re_identified", "People identified again 30 days "
                                           "to 24 months after their first identification",
                                           people, "first", "again", when, threshold))
    else:
        notes.append("re-identification needs a linkage run (`ctip link`)")
    rate = None
    if country and len(detected):
        year = int(detected["identification_year"].dropna().max())
        count = int((detected["identification_year"] == year).sum())
        rate = {"year": year, "per_100k": oc.per_100k(count, population(country, year))
                if count >= threshold else None, "country": country}
    return {"measure": measure, "start": start.isoformat(), "label": oc.LABEL,
            "threshold": threshold, "identifications_per_100k": rate,
            "outcomes": [r.as_dict() for r in results], "notes": notes}


def outcomes_of(settings: Settings, p: Principal, *, measure: str, start: date,
                country: str | None = None) -> dict[str, Any]:
    """``outcomes`` over the store of ``settings``, at its suppression threshold."""
    with CaseStore.open(settings, actor="followup") as store:
        return outcomes(store, p, measure=measure, start=start, country=country,
                        threshold=settings.suppression_threshold)
