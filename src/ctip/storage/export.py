"""The de-identified analytic tables (domain.analytic) out of the case store, into DuckDB.

Why batches of Arrow columns: statistics run over millions of rows, so rows are fetched in large
batches, transposed into typed Arrow arrays (C loops, not per-row Python objects in DuckDB) and
appended with one INSERT ... SELECT per batch; DuckDB turns the JSON text of multi-valued fields
into VARCHAR[] itself. The identity column is never selected.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from ctip.domain.analytic import ANALYTIC_COLUMNS, PERPETRATOR_COLUMNS
from ctip.storage.backend import backend_of
from ctip.storage.tables import justice_stages, perpetrators, victims

BATCH = 100_000

_ARROW = {"VARCHAR": pa.string(), "INTEGER": pa.int64(), "BOOLEAN": pa.bool_(),
          "DATE": pa.date32(), "VARCHAR[]": pa.string()}  # lists travel as JSON text


def _victim_columns() -> list[sa.ColumnElement[Any]]:
    return [victims.c[name] for name in ANALYTIC_COLUMNS]


def _perpetrator_columns() -> list[sa.ColumnElement[Any]]:
    p, s = perpetrators.c, justice_stages.c
    source = {"perpetrator_id": p.perpetrator_id, "agency": p.agency, "sex": p.sex, "age": p.age,
              "age_group": p.age_group, "citizenships": p.citizenships,
              "citizenship": p.citizenship, "roles": p.roles, "stage": s.stage,
              "stage_year": s.stage_year, "exploitation_forms": s.exploitation_forms}
    return [source[name].label(name) for name in PERPETRATOR_COLUMNS]


def _perpetrator_query() -> sa.Select[Any]:
    # a perpetrator with no recorded stage still appears once (stage NULL), so none is lost
    return (sa.select(*_perpetrator_columns())
            .select_from(perpetrators.outerjoin(
                justice_stages, justice_stages.c.perpetrator_key == perpetrators.c.perpetrator_key))
            .order_by(perpetrators.c.perpetrator_key, justice_stages.c.position))


def _victim_query() -> sa.Select[Any]:
    return sa.select(*_victim_columns()).order_by(victims.c.victim_id)


def _dicts(engine: sa.Engine, query: sa.Select[Any], columns: dict[str, str]
           ) -> Iterator[dict[str, Any]]:
    lists = [name for name, kind in columns.items() if kind.endswith("[]")]
    with engine.connect() as conn:
        for row in conn.execution_options(yield_per=10_000).execute(query):
            item = dict(row._mapping)
            for name in lists:
                if item[name] is not None:
                    item[name] = json.loads(item[name])
            yield item


def analytic_rows(engine: sa.Engine) -> Iterator[dict[str, Any]]:
    """One dict per victim record with exactly ANALYTIC_COLUMNS (lists as Python lists)."""
    return _dicts(engine, _victim_query(), ANALYTIC_COLUMNS)


def perpetrator_rows(engine: sa.Engine) -> Iterator[dict[str, Any]]:
    """One dict per perpetrator x justice stage with exactly PERPETRATOR_COLUMNS."""
    return _dicts(engine, _perpetrator_query(), PERPETRATOR_COLUMNS)


def _create(con: Any, table: str, columns: dict[str, str]) -> None:
    body = ", ".join(f'"{name}" {kind}' for name, kind in columns.items())
    con.execute(f'CREATE OR REPLACE TABLE "{table}" ({body})')


def _copy(engine: sa.Engine, query: sa.Select[Any], con: Any, table: str,
          columns: dict[str, str]) -> None:
    names = list(columns)
    schema = pa.schema([(n, _ARROW[columns[n]]) for n in names])
    select = ", ".join(
        f'CAST(CAST("{n}" AS JSON) AS VARCHAR[])' if columns[n] == "VARCHAR[]" else f'"{n}"'
        for n in names)
    insert = f'INSERT INTO "{table}" SELECT {select} FROM __ctip_batch'
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=BATCH).execute(query)
        while rows := result.fetchmany(BATCH):
            data = list(zip(*rows, strict=True))
            batch = pa.Table.from_arrays(
                [pa.array(col, type=schema.field(i).type) for i, col in enumerate(data)],
                schema=schema)
            con.register("__ctip_batch", batch)
            try:
                con.execute(insert)
            finally:
                con.unregister("__ctip_batch")


def _adbc_reader(engine: sa.Engine, query: sa.Select[Any], columns: dict[str, str]
                 ) -> tuple[Any, Any] | None:
    """An Arrow stream of the query straight from the database (ADBC, no Python row objects),
    or None when the ADBC driver for this backend is not installed.

    SQLite has no column types in a result, and the ADBC SQLite driver infers each column's type
    from the first rows, so a leading row of typed placeholders (``__real = 0``) fixes the types
    and is filtered out again in DuckDB. PostgreSQL results are typed (binary COPY)."""
    backend = backend_of(engine)
    connection = backend.arrow_connection(engine)
    if connection is None:
        return None
    inner = str(query.order_by(None).compile(dialect=engine.dialect))
    sql = backend.typed_arrow_query(inner, columns)
    cursor = connection.cursor()
    cursor.execute(sql)
    return (connection, cursor), cursor.fetch_record_batch()  # the stream lives with its cursor


def _copy_adbc(engine: sa.Engine, query: sa.Select[Any], con: Any, table: str,
               columns: dict[str, str]) -> bool:
    opened = _adbc_reader(engine, query, columns)
    if opened is None:
        return False
    (connection, cursor), reader = opened
    casts = {"VARCHAR[]": 'CAST(CAST("{n}" AS JSON) AS VARCHAR[])', "DATE": 'CAST("{n}" AS DATE)',
             "BOOLEAN": 'CAST("{n}" AS BOOLEAN)', "INTEGER": 'CAST("{n}" AS INTEGER)',
             "VARCHAR": 'CAST("{n}" AS VARCHAR)'}
    select = ", ".join(casts[kind].format(n=name) for name, kind in columns.items())
    try:
        con.register("__ctip_stream", reader)
        con.execute(f'INSERT INTO "{table}" SELECT {select} FROM __ctip_stream WHERE __real = 1')
    finally:
        con.unregister("__ctip_stream")
        cursor.close()
        connection.close()
    return True


def to_duckdb(engine: sa.Engine, con: Any, *, victims: str = "victims",
              perpetrators: str = "perpetrators", fast: bool = True) -> None:
    """(Re)create both analytic tables in DuckDB connection ``con`` from the store.

    ``fast``: stream Arrow straight from the database through ADBC when its driver is installed
    (tens of times faster on millions of rows); otherwise, or with ``fast=False``, fetch through
    SQLAlchemy in Arrow batches. Both give the same table (tested)."""
    for table, query, columns in ((victims, _victim_query(), ANALYTIC_COLUMNS),
                                  (perpetrators, _perpetrator_query(), PERPETRATOR_COLUMNS)):
        _create(con, table, columns)
        if not (fast and _copy_adbc(engine, query, con, table, columns)):
            _copy(engine, query, con, table, columns)
