"""Announcements in the core: what is material, the headline, rows written with the change,
acknowledgements, `announce`/`acks` commands and the digest. No Slack here."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.adapters.db.models import Acknowledgement, Announcement, Delivery, ScheduledStep, Tool
from bot.adapters.db.outbox import Outbox
from bot.adapters.db.store import Store
from bot.app.announcements import AnnouncementConfig, Announcements, headline
from bot.app.changes import Actor
from bot.app.runtime import Runtime
from bot.domain.commands import Announce, CancelScheduled, SetPolicy, ShowAcks
from bot.domain.errors import PolicyError
from bot.domain.policy import DataClass, Status
from tests.conftest import FakeClock
from tests.domain.factories import make_policy
from tests.wiring import apply, runtime_on, seed

CHANNEL = "C0ANNOUNCE"
ADMINS = "C0ADMINS"
BERLIN = dt.timezone(dt.timedelta(hours=1))  # a fixed offset, like Europe/Berlin in winter


ADMIN = Actor("U0ADMIN", "slack", trusted=True)


@pytest.fixture
def runtime(store: Store) -> Runtime:
    runtime = runtime_on(store, announce_channel=CHANNEL, admin_channel=ADMINS)
    seed(runtime, [make_policy("Qoder"), make_policy("Claude Code")])
    return runtime


@pytest.fixture
def announcements(runtime: Runtime) -> Announcements:
    return runtime.announcements


def rows(store: Store, model: type) -> list:  # type: ignore[type-arg]
    with Session(store.engine) as session:
        return list(session.exec(select(model).order_by(col(model.id))).all())


def ban_claude(runtime: Runtime, effective: dt.date | None = None) -> None:
    apply(
        runtime,
        SetPolicy(
            "Claude Code",
            Status.BANNED,
            reason="Sends environment metadata.",
            alternatives=("Qoder",),
            effective=effective,
        ),
        ADMIN,
    )


def test_headline_says_old_and_new_status_date_and_alternative() -> None:
    before = make_policy("Claude Code", Status.ALLOWED)
    after = make_policy(
        "Claude Code",
        Status.BANNED,
        alternatives=("Qoder",),
        effective=dt.date(2026, 12, 1),
    )
    changed = {"status": ("allowed", "banned"), "effective": (None, "2026-12-01")}
    changed["alternatives"] = ([], ["Qoder"])  # type: ignore[assignment]

    text = headline(before, after, changed, dt.date(2026, 11, 25))

    assert text == "Claude Code: allowed → banned from 2026-12-01; use Qoder instead"


def test_material_change_writes_announcement_channel_post_and_steps(
    announcements: Announcements, store: Store, runtime: Runtime
) -> None:
    ban_claude(runtime)

    [announcement] = rows(store, Announcement)
    assert announcement.summary == "Claude Code: allowed → banned; use Qoder instead"
    assert announcement.reason == "Sends environment metadata."
    [post] = rows(store, Delivery)
    assert (post.recipient, post.kind, post.status) == (CHANNEL, "announcement", "pending")
    steps = {s.kind: s.due_at - announcement.created_at for s in rows(store, ScheduledStep)}
    assert steps == {
        "audience": dt.timedelta(0),
        "reminder-1": dt.timedelta(days=2),
        "reminder-2": dt.timedelta(days=7),
    }


def test_reason_only_change_is_not_announced(
    announcements: Announcements, store: Store, runtime: Runtime
) -> None:
    apply(runtime, SetPolicy("Claude Code", Status.ALLOWED, reason="Typo fixed."), ADMIN)

    assert rows(store, Announcement) == []


def test_quiet_change_is_not_announced(
    announcements: Announcements, store: Store, runtime: Runtime
) -> None:
    apply(runtime, SetPolicy("Claude Code", Status.BANNED, quiet=True), ADMIN)

    assert rows(store, Announcement) == []


def test_data_limit_change_is_material(
    announcements: Announcements, store: Store, runtime: Runtime
) -> None:
    apply(runtime, SetPolicy("Claude Code", Status.ALLOWED, max_data=DataClass.INTERNAL), ADMIN)

    [announcement] = rows(store, Announcement)
    assert announcement.summary == "Claude Code: allowed; data up to internal"


def test_failing_announcement_rolls_back_the_change_and_its_announcement(
    announcements: Announcements, store: Store, runtime: Runtime
) -> None:
    # A real failure in the announcement's writes: its outbox table is gone for a moment.
    with store.engine.begin() as connection:
        connection.execute(sa.text("ALTER TABLE scheduled_step RENAME TO scheduled_step_gone"))
    try:
        with pytest.raises(sa.exc.DatabaseError):
            ban_claude(runtime)
    finally:
        with store.engine.begin() as connection:
            connection.execute(sa.text("ALTER TABLE scheduled_step_gone RENAME TO scheduled_step"))

    assert runtime.policies.resolve("Claude Code").status == Status.ALLOWED
    assert rows(store, Announcement) == []
    assert rows(store, Delivery) == []


def test_effective_date_ahead_is_announced_again_7d_1d_and_on_the_day(
    store: Store, clock: FakeClock
) -> None:
    runtime = runtime_on(store, announce_channel=CHANNEL, timezone="Etc/GMT-1")
    seed(runtime, [make_policy("Qoder"), make_policy("Claude Code")])

    ban_claude(runtime, effective=dt.date(2026, 12, 10))

    due = {d.kind: d.due_at.astimezone(BERLIN) for d in rows(store, Delivery)}
    nine = dt.time(9, tzinfo=BERLIN)
    assert due == {
        "announcement": clock.now,
        "effective-7d": dt.datetime.combine(dt.date(2026, 12, 3), nine),
        "effective-1d": dt.datetime.combine(dt.date(2026, 12, 9), nine),
        "effective-0d": dt.datetime.combine(dt.date(2026, 12, 10), nine),
    }


def test_cancelling_a_scheduled_change_is_announced_and_its_countdown_stops(
    store: Store, runtime: Runtime
) -> None:
    ban_claude(runtime, effective=dt.date(2026, 12, 10))

    apply(runtime, CancelScheduled("Claude Code"), ADMIN)

    first, second = rows(store, Announcement)
    assert first.superseded_at is not None and second.superseded_at is None
    assert second.summary.endswith(
        "Claude Code: the change to banned planned from 2026-12-10 is cancelled; it stays allowed"
    )
    pending = [(d.announcement_id, d.kind) for d in rows(store, Delivery) if d.status == "pending"]
    assert pending == [(second.id, "announcement")]  # no "banned tomorrow" countdown is left


def test_effective_reminders_already_past_are_not_written(
    announcements: Announcements, store: Store, runtime: Runtime
) -> None:
    ban_claude(runtime, effective=dt.date(2026, 11, 27))  # two days after the clock's today

    kinds = sorted(d.kind for d in rows(store, Delivery))
    assert kinds == ["announcement", "effective-0d", "effective-1d"]


def test_later_announcement_cancels_what_is_pending_for_the_earlier_one(
    announcements: Announcements, store: Store, runtime: Runtime
) -> None:
    ban_claude(runtime, effective=dt.date(2026, 12, 10))
    apply(runtime, SetPolicy("Claude Code", Status.CONDITIONAL), ADMIN)

    first, second = rows(store, Announcement)
    assert first.superseded_at is not None and second.superseded_at is None
    statuses = {(d.announcement_id, d.kind): d.status for d in rows(store, Delivery)}
    assert statuses[(first.id, "effective-7d")] == "cancelled"
    assert statuses[(second.id, "announcement")] == "pending"
    assert all(
        s.done_at is not None for s in rows(store, ScheduledStep) if s.announcement_id == first.id
    )


def test_reminder_cadence_is_capped_at_the_maximum() -> None:
    config = AnnouncementConfig(
        channel=CHANNEL,
        reminder_after=(dt.timedelta(days=7), dt.timedelta(days=2), dt.timedelta(days=14)),
        max_reminders=2,
    )

    assert config.reminder_offsets() == [dt.timedelta(days=2), dt.timedelta(days=7)]


def test_acknowledging_twice_keeps_the_first_time(
    announcements: Announcements, store: Store, clock: FakeClock, runtime: Runtime
) -> None:
    ban_claude(runtime)
    [announcement] = rows(store, Announcement)
    first = announcements.acknowledge(announcement.id, "U0ALICE")
    clock.advance(hours=1)

    again = announcements.acknowledge(announcement.id, "U0ALICE")

    assert first.first_time and not again.first_time
    assert again.at == first.at
    assert len(rows(store, Acknowledgement)) == 1


def test_acknowledging_skips_a_pending_reminder(
    announcements: Announcements, store: Store, clock: FakeClock, runtime: Runtime
) -> None:
    ban_claude(runtime)
    outbox = Outbox(store, "test")
    clock.advance(days=2)
    [_, reminder] = [s for s in outbox.due_steps(clock.now)]
    outbox.expand_step(reminder, ["U0ALICE", "U0BOB"], clock.now)

    announcements.acknowledge(reminder.announcement_id, "U0ALICE")

    status = {d.recipient: d.status for d in rows(store, Delivery) if d.kind == "reminder-1"}
    assert status == {"U0ALICE": "skipped", "U0BOB": "pending"}


def test_acks_command_counts_and_names_who_has_not(
    announcements: Announcements, store: Store, clock: FakeClock, runtime: Runtime
) -> None:
    ban_claude(runtime)
    outbox = Outbox(store, "test")
    [audience, *_] = outbox.due_steps(clock.now)
    outbox.expand_step(audience, ["U0ALICE", "U0BOB", "U0CAROL"], clock.now)
    announcements.acknowledge(audience.announcement_id, "U0BOB")
    admin = runtime.service.admin

    text = admin.run(ShowAcks("claude code"), ADMIN).text

    assert "1 of 3 acknowledged (33%)" in text
    assert "Not yet: U0ALICE, U0CAROL." in text


def test_acks_before_the_audience_is_read_says_so(
    announcements: Announcements, store: Store, runtime: Runtime
) -> None:
    ban_claude(runtime)
    admin = runtime.service.admin

    text = admin.run(ShowAcks("Claude Code"), ADMIN).text

    assert "0 acknowledged so far" in text


def test_acks_of_a_tool_never_announced_is_a_sentence(
    announcements: Announcements, store: Store, runtime: Runtime
) -> None:
    admin = runtime.service.admin

    with pytest.raises(PolicyError, match="has not been announced yet"):
        admin.run(ShowAcks("Qoder"), ADMIN)


def test_announce_command_sends_the_current_policy_again(
    announcements: Announcements, store: Store, runtime: Runtime
) -> None:
    ban_claude(runtime)
    admin = runtime.service.admin

    text = admin.run(Announce("claude code"), ADMIN).text

    first, again = rows(store, Announcement)
    assert again.kind == "manual" and first.superseded_at is not None
    assert again.summary == "Claude Code: banned; use Qoder instead"
    assert "Claude Code: banned; use Qoder instead" in text
    posts = [d for d in rows(store, Delivery) if d.announcement_id == again.id]
    assert [(d.recipient, d.kind) for d in posts] == [(CHANNEL, "announcement")]


def test_announce_without_a_channel_explains_the_setting(store: Store) -> None:
    runtime = runtime_on(store)
    seed(runtime, [make_policy("Cursor")])
    admin = runtime.service.admin

    with pytest.raises(PolicyError, match="POLICYBOT_ANNOUNCE_CHANNEL"):
        admin.run(Announce("Cursor"), ADMIN)


def test_digest_has_changes_ack_rates_and_unanswered_questions(
    announcements: Announcements, store: Store, clock: FakeClock, runtime: Runtime
) -> None:
    ban_claude(runtime)
    [announcement] = rows(store, Announcement)
    announcements.acknowledge(announcement.id, "U0ALICE")
    for _ in range(3):
        runtime.questions.log_question("can I use Zed AI?", matched=[], asker=None, channel="slack")
    runtime.questions.log_question("can I use Grok", matched=[], asker=None, channel="slack")
    clock.advance(days=1)

    view = announcements.create_digest(clock.now)

    assert view is not None and view.channel == ADMINS
    details = view.details
    # The two seed creations and the ban all happened this week.
    assert [c["tool"] for c in details["changes"]] == ["Qoder", "Claude Code", "Claude Code"]
    assert details["acks"] == [
        {
            "tool": "Claude Code",
            "announced": announcement.created_at.isoformat(),
            "acknowledged": 1,
            "audience": 1,
        }
    ]
    assert details["unanswered"][0] == ["can I use Zed AI?", 3]
    assert announcements.create_digest(clock.now) is None  # the same run never writes twice


def test_deleting_an_announcement_removes_its_outbox_rows_not_the_registry(
    announcements: Announcements, store: Store, runtime: Runtime
) -> None:
    ban_claude(runtime)
    with store.session() as session:
        session.execute(sa.delete(Announcement))

    assert rows(store, Delivery) == [] and rows(store, ScheduledStep) == []
    assert rows(store, Tool)  # the registry is untouched


def test_claims_take_at_most_the_batch_size_oldest_first(
    announcements: Announcements, store: Store, clock: FakeClock, runtime: Runtime
) -> None:
    ban_claude(runtime)
    outbox = Outbox(store, "test")
    clock.advance(days=2)
    [_, reminder] = outbox.due_steps(clock.now)
    outbox.expand_step(reminder, [f"U{n}" for n in range(10)], clock.now)

    first = outbox.claim_due(clock.now, 4)
    second = outbox.claim_due(clock.now, 100)

    assert first[0].kind == "announcement" and len(first) == 4
    assert len(second) == 7 and not {d.id for d in first} & {d.id for d in second}
    assert outbox.claim_due(clock.now, 100) == []
