"""Slack event ids already handled, so that a re-sent event is answered once."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlmodel import col

from bot.core.models import ProcessedEvent
from bot.core.store import Store


class EventRepository:
    """Owns the processed_event table."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def first_time_event(self, event_id: str) -> bool:
        """Record a Slack event id; False when it was already handled (a re-send)."""
        try:
            with self.store.session() as session:
                session.add(ProcessedEvent(event_id=event_id, seen_at=self.store.clock()))
            return True
        except sa.exc.IntegrityError:
            return False

    def purge_events(self, older_than: dt.datetime) -> int:
        with self.store.session() as session:
            result = session.exec(
                sa.delete(ProcessedEvent).where(col(ProcessedEvent.seen_at) < older_than)
            )
            return int(result.rowcount or 0)
