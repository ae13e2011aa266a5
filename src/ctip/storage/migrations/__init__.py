"""Alembic migrations, shipped in the package and run by ``ctip.storage.engine.migrate``."""
