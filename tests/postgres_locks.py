"""PostgreSQL's view of who is waiting on a lock, for the tests that race writers there."""

from __future__ import annotations

import time

import sqlalchemy as sa

from tests.standin.waiting import LIVENESS_SECONDS


def lock_waiters(engine: sa.Engine) -> int:
    """Other sessions of this database waiting on a lock right now."""
    with engine.connect() as connection:
        return int(
            connection.execute(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database()"
                )
            ).scalar_one()
        )


def wait_for_lock_waiters(engine: sa.Engine, count: int, timeout: float = LIVENESS_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while lock_waiters(engine) < count:
        assert time.monotonic() < deadline, f"expected {count} writers queued on the lock"
        time.sleep(0.02)
