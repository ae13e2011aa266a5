"""The DuckDB fixture with the hand-made analytic view of stats_fixture.py."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest
from stats_fixture import FIXTURE_PERPETRATORS, FIXTURE_VICTIMS, load

from ctip.domain.analytic import ANALYTIC_COLUMNS, PERPETRATOR_COLUMNS


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    load(connection, "victims", ANALYTIC_COLUMNS, FIXTURE_VICTIMS)
    load(connection, "perpetrators", PERPETRATOR_COLUMNS, FIXTURE_PERPETRATORS)
    yield connection
    connection.close()
