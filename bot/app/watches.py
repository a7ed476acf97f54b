"""Watching a tool: a DM when its policy changes, one per change-set listing every watched tool.

A change-set is what one use case writes in one transaction (one command, one form, one
import): its unit of work. The handler asks to run once before that commits, and then queues
one notice per watcher with every tool they watch that changed in it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.adapters.db.models import ToolWatch
from bot.adapters.db.policy_repo import PolicyRepository
from bot.adapters.db.store import Store, lock_person
from bot.app.announcements import headline
from bot.app.limits import RateLimited, over_limit
from bot.app.notices import Notice, Waker, queue_notice
from bot.app.unit_of_work import UnitOfWork
from bot.domain.errors import PolicyError
from bot.domain.events import ChangeEvent
from bot.domain.names import name_key
from bot.metrics import RATE_LIMITED

WATCH_ACTION = "policybot_watch"


@dataclass(frozen=True)
class WatchResult:
    tool: str
    first_time: bool


class Watches:
    def __init__(
        self,
        store: Store,
        policies: PolicyRepository,
        *,
        zone: dt.tzinfo = dt.UTC,
        waker: Waker | None = None,
        per_hour: int = 0,
    ) -> None:
        self.store = store
        self.policies = policies
        self.zone = zone
        self.waker = waker
        # Tools one person may start watching an hour (0: no limit).
        self.per_hour = per_hour

    def watch(self, tool: str, *, user: str) -> WatchResult:
        policy = self.policies.resolve(tool)
        key = name_key(policy.name)
        try:
            with self.store.session() as session:
                lock_person(session, user)  # counted below, one watch of theirs at a time
                exists = session.exec(
                    select(ToolWatch).where(ToolWatch.user_id == user, ToolWatch.tool_key == key)
                ).first()
                if exists is not None:
                    return WatchResult(policy.name, False)
                self._check_limit(session, user)
                session.add(
                    ToolWatch(
                        user_id=user,
                        tool_key=key,
                        tool_name=policy.name,
                        created_at=self.store.clock(),
                    )
                )
        except sa.exc.IntegrityError:  # a double click: the first one counts
            return WatchResult(policy.name, False)
        return WatchResult(policy.name, True)

    def _check_limit(self, session: Session, user: str) -> None:
        if not self.per_hour:
            return
        since = self.store.clock() - dt.timedelta(hours=1)
        started = session.exec(
            select(sa.func.count())
            .select_from(ToolWatch)
            .where(ToolWatch.user_id == user, col(ToolWatch.created_at) >= since)
        ).one()
        if int(started) >= self.per_hour:
            RATE_LIMITED.labels("watch").inc()
            raise RateLimited(
                over_limit(
                    "started watching a tool", self.per_hour, "hour", "POLICYBOT_WATCHES_PER_HOUR"
                )
            )

    def unwatch(self, tool: str, *, user: str) -> str:
        found = self.policies.get(tool)
        key = name_key(found.name if found else tool)
        with self.store.session() as session:
            result = session.exec(
                sa.delete(ToolWatch).where(
                    col(ToolWatch.user_id) == user, col(ToolWatch.tool_key) == key
                )
            )
            if not result.rowcount:
                raise PolicyError(f"You are not watching {found.name if found else tool}.")
        return found.name if found else tool

    def watched(self, user: str) -> list[str]:
        with Session(self.store.engine) as session:
            return list(
                session.exec(
                    select(ToolWatch.tool_name)
                    .where(ToolWatch.user_id == user)
                    .order_by(col(ToolWatch.tool_key))
                ).all()
            )

    def on_change(self, uow: UnitOfWork, event: ChangeEvent) -> None:
        """The change handler: the watchers hear once per transaction, before it commits.

        A scheduled change on its day is quiet: watchers heard when it was scheduled."""
        if event.change.is_noop or event.on_its_day:
            return
        uow.before_commit(self._notify_watchers)

    def _notify_watchers(self, uow: UnitOfWork) -> None:
        session = uow.session
        events = [e for e in uow.events if not e.change.is_noop and not e.on_its_day]
        if not events:
            return
        lines: dict[str, str] = {}
        for event in events:
            change = event.change
            subject = change.after or change.before
            assert subject is not None
            if change.after is None:
                lines[name_key(subject.name)] = f"{subject.name} was removed from the registry."
            else:
                today = event.at.astimezone(self.zone).date()
                lines[name_key(subject.name)] = headline(
                    change.before, change.after, change.changed, today
                )
        watches = session.exec(
            select(ToolWatch.user_id, ToolWatch.tool_key).where(
                col(ToolWatch.tool_key).in_(list(lines))
            )
        ).all()
        per_user: dict[str, list[str]] = {}
        for user, key in watches:
            per_user.setdefault(user, []).append(key)
        last = events[-1]
        for user, keys in sorted(per_user.items()):
            changed = [lines[k] for k in sorted(keys)]
            title = (
                "A policy you watch changed"
                if len(changed) == 1
                else f"{len(changed)} policies you watch changed"
            )
            queue_notice(
                session,
                Notice(title, tuple(f"• {line}" for line in changed), topic="watch"),
                [user],
                author=last.author,
                now=last.at,
            )
        if per_user and self.waker is not None:
            self.waker.after_commit(session)
