"""Exceptions: one person may use a banned or conditional tool, for a purpose, for a while.

Staff ask (justification, project or purpose, the most sensitive data class they need, how
many days, at most POLICYBOT_EXCEPTION_MAX_DAYS). Admins, or the tool's owner when that is a
Slack user or user group, approve (and may shorten the period) or decline; nobody decides
their own. While an exception is active, answers to that person say so; nobody else's change.
It is reminded before it ends, expires by itself (answers check the end time; the scheduler
records the expiry), and an admin can revoke it.

A change to the tool's policy (status, conditions or data limit) or its removal ends every
active and pending exception for it, in the same transaction: an exception was granted
against the policy as it stood, so it is not silently carried over to a new one. The holders
are told and may ask again.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.adapters.db import audit
from bot.adapters.db.models import PolicyException
from bot.adapters.db.policy_repo import PolicyRepository
from bot.adapters.db.store import Store, lock_person
from bot.app.notices import Button, Notice, Waker, queue_notice
from bot.app.tool_requests import RequestError, check_quota, required_reason
from bot.app.unit_of_work import UnitOfWork
from bot.domain.events import ChangeEvent
from bot.domain.names import name_key
from bot.domain.policy import DataClass, Status, ToolPolicy

APPROVE_EXCEPTION_ACTION = "policybot_exception_approve"
DECLINE_EXCEPTION_ACTION = "policybot_exception_decline"
REVOKE_EXCEPTION_ACTION = "policybot_exception_revoke"
# A change to one of these ends the tool's exceptions (see the module docstring).
POLICY_FIELDS = ("status", "conditions", "max_data")
ACTIVE, PENDING = "active", "pending"
ENDED_STATES = ("expired", "revoked", "ended", "declined")
MAX_TEXT = 2000
MAX_PURPOSE = 500
# How long a process trusts its snapshot of active exceptions (cf. REGISTRY_CHECK_SECONDS).
SNAPSHOT_SECONDS = 1.0

_USER = re.compile(r"^<?@?([UW][A-Z0-9]{2,})(?:\|[^>]*)?>?$")
_GROUP = re.compile(r"^<?!?(?:subteam\^)?(S[A-Z0-9]{2,})(?:\|[^>]*)?>?$")

GroupMembers = Callable[[str], frozenset[str]]


class ExceptionError(RequestError):
    """An exception that cannot be asked for or decided; a sentence for people."""


@dataclass(frozen=True)
class ExceptionView:
    id: int
    tool_name: str
    user: str
    justification: str
    purpose: str
    data_class: str
    days: int
    status: str
    requested_at: dt.datetime
    decided_by: str | None = None
    decided_at: dt.datetime | None = None
    decision_note: str | None = None
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None
    reminded_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None
    ended_by: str | None = None
    end_reason: str | None = None
    tool_key: str = ""

    @property
    def label(self) -> str:
        return f"E{self.id}"

    def until(self, zone: dt.tzinfo) -> str:
        """The last day it covers, in `zone`."""
        if self.ends_at is None:
            return "?"
        return (self.ends_at - dt.timedelta(microseconds=1)).astimezone(zone).date().isoformat()


def owner_ids(owner: str | None) -> tuple[frozenset[str], frozenset[str]]:
    """The Slack user ids and user-group ids named in a tool's owner field."""
    users: set[str] = set()
    groups: set[str] = set()
    for part in re.split(r"[,\s]+", owner or ""):
        if match := _USER.match(part):
            users.add(match.group(1))
        elif match := _GROUP.match(part):
            groups.add(match.group(1))
    return frozenset(users), frozenset(groups)


def personal_note(view: ExceptionView, zone: dt.tzinfo) -> str:
    """'You have an exception until 2027-01-31 for the payments migration, data up to internal.'"""
    return (
        f"You have an exception until {view.until(zone)} for {view.purpose}, "
        f"data up to {view.data_class}."
    )


def _view(row: PolicyException) -> ExceptionView:
    assert row.id is not None
    return ExceptionView(
        id=row.id,
        tool_name=row.tool_name,
        user=row.user_id,
        justification=row.justification,
        purpose=row.purpose,
        data_class=row.data_class,
        days=row.days,
        status=row.status,
        requested_at=row.requested_at,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        decision_note=row.decision_note,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        reminded_at=row.reminded_at,
        ended_at=row.ended_at,
        ended_by=row.ended_by,
        end_reason=row.end_reason,
        tool_key=row.tool_key,
    )


