"""Announcements of policy changes, the outbox rows that deliver them, and acknowledgements.

A material change (status, conditions, data limit, alternatives, effective date) becomes an
`Announcement` with, in the same transaction as the change itself:

* a Delivery to the announce channel, due now;
* a Delivery to the channel for each effective-date reminder still ahead (7d, 1d, 0d before);
* a ScheduledStep `audience` (read the channel's members) due now, and `reminder-N` steps that
  DM whoever has not acknowledged, at the configured offsets.

Nothing here talks to Slack: `bot/entrypoints/sender` reads the due rows and sends them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.adapters.db.announcement_views import ANNOUNCED_KINDS, AnnouncementView, view_of
from bot.adapters.db.models import (
    Acknowledgement,
    Announcement,
    AudienceMember,
    Delivery,
    QuestionLog,
    Revision,
    ScheduledStep,
)
from bot.adapters.db.policy_repo import PolicyRepository
from bot.adapters.db.store import Store
from bot.app.audiences import AudienceMembers
from bot.app.feedback import per_tool as feedback_per_tool
from bot.app.notices import Waker
from bot.app.unit_of_work import UnitOfWork
from bot.app.versions import Versions, group_of, parse_version
from bot.domain.audiences import effective_policy
from bot.domain.errors import PolicyError, UnknownToolError
from bot.domain.events import ChangeEvent, plain_value
from bot.domain.names import name_key
from bot.domain.policy import Status, ToolPolicy

# Fields whose change staff must hear about; a reworded reason or a new alias is not news.
MATERIAL_FIELDS = ("status", "conditions", "max_data", "alternatives", "effective")
# Effective-date reminders go out at this hour (in the configured zone) on their day.
REMINDER_HOUR = 9
DIGEST_KIND = "digest"


class AnnouncementError(PolicyError):
    """An announcement that cannot be made; the message is a sentence for people."""


@dataclass(frozen=True)
class AnnouncementConfig:
    """The settings announcements need, without the rest of Settings."""

    channel: str | None
    admin_channel: str | None = None
    reminder_after: tuple[dt.timedelta, ...] = (dt.timedelta(days=2), dt.timedelta(days=7))
    max_reminders: int = 2
    effective_reminders: tuple[dt.timedelta, ...] = (
        dt.timedelta(days=7),
        dt.timedelta(days=1),
        dt.timedelta(0),
    )
    zone: dt.tzinfo = dt.UTC

    def reminder_offsets(self) -> list[dt.timedelta]:
        """When to DM non-acknowledgers, after the announcement: the cadence, at most
        `max_reminders` of it."""
        return sorted(self.reminder_after)[: self.max_reminders]


@dataclass(frozen=True)
class AckResult:
    announcement: AnnouncementView
    first_time: bool
    at: dt.datetime


@dataclass(frozen=True)
class AckStats:
    """Who acknowledged the latest announcement of a tool, and who has not."""

    announcement: AnnouncementView
    acknowledged: int
    # None until the scheduler first read the channel's members for this announcement.
    audience: int | None
    missing: list[str] = field(default_factory=list)
    reminders_sent: int = 0
    failed: int = 0


def duration_label(offset: dt.timedelta) -> str:
    """7 days -> '7d', 12 hours -> '12h', 30 seconds -> '30s'."""
    seconds = int(offset.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0 and seconds:
            return f"{seconds // size}{unit}"
    return f"{seconds}s" if seconds else "0d"


def status_words(status: Status | str | None) -> str:
    return "—" if status is None else str(status).replace("-", " ")


def is_material(event: ChangeEvent) -> bool:
    """A change staff must hear about: a new or changed policy in a material field."""
    change = event.change
    if change.after is None:  # removing a tool leaves nothing to acknowledge
        return False
    # "scheduled" is only ever changed by cancelling a scheduled change staff were told of.
    if any(name in change.changed for name in (*MATERIAL_FIELDS, "scheduled")):
        return True
    return bool(audiences_changed(change.before, change.after))


def audiences_changed(before: ToolPolicy | None, after: ToolPolicy | None) -> list[str]:
    """The audiences whose own policy of a tool differs, in a material field, between
    `before` and `after` (a rule added, changed or dropped); in rule order."""
    if before is None or after is None:
        return []
    names = list(dict.fromkeys(r.audience for r in (*before.rules, *after.rules)))
    changed = []
    for name in names:
        old = effective_policy(before, frozenset({name}))
        new = effective_policy(after, frozenset({name}))
        if any(getattr(old, field) != getattr(new, field) for field in MATERIAL_FIELDS):
            changed.append(name)
    return changed


def only_for_audiences(before: ToolPolicy | None, after: ToolPolicy | None) -> list[str]:
    """The audiences a change is for when it changes nobody else's policy (else [])."""
    if before is None or after is None:
        return []
    default_changed = any(getattr(before, f) != getattr(after, f) for f in MATERIAL_FIELDS)
    return [] if default_changed else audiences_changed(before, after)


