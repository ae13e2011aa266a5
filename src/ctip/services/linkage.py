"""Linkage use cases: link the store's records, resolve the review queue, export, encode, match.

Identities are opened once per run through the audited ``store.records_for_linkage`` and live
only in memory (a pandas frame, then an in-memory DuckDB) for the length of the run; what is
written back is record ids, cluster ids and probabilities. Nothing identifying reaches a file
or a log: PPRL encodings are keyed bit vectors.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ctip import storage
from ctip.domain.records import Identity, VictimRecord
from ctip.errors import ConfigurationError, InputFileError, ValidationError
from ctip.ingest.writers import write_csv
from ctip.linkage import dice, pprl
from ctip.linkage.histories import capture_histories
from ctip.linkage.model import ModelOptions, SplinkRun, review_pairs, run_splink
from ctip.linkage.normalise import INPUT_COLUMNS, prepare_frame
from ctip.services.linkage_review import apply_decision
from ctip.settings import Settings
from ctip.storage import linkage as tables

LIST_CHOICES = ("agency", "agency_type")
STRATA_CHOICES = (
    "sex",
    "age_group",
    "victim_group",
    "citizenship",
    "identification_year",
    "primary_form",
    "agency_type",
)


@dataclass
class LinkageResult:
    """What a run produced: the stored run, clusters per record, review count, histories."""

    run: tables.RunSummary
    clusters: pd.DataFrame  # victim_id, agency, source_record_id, list, cluster_id
    review_count: int
    histories: pd.DataFrame  # one 0/1 column per list, then count
    #: what training could not learn and what it used instead (floors, fixed priors)
    notices: list[str] = field(default_factory=list)


def record_row(victim_id: str, record: VictimRecord, lists: str) -> dict[str, Any]:
    """The linkage input row of one record (identity included: in memory only)."""
    ident = record.identity
    year = (
        record.identification_date.year
        if record.identification_date
        else getattr(record, "identification_year", None)
    )
    dob = ident.date_of_birth or (str(record.birth_year) if record.birth_year else None)
    return {
        "unique_id": victim_id,
        "list": (record.agency_type or "unknown") if lists == "agency_type" else record.agency,
        "given_name": ident.given_name,
        "family_name": ident.family_name,
        "aliases": list(ident.aliases),
        "date_of_birth": dob,
        "age": record.age_at_identification,
        "reference_year": year,
        "sex": record.sex,
        "citizenship": record.citizenships[0] if record.citizenships else None,
        "identification_date": (
            record.identification_date.isoformat() if record.identification_date else None
        ),
        "exploitation_forms": list(record.exploitation_forms or ()),
        "address": ident.address,
    }


def records_frame(records: Iterable[tuple[str, VictimRecord]], lists: str) -> pd.DataFrame:
    if lists not in LIST_CHOICES:
        raise ConfigurationError("lists must be one of {list_choices}; got {lists}",
                                 params={"list_choices": ", ".join(LIST_CHOICES),
                                         "lists": repr(lists)})
    return pd.DataFrame(
        [record_row(vid, rec, lists) for vid, rec in records],
        columns=list(INPUT_COLUMNS),
    )


def _analytic(store: Any) -> pd.DataFrame:
    return pd.DataFrame(list(store.analytic_rows()))


def _db_api(engine: str) -> Any:
    if engine == "duckdb":
        from splink import DuckDBAPI

        return DuckDBAPI()
    if engine == "spark":
        from ctip.linkage.spark import spark_api

        return spark_api()
    raise ConfigurationError("engine must be duckdb or spark; got {engine}",
                             params={"engine": repr(engine)})


def in_content_order(prepared: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The linkage frame in an order and with ids that depend on the records alone: rows sorted
    by a hash of their values, ids their ordinals; and the victim id of each ordinal.

    Victim ids are random, and Splink's seeded sampling of random pairs and the clustering's
    ties follow the rows' order and ids: two imports of the same files linked differently
    (the demo: 1,457 and 1,455 people). Same records, same run now."""
    def is_array(column: pd.Series) -> bool:  # a column's values share one type
        first = column.first_valid_index()
        return first is not None and isinstance(column[first], list | tuple | np.ndarray)

    scalar = [c for c in prepared.columns if c != "unique_id" and not is_array(prepared[c])]
    digest = pd.util.hash_pandas_object(prepared[scalar], index=False).to_numpy()
    order = np.argsort(digest, kind="stable")  # ties: records alike in every value
    out = prepared.iloc[order].reset_index(drop=True)
    victim_of = out["unique_id"].astype(str).tolist()
    width = len(str(len(out)))
    out["unique_id"] = [str(i).zfill(width) for i in range(len(out))]
    return out, victim_of


