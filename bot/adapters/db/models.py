"""SQLModel tables: the registry (Tool, Alias), its history (Revision) and what people ask.

Statuses and data classes are stored as plain strings (validated by `policy.Status` and
`policy.DataClass` in the store) so that adding one never needs a database enum migration.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC datetime on every database (SQLite drops the zone otherwise)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: policybot stores timezone-aware times only")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _time_column(*, nullable: bool = False, index: bool = False) -> Any:
    return sa.Column(UTCDateTime(), nullable=nullable, index=index)


class Tool(SQLModel, table=True):
    """One AI tool and its current policy."""

    __tablename__ = "tool"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    # Names are unique ignoring case; the key is the casefolded name.
    name_key: str = Field(max_length=200, unique=True)
    vendor: str | None = Field(default=None, max_length=200)
    category: str | None = Field(default=None, max_length=100)
    status: str = Field(max_length=20)
    reason: str | None = Field(default=None, sa_type=sa.Text)
    conditions: str | None = Field(default=None, sa_type=sa.Text)
    max_data: str | None = Field(default=None, max_length=20)
    alternatives: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    effective: dt.date | None = None
    owner: str | None = Field(default=None, max_length=200)
    link: str | None = Field(default=None, max_length=500)
    # The policy for audiences ([{audience, field: value…}], first match wins) and the texts
    # in other languages ({language: {reason, conditions}}); NULL (rows older than 0008) is
    # none: the row is the default for everyone.
    rules: list[dict[str, Any]] | None = Field(default=None, sa_type=sa.JSON)
    translations: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    # Optimistic locking: every write bumps it, and a write that read an older one fails.
    version: int = Field(default=1)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_column=_time_column())
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_column=_time_column())


class Alias(SQLModel, table=True):
    """Another name for a tool; unique across all names and aliases, ignoring case."""

    __tablename__ = "alias"

    id: int | None = Field(default=None, primary_key=True)
    tool_id: int = Field(foreign_key="tool.id", index=True, ondelete="CASCADE")
    alias: str = Field(max_length=200)
    alias_key: str = Field(max_length=200, unique=True)


class Revision(SQLModel, table=True):
    """One change to one tool: who, when, how, and each field's old and new value."""

    __tablename__ = "revision"

    id: int | None = Field(default=None, primary_key=True)
    # By name key, not foreign key, so that history outlives a removed tool.
    tool_key: str = Field(max_length=200, index=True)
    tool_name: str = Field(max_length=200)
    action: str = Field(max_length=20)  # create | update | delete
    author: str = Field(max_length=200)
    source: str = Field(max_length=50)  # command | import | slack | modal | ...
    changes: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    at: dt.datetime = Field(default_factory=utcnow, sa_column=_time_column(index=True))
    # The policy version this change belongs to (every change belongs to one).
    version_id: int | None = Field(default=None, foreign_key="policy_version.id", index=True)


class PolicyVersion(SQLModel, table=True):
    """A version of the AI policy: the changes of one command, one import or one published
    draft, with who, when and a summary. Its number is its id (v1, v2, ...)."""

    __tablename__ = "policy_version"

    id: int | None = Field(default=None, primary_key=True)
    author: str = Field(max_length=200)
    source: str = Field(max_length=50)
    summary: str = Field(sa_type=sa.Text)
    # The first load into an empty registry: recorded, never news.
    baseline: bool = Field(default=False)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_column=_time_column(index=True))


class ScheduledChange(SQLModel, table=True):
    """A change decided now that takes effect on a later day (one pending per tool).

    Until `effective` the tool's row keeps today's policy; on that day the change is applied
    (by whichever process reads the registry first) with a revision dated that day.
    """

    __tablename__ = "scheduled_change"

    id: int | None = Field(default=None, primary_key=True)
    tool_id: int = Field(foreign_key="tool.id", unique=True, ondelete="CASCADE")
    effective: dt.date = Field(index=True)
    # field -> new value (JSON-friendly), applied over the policy as it is on the day.
    changes: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    author: str = Field(max_length=200)
    source: str = Field(max_length=50)
    quiet: bool = Field(default=False)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_column=_time_column())


class StagedChange(SQLModel, table=True):
    """A change staged in the draft of the next policy version (`draft set …`): the typed
    command as JSON, replayed through the write path by `publish`, and what it did when
    staged (tool, field old → new) for `draft` to show."""

    __tablename__ = "staged_change"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20)  # set | alias | add | remove | form
    command: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    tool_name: str = Field(max_length=200)
    preview: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    author: str = Field(max_length=200)
    source: str = Field(max_length=50)
    staged_at: dt.datetime = Field(default_factory=utcnow, sa_column=_time_column())


