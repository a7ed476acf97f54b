"""Requests to review a tool that has no policy: filed, merged per tool, decided, followed up.

A request is one row per tool name (any number of askers, each counted once). Admins decide
it from the admin channel: **Add for review** runs the ordinary `add <tool>` command (so the
tool is created by the one write path), **Decline** closes it with a reason. The change
listener below sees every registry change in its transaction: when a tool now covers an
open request (added, or the name became an alias) the askers are told, and told again when
the tool gets a decided status.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.adapters.db import audit
from bot.adapters.db.models import Delivery, PolicyException, ToolRequest, ToolRequestAsker
from bot.adapters.db.policy_repo import PolicyRepository
from bot.adapters.db.store import Store, lock_person
from bot.app.notices import Button, Notice, Waker, queue_notice
from bot.app.unit_of_work import UnitOfWork
from bot.domain.errors import PolicyError
from bot.domain.events import ChangeEvent
from bot.domain.names import name_key
from bot.domain.policy import Status, ToolPolicy
from bot.metrics import RATE_LIMITED

ADD_FOR_REVIEW_ACTION = "policybot_request_add"
DECLINE_REQUEST_ACTION = "policybot_request_decline"
DECIDED = (Status.ALLOWED, Status.CONDITIONAL, Status.BANNED)
MAX_WHY = 2000
MAX_TOOL = 200


class RequestError(PolicyError):
    """A request that cannot be filed or decided; the message is a sentence for people."""


@dataclass(frozen=True)
class Asker:
    user: str
    why: str | None
    asked_at: dt.datetime


@dataclass(frozen=True)
class RequestView:
    id: int
    tool_name: str
    status: str
    created_at: dt.datetime
    askers: tuple[Asker, ...]
    covered_by: str | None = None
    decided_by: str | None = None
    decision_reason: str | None = None

    @property
    def label(self) -> str:
        return f"R{self.id}"


@dataclass(frozen=True)
class Filed:
    """The outcome of filing: the request, and whether it was new, merged or already asked."""

    request: RequestView
    outcome: str  # new | merged | already


def recent_requests(session: Session, user: str, since: dt.datetime) -> int:
    """How many requests (tool requests and exceptions) `user` filed since `since`."""
    tools = session.exec(
        select(sa.func.count())
        .select_from(ToolRequestAsker)
        .where(ToolRequestAsker.user_id == user, col(ToolRequestAsker.asked_at) >= since)
    ).one()
    exceptions = session.exec(
        select(sa.func.count())
        .select_from(PolicyException)
        .where(PolicyException.user_id == user, col(PolicyException.requested_at) >= since)
    ).one()
    return int(tools) + int(exceptions)


def check_quota(
    session: Session, user: str, now: dt.datetime, per_day: int, zone: dt.tzinfo
) -> None:
    """RequestError when `user` already filed `per_day` requests in the last 24 hours.

    The caller holds `lock_person(session, user)` from the start of its transaction, so two
    requests of one person at once are counted one after the other."""
    since = now - dt.timedelta(days=1)
    if recent_requests(session, user, since) < per_day:
        return
    RATE_LIMITED.labels("request").inc()
    oldest = _oldest_since(session, user, since) or now
    again = (oldest + dt.timedelta(days=1)).astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")
    raise RequestError(
        f"You have filed {per_day} requests in the last 24 hours, the most allowed "
        f"(POLICYBOT_REQUESTS_PER_DAY). Try again after {again}, or ask the policy admins directly."
    )


def _oldest_since(session: Session, user: str, since: dt.datetime) -> dt.datetime | None:
    times = [
        session.exec(
            select(sa.func.min(ToolRequestAsker.asked_at)).where(
                ToolRequestAsker.user_id == user, col(ToolRequestAsker.asked_at) >= since
            )
        ).one(),
        session.exec(
            select(sa.func.min(PolicyException.requested_at)).where(
                PolicyException.user_id == user, col(PolicyException.requested_at) >= since
            )
        ).one(),
    ]
    known = [t.replace(tzinfo=dt.UTC) if t.tzinfo is None else t for t in times if t is not None]
    return min(known) if known else None


def required_reason(reason: str, problem: str, limit: int = MAX_WHY) -> str:
    """`reason` on one line, or RequestError(`problem`) when it is empty."""
    reason = " ".join(reason.split())[:limit]
    if not reason:
        raise RequestError(problem)
    return reason


def lock_tool_key(session: Session, key: str) -> None:
    """Serialise requests for one name, so two first askers at once make one request.

    PostgreSQL: a transaction-scoped advisory lock on the key's hash. SQLite allows one
    writer at a time anyway (the second fails to write on a stale read instead of merging).
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext(f"request:{key}")))
        )


