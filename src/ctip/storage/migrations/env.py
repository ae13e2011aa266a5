"""Alembic environment: always run with a connection handed over by ``engine.migrate``."""

from __future__ import annotations

from alembic import context

from ctip.storage.backend import backend_of

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reached when someone runs the alembic CLI
    raise RuntimeError("run migrations through ctip.storage.engine.migrate(engine)")

context.configure(
    connection=connection,
    render_as_batch=backend_of(connection).migrations_in_batch,
    transactional_ddl=True,
)
with context.begin_transaction():
    context.run_migrations()
