"""Storage: SQLAlchemy Core tables, Alembic migrations, sealing, the audit chain, the repository.

Only this package writes SQL against the case store. Identity is sealed (``sealing``) before a
row is built; every change and every read of identity goes through ``audit``.
"""
