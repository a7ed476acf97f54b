"""One sender per database: the file lock, the advisory lock, the lease (fallback), two
schedulers racing, and SKIP LOCKED claims."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.adapters.db import engines as db
from bot.adapters.db.outbox import Outbox
from bot.adapters.db.store import Store
from bot.adapters.sender.leader import AdvisoryLock, FileLock, Lease, sender_lock
from bot.adapters.sender.runner import AnnouncementScheduler
from tests.adapters.sender.conftest import CHANNEL, ban_claude, deliveries, dm_counts
from tests.adapters.slack.harness import wait_until
from tests.conftest import POSTGRES_URL, FakeClock
from tests.standin import StandinSlack

TTL = dt.timedelta(seconds=30)
needs_postgres = pytest.mark.skipif(
    POSTGRES_URL is None,
    reason="PostgreSQL concurrency: set TEST_DATABASE_URL to run it against a real server",
)


def test_the_database_decides_which_lock_guards_sending(store: Store, tmp_path: Path) -> None:
    memory = Store(db.make_engine("sqlite://"))

    chosen = sender_lock(store, "a", TTL)

    expected = AdvisoryLock if store.engine.dialect.name == "postgresql" else FileLock
    assert isinstance(chosen, expected) and chosen.exclusive
    assert isinstance(sender_lock(memory, "a", TTL), Lease)  # no file to lock beside
    assert not sender_lock(memory, "a", TTL).exclusive


def test_file_lock_has_one_holder_until_it_is_released(tmp_path: Path) -> None:
    path = tmp_path / "policybot.db.sender-lock"
    first, second = FileLock(path, "a"), FileLock(path, "b")

    assert first.acquire()
    assert not second.acquire()
    assert first.acquire()  # confirming
    first.release()

    assert second.acquire() and second.holds()
    assert not first.holds()
    second.release()


def test_file_lock_ends_the_moment_its_process_is_killed(tmp_path: Path) -> None:
    path = tmp_path / "policybot.db.sender-lock"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path;"
            " from bot.adapters.sender.leader import FileLock;"
            f" assert FileLock(Path({str(path)!r}), 'child').acquire();"
            " print('held', flush=True); time.sleep(600)",
        ],
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == b"held"
        mine = FileLock(path, "me")
        blocked = mine.acquire()
        holder.kill()  # SIGKILL: no clean-up of any kind
        holder.wait(10)

        assert not blocked
        assert mine.acquire()  # no TTL to wait out
        mine.release()
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(10)


def test_a_standby_waiting_on_the_file_lock_takes_it_when_its_holder_is_killed(
    tmp_path: Path,
) -> None:
    path = tmp_path / "policybot.db.sender-lock"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path;"
            " from bot.adapters.sender.leader import FileLock;"
            f" assert FileLock(Path({str(path)!r}), 'child').acquire();"
            " print('held', flush=True); sys.stdin.readline(); time.sleep(600)",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    mine = FileLock(path, "me")
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == b"held"
        assert not mine.wait(0.2)  # held: the wait ends without it
        waited: list[bool] = []
        standby = threading.Thread(target=lambda: waited.append(mine.wait(60)))
        standby.start()
        holder.kill()  # SIGKILL while the standby waits
        holder.wait(10)
        standby.join(90)

        assert waited == [True] and mine.holds()  # taken within the one wait
    finally:
        mine.release()
        if holder.poll() is None:
            holder.kill()
            holder.wait(10)


def end_session(engine: sa.Engine, pid: int | None) -> None:
    """Terminate a PostgreSQL session and wait until the server has dropped it (and its locks)."""
    with engine.connect() as admin:
        admin.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

    def gone() -> bool:
        # A new transaction each time: pg_stat_activity is a snapshot per transaction.
        with engine.connect() as connection:
            query = sa.text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid")
            return connection.execute(query, {"pid": pid}).scalar() == 0

    wait_until(gone, 10, "the session to end")


@needs_postgres
def test_advisory_lock_ends_with_its_session(engine: sa.Engine) -> None:
    url = engine.url.render_as_string(hide_password=False)
    engines = [db.make_engine(url) for _ in range(2)]
    first, second = AdvisoryLock(engines[0], "a"), AdvisoryLock(engines[1], "b")
    try:
        assert first.acquire()
        assert not second.acquire()
        assert first.acquire()
        # The holder's session ends as a killed process's would (the server drops it).
        end_session(engine, first._backend_pid)

        assert second.acquire()
        assert not first.acquire()  # noticed at its next tick: it stops sending
        assert not first.holds()
    finally:
        first.release()
        second.release()
        for e in engines:
            e.dispose()


@needs_postgres
def test_a_standby_queued_on_the_advisory_lock_gets_it_when_the_holders_session_ends(
    engine: sa.Engine,
) -> None:
    url = engine.url.render_as_string(hide_password=False)
    engines = [db.make_engine(url) for _ in range(2)]
    first, second = AdvisoryLock(engines[0], "a"), AdvisoryLock(engines[1], "b")
    try:
        assert first.acquire()
        assert not second.wait(0.2)  # lock_timeout ended the wait; its session is kept
        waited: list[bool] = []
        standby = threading.Thread(target=lambda: waited.append(second.wait(60)))
        standby.start()
        wait_until(lambda: _waiting_for_advisory_lock(engine), 10, "the standby to queue")
        end_session(engine, first._backend_pid)
        standby.join(90)

        assert waited == [True] and second.holds()  # granted within the one wait
        assert second.acquire()  # its session is the lock's
    finally:
        first.release()
        second.release()
        for e in engines:
            e.dispose()


def _waiting_for_advisory_lock(engine: sa.Engine) -> bool:
    with engine.connect() as connection:
        query = sa.text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
        return bool(connection.execute(query).scalar())


@needs_postgres
def test_a_sender_that_lost_its_advisory_lock_cannot_claim(
    make_scheduler: Callable[..., AnnouncementScheduler],
    make_slack: Callable[..., StandinSlack],
    clock: FakeClock,
) -> None:
    scheduler = make_scheduler(make_slack())
    ban_claude(scheduler.runtime)
    lock = scheduler.lock
    assert isinstance(lock, AdvisoryLock) and lock.acquire()
    guard = lock.claim_guard()
    end_session(scheduler.runtime.store.engine, lock._backend_pid)

    claimed = scheduler.outbox.claim_due(clock.now, 10, guard=guard)

    assert claimed == []
    assert {d.status for d in deliveries(scheduler.runtime.store)} == {"pending"}


def test_only_one_holder_at_a_time(store: Store) -> None:
    first, second = Lease(store, "a", TTL), Lease(store, "b", TTL)

    assert first.acquire()
    assert not second.acquire()
    assert first.acquire()  # renewing
    assert first.holds() and not second.holds()


def test_another_takes_over_when_the_holder_stops_renewing(store: Store, clock: FakeClock) -> None:
    first, second = Lease(store, "a", TTL), Lease(store, "b", TTL)
    first.acquire()

    clock.advance(seconds=21)
    assert not first.holds()  # stops trusting it a third of the TTL early
    assert not second.acquire()
    clock.advance(seconds=10)

    assert second.acquire()
    assert not first.acquire()


def test_released_lease_is_taken_over_at_once(store: Store) -> None:
    first, second = Lease(store, "a", TTL), Lease(store, "b", TTL)
    first.acquire()

    first.release()

    assert second.acquire()


def test_two_running_schedulers_on_one_database_send_each_message_once(
    make_scheduler: Callable[..., AnnouncementScheduler],
    make_slack: Callable[..., StandinSlack],
    clock: FakeClock,
) -> None:
    members = [f"U{n:04d}" for n in range(40)]
    slack = make_slack(members=members)
    one, two = make_scheduler(slack), make_scheduler(slack)
    ban_claude(one.runtime)
    clock.advance(days=2)  # the channel post and the first reminder round are due together
    one.start()
    two.start()
    try:
        wait_until(lambda: len(dm_counts(slack)) == len(members), 20, "every member's DM")
        wait_until(
            lambda: {d.status for d in deliveries(one.runtime.store)} == {"sent"},
            10,
            "every row marked sent",
        )
    finally:
        one.stop()
        two.stop()

    assert dm_counts(slack) == {f"D{m}": 1 for m in members}
    assert len(slack.messages(CHANNEL)) == 1
    senders = {d.claimed_by for d in deliveries(one.runtime.store)}
    assert len(senders) == 1  # the lease holder sent everything


@needs_postgres
def test_concurrent_claims_skip_each_others_rows(
    make_scheduler: Callable[..., AnnouncementScheduler],
    make_slack: Callable[..., StandinSlack],
    clock: FakeClock,
) -> None:
    members = [f"U{n:04d}" for n in range(300)]
    scheduler = make_scheduler(make_slack(members=members))
    store = scheduler.runtime.store
    ban_claude(scheduler.runtime)
    [step] = scheduler.outbox.due_steps(clock.now)
    clock.advance(days=2)
    [_, reminder] = scheduler.outbox.due_steps(clock.now)
    scheduler.outbox.expand_step(reminder, members, clock.now)
    # Two engines: two real connections claiming at the same time.
    url = store.engine.url.render_as_string(hide_password=False)
    engines = [db.make_engine(url) for _ in range(2)]
    claimed: dict[str, list[int]] = {"a": [], "b": []}
    start = threading.Barrier(2)

    def claim(name: str, engine: sa.Engine) -> None:
        outbox = Outbox(Store(engine, clock=clock), name)
        start.wait()
        while batch := outbox.claim_due(clock.now, 7):
            claimed[name] += [d.id for d in batch]

    threads = [threading.Thread(target=claim, args=p) for p in zip("ab", engines, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    for engine in engines:
        engine.dispose()

    assert step.kind == "audience"
    assert not set(claimed["a"]) & set(claimed["b"])
    assert len(claimed["a"]) + len(claimed["b"]) == 301  # the channel post and 300 reminders
    assert claimed["a"] and claimed["b"]


@needs_postgres
def test_racing_leases_on_postgres_never_have_two_holders(
    engine: sa.Engine, clock: FakeClock
) -> None:
    url = engine.url.render_as_string(hide_password=False)
    engines = [db.make_engine(url) for _ in range(4)]
    leases = [Lease(Store(e, clock=clock), f"w{i}", TTL) for i, e in enumerate(engines)]
    start = threading.Barrier(len(leases))
    won: list[str] = []
    lock = threading.Lock()

    def race(lease: Lease) -> None:
        start.wait()
        if lease.acquire():
            with lock:
                won.append(lease.holder)

    threads = [threading.Thread(target=race, args=(lease,)) for lease in leases]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    for engine in engines:
        engine.dispose()

    assert len(won) == 1
