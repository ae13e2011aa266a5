"""Fixtures for storage tests: a CaseStore on each backend (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from storage_helpers import make_settings

from ctip.services.home import init_home
from ctip.settings import Settings
from ctip.storage.repository import CaseStore


@pytest.fixture
def store_settings(tmp_path: Path, database_url: str, ctip_home: Path) -> Settings:
    settings = make_settings(tmp_path / "home", database_url)
    init_home(settings)
    return settings


@pytest.fixture
def store(store_settings: Settings) -> Iterator[CaseStore]:
    with CaseStore.open(store_settings, actor="tester") as opened:
        yield opened
