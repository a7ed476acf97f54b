"""Engines and schema migrations: the only place that knows which database is behind the URL.

Alembic is loaded only to migrate or to read the migration graph: a start on a database that
is already at head (every `policybot ask`) reads the revision table and the revision ids of
the migration files and goes on (`upgrade_if_behind`).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

if TYPE_CHECKING:
    from alembic.config import Config

_ROOT = Path(__file__).resolve().parents[3]
# `revision: str = '0002'` and `down_revision: str | None = '0001'` in a migration file.
_REVISION_LINE = re.compile(
    r"^(revision|down_revision)\b[^=\n]*=\s*(?:['\"]([^'\"]+)['\"]|None)\s*$", re.MULTILINE
)

# A pooled PostgreSQL connection unused this long is pinged before use (see _ping_when_idle).
PING_AFTER_IDLE_SECONDS = 5.0

# Any fixed 64-bit number works; it only has to be the same in every replica ("policybt").
MIGRATION_LOCK_KEY = 0x706F6C6963796274


def make_engine(
    url: str, *, ping_after_idle: float = PING_AFTER_IDLE_SECONDS, **kwargs: Any
) -> sa.Engine:
    """An engine for `url`; SQLite gets WAL, a busy timeout and foreign keys, as a server DB has."""
    if url.startswith("postgresql://"):
        # psycopg 3 is the driver we ship; plain URLs would ask for psycopg2.
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
        engine = sa.create_engine(url, **kwargs)

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            if url not in ("sqlite://", "sqlite:///:memory:"):
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            # In WAL mode NORMAL syncs at checkpoints, not at every commit: a power cut may
            # lose the last commits but never corrupts (sqlite.org/pragma.html#pragma_synchronous).
            # Every signed request commits (the replay memory): an fsync each would cap a server.
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    engine = sa.create_engine(url, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        _ping_when_idle(engine, ping_after_idle)
    return engine


def _ping_when_idle(engine: sa.Engine, after: float) -> None:
    """Check a pooled connection with a round trip before use only when it sat unused for
    `after` seconds (the server may have restarted, or a proxy closed it meanwhile).

    SQLAlchemy's `pool_pre_ping` pings at every checkout: a round trip on every signed request
    of a busy server. A connection that dies while in steady use fails its statement instead,
    and SQLAlchemy then replaces every pooled connection as old as it."""

    @sa.event.listens_for(engine, "checkin")
    def _note_idle(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @sa.event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < after:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as error:  # the pool replaces it and tries another connection
            raise sa.exc.DisconnectionError(str(error)) from error
        if not alive:
            raise sa.exc.DisconnectionError("the database did not answer a ping")


def migrations_dir() -> Path:
    """`migrations/` beside the package (source checkout, editable install or the image)."""
    for candidate in (_ROOT / "migrations", Path.cwd() / "migrations"):
        if (candidate / "env.py").exists():
            return candidate
    raise FileNotFoundError("cannot find the migrations/ folder next to the bot package")


def alembic_config(engine: sa.Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    # ConfigParser treats % as interpolation: a URL-encoded password (p%40ss) must be doubled.
    url = engine.url.render_as_string(hide_password=False).replace("%", "%%")
    config.set_main_option("sqlalchemy.url", url)
    config.attributes["engine"] = engine
    return config


@contextmanager
def migration_lock(engine: sa.Engine) -> Iterator[None]:
    """Hold the database-wide migration lock (PostgreSQL); a no-op on SQLite.

    Several replicas start at once and each runs `policybot db upgrade`: the first migrates,
    the others wait here and then find the schema already at head.
    """
    if engine.dialect.name != "postgresql":
        yield
        return
    with engine.connect() as connection:
        # A session-level lock: it outlives the transactions Alembic opens on its own
        # connection, and PostgreSQL drops it if this process dies.
        connection.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        connection.commit()
        try:
            yield
        finally:
            connection.execute(
                sa.text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY}
            )
            connection.commit()


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    """Apply migrations up to `revision`; safe to run from several replicas at once."""
    from alembic import command

    with migration_lock(engine):
        command.upgrade(alembic_config(engine), revision)


def upgrade_if_behind(engine: sa.Engine) -> None:
    """`upgrade(engine)`, unless the database is already at head (then Alembic is not loaded)."""
    if not is_at_head(engine):
        upgrade(engine)


def downgrade(engine: sa.Engine, revision: str) -> None:
    from alembic import command

    with migration_lock(engine):
        command.downgrade(alembic_config(engine), revision)


def current_revision(engine: sa.Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(engine: sa.Engine) -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


@cache
def head_from_files() -> str | None:
    """The head revision read from the migration files' `revision`/`down_revision` lines, or
    None unless they form one line of history (then ask Alembic, `head_revision`)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (migrations_dir() / "versions").glob("*.py"):
        found = dict(
            (name, value or None) for name, value in _REVISION_LINE.findall(path.read_text())
        )
        if found.get("revision") is None:
            return None
        revisions.add(str(found["revision"]))
        if found.get("down_revision"):
            parents.add(str(found["down_revision"]))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def stored_revision(engine: sa.Engine) -> str | None:
    """The revision recorded in the database; None when there is none (or more than one)."""
    try:
        with engine.connect() as connection:
            rows = connection.execute(sa.text("SELECT version_num FROM alembic_version")).all()
    except sa.exc.DBAPIError:  # no alembic_version table yet: an empty database
        return None
    return str(rows[0][0]) if len(rows) == 1 else None


def is_at_head(engine: sa.Engine) -> bool:
    head = head_from_files()
    if head is not None:
        return stored_revision(engine) == head
    return current_revision(engine) == head_revision(engine)


def sqlite_path(url: str) -> Path | None:
    """The file behind an SQLite URL (None for other databases and in-memory SQLite)."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database or "")


def describe_location(url: str) -> str:
    """Where a database is, for error messages: its file, or its host, port and name."""
    path = sqlite_path(url)
    if path is not None:
        return f"the SQLite file {path.resolve()}"
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return "an in-memory SQLite database"
    port = f":{parsed.port}" if parsed.port else ""
    return f"the {parsed.get_backend_name()} database {parsed.database} at {parsed.host}{port}"