def with_victim_ids(result: SplinkRun, victim_of: list[str]) -> SplinkRun:
    """``run_splink``'s result with the ordinal ids of ``in_content_order`` turned back into
    victim ids (clusters, their labels, scored and refused pairs)."""
    back = {str(i).zfill(len(str(len(victim_of)))): v for i, v in enumerate(victim_of)}
    for frame, columns in ((result.clusters, ("unique_id", "cluster_id")),
                           (result.pairs, ("unique_id_l", "unique_id_r")),
                           (result.refused, ("unique_id_l", "unique_id_r"))):
        for column in columns:
            frame[column] = frame[column].astype(str).map(back)
    return result


def link_store(
    store: Any,
    *,
    lists: str = "agency",
    actor: str,
    reason: str,
    engine: str = "duckdb",
    options: ModelOptions | None = None,
    strata: Sequence[str] = (),
) -> LinkageResult:
    """Deduplicate and link every record in the store; store clusters and the review queue."""
    options = options or ModelOptions()
    frame = records_frame(store.records_for_linkage(actor=actor, reason=reason), lists)
    if len(frame) < 2:
        raise ValidationError(
            "linkage needs at least two victim records in the store",
            hint="import the agencies' files first (`ctip import`)",
        )
    prepared, victim_of = in_content_order(prepare_frame(frame))
    del frame
    if prepared["source_dataset"].nunique() < 2:
        options.link_type = "dedupe_only"
    result = with_victim_ids(run_splink(prepared, _db_api(engine), options), victim_of)
    lists_of = dict(zip(victim_of, prepared["source_dataset"], strict=True))
    del prepared  # identities leave memory with the frame
    cluster_of = dict(
        zip(
            result.clusters["unique_id"].astype(str),
            result.clusters["cluster_id"].astype(str),
            strict=True,
        )
    )
    borderline = review_pairs(result.pairs, options)
    # a pair already joined through other links needs no decision; links at the match
    # threshold that the clustering refused (their records clearly disagree) need one
    apart = [
        cluster_of.get(str(a)) != cluster_of.get(str(b))
        for a, b in zip(borderline["unique_id_l"], borderline["unique_id_r"], strict=True)
    ]
    borderline = borderline.loc[pd.Series(apart, index=borderline.index, dtype=bool)]
    with store.engine.begin() as conn:
        run = tables.save_run(
            conn,
            actor=actor,
            lists_by=lists,
            engine=engine,
            match_threshold=options.match_threshold,
            review_threshold=options.review_threshold,
            clusters=cluster_of.items(),
            reviews=zip(
                borderline["unique_id_l"],
                borderline["unique_id_r"],
                borderline["match_probability"],
                strict=True,
            ),
            model=result.model,
            scored=zip(
                result.pairs["unique_id_l"].astype(str),
                result.pairs["unique_id_r"].astype(str),
                result.pairs["match_probability"],
                strict=True,
            ),
        )
        store.audit.append(
            conn,
            actor=actor,
            action="linkage.run",
            subject="linkage_runs",
            details={
                "run_id": run.run_id,
                "records": run.records,
                "clusters": run.clusters,
                "review_pairs": run.review_pairs,
                "notices": len(result.notices),
            },
        )
    clusters = cluster_table(store, run.run_id, lists_of=lists_of)
    return LinkageResult(
        run=run,
        clusters=clusters,
        review_count=run.review_pairs,
        histories=histories_from(clusters, _analytic(store), strata),
        notices=list(result.notices),
    )


def cluster_table(
    store: Any, run_id: str | None = None, lists_of: dict[str, str] | None = None
) -> pd.DataFrame:
    """One row per record of a run (latest by default): agency, source_record_id, cluster_id."""
    with store.engine.connect() as conn:
        run = tables.latest_run(conn) if run_id is None else None
        run_id = run_id or run.run_id  # type: ignore[union-attr]
        lists_by = run.lists_by if run else "agency"
        mapping = tables.cluster_map(conn, run_id)
    analytic = _analytic(store)[["victim_id", "agency", "agency_type", "source_record_id"]]
    analytic = analytic[analytic["victim_id"].isin(mapping)].copy()
    analytic["cluster_id"] = analytic["victim_id"].map(mapping)
    if lists_of is not None:
        analytic["list"] = analytic["victim_id"].map(lists_of)
    else:
        analytic["list"] = analytic[lists_by].fillna("unknown")
    return analytic.sort_values(["agency", "source_record_id"], ignore_index=True)


