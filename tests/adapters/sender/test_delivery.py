"""The outbox sender in-process, against the stand-in Slack over real HTTP, on a FakeClock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient

from bot.adapters.db.outbox import Outbox
from bot.adapters.sender.runner import AnnouncementScheduler
from bot.adapters.sender.slackapi import DELIVERY_EVENT, delivery_metadata
from bot.adapters.slack.announcements import ACK_ACTION
from bot.app.changes import Actor
from bot.app.runtime import Runtime
from bot.domain.commands import RemoveTool, SetPolicy
from bot.domain.policy import Status
from bot.metrics import ANNOUNCEMENTS_FAILED, RATE_LIMIT_WAITS
from tests.adapters.sender.conftest import (
    BOT,
    CHANNEL,
    ban_claude,
    deliveries,
    dm_counts,
    drain,
)
from tests.conftest import FakeClock
from tests.standin import RateLimit, StandinSlack
from tests.wiring import apply


def test_announcement_is_posted_with_acknowledge_button_and_delivery_metadata(
    scheduler: AnnouncementScheduler, slack: StandinSlack
) -> None:
    ban_claude(scheduler.runtime)

    drain(scheduler)

    [message] = slack.messages(CHANNEL)
    [post] = deliveries(scheduler.runtime.store)
    assert "Claude Code: allowed → banned; use Qoder instead" in message.text
    [actions] = [b for b in message.blocks or [] if b["type"] == "actions"]
    [button] = actions["elements"]
    assert button["action_id"] == ACK_ACTION
    assert button["value"] == str(post.announcement_id)
    assert message.metadata is not None
    assert message.metadata["event_type"] == DELIVERY_EVENT
    assert message.metadata["event_payload"]["delivery_id"] == post.id
    assert (post.status, post.message_ts) == ("sent", message.ts)


def test_due_rows_are_sent_once_however_often_the_scheduler_runs(
    scheduler: AnnouncementScheduler, slack: StandinSlack
) -> None:
    ban_claude(scheduler.runtime)

    for _ in range(3):
        drain(scheduler)

    assert len(slack.messages(CHANNEL)) == 1


def test_reminders_reach_exactly_the_members_who_did_not_acknowledge(
    scheduler: AnnouncementScheduler, slack: StandinSlack, clock: FakeClock
) -> None:
    store = scheduler.runtime.store
    announcements = scheduler.runtime.announcements
    assert announcements is not None
    ban_claude(scheduler.runtime)
    drain(scheduler)
    [post] = deliveries(store)
    announcements.acknowledge(post.announcement_id, "U0BOB")

    clock.advance(days=2)
    drain(scheduler)
    first_round = dm_counts(slack)
    announcements.acknowledge(post.announcement_id, "U0ALICE")
    clock.advance(days=5)
    drain(scheduler)

    assert first_round == {"DU0ALICE": 1, "DU0CAROL": 1}  # not Bob, not the bot itself
    assert dm_counts(slack) == {"DU0ALICE": 1, "DU0CAROL": 2}
    assert f"D{BOT}" not in dm_counts(slack)


def test_reminders_due_during_downtime_go_out_after_restart_once_per_person(
    make_scheduler: Callable[..., AnnouncementScheduler], slack: StandinSlack, clock: FakeClock
) -> None:
    before = make_scheduler(slack)
    ban_claude(before.runtime)
    drain(before)
    before.dispatcher.stop()
    before.lock.release()

    clock.advance(days=8)  # both reminder rounds fell due while nothing ran
    after = make_scheduler(slack)
    drain(after)

    assert dm_counts(slack) == {"DU0ALICE": 1, "DU0BOB": 1, "DU0CAROL": 1}
    reminders = [d for d in deliveries(after.runtime.store) if d.kind.startswith("reminder-")]
    assert {d.kind for d in reminders} == {"reminder-2"}


def test_claimed_row_already_in_history_is_marked_sent_without_posting_again(
    scheduler: AnnouncementScheduler, slack: StandinSlack, clock: FakeClock
) -> None:
    store = scheduler.runtime.store
    ban_claude(scheduler.runtime)
    # A process claimed the row, Slack accepted the post, and the process died before marking.
    [claimed] = Outbox(store, "dead-worker").claim_due(clock.now, 10)
    posted = WebClient(token="xoxb-test", base_url=slack.api_url).chat_postMessage(
        channel=CHANNEL,
        text="posted before the crash",
        metadata=delivery_metadata(claimed.id, claimed.announcement_id, claimed.kind),
    )

    clock.advance(minutes=1)  # older than the 30 s claim timeout
    drain(scheduler)

    assert len(slack.messages(CHANNEL)) == 1
    [row] = deliveries(store)
    assert (row.status, row.message_ts) == ("sent", posted["ts"])
    assert slack.calls_to("conversations.history")


def test_claimed_row_missing_from_history_is_sent(
    scheduler: AnnouncementScheduler, slack: StandinSlack, clock: FakeClock
) -> None:
    store = scheduler.runtime.store
    ban_claude(scheduler.runtime)
    Outbox(store, "dead-worker").claim_due(clock.now, 10)  # died before posting

    clock.advance(minutes=1)
    drain(scheduler)

    assert len(slack.messages(CHANNEL)) == 1
    assert [d.status for d in deliveries(store)] == ["sent"]


def test_claims_of_a_dead_holder_are_reconciled_at_once_on_takeover(
    scheduler: AnnouncementScheduler, slack: StandinSlack, clock: FakeClock
) -> None:
    store = scheduler.runtime.store
    ban_claude(scheduler.runtime)
    # Claimed a moment ago by a process that no longer holds the sender lock (it died with it).
    Outbox(store, "dead-worker").claim_due(clock.now, 10)

    drain(scheduler)  # no clock advance: the claim timeout plays no part

    assert len(slack.messages(CHANNEL)) == 1
    assert [d.status for d in deliveries(store)] == ["sent"]
    assert slack.calls_to("conversations.history")  # looked up before sending


def test_own_claim_with_unknown_outcome_waits_for_the_claim_timeout(
    scheduler: AnnouncementScheduler, slack: StandinSlack, clock: FakeClock
) -> None:
    store = scheduler.runtime.store
    ban_claude(scheduler.runtime)
    # Our own post timed out: it may still land, so it is not looked up straight away.
    Outbox(store, scheduler.worker).claim_due(clock.now, 10)

    drain(scheduler)
    waiting = [d.status for d in deliveries(store)]
    clock.advance(minutes=1)  # older than the 30 s claim timeout
    drain(scheduler)

    assert waiting == ["claimed"]
    assert len(slack.messages(CHANNEL)) == 1
    assert [d.status for d in deliveries(store)] == ["sent"]


def test_rate_limited_fan_out_honours_retry_after_and_loses_nothing(
    make_slack: Callable[..., StandinSlack],
    make_scheduler: Callable[..., AnnouncementScheduler],
    clock: FakeClock,
) -> None:
    members = [f"U{n:05d}" for n in range(60)]
    slack = make_slack(members=members, rate_limit=RateLimit(per_second=40, burst=5))
    scheduler = make_scheduler(slack, send_rate=200.0)
    waits_before = RATE_LIMIT_WAITS.labels("chat.postMessage")._value.get()
    ban_claude(scheduler.runtime)
    drain(scheduler)

    clock.advance(days=2)
    drain(scheduler)

    assert slack.refusals > 0
    assert RATE_LIMIT_WAITS.labels("chat.postMessage")._value.get() > waits_before
    assert dm_counts(slack) == {f"D{m}": 1 for m in members}
    assert {d.status for d in deliveries(scheduler.runtime.store)} == {"sent"}


def test_failed_send_is_retried_with_backoff_then_recorded_as_failed(
    scheduler: AnnouncementScheduler, slack: StandinSlack, clock: FakeClock
) -> None:
    store = scheduler.runtime.store
    failed_before = ANNOUNCEMENTS_FAILED.labels("announcement")._value.get()
    slack.fail_next("chat.postMessage", status=400, count=3)
    ban_claude(scheduler.runtime)
    start = clock.now

    drain(scheduler)
    [first] = deliveries(store)
    clock.advance(seconds=15)
    drain(scheduler)
    clock.advance(seconds=25)
    drain(scheduler)

    assert (first.status, first.attempts) == ("pending", 1)
    assert first.due_at == start + dt.timedelta(seconds=10)  # then 20 s after the second
    [row] = deliveries(store)
    assert (row.status, row.attempts, row.last_error) == ("failed", 3, "invalid_request")
    assert ANNOUNCEMENTS_FAILED.labels("announcement")._value.get() == failed_before + 1
    assert slack.messages(CHANNEL) == []


def test_server_error_is_looked_up_in_history_then_retried(
    scheduler: AnnouncementScheduler, slack: StandinSlack, clock: FakeClock
) -> None:
    store = scheduler.runtime.store
    slack.fail_next("chat.postMessage", status=500)
    ban_claude(scheduler.runtime)

    drain(scheduler)
    clock.advance(seconds=15)
    drain(scheduler)

    assert slack.calls_to("conversations.history")
    assert len(slack.messages(CHANNEL)) == 1
    assert [(d.status, d.attempts) for d in deliveries(store)] == [("sent", 1)]


def _restrict_qoder(runtime: Runtime, **fields: Any) -> None:
    apply(
        runtime,
        SetPolicy("Qoder", Status.CONDITIONAL, conditions="Internal code only.", **fields),
        Actor("U0ADMIN", "slack", trusted=True),
    )


def test_a_reminder_round_sends_each_person_one_dm_listing_everything_they_owe(
    scheduler: AnnouncementScheduler, slack: StandinSlack, clock: FakeClock
) -> None:
    store = scheduler.runtime.store
    ban_claude(scheduler.runtime)
    _restrict_qoder(scheduler.runtime)
    drain(scheduler)

    clock.advance(days=2)  # the first reminder round of both announcements
    drain(scheduler)

    assert len(slack.messages(CHANNEL)) == 2
    assert dm_counts(slack) == {"DU0ALICE": 1, "DU0BOB": 1, "DU0CAROL": 1}
    [dm] = slack.messages("DU0ALICE")
    assert "Claude Code" in dm.text and "Qoder" in dm.text
    [actions] = [b for b in dm.blocks or [] if b["type"] == "actions"]
    ids = {d.announcement_id for d in deliveries(store) if d.kind == "announcement"}
    assert {int(i) for i in actions["elements"][0]["value"].split(",")} == ids
    gathered = [d for d in deliveries(store) if d.status == "skipped"]
    assert len(gathered) == 3 and all((d.last_error or "").startswith("gathered") for d in gathered)


def test_a_person_who_acknowledged_one_is_reminded_only_of_the_other(
    scheduler: AnnouncementScheduler, slack: StandinSlack, clock: FakeClock
) -> None:
    store = scheduler.runtime.store
    announcements = scheduler.runtime.announcements
    assert announcements is not None
    ban_claude(scheduler.runtime)
    _restrict_qoder(scheduler.runtime)
    drain(scheduler)
    claude = min(d.announcement_id for d in deliveries(store) if d.kind == "announcement")
    announcements.acknowledge(claude, "U0BOB")

    clock.advance(days=2)
    drain(scheduler)

    [dm] = slack.messages("DU0BOB")
    assert "Qoder" in dm.text and "Claude Code" not in dm.text
    assert len(slack.messages("DU0ALICE")) == 1


def test_countdowns_falling_on_one_day_are_one_channel_post(
    scheduler: AnnouncementScheduler, slack: StandinSlack, clock: FakeClock
) -> None:
    day = clock.now.date() + dt.timedelta(days=10)
    apply(
        scheduler.runtime,
        SetPolicy("Claude Code", Status.BANNED, effective=day, alternatives=("Qoder",)),
        Actor("U0ADMIN", "slack", trusted=True),
    )
    _restrict_qoder(scheduler.runtime, effective=day)
    drain(scheduler)
    posts_at_change = len(slack.messages(CHANNEL))

    clock.advance(days=3, hours=1)  # 7 days before, after 09:00
    drain(scheduler)

    assert posts_at_change == 2
    [countdown] = slack.messages(CHANNEL)[2:]
    assert "Claude Code" in countdown.text and "Qoder" in countdown.text


def test_a_second_version_due_later_in_the_round_is_not_a_second_dm(
    scheduler: AnnouncementScheduler, slack: StandinSlack, clock: FakeClock
) -> None:
    ban_claude(scheduler.runtime)
    drain(scheduler)
    clock.advance(hours=3)
    _restrict_qoder(scheduler.runtime)  # announced three hours later: its round falls due later too
    drain(scheduler)

    clock.advance(days=2, hours=-2)  # Claude Code's first round: lists both
    drain(scheduler)
    first = dm_counts(slack)
    clock.advance(hours=3)  # Qoder's first round: everyone already has it in a DM
    drain(scheduler)

    assert first == {"DU0ALICE": 1, "DU0BOB": 1, "DU0CAROL": 1}
    assert dm_counts(slack) == first
    [dm] = slack.messages("DU0CAROL")
    assert "Claude Code" in dm.text and "Qoder" in dm.text


def test_a_lone_removal_is_one_channel_post_under_removed_tools(
    scheduler: AnnouncementScheduler, slack: StandinSlack
) -> None:
    apply(scheduler.runtime, RemoveTool("Claude Code"), Actor("U0ADMIN", "slack", trusted=True))
    drain(scheduler)

    [post] = slack.messages(CHANNEL)
    assert ": 1 change." in post.text and "Claude Code: removed from the registry" in post.text
    assert "*Removed tools*" in str(post.blocks) and ACK_ACTION in str(post.blocks)