def cancelled_headline(before: ToolPolicy) -> str:
    """'Cursor: the change to banned planned from 2026-12-20 is cancelled; it stays
    conditional'."""
    planned = before.scheduled
    assert planned is not None
    return (
        f"{before.name}: the change to {status_words(planned.status)} planned from "
        f"{planned.effective.isoformat()} is cancelled; it stays {status_words(before.status)}"
    )


def headline(
    before: ToolPolicy | None,
    after: ToolPolicy,
    changed: dict[str, Any],
    today: dt.date,
) -> str:
    """'Claude Code: allowed → banned from 2026-12-01; use Qoder instead'."""
    if "scheduled" in changed and before is not None and before.scheduled is not None:
        return cancelled_headline(before)
    audiences = only_for_audiences(before, after)
    if audiences:
        # 'Tongyi Lingma for china-engineering: banned → conditional; conditions: …'
        assert before is not None
        parts = []
        for name in audiences:
            old = effective_policy(before, frozenset({name}))
            new = replace(
                effective_policy(after, frozenset({name})), name=f"{after.name} for {name}"
            )
            fields = {f: 1 for f in MATERIAL_FIELDS if getattr(old, f) != getattr(new, f)}
            parts.append(headline(old, new, fields, today))
        return "; ".join(parts)
    if before is not None and "status" in changed:
        status = f"{status_words(before.status)} → {status_words(after.status)}"
    else:
        status = status_words(after.status)
    text = f"{after.name}: {status}"
    # A status change takes effect today unless dated otherwise: "from <today>" adds nothing.
    if (
        after.effective
        and after.effective != today
        and ("effective" in changed or after.effective > today)
    ):
        text += f" from {after.effective.isoformat()}"
    extras = []
    if "conditions" in changed:
        extras.append(f"conditions: {after.conditions}" if after.conditions else "no conditions")
    if "max_data" in changed:
        extras.append(f"data up to {after.max_data}" if after.max_data else "no data limit")
    if after.alternatives and ("alternatives" in changed or "status" in changed):
        extras.append(f"use {' or '.join(after.alternatives)} instead")
    return "; ".join([text, *extras])


def version_item(event: ChangeEvent, today: dt.date) -> dict[str, Any]:
    """One change as its version's announcement lists it."""
    change = event.change
    after, before = change.after, change.before
    if after is None:
        assert before is not None
        return {
            "tool": before.name,
            "group": group_of(event),
            "headline": f"{before.name}: removed from the registry",
            "reason": None,
            "effective": None,
        }
    return {
        "tool": after.name,
        "group": group_of(event),
        "headline": headline(before, after, change.changed, today),
        "reason": after.reason,
        "effective": plain_value(after.effective),
        "audiences": only_for_audiences(before, after),
    }


def version_headline(version_id: int | None, items: list[dict[str, Any]]) -> str:
    """'v7: Claude Code: allowed → banned; Qoder: new' (the first few, then a count)."""
    shown = "; ".join(i["headline"] for i in items[:3])
    more = f" and {len(items) - 3} more" if len(items) > 3 else ""
    prefix = f"v{version_id}: " if version_id is not None else ""
    return f"{prefix}{shown}{more}"


def current_headline(policy: ToolPolicy, today: dt.date) -> str:
    """The headline of a policy as it stands, for `announce <tool>`."""
    fields = {"alternatives": policy.alternatives} if policy.alternatives else {}
    return headline(None, policy, fields, today)


def policy_details(policy: ToolPolicy) -> dict[str, Any]:
    return {
        "status": str(policy.status),
        "conditions": policy.conditions,
        "max_data": plain_value(policy.max_data),
        "alternatives": list(policy.alternatives),
        "effective": plain_value(policy.effective),
        "link": policy.link,
    }


def policy_digest(policy: ToolPolicy) -> str:
    """A short fingerprint of a policy's material fields."""
    text = repr(sorted(policy_details(policy).items()))
    return hashlib.sha1(text.encode()).hexdigest()[:12]