def histories_from(
    clusters: pd.DataFrame, analytic: pd.DataFrame, strata: Sequence[str] = ()
) -> pd.DataFrame:
    bad = [s for s in strata if s not in STRATA_CHOICES]
    if bad:
        raise ConfigurationError(
            "unknown stratum {bad}", hint="choose from {choices}",
            params={"bad": repr(bad[0]), "choices": ", ".join(STRATA_CHOICES)})
    frame = clusters
    if strata:
        extra = [s for s in strata if s not in clusters.columns]
        frame = clusters.merge(analytic[["victim_id", *extra]], on="victim_id", how="left")
    return capture_histories(frame, strata=list(strata))


def histories(store: Any, strata: Sequence[str] = ()) -> pd.DataFrame:
    """The capture-history table of the latest run (what `ctip estimate` reads)."""
    return histories_from(cluster_table(store), _analytic(store), strata)


def linkage_errors(store: Any, run_id: str = "latest") -> Any:
    """The estimated linkage error rates of a run (``estimate.linkage_error.errors_from_run``):
    from its clusters, scored pairs and review decisions, for the lists it was run with."""
    from ctip.estimate.linkage_error import errors_from_run

    with store.engine.connect() as conn:
        run = tables.run_by_id(conn, run_id)
        pairs = tables.scored_pairs(conn, run.run_id)
        decided = tables.decided(conn, run.run_id)
    if not pairs:
        raise ValidationError(
            "linkage run {run_id} kept no scored pairs (it was made before ctip stored them)",
            hint="link again (`ctip link run`), then estimate with --linkage-run latest",
            params={"run_id": run.run_id})
    clusters = cluster_table(store, run.run_id)
    clusters["list"] = clusters[run.lists_by].fillna("unknown")
    records = list(zip(clusters["victim_id"].astype(str), clusters["list"].astype(str),
                       clusters["cluster_id"].astype(str), strict=True))
    lists = sorted({name for _, name, _ in records})
    return errors_from_run(lists, records, pairs, threshold=run.match_threshold, decided=decided,
                           source=f"linkage run {run.run_id}", floor=run.review_threshold)


def open_reviews(store: Any) -> list[tables.ReviewItem]:
    with store.engine.connect() as conn:
        return tables.reviews(conn, tables.latest_run(conn).run_id)


def resolve_review(store: Any, review_id: int, decision: str, *, actor: str) -> None:
    """Record a person's decision; a "match" merges the two records' clusters."""
    with store.engine.begin() as conn:
        apply_decision(conn, review_id, decision, actor=actor)
        store.audit.append(
            conn,
            actor=actor,
            action="linkage.review",
            subject="linkage_reviews",
            details={"review_id": review_id, "decision": decision},
        )


# ---- privacy-preserving linkage between agencies ------------------------------------------
def read_secret(path: Path | None, env_value: str | None = None) -> bytes:
    """The shared linkage secret (base64 text), from a file or the environment."""
    import base64
    import binascii

    text = env_value
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8").strip()
        except OSError as error:
            raise InputFileError(
                "cannot read the linkage key file {path}: {strerror}",
                hint="create one with `ctip link keygen --out FILE`",
                params={"path": path, "strerror": error.strerror}) from None
    if not text:
        raise ConfigurationError(
            "no linkage secret given",
            hint="pass --key-file FILE (made once with `ctip link keygen`) or set CTIP_LINKAGE_KEY",
        )
    try:
        secret = base64.b64decode(text, validate=True)
    except binascii.Error:
        raise ConfigurationError(
            "the linkage secret is not valid base64", hint="use a key made by `ctip link keygen`"
        ) from None
    if len(secret) < 16:
        raise ConfigurationError(
            "the linkage secret is shorter than 16 bytes",
            hint="use a key made by `ctip link keygen`",
        )
    return secret


