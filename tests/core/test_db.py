"""Migrations: empty -> head -> empty, and the models agree with them."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from bot.core import db


def table_names(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}


def test_upgrade_from_empty_creates_every_table(fresh_database_url: str) -> None:
    engine = db.make_engine(fresh_database_url)
    db.upgrade(engine)
    assert table_names(engine) == set(SQLModel.metadata.tables)
    assert db.is_at_head(engine)
    engine.dispose()


def test_downgrade_to_base_leaves_no_table(fresh_database_url: str) -> None:
    engine = db.make_engine(fresh_database_url)
    db.upgrade(engine)
    db.downgrade(engine, "base")
    assert table_names(engine) == set()
    assert db.current_revision(engine) is None
    engine.dispose()


def test_models_and_migrations_agree(fresh_database_url: str) -> None:
    engine = db.make_engine(fresh_database_url)
    db.upgrade(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    engine.dispose()
    assert differences == []