def _acked_and_audience(session: Session, announcement_id: int) -> tuple[set[str], set[str]]:
    """Who acknowledged an announcement, and who was in its audience when last read."""
    acked = session.exec(
        select(Acknowledgement.user_id).where(Acknowledgement.announcement_id == announcement_id)
    ).all()
    audience = session.exec(
        select(AudienceMember.user_id).where(AudienceMember.announcement_id == announcement_id)
    ).all()
    return set(acked), set(audience)


def _add_with_post(session: Session, row: Announcement, *, kind: str, due: dt.datetime) -> int:
    """Add an announcement and the outbox row that posts it to its channel; the row's id."""
    session.add(row)
    session.flush()
    assert row.id is not None and row.channel is not None
    session.add(Delivery(announcement_id=row.id, recipient=row.channel, kind=kind, due_at=due))
    return row.id


class Announcements:
    """Creates announcements with their outbox rows; records and counts acknowledgements."""

    def __init__(
        self,
        store: Store,
        policies: PolicyRepository,
        config: AnnouncementConfig,
        versions: Versions,
        waker: Waker | None = None,
    ) -> None:
        self.store = store
        self.policies = policies
        self.config = config
        # Announcements tell of versions (the version handler places each change first).
        self.versions = versions
        # Rung after a commit that created deliveries, so a running scheduler sends them now
        # instead of at its next poll.
        self.waker = waker or Waker()

    # -- creating --------------------------------------------------------------------------

    def on_change(self, uow: UnitOfWork, event: ChangeEvent) -> None:
        """The in-transaction handler (after the version's): one announcement per policy
        version, however many changes the version has (the first load into an empty
        registry is imported quietly, and a scheduled change on its day was announced when
        it was scheduled)."""
        if event.quiet or not self.config.channel:
            return
        removal = event.change.after is None
        if not removal and not is_material(event):
            return
        assert uow.version is not None, "the version handler runs first"
        version = uow.version.row
        session = uow.session
        today = event.at.astimezone(self.config.zone).date()
        uow.announced.append(version_item(event, today))
        if uow.announcement is not None:
            self._extend(uow, uow.announcement, version.id, event)
            return
        if removal:
            # A version that only removes tools is news too: staff may have been using them.
            uow.announcement = self._announce_removal(session, event)
            self._extend(uow, uow.announcement, version.id, event)
            return
        uow.announcement = self._announce_change(session, event)
        uow.announcement.version_id = version.id
        if event.change.after is not None and event.change.after.effective is not None:
            uow.countdowns.add(event.change.after.effective)

    def _extend(
        self, uow: UnitOfWork, row: Announcement, version_id: int | None, event: ChangeEvent
    ) -> None:
        """The version's announcement now lists every change of it, grouped."""
        session, items = uow.session, uow.announced
        row.version_id = version_id
        row.tool_key = None
        row.tool_name = None
        row.reason = None
        row.summary = version_headline(version_id, items)
        # Reminders go to the audiences' members when every change is for audiences only.
        only = all(i.get("audiences") for i in items)
        audiences = list(dict.fromkeys(a for i in items for a in i.get("audiences") or ()))
        row.details = {
            "items": list(items),
            "version": version_id,
            "audiences": audiences if only else [],
        }
        dates = sorted({dt.date.fromisoformat(i["effective"]) for i in items if i["effective"]})
        row.effective = dates[0] if len(dates) == 1 else None
        session.add(row)
        assert row.id is not None and row.channel is not None
        after = event.change.after
        # One countdown per date in the version: the first dated change's came with the row.
        counted = uow.countdowns
        if after is not None and after.effective is not None and after.effective not in counted:
            counted.add(after.effective)
            for offset, due in self._effective_reminders(after.effective, event.at):
                kind = f"effective-{duration_label(offset)}@{after.effective.isoformat()}"
                session.add(
                    Delivery(announcement_id=row.id, recipient=row.channel, kind=kind, due_at=due)
                )
        session.flush()

    def _announce_change(self, session: Session, event: ChangeEvent) -> Announcement:
        """Called by `on_change` inside the change's transaction: both commit or neither."""
        change = event.change
        assert change.after is not None
        today = event.at.astimezone(self.config.zone).date()
        details = policy_details(change.after)
        details["changes"] = {
            name: [plain_value(old), plain_value(new)]
            for name, (old, new) in change.changed.items()
            if name in MATERIAL_FIELDS
        }
        details["new_tool"] = change.before is None
        details["digest"] = policy_digest(change.after)
        # A change for audiences only: reminders go to their members, not everyone.
        details["audiences"] = only_for_audiences(change.before, change.after)
        row = self._create(
            session,
            kind="change",
            policy=change.after,
            summary=headline(change.before, change.after, change.changed, today),
            details=details,
            author=event.author,
            now=event.at,
        )
        self._wake_after_commit(session)
        return row

    def _announce_removal(self, session: Session, event: ChangeEvent) -> Announcement:
        """The announcement of a version whose first change removes a tool (`_extend` then
        lists the version's changes in it, grouped under "Removed tools")."""
        before = event.change.before
        assert before is not None
        # The removed tool's date and reason are its old policy's, not this version's news.
        gone = replace(before, effective=None, reason=None)
        row = self._create(
            session,
            kind="change",
            policy=gone,
            summary=f"{before.name}: removed from the registry",
            details={"changes": {}, "removed": True},
            author=event.author,
            now=event.at,
        )
        self._wake_after_commit(session)
        return row

    def audience_members(
        self, announcement_id: int, members: Sequence[str], membership: AudienceMembers
    ) -> list[str]:
        """Of the announce channel's `members`, those an announcement is for: everyone, or
        for a change made for some audiences only, the members of those audiences."""
        with self.store.reader() as session:
            row = session.get(Announcement, announcement_id)
            names = set((row.details or {}).get("audiences") or ()) if row is not None else set()
        if not names:
            return list(members)
        audiences = [a for a in self.policies.audiences() if a.name in names]
        return [m for m in members if membership.audiences_of(m, audiences)]

    def announce_again(self, tool: str, *, author: str) -> AnnouncementView:
        """`announce <tool>`: send the tool's current policy to the channel again.

        It is a new announcement (its own acknowledgements and reminders) and replaces the
        tool's earlier one, whose pending reminders are cancelled.
        """
        if not self.config.channel:
            raise AnnouncementError(
                "announcements are off: set POLICYBOT_ANNOUNCE_CHANNEL to a channel id"
            )
        policy = self.policies.resolve(tool)
        now = self.store.clock()
        today = now.astimezone(self.config.zone).date()
        details = policy_details(policy)
        details["changes"] = {}
        details["digest"] = policy_digest(policy)
        with self.store.session() as session:
            row = self._create(
                session,
                kind="manual",
                policy=policy,
                summary=current_headline(policy, today),
                details=details,
                author=author,
                now=now,
            )
            view = view_of(row)
        self._wake()
        return view

    def _create(
        self,
        session: Session,
        *,
        kind: str,
        policy: ToolPolicy,
        summary: str,
        details: dict[str, Any],
        author: str,
        now: dt.datetime,
    ) -> Announcement:
        channel = self.config.channel
        assert channel is not None
        key = name_key(policy.name)
        self._supersede(session, key, now)
        row = Announcement(
            kind=kind,
            tool_key=key,
            tool_name=policy.name,
            summary=summary,
            reason=policy.reason,
            details=details,
            effective=policy.effective,
            author=author,
            channel=channel,
            created_at=now,
        )
        row_id = _add_with_post(session, row, kind="announcement", due=now)
        for offset, due in self._effective_reminders(policy.effective, now):
            session.add(
                Delivery(
                    announcement_id=row_id,
                    recipient=channel,
                    kind=f"effective-{duration_label(offset)}",
                    due_at=due,
                )
            )
        session.add(ScheduledStep(announcement_id=row_id, kind="audience", due_at=now))
        for number, offset in enumerate(self.config.reminder_offsets(), start=1):
            session.add(
                ScheduledStep(
                    announcement_id=row_id, kind=f"reminder-{number}", due_at=now + offset
                )
            )
        session.flush()
        return row

    def _effective_reminders(
        self, effective: dt.date | None, now: dt.datetime
    ) -> list[tuple[dt.timedelta, dt.datetime]]:
        """(offset, when) for each effective-date reminder still ahead of `now`."""
        # A change in force from today (a status change without a date) needs no countdown.
        if effective is None or effective <= now.astimezone(self.config.zone).date():
            return []
        start = dt.datetime.combine(effective, dt.time(REMINDER_HOUR), tzinfo=self.config.zone)
        due = [(offset, start - offset) for offset in self.config.effective_reminders]
        return [(offset, when.astimezone(dt.UTC)) for offset, when in due if when > now]

    def _supersede(self, session: Session, key: str, now: dt.datetime) -> None:
        """Stop what is still pending for the tool's earlier announcements."""
        older = list(
            session.exec(
                select(Announcement.id).where(
                    Announcement.tool_key == key,
                    col(Announcement.superseded_at).is_(None),
                    Announcement.kind != DIGEST_KIND,
                )
            ).all()
        )
        if not older:
            return
        session.exec(
            sa.update(Announcement).where(col(Announcement.id).in_(older)).values(superseded_at=now)
        )
        session.exec(
            sa.update(Delivery)
            .where(col(Delivery.announcement_id).in_(older), col(Delivery.status) == "pending")
            .values(status="cancelled", last_error="replaced by a later announcement")
        )
        session.exec(
            sa.update(ScheduledStep)
            .where(
                col(ScheduledStep.announcement_id).in_(older),
                col(ScheduledStep.done_at).is_(None),
            )
            .values(done_at=now)
        )

    def _wake_after_commit(self, session: Session) -> None:
        self.waker.after_commit(session)

    def _wake(self) -> None:
        self.waker.ring()

    # -- acknowledging ---------------------------------------------------------------------

    def acknowledge(self, announcement_id: int, user: str) -> AckResult:
        """Record that `user` acknowledged; pressing twice keeps the first time."""
        try:
            return self._acknowledge(announcement_id, user)
        except sa.exc.IntegrityError:  # a double click raced us; the first one counts
            return self._acknowledge(announcement_id, user)

    def _acknowledge(self, announcement_id: int, user: str) -> AckResult:
        now = self.store.clock()
        with self.store.session() as session:
            row = session.get(Announcement, announcement_id)
            if row is None:
                raise AnnouncementError("that announcement no longer exists")
            # Only policy announcements are acknowledged: not a notice (a DM, an admin post)
            # nor a digest, whatever id a button carries.
            if row.kind not in ANNOUNCED_KINDS:
                raise AnnouncementError("there is no policy announcement to acknowledge there")
            existing = session.exec(
                select(Acknowledgement).where(
                    Acknowledgement.announcement_id == announcement_id,
                    Acknowledgement.user_id == user,
                )
            ).first()
            if existing is not None:
                return AckResult(view_of(row), False, existing.at)
            session.add(Acknowledgement(announcement_id=announcement_id, user_id=user, at=now))
            # Reminders not yet sent to this person are no longer needed.
            session.exec(
                sa.update(Delivery)
                .where(
                    col(Delivery.announcement_id) == announcement_id,
                    col(Delivery.recipient) == user,
                    col(Delivery.status) == "pending",
                )
                .values(status="skipped", last_error="acknowledged")
            )
            return AckResult(view_of(row), True, now)

    def latest(self, tool: str) -> AnnouncementView | None:
        """The most recent announcement of a tool (by name or alias, or a removed tool's name)."""
        try:
            key = name_key(self.policies.resolve(tool).name)
        except UnknownToolError:
            key = name_key(tool)
        with Session(self.store.engine) as session:
            row = session.exec(
                select(Announcement)
                .where(
                    sa.or_(
                        col(Announcement.tool_key) == key,
                        # A version of several tools names none of them: find it by revision.
                        col(Announcement.version_id).in_(
                            select(Revision.version_id).where(Revision.tool_key == key)
                        ),
                    ),
                    col(Announcement.kind).in_(ANNOUNCED_KINDS),
                )
                .order_by(col(Announcement.id).desc())
            ).first()
            return view_of(row) if row else None

    def of_version(self, number: int) -> AnnouncementView | None:
        """The announcement of policy version `number`, if it was announced."""
        with Session(self.store.engine) as session:
            row = session.exec(
                select(Announcement)
                .where(Announcement.version_id == number)
                .order_by(col(Announcement.id).desc())
            ).first()
            return view_of(row) if row else None

    def ack_stats(self, tool: str) -> AckStats:
        """How many acknowledged the tool's latest announcement and who of the channel has not.

        The audience is the announce channel's members as the scheduler last read them (when
        the announcement went out and at each reminder round), so people who joined later count
        from the next round on.
        """
        number = parse_version(tool)
        view = self.of_version(number) if number is not None else self.latest(tool)
        if view is None:
            if number is not None:
                raise AnnouncementError(f"version v{number} was not announced")
            self.policies.resolve(tool)  # UnknownToolError for a name that is not a tool
            raise AnnouncementError(
                f"{tool} has not been announced yet: use `announce {tool}` to send its policy"
            )
        with Session(self.store.engine) as session:
            acked, audience = _acked_and_audience(session, view.id)
            read = session.exec(
                select(ScheduledStep.id).where(
                    ScheduledStep.announcement_id == view.id,
                    col(ScheduledStep.recipients).is_not(None),
                )
            ).first()
            counts = dict(
                session.exec(
                    select(Delivery.status, sa.func.count())
                    .where(
                        Delivery.announcement_id == view.id,
                        col(Delivery.kind).startswith("reminder-"),
                    )
                    .group_by(col(Delivery.status))
                ).all()
            )
        return AckStats(
            announcement=view,
            acknowledged=len(acked),
            audience=len(audience | acked) if read is not None else None,
            missing=sorted(audience - acked),
            reminders_sent=int(counts.get("sent", 0)),
            failed=int(counts.get("failed", 0)),
        )

    # -- the weekly digest -----------------------------------------------------------------

    def create_digest(
        self, now: dt.datetime, *, days: int = 7, slot: dt.datetime | None = None
    ) -> AnnouncementView | None:
        """Write this week's digest for the admin channel, to be sent.

        `slot` is the scheduled run it stands for (default: now); one digest per slot, however
        many replicas or restarts try.
        """
        channel = self.config.admin_channel
        if not channel:
            return None
        since = now - dt.timedelta(days=days)
        details = self.digest_details(since, now)
        key = f"digest:{(slot or now).astimezone(dt.UTC).isoformat(timespec='minutes')}"
        try:
            with self.store.session() as session:
                row = Announcement(
                    kind=DIGEST_KIND,
                    summary=f"Weekly AI-policy digest: {len(details['changes'])} changes",
                    details=details,
                    author="policybot",
                    channel=channel,
                    dedupe_key=key,
                    created_at=now,
                )
                _add_with_post(session, row, kind="digest", due=now)
                view = view_of(row)
        except sa.exc.IntegrityError:  # another replica wrote this run's digest already
            return None
        self._wake()
        return view

    def last_digest_at(self) -> dt.datetime | None:
        """When the newest digest was written, if ever."""
        with Session(self.store.engine) as session:
            return session.exec(
                select(sa.func.max(Announcement.created_at)).where(Announcement.kind == DIGEST_KIND)
            ).one()

    def digest_details(self, since: dt.datetime, until: dt.datetime) -> dict[str, Any]:
        """Changes since `since`, acknowledgement rates, and the most asked unanswered questions."""
        with Session(self.store.engine) as session:
            revisions = session.exec(
                select(Revision)
                .where(col(Revision.at) >= since, col(Revision.at) < until)
                .order_by(col(Revision.id))
            ).all()
            changes = [
                {
                    "tool": r.tool_name,
                    "action": r.action,
                    "author": r.author,
                    "at": r.at.isoformat(),
                    "fields": sorted(r.changes),
                }
                for r in revisions
            ]
            recent = session.exec(
                select(Announcement)
                .where(
                    col(Announcement.kind).in_(ANNOUNCED_KINDS),
                    col(Announcement.superseded_at).is_(None),
                    col(Announcement.created_at) >= until - dt.timedelta(days=30),
                )
                .order_by(col(Announcement.id))
            ).all()
            rates = []
            for row in recent:
                assert row.id is not None
                acked, audience = _acked_and_audience(session, row.id)
                rates.append(
                    {
                        "tool": row.tool_name,
                        "announced": row.created_at.isoformat(),
                        "acknowledged": len(acked),
                        "audience": len(audience | acked),
                    }
                )
            questions = session.exec(
                select(QuestionLog.question).where(
                    col(QuestionLog.answered).is_(False),
                    col(QuestionLog.asked_at) >= since,
                    col(QuestionLog.asked_at) < until,
                )
            ).all()
            feedback = feedback_per_tool(session, since, until)
        return {
            "since": since.isoformat(),
            "until": until.isoformat(),
            "changes": changes,
            "acks": rates,
            "unanswered": top_questions(questions),
            "feedback": feedback,
        }


def top_questions(questions: Sequence[str], limit: int = 5) -> list[list[Any]]:
    """[[question, times asked], ...], most asked first, ignoring case and end punctuation."""
    grouped: dict[str, list[Any]] = {}
    for question in questions:
        key = " ".join(question.casefold().split()).rstrip("?!. \uff01\uff1f")
        entry = grouped.setdefault(key, [question, 0])
        entry[1] += 1
    return sorted(grouped.values(), key=lambda item: -item[1])[:limit]
