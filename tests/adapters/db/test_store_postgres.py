"""Admins changing one tool at once, on PostgreSQL with real concurrent connections.

Each writer is a thread with its own connection from the pool. To make the race certain
rather than likely, a third connection holds the tool's row lock until both writers have read
the tool and queued on their UPDATE; releasing it lets them write in the worst order.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from bot.adapters.db.store import Store
from bot.app.changes import Actor
from bot.app.runtime import Runtime
from bot.app.service import Reply
from bot.domain.commands import AddAlias, SetPolicy
from bot.domain.errors import StaleEditError
from bot.domain.policy import Status
from tests.conftest import FakeClock
from tests.factories import seed_registry
from tests.postgres_locks import wait_for_lock_waiters
from tests.wiring import apply, runtime_on, seed


@pytest.fixture
def pg(engine: sa.Engine, clock: FakeClock) -> Runtime:
    if engine.dialect.name != "postgresql":
        pytest.skip("set TEST_DATABASE_URL to a PostgreSQL database to run the concurrency tests")
    runtime = runtime_on(Store(engine, clock=clock), admins=["alice", "bob"])
    seed(runtime, seed_registry())
    return runtime


@contextmanager
def tool_row_locked(engine: sa.Engine, name_key: str) -> Iterator[None]:
    """Hold the tool's row lock (as a slow writer would) until the block ends."""
    with engine.connect() as connection, connection.begin():
        connection.execute(
            sa.text("SELECT id FROM tool WHERE name_key = :key FOR UPDATE"), {"key": name_key}
        )
        yield


def run_at_once(*jobs: tuple[str, Callable[[], None]]) -> list[threading.Thread]:
    threads = [threading.Thread(target=job, name=name) for name, job in jobs]
    for thread in threads:
        thread.start()
    return threads


def test_two_admins_setting_one_tool_at_once_lose_no_update(pg: Runtime) -> None:
    service = pg.service
    replies: dict[str, Reply] = {}

    def admin(user: str, command: str) -> None:
        replies[user] = service.handle(command, user=user, source="slack")

    with tool_row_locked(pg.engine, "cursor"):
        threads = run_at_once(
            ("alice", lambda: admin("alice", "set Cursor allowed --reason Reviewed by legal")),
            ("bob", lambda: admin("bob", "set Cursor banned --reason Sends code to a vendor")),
        )
        wait_for_lock_waiters(pg.engine, 2)
    for thread in threads:
        thread.join(timeout=30)

    kinds = sorted(reply.kind for reply in replies.values())
    assert kinds == ["admin", "error"]
    winner = next(user for user, reply in replies.items() if reply.kind == "admin")
    loser = next(user for user, reply in replies.items() if reply.kind == "error")
    assert "changed by someone else" in replies[loser].text
    updates = [r for r in pg.policies.history("Cursor") if r.action == "update"]
    assert [r.author for r in updates] == [winner]
    current = pg.policies.get("Cursor")
    assert current is not None
    assert current.status == (Status.ALLOWED if winner == "alice" else Status.BANNED)


def test_the_refused_admin_is_not_half_written(pg: Runtime) -> None:
    version = pg.policies.version_of("Cursor")
    outcomes: dict[str, str] = {}

    def write(author: str, status: Status, reason: str) -> None:
        try:
            apply(pg, SetPolicy("Cursor", status, reason=reason), Actor(author, "t", trusted=True))
            outcomes[author] = "ok"
        except StaleEditError:
            outcomes[author] = "stale"

    with tool_row_locked(pg.engine, "cursor"):
        threads = run_at_once(
            ("alice", lambda: write("alice", Status.ALLOWED, "alice's reason")),
            ("bob", lambda: write("bob", Status.BANNED, "bob's reason")),
        )
        wait_for_lock_waiters(pg.engine, 2)
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes.values()) == ["ok", "stale"]
    winner = next(author for author, outcome in outcomes.items() if outcome == "ok")
    current = pg.policies.get("Cursor")
    assert current is not None and current.reason == f"{winner}'s reason"
    assert pg.policies.version_of("Cursor") == (version or 0) + 1


def test_admins_who_retry_after_a_refusal_all_get_their_change_in(pg: Runtime) -> None:
    admins = [f"admin{i}" for i in range(6)]
    generation = pg.policies.generation()
    version = pg.policies.version_of("GitHub Copilot") or 0
    start = threading.Barrier(len(admins))

    def add_alias(author: str) -> None:
        start.wait(timeout=10)
        for _attempt in range(50):
            try:
                apply(
                    pg,
                    AddAlias("GitHub Copilot", f"copilot-{author}"),
                    Actor(author, "t", trusted=True),
                )
                return
            except StaleEditError:
                continue
        raise AssertionError(f"{author} never got the change in")

    threads = run_at_once(*((author, lambda a=author: add_alias(a)) for author in admins))
    for thread in threads:
        thread.join(timeout=60)

    current = pg.policies.get("GitHub Copilot")
    assert current is not None
    assert sorted(current.aliases) == sorted(f"copilot-{author}" for author in admins)
    updates = [r for r in pg.policies.history("GitHub Copilot") if r.action == "update"]
    assert sorted(r.author for r in updates) == sorted(admins)
    assert pg.policies.version_of("GitHub Copilot") == version + len(admins)
    assert pg.policies.generation() == generation + len(admins)


def test_two_admins_adding_the_same_new_tool_at_once_get_one_tool(pg: Runtime) -> None:
    service = pg.service
    replies: dict[str, Reply] = {}

    def admin(user: str) -> None:
        replies[user] = service.handle("add Windsurf", user=user, source="slack")

    # An uncommitted insert of the same name holds the unique key: both admins check the name
    # (free), insert, and queue behind it; rolling it back releases them together.
    with pg.engine.connect() as holder, holder.begin() as transaction:
        holder.execute(
            sa.text(
                "INSERT INTO tool (name, name_key, status, alternatives, version, created_at, "
                "updated_at) VALUES ('Windsurf', 'windsurf', 'banned', '[]', 1, now(), now())"
            )
        )
        threads = run_at_once(("alice", lambda: admin("alice")), ("bob", lambda: admin("bob")))
        wait_for_lock_waiters(pg.engine, 2)
        transaction.rollback()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(reply.kind for reply in replies.values()) == ["admin", "error"]
    refused = next(reply for reply in replies.values() if reply.kind == "error")
    assert "taken by someone else" in refused.text
    creates = [r for r in pg.policies.history("Windsurf") if r.action == "create"]
    assert len(creates) == 1