class AudienceRow(SQLModel, table=True):
    """An audience of policies/audiences.yaml: who it is (a Slack user group's handle and/or
    listed user IDs) and its title, in the file's order (`position`)."""

    __tablename__ = "audience"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=63, unique=True)
    title: str = Field(max_length=200)
    slack_usergroup: str | None = Field(default=None, max_length=200)
    members: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    # {language: title}
    titles: dict[str, str] = Field(default_factory=dict, sa_type=sa.JSON)
    position: int = Field(default=0)


class RegistryState(SQLModel, table=True):
    """A single row whose generation grows with every registry write, so caches can refresh."""

    __tablename__ = "registry_state"

    id: int = Field(default=1, primary_key=True)
    generation: int = Field(default=0)


class QuestionLog(SQLModel, table=True):
    """A question someone asked; `asker` stays empty unless POLICYBOT_LOG_ASKERS is on."""

    __tablename__ = "question_log"

    id: int | None = Field(default=None, primary_key=True)
    asked_at: dt.datetime = Field(default_factory=utcnow, sa_column=_time_column(index=True))
    question: str = Field(sa_type=sa.Text)
    asker: str | None = Field(default=None, max_length=100)
    channel: str = Field(default="cli", max_length=20)
    matched: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    answered: bool = Field(default=True, index=True)


class ProcessedEvent(SQLModel, table=True):
    """Slack events already handled, so a re-sent event is answered once."""

    __tablename__ = "processed_event"

    event_id: str = Field(primary_key=True, max_length=100)
    seen_at: dt.datetime = Field(default_factory=utcnow, sa_column=_time_column(index=True))


# -- announcements, acknowledgements and the delivery outbox (issue 9) -----------------------


class Announcement(SQLModel, table=True):
    """Something staff (or admins, for a digest) are told: a policy change, a re-send, a digest.

    The text is fixed when it is created, so a reminder a week later says what was announced.
    """

    __tablename__ = "announcement"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20)  # change | manual | digest
    tool_key: str | None = Field(default=None, max_length=200, index=True)
    tool_name: str | None = Field(default=None, max_length=200)
    summary: str = Field(sa_type=sa.Text)
    reason: str | None = Field(default=None, sa_type=sa.Text)
    # What changed and the policy as announced (JSON-friendly), for the message and the digest.
    details: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    effective: dt.date | None = None
    author: str = Field(max_length=200)
    channel: str = Field(max_length=50)
    message_ts: str | None = Field(default=None, max_length=30)
    # Makes a job that may run twice (the weekly digest) create its announcement once.
    dedupe_key: str | None = Field(default=None, max_length=100, unique=True)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_column=_time_column(index=True))
    # Set when a later announcement of the same tool replaces this one; its reminders stop.
    superseded_at: dt.datetime | None = Field(default=None, sa_column=_time_column(nullable=True))
    # The policy version this announcement tells of (None: a digest or a notice).
    version_id: int | None = Field(default=None, foreign_key="policy_version.id", index=True)


