"""One sender at a time, and its exclusivity ends the moment it dies.

`sender_lock()` picks the strongest lock the database offers:

* PostgreSQL: a session-level advisory lock (`pg_try_advisory_lock`) held on a connection of
  its own. The server drops it when that session ends (the process dies, its socket closes),
  so another replica takes over at its next tick, about a second later.
* SQLite in a file: an operating-system lock (`fcntl.flock`) on `<database>.sender-lock`
  beside it. The kernel drops it when the process dies, however it dies.
* Anything else (an in-memory database, a system without flock): a lease row with a TTL,
  renewed every tick; another replica takes over only once it has expired.

With a lock (not a lease) the holder is the only process that can have claimed rows, so the
claims of anyone else belong to a dead holder and are reconciled at once (`exclusive`).

The lock is taken by the scheduler's first tick, never at import: under a pre-forking server
(gunicorn) every worker asks for it itself, and exactly one gets it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import sqlalchemy as sa
from sqlmodel import col

from bot.adapters.db.models import SchedulerLease
from bot.adapters.db.outbox import rowcount
from bot.adapters.db.store import Store

log = logging.getLogger(__name__)

# Any fixed 64-bit number, the same in every replica ("policybot sender"), other than the
# migration lock's.
SENDER_LOCK_KEY = 0x706F6C6963797364
# PostgreSQL's SQLSTATE when lock_timeout ends a wait.
LOCK_NOT_AVAILABLE = "55P03"
# How often a standby without a lock it can wait on (flock, lease) tries again.
RETRY_SECONDS = 0.05


class SenderLock(Protocol):
    """Leadership of the scheduler: only its holder expands steps, claims and sends."""

    holder: str
    # True when the lock ends with its holder's process, so that any claim not ours is dead.
    exclusive: bool

    def acquire(self) -> bool:
        """Take the lock if free, or confirm (renew) it if ours; True if we hold it."""
        ...

    def wait(self, seconds: float) -> bool:
        """Take the lock as soon as it is free, waiting at most `seconds`; True if we hold it.
        A standby process waits here, so it notices the holder's end at once."""
        ...

    def holds(self) -> bool:
        """True while this process may send (cheap: called before every post)."""
        ...

    def release(self) -> None:
        """Give it up now, so another replica need not wait."""
        ...

    def claim_guard(self) -> sa.ColumnElement[bool] | None:
        """A condition true only while the lock is ours, checked inside each claim."""
        ...


def sender_lock(
    store: Store,
    holder: str,
    ttl: dt.timedelta,
    *,
    clock: Callable[[], dt.datetime] | None = None,
) -> SenderLock:
    """The advisory lock on PostgreSQL, a file lock on SQLite, else a lease with `ttl`."""
    url = store.engine.url
    if url.get_backend_name() == "postgresql":
        return AdvisoryLock(store.engine, holder)
    database = url.database or ""
    if url.get_backend_name() == "sqlite" and database not in ("", ":memory:") and _has_flock():
        return FileLock(Path(f"{database}.sender-lock"), holder)
    return Lease(store, holder, ttl, clock=clock)


def _has_flock() -> bool:
    return sys.platform != "win32"


