"""In-process scheduler fixtures: a runtime on the test database and FakeClock, talking to a
stand-in Slack that shares the clock (so message timestamps and claim times agree)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.adapters.db.models import Delivery
from bot.adapters.db.store import Store
from bot.adapters.sender.runner import AnnouncementScheduler
from bot.app.changes import Actor
from bot.app.runtime import Runtime
from bot.compose import build_sender
from bot.config import Settings
from bot.domain.commands import SetPolicy
from bot.domain.policy import Status
from tests.conftest import FakeClock
from tests.domain.factories import make_policy
from tests.standin import RateLimit, StandinSlack
from tests.wiring import apply, runtime_on
from tests.wiring import seed as seed_policies

CHANNEL = "C0ANNOUNCE"
ADMINS = "C0ADMINS"
BOT = "U0BOT"
STAFF = ["U0ALICE", "U0BOB", "U0CAROL"]


def settings_for(slack: StandinSlack, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "slack_bot_token": "xoxb-test",
        "slack_api_url": slack.api_url,
        "announce_channel": CHANNEL,
        "admin_channel": ADMINS,
        "claim_timeout": "30s",
        "lease_ttl": "60s",
        "send_rate": 50.0,
        "send_attempts": 3,
    }
    values.update(overrides)
    return Settings(**values)


def build_runtime(settings: Settings, engine: sa.Engine, clock: FakeClock) -> Runtime:
    """What `open_runtime` wires, on the test's engine and clock."""
    return runtime_on(Store(engine, clock=clock), settings)


def seed(runtime: Runtime) -> None:
    seed_policies(runtime, [make_policy("Qoder"), make_policy("Claude Code")])


def ban_claude(runtime: Runtime) -> None:
    apply(
        runtime,
        SetPolicy(
            "Claude Code",
            Status.BANNED,
            reason="Sends environment metadata.",
            alternatives=("Qoder",),
        ),
        Actor("U0ADMIN", "slack", trusted=True),
    )


def deliveries(store: Store) -> list[Delivery]:
    with Session(store.engine) as session:
        return list(session.exec(select(Delivery).order_by(col(Delivery.id))).all())


def dm_counts(slack: StandinSlack) -> dict[str, int]:
    """How many messages each DM channel got."""
    counts: dict[str, int] = {}
    for message in slack.messages():
        if message.channel.startswith("D"):
            counts[message.channel] = counts.get(message.channel, 0) + 1
    return counts


@pytest.fixture
def make_slack(clock: FakeClock) -> Iterator[Callable[..., StandinSlack]]:
    started: list[StandinSlack] = []

    def make(members: list[str] | None = None, rate_limit: RateLimit | None = None) -> StandinSlack:
        slack = StandinSlack(
            members={CHANNEL: [*(members if members is not None else STAFF), BOT]},
            rate_limit=rate_limit,
            clock=clock,
        )
        slack.start()
        started.append(slack)
        return slack

    yield make
    for slack in started:
        slack.stop()


@pytest.fixture
def slack(make_slack: Callable[..., StandinSlack]) -> StandinSlack:
    return make_slack()


@pytest.fixture
def make_scheduler(
    engine: sa.Engine, clock: FakeClock
) -> Iterator[Callable[..., AnnouncementScheduler]]:
    """Schedulers that are not started: tests drive them with `drain`; stopped after."""
    made: list[AnnouncementScheduler] = []

    def make(slack: StandinSlack, **overrides: Any) -> AnnouncementScheduler:
        runtime = build_runtime(settings_for(slack, **overrides), engine, clock)
        if not made:
            seed(runtime)
        scheduler = build_sender(runtime, clock=clock, poll_seconds=0.05)
        made.append(scheduler)
        return scheduler

    yield make
    for scheduler in made:
        scheduler.dispatcher.stop()
        scheduler.lock.release()


@pytest.fixture
def scheduler(
    make_scheduler: Callable[..., AnnouncementScheduler], slack: StandinSlack
) -> AnnouncementScheduler:
    return make_scheduler(slack)


def drain(scheduler: AnnouncementScheduler) -> int:
    """One scheduler round, synchronously: lease, steps, stale claims, due rows."""
    assert scheduler.lock.acquire()
    return scheduler.dispatcher.run_once()
