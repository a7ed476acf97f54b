"""The delivery outbox: find due rows, claim them before sending, mark them after.

A row's life: pending -> claimed (claimed_at and claimed_by written and committed *before* the
message goes to Slack) -> sent | failed. A crash between Slack accepting a message and `mark_sent`
leaves the row claimed; `stale_claims` finds it later and the scheduler reconciles it against
the conversation's history before it would send again. Claiming uses `FOR UPDATE SKIP LOCKED`
on PostgreSQL, so two claimers never take the same row; SQLite serialises writers anyway.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.adapters.db.announcement_views import ANNOUNCED_KINDS, AnnouncementView, view_of
from bot.adapters.db.models import (
    Acknowledgement,
    Announcement,
    AudienceMember,
    Delivery,
    ScheduledStep,
    UTCDateTime,
)
from bot.adapters.db.store import Store

_DELIVERY = Delivery.__table__  # type: ignore[attr-defined]
_AUDIENCE = AudienceMember.__table__  # type: ignore[attr-defined]
_ACK = Acknowledgement.__table__  # type: ignore[attr-defined]
_ANNOUNCEMENT = Announcement.__table__  # type: ignore[attr-defined]
_STEP = ScheduledStep.__table__  # type: ignore[attr-defined]
_NO_SYNC = {"synchronize_session": False}

# A fan-out claims many times a second: the statements of a claim are built once, on the
# tables (not the ORM classes), and SQLAlchemy compiles each once.
_DUE = _DELIVERY.alias("due")
_PEOPLE: sa.BindParameter[Any] = sa.bindparam("people", expanding=True)
_NOW: sa.BindParameter[Any] = sa.bindparam("now", type_=UTCDateTime())
# Due rows of these recipients still pending (to fold into the claimed one).
_PENDING_OF = sa.select(_DELIVERY.c.id, _DELIVERY.c.recipient, _DELIVERY.c.kind).where(
    _DELIVERY.c.recipient.in_(_PEOPLE),
    _DELIVERY.c.status == "pending",
    _DELIVERY.c.due_at <= _NOW,
)
# The announcements each person is in the audience of, has not acknowledged and are current.
_OWED = (
    sa.select(_AUDIENCE.c.user_id, _ANNOUNCEMENT.c.id)
    .join(_ANNOUNCEMENT, _ANNOUNCEMENT.c.id == _AUDIENCE.c.announcement_id)
    .where(
        _AUDIENCE.c.user_id.in_(_PEOPLE),
        _ANNOUNCEMENT.c.superseded_at.is_(None),
        _ANNOUNCEMENT.c.kind.in_(ANNOUNCED_KINDS),
        ~sa.select(_ACK.c.id)
        .where(
            _ACK.c.announcement_id == _AUDIENCE.c.announcement_id,
            _ACK.c.user_id == _AUDIENCE.c.user_id,
        )
        .exists(),
    )
    .order_by(_ANNOUNCEMENT.c.id.desc())
)
# Who of these people got a DM of round `kind` after announcement `announcement_id` had its
# audience read (so that DM listed it).
_TOLD = sa.select(_DELIVERY.c.recipient).where(
    _DELIVERY.c.recipient.in_(_PEOPLE),
    _DELIVERY.c.kind == sa.bindparam("kind"),
    _DELIVERY.c.status == "sent",
    _DELIVERY.c.claimed_at
    >= sa.select(_STEP.c.done_at)
    .where(
        _STEP.c.announcement_id == sa.bindparam("announcement_id"),
        _STEP.c.kind == "audience",
    )
    .scalar_subquery(),
)


@functools.lru_cache(maxsize=64)
def _unguarded_claim(limit: int) -> sa.Update:
    return _claim_statement(limit)


def _claim_statement(limit: int, guard: sa.ColumnElement[bool] | None = None) -> sa.Update:
    """Claim up to `limit` due rows (parameters `now` and `worker`), if `guard` holds."""
    # A CTE runs once: PostgreSQL may run an IN (subquery) again per row, and with SKIP
    # LOCKED each run can pick other rows, so LIMIT would not hold.
    conditions = [_DUE.c.status == "pending", _DUE.c.due_at <= _NOW]
    if guard is not None:
        conditions.append(guard)
    wanted = (
        sa.select(_DUE.c.id)
        .where(*conditions)
        .order_by(_DUE.c.due_at, _DUE.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)  # PostgreSQL; SQLite ignores it
        .cte("wanted")
    )
    return (
        sa.update(_DELIVERY)
        .where(_DELIVERY.c.id == wanted.c.id, _DELIVERY.c.status == "pending")
        .values(
            status="claimed",
            claimed_at=_NOW,
            claimed_by=sa.bindparam("worker"),
        )
        .returning(*_DELIVERY.c)
    )


_MARK_SENT = (
    sa.update(_DELIVERY)
    .where(_DELIVERY.c.id == sa.bindparam("b_id"), _DELIVERY.c.status == "claimed")
    .values(
        status="sent",
        sent_at=sa.bindparam("b_at"),
        channel=sa.bindparam("b_channel"),
        message_ts=sa.bindparam("b_ts"),
        last_error=None,
    )
)


@dataclass(frozen=True)
class Due:
    """A claimed delivery, ready to send (or to reconcile, when its claim went stale)."""

    id: int
    announcement_id: int
    recipient: str
    kind: str
    attempts: int
    claimed_at: dt.datetime | None
    channel: str | None = None
    # Rows of the same family for the same recipient folded into this one message
    # (announcement id, kind), so a person gets one reminder DM per round and a channel one
    # countdown post per day.
    gathered: tuple[tuple[int, str], ...] = ()
    # For a reminder: every announcement its person still owes, newest first (None: not read).
    owes: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Step:
    id: int
    announcement_id: int
    kind: str
    channel: str


@dataclass(frozen=True)
class Sent:
    """Slack accepted delivery `id` as message `ts` in `channel`."""

    id: int
    channel: str
    ts: str
    at: dt.datetime
    announcement_id: int = 0
    kind: str = ""


def _insert(session: Session, table: Any) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING for the session's database."""
    # The dialect's module is imported here: only the one in use, off the sender's start-up.
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table).on_conflict_do_nothing()
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(table).on_conflict_do_nothing()