class Exceptions:
    """Asks, decides, reminds, expires, revokes and lists exceptions."""

    def __init__(
        self,
        store: Store,
        policies: PolicyRepository,
        *,
        max_days: int = 90,
        reminder: dt.timedelta = dt.timedelta(days=3),
        per_day: int = 5,
        admin_channel: str | None = None,
        zone: dt.tzinfo = dt.UTC,
        waker: Waker | None = None,
        is_admin: Callable[[str], bool] = lambda _user: False,
        group_members: GroupMembers | None = None,
    ) -> None:
        self.store = store
        self.policies = policies
        self.max_days = max_days
        self.reminder = reminder
        self.per_day = per_day
        self.admin_channel = admin_channel
        self.zone = zone
        self.waker = waker
        self.is_admin = is_admin
        self.group_members = group_members  # a Slack user group's members, from the server
        self._lock = threading.Lock()
        self._active: list[ExceptionView] | None = None
        self._checked_at = 0.0

    # -- asking ----------------------------------------------------------------------------

    def ask(
        self,
        tool: str,
        *,
        user: str,
        justification: str,
        purpose: str,
        data_class: str,
        days: int,
    ) -> ExceptionView:
        policy = self.policies.resolve(tool)
        if policy.status not in (Status.BANNED, Status.CONDITIONAL):
            raise ExceptionError(
                f"{policy.name} is {policy.status.replace('-', ' ')}: exceptions are for banned "
                "or conditional tools."
            )
        justification = justification.strip()[:MAX_TEXT]
        purpose = " ".join(purpose.split())[:MAX_PURPOSE]
        if not justification:
            raise ExceptionError("Say why you need the exception (the justification).")
        if not purpose:
            raise ExceptionError("Name the project or purpose the exception is for.")
        try:
            data = DataClass.parse(data_class)
        except ValueError:
            choices = ", ".join(d.value for d in DataClass)
            raise ExceptionError(f"unknown data class '{data_class}': use {choices}") from None
        if not 1 <= days <= self.max_days:
            raise ExceptionError(
                f"An exception lasts 1 to {self.max_days} days (POLICYBOT_EXCEPTION_MAX_DAYS); "
                f"you asked for {days}."
            )
        now = self.store.clock()
        key = name_key(policy.name)
        with self.store.session() as session:
            lock_person(session, user)  # before counting: one request of theirs at a time
            open_one = session.exec(
                select(PolicyException).where(
                    PolicyException.user_id == user,
                    PolicyException.tool_key == key,
                    col(PolicyException.status).in_((PENDING, ACTIVE)),
                )
            ).first()
            if open_one is not None:
                state = "waiting for a decision" if open_one.status == PENDING else "active"
                raise ExceptionError(
                    f"You already have an exception for {policy.name} that is {state} "
                    f"(E{open_one.id})."
                )
            check_quota(session, user, now, self.per_day, self.zone)
            row = PolicyException(
                tool_key=key,
                tool_name=policy.name,
                user_id=user,
                justification=justification,
                purpose=purpose,
                data_class=data.value,
                days=days,
                policy_status=policy.status.value,
                requested_at=now,
            )
            session.add(row)
            session.flush()
            view = _view(row)
            _audit(
                session,
                row,
                actor=user,
                action="exception.requested",
                at=now,
                purpose=purpose,
                data_class=data.value,
                days=days,
            )
            if self.admin_channel:
                row.admin_notice_id = queue_notice(
                    session,
                    admin_notice(view, policy, self.zone),
                    [self.admin_channel],
                    author=user,
                    now=now,
                    channel=self.admin_channel,
                )
                self._wake(session)
        return view

    # -- deciding --------------------------------------------------------------------------

    def may_decide(self, user: str, policy: ToolPolicy | None) -> bool:
        """Admins, and the tool's owner when the owner is a Slack user or user group."""
        if self.is_admin(user):
            return True
        if policy is None:
            return False
        users, groups = owner_ids(policy.owner)
        if user in users:
            return True
        return any(user in self.group_members(g) for g in groups) if self.group_members else False

    def check_decider(self, exception_id: int, user: str) -> ExceptionView:
        """The pending exception, if `user` may decide it; ExceptionError saying why not."""
        view = self.get(exception_id)
        if view.status != PENDING:
            raise ExceptionError(f"{view.label} is already {view.status}.")
        if view.user == user:
            raise ExceptionError("Nobody decides their own exception: someone else has to.")
        if not self.may_decide(user, self.policies.get(view.tool_name)):
            raise ExceptionError(
                f"Only policy admins or the owner of {view.tool_name} can decide exceptions."
            )
        return view

    def approve(
        self, exception_id: int, *, user: str, until: dt.date | None = None, note: str = ""
    ) -> ExceptionView:
        """Approve for the days asked, or until `until` (shortening only)."""
        view = self.check_decider(exception_id, user)
        now = self.store.clock()
        ends = now + dt.timedelta(days=view.days)
        if until is not None:
            shortened = dt.datetime.combine(
                until + dt.timedelta(days=1), dt.time(), tzinfo=self.zone
            ).astimezone(dt.UTC)
            if shortened <= now:
                raise ExceptionError("The end date must be after today.")
            if shortened > ends:
                raise ExceptionError(
                    f"{view.user} asked for {view.days} days: an approval can "
                    "shorten the period, not lengthen it."
                )
            ends = shortened
        with self.store.session() as session:
            row = self._decide(
                session,
                exception_id,
                status=ACTIVE,
                decided_at=now,
                decided_by=user,
                decision_note=" ".join(note.split())[:MAX_TEXT] or None,
                starts_at=now,
                ends_at=ends,
                remind_at=max(ends - self.reminder, now + (ends - now) / 2),
            )
            result = _view(row)
            _audit(
                session,
                row,
                actor=user,
                action="exception.approved",
                at=now,
                until=result.until(self.zone),
                shortened=until is not None or None,
            )
            lines = [personal_note(result, self.zone)]
            if result.decision_note:
                lines.append(f"Note from the approver: {result.decision_note}")
            queue_notice(
                session,
                Notice(
                    f"Your exception for {row.tool_name} is approved",
                    tuple(lines),
                    topic="exception",
                ),
                [row.user_id],
                author=user,
                now=now,
            )
            self._wake(session)
        self._forget()
        return result

    def decline(self, exception_id: int, *, user: str, reason: str) -> ExceptionView:
        reason = required_reason(
            reason, "Give a reason for declining; the person who asked is told it.", MAX_TEXT
        )
        self.check_decider(exception_id, user)
        now = self.store.clock()
        with self.store.session() as session:
            row = self._decide(
                session,
                exception_id,
                status="declined",
                decided_at=now,
                decided_by=user,
                decision_note=reason,
            )
            result = _view(row)
            _audit(
                session,
                row,
                actor=user,
                action="exception.declined",
                at=now,
                reason=reason,
            )
            queue_notice(
                session,
                Notice(
                    f"Your exception for {row.tool_name} was declined",
                    (f"Reason: {reason}",),
                    topic="exception",
                ),
                [row.user_id],
                author=user,
                now=now,
            )
            self._wake(session)
        return result

    def check_revoker(self, exception_id: int, user: str) -> ExceptionView:
        """The active or pending exception, if `user` is an admin."""
        if not self.is_admin(user):
            raise ExceptionError("Only policy admins can revoke an exception.")
        view = self.get(exception_id)
        if view.status not in (ACTIVE, PENDING):
            raise ExceptionError(f"{view.label} is already {view.status}.")
        return view

    def revoke(self, exception_id: int, *, user: str, reason: str) -> ExceptionView:
        """End an active (or pending) exception now; admins only."""
        self.check_revoker(exception_id, user)
        reason = required_reason(
            reason, "Give a reason for revoking; the holder is told it.", MAX_TEXT
        )
        now = self.store.clock()
        with self.store.session() as session:
            ended = session.exec(
                sa.update(PolicyException)
                .where(
                    col(PolicyException.id) == exception_id,
                    col(PolicyException.status).in_((ACTIVE, PENDING)),
                )
                .values(status="revoked", ended_at=now, ended_by=user, end_reason=reason)
            )
            row = session.get(PolicyException, exception_id, populate_existing=True)
            if row is None:
                raise ExceptionError(f"There is no exception E{exception_id}.")
            if ended.rowcount != 1:
                raise ExceptionError(f"E{exception_id} is already {row.status}.")
            _audit(session, row, actor=user, action="exception.revoked", at=now, reason=reason)
            self._tell_holder(
                session,
                row,
                f"Your exception for {row.tool_name} was revoked",
                f"Reason: {reason}",
                user,
                now,
            )
        self._forget()
        return _view(row)

    # -- time passing ----------------------------------------------------------------------

    def sweep(self, now: dt.datetime) -> tuple[int, int]:
        """Send due reminders and record expiries; (reminded, expired). Run by the scheduler."""
        reminded = expired = 0
        with self.store.session() as session:
            due = session.exec(
                select(PolicyException)
                .where(
                    PolicyException.status == ACTIVE,
                    col(PolicyException.remind_at) <= now,
                    col(PolicyException.reminded_at).is_(None),
                    col(PolicyException.ends_at) > now,
                )
                .with_for_update(skip_locked=True)
            ).all()
            for row in due:
                row.reminded_at = now
                session.add(row)
                view = _view(row)
                _audit(
                    session,
                    row,
                    actor=audit.SYSTEM,
                    action="exception.reminded",
                    at=now,
                )
                self._tell_holder(
                    session,
                    row,
                    f"Your exception for {row.tool_name} ends soon",
                    f"It ends after {view.until(self.zone)}. Ask for a new one if you still "
                    "need it.",
                    audit.SYSTEM,
                    now,
                )
                reminded += 1
            ending = session.exec(
                select(PolicyException)
                .where(PolicyException.status == ACTIVE, col(PolicyException.ends_at) <= now)
                .with_for_update(skip_locked=True)
            ).all()
            for row in ending:
                self._end(session, row, "expired", audit.SYSTEM, None, now)
                self._tell_holder(
                    session,
                    row,
                    f"Your exception for {row.tool_name} has ended",
                    f"The policy for {row.tool_name} applies to you again.",
                    audit.SYSTEM,
                    now,
                )
                expired += 1
        if expired:
            self._forget()
        return reminded, expired

    def on_change(self, uow: UnitOfWork, event: ChangeEvent) -> None:
        """The change handler: a policy change or removal ends the tool's open exceptions —
        when it takes effect. A change scheduled for a later day leaves them alone until the
        day it is applied (then it comes again, from the scheduler)."""
        change = event.change
        if change.scheduled_for is not None:
            return
        session = uow.session
        subject = change.after or change.before
        if subject is None:
            return
        if change.after is not None and not any(f in change.changed for f in POLICY_FIELDS):
            return
        key = name_key(subject.name)
        # Read once a transaction (an import has a change a tool), filtered as they are now.
        current = uow.read_once(PolicyException, _current_exceptions)
        rows = [r for r in current if r.tool_key == key and r.status in (ACTIVE, PENDING)]
        if not rows:
            return
        what = "was removed from the registry" if change.after is None else "changed its policy"
        if change.after is not None and change.after.status is Status.ALLOWED:
            follow = f"{subject.name} is now allowed: you no longer need an exception."
        else:
            follow = (
                f"{subject.name} {what}, so exceptions granted under the old policy end. "
                "Ask again if you still need one."
            )
        for row in rows:
            self._end(session, row, "ended", event.author, f"{subject.name} {what}", event.at)
            self._tell_holder(
                session,
                row,
                f"Your exception for {row.tool_name} has ended",
                follow,
                event.author,
                event.at,
            )
        sa.event.listen(session, "after_commit", lambda _s: self._forget(), once=True)

    # -- reading ---------------------------------------------------------------------------

    def get(self, exception_id: int) -> ExceptionView:
        with Session(self.store.engine) as session:
            row = session.get(PolicyException, exception_id)
            if row is None:
                raise ExceptionError(f"There is no exception E{exception_id}.")
            return _view(row)

    def listing(
        self, statuses: Sequence[str] | None = None, *, user: str | None = None
    ) -> list[ExceptionView]:
        query = select(PolicyException)
        if statuses:
            query = query.where(col(PolicyException.status).in_(list(statuses)))
        if user is not None:
            query = query.where(PolicyException.user_id == user)
        with Session(self.store.engine) as session:
            return [_view(r) for r in session.exec(query.order_by(col(PolicyException.id)))]

    def active_for(self, user: str, tools: Iterable[str], now: dt.datetime) -> list[ExceptionView]:
        """`user`'s exceptions in force at `now` for the tools named (answers call this)."""
        keys = {name_key(t) for t in tools}
        if not keys:
            return []
        return [
            e
            for e in self._snapshot()
            if e.user == user
            and e.tool_key in keys
            and e.ends_at is not None
            and e.starts_at is not None
            and e.starts_at <= now < e.ends_at
        ]

    def admin_notice_id(self, exception_id: int) -> int | None:
        with Session(self.store.engine) as session:
            row = session.get(PolicyException, exception_id)
            return row.admin_notice_id if row else None

    # -- internals -------------------------------------------------------------------------

    def _snapshot(self) -> list[ExceptionView]:
        """Active exceptions, re-read at most every SNAPSHOT_SECONDS (and after local writes)."""
        active = self._active
        if active is not None and time.monotonic() - self._checked_at < SNAPSHOT_SECONDS:
            return active
        with self._lock:
            with Session(self.store.engine) as session:
                rows = session.exec(
                    select(PolicyException).where(PolicyException.status == ACTIVE)
                ).all()
                self._active = [_view(r) for r in rows]
            self._checked_at = time.monotonic()
            return self._active

    def _forget(self) -> None:
        self._checked_at = 0.0
        self._active = None

    def _decide(self, session: Session, exception_id: int, **values: object) -> PolicyException:
        """Record one decision: a conditional update of the pending row (`… WHERE status =
        'pending'`), so of two deciders at once exactly one changes it; the other gets
        ExceptionError and its transaction writes nothing."""
        decided = session.exec(
            sa.update(PolicyException)
            .where(col(PolicyException.id) == exception_id, col(PolicyException.status) == PENDING)
            .values(**values)
        )
        if decided.rowcount != 1:
            raise ExceptionError(f"E{exception_id} is no longer waiting for a decision.")
        row = session.get(PolicyException, exception_id, populate_existing=True)
        assert row is not None
        return row

    def _end(
        self,
        session: Session,
        row: PolicyException,
        status: str,
        actor: str,
        reason: str | None,
        now: dt.datetime,
    ) -> None:
        row.status = status
        row.ended_at, row.ended_by, row.end_reason = now, actor, reason
        session.add(row)
        _audit(
            session,
            row,
            actor=actor,
            action=f"exception.{status}",
            at=now,
            reason=reason,
        )

    def _tell_holder(
        self,
        session: Session,
        row: PolicyException,
        title: str,
        line: str,
        author: str,
        now: dt.datetime,
    ) -> None:
        queue_notice(
            session,
            Notice(title, (line,), topic="exception"),
            [row.user_id],
            author=author,
            now=now,
        )
        self._wake(session)

    def _wake(self, session: Session) -> None:
        if self.waker is not None:
            self.waker.after_commit(session)


