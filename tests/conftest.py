"""Shared fixtures: a real database (SQLite, or PostgreSQL via TEST_DATABASE_URL) and a clock.

The schema is created once per run through the real migrations; each test starts from
empty tables.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel

import bot.adapters.db.models  # noqa: F401  (registers every table)
from bot.adapters.db import engines as db
from bot.adapters.db.store import Store

REPO = Path(__file__).resolve().parents[1]
POSTGRES_URL = os.environ.get("TEST_DATABASE_URL")

# The suite starts ~200 Python processes (xdist workers, `policybot serve`, the CLI); with
# PYTHONDONTWRITEBYTECODE set each one would compile bot/ again. (__pycache__ is ignored.)
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
sys.dont_write_bytecode = False


class FakeClock:
    """A clock tests move by hand; always timezone-aware."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self.now = start or dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now


def pytest_report_header() -> str:
    return f"database: {'PostgreSQL ' + POSTGRES_URL if POSTGRES_URL else 'SQLite (temp files)'}"


@contextmanager
def postgres_database(url: str, name: str) -> Iterator[str]:
    """A new, empty database `name` on the server behind `url`, dropped afterwards."""
    admin = db.make_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database for the whole run.

    On PostgreSQL each run gets its own database next to TEST_DATABASE_URL's, so two runs on
    one server (two developers, CI) never empty each other's tables mid-test.
    """
    with ExitStack() as stack:
        if POSTGRES_URL:
            base = sa.make_url(POSTGRES_URL).database or "test"
            url = stack.enter_context(postgres_database(POSTGRES_URL, f"{base}_run_{os.getpid()}"))
        else:
            url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'policybot.db'}"
        engine = db.make_engine(url)
        db.upgrade(engine)
        engine.dispose()
        yield url


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    engine = db.make_engine(database_url)
    with engine.begin() as connection:
        for table in reversed(SQLModel.metadata.sorted_tables):
            connection.execute(table.delete())
    yield engine
    engine.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(engine: sa.Engine, clock: FakeClock) -> Store:
    return Store(engine, clock=clock)


@pytest.fixture
def fresh_database_url(tmp_path: Path) -> Iterator[str]:
    """An empty database with no schema, for migration tests."""
    if POSTGRES_URL:
        with postgres_database(POSTGRES_URL, f"policybot_fresh_{os.getpid()}") as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
