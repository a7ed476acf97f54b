"""Conversations: the previous answer's tools per conversation, and which reply answered what.

A follow-up ("why?", "那用什么?") names no tool; it is about the tools of the previous answer
in the same conversation. The context lives in the database, so that it survives a restart
and every replica sees it, and it expires after a while (POLICYBOT_CONTEXT_MINUTES).

Conversation keys say where the talk happens: `conversation_key("console", user)`,
`conversation_key("dm", channel)`, `conversation_key("thread", channel, thread_ts)`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

import sqlalchemy as sa
from sqlmodel import Session, col

from bot.adapters.db.models import AnsweredMessage, ConversationContext, utcnow

__all__ = ["Conversations", "conversation_key"]

_MAX_KEY = 200
_MAX_TOOLS = 50  # a list answer's tools are context too; beyond this a follow-up is too broad


def conversation_key(kind: str, *parts: str) -> str:
    """A conversation's key: "console:U1", "dm:D123", "thread:C1:1700000000.000100"."""
    return ":".join((kind, *parts))[:_MAX_KEY]


class Conversations:
    """The repository of conversation context and answered messages (its two tables only)."""

    def __init__(
        self,
        engine: sa.Engine,
        *,
        ttl: dt.timedelta = dt.timedelta(minutes=30),
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.engine = engine
        self.ttl = ttl
        self.clock = clock

    # -- the previous answer's tools --------------------------------------------------------

    def previous_tools(self, conversation: str) -> list[str]:
        """The tools of the last answer in `conversation`; empty when none or expired."""
        with Session(self.engine) as session:
            row = session.get(ConversationContext, conversation)
            if row is None or self.clock() - row.updated_at > self.ttl:
                return []
            return list(row.tools)

    def remember(self, conversation: str, tools: Sequence[str]) -> None:
        """Keep `tools` as what `conversation` is about now (replacing what it was about)."""
        now = self.clock()
        kept = list(tools[:_MAX_TOOLS])
        with Session(self.engine) as session, session.begin():
            row = session.get(ConversationContext, conversation, with_for_update=True)
            if row is None:
                session.add(
                    ConversationContext(conversation=conversation, tools=kept, updated_at=now)
                )
            else:
                row.tools = kept
                row.updated_at = now
        self._purge_now_and_then(now)

    # -- which reply answered which message ------------------------------------------------

    def remember_reply(
        self, channel: str, message_ts: str, reply_ts: str, thread_ts: str | None = None
    ) -> None:
        with Session(self.engine) as session, session.begin():
            session.merge(
                AnsweredMessage(
                    channel=channel,
                    message_ts=message_ts,
                    reply_ts=reply_ts,
                    thread_ts=thread_ts,
                    at=self.clock(),
                )
            )

    def reply_to(self, channel: str, message_ts: str) -> AnsweredMessage | None:
        """The bot's reply to the message `message_ts` in `channel`, if it answered it."""
        with Session(self.engine, expire_on_commit=False) as session:
            return session.get(AnsweredMessage, (channel, message_ts))

    # -- expiry ----------------------------------------------------------------------------

    def purge(self, older_than: dt.datetime) -> int:
        """Forget contexts and answered messages last touched before `older_than`."""
        with Session(self.engine) as session, session.begin():
            contexts = session.exec(
                sa.delete(ConversationContext).where(
                    col(ConversationContext.updated_at) < older_than
                )
            )
            answered = session.exec(
                sa.delete(AnsweredMessage).where(col(AnsweredMessage.at) < older_than)
            )
            return int(contexts.rowcount or 0) + int(answered.rowcount or 0)

    _purged_at: dt.datetime | None = None

    def _purge_now_and_then(self, now: dt.datetime) -> None:
        # Expired rows are never read (their age is checked); this only keeps the tables small.
        if self._purged_at is None or now - self._purged_at > self.ttl:
            self._purged_at = now
            self.purge(now - max(self.ttl, dt.timedelta(days=1)))