def _audit(
    session: Session,
    row: PolicyException,
    *,
    actor: str,
    action: str,
    at: dt.datetime,
    **details: object,
) -> None:
    audit.record(
        session,
        actor=actor,
        action=action,
        subject=f"E{row.id}",
        at=at,
        tool_key=row.tool_key,
        tool_name=row.tool_name,
        **details,
    )


def admin_notice(view: ExceptionView, policy: ToolPolicy, zone: dt.tzinfo) -> Notice:
    """The admin-channel post of an exception request, with Approve and Decline."""
    status = policy.status.replace("-", " ")
    return Notice(
        f"{view.label}: exception requested for {view.tool_name} ({status})",
        (
            f"Asked by {view.user} for {view.days} days, for {view.purpose}, "
            f"data up to {view.data_class}.",
            f"Justification: {view.justification}",
            "Admins or the tool's owner decide; Approve can shorten the period.",
        ),
        (
            Button(APPROVE_EXCEPTION_ACTION, "Approve…", str(view.id), "primary"),
            Button(DECLINE_EXCEPTION_ACTION, "Decline…", str(view.id), "danger"),
        ),
        topic="exception",
        extra={"exception": view.id},
    )


EXPORT_FIELDS = (
    "id",
    "tool",
    "user",
    "status",
    "purpose",
    "data_class",
    "days_asked",
    "justification",
    "requested_at",
    "decided_by",
    "decided_at",
    "decision_note",
    "starts_at",
    "ends_at",
    "reminded_at",
    "ended_at",
    "ended_by",
    "end_reason",
)


