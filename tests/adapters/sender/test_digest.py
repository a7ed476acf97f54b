"""The weekly digest: a run that fell while no replica was up is sent once on taking over."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlmodel import Session, col, select

from bot.adapters.db.models import Announcement
from bot.adapters.sender.runner import AnnouncementScheduler, last_cron_time
from bot.app.announcements import DIGEST_KIND
from tests.conftest import FakeClock
from tests.standin import StandinSlack

MONDAY_9 = "0 9 * * mon"


def digests(scheduler: AnnouncementScheduler) -> list[Announcement]:
    with Session(scheduler.runtime.store.engine) as session:
        return list(
            session.exec(
                select(Announcement)
                .where(Announcement.kind == DIGEST_KIND)
                .order_by(col(Announcement.id))
            ).all()
        )


def test_last_cron_time_is_the_latest_run_at_or_before_now() -> None:
    wednesday = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
    assert last_cron_time(MONDAY_9, dt.UTC, wednesday) == dt.datetime(
        2026, 11, 23, 9, 0, tzinfo=dt.UTC
    )
    monday_8 = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC)
    assert last_cron_time(MONDAY_9, dt.UTC, monday_8) == dt.datetime(
        2026, 11, 16, 9, 0, tzinfo=dt.UTC
    )


def test_missed_digest_is_sent_once_when_a_scheduler_takes_over(
    make_scheduler: Callable[..., AnnouncementScheduler],
    slack: StandinSlack,
    clock: FakeClock,
) -> None:
    clock.now = dt.datetime(2026, 11, 16, 9, 0, tzinfo=dt.UTC)  # a Monday run that happened
    first = make_scheduler(slack, digest_cron=MONDAY_9)
    assert first.runtime.announcements is not None
    first.runtime.announcements.create_digest(clock.now)
    clock.now = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)  # down over Monday the 23rd

    first.tick()
    second = make_scheduler(slack, digest_cron=MONDAY_9)
    first.lock.release()
    second.tick()

    sent = digests(first)
    assert len(sent) == 2
    assert sent[-1].dedupe_key == "digest:2026-11-23T09:00+00:00"


def test_no_digest_is_sent_on_the_very_first_start(
    make_scheduler: Callable[..., AnnouncementScheduler],
    slack: StandinSlack,
    clock: FakeClock,
) -> None:
    scheduler = make_scheduler(slack, digest_cron=MONDAY_9)
    scheduler.tick()
    assert digests(scheduler) == []
