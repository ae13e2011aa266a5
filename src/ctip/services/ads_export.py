"""Ad screening, the parts that leave the store or need no store: export (CSV, FollowTheMoney),
training a model from a labelled file, and company-grouped evaluation of a labelled file.

An export contains decided ads only, unless asked for undecided ones too (a reviewer looks before
anything leaves). Identifiers are pseudonym labels; their values are opened only with a written
reason, by a role that may decide on the queue, and the opening is audited.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ctip.ads.classify import fit
from ctip.ads.evaluate import Evaluation, grouped_cv, with_network_hits
from ctip.ads.export import CSV_COLUMNS, ExportedAd, csv_row, ftm_entities
from ctip.ads.pipeline import Analysis, analyse
from ctip.ads.queue import ADS_QUEUE, QUEUE_NAME
from ctip.ads.records import Ad
from ctip.domain.access import Principal
from ctip.domain.review import check_decision, may_read
from ctip.errors import ValidationError
from ctip.ingest.writers import write_csv
from ctip.services.ads import AdScreening, _company, _read_ads, _title, file_sha256
from ctip.storage import ads as db

FORMATS = ("csv", "ftm")


@dataclass(frozen=True)
class Labelled:
    """The labelled ads of a file, analysed (rows without a label are counted, not used)."""

    profile: str
    analyses: list[Analysis]
    labels: list[int]
    read: int
    unlabelled: int
    rejected: int


def read_labelled(path: str | Path, profile: str | None = None,
                  on_progress: Callable[[int], None] | None = None) -> Labelled:
    chosen, stream = _read_ads(Path(path), profile)
    analyses: list[Analysis] = []
    labels: list[int] = []
    read = unlabelled = rejected = 0
    for item in stream:
        read += 1
        if on_progress is not None and read % 1000 == 0:
            on_progress(1000)
        if not isinstance(item, Ad):
            rejected += 1
            continue
        if item.label is None:
            unlabelled += 1
            continue
        analyses.append(analyse(item))
        labels.append(item.label)
    if not analyses:
        raise ValidationError(
            "{path}: no labelled ads (read {read}, {unlabelled} without a label, {rejected} "
            "rejected)",
            hint="the file needs a label column: 'fraudulent' (EMSCAD) or 'label' with 0/1",
            params={"path": path, "read": read, "unlabelled": unlabelled, "rejected": rejected})
    return Labelled(chosen, analyses, labels, read, unlabelled, rejected)


def evaluate_file(path: str | Path, *, profile: str | None = None, folds: int = 5,
                  seed: int = 0, on_progress: Callable[[int], None] | None = None,
                  on_fold: Callable[[int], None] | None = None,
                  embeddings: bool = False) -> tuple[Labelled, Evaluation]:
    """Company-grouped cross-validation of the default model (or, with ``embeddings``, of the
    sentence-embedding model) on a labelled file such as EMSCAD."""
    data = read_labelled(path, profile, on_progress)
    vectors = None
    if embeddings:
        from ctip.ads.embeddings import embed

        vectors = embed([a.masked() for a in data.analyses])
    return data, grouped_cv(data.analyses, data.labels, folds=folds, seed=seed, on_fold=on_fold,
                            vectors=vectors)


def train_file(screening: AdScreening, path: str | Path, *, agency: str, actor: str,
               profile: str | None = None, evaluate: bool = True,
               on_progress: Callable[[int], None] | None = None) -> tuple[str, dict[str, Any]]:
    """Train the agency's model on a labelled file (grouped CV figures stored beside it)."""
    data = read_labelled(path, profile, on_progress)
    metrics: dict[str, Any] = {"read": data.read, "unlabelled": data.unlabelled,
                               "rejected": data.rejected}
    if evaluate:
        metrics.update(grouped_cv(data.analyses, data.labels).as_dict())
    codes, _ = with_network_hits(data.analyses)
    model = fit([a.masked() for a in data.analyses], codes, data.labels)
    source = f"file {Path(path).name} sha256={file_sha256(Path(path))} profile={data.profile}"
    version = screening.save_model(agency, model, actor=actor, source=source, metrics=metrics)
    return version, metrics


def export(screening: AdScreening, p: Principal, out: str | Path, *, fmt: str = "csv",
           undecided: bool = False, reveal_reason: str | None = None) -> int:
    """Write the agency's screened ads to ``out``; returns how many ads were written."""
    if fmt not in FORMATS:
        raise ValidationError("unknown export format {fmt}", column="format",
                              allowed=", ".join(FORMATS), params={"fmt": repr(fmt)})
    may_read(p, ADS_QUEUE)
    if reveal_reason is not None:
        check_decision(p, ADS_QUEUE, "escalate", reason=reveal_reason, linked_case=None)
    actor = f"{p.username}@{p.agency}"
    with screening.engine.begin() as conn:
        rows = db.for_export(conn, p.agency, QUEUE_NAME, decided_only=not undecided)
        idents = db.identifiers_of(conn, [r.ad_id for r in rows])
        screening.audit.append(conn, actor=actor, action="ads.export", subject=str(out)[-200:],
                               details={"ads": len(rows), "format": fmt, "undecided": undecided,
                                        "identifiers_revealed": reveal_reason is not None})
    by_ad: dict[str, list[Any]] = {}
    for i in idents:
        by_ad.setdefault(i.ad_id, []).append(i)
    exported = []
    for r in rows:
        content = json.loads(screening.sealer.open(r.content_sealed,
                                                   context=db.ad_content_context(r.ad_id)))
        mine = by_ad.get(r.ad_id, [])
        revealed = ({i.pseudonym: screening.sealer.open(
            i.value_sealed, context=db.identifier_context(i.identifier_id)) for i in mine}
            if reveal_reason is not None else {})
        exported.append(ExportedAd(
            r.ad_id, r.source_ref, r.source_row, _title(content, mine), _company(content),
            r.location or "", r.score, r.score_kind,
            json.loads(r.hits_json) + json.loads(r.network_json or "[]"), r.cluster_id,
            r.decision, [(i.kind, i.pseudonym) for i in mine], r.destinations or "",
            r.roles or "", r.monthly_usd, revealed))
    path = Path(out)
    if fmt == "csv":
        write_csv(path, list(CSV_COLUMNS),
                  ([row[c] for c in CSV_COLUMNS] for row in map(csv_row, exported)))
    else:
        with open(path, "w", encoding="utf-8") as fh:
            for entity in ftm_entities(exported):
                fh.write(json.dumps(entity, ensure_ascii=False, sort_keys=True) + "\n")
    return len(exported)
