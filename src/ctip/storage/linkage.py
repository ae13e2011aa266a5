"""Linkage results: runs, the cluster (person) of each victim record, and the review queue.

No identity is stored here: a run keeps record ids, cluster ids and match probabilities only,
so the results can be kept and shared with analysts. The review queue names two records by id;
a reviewer who needs to see the two identities opens them through the audited store.
Every function takes the caller's connection so a service writes results and audit together.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from ctip.errors import NotFoundError
from ctip.storage.tables import metadata

TS = sa.DateTime(timezone=True)
LINKAGE_REVISION = "0501_linkage"

linkage_runs = sa.Table(
    "linkage_runs",
    metadata,
    sa.Column("run_id", sa.String(36), primary_key=True),
    sa.Column("started_at", TS, nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("lists_by", sa.String(40), nullable=False),
    sa.Column("engine", sa.String(40), nullable=False),
    sa.Column("match_threshold", sa.Float, nullable=False),
    sa.Column("review_threshold", sa.Float, nullable=False),
    sa.Column("records", sa.Integer, nullable=False),
    sa.Column("clusters", sa.Integer, nullable=False),
    sa.Column("review_pairs", sa.Integer, nullable=False),
    sa.Column("model_json", sa.Text, nullable=True),  # Splink weights: no record values
)

linkage_clusters = sa.Table(
    "linkage_clusters",
    metadata,
    sa.Column("run_id", sa.String(36), sa.ForeignKey("linkage_runs.run_id"), primary_key=True),
    sa.Column("victim_id", sa.String(36), primary_key=True),
    sa.Column("cluster_id", sa.String(80), nullable=False, index=True),
)

linkage_reviews = sa.Table(
    "linkage_reviews",
    metadata,
    sa.Column("review_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "run_id", sa.String(36), sa.ForeignKey("linkage_runs.run_id"), nullable=False, index=True
    ),
    sa.Column("victim_id_l", sa.String(36), nullable=False),
    sa.Column("victim_id_r", sa.String(36), nullable=False),
    sa.Column("match_probability", sa.Float, nullable=False),
    sa.Column("decision", sa.String(20), nullable=True),  # match | non_match | NULL (open)
    sa.Column("decided_by", sa.String(200), nullable=True),
    sa.Column("decided_at", TS, nullable=True),
)

#: every pair the model scored at or above the run's review threshold (ids and probability
#: only; the pairs a run computes anyway, so storing them costs no extra scoring): what a
#: linkage-error correction of the estimate reads (``ctip estimate --linkage-run``, which needs
#: the direct links, all at or above the match threshold)
linkage_pairs = sa.Table(
    "linkage_pairs",
    metadata,
    sa.Column("run_id", sa.String(36), sa.ForeignKey("linkage_runs.run_id"), primary_key=True),
    sa.Column("victim_id_l", sa.String(36), primary_key=True),
    sa.Column("victim_id_r", sa.String(36), primary_key=True),
    sa.Column("match_probability", sa.Float, nullable=False),
)
PAIRS_REVISION = "0502_linkage_pairs"

DECISIONS = ("match", "non_match")


@dataclass(frozen=True)
class RunSummary:
    run_id: str
    started_at: datetime
    actor: str
    lists_by: str
    engine: str
    match_threshold: float
    review_threshold: float
    records: int
    clusters: int
    review_pairs: int


@dataclass(frozen=True)
class ReviewItem:
    review_id: int
    run_id: str
    victim_id_l: str
    victim_id_r: str
    match_probability: float
    decision: str | None


def save_run(
    conn: sa.Connection,
    *,
    actor: str,
    lists_by: str,
    engine: str,
    match_threshold: float,
    review_threshold: float,
    clusters: Iterable[tuple[str, str]],
    reviews: Iterable[tuple[str, str, float]],
    model: dict[str, Any] | None,
    scored: Iterable[tuple[str, str, float]] = (),
) -> RunSummary:
    """Store one run: (victim_id, cluster_id) pairs and borderline (id_l, id_r, probability)."""
    run_id = str(uuid.uuid4())
    cluster_rows = [{"run_id": run_id, "victim_id": v, "cluster_id": c} for v, c in clusters]
    review_rows = [
        {"run_id": run_id, "victim_id_l": a, "victim_id_r": b, "match_probability": float(p)}
        for a, b, p in reviews
    ]
    summary = RunSummary(
        run_id=run_id,
        started_at=datetime.now(UTC),
        actor=actor,
        lists_by=lists_by,
        engine=engine,
        match_threshold=match_threshold,
        review_threshold=review_threshold,
        records=len(cluster_rows),
        clusters=len({r["cluster_id"] for r in cluster_rows}),
        review_pairs=len(review_rows),
    )
    conn.execute(
        linkage_runs.insert().values(
            **summary.__dict__, model_json=json.dumps(model) if model is not None else None
        )
    )
    for start in range(0, len(cluster_rows), 5000):
        conn.execute(linkage_clusters.insert(), cluster_rows[start : start + 5000])
    if review_rows:
        conn.execute(linkage_reviews.insert(), review_rows)
    seen: set[tuple[str, str]] = set()
    pair_rows = []
    for a, b, p in scored:
        key = (a, b) if a <= b else (b, a)
        if key not in seen:
            seen.add(key)
            pair_rows.append({"run_id": run_id, "victim_id_l": key[0], "victim_id_r": key[1],
                              "match_probability": float(p)})
    for start in range(0, len(pair_rows), 5000):
        conn.execute(linkage_pairs.insert(), pair_rows[start : start + 5000])
    return summary


def run_by_id(conn: sa.Connection, run_id: str) -> RunSummary:
    """A run by id, or ``latest``."""
    if run_id == "latest":
        return latest_run(conn)
    row = conn.execute(sa.select(linkage_runs).where(linkage_runs.c.run_id == run_id)).first()
    if row is None:
        raise NotFoundError(f"No linkage run {run_id}.",
                            hint="give `latest` or a run id from `ctip link run --json`")
    data = row._asdict()
    data.pop("model_json", None)
    return RunSummary(**data)


def scored_pairs(conn: sa.Connection, run_id: str) -> list[tuple[str, str, float]]:
    """(victim_id_l, victim_id_r, match probability) of every pair the run scored (>= floor)."""
    rows = conn.execute(
        sa.select(linkage_pairs.c.victim_id_l, linkage_pairs.c.victim_id_r,
                  linkage_pairs.c.match_probability).where(linkage_pairs.c.run_id == run_id)
    )
    return [(a, b, float(p)) for a, b, p in rows]


def latest_run(conn: sa.Connection) -> RunSummary:
    row = conn.execute(
        sa.select(linkage_runs).order_by(linkage_runs.c.started_at.desc()).limit(1)
    ).first()
    if row is None:
        raise NotFoundError("No linkage run yet.", hint="run `ctip link run` first")
    data = row._asdict()
    data.pop("model_json", None)
    return RunSummary(**data)


def cluster_map(conn: sa.Connection, run_id: str) -> dict[str, str]:
    rows = conn.execute(
        sa.select(linkage_clusters.c.victim_id, linkage_clusters.c.cluster_id).where(
            linkage_clusters.c.run_id == run_id
        )
    )
    return {victim_id: cluster_id for victim_id, cluster_id in rows}


def reviews(conn: sa.Connection, run_id: str, *, open_only: bool = True) -> list[ReviewItem]:
    query = sa.select(linkage_reviews).where(linkage_reviews.c.run_id == run_id)
    if open_only:
        query = query.where(linkage_reviews.c.decision.is_(None))
    query = query.order_by(linkage_reviews.c.match_probability.desc(), linkage_reviews.c.review_id)
    return [
        ReviewItem(
            r.review_id, r.run_id, r.victim_id_l, r.victim_id_r, r.match_probability, r.decision
        )
        for r in conn.execute(query)
    ]


def decide(conn: sa.Connection, review_id: int, decision: str, *, actor: str) -> None:
    if decision not in DECISIONS:
        raise ValueError(f"decision must be one of {DECISIONS}")
    done = conn.execute(
        linkage_reviews.update()
        .where(linkage_reviews.c.review_id == review_id)
        .values(decision=decision, decided_by=actor, decided_at=datetime.now(UTC))
    )
    if done.rowcount == 0:
        raise NotFoundError(
            f"No review item {review_id}.", hint="list them with `ctip link review`"
        )


def decided(conn: sa.Connection, run_id: str) -> Sequence[tuple[str, str, str]]:
    """(victim_id_l, victim_id_r, decision) of the run's resolved review items."""
    rows = conn.execute(
        sa.select(
            linkage_reviews.c.victim_id_l, linkage_reviews.c.victim_id_r, linkage_reviews.c.decision
        ).where(linkage_reviews.c.run_id == run_id, linkage_reviews.c.decision.is_not(None))
    )
    return [tuple(r) for r in rows]


def update_clusters(conn: sa.Connection, run_id: str, clusters: dict[str, str]) -> None:
    """Replace a run's cluster ids (after review decisions merged or split people)."""
    current = cluster_map(conn, run_id)
    for victim_id, cluster_id in clusters.items():
        if current.get(victim_id) != cluster_id:
            conn.execute(
                linkage_clusters.update()
                .where(
                    linkage_clusters.c.run_id == run_id, linkage_clusters.c.victim_id == victim_id
                )
                .values(cluster_id=cluster_id)
            )
    conn.execute(
        linkage_runs.update()
        .where(linkage_runs.c.run_id == run_id)
        .values(clusters=len(set(clusters.values())))
    )
