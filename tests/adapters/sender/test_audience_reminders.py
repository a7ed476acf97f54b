"""A version that changes only an audience's rule: announced once in the channel, reminders
to that audience's members only (listed ones and the stand-in's user group)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from bot.adapters.sender.runner import AnnouncementScheduler
from bot.app.changes import Actor, ImportPolicies
from bot.app.versions import Versions
from bot.compose import build_sender
from bot.domain.commands import SetPolicy
from bot.domain.policy import Audience, Status
from tests.adapters.sender.conftest import (
    BOT,
    CHANNEL,
    build_runtime,
    deliveries,
    dm_counts,
    drain,
    settings_for,
)
from tests.conftest import FakeClock
from tests.domain.factories import make_policy
from tests.standin import StandinSlack
from tests.wiring import apply

ADMIN = Actor("U0ADMIN", "slack", trusted=True)
CHINA = Audience("china-engineering", "China engineering", "china-eng", ("U0ALICE",))


@pytest.fixture
def slack(clock: FakeClock) -> Iterator[StandinSlack]:
    with StandinSlack(
        members={CHANNEL: ["U0ALICE", "U0BOB", "U0CAROL", "U0DAN", BOT]},
        usergroups={"S0CHINA": ["U0DAN"]},
        usergroup_handles={"S0CHINA": "china-eng"},
        clock=clock,
    ) as standin:
        yield standin


@pytest.fixture
def scheduler(
    engine: sa.Engine, clock: FakeClock, slack: StandinSlack
) -> Iterator[AnnouncementScheduler]:
    runtime = build_runtime(settings_for(slack), engine, clock)
    runtime.changes.import_policies(
        ImportPolicies(
            (make_policy("Tongyi Lingma", Status.BANNED), make_policy("Qoder")),
            quiet=True,
            audiences=(CHINA,),
        ),
        Actor("seed", "import", trusted=True),
    )
    scheduler = build_sender(runtime, clock=clock, poll_seconds=0.05)
    yield scheduler
    scheduler.dispatcher.stop()
    scheduler.lock.release()


def test_an_audience_only_change_is_announced_once_and_reminds_only_its_members(
    scheduler: AnnouncementScheduler, slack: StandinSlack, clock: FakeClock
) -> None:
    apply(
        scheduler.runtime,
        SetPolicy("Tongyi Lingma", Status.CONDITIONAL, audience="china-engineering",
                  conditions="Use the company account."),
        ADMIN,
    )  # fmt: skip
    drain(scheduler)
    clock.advance(days=2)
    drain(scheduler)

    [post] = slack.messages(CHANNEL)
    assert "Tongyi Lingma for china-engineering: banned → conditional" in post.text
    assert dm_counts(slack) == {"DU0ALICE": 1, "DU0DAN": 1}
    assert len([d for d in deliveries(scheduler.runtime.store) if d.kind == "announcement"]) == 1
    owed = Versions(scheduler.runtime.store).acks_export()
    assert {(r.person, r.audience) for r in owed} == {
        ("U0ALICE", "china-engineering"),
        ("U0DAN", "china-engineering"),
    }


def test_a_change_to_the_default_still_reminds_everyone(
    scheduler: AnnouncementScheduler, slack: StandinSlack, clock: FakeClock
) -> None:
    apply(scheduler.runtime, SetPolicy("Qoder", Status.BANNED), ADMIN)
    drain(scheduler)
    clock.advance(days=2)
    drain(scheduler)

    assert set(dm_counts(slack)) == {"DU0ALICE", "DU0BOB", "DU0CAROL", "DU0DAN"}