class Acknowledgement(SQLModel, table=True):
    """Someone pressed Acknowledge on an announcement (once per person and announcement)."""

    __tablename__ = "acknowledgement"
    __table_args__ = (sa.UniqueConstraint("announcement_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    announcement_id: int = Field(foreign_key="announcement.id", index=True, ondelete="CASCADE")
    user_id: str = Field(max_length=50)
    at: dt.datetime = Field(default_factory=utcnow, sa_column=_time_column())


class AudienceMember(SQLModel, table=True):
    """A member of the announce channel when an announcement's audience was last read."""

    __tablename__ = "audience_member"
    # What one person still owes, across announcements.
    __table_args__ = (sa.Index("ix_audience_member_user_id", "user_id"),)

    announcement_id: int = Field(
        foreign_key="announcement.id", primary_key=True, ondelete="CASCADE"
    )
    user_id: str = Field(max_length=50, primary_key=True)


class ScheduledStep(SQLModel, table=True):
    """'Read the audience of announcement X at T (and DM those who have not acknowledged)'.

    Members are only known by asking Slack when the step is due, so a step expands into
    per-person Delivery rows then, in one transaction with marking it done.
    """

    __tablename__ = "scheduled_step"
    __table_args__ = (sa.UniqueConstraint("announcement_id", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    announcement_id: int = Field(foreign_key="announcement.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=30)  # audience | reminder-1 | reminder-2 ...
    due_at: dt.datetime = Field(sa_column=_time_column(index=True))
    done_at: dt.datetime | None = Field(default=None, sa_column=_time_column(nullable=True))
    recipients: int | None = None


class Delivery(SQLModel, table=True):
    """One message to one recipient (a channel id or a user id): the outbox row.

    pending -> claimed (claimed_at/by set before sending) -> sent | failed; or skipped
    (the person acknowledged first) or cancelled (a later announcement replaced this one).
    """

    __tablename__ = "delivery"
    __table_args__ = (
        sa.UniqueConstraint("announcement_id", "recipient", "kind"),
        sa.Index("ix_delivery_status_due_at", "status", "due_at"),
        # A person's (or channel's) other due rows, folded into one message.
        sa.Index("ix_delivery_recipient_status", "recipient", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    announcement_id: int = Field(foreign_key="announcement.id", index=True, ondelete="CASCADE")
    recipient: str = Field(max_length=50)
    kind: str = Field(max_length=30)  # announcement | effective-7d | reminder-1 | digest ...
    due_at: dt.datetime = Field(sa_column=_time_column())
    status: str = Field(default="pending", max_length=10)
    claimed_at: dt.datetime | None = Field(default=None, sa_column=_time_column(nullable=True))
    claimed_by: str | None = Field(default=None, max_length=100)
    sent_at: dt.datetime | None = Field(default=None, sa_column=_time_column(nullable=True))
    attempts: int = Field(default=0)
    last_error: str | None = Field(default=None, max_length=200)
    # Where Slack put the message (the DM channel for a user), for chat.update and reconcile.
    channel: str | None = Field(default=None, max_length=50)
    message_ts: str | None = Field(default=None, max_length=30)


class SchedulerLease(SQLModel, table=True):
    """Who runs the scheduler: one holder at a time, renewed before `expires_at`."""

    __tablename__ = "scheduler_lease"

    name: str = Field(primary_key=True, max_length=50)
    holder: str = Field(max_length=200)
    expires_at: dt.datetime = Field(sa_column=_time_column())


# -- conversations (issue 15) -----------------------------------------------------------------


class ConversationContext(SQLModel, table=True):
    """The tools of the last answer in one conversation, so "why?" after it is about them.

    A conversation is a console session, a DM or a Slack thread (see bot.adapters.db.conversations);
    the row is kept in the database so that every replica, and a restarted one, sees it.
    """

    __tablename__ = "conversation_context"

    conversation: str = Field(primary_key=True, max_length=200)
    tools: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_column=_time_column(index=True))


class AnsweredMessage(SQLModel, table=True):
    """Which bot message answered which person's message, so an edited question updates it."""

    __tablename__ = "answered_message"

    channel: str = Field(primary_key=True, max_length=50)
    message_ts: str = Field(primary_key=True, max_length=30)
    reply_ts: str = Field(max_length=30)
    thread_ts: str | None = Field(default=None, max_length=30)
    at: dt.datetime = Field(default_factory=utcnow, sa_column=_time_column(index=True))


# -- when the answer is no: requests, exceptions, feedback, watches, audit (issue 16) ----------


class ToolRequest(SQLModel, table=True):
    """A request to review a tool with no policy; one per tool, every asker counted.

    open -> added (the tool was created under review; askers hear again when it is decided)
    -> resolved; or open -> declined; or open -> resolved when a policy covers the name.
    """

    __tablename__ = "tool_request"

    id: int | None = Field(default=None, primary_key=True)
    # The tool as first typed, and its name key; open requests are merged on the key.
    tool_key: str = Field(max_length=200, index=True)
    tool_name: str = Field(max_length=200)
    status: str = Field(default="open", max_length=20, index=True)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_column=_time_column())
    # The registry tool that now covers the request (after Add for review or an alias).
    covered_by: str | None = Field(default=None, max_length=200, index=True)
    decided_at: dt.datetime | None = Field(default=None, sa_column=_time_column(nullable=True))
    decided_by: str | None = Field(default=None, max_length=200)
    decision_reason: str | None = Field(default=None, sa_type=sa.Text)
    # The announcement row whose delivery posted the request to the admin channel.
    admin_notice_id: int | None = None


class ToolRequestAsker(SQLModel, table=True):
    """One person asking for one request, with their reason."""

    __tablename__ = "tool_request_asker"
    __table_args__ = (sa.UniqueConstraint("request_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="tool_request.id", index=True, ondelete="CASCADE")
    user_id: str = Field(max_length=100, index=True)
    tool_as_typed: str = Field(max_length=200)
    why: str | None = Field(default=None, sa_type=sa.Text)
    asked_at: dt.datetime = Field(default_factory=utcnow, sa_column=_time_column(index=True))


class PolicyException(SQLModel, table=True):
    """One person's exception to a banned or conditional tool's policy.

    pending -> active -> expired | revoked | ended (the policy changed); or pending ->
    declined | ended. Answers to `user_id` mention it only while active and before `ends_at`.
    """

    __tablename__ = "policy_exception"
    __table_args__ = (sa.Index("ix_policy_exception_status_ends_at", "status", "ends_at"),)

    id: int | None = Field(default=None, primary_key=True)
    tool_key: str = Field(max_length=200, index=True)
    tool_name: str = Field(max_length=200)
    user_id: str = Field(max_length=100, index=True)
    justification: str = Field(sa_type=sa.Text)
    purpose: str = Field(max_length=500)
    data_class: str = Field(max_length=20)
    days: int
    status: str = Field(default="pending", max_length=20)
    # The tool's status and digest when asked, so a policy change is recognised later.
    policy_status: str = Field(max_length=20)
    requested_at: dt.datetime = Field(default_factory=utcnow, sa_column=_time_column(index=True))
    decided_at: dt.datetime | None = Field(default=None, sa_column=_time_column(nullable=True))
    decided_by: str | None = Field(default=None, max_length=200)
    decision_note: str | None = Field(default=None, sa_type=sa.Text)
    starts_at: dt.datetime | None = Field(default=None, sa_column=_time_column(nullable=True))
    ends_at: dt.datetime | None = Field(default=None, sa_column=_time_column(nullable=True))
    remind_at: dt.datetime | None = Field(default=None, sa_column=_time_column(nullable=True))
    reminded_at: dt.datetime | None = Field(default=None, sa_column=_time_column(nullable=True))
    ended_at: dt.datetime | None = Field(default=None, sa_column=_time_column(nullable=True))
    ended_by: str | None = Field(default=None, max_length=200)
    end_reason: str | None = Field(default=None, sa_type=sa.Text)
    admin_notice_id: int | None = None


class AnswerFeedback(SQLModel, table=True):
    """Helpful / not helpful on one answer; 'not helpful' waits in the admin queue."""

    __tablename__ = "answer_feedback"
    __table_args__ = (sa.UniqueConstraint("user_id", "question_key"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: str = Field(max_length=100)
    question_key: str = Field(max_length=64)  # sha256 of the question, for one vote per person
    question: str = Field(sa_type=sa.Text)
    answer: str = Field(sa_type=sa.Text)
    tools: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    helpful: bool
    at: dt.datetime = Field(default_factory=utcnow, sa_column=_time_column(index=True))
    handled_at: dt.datetime | None = Field(default=None, sa_column=_time_column(nullable=True))
    handled_by: str | None = Field(default=None, max_length=200)


class ToolWatch(SQLModel, table=True):
    """Someone asked to be told when a tool's policy changes."""

    __tablename__ = "tool_watch"
    __table_args__ = (sa.UniqueConstraint("user_id", "tool_key"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: str = Field(max_length=100, index=True)
    tool_key: str = Field(max_length=200, index=True)
    tool_name: str = Field(max_length=200)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_column=_time_column())


class HandledTerm(SQLModel, table=True):
    """A term of the unanswered queue an admin dealt with (alias, add or answer)."""

    __tablename__ = "handled_term"

    term_key: str = Field(primary_key=True, max_length=200)
    term: str = Field(max_length=200)
    action: str = Field(max_length=20)  # alias | add | answer
    note: str | None = Field(default=None, sa_type=sa.Text)
    handled_by: str = Field(max_length=200)
    handled_at: dt.datetime = Field(default_factory=utcnow, sa_column=_time_column())


class AuditEvent(SQLModel, table=True):
    """Who did what and when, for requests, exceptions and the queue (the auditors' trail)."""

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: dt.datetime = Field(default_factory=utcnow, sa_column=_time_column(index=True))
    actor: str = Field(max_length=200)
    action: str = Field(max_length=40)  # request.filed, exception.approved, ...
    subject: str = Field(max_length=40, index=True)  # R12, E7, term:kiro, feedback:3
    tool_key: str | None = Field(default=None, max_length=200, index=True)
    tool_name: str | None = Field(default=None, max_length=200)
    details: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
