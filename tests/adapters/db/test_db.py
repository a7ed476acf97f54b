"""Migrations: empty -> head -> empty (all at once and one step at a time), the models agree
with them, and several replicas upgrading one database at once all succeed."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

from bot.adapters.db import engines as db
from tests.conftest import REPO


def table_names(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}


def revisions_oldest_first(engine: sa.Engine) -> list[str]:
    script = ScriptDirectory.from_config(db.alembic_config(engine))
    return [r.revision for r in reversed(list(script.walk_revisions()))]


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


def test_every_revision_upgrades_and_downgrades_one_step_at_a_time(
    fresh_database_url: str,
) -> None:
    engine = db.make_engine(fresh_database_url)
    revisions = revisions_oldest_first(engine)
    tables_at: dict[str | None, set[str]] = {None: set()}
    for revision in revisions:
        db.upgrade(engine, revision)
        assert db.current_revision(engine) == revision
        tables_at[revision] = table_names(engine)
    assert db.is_at_head(engine)
    for previous, revision in reversed(list(zip([None, *revisions], revisions, strict=False))):
        db.downgrade(engine, previous or "base")
        assert db.current_revision(engine) == previous, f"downgrade from {revision}"
        assert table_names(engine) == tables_at[previous], f"downgrade from {revision}"
    engine.dispose()


def test_models_and_migrations_agree(fresh_database_url: str) -> None:
    engine = db.make_engine(fresh_database_url)
    db.upgrade(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    engine.dispose()
    assert differences == []


def test_upgrade_is_a_no_op_at_head(fresh_database_url: str) -> None:
    engine = db.make_engine(fresh_database_url)
    db.upgrade(engine)
    db.upgrade(engine)
    assert db.is_at_head(engine)
    engine.dispose()


def start_upgrade_process(url: str) -> subprocess.Popen[str]:
    """`policybot db upgrade` in its own process, as one replica runs it when it starts."""
    return subprocess.Popen(
        [sys.executable, "-m", "bot.entrypoints.cli", "db", "upgrade", "--database-url", url],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def advisory_lock_waiters(engine: sa.Engine) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(
                sa.text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
            ).scalar_one()
        )


def test_replicas_upgrading_a_fresh_postgres_database_at_once_all_succeed(
    fresh_database_url: str,
) -> None:
    engine = db.make_engine(fresh_database_url)
    if engine.dialect.name != "postgresql":
        pytest.skip("the migration lock is PostgreSQL's; SQLite serves a single replica")
    # Hold the lock while three replicas start, so that all three are released at one instant.
    with db.migration_lock(engine):
        replicas = [start_upgrade_process(fresh_database_url) for _ in range(3)]
        deadline = time.monotonic() + 60
        while advisory_lock_waiters(engine) < len(replicas):
            assert time.monotonic() < deadline, "the replicas never queued for the lock"
            assert all(p.poll() is None for p in replicas), "a replica did not wait for the lock"
            time.sleep(0.05)
    outputs = [p.communicate(timeout=120)[0] for p in replicas]
    assert [p.returncode for p in replicas] == [0, 0, 0], outputs
    assert db.is_at_head(engine)
    assert table_names(engine) == set(SQLModel.metadata.tables)
    engine.dispose()


def test_concurrent_upgrades_without_a_head_start_all_succeed(fresh_database_url: str) -> None:
    engine = db.make_engine(fresh_database_url)
    replicas = [start_upgrade_process(fresh_database_url) for _ in range(3)]
    outputs = [p.communicate(timeout=120)[0] for p in replicas]
    if engine.dialect.name == "sqlite":
        # SQLite has no server-side lock: one process migrates; the others may find the
        # database busy, but none may leave it half-migrated.
        assert db.is_at_head(engine), outputs
    else:
        assert [p.returncode for p in replicas] == [0, 0, 0], outputs
        assert db.is_at_head(engine)
    engine.dispose()


def test_a_url_with_a_percent_sign_migrates(tmp_path: Path) -> None:
    # A URL-encoded password such as p%40ss must not break Alembic's config parsing.
    folder = tmp_path / "50%off"
    folder.mkdir()
    engine = db.make_engine(f"sqlite:///{folder}/x.db")
    db.upgrade(engine)
    assert db.is_at_head(engine)
    engine.dispose()


def test_upgrade_to_0005_rekeys_names_by_the_one_name_rule(fresh_database_url: str) -> None:
    engine = db.make_engine(fresh_database_url)
    db.upgrade(engine, "0004")
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO tool (id, name, name_key, status, alternatives, version, created_at,"
                " updated_at) VALUES (1, 'GPT-4o', 'gpt-4o', 'allowed', '[]', 1,"
                " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
        connection.execute(
            sa.text(
                "INSERT INTO alias (tool_id, alias, alias_key) VALUES (1, 'GPT_4o mini', "
                "'gpt_4o mini')"
            )
        )

    db.upgrade(engine)

    with engine.connect() as connection:
        tool_key = connection.execute(sa.text("SELECT name_key FROM tool")).scalar_one()
        alias_key = connection.execute(sa.text("SELECT alias_key FROM alias")).scalar_one()
    engine.dispose()
    assert (tool_key, alias_key) == ("gpt 4o", "gpt 4o mini")


def test_head_read_from_the_files_is_alembics_head(fresh_database_url: str) -> None:
    engine = db.make_engine(fresh_database_url)
    assert db.head_from_files() == db.head_revision(engine)
    engine.dispose()


def test_upgrade_if_behind_migrates_an_empty_database_and_then_sees_it_at_head(
    fresh_database_url: str,
) -> None:
    engine = db.make_engine(fresh_database_url)
    assert db.stored_revision(engine) is None
    assert not db.is_at_head(engine)
    db.upgrade_if_behind(engine)
    assert db.stored_revision(engine) == db.head_revision(engine)
    assert db.is_at_head(engine)
    engine.dispose()


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="PostgreSQL only")
def test_a_pooled_connection_the_server_closed_while_idle_is_replaced_before_use(
    database_url: str,
) -> None:
    engine = db.make_engine(database_url, ping_after_idle=0.0)
    admin = db.make_engine(database_url)
    with engine.connect() as connection:
        backend = connection.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
    with admin.connect() as connection:  # as a server restart or an idle timeout would
        connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT pg_backend_pid()")).scalar_one() != backend
    engine.dispose()
    admin.dispose()
