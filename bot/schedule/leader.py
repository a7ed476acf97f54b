"""One scheduler at a time: a lease row in the database, renewed while its holder lives.

The same conditional UPDATE works on SQLite and PostgreSQL (PostgreSQL re-checks the WHERE
after waiting for a concurrent writer's row lock), so two replicas can never both hold it. A
holder that stops renewing (crashed, hung, cut off from the database) loses it at
`expires_at`, and the next replica to ask takes over. The holder itself stops trusting the
lease a third of the TTL before it expires, so it has stopped sending before anyone else starts.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

import sqlalchemy as sa
from sqlmodel import col

from bot.core.models import SchedulerLease
from bot.core.outbox import rowcount
from bot.core.store import Store

log = logging.getLogger(__name__)


class Lease:
    """Leadership of `name`, held by `holder` for `ttl` at a time."""

    def __init__(
        self,
        store: Store,
        holder: str,
        ttl: dt.timedelta,
        *,
        name: str = "scheduler",
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.store = store
        self.holder = holder
        self.ttl = ttl
        self.name = name
        self.clock = clock or store.clock
        self._valid_until: dt.datetime | None = None

    def acquire(self) -> bool:
        """Take the lease if it is free or expired, or renew it if ours; True if we hold it."""
        now = self.clock()
        expires = now + self.ttl
        try:
            with self.store.session() as session:
                taken = session.execute(
                    sa.update(SchedulerLease)
                    .where(
                        col(SchedulerLease.name) == self.name,
                        sa.or_(
                            col(SchedulerLease.holder) == self.holder,
                            col(SchedulerLease.expires_at) < now,
                        ),
                    )
                    .values(holder=self.holder, expires_at=expires),
                    execution_options={"synchronize_session": False},
                )
                if rowcount(taken) == 0:
                    if session.get(SchedulerLease, self.name) is not None:
                        return self._lost()
                    session.add(
                        SchedulerLease(name=self.name, holder=self.holder, expires_at=expires)
                    )
        except sa.exc.IntegrityError:  # another replica created the row first
            return self._lost()
        except sa.exc.OperationalError:
            log.warning("cannot renew the scheduler lease: the database did not answer")
            return self.holds()
        if self._valid_until is None:
            log.info("this process now runs the scheduler", extra={"holder": self.holder})
        self._valid_until = expires
        return True

    def holds(self) -> bool:
        """True while the lease is ours with a safety margin left (a third of the TTL)."""
        if self._valid_until is None:
            return False
        return self.clock() < self._valid_until - self.ttl / 3

    def release(self) -> None:
        """Give the lease up now, so another replica need not wait for it to expire."""
        if self._valid_until is None:
            return
        self._valid_until = None
        with self.store.session() as session:
            session.execute(
                sa.update(SchedulerLease)
                .where(
                    col(SchedulerLease.name) == self.name,
                    col(SchedulerLease.holder) == self.holder,
                )
                .values(expires_at=self.clock() - dt.timedelta(microseconds=1)),
                execution_options={"synchronize_session": False},
            )

    def _lost(self) -> bool:
        if self._valid_until is not None:
            log.warning("another process took over the scheduler lease")
        self._valid_until = None
        return False
