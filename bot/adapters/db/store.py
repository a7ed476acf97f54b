"""The database handle every repository shares: engine, clock, one transaction per use case.

`Store` opens sessions; it writes nothing itself. Who writes what is visible by repository:

* `policy_repo.PolicyRepository` — the registry (tool, alias), its history (revision), the
  scheduled changes and the registry generation; written only by `changes.PolicyChanges`;
* `question_repo.QuestionRepository` — the question log;
* `event_repo.EventRepository` — Slack event ids already handled;
* `outbox.Outbox` and `schedule.leader.Lease` — deliveries and the sender's lease;
* `announcements.Announcements` — announcements and acknowledgements.

The errors of the write path are in `bot/domain/errors.py`, its value types in
`bot/domain/events.py`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlmodel import Session

from bot.adapters.db.models import utcnow

__all__ = ["Clock", "Store", "after_commit", "lock_person"]

Clock = Callable[[], dt.datetime]


def after_commit(session: Session, effect: Callable[[], None]) -> None:
    """Run `effect` once the session's transaction has committed (never on a rollback)."""
    sa.event.listen(session, "after_commit", lambda _session: effect(), once=True)


def lock_person(session: Session, user: str) -> None:
    """Serialise `user`'s counted writes (quotas, rate limits): call it first in the
    transaction, before anything is counted; held until the transaction ends.

    PostgreSQL: a transaction-scoped advisory lock on the user's hash, so two requests of one
    person wait for each other and others' do not. SQLite: the write lock, taken at once
    (`BEGIN IMMEDIATE`); pysqlite would otherwise run the counting SELECTs outside the
    transaction and begin it only at the INSERT, so two requests could both count 4 of 5.
    """
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(
            sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext(f"person:{user}")))
        )
    elif connection.dialect.name == "sqlite":
        raw = connection.connection.dbapi_connection
        # A transaction already open holds the write lock (pysqlite opens one at a write).
        if raw is not None and not raw.in_transaction:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


class Store:
    """The database behind every repository: an engine, a clock and transactions."""

    def __init__(self, engine: sa.Engine, clock: Clock = utcnow) -> None:
        self.engine = engine
        self.clock = clock

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back on an exception."""
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield session

    def reader(self) -> Session:
        """A session for reading (use as a context manager)."""
        return Session(self.engine)
