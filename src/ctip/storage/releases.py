"""Releases and the differential-privacy budget ledger.

A dataset (e.g. "victims-2025") declares its privacy unit and total epsilon once
(``release_budgets``); every release of that dataset (a suppressed table, a k-anonymous file, a
DP count table, an export) is a row in ``releases`` with its parameters and the epsilon it spent.
The remaining budget is total minus the sum spent, computed from the ledger, so it survives
restarts and several users. ``spend`` checks and records in the caller's transaction, holding a
lock on the budget row on PostgreSQL so two releases cannot both take the last of the budget.
No cell values and no victim data are stored here: parameters and file names only.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from ctip.errors import DisclosureError, NotFoundError
from ctip.storage.backend import backend_of
from ctip.storage.tables import metadata

RELEASES_REVISION = "0301_releases"
TS = sa.DateTime(timezone=True)
_TOLERANCE = 1e-9

release_budgets = sa.Table(
    "release_budgets",
    metadata,
    sa.Column("dataset", sa.String(200), primary_key=True),
    sa.Column("total_epsilon", sa.Float, nullable=False),
    sa.Column("privacy_unit", sa.String(200), nullable=False),
    sa.Column("contributions", sa.Integer, nullable=False),
    sa.Column("declared_at", TS, nullable=False),
    sa.Column("declared_by", sa.String(200), nullable=False),
)

releases = sa.Table(
    "releases",
    metadata,
    sa.Column("release_id", sa.String(36), primary_key=True),
    sa.Column("dataset", sa.String(200), nullable=False, index=True),
    sa.Column(
        "kind", sa.String(40), nullable=False
    ),  # suppressed_table | kanon_microdata | dp_counts | export
    sa.Column("epsilon", sa.Float, nullable=True),  # DP releases only
    sa.Column("created_at", TS, nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("parameters", sa.Text, nullable=False),  # JSON: method, thresholds, k, dims, files
)


@dataclass(frozen=True)
class Budget:
    dataset: str
    total_epsilon: float
    spent_epsilon: float
    privacy_unit: str
    contributions: int
    releases: int

    @property
    def remaining_epsilon(self) -> float:
        return max(0.0, self.total_epsilon - self.spent_epsilon)


@dataclass(frozen=True)
class Release:
    release_id: str
    dataset: str
    kind: str
    epsilon: float | None
    created_at: datetime
    actor: str
    parameters: dict[str, Any]


def declare_budget(
    conn: sa.Connection,
    *,
    dataset: str,
    total_epsilon: float,
    privacy_unit: str,
    contributions: int,
    actor: str,
) -> Budget:
    """Declare a dataset's unit and total budget, once. Re-declaring the same values is a no-op;
    changing them is refused (a budget that can grow protects nobody)."""
    if not total_epsilon > 0:
        raise DisclosureError(f"total epsilon must be positive, got {total_epsilon}")
    existing = conn.execute(
        sa.select(release_budgets).where(release_budgets.c.dataset == dataset)
    ).first()
    if existing is not None:
        same = (
            abs(existing.total_epsilon - total_epsilon) < _TOLERANCE
            and existing.contributions == contributions
        )
        if not same:
            raise DisclosureError(
                f"dataset {dataset!r} already has a privacy budget of epsilon "
                f"{existing.total_epsilon:g} (contributions {existing.contributions}); it is fixed",
                hint="declare a new dataset name (e.g. the next reporting period) for a new budget",
            )
        return budget(conn, dataset)
    conn.execute(
        release_budgets.insert().values(
            dataset=dataset,
            total_epsilon=float(total_epsilon),
            privacy_unit=privacy_unit,
            contributions=int(contributions),
            declared_at=datetime.now(UTC),
            declared_by=actor,
        )
    )
    return budget(conn, dataset)


def budget(conn: sa.Connection, dataset: str, *, lock: bool = False) -> Budget:
    query = sa.select(release_budgets).where(release_budgets.c.dataset == dataset)
    if lock:
        query = backend_of(conn).for_update(query)
    row = conn.execute(query).first()
    if row is None:
        raise NotFoundError(
            f"no privacy budget declared for dataset {dataset!r}",
            hint=f"ctip publish budget {dataset} --declare EPSILON",
        )
    spent, count = conn.execute(
        sa.select(sa.func.coalesce(sa.func.sum(releases.c.epsilon), 0.0), sa.func.count()).where(
            releases.c.dataset == dataset, releases.c.kind == "dp_counts"
        )
    ).one()
    return Budget(
        dataset, row.total_epsilon, float(spent), row.privacy_unit, row.contributions, int(count)
    )


def budgets(conn: sa.Connection) -> list[Budget]:
    names = conn.execute(
        sa.select(release_budgets.c.dataset).order_by(release_budgets.c.dataset)
    ).scalars()
    return [budget(conn, name) for name in list(names)]


def spend(
    conn: sa.Connection, *, dataset: str, epsilon: float, actor: str, parameters: dict[str, Any]
) -> str:
    """Record a DP release if it fits the remaining budget, else raise ``DisclosureError``.

    Call inside the transaction that also writes the audit entry; commit only after the noisy
    table is written (if writing fails, the transaction rolls back and nothing is spent)."""
    current = budget(conn, dataset, lock=True)
    if not epsilon > 0:
        raise DisclosureError(f"epsilon for a release must be positive, got {epsilon}")
    if current.spent_epsilon + epsilon > current.total_epsilon + _TOLERANCE:
        raise DisclosureError(
            f"releasing with epsilon {epsilon:g} would exceed the privacy budget of dataset "
            f"{dataset!r}: {current.spent_epsilon:g} of {current.total_epsilon:g} already spent",
            hint="use a smaller epsilon, release fewer tables, or declare a new dataset",
        )
    return record_release(
        conn, dataset=dataset, kind="dp_counts", epsilon=epsilon, actor=actor, parameters=parameters
    )


def record_release(
    conn: sa.Connection,
    *,
    dataset: str,
    kind: str,
    actor: str,
    parameters: dict[str, Any],
    epsilon: float | None = None,
) -> str:
    release_id = str(uuid.uuid4())
    conn.execute(
        releases.insert().values(
            release_id=release_id,
            dataset=dataset,
            kind=kind,
            epsilon=epsilon,
            created_at=datetime.now(UTC),
            actor=actor,
            parameters=json.dumps(parameters, sort_keys=True, default=str),
        )
    )
    return release_id


def list_releases(conn: sa.Connection, dataset: str | None = None) -> list[Release]:
    query = sa.select(releases).order_by(releases.c.created_at, releases.c.release_id)
    if dataset is not None:
        query = query.where(releases.c.dataset == dataset)
    return [
        Release(
            r.release_id,
            r.dataset,
            r.kind,
            r.epsilon,
            r.created_at,
            r.actor,
            json.loads(r.parameters),
        )
        for r in conn.execute(query)
    ]
