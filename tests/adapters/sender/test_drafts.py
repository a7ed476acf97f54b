"""The issue's numbers for a published draft, sent through the stand-in Slack: a fresh import
announces nothing; a draft of two changes announces nothing until it is published, then is
one channel post naming both; after the reminder delay each member who has not acknowledged
gets exactly one DM."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from bot.compose import build_sender
from tests.adapters.sender.conftest import (
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
from tests.wiring import seed

ADMIN = "U0ADMIN"
MEMBERS = [f"U0M{n:03d}" for n in range(40)]


def test_a_published_two_change_draft_is_one_post_and_one_dm_per_member_who_owes_it(
    make_slack: Callable[..., StandinSlack], engine: sa.Engine, clock: FakeClock
) -> None:
    slack = make_slack(members=MEMBERS)
    runtime = build_runtime(settings_for(slack, admins=ADMIN), engine, clock)
    seed(runtime, [make_policy(f"Tool {n:02d}") for n in range(38)])  # as `policybot import`
    scheduler = build_sender(runtime, clock=clock, poll_seconds=0.05)
    try:
        drain(scheduler)
        after_import = len(slack.messages(CHANNEL))

        def say(text: str) -> str:
            return runtime.service.handle(text, user=ADMIN, source="slack").text

        say("draft set Tool 01 banned --reason Sends code to a third party")
        say("draft set Tool 02 conditional --conditions Public code only")
        drain(scheduler)
        while_staged = len(slack.messages(CHANNEL))
        say("publish")
        drain(scheduler)
        [post] = slack.messages(CHANNEL)
        [announcement_id] = {d.announcement_id for d in deliveries(runtime.store)}
        assert runtime.announcements is not None
        for member in MEMBERS[:10]:
            runtime.announcements.acknowledge(announcement_id, member)

        clock.advance(days=2, minutes=1)
        drain(scheduler)
    finally:
        scheduler.dispatcher.stop()
        scheduler.lock.release()

    assert (after_import, while_staged) == (0, 0)
    assert "Tool 01" in post.text and "Tool 02" in post.text
    assert dm_counts(slack) == {f"D{member}": 1 for member in MEMBERS[10:]}