def encode_file(
    path: Path,
    *,
    agency: str,
    secret: bytes,
    profile: str = "canonical",
    schema: pprl.EncodingSchema = pprl.VICTIM_SCHEMA,
) -> tuple[dict[str, Any], int, int]:
    """Read an agency's file and return (encodings document, records encoded, rows rejected).

    Runs at the agency: the file's identities are read, normalised and encoded in memory.
    The record id sent is the agency's own ``source_record_id`` so the agency can map results
    back; the document carries no name, date or code.
    """
    from ctip.ingest.profiles import get_profile
    from ctip.ingest.readers import read_table

    mapper = get_profile(profile)
    rows: list[tuple[str, VictimRecord]] = []
    rejected = 0
    with read_table(path) as source:
        for number, raw in source:
            mapped = mapper.map_row(raw, source_file=str(path), source_row=number, agency=agency)
            if isinstance(mapped, VictimRecord):
                rows.append((mapped.source_record_id, mapped))
            else:
                rejected += 1
    frame = prepare_frame(records_frame(rows, "agency"))
    encoded = pprl.encode(frame, secret, schema, list_name=agency)
    return pprl.to_document(encoded), len(rows), rejected


def load_encodings(paths: Sequence[Path]) -> list[pprl.Encoded]:
    out = []
    for path in paths:
        try:
            doc = json.loads(Path(path).read_text(encoding="utf-8"))
            out.append(pprl.from_document(doc))
        except OSError as error:
            raise InputFileError("cannot read {path}: {strerror}",
                                 params={"path": path, "strerror": error.strerror}) from None
        except (ValueError, KeyError, TypeError) as error:
            raise InputFileError(
                "{path} is not a ctip encodings file: {error}",
                hint="make it with `ctip link encode`",
                params={"path": path, "error": error}) from None
    names = [e.list_name for e in out]
    if len(set(names)) != len(names):
        raise ValidationError(
            "two encodings files are for the same list (agency)", value=", ".join(names)
        )
    return out


def match_files(
    paths: Sequence[Path],
    *,
    threshold: float = dice.DEFAULT_DICE_THRESHOLD,
    strata: Sequence[str] = (),
) -> tuple[dice.MatchResult, pd.DataFrame]:
    """Link agencies' encodings at the linkage unit: clusters and capture histories."""
    encodings = load_encodings(paths)
    try:
        result = dice.match_encodings(encodings, threshold)
    except ValueError as error:
        # the matcher's own (English) refusal, passed on as written
        raise ValidationError("{error}", params={"error": str(error)}) from None
    hist = capture_histories(result.clusters, lists=[e.list_name for e in encodings])
    return result, hist


# ---- for adapters: the linkage use cases over one store -------------------------------------
class LinkageWork:
    """The linkage use cases over the store of ``settings``, for an adapter:
    ``with LinkageWork.open(settings, actor=...) as work: work.run(...)``."""

    def __init__(self, store: Any, actor: str) -> None:
        self.store, self.actor = store, actor

    @classmethod
    def open(cls, settings: Settings, *, actor: str) -> LinkageWork:
        return cls(storage.open(settings).records(actor=actor), actor)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> LinkageWork:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def run(self, *, lists: str, reason: str, engine: str, match_threshold: float,
            review_threshold: float) -> LinkageResult:
        """Link every record (``link_store``); borderline pairs from ``review_threshold`` up to
        ``match_threshold`` go to review."""
        options = ModelOptions(match_threshold=match_threshold,
                               review_threshold=min(review_threshold, match_threshold))
        return link_store(self.store, lists=lists, actor=self.actor, reason=reason,
                          engine=engine, options=options)

    def link(self, *, lists: str, reason: str) -> LinkageResult:
        """Link every record with the model's default options on DuckDB."""
        return link_store(self.store, lists=lists, actor=self.actor, reason=reason)

    def reviews(self) -> list[tables.ReviewItem]:
        return open_reviews(self.store)

    def resolve(self, review_id: int, decision: str) -> None:
        resolve_review(self.store, review_id, decision, actor=self.actor)

    def identities(self, victim_ids: Sequence[str], *, reason: str) -> dict[str, Identity]:
        """Open identities to compare a pair (audited with ``reason``)."""
        return dict(self.store.identities(victim_ids, actor=self.actor, reason=reason))

    def clusters(self) -> pd.DataFrame:
        return cluster_table(self.store)

    def histories(self, strata: Sequence[str] = ()) -> pd.DataFrame:
        return histories(self.store, strata)


def write_frame(path: Path, frame: pd.DataFrame) -> int:
    """Write a frame as CSV (formula-injection safe); returns the rows written."""
    return write_csv(path, list(frame.columns), frame.itertuples(index=False, name=None))