def rowcount(result: Any) -> int:
    """How many rows an UPDATE or DELETE touched."""
    return int(getattr(result, "rowcount", 0) or 0)


GATHERED = "gathered into delivery "


def family(kind: str) -> str | None:
    """Deliveries one message may gather: DM reminders, and effective-date countdowns."""
    for name in ("reminder", "effective"):
        if kind.startswith(f"{name}-"):
            return name
    return None


def _skip(session: Session, ids: list[int], reason: str) -> None:
    if ids:
        session.execute(
            sa.update(_DELIVERY)
            .where(_DELIVERY.c.id.in_(ids))
            .values(status="skipped", claimed_at=None, claimed_by=None, last_error=reason)
        )


def _reminded_since(session: Session, reminders: list[Due]) -> list[int]:
    """Reminder rows whose person got a DM of the same round after the row's announcement
    had its audience read (so that DM listed it)."""
    told: list[int] = []
    rounds: dict[tuple[int, str], list[Due]] = {}
    for due in reminders:
        rounds.setdefault((due.announcement_id, due.kind), []).append(due)
    for (announcement_id, kind), dues in rounds.items():
        people = set(
            session.execute(
                _TOLD,
                {
                    "people": sorted({d.recipient for d in dues}),
                    "kind": kind,
                    "announcement_id": announcement_id,
                },
            ).scalars()
        )
        told += [d.id for d in dues if d.recipient in people]
    return told


def _owed(session: Session, people: set[str]) -> dict[str, list[int]]:
    """For each person, the announcements in whose audience they are and which they have not
    acknowledged (still current), newest first."""
    if not people:
        return {}
    rows = session.execute(_OWED, {"people": sorted(people)}).all()
    owed: dict[str, list[int]] = {}
    for user, announcement_id in rows:
        owed.setdefault(user, []).append(int(announcement_id))
    return owed


def _due(row: Any) -> Due:
    return Due(
        id=row.id,
        announcement_id=row.announcement_id,
        recipient=row.recipient,
        kind=row.kind,
        attempts=row.attempts,
        claimed_at=row.claimed_at,
        channel=row.channel,
    )


