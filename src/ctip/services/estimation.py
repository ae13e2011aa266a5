"""Use case: estimate the number of victims from a capture-history file (CSV or XLSX).

The file has one 0/1 column per list (agency), optional strata columns named by the caller, and a
``count`` column (``Freq`` as LCMCR writes it is accepted too). Without a count column each row is
one person. Reading goes through ``ingest.readers.read_table`` so encodings, delimiters and
unreadable files are handled, and reported, exactly as for case imports.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ctip.errors import ValidationError
from ctip.estimate import EstimateResult, estimate, estimate_strata, from_frame
from ctip.estimate.histories import CaptureHistory
from ctip.ingest.readers import read_table

COUNT_NAMES = ("count", "Count", "COUNT", "Freq", "freq", "n")


def read_capture_file(
    path: str | Path, *, strata: Sequence[str] = ()
) -> tuple[pd.DataFrame, list[str], list[int]]:
    """(frame with list columns, strata and ``count``; list names; source row numbers)."""
    path = Path(path)
    with read_table(path) as source:
        header = list(source.header)
        rows, numbers = [], []
        for number, row in source:
            problems = getattr(row, "problems", ())
            if problems:
                raise ValidationError(
                    problems[0].message,
                    file=path.name,
                    row=number,
                    column=problems[0].column or None,
                )
            rows.append(row)
            numbers.append(number)
    frame = pd.DataFrame(rows, columns=header)
    for col in strata:
        if col not in frame.columns:
            raise ValidationError(
                "stratum column not found", file=path.name, column=col, allowed=", ".join(header)
            )
    count = next((c for c in COUNT_NAMES if c in frame.columns), None)
    if count is None:
        frame["count"] = 1  # one row per person
    elif count != "count":
        frame = frame.rename(columns={count: "count"})
    lists = [c for c in frame.columns if c != "count" and c not in strata]
    return frame, lists, numbers


def history_from_file(path: str | Path) -> CaptureHistory:
    frame, lists, numbers = read_capture_file(path)
    return from_frame(frame, lists=lists, source=Path(path).name, row_numbers=numbers)


def estimate_file(
    path: str | Path,
    *,
    method: str = "stepwise",
    strata: Sequence[str] = (),
    threshold: float | None = None,
    interval: str = "auto",
    bootstrap: int = 0,
    seed: int = 1234,
    level: float = 0.95,
    workers: int = 1,
    maxorder: int | None = None,
    model: str | None = None,
    lcmcr_options: dict[str, Any] | None = None,
    dga_options: dict[str, Any] | None = None,
    bayes_options: dict[str, Any] | None = None,
    on_progress: Callable[[int], None] | None = None,
    linkage_errors: Any = None,
) -> EstimateResult | list[EstimateResult]:
    """One result for the whole file, or one per stratum plus the total when ``strata`` given.

    With ``linkage_errors`` (``services.linkage.linkage_errors``), the table is corrected for
    them first and the uncorrected figure is kept in ``details.linkage_correction``."""
    frame, lists, numbers = read_capture_file(path, strata=strata)
    options: dict[str, Any] = dict(
        method=method,
        threshold=threshold,
        interval=interval,
        bootstrap=bootstrap,
        seed=seed,
        level=level,
        workers=workers,
        maxorder=maxorder,
        model=model,
        lcmcr_options=lcmcr_options,
        dga_options=dga_options,
        bayes_options=bayes_options,
        on_progress=on_progress,
    )
    # validate the whole file first, so a bad cell is reported with its row, not per stratum
    from_frame(frame[[*lists, "count"]], lists=lists, source=Path(path).name, row_numbers=numbers)
    if strata and linkage_errors is not None:
        raise ValidationError(
            "a linkage-error correction is made for the whole table, not per stratum",
            hint="estimate without --strata, or without --linkage-run",
        )
    if strata:
        return estimate_strata(frame, lists=lists, strata=list(strata), **options)
    hist = from_frame(
        frame[[*lists, "count"]], lists=lists, source=Path(path).name, row_numbers=numbers
    )
    if linkage_errors is not None:
        from ctip.estimate.linkage_error import estimate_corrected

        return estimate_corrected(hist, linkage_errors, **options)
    return estimate(hist, **options)


def model_table_for_file(path: str | Path, *, method: str, maxorder: int | None) -> pd.DataFrame:
    """Every candidate model of the file's table, at the order the method searched (aic/bic:
    three-way terms for 4-5 lists by default), two-way otherwise."""
    from ctip.estimate.report import model_table
    from ctip.estimate.terms import HIGHER_ORDER_MAX_LISTS, default_maxorder

    history = history_from_file(path)
    if maxorder is None:
        searched = method in ("aic", "bic") and history.t <= HIGHER_ORDER_MAX_LISTS
        maxorder = default_maxorder(history.t) if searched else 2
    return model_table(history, maxorder=max(1, min(maxorder, history.t - 1)))


def progress_total(
    path: str | Path,
    *,
    method: str,
    bootstrap: int,
    interval: str,
    lcmcr_options: dict[str, Any] | None,
    strata: Sequence[str] = (),
) -> int:
    """Units of work the progress bar will see (per stratum it restarts; this is for one run)."""
    if method == "lcmcr":
        o = lcmcr_options or {}
        if o.get("iterations") is None:
            return 0  # runs until converged: the bar cannot know its end (an open bar is shown)
        return int(o["iterations"]) + int(o.get("burnin", 5_000))
    if interval == "bootstrap" or (interval == "auto" and bootstrap > 0):
        hist = history_from_file(path)
        return (bootstrap or 1000) + int((hist.counts > 0).sum())
    return 0


def estimate_histories(
    frame: pd.DataFrame, *, strata: Sequence[str] = (), **options: Any
) -> EstimateResult | list[EstimateResult]:
    """Estimate from a capture-history frame already in memory (e.g. from a linkage run).

    Lists are every column but ``count`` and the strata. With strata: one result per stratum plus
    the total; a stratum that cannot be estimated is a row with ``estimable=False``.
    """
    lists = [c for c in frame.columns if c != "count" and c not in strata]
    if strata:
        return estimate_strata(frame, lists=lists, strata=list(strata), **options)
    return estimate(from_frame(frame[[*lists, "count"]], lists=lists), **options)


def sensitivity_for_file(
    path: str | Path, chosen: EstimateResult, linkage_errors: Any = None
) -> Any:
    """The range across the defensible methods for a capture-history file, beside ``chosen``
    (``estimate.sensitivity``): what `ctip estimate` prints under any single figure. With
    ``linkage_errors``, on the corrected table (the one ``chosen`` was estimated from)."""
    from ctip.estimate.sensitivity import sensitivity

    history = history_from_file(path)
    if linkage_errors is not None:
        from ctip.estimate.linkage_error import correct

        history = correct(history, linkage_errors).history
    return sensitivity(history, chosen=chosen)
