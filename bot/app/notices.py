"""Messages to people and to the admin channel, written to the delivery outbox.

A notice is an `Announcement` of kind `notice` with one `Delivery` per recipient, added in the
transaction of the use case that causes it, so the message goes out exactly once if (and only
if) that use case commits. The scheduler sends it like any other outbox row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from bot.adapters.db.models import Announcement, Delivery

NOTICE_KIND = "notice"
# The Announcement channel of a notice sent to people one by one.
DIRECT = "direct"


@dataclass(frozen=True)
class Button:
    """A button on a notice: the action it triggers and the value it carries (an id)."""

    action: str
    label: str
    value: str
    style: str | None = None


@dataclass(frozen=True)
class Notice:
    """What a notice says: a title, lines of plain text, and buttons (admin-channel posts)."""

    title: str
    lines: tuple[str, ...] = ()
    buttons: tuple[Button, ...] = ()
    topic: str = ""  # request | exception | watch | queue, for rendering and tests
    extra: dict[str, Any] = field(default_factory=dict)

    def details(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "lines": list(self.lines),
            "buttons": [
                {"action": b.action, "label": b.label, "value": b.value, "style": b.style}
                for b in self.buttons
            ],
            "topic": self.topic,
            **self.extra,
        }

    @classmethod
    def from_details(cls, details: dict[str, Any]) -> Notice:
        buttons = tuple(
            Button(b["action"], b["label"], b["value"], b.get("style"))
            for b in details.get("buttons") or ()
        )
        extra = {
            k: v for k, v in details.items() if k not in ("title", "lines", "buttons", "topic")
        }
        return cls(
            title=str(details.get("title") or ""),
            lines=tuple(str(line) for line in details.get("lines") or ()),
            buttons=buttons,
            topic=str(details.get("topic") or ""),
            extra=extra,
        )


def queue_notice(
    session: Session,
    notice: Notice,
    recipients: Iterable[str],
    *,
    author: str,
    now: dt.datetime,
    channel: str = DIRECT,
) -> int | None:
    """Add `notice` for every recipient (user ids or a channel id); its announcement id.

    None when there is nobody to tell.
    """
    targets = sorted({r for r in recipients if r})
    if not targets:
        return None
    row = Announcement(
        kind=NOTICE_KIND,
        summary=notice.title,
        details=notice.details(),
        author=author,
        channel=channel[:50],
        created_at=now,
    )
    session.add(row)
    session.flush()
    assert row.id is not None
    for recipient in targets:
        session.add(
            Delivery(announcement_id=row.id, recipient=recipient, kind=NOTICE_KIND, due_at=now)
        )
    return row.id


class Waker:
    """The sender's doorbell, built once by the composition root and handed to everything that
    queues messages (announcements, notices) and to the scheduler. Whoever queues rings it
    after the commit; the scheduler of a process that sends listens while it runs, so what was
    queued goes out now rather than at its next poll. With nobody listening (the CLI, a
    process without a scheduler) a ring does nothing: the rows wait in the outbox."""

    def __init__(self) -> None:
        self._listener: Callable[[], None] | None = None

    def listen(self, listener: Callable[[], None] | None) -> None:
        """`listener` is called on every ring from now on; None stops listening."""
        self._listener = listener

    def ring(self) -> None:
        listener = self._listener
        if listener is not None:
            listener()

    def after_commit(self, session: Session) -> None:
        """Ring once `session`'s transaction has committed (never if it rolls back)."""
        sa.event.listen(session, "after_commit", lambda _session: self.ring(), once=True)


def lines_of(items: Sequence[str]) -> tuple[str, ...]:
    return tuple(item for item in items if item)


def notice_of(engine: sa.Engine, announcement_id: int | None) -> Notice | None:
    """The notice an outbox announcement carries (an admin post, to re-render it)."""
    if announcement_id is None:
        return None
    with Session(engine) as session:
        row = session.get(Announcement, announcement_id)
        if row is None or row.kind != NOTICE_KIND:
            return None
        return Notice.from_details(dict(row.details or {}))


def posted_at(engine: sa.Engine, announcement_id: int | None) -> tuple[str, str] | None:
    """Where the channel post of a notice is (channel, ts), once it went out; None before.

    What a decision rewrites is found here, never in what a form or button sent back."""
    if announcement_id is None:
        return None
    with Session(engine) as session:
        sent = session.exec(
            select(Delivery).where(
                Delivery.announcement_id == announcement_id, Delivery.status == "sent"
            )
        ).first()
        if sent is None or not sent.channel or not sent.message_ts:
            return None
        return sent.channel, sent.message_ts