class Outbox:
    """Reads and writes delivery rows for one sender (`worker` names it in claims)."""

    def __init__(self, store: Store, worker: str) -> None:
        self.store = store
        self.worker = worker

    # -- steps: who to remind ---------------------------------------------------------------

    def due_steps(self, now: dt.datetime) -> list[Step]:
        with Session(self.store.engine) as session:
            rows = session.exec(
                select(ScheduledStep, Announcement.channel)
                .join(Announcement, col(Announcement.id) == col(ScheduledStep.announcement_id))
                .where(col(ScheduledStep.done_at).is_(None), col(ScheduledStep.due_at) <= now)
                .order_by(col(ScheduledStep.due_at), col(ScheduledStep.id))
            ).all()
            return [Step(s.id or 0, s.announcement_id, s.kind, channel) for s, channel in rows]

    def expand_step(self, step: Step, members: Iterable[str], now: dt.datetime) -> int:
        """Record the audience and, for a reminder step, one DM row per non-acknowledger.

        One transaction with marking the step done: a crash leaves the step to be done again,
        and the unique keys make doing it twice harmless. Returns how many DMs it queued.
        """
        members = sorted(set(members))
        with self.store.session() as session:
            announcement = session.get(Announcement, step.announcement_id)
            if announcement is None or announcement.superseded_at is not None:
                self._finish_step(session, step, now, 0)
                return 0
            if members:
                session.execute(
                    _insert(session, AudienceMember.__table__),  # type: ignore[attr-defined]
                    [{"announcement_id": step.announcement_id, "user_id": m} for m in members],
                )
            queued = 0
            if step.kind.startswith("reminder-"):
                acked = set(
                    session.exec(
                        select(Acknowledgement.user_id).where(
                            Acknowledgement.announcement_id == step.announcement_id
                        )
                    ).all()
                )
                recipients = [m for m in members if m not in acked]
                if recipients:
                    session.execute(
                        _insert(session, _DELIVERY),
                        [
                            {
                                "announcement_id": step.announcement_id,
                                "recipient": user,
                                "kind": step.kind,
                                "due_at": now,
                                "status": "pending",
                                "attempts": 0,
                            }
                            for user in recipients
                        ],
                    )
                queued = len(recipients)
            self._finish_step(session, step, now, queued)
            return queued

    def _finish_step(self, session: Session, step: Step, now: dt.datetime, count: int) -> None:
        done = session.execute(
            sa.update(ScheduledStep)
            .where(col(ScheduledStep.id) == step.id, col(ScheduledStep.done_at).is_(None))
            .values(done_at=now, recipients=count),
            execution_options=_NO_SYNC,
        )
        if rowcount(done) != 1:  # done meanwhile by someone else: keep theirs
            raise StepAlreadyDone(step.id)

    # -- claiming ---------------------------------------------------------------------------

    def claim_due(
        self,
        now: dt.datetime,
        limit: int,
        *,
        guard: sa.ColumnElement[bool] | None = None,
        sent: Sequence[Sent] = (),
    ) -> list[Due]:
        """Claim up to `limit` due rows for this worker, oldest first, in one short transaction.

        `guard` is the sender lock's condition: no rows are claimed unless it holds. `sent`
        are rows to mark sent in the same transaction (one commit per round, not two).
        """
        if limit <= 0 and not sent:
            return []
        with self.store.session() as session:
            if sent:
                self._mark_sent(session, sent)
            if limit <= 0:
                return []
            # The statement without a guard (SQLite) is built once per batch size.
            statement = _unguarded_claim(limit) if guard is None else _claim_statement(limit, guard)
            rows = session.execute(statement, {"now": now, "worker": self.worker}).all()
            claimed = sorted((_due(r) for r in rows), key=lambda d: d.id)
            return self._gather(session, claimed, now)

    def _gather(self, session: Session, claimed: list[Due], now: dt.datetime) -> list[Due]:
        """One message per recipient and family: the first row leads, the recipient's other
        due rows of that family (claimed now or pending) are folded into it (`skipped`, with
        the leader's id in `last_error`, so a reconcile can rebuild the message). A reminder
        also carries every announcement its person still owes."""
        leaders: dict[tuple[str, str], Due] = {}
        folded: dict[int, list[int]] = {}
        for due in claimed:
            group = family(due.kind)
            if group is None:
                continue
            leader = leaders.setdefault((due.recipient, group), due)
            if leader is not due:
                folded.setdefault(leader.id, []).append(due.id)
        if not leaders:
            return claimed
        pending = session.execute(
            _PENDING_OF, {"people": sorted({r for r, _ in leaders}), "now": now}
        ).all()
        for row in pending:
            group = family(row.kind)
            lead = leaders.get((row.recipient, group)) if group else None
            if lead is not None:
                folded.setdefault(lead.id, []).append(row.id)
        skipped = {i for ids in folded.values() for i in ids}
        for leader_id, ids in folded.items():
            session.execute(
                sa.update(_DELIVERY)
                .where(_DELIVERY.c.id.in_(ids))
                .values(
                    status="skipped",
                    claimed_at=None,
                    claimed_by=None,
                    last_error=f"{GATHERED}{leader_id}",
                )
            )
        people = {r for r, group in leaders if group == "reminder" and r[:1] in ("U", "W")}
        owes = _owed(session, people)
        # Reminders to people who acknowledged everything since the round began: not sent.
        done = [d.id for d in claimed if d.recipient in people and not owes.get(d.recipient)]
        _skip(session, done, "acknowledged")
        skipped.update(done)
        # This round's DM already went out with this announcement in it (another version's
        # reminder of the same round, claimed after this one's audience was read): not again.
        told = _reminded_since(session, [d for d in claimed if d.recipient in people])
        _skip(session, told, "in an earlier reminder of this round")
        skipped.update(told)
        kept = []
        for due in claimed:
            if due.id in skipped:
                continue
            if folded.get(due.id):
                due = replace(due, gathered=self._gathered(session, due.id))
            if family(due.kind) == "reminder" and due.recipient in people:
                due = replace(due, owes=tuple(owes.get(due.recipient, ())))
            kept.append(due)
        return kept

    @staticmethod
    def _gathered(session: Session, leader_id: int) -> tuple[tuple[int, str], ...]:
        rows = session.execute(
            sa.select(_DELIVERY.c.announcement_id, _DELIVERY.c.kind)
            .where(_DELIVERY.c.last_error == f"{GATHERED}{leader_id}")
            .order_by(_DELIVERY.c.id)
        ).all()
        return tuple((int(a), str(k)) for a, k in rows)

    def gathered(self, leader_id: int) -> tuple[tuple[int, str], ...]:
        """What an earlier claim folded into delivery `leader_id` (to rebuild its message)."""
        with Session(self.store.engine) as session:
            return self._gathered(session, leader_id)

    def owed(self, recipient: str) -> tuple[int, ...]:
        """The announcements `recipient` was told of and has not acknowledged, newest first."""
        with Session(self.store.engine) as session:
            return tuple(_owed(session, {recipient}).get(recipient, ()))

    def stale_claims(
        self,
        now: dt.datetime,
        timeout: dt.timedelta,
        limit: int = 500,
        *,
        others_at_once: bool = False,
    ) -> list[Due]:
        """Claims to reconcile: older than `timeout` and never finished (a crash, a lost reply),
        and with `others_at_once` every claim of another worker whatever its age (the caller
        holds a lock that ended with their process, so they are dead)."""
        stale = _DELIVERY.c.claimed_at < now - timeout
        if others_at_once:
            stale = sa.or_(stale, _DELIVERY.c.claimed_by != self.worker)
        with Session(self.store.engine) as session:
            rows = session.execute(
                sa.select(_DELIVERY)
                .where(_DELIVERY.c.status == "claimed", stale)
                .order_by(_DELIVERY.c.id)
                .limit(limit)
            ).all()
        return [_due(r) for r in rows]

    def reclaim(self, due: Due, now: dt.datetime) -> Due | None:
        """Take over a stale claim (compare-and-set on its claim time); None if someone did."""
        with self.store.session() as session:
            taken = session.execute(
                sa.update(_DELIVERY)
                .where(
                    _DELIVERY.c.id == due.id,
                    _DELIVERY.c.status == "claimed",
                    _DELIVERY.c.claimed_at == due.claimed_at,
                )
                .values(claimed_at=now, claimed_by=self.worker)
            )
            gathered = self._gathered(session, due.id) if family(due.kind) else ()
            owes = None
            if family(due.kind) == "reminder" and due.recipient[:1] in ("U", "W"):
                owes = tuple(_owed(session, {due.recipient}).get(due.recipient, ()))
        if rowcount(taken) != 1:
            return None
        return replace(due, claimed_at=now, gathered=gathered, owes=owes)

    # -- finishing --------------------------------------------------------------------------

    def mark_sent(self, marks: Sequence[Sent]) -> None:
        """Record messages Slack accepted, in one transaction."""
        if not marks:
            return
        with self.store.session() as session:
            self._mark_sent(session, marks)

    @staticmethod
    def _mark_sent(session: Session, marks: Sequence[Sent]) -> None:
        session.execute(
            _MARK_SENT,
            [{"b_id": m.id, "b_at": m.at, "b_channel": m.channel, "b_ts": m.ts} for m in marks],
        )
        for mark in marks:
            if mark.kind == "announcement":
                session.execute(
                    sa.update(Announcement)
                    .where(col(Announcement.id) == mark.announcement_id)
                    .values(channel=mark.channel, message_ts=mark.ts),
                    execution_options=_NO_SYNC,
                )

    def retry_later(self, delivery_id: int, error: str, due_at: dt.datetime) -> None:
        """Give the row back as pending, due again at `due_at`, counting the attempt."""
        self._finish(delivery_id, status="pending", error=error, due_at=due_at, attempt=True)

    def skip(self, delivery_id: int, reason: str) -> None:
        """Not sent and never to be: nothing is left to say (the person acknowledged)."""
        self._finish(delivery_id, status="skipped", error=reason, attempt=False)

    def mark_failed(self, delivery_id: int, error: str) -> None:
        self._finish(delivery_id, status="failed", error=error, attempt=True)

    def release(self, delivery_ids: Iterable[int]) -> None:
        """Give claimed rows back untouched: they were never sent (the sender is stopping)."""
        ids = list(delivery_ids)
        if not ids:
            return
        with self.store.session() as session:
            session.execute(
                sa.update(_DELIVERY)
                .where(_DELIVERY.c.id.in_(ids), _DELIVERY.c.status == "claimed")
                .values(status="pending", claimed_at=None, claimed_by=None)
            )

    def _finish(
        self,
        delivery_id: int,
        *,
        status: str,
        error: str,
        due_at: dt.datetime | None = None,
        attempt: bool,
    ) -> None:
        values: dict[str, Any] = {"status": status, "last_error": error[:200]}
        if attempt:
            values["attempts"] = _DELIVERY.c.attempts + 1
        if status == "pending":
            values.update(claimed_at=None, claimed_by=None)
        if due_at is not None:
            values["due_at"] = due_at
        with self.store.session() as session:
            session.execute(
                sa.update(_DELIVERY)
                .where(_DELIVERY.c.id == delivery_id, _DELIVERY.c.status == "claimed")
                .values(**values)
            )

    # -- reading ----------------------------------------------------------------------------

    def announcement(self, announcement_id: int) -> AnnouncementView | None:
        with Session(self.store.engine) as session:
            row = session.get(Announcement, announcement_id)
            return view_of(row) if row else None

    def counts(self, announcement_id: int | None = None) -> dict[str, int]:
        """Deliveries by status (for one announcement, or all)."""
        query = sa.select(_DELIVERY.c.status, sa.func.count()).group_by(_DELIVERY.c.status)
        if announcement_id is not None:
            query = query.where(_DELIVERY.c.announcement_id == announcement_id)
        with Session(self.store.engine) as session:
            return {status: int(n) for status, n in session.execute(query).all()}

    def next_due(self) -> dt.datetime | None:
        """When the earliest pending row or unexpanded step falls due."""
        with Session(self.store.engine) as session:
            row = session.execute(
                sa.select(sa.func.min(_DELIVERY.c.due_at)).where(_DELIVERY.c.status == "pending")
            ).scalar()
            step = session.exec(
                select(sa.func.min(ScheduledStep.due_at)).where(
                    col(ScheduledStep.done_at).is_(None)
                )
            ).first()
        times = [t for t in (row, step) if t is not None]
        if not times:
            return None
        aware = [t.replace(tzinfo=dt.UTC) if t.tzinfo is None else t for t in times]
        return min(aware)


class StepAlreadyDone(RuntimeError):
    """Another sender expanded this step first; the expansion here was rolled back."""
