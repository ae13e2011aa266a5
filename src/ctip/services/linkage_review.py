"""Linkage review on the generic review queue: borderline pairs become review items.

The linkage run leaves its borderline pairs in ``linkage_reviews`` (storage/linkage.py). Here they
are put on the generic queue ``linkage.pairs`` (services/review.py) of the reviewing agency with
the reasons they wait (score band; dates of birth agree, disagree or are missing), so the web app
lists and decides them with the same page pattern as every other queue. The two dates of birth
are compared once, when the pairs are queued, through the store's audited identity read; only the
outcome ("disagree") is kept. A reviewer sees identities only through :meth:`reveal`, which needs
a written reason and is audited. A decision is recorded on the queue *and* applied to the run
(``apply_decision``: a "match" merges the two records' clusters), in one transaction each.

Deliberately free of pandas and splink (what ``services/linkage.py`` runs on), so a web server
loads it cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from ctip.domain.access import Principal
from ctip.domain.linkage_queue import LINKAGE_QUEUE, QUEUE_NAME, dob_agreement, pair_reasons
from ctip.domain.records import Identity
from ctip.domain.review import ReviewItem, may_read
from ctip.errors import NotFoundError, ValidationError
from ctip.services.review import Enqueued, ReviewQueues
from ctip.storage import linkage as tables
from ctip.storage.store import Store

MIN_REASON = 10


@dataclass(frozen=True)
class Pair:
    """The two records of one review item (ids only) and the run they come from."""

    run_id: str
    review_id: int
    left: str
    right: str
    probability: float


def _actor(p: Principal) -> str:
    return f"{p.username}@{p.agency}"


def _subject(run_id: str, review_id: int) -> str:
    return f"{run_id}:{review_id}"


def apply_decision(conn: sa.Connection, review_id: int, decision: str, *, actor: str,
                   run_id: str | None = None) -> None:
    """Record a decision on a run's pair (the latest run's by default); a "match" merges the
    two records' clusters."""
    run_id = run_id or tables.latest_run(conn).run_id
    tables.decide(conn, review_id, decision, actor=actor)
    mapping = tables.cluster_map(conn, run_id)
    for left, right, verdict in tables.decided(conn, run_id):
        if verdict == "match" and mapping.get(left) != mapping.get(right):
            old, new = mapping[right], mapping[left]
            mapping = {v: (new if c == old else c) for v, c in mapping.items()}
    tables.update_clusters(conn, run_id, mapping)


class LinkageReviews:
    """The linkage queue of one store, for the web app and the CLI."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.queues = ReviewQueues(store.engine, store.sealer, store.audit)

    @classmethod
    def over(cls, engine: sa.Engine, sealer: Any, pseudonymiser: Any, audit: Any,
             settings: Any) -> LinkageReviews:
        """Over an already open engine and keys (the web app's, from its Casework)."""
        return cls(Store(engine, sealer, pseudonymiser, settings=settings, audit=audit))

    def queue_latest_run(self, p: Principal) -> Enqueued:
        """Put the latest run's open pairs on the reviewer's agency queue (idempotent)."""
        may_read(p, LINKAGE_QUEUE)
        with self.store.engine.connect() as conn:
            try:
                run = tables.latest_run(conn)
            except NotFoundError:
                return Enqueued(QUEUE_NAME, 0, 0)
            pending = tables.reviews(conn, run.run_id)
        if not pending:
            return Enqueued(QUEUE_NAME, 0, 0)
        ids = [v for item in pending for v in (item.victim_id_l, item.victim_id_r)]
        identities = self.store.records(actor=_actor(p)).identities(
            ids, actor=_actor(p), reason="linkage review: compare dates of birth of queued pairs")
        items = []
        for item in pending:
            left, right = identities.get(item.victim_id_l), identities.get(item.victim_id_r)
            dob = dob_agreement(left.date_of_birth if left else None,
                                right.date_of_birth if right else None)
            items.append((_subject(run.run_id, item.review_id), item.match_probability,
                          pair_reasons(item.match_probability,
                                       match_threshold=run.match_threshold,
                                       review_threshold=run.review_threshold, dob=dob)))
        return self.queues.enqueue(QUEUE_NAME, p.agency, items, actor=_actor(p))

    def items(self, p: Principal, *, open_only: bool = True, limit: int = 50,
              offset: int = 0) -> list[ReviewItem]:
        return self.queues.items(p, QUEUE_NAME, open_only=open_only, limit=limit, offset=offset)

    def counts(self, p: Principal) -> dict[str, int]:
        return self.queues.counts(p, QUEUE_NAME)

    def _pair(self, item: ReviewItem) -> Pair:
        run_id, _, review_id = item.subject.rpartition(":")
        with self.store.engine.connect() as conn:
            found = [r for r in tables.reviews(conn, run_id, open_only=False)
                     if r.review_id == int(review_id)]
        if not found:
            raise NotFoundError("the pair of review item {item} is no longer stored",
                                hint="queue the latest linkage run again",
                                params={"item": repr(item.item_id)})
        r = found[0]
        return Pair(run_id, r.review_id, r.victim_id_l, r.victim_id_r, r.match_probability)

    def item(self, p: Principal, item_id: str) -> tuple[ReviewItem, Pair]:
        """One item (audited read by the queue) and its pair's record ids."""
        item = self.queues.item(p, item_id)
        if item.queue != QUEUE_NAME:
            raise NotFoundError("no review item {item} is visible to you",
                                params={"item": repr(item_id)})
        return item, self._pair(item)

    def reveal(self, p: Principal, item_id: str, *, reason: str) -> dict[str, Identity]:
        """Both records' identities, for a reviewer who gives a reason (audited twice: the
        item read and the identity read, which carries the reason)."""
        if len(reason.strip()) < MIN_REASON:
            raise ValidationError("say why you need to see the two identities",
                                  column="reason", hint="a sentence another reviewer can follow")
        _, pair = self.item(p, item_id)
        return self.store.records(actor=_actor(p)).identities(
            [pair.left, pair.right], actor=_actor(p),
            reason=f"linkage review item {item_id}: {reason.strip()}")

    def decide(self, p: Principal, item_id: str, decision: str, *,
               reason: str | None = None) -> ReviewItem:
        """Record the decision on the queue (checked there: role, decision, reason), then apply
        it to the pair's run (merge on a match). Two transactions: the queue's decision is the
        record; applying it again is harmless, as ``apply_decision`` recomputes the clusters."""
        item, pair = self.item(p, item_id)
        decided = self.queues.decide(p, item_id, decision, reason=reason)
        with self.store.engine.begin() as conn:
            apply_decision(conn, pair.review_id, decision, actor=_actor(p), run_id=pair.run_id)
            self.store.audit.append(conn, actor=_actor(p), action="linkage.review",
                                    subject="linkage_reviews",
                                    details={"review_id": pair.review_id, "decision": decision,
                                             "item_id": item.item_id})
        return decided
