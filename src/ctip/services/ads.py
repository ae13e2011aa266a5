"""Screening job ads: read a file, analyse, seal, score, cluster, and queue for review.

The pure work is ``ctip.ads``; this module joins it to the store. Ad text and identifiers are
sealed before they reach a table; identifiers are joined by keyed pseudonyms
(``identifier_pseudonym``, shared with the financial-flow rules' F20-06). Every screening run,
model, decision and every opening of ad text is audited, with counts and ids, never content.

Reviewing, deciding, clusters and retraining are agency-scoped through ``ReviewQueues`` and the
queue kind ``ads.screened`` (``ctip.ads.queue``). Exports and evaluation: ``services.ads_export``.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa

from ctip.ads import cluster as clustering
from ctip.ads.classify import AdModel, fit, indicator_score
from ctip.ads.display import Piece, pieces, plain
from ctip.ads.indicators import INDICATORS, Hit
from ctip.ads.lexicon import reference_versions
from ctip.ads.phones import phone_key
from ctip.ads.pipeline import company_key, mask_text
from ctip.ads.queue import ADS_QUEUE, CAVEAT, QUEUE_NAME, reasons
from ctip.ads.readers import PROFILES, ad_from_html, detect_profile, map_rows
from ctip.ads.records import Ad, RejectedAd
from ctip.domain.access import Principal
from ctip.domain.review import ReviewItem, check_decision, may_read
from ctip.errors import InputFileError, NotFoundError, ValidationError
from ctip.ingest.readers import read_table
from ctip.services.ads_prepare import BATCH, Prepared, PreparedBatch, default_workers, prepared
from ctip.services.review import ReviewQueues
from ctip.settings import Settings
from ctip.storage import ads as db
from ctip.storage.audit import AuditLog
from ctip.storage.bulk import new_id, new_ids
from ctip.storage.keystate import guard_of
from ctip.storage.repository import CaseStore
from ctip.storage.sealing import Pseudonymiser, Sealer

__all__ = ["CAVEAT", "AdScreening", "AdView", "ClusterView", "ScreenResult", "ScreenedAd",
           "default_workers", "phone_pseudonym"]
DEFAULT_QUEUE_ABOVE = 0.35  # two indicators without a model; a 35 % probability with one
HTML_SUFFIXES = (".html", ".htm")
IDENTIFIER_PURPOSE = "ctip.ads.identifier.v1"
CONTENT_PURPOSE = "ctip.ads.content.v1"
COMPANY_PURPOSE = "ctip.ads.company.v1"


def _now() -> datetime:
    return datetime.now(UTC)


def identifier_pseudonym(pseudonymiser: Pseudonymiser, key: str) -> str:
    """The keyed pseudonym of an identifier key (``phone:+85512345678``, ``telegram:name``)."""
    return pseudonymiser.keyed_hash(IDENTIFIER_PURPOSE, key.encode("utf-8"))


def phone_pseudonym(pseudonymiser: Pseudonymiser, raw: str,
                    region: str | None = None) -> str | None:
    """The pseudonym an ad's phone gets, for a phone given on its own (an account holder's in
    a bank file): the join key of F20-06. None when ``raw`` is not a phone number."""
    canonical = phone_key(raw, region)
    return identifier_pseudonym(pseudonymiser, f"phone:{canonical}") if canonical else None


@dataclass
class ScreenResult:
    batch_id: str
    file: str
    profile: str
    read: int = 0
    accepted: int = 0
    new: int = 0
    duplicates: int = 0
    rejected: int = 0
    queued: int = 0
    already_queued: int = 0
    clusters: int = 0
    score_kind: str = "indicators"
    model_version: str | None = None
    rejects: list[tuple[int, str]] = field(default_factory=list)
    by_indicator: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ScreenedAd:
    """An ad on the review queue: score, indicators (with spans) and cluster."""

    item: ReviewItem
    ad_id: str
    title: str
    score: float
    score_kind: str
    hits: list[dict[str, Any]]
    cluster_id: str | None
    cluster_size: int
    location: str

    @property
    def codes(self) -> list[str]:
        return sorted({str(h["code"]) for h in self.hits})


@dataclass(frozen=True)
class AdView(ScreenedAd):
    pieces: tuple[Piece, ...] = ()
    identifiers: tuple[tuple[str, str, bool], ...] = ()  # (kind, pseudonym prefix, obfuscated)


@dataclass(frozen=True)
class ClusterView:
    cluster_id: str
    size: int
    companies: list[str]
    places: list[str]
    shared: dict[str, int]
    near_duplicate_pairs: int
    ad_ids: list[str]
    top_score: float


def _hit_dict(hit: Hit) -> dict[str, Any]:
    return {"code": hit.code, "start": hit.start, "end": hit.end, "note": hit.note,
            "figures": hit.figures}


def _read_ads(path: Path, profile: str | None) -> tuple[str, Iterator[Ad | RejectedAd]]:
    """The profile used and a stream of ads and rejects from a CSV/XLSX/JSONL file, a saved
    HTML page, or a folder of saved HTML pages."""
    if path.is_dir() or path.suffix.lower() in HTML_SUFFIXES:
        pages = (sorted(p for p in path.iterdir() if p.suffix.lower() in HTML_SUFFIXES)
                 if path.is_dir() else [path])
        if not pages:
            raise InputFileError("{path}: no .html pages in this folder",
                                 hint="save the ad pages as .html files in the folder",
                                 params={"path": path})

        def html_ads() -> Iterator[Ad | RejectedAd]:
            for n, page in enumerate(pages, start=1):
                data = page.read_bytes()
                try:
                    text = data.decode("utf-8")
                except UnicodeDecodeError:
                    text = data.decode("cp1252", errors="replace")
                yield ad_from_html(text, n, page.name)

        return "html", html_ads()
    source = read_table(path)
    chosen = profile or detect_profile(source.header)
    if chosen not in PROFILES:
        raise ValidationError("unknown ad profile {chosen}", column="profile",
                              allowed=", ".join(PROFILES + ("html",)),
                              params={"chosen": repr(chosen)})
    return chosen, map_rows(source.header, source.rows, chosen)


def file_sha256(path: Path) -> str | None:
    if path.is_dir():
        return None
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class AdScreening:
    """The ad screener of one store (its engine, key ring, pseudonym key and audit log)."""

    def __init__(self, engine: sa.Engine, sealer: Sealer, pseudonymiser: Pseudonymiser,
                 audit: AuditLog | None = None) -> None:
        self.engine, self.sealer, self.pseudonymiser = engine, sealer, pseudonymiser
        self.audit = audit or AuditLog()
        self.queues = ReviewQueues(engine, sealer, self.audit)

    @classmethod
    def of(cls, store: Any) -> AdScreening:
        """From any store with ``engine``, ``sealer``, ``pseudonymiser`` and ``audit``."""
        return cls(store.engine, store.sealer, store.pseudonymiser, store.audit)

    @classmethod
    def open(cls, settings: Settings) -> AdScreening:
        """Keys, engine and migrations from the settings (what a command line needs)."""
        return cls.of(CaseStore.open(settings))

    def close(self) -> None:
        self.engine.dispose()

    def _under_active_key(self, conn: sa.Connection) -> None:
        """Take the key lock and the database's active key before ``seal_many`` (which does
        not check): the batch is sealed and stored in this one transaction (storage.keystate)."""
        guard = guard_of(self.sealer)
        if guard is not None:
            guard.sync(conn, self.sealer)

    def pseudonym(self, key: str) -> str:
        return identifier_pseudonym(self.pseudonymiser, key)

    # ---- models -------------------------------------------------------------------------
    def active_model(self, agency: str) -> tuple[str, AdModel] | None:
        with self.engine.connect() as conn:
            row = db.active_model(conn, agency)
        if row is None:
            return None
        text = self.sealer.open(row.model_sealed, context=db.model_context(row.model_version))
        return row.model_version, AdModel.from_bytes(base64.b64decode(text))

    def save_model(self, agency: str, model: AdModel, *, actor: str, source: str,
                   metrics: dict[str, Any]) -> str:
        version = new_id()
        blob = model.to_bytes()
        with self.engine.begin() as conn:  # sealed in the transaction that writes it
            sealed = self.sealer.seal(base64.b64encode(blob).decode("ascii"),
                                      context=db.model_context(version))
            db.insert_model(conn, model_version=version, agency=agency, created_at=_now(),
                            actor=actor, source=source[:500], ads=model.trained_on,
                            risky=model.positives, metrics_json=db.dumps(metrics),
                            references_json=db.dumps(reference_versions()),
                            model_sealed=sealed, model_sha256=hashlib.sha256(blob).hexdigest(),
                            seal_key_id=self.sealer.active_key_id)
            self.audit.append(conn, actor=actor, action="ads.model", subject=version,
                              details={"agency": agency, "source": source[:200],
                                       "ads": model.trained_on, "risky": model.positives})
        return version

    def models(self, agency: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [{"model_version": r.model_version, "created_at": r.created_at,
                     "actor": r.actor, "source": r.source, "ads": r.ads, "risky": r.risky,
                     "active": bool(r.active), "metrics": json.loads(r.metrics_json)}
                    for r in db.models(conn, agency)]

    # ---- screening ----------------------------------------------------------------------
    def _rows(self, batch_id: str, agency: str, ready: Sequence[Prepared], score_kind: str,
              model_version: str | None,
              keys: Sequence[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        analyses = [p.analysis for p in ready]
        ad_ids = new_ids(len(analyses))
        now = _now()
        contents = [json.dumps({"sections": a.ad.sections, "text": a.text, "spans": a.spans,
                                "company_profile": a.ad.company_profile},
                               ensure_ascii=False) for a in analyses]
        sealed = self.sealer.seal_many(contents, [db.ad_content_context(i) for i in ad_ids])
        key_id = self.sealer.active_key_id
        ad_rows, ident_rows, values, contexts = [], [], [], []
        for ad_id, p, blob, key in zip(ad_ids, ready, sealed, keys, strict=True):
            a, score = p.analysis, p.score
            company = company_key(a.company_name, a.ad.company_profile)
            body = a.spans.get("body") or (0, len(a.text))
            ad_rows.append({
                "ad_id": ad_id, "agency": agency, "batch_id": batch_id,
                "source_row": a.ad.source_row, "source_ref": (a.ad.source_ref or "")[:200] or None,
                "content_key": key, "content_sealed": blob, "seal_key_id": key_id,
                "company_key": (self.pseudonymiser.keyed_hash(COMPANY_PURPOSE, company.encode())
                                if company else None),
                "location": a.ad.location.strip().lower()[:200] or None,
                "country": a.extraction.country, "roles": ",".join(a.roles)[:400] or None,
                "destinations": ",".join(a.destinations)[:400] or None,
                "monthly_usd": a.monthly_usd, "label": a.ad.label,
                "hits_json": db.dumps([_hit_dict(h) for h in a.hits]), "network_json": None,
                "body_start": body[0], "body_end": body[1],
                "signature": p.signature,
                "score": float(score), "score_kind": score_kind, "model_version": model_version,
                "cluster_id": None, "created_at": now})
            for ident in a.identifiers:
                identifier_id = new_id()
                ident_rows.append({
                    "identifier_id": identifier_id, "ad_id": ad_id, "agency": agency,
                    "kind": ident.kind, "pseudonym": self.pseudonym(ident.key),
                    "seal_key_id": key_id, "span_start": ident.start, "span_end": ident.end,
                    "app": ident.app, "obfuscated": ident.obfuscated, "masked": ident.masked})
                values.append(ident.value)
                contexts.append(db.identifier_context(identifier_id))
        for row, blob in zip(ident_rows, self.sealer.seal_many(values, contexts), strict=True):
            row["value_sealed"] = blob
        return ad_rows, ident_rows

    def screen(self, path: str | Path, *, agency: str, actor: str, profile: str | None = None,
               queue_above: float = DEFAULT_QUEUE_ABOVE, workers: int = 1, batch: int = BATCH,
               on_progress: Callable[[int], None] | None = None) -> ScreenResult:
        """Screen every ad of a file: store it sealed, score it, re-cluster the agency's ads and
        queue the new ones scoring ``queue_above`` or more. Re-screening a file adds nothing."""
        path = Path(path)
        if not path.exists():
            raise InputFileError("{path}: no such file or folder", hint="check the path",
                                 params={"path": path})
        chosen, stream = _read_ads(path, profile)
        batch_id = new_id()
        result = ScreenResult(batch_id, str(path), chosen)
        model = self.active_model(agency)
        if model is not None:
            result.model_version, result.score_kind = model[0], "model"
        with self.engine.begin() as conn:
            db.insert_batch(conn, batch_id=batch_id, agency=agency, source_file=str(path)[:500],
                            file_sha256=file_sha256(path), profile=chosen, actor=actor,
                            started_at=_now(), model_version=result.model_version,
                            references_json=db.dumps(reference_versions()))
        new_ads: list[str] = []
        for done in prepared(stream, model[1] if model else None, workers=workers, batch=batch):
            new_ads += self._store_batch(done, batch_id, agency, result)
            if on_progress:
                on_progress(done.read)
        result.clusters = self.recluster(agency, actor=actor)
        queued = self._enqueue(agency, new_ads, queue_above, actor)
        result.queued, result.already_queued = queued.added, queued.already_queued
        with self.engine.begin() as conn:
            db.finish_batch(conn, batch_id, finished_at=_now(), read_count=result.read,
                            accepted_count=result.accepted, duplicate_count=result.duplicates,
                            rejected_count=result.rejected)
            result.rejects = [(r.source_row, r.reasons) for r in db.batch_rejects(conn, batch_id)]
            self.audit.append(conn, actor=actor, action="ads.screen", subject=batch_id, details={
                "agency": agency, "file": path.name, "profile": chosen, "read": result.read,
                "accepted": result.accepted, "new": result.new, "duplicates": result.duplicates,
                "rejected": result.rejected, "queued": result.queued,
                "model": result.model_version})
        return result

    def _store_batch(self, batch: PreparedBatch, batch_id: str, agency: str,
                     result: ScreenResult) -> list[str]:
        result.read += batch.read
        rejects, ready = batch.rejects, batch.ads
        result.rejected += len(rejects)
        result.accepted += len(ready)
        keys = [self.pseudonymiser.keyed_hash(CONTENT_PURPOSE, p.analysis.text.encode("utf-8"))
                for p in ready]
        with self.engine.begin() as conn:
            self._under_active_key(conn)
            known = db.existing_content_keys(conn, agency, keys)
            fresh, fresh_keys, seen = [], [], set(known)
            for p, key in zip(ready, keys, strict=True):
                if key in seen:
                    result.duplicates += 1
                    continue
                seen.add(key)
                fresh.append(p)
                fresh_keys.append(key)
            ad_rows, ident_rows = self._rows(batch_id, agency, fresh, result.score_kind,
                                             result.model_version, fresh_keys)
            db.insert_rows(conn, db.ads, ad_rows)
            db.insert_rows(conn, db.ad_identifiers, ident_rows)
            reject_ids = new_ids(len(rejects))
            raws = self.sealer.seal_many([json.dumps(r.raw, ensure_ascii=False) for r in rejects],
                                         [db.reject_context(i) for i in reject_ids])
            db.insert_rows(conn, db.ad_rejects, [
                {"reject_id": rid, "batch_id": batch_id, "source_row": r.source_row,
                 "reasons": "; ".join(r.reasons), "raw_sealed": raw,
                 "seal_key_id": self.sealer.active_key_id}
                for rid, r, raw in zip(reject_ids, rejects, raws, strict=True)])
        result.new += len(fresh)
        for p in fresh:
            for h in p.analysis.hits:
                result.by_indicator[h.code] = result.by_indicator.get(h.code, 0) + 1
        return [r["ad_id"] for r in ad_rows]

    def recluster(self, agency: str, *, actor: str,
                  on_progress: Callable[[int], None] | None = None) -> int:
        """Cluster every ad of the agency again (pseudonyms and signatures only: nothing is
        opened); writes cluster ids, R13/R14 and the no-model scores. Returns clusters found."""
        with self.engine.connect() as conn:
            ad_rows, ident_rows = db.postings(conn, agency)
        spans: dict[str, list[tuple[str, int, int]]] = {}
        for r in ident_rows:
            spans.setdefault(r.ad_id, []).append((f"{r.kind}:{r.pseudonym}", r.span_start,
                                                  r.span_end))
        postings = [clustering.Posting(
            r.ad_id, spans.get(r.ad_id, []), r.company_key or "", r.location or "",
            np.frombuffer(r.signature, dtype=np.uint32) if r.signature else None,
            (r.body_start, r.body_end)) for r in ad_rows]
        found = clustering.cluster(postings, on_progress=on_progress)
        changes = []
        for r in ad_rows:
            network = found.hits.get(r.ad_id, [])
            net = db.dumps([_hit_dict(h) for h in network])
            cid = found.cluster_of.get(r.ad_id)
            if cid != r.cluster_id or net != (r.network_json or "[]"):
                score = r.score
                if r.score_kind == "indicators":
                    codes = {h["code"] for h in json.loads(r.hits_json)} | {h.code for h in network}
                    score = indicator_score(codes)
                changes.append({"b_id": r.ad_id, "cid": cid, "net": net, "sc": score})
        now = _now()
        with self.engine.begin() as conn:
            db.update_network(conn, changes)
            db.replace_clusters(conn, agency, [
                {"agency": agency, "cluster_id": c.cluster_id, "size": len(c.ad_ids),
                 "companies": c.companies, "places_json": db.dumps(c.locations),
                 "shared_json": db.dumps(_shared_kinds(c.shared)),
                 "near_duplicate_pairs": c.near_duplicate_pairs, "computed_at": now}
                for c in found.clusters])
            self.audit.append(conn, actor=actor, action="ads.cluster", subject=agency,
                              details={"ads": len(ad_rows), "clusters": len(found.clusters),
                                       "changed": len(changes)})
        return len(found.clusters)

    def _enqueue(self, agency: str, ad_ids: Sequence[str], queue_above: float,
                 actor: str) -> Any:
        with self.engine.connect() as conn:
            rows = db.ad_rows(conn, agency, ad_ids)
            sizes = {c.cluster_id: c.size for c in db.clusters(conn, agency, 1_000_000)}
        items = []
        for ad_id in ad_ids:
            r = rows[ad_id]
            hits = json.loads(r.hits_json) + json.loads(r.network_json or "[]")
            if r.score < queue_above:
                continue
            cluster = (r.cluster_id, sizes.get(r.cluster_id, 0)) if r.cluster_id else None
            items.append((ad_id, r.score, reasons(ad_id, hits, r.score, r.score_kind,
                                                  r.model_version, cluster)))
        return self.queues.enqueue(QUEUE_NAME, agency, items, actor=actor)

    # ---- review -------------------------------------------------------------------------
    def _open(self, row: Any) -> dict[str, Any]:
        content: dict[str, Any] = json.loads(
            self.sealer.open(row.content_sealed, context=db.ad_content_context(row.ad_id)))
        return content

    def _screened(self, item: ReviewItem, row: Any, content: dict[str, Any],
                  sizes: dict[str, int], idents: Sequence[Any]) -> dict[str, Any]:
        hits = json.loads(row.hits_json) + json.loads(row.network_json or "[]")
        return {"item": item, "ad_id": row.ad_id, "title": _title(content, idents),
                "score": item.score, "score_kind": row.score_kind, "hits": hits,
                "cluster_id": row.cluster_id, "cluster_size": sizes.get(row.cluster_id or "", 0),
                "location": row.location or ""}

    def review(self, p: Principal, *, open_only: bool = True, limit: int = 50,
               offset: int = 0) -> list[ScreenedAd]:
        """The agency's queue, highest score first, with each ad's title and indicators."""
        found = self.queues.items(p, QUEUE_NAME, open_only=open_only, limit=limit, offset=offset)
        with self.engine.begin() as conn:
            rows = db.ad_rows(conn, p.agency, [i.subject for i in found])
            idents: dict[str, list[Any]] = {}
            for i in db.identifiers_of(conn, list(rows)):
                idents.setdefault(i.ad_id, []).append(i)
            sizes = {c.cluster_id: c.size for c in db.clusters(conn, p.agency, 1_000_000)}
            self.audit.append(conn, actor=f"{p.username}@{p.agency}", action="ads.read",
                              subject=QUEUE_NAME, details={"ads": len(rows), "what": "titles"})
        return [ScreenedAd(**self._screened(i, rows[i.subject], self._open(rows[i.subject]),
                                            sizes, idents.get(i.subject, [])))
                for i in found if i.subject in rows]

    def counts(self, p: Principal) -> dict[str, int]:
        return self.queues.counts(p, QUEUE_NAME)

    def ad(self, p: Principal, item_id: str) -> AdView:
        """One queued ad with its text (identifiers shown as labels), spans and decisions."""
        item = self.queues.item(p, item_id)
        if item.queue != QUEUE_NAME:
            raise NotFoundError("no screened ad {item_id} is visible to you",
                                params={"item_id": repr(item_id)})
        with self.engine.begin() as conn:
            row = db.ad_rows(conn, p.agency, [item.subject]).get(item.subject)
            if row is None:
                raise NotFoundError("no screened ad {item_id} is visible to you",
                                    params={"item_id": repr(item_id)})
            idents = db.identifiers_of(conn, [row.ad_id])
            sizes = {c.cluster_id: c.size for c in db.clusters(conn, p.agency, 1_000_000)}
            self.audit.append(conn, actor=f"{p.username}@{p.agency}", action="ads.read",
                              subject=row.ad_id, details={"item": item_id, "what": "text"})
        content = self._open(row)
        base = self._screened(item, row, content, sizes, idents)
        marks = [(str(h["code"]), int(h["start"]), int(h["end"])) for h in base["hits"]]
        parts = pieces(content["text"], marks,
                       [(i.kind, i.pseudonym, i.span_start, i.span_end) for i in idents])
        return AdView(**base, pieces=tuple(parts),
                      identifiers=tuple((i.kind, i.pseudonym[:6], bool(i.obfuscated))
                                        for i in idents))

    def decide(self, p: Principal, item_id: str, decision: str, *,
               reason: str | None = None) -> ReviewItem:
        item = self.queues.item(p, item_id)
        if item.queue != QUEUE_NAME:
            raise NotFoundError("no screened ad {item_id} is visible to you",
                                params={"item_id": repr(item_id)})
        return self.queues.decide(p, item_id, decision, reason=reason)

    def clusters(self, p: Principal, *, limit: int = 20) -> list[ClusterView]:
        """The agency's largest networks of posters, with their company names and places
        (company names are opened from the sealed ads: audited)."""
        may_read(p, ADS_QUEUE)
        with self.engine.begin() as conn:
            rows = db.clusters(conn, p.agency, limit)
            members = db.cluster_members(conn, p.agency, [r.cluster_id for r in rows])
            self.audit.append(conn, actor=f"{p.username}@{p.agency}", action="ads.read",
                              subject="clusters", details={"clusters": len(rows),
                                                           "ads": len(members)})
        by_cluster: dict[str, list[Any]] = {}
        for m in members:
            by_cluster.setdefault(m.cluster_id, []).append(m)
        out = []
        for r in rows:
            group = by_cluster.get(r.cluster_id, [])
            names = sorted({n for n in (_company(self._open(m)) for m in group) if n})
            out.append(ClusterView(r.cluster_id, r.size, names, json.loads(r.places_json),
                                   json.loads(r.shared_json), r.near_duplicate_pairs,
                                   sorted(m.ad_id for m in group),
                                   max((m.score for m in group), default=0.0)))
        return out

    def retrain(self, p: Principal) -> str:
        """Train the agency's model again from its reviewers' decisions (risky = 1, fine = 0;
        escalated ads wait for their outcome) and make it the active version."""
        check_decision(p, ADS_QUEUE, "risky", reason=None, linked_case=None)
        with self.engine.begin() as conn:
            rows = db.decided(conn, p.agency, QUEUE_NAME)
            idents = db.identifiers_of(conn, [r.ad_id for r in rows])
            self.audit.append(conn, actor=f"{p.username}@{p.agency}", action="ads.read",
                              subject="retrain", details={"ads": len(rows), "what": "text"})
        spans: dict[str, list[tuple[str, int, int]]] = {}
        for i in idents:
            spans.setdefault(i.ad_id, []).append((i.kind, i.span_start, i.span_end))
        texts, codes, labels = [], [], []
        for r in rows:
            if r.decision not in {"risky", "fine"}:
                continue
            content = self._open(r)
            texts.append(mask_text(content["text"], spans.get(r.ad_id, [])))
            codes.append({h["code"] for h in json.loads(r.hits_json)})
            labels.append(1 if r.decision == "risky" else 0)
        model = fit(texts, codes, labels)
        return self.save_model(p.agency, model, actor=f"{p.username}@{p.agency}",
                               source=f"review decisions ({len(labels)})",
                               metrics={"trained_on": len(labels), "risky": int(sum(labels))})

    # ---- joining with other modules (F20-06) --------------------------------------------
    def ads_sharing(self, agency: str, pseudonyms: Iterable[str]) -> dict[str, list[str]]:
        """Ad ids of the agency by identifier pseudonym, for the pseudonyms given (a bank
        file's phone pseudonyms from ``phone_pseudonym``): the join of F20-06."""
        wanted = list(dict.fromkeys(pseudonyms))
        with self.engine.connect() as conn:
            found = db.ads_with_pseudonyms(conn, agency, wanted)
        out: dict[str, list[str]] = {}
        for pseudo, _, ad_id in found:
            out.setdefault(pseudo, []).append(ad_id)
        return out

    def identifier_pseudonyms(self, agency: str,
                              kind: str | None = None) -> list[tuple[str, str, str]]:
        """(pseudonym, kind, ad id) of every identifier of the agency's ads (no value opened)."""
        with self.engine.connect() as conn:
            return db.pseudonyms(conn, agency, kind)


def _company(content: dict[str, Any]) -> str:
    span = content["spans"].get("company")
    return content["text"][slice(*span)].strip() if span else ""


def _title(content: dict[str, Any], idents: Sequence[Any]) -> str:
    """The title with any identifier in it shown as its label, cut at 200 characters."""
    span = content["spans"].get("title")
    if not span:
        return ""
    inside = [(i.kind, i.pseudonym, i.span_start, i.span_end) for i in idents
              if span[0] <= i.span_start and i.span_end <= span[1]]
    title = plain(pieces(content["text"][:span[1]], [], inside))[span[0]:]
    return title if len(title) <= 200 else title[:197] + "..."


def _shared_kinds(shared: dict[str, int]) -> dict[str, int]:
    kinds: dict[str, int] = {}
    for key in shared:
        kind = key.split(":", 1)[0]
        kinds[kind] = kinds.get(kind, 0) + 1
    return kinds


def indicator_titles() -> dict[str, str]:
    return {code: i.title for code, i in INDICATORS.items()}
