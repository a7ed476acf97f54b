"""Announcements as read back from the database: the view the renderers and the sender need."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from bot.adapters.db.models import Announcement

# Kinds staff acknowledge (notices to one person or the admin channel are not among them).
ANNOUNCED_KINDS = ("change", "manual")


@dataclass(frozen=True)
class AnnouncementView:
    """An announcement as the renderers need it (no session attached)."""

    id: int
    kind: str
    tool_name: str | None
    summary: str
    reason: str | None
    details: dict[str, Any]
    effective: dt.date | None
    author: str
    channel: str
    message_ts: str | None
    created_at: dt.datetime
    version_id: int | None = None


def view_of(row: Announcement) -> AnnouncementView:
    assert row.id is not None
    return AnnouncementView(
        id=row.id,
        kind=row.kind,
        tool_name=row.tool_name,
        summary=row.summary,
        reason=row.reason,
        details=dict(row.details or {}),
        effective=row.effective,
        author=row.author,
        channel=row.channel,
        message_ts=row.message_ts,
        created_at=row.created_at,
        version_id=row.version_id,
    )