def export_rows(views: Sequence[ExceptionView]) -> list[dict[str, str]]:
    """Every exception as flat text fields, for the auditors' CSV."""

    def when(moment: dt.datetime | None) -> str:
        return moment.astimezone(dt.UTC).isoformat() if moment else ""

    return [
        {
            "id": v.label,
            "tool": v.tool_name,
            "user": v.user,
            "status": v.status,
            "purpose": v.purpose,
            "data_class": v.data_class,
            "days_asked": str(v.days),
            "justification": v.justification,
            "requested_at": when(v.requested_at),
            "decided_by": v.decided_by or "",
            "decided_at": when(v.decided_at),
            "decision_note": v.decision_note or "",
            "starts_at": when(v.starts_at),
            "ends_at": when(v.ends_at),
            "reminded_at": when(v.reminded_at),
            "ended_at": when(v.ended_at),
            "ended_by": v.ended_by or "",
            "end_reason": v.end_reason or "",
        }
        for v in views
    ]


def _current_exceptions(session: Session) -> list[PolicyException]:
    """The exceptions a policy change may end: active and pending ones."""
    return list(
        session.exec(
            select(PolicyException)
            .where(col(PolicyException.status).in_((ACTIVE, PENDING)))
            .order_by(col(PolicyException.id))
        ).all()
    )