class AdvisoryLock:
    """PostgreSQL's session-level advisory lock, on a connection kept for it alone."""

    exclusive = True

    def __init__(self, engine: sa.Engine, holder: str, key: int = SENDER_LOCK_KEY) -> None:
        self.engine = engine
        self.holder = holder
        self.key = key
        self._connection: sa.Connection | None = None
        self._held = False
        self._backend_pid: int | None = None

    def acquire(self) -> bool:
        try:
            connection = self._connect()
            if self._held:
                connection.execute(sa.text("SELECT 1"))  # the session lives: the lock is ours
                return True
            taken = connection.execute(
                sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}
            ).scalar()
        except sa.exc.DBAPIError:
            # Our session may be gone, and the lock with it: stop sending, reconnect next tick.
            if self._held:
                log.warning("lost the sender lock: its database connection failed")
            self._drop_connection()
            return False
        if taken:
            self._held = True
            log.info("this process now sends announcements", extra={"holder": self.holder})
        return bool(taken)

    def wait(self, seconds: float) -> bool:
        """Queue for the lock in PostgreSQL itself (`pg_advisory_lock` under a lock_timeout):
        granted the moment the holder's session ends."""
        if self._held:
            return self.acquire()
        try:
            connection = self._connect()
            connection.execute(
                sa.text("SELECT set_config('lock_timeout', :ms, false)"),
                {"ms": f"{max(1, int(seconds * 1000))}ms"},
            )
            connection.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": self.key})
        except sa.exc.DBAPIError as error:
            if getattr(error.orig, "sqlstate", None) == LOCK_NOT_AVAILABLE:
                return False  # still held by another process; the session is fine
            self._drop_connection()
            return False
        self._held = True
        log.info("this process now sends announcements", extra={"holder": self.holder})
        return True

    def holds(self) -> bool:
        return self._held

    def release(self) -> None:
        if self._connection is None:
            return
        if self._held:
            # If the session is gone, its lock went with it.
            with contextlib.suppress(sa.exc.DBAPIError):
                self._connection.execute(
                    sa.text("SELECT pg_advisory_unlock(:key)"), {"key": self.key}
                )
        self._drop_connection()

    def claim_guard(self) -> sa.ColumnElement[bool] | None:
        """Claims succeed only while our lock session holds the lock (pg_locks)."""
        if self._backend_pid is None:
            return None
        return sa.text(
            "EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND pid = :lock_pid AND classid = :lock_hi AND objid = :lock_lo"
            " AND objsubid = 1)"
        ).bindparams(
            lock_pid=self._backend_pid, lock_hi=self.key >> 32, lock_lo=self.key & 0xFFFFFFFF
        )  # type: ignore[return-value]

    def _connect(self) -> sa.Connection:
        if self._connection is None:
            # Outside the pool (detached) and in autocommit: a session of its own, never left
            # idle in a transaction.
            connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            connection.detach()
            self._backend_pid = int(connection.execute(sa.text("SELECT pg_backend_pid()")).one()[0])
            self._connection = connection
        return self._connection

    def _drop_connection(self) -> None:
        self._held = False
        self._backend_pid = None
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(sa.exc.DBAPIError):
                connection.close()


class FileLock:
    """An exclusive `flock` on a file beside the SQLite database; the kernel ends it with us.

    flock locks belong to an open file, so two schedulers in one process exclude each other
    too (each opens the file itself).
    """

    exclusive = True

    def __init__(self, path: Path, holder: str) -> None:
        self.path = path
        self.holder = holder
        self._fd: int | None = None

    def acquire(self) -> bool:
        import fcntl

        if self._fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # held by a live process
            os.close(fd)
            return False
        # Who holds it, for a person looking at the file; the lock itself is the flock.
        os.ftruncate(fd, 0)
        os.write(fd, f"{self.holder}\n".encode())
        self._fd = fd
        log.info("this process now sends announcements", extra={"holder": self.holder})
        return True

    def wait(self, seconds: float) -> bool:
        """Try every RETRY_SECONDS (a blocking flock could not be given up on stop)."""
        deadline = time.monotonic() + seconds
        while not self.acquire():
            if time.monotonic() >= deadline:
                return False
            time.sleep(RETRY_SECONDS)
        return True

    def holds(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        import fcntl

        fd, self._fd = self._fd, None
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def claim_guard(self) -> sa.ColumnElement[bool] | None:
        return None  # a live process cannot lose a flock


class Lease:
    """Leadership of `name`, held by `holder` for `ttl` at a time (the fallback).

    The same conditional UPDATE works on SQLite and PostgreSQL (PostgreSQL re-checks the WHERE
    after waiting for a concurrent writer's row lock), so two replicas can never both hold it.
    A holder that stops renewing loses it at `expires_at`; the holder itself stops trusting it
    a third of the TTL before, so it has stopped sending before anyone else starts.
    """

    exclusive = False  # a dead holder's claims wait for the claim timeout

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

    def wait(self, seconds: float) -> bool:
        """One try, then the rest of `seconds` asleep: a lease is free only once it expired."""
        if self.acquire():
            return True
        time.sleep(seconds)
        return False

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

    def claim_guard(self) -> sa.ColumnElement[bool] | None:
        return None

    def _lost(self) -> bool:
        if self._valid_until is not None:
            log.warning("another process took over the scheduler lease")
        self._valid_until = None
        return False
