"""Screened job ads at rest: batches, rejects, ads, their identifiers, clusters and models.

What is sealed (AES-GCM, registered for key rotation): the ad's text and sections (they hold the
recruiter's phone numbers and handles, an investigated party's personal data), each extracted
identifier's value, a rejected row's raw content, and each trained model (its vocabulary comes
from ad text; sealing also authenticates the bytes before they are unpickled). What is in clear:
ids, counts, scores, indicator codes with their spans and notes (no identifier is ever quoted in a
note), folded locations, destinations, roles, MinHash signatures of the *masked* text, and keyed
pseudonyms (HMAC) of identifiers and company names, by which ads are joined without decrypting.

Every function takes the caller's connection, so a service writes the change and its audit entry
in one transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa

from ctip.storage.review import review_items
from ctip.storage.rotation import SealedColumn, register_sealed
from ctip.storage.tables import metadata

TS = sa.DateTime(timezone=True)
ADS_REVISION = "0901_ads"
CHUNK = 500

ad_batches = sa.Table(
    "ad_batches",
    metadata,
    sa.Column("batch_id", sa.String(36), primary_key=True),
    sa.Column("agency", sa.String(200), nullable=False),
    sa.Column("source_file", sa.String(500), nullable=False),
    sa.Column("file_sha256", sa.String(64), nullable=True),
    sa.Column("profile", sa.String(40), nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("started_at", TS, nullable=False),
    sa.Column("finished_at", TS, nullable=True),
    sa.Column("read_count", sa.Integer, nullable=True),
    sa.Column("accepted_count", sa.Integer, nullable=True),
    sa.Column("duplicate_count", sa.Integer, nullable=True),
    sa.Column("rejected_count", sa.Integer, nullable=True),
    sa.Column("model_version", sa.String(36), nullable=True),
    sa.Column("references_json", sa.Text, nullable=True),  # lexicon/gazetteer versions used
)

ad_rejects = sa.Table(
    "ad_rejects",
    metadata,
    sa.Column("reject_id", sa.String(36), primary_key=True),
    sa.Column("batch_id", sa.String(36), sa.ForeignKey("ad_batches.batch_id"), nullable=False,
              index=True),
    sa.Column("source_row", sa.Integer, nullable=False),
    sa.Column("reasons", sa.Text, nullable=False),  # what is wrong, never the content
    sa.Column("raw_sealed", sa.LargeBinary, nullable=False),
    sa.Column("seal_key_id", sa.String(64), nullable=False),
)

ads = sa.Table(
    "ads",
    metadata,
    sa.Column("ad_id", sa.String(36), primary_key=True),
    sa.Column("agency", sa.String(200), nullable=False),
    sa.Column("batch_id", sa.String(36), sa.ForeignKey("ad_batches.batch_id"), nullable=False,
              index=True),
    sa.Column("source_row", sa.Integer, nullable=False),
    sa.Column("source_ref", sa.String(200), nullable=True),
    sa.Column("content_key", sa.String(64), nullable=False),  # keyed hash of the text
    sa.Column("content_sealed", sa.LargeBinary, nullable=False),
    sa.Column("seal_key_id", sa.String(64), nullable=False),
    sa.Column("company_key", sa.String(64), nullable=True),  # keyed pseudonym of the company
    sa.Column("location", sa.String(200), nullable=True),
    sa.Column("country", sa.String(2), nullable=True),
    sa.Column("roles", sa.String(400), nullable=True),
    sa.Column("destinations", sa.String(400), nullable=True),
    sa.Column("monthly_usd", sa.Float, nullable=True),
    sa.Column("label", sa.Integer, nullable=True),  # from a labelled file
    sa.Column("hits_json", sa.Text, nullable=False),  # R01-R12
    sa.Column("network_json", sa.Text, nullable=True),  # R13, R14 (updated by clustering)
    sa.Column("body_start", sa.Integer, nullable=False),
    sa.Column("body_end", sa.Integer, nullable=False),
    sa.Column("signature", sa.LargeBinary, nullable=True),  # MinHash of the masked text
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("score_kind", sa.String(20), nullable=False),  # "model" or "indicators"
    sa.Column("model_version", sa.String(36), nullable=True),
    sa.Column("cluster_id", sa.String(20), nullable=True, index=True),
    sa.Column("created_at", TS, nullable=False),
    sa.UniqueConstraint("agency", "content_key", name="uq_ads_agency_content_key"),
    sa.Index("ix_ads_agency_score", "agency", "score"),
)

ad_identifiers = sa.Table(
    "ad_identifiers",
    metadata,
    sa.Column("identifier_id", sa.String(36), primary_key=True),
    sa.Column("ad_id", sa.String(36), sa.ForeignKey("ads.ad_id"), nullable=False, index=True),
    sa.Column("agency", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("pseudonym", sa.String(64), nullable=False),
    sa.Column("value_sealed", sa.LargeBinary, nullable=False),
    sa.Column("seal_key_id", sa.String(64), nullable=False),
    sa.Column("span_start", sa.Integer, nullable=False),
    sa.Column("span_end", sa.Integer, nullable=False),
    sa.Column("app", sa.String(20), nullable=True),
    sa.Column("obfuscated", sa.Boolean, nullable=False),
    sa.Column("masked", sa.Boolean, nullable=False),
    sa.Index("ix_ad_identifiers_agency_pseudonym", "agency", "pseudonym"),
)

ad_clusters = sa.Table(
    "ad_clusters",
    metadata,
    sa.Column("agency", sa.String(200), primary_key=True),
    sa.Column("cluster_id", sa.String(20), primary_key=True),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("companies", sa.Integer, nullable=False),
    sa.Column("places_json", sa.Text, nullable=False),
    sa.Column("shared_json", sa.Text, nullable=False),  # identifier kind -> shared identifiers
    sa.Column("near_duplicate_pairs", sa.Integer, nullable=False),
    sa.Column("computed_at", TS, nullable=False),
)

ad_models = sa.Table(
    "ad_models",
    metadata,
    sa.Column("model_version", sa.String(36), primary_key=True),
    sa.Column("agency", sa.String(200), nullable=False, index=True),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("source", sa.String(500), nullable=False),  # a file (with its SHA-256) or decisions
    sa.Column("ads", sa.Integer, nullable=False),
    sa.Column("risky", sa.Integer, nullable=False),
    sa.Column("metrics_json", sa.Text, nullable=False),
    sa.Column("references_json", sa.Text, nullable=False),
    sa.Column("model_sealed", sa.LargeBinary, nullable=False),
    sa.Column("model_sha256", sa.String(64), nullable=False),
    sa.Column("seal_key_id", sa.String(64), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
)


def ad_content_context(ad_id: str) -> str:
    return f"ads/{ad_id}/content"


def identifier_context(identifier_id: str) -> str:
    return f"ad_identifiers/{identifier_id}/value"


def reject_context(reject_id: str) -> str:
    return f"ad_rejects/{reject_id}/raw"


def model_context(model_version: str) -> str:
    return f"ad_models/{model_version}/model"


for _table, _pk, _column, _context in (
    (ads, "ad_id", "content_sealed", ad_content_context),
    (ad_identifiers, "identifier_id", "value_sealed", identifier_context),
    (ad_rejects, "reject_id", "raw_sealed", reject_context),
    (ad_models, "model_version", "model_sealed", model_context),
):
    register_sealed(SealedColumn(_table, _pk, _column, _context, "seal_key_id"))


def _chunks(rows: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


# ---- batches and rejects --------------------------------------------------------------------
def insert_batch(conn: sa.Connection, **values: Any) -> None:
    conn.execute(ad_batches.insert().values(**values))


def finish_batch(conn: sa.Connection, batch_id: str, **values: Any) -> None:
    conn.execute(ad_batches.update().where(ad_batches.c.batch_id == batch_id).values(**values))


def insert_rows(conn: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    for chunk in _chunks(rows):
        conn.execute(table.insert(), list(chunk))


def existing_content_keys(conn: sa.Connection, agency: str, keys: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for chunk in _chunks(list(keys)):
        found |= set(conn.execute(sa.select(ads.c.content_key).where(
            ads.c.agency == agency, ads.c.content_key.in_(chunk))).scalars())
    return found


def batch_rejects(conn: sa.Connection, batch_id: str) -> list[Any]:
    return list(conn.execute(sa.select(ad_rejects.c.source_row, ad_rejects.c.reasons)
                             .where(ad_rejects.c.batch_id == batch_id)
                             .order_by(ad_rejects.c.source_row)))


# ---- clustering -----------------------------------------------------------------------------
def postings(conn: sa.Connection, agency: str) -> tuple[list[Any], list[Any]]:
    """Every ad of the agency (no sealed column) and every identifier pseudonym with its span."""
    ad_rows = list(conn.execute(
        sa.select(ads.c.ad_id, ads.c.company_key, ads.c.location, ads.c.signature,
                  ads.c.body_start, ads.c.body_end, ads.c.cluster_id, ads.c.network_json,
                  ads.c.hits_json, ads.c.score, ads.c.score_kind)
        .where(ads.c.agency == agency).order_by(ads.c.created_at, ads.c.ad_id)))
    ident_rows = list(conn.execute(
        sa.select(ad_identifiers.c.ad_id, ad_identifiers.c.kind, ad_identifiers.c.pseudonym,
                  ad_identifiers.c.span_start, ad_identifiers.c.span_end)
        .where(ad_identifiers.c.agency == agency)
        .order_by(ad_identifiers.c.ad_id, ad_identifiers.c.span_start)))
    return ad_rows, ident_rows


def update_network(conn: sa.Connection, changes: Sequence[dict[str, Any]]) -> None:
    """Set ``cluster_id``, ``network_json`` and ``score`` of the ads in ``changes`` (dicts of
    b_id, cid, net, sc)."""
    statement = (ads.update().where(ads.c.ad_id == sa.bindparam("b_id"))
                 .values(cluster_id=sa.bindparam("cid"), network_json=sa.bindparam("net"),
                         score=sa.bindparam("sc")))
    for chunk in _chunks(list(changes), 2000):
        conn.execute(statement, list(chunk))


def replace_clusters(conn: sa.Connection, agency: str, rows: Sequence[dict[str, Any]]) -> None:
    conn.execute(ad_clusters.delete().where(ad_clusters.c.agency == agency))
    insert_rows(conn, ad_clusters, rows)


def clusters(conn: sa.Connection, agency: str, limit: int) -> list[Any]:
    return list(conn.execute(
        sa.select(ad_clusters).where(ad_clusters.c.agency == agency)
        .order_by(ad_clusters.c.size.desc(), ad_clusters.c.cluster_id).limit(limit)))


def cluster_members(conn: sa.Connection, agency: str, cluster_ids: Sequence[str]) -> list[Any]:
    rows: list[Any] = []
    for chunk in _chunks(list(cluster_ids)):
        rows += conn.execute(
            sa.select(ads.c.ad_id, ads.c.cluster_id, ads.c.content_sealed, ads.c.location,
                      ads.c.score)
            .where(ads.c.agency == agency, ads.c.cluster_id.in_(chunk)))
    return rows


# ---- ads ------------------------------------------------------------------------------------
def ad_rows(conn: sa.Connection, agency: str, ad_ids: Sequence[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for chunk in _chunks(list(ad_ids)):
        for row in conn.execute(sa.select(ads).where(ads.c.agency == agency,
                                                     ads.c.ad_id.in_(chunk))):
            found[row.ad_id] = row
    return found


def all_ads(conn: sa.Connection, agency: str, *, offset: int = 0,
            limit: int | None = None) -> list[Any]:
    query = (sa.select(ads).where(ads.c.agency == agency)
             .order_by(ads.c.score.desc(), ads.c.ad_id).offset(offset))
    if limit is not None:
        query = query.limit(limit)
    return list(conn.execute(query))


def count_ads(conn: sa.Connection, agency: str) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(ads)
                            .where(ads.c.agency == agency)).scalar_one())


def identifiers_of(conn: sa.Connection, ad_ids: Sequence[str]) -> list[Any]:
    rows: list[Any] = []
    for chunk in _chunks(list(ad_ids)):
        rows += conn.execute(sa.select(ad_identifiers).where(ad_identifiers.c.ad_id.in_(chunk))
                             .order_by(ad_identifiers.c.ad_id, ad_identifiers.c.span_start))
    return rows


def ads_with_pseudonyms(conn: sa.Connection, agency: str,
                        pseudonyms: Sequence[str]) -> list[tuple[str, str, str]]:
    """(pseudonym, kind, ad_id) for each ad of the agency holding one of ``pseudonyms``."""
    out: list[tuple[str, str, str]] = []
    for chunk in _chunks(list(pseudonyms)):
        out += [(r.pseudonym, r.kind, r.ad_id) for r in conn.execute(
            sa.select(ad_identifiers.c.pseudonym, ad_identifiers.c.kind, ad_identifiers.c.ad_id)
            .where(ad_identifiers.c.agency == agency, ad_identifiers.c.pseudonym.in_(chunk)))]
    return out


def pseudonyms(conn: sa.Connection, agency: str, kind: str | None) -> list[tuple[str, str, str]]:
    query = sa.select(ad_identifiers.c.pseudonym, ad_identifiers.c.kind,
                      ad_identifiers.c.ad_id).where(ad_identifiers.c.agency == agency)
    if kind:
        query = query.where(ad_identifiers.c.kind == kind)
    return [(r.pseudonym, r.kind, r.ad_id) for r in conn.execute(
        query.order_by(ad_identifiers.c.pseudonym, ad_identifiers.c.ad_id))]


def decided(conn: sa.Connection, agency: str, queue: str) -> list[Any]:
    """Ads of the agency with a current review decision (for retraining)."""
    return list(conn.execute(
        sa.select(ads.c.ad_id, ads.c.content_sealed, ads.c.hits_json, ads.c.network_json,
                  review_items.c.decision)
        .join(review_items, sa.and_(review_items.c.subject == ads.c.ad_id,
                                    review_items.c.queue == queue))
        .where(ads.c.agency == agency, review_items.c.agency == agency,
               review_items.c.decision.is_not(None))
        .order_by(ads.c.ad_id)))


# ---- models ---------------------------------------------------------------------------------
def insert_model(conn: sa.Connection, **values: Any) -> None:
    conn.execute(ad_models.update().where(ad_models.c.agency == values["agency"])
                 .values(active=False))
    conn.execute(ad_models.insert().values(active=True, **values))


def active_model(conn: sa.Connection, agency: str) -> Any:
    return conn.execute(sa.select(ad_models).where(ad_models.c.agency == agency,
                                                   ad_models.c.active.is_(True))).first()


def models(conn: sa.Connection, agency: str) -> list[Any]:
    return list(conn.execute(
        sa.select(ad_models.c.model_version, ad_models.c.created_at, ad_models.c.actor,
                  ad_models.c.source, ad_models.c.ads, ad_models.c.risky,
                  ad_models.c.metrics_json, ad_models.c.active)
        .where(ad_models.c.agency == agency).order_by(ad_models.c.created_at)))


def dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=float)



def for_export(conn: sa.Connection, agency: str, queue: str, *,
               decided_only: bool) -> list[Any]:
    """The agency's ads with the current decision of their review item (None if undecided)."""
    joined = ads.outerjoin(review_items, sa.and_(review_items.c.subject == ads.c.ad_id,
                                                 review_items.c.queue == queue))
    query = (sa.select(ads, review_items.c.decision.label("decision"))
             .select_from(joined).where(ads.c.agency == agency))
    if decided_only:
        query = query.where(review_items.c.decision.is_not(None))
    return list(conn.execute(query.order_by(ads.c.score.desc(), ads.c.ad_id)))
