"""What the sender needs from a front end: messages to post, rendered from announcements.

The sender posts and reconciles; it does not know Block Kit. `bot.compose` hands it the Slack
adapter's renderer (`bot.adapters.slack.announcements.OutboxRenderer`).
"""

from __future__ import annotations

from typing import Any, Protocol

from bot.adapters.db.announcement_views import AnnouncementView


class OutboxMessage(Protocol):
    """A message ready for chat.postMessage: its text and blocks as keyword arguments."""

    def as_kwargs(self) -> dict[str, Any]: ...


class Renderer(Protocol):
    """Renders what the outbox delivers: one announcement, or several gathered in one DM."""

    def delivery(self, view: AnnouncementView, kind: str) -> OutboxMessage: ...

    def gathered(self, items: list[tuple[AnnouncementView, str]]) -> OutboxMessage: ...