def policy_sentence(policy: ToolPolicy) -> str:
    """'it is now allowed, with conditions: …' for the follow-up DM."""
    words = {
        Status.ALLOWED: "allowed",
        Status.CONDITIONAL: "allowed with conditions",
        Status.UNDER_REVIEW: "under review",
        Status.BANNED: "banned",
    }[policy.status]
    text = f"it is now {words}"
    if policy.conditions:
        text += f" (conditions: {policy.conditions})"
    if policy.max_data:
        text += f", data up to {policy.max_data}"
    if policy.status is Status.BANNED and policy.alternatives:
        text += f"; use {' or '.join(policy.alternatives)} instead"
    return text + "."


class ToolRequests:
    """Files, lists and decides tool requests; follows registry changes for their askers."""

    def __init__(
        self,
        store: Store,
        policies: PolicyRepository,
        *,
        per_day: int = 5,
        admin_channel: str | None = None,
        zone: dt.tzinfo = dt.UTC,
        waker: Waker | None = None,
    ) -> None:
        self.store = store
        self.policies = policies
        self.per_day = per_day
        self.admin_channel = admin_channel
        self.zone = zone
        self.waker = waker

    # -- filing ----------------------------------------------------------------------------

    def file(self, tool: str, *, user: str, why: str | None = None) -> Filed:
        """Record that `user` asks for a review of `tool`, merging with an open request."""
        typed = " ".join(tool.split())[:MAX_TOOL]
        if not typed:
            raise RequestError("Name the tool you want reviewed, e.g. `request Kiro for specs`.")
        existing = self.policies.get(typed)
        if existing is not None:
            raise RequestError(
                f"{existing.name} already has a policy: ask “can I use {existing.name}?”. "
                "For a banned or conditional tool you can ask for an exception instead."
            )
        reason = (why or "").strip()[:MAX_WHY] or None
        key = name_key(typed)
        now = self.store.clock()
        with self.store.session() as session:
            # The asker first (their quota is counted below), then the name: in this order
            # everywhere, so two transactions never wait for each other in a circle.
            lock_person(session, user)
            lock_tool_key(session, key)
            row = session.exec(
                select(ToolRequest)
                .where(ToolRequest.tool_key == key, col(ToolRequest.status).in_(("open", "added")))
                .order_by(col(ToolRequest.id))
                .with_for_update()
            ).first()
            if row is not None:
                already = session.exec(
                    select(ToolRequestAsker).where(
                        ToolRequestAsker.request_id == row.id, ToolRequestAsker.user_id == user
                    )
                ).first()
                if already is not None:
                    return Filed(self._view(session, row), "already")
            check_quota(session, user, now, self.per_day, self.zone)
            outcome = "merged"
            if row is None:
                outcome = "new"
                row = ToolRequest(tool_key=key, tool_name=typed, created_at=now)
                session.add(row)
                session.flush()
            assert row.id is not None
            session.add(
                ToolRequestAsker(
                    request_id=row.id, user_id=user, tool_as_typed=typed, why=reason, asked_at=now
                )
            )
            session.flush()
            audit.record(
                session,
                actor=user,
                action="request.filed" if outcome == "new" else "request.merged",
                subject=f"R{row.id}",
                at=now,
                tool_key=key,
                tool_name=row.tool_name,
                why=reason,
            )
            view = self._view(session, row)
            if outcome == "new" and self.admin_channel:
                row.admin_notice_id = queue_notice(
                    session,
                    admin_notice(view, self.zone),
                    [self.admin_channel],
                    author=user,
                    now=now,
                    channel=self.admin_channel,
                )
                self._wake(session)
        return Filed(view, outcome)

    # -- deciding --------------------------------------------------------------------------

    def check_decider(self, request_id: int, user: str) -> RequestView:
        """The open request, if `user` may decide it (not one of its askers)."""
        view = self.get(request_id)
        if view.status != "open":
            raise RequestError(f"{view.label} ({view.tool_name}) is already {view.status}.")
        if any(a.user == user for a in view.askers):
            raise RequestError(
                f"You asked for {view.tool_name} yourself: "
                f"another admin has to decide {view.label}."
            )
        return view

    def decline(self, request_id: int, *, user: str, reason: str) -> RequestView:
        reason = required_reason(reason, "Give a reason for declining; the askers are told it.")
        self.check_decider(request_id, user)
        now = self.store.clock()
        with self.store.session() as session:
            # One decision: only the update that finds the request still open changes it.
            decided = session.exec(
                sa.update(ToolRequest)
                .where(col(ToolRequest.id) == request_id, col(ToolRequest.status) == "open")
                .values(status="declined", decided_at=now, decided_by=user, decision_reason=reason)
            )
            if decided.rowcount != 1:
                raise RequestError(f"R{request_id} is no longer open.")
            row = session.get(ToolRequest, request_id, populate_existing=True)
            assert row is not None
            view = self._view(session, row)
            audit.record(
                session,
                actor=user,
                action="request.declined",
                subject=view.label,
                at=now,
                tool_key=row.tool_key,
                tool_name=row.tool_name,
                reason=reason,
            )
            self._tell_askers(
                session,
                view,
                Notice(
                    f"Your request about {view.tool_name} was declined",
                    (
                        f"You asked about {view.tool_name} on {self._day(view)}: "
                        f"the policy admins declined to review it.",
                        f"Reason: {reason}",
                    ),
                    topic="request",
                ),
                author=user,
                now=now,
            )
        return view

    # -- following registry changes ----------------------------------------------------------

    def on_change(self, uow: UnitOfWork, event: ChangeEvent) -> None:
        """The change handler: tell askers when a tool now covers their request or is decided
        (when the change is made; a scheduled change on its day was told when scheduled)."""
        after = event.change.after
        if after is None or event.on_its_day:
            return
        session = uow.session
        keys = {name_key(after.name), *(name_key(a) for a in after.aliases)}
        own = name_key(after.name)
        # Read once a transaction (an import has a change a tool); filtered on the rows as
        # they are now, so a request this transaction already covered counts as covered.
        waiting = uow.read_once(ToolRequest, _waiting_requests)
        rows = [
            row
            for row in waiting
            if (row.status == "open" and row.tool_key in keys)
            or (row.status == "added" and row.covered_by == own)
        ]
        for row in rows:
            decided = after.status in DECIDED
            if row.status == "added" and not (decided and "status" in event.change.changed):
                continue
            first = row.status == "open"
            row.covered_by = own
            if first:
                row.decided_at, row.decided_by = event.at, event.author
            row.status = "resolved" if decided else "added"
            session.add(row)
            view = self._view(session, row)
            audit.record(
                session,
                actor=event.author,
                action="request.resolved" if decided else "request.added",
                subject=view.label,
                at=event.at,
                tool_key=row.tool_key,
                tool_name=row.tool_name,
                status=str(after.status),
                tool=after.name,
            )
            named = (
                after.name
                if name_key(after.name) == row.tool_key
                else f"{after.name} (which covers {row.tool_name})"
            )
            if decided:
                lines = [
                    f"You asked about {row.tool_name} on {self._day(view)}: {named}: "
                    f"{policy_sentence(after)}"
                ]
                if after.reason:
                    lines.append(f"Why: {after.reason}")
                title = f"{row.tool_name} has a policy now"
            else:
                lines = [
                    f"You asked about {row.tool_name} on {self._day(view)}: {named} is now "
                    "under review. You will hear again when it is decided."
                ]
                title = f"{row.tool_name} is under review"
            self._tell_askers(
                session,
                view,
                Notice(title, tuple(lines), topic="request"),
                author=event.author,
                now=event.at,
            )

    # -- reading ---------------------------------------------------------------------------

    def get(self, request_id: int) -> RequestView:
        with Session(self.store.engine) as session:
            row = session.get(ToolRequest, request_id)
            if row is None:
                raise RequestError(f"There is no request R{request_id}.")
            return self._view(session, row)

    def listing(self, statuses: Sequence[str] = ("open", "added")) -> list[RequestView]:
        with Session(self.store.engine) as session:
            rows = session.exec(
                select(ToolRequest)
                .where(col(ToolRequest.status).in_(list(statuses)))
                .order_by(col(ToolRequest.id))
            ).all()
            return [self._view(session, r) for r in rows]

    def open_for(self, term: str) -> RequestView | None:
        with Session(self.store.engine) as session:
            row = session.exec(
                select(ToolRequest).where(
                    ToolRequest.tool_key == name_key(term), ToolRequest.status == "open"
                )
            ).first()
            return self._view(session, row) if row else None

    def admin_notice_id(self, request_id: int) -> int | None:
        with Session(self.store.engine) as session:
            row = session.get(ToolRequest, request_id)
            return row.admin_notice_id if row else None

    def admin_post(self, request_id: int) -> tuple[str, str, Notice] | None:
        """Where the request's admin-channel post is (channel, ts) and what it says now;
        None until the post went out."""
        with Session(self.store.engine) as session:
            row = session.get(ToolRequest, request_id)
            if row is None or row.admin_notice_id is None:
                return None
            sent = session.exec(
                select(Delivery).where(
                    Delivery.announcement_id == row.admin_notice_id, Delivery.status == "sent"
                )
            ).first()
            if sent is None or not sent.channel or not sent.message_ts:
                return None
            return sent.channel, sent.message_ts, admin_notice(self._view(session, row), self.zone)

    # -- internals -------------------------------------------------------------------------

    def _view(self, session: Session, row: ToolRequest) -> RequestView:
        assert row.id is not None
        askers = session.exec(
            select(ToolRequestAsker)
            .where(ToolRequestAsker.request_id == row.id)
            .order_by(col(ToolRequestAsker.id))
        ).all()
        return RequestView(
            id=row.id,
            tool_name=row.tool_name,
            status=row.status,
            created_at=row.created_at,
            askers=tuple(Asker(a.user_id, a.why, a.asked_at) for a in askers),
            covered_by=row.covered_by,
            decided_by=row.decided_by,
            decision_reason=row.decision_reason,
        )

    def _day(self, view: RequestView) -> str:
        return view.created_at.astimezone(self.zone).date().isoformat()

    def _tell_askers(
        self,
        session: Session,
        view: RequestView,
        notice: Notice,
        *,
        author: str,
        now: dt.datetime,
    ) -> None:
        queue_notice(session, notice, [a.user for a in view.askers], author=author, now=now)
        self._wake(session)

    def _wake(self, session: Session) -> None:
        if self.waker is not None:
            self.waker.after_commit(session)


def admin_notice(view: RequestView, zone: dt.tzinfo) -> Notice:
    """The admin-channel post of a new request, with its two buttons."""
    lines = [f"{len(view.askers)} asked so far."]
    for asker in view.askers[:10]:
        why = f": {asker.why}" if asker.why else ""
        lines.append(f"• {asker.user} on {asker.asked_at.astimezone(zone).date()}{why}")
    return Notice(
        f"{view.label}: review requested for {view.tool_name}",
        tuple(lines),
        (
            Button(ADD_FOR_REVIEW_ACTION, "Add for review", str(view.id), "primary"),
            Button(DECLINE_REQUEST_ACTION, "Decline…", str(view.id), "danger"),
        ),
        topic="request",
        extra={"request": view.id},
    )


def _waiting_requests(session: Session) -> list[ToolRequest]:
    """The requests a registry change may answer: open ones, and those covered by a tool
    still under review."""
    return list(
        session.exec(
            select(ToolRequest)
            .where(col(ToolRequest.status).in_(("open", "added")))
            .order_by(col(ToolRequest.id))
        ).all()
    )
