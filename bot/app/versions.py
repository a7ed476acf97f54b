"""Policy versions: every change to the registry belongs to one.

A version is what one transaction changed: one command, one import, one published draft. It
is created by the first change of the transaction (a step that runs inside it, before the
announcement step) and every revision written in that transaction is placed in it; later
changes of the same transaction add their items to it. Its number is its id: v1, v2, ...

The first version of an empty database that comes from an import is the *baseline*: the
registry as it was first loaded, recorded but never news.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.adapters.db.models import (
    Acknowledgement,
    Announcement,
    AudienceMember,
    Delivery,
    PolicyVersion,
    Revision,
)
from bot.adapters.db.store import Store
from bot.app.unit_of_work import OpenVersion, UnitOfWork
from bot.domain.errors import PolicyError
from bot.domain.events import ChangeEvent
from bot.domain.policy import Status

# How a change is grouped in a version's announcement, in this order.
GROUPS = (
    ("banned", "Now banned"),
    ("allowed", "Now allowed"),
    ("limits", "Conditions or data limit changed"),
    ("new", "New tools"),
    ("removed", "Removed tools"),
    ("scheduled", "Changes to come"),
    ("cancelled", "Cancelled changes"),
    ("other", "Other changes"),
)


# A group's heading said of one tool ("Windsurf: removed", not "Windsurf: removed tools").
_ONE = {"new": "new tool", "removed": "removed", "other": "other changes"}
# A group in a count: (one, more) — "1 new tool", "2 new tools".
_COUNTED = {
    "banned": ("now banned", "now banned"),
    "allowed": ("now allowed", "now allowed"),
    "limits": ("with conditions or data limit changed", "with conditions or data limit changed"),
    "new": ("new tool", "new tools"),
    "removed": ("removed tool", "removed tools"),
    "scheduled": ("change to come", "changes to come"),
    "cancelled": ("cancelled change", "cancelled changes"),
    "other": ("other change", "other changes"),
}


@dataclass(frozen=True)
class VersionView:
    number: int
    author: str
    source: str
    summary: str
    baseline: bool
    created_at: dt.datetime
    changes: list[dict[str, Any]]


@dataclass(frozen=True)
class AckRow:
    """One line of the auditors' export."""

    person: str
    version: int
    acknowledged_at: dt.datetime | None
    reminders_sent: int
    # The audiences whose rule made the person owe it ("" when the version was for everyone).
    audience: str = ""


def group_of(event: ChangeEvent) -> str:
    """Which heading a change goes under in its version's announcement."""
    change = event.change
    if change.after is None:
        return "removed"
    if change.before is None:
        return "new"
    if change.scheduled_for is not None:
        return "scheduled"  # announced now, in force later: not "now banned"
    if set(change.changed) == {"scheduled"}:
        return "cancelled"  # `unschedule`: today's policy stays
    if "status" in change.changed:
        if change.after.status is Status.BANNED:
            return "banned"
        if change.after.status is Status.ALLOWED:
            return "allowed"
    if {"conditions", "max_data", "status"} & set(change.changed):
        return "limits"
    return "other"


def _label_of(event: ChangeEvent) -> str | None:
    """What one change did, when its group's heading would not say it truthfully: a change
    to come names its day, a cancelled one what was cancelled."""
    change = event.change
    group = group_of(event)
    if group == "scheduled" and change.after is not None and change.scheduled_for:
        status = STATUS_WORDS.get(change.after.status, change.after.status.value)
        return f"to be {status} from {change.scheduled_for.isoformat()}"
    if group == "cancelled" and change.before is not None and change.before.scheduled:
        planned = change.before.scheduled
        status = STATUS_WORDS.get(planned.status, planned.status.value)
        return f"the change to {status} from {planned.effective.isoformat()} cancelled"
    return None


STATUS_WORDS = {Status.UNDER_REVIEW: "under review", Status.CONDITIONAL: "conditional"}


def version_label(number: int) -> str:
    return f"v{number}"


def parse_version(text: str) -> int | None:
    """'v12' or '12' -> 12; None when it is not a version number."""
    digits = text.strip().lower().removeprefix("v")
    return int(digits) if digits.isdigit() else None


class Versions:
    """Creates the transaction's version, places its revisions, and reads versions back."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # -- writing (inside the change's transaction) ------------------------------------------

    def on_change(self, uow: UnitOfWork, event: ChangeEvent) -> None:
        """In the change's transaction: the change joins the transaction's version (its
        revisions and the version's summary are written once, before the commit)."""
        current = self.current(uow, event)
        name = event.change.after or event.change.before
        current.items.append(
            {
                "tool": name.name if name is not None else "?",
                "group": group_of(event),
                "fields": sorted(event.change.changed),
                "label": _label_of(event),
            }
        )
        current.times.add(event.at)
        current.source = event.source
        uow.before_commit(self._close)

    @staticmethod
    def _close(uow: UnitOfWork) -> None:
        """Once a transaction: its revisions (which carry its changes' time) join its version,
        and the version's summary counts every change (one statement, not one a change)."""
        current = uow.version
        if current is None:
            return
        session = uow.session
        session.execute(
            sa.update(Revision)
            .where(col(Revision.version_id).is_(None), col(Revision.at).in_(current.times))
            .values(version_id=current.row.id),
            execution_options={"synchronize_session": False},
        )
        current.row.summary = summary_of(current.items, current.source, current.row.baseline)
        session.add(current.row)

    @staticmethod
    def current(uow: UnitOfWork, event: ChangeEvent) -> OpenVersion:
        """The version this transaction writes into, created by its first change."""
        if uow.version is not None:
            return uow.version
        session = uow.session
        first = session.exec(select(PolicyVersion.id).limit(1)).first() is None
        row = PolicyVersion(
            author=event.author,
            source=event.source,
            summary="",
            baseline=first and event.source == "import",
            created_at=event.at,
        )
        session.add(row)
        session.flush()
        uow.version = OpenVersion(row)
        return uow.version

    # -- reading ----------------------------------------------------------------------------

    def latest(self, limit: int = 5) -> list[VersionView]:
        """The newest versions first."""
        with Session(self.store.engine) as session:
            rows = session.exec(
                select(PolicyVersion).order_by(col(PolicyVersion.id).desc()).limit(limit)
            ).all()
            return [self._view(session, row) for row in rows]

    def get(self, number: int) -> VersionView:
        with Session(self.store.engine) as session:
            row = session.get(PolicyVersion, number)
            if row is None:
                raise PolicyError(f"there is no version v{number}: `changes` lists them")
            return self._view(session, row)

    def excerpt(self, number: int, limit: int) -> tuple[VersionView, int]:
        """Version `number` with its first `limit` changes only, and how many it has: a
        page shows a baseline of 10,000 tools without reading them all."""
        with Session(self.store.engine) as session:
            row = session.get(PolicyVersion, number)
            if row is None:
                raise PolicyError(f"there is no version v{number}: `changes` lists them")
            total = session.exec(
                select(sa.func.count()).select_from(Revision).where(Revision.version_id == number)
            ).one()
            return self._view(session, row, limit), int(total)

    def _view(self, session: Session, row: PolicyVersion, limit: int | None = None) -> VersionView:
        assert row.id is not None
        revisions = session.exec(
            select(Revision)
            .where(Revision.version_id == row.id)
            .order_by(col(Revision.id))
            .limit(limit)
        ).all()
        changes = [
            {"tool": r.tool_name, "action": r.action, "changes": dict(r.changes or {})}
            for r in revisions
        ]
        return VersionView(
            row.id, row.author, row.source, row.summary, row.baseline, row.created_at, changes
        )

    def acks_export(self) -> list[AckRow]:
        """Person, version, when acknowledged (None: not yet), reminders sent: every person
        in the audience of every announced version, as the audience was read."""
        with Session(self.store.engine) as session:
            announced = session.exec(
                select(Announcement.id, Announcement.version_id, Announcement.details).where(
                    col(Announcement.version_id).is_not(None)
                )
            ).all()
            version_of = {a: v for a, v, _details in announced}
            audience_of = {
                a: ", ".join((details or {}).get("audiences") or ()) for a, _v, details in announced
            }
            if not version_of:
                return []
            ids = list(version_of)
            audience = session.exec(
                select(AudienceMember.announcement_id, AudienceMember.user_id).where(
                    col(AudienceMember.announcement_id).in_(ids)
                )
            ).all()
            acks = {
                (a, u): at
                for a, u, at in session.exec(
                    select(
                        Acknowledgement.announcement_id, Acknowledgement.user_id, Acknowledgement.at
                    ).where(col(Acknowledgement.announcement_id).in_(ids))
                ).all()
            }
            reminders = dict(
                ((a, u), int(n))
                for a, u, n in session.exec(
                    select(Delivery.announcement_id, Delivery.recipient, sa.func.count())
                    .where(
                        col(Delivery.announcement_id).in_(ids),
                        col(Delivery.kind).startswith("reminder-"),
                        col(Delivery.status) == "sent",
                    )
                    .group_by(col(Delivery.announcement_id), col(Delivery.recipient))
                ).all()
            )
        people = {(a, u) for a, u in audience} | set(acks)
        rows = [
            AckRow(
                u,
                int(version_of[a] or 0),
                acks.get((a, u)),
                reminders.get((a, u), 0),
                audience_of.get(a, ""),
            )
            for a, u in people
        ]
        return sorted(rows, key=lambda r: (r.version, r.person))


def summary_of(items: list[dict[str, Any]], source: str, baseline: bool) -> str:
    """'Cursor: banned' for one change; 'import: 3 changes (2 new, 1 now banned)' for more."""
    if baseline:
        return f"Baseline: {len(items)} tools loaded"
    if len(items) == 1:
        item = items[0]
        label = item.get("label") or _ONE.get(item["group"]) or dict(GROUPS)[item["group"]].lower()
        return f"{item['tool']}: {label}"
    counts: dict[str, int] = {}
    for item in items:
        counts[item["group"]] = counts.get(item["group"], 0) + 1
    parts = [
        f"{counts[g]} {_COUNTED[g][0 if counts[g] == 1 else 1]}" for g, _ in GROUPS if g in counts
    ]
    origin = source if source in ("import", "scheduled") else "changes"
    return f"{origin}: {len(items)} changes ({', '.join(parts)})"


_WHAT_CHANGED = re.compile(
    r"\bwhat(?:'s|\s+is|\s+has|\s+have)?\s+(?:changed|new|are\s+the\s+changes)\b"
    r"|\b(?:latest|recent)\s+(?:policy\s+)?changes\b"
    r"|(?:有什么|什么)(?:新的?)?变化|有什么新|最近.{0,6}(?:变化|更新)",
    re.IGNORECASE,
)


def asks_what_changed(text: str) -> bool:
    """'what changed?', "what's new in the AI policy?", '有什么变化' — about the policy as a
    whole (short, or naming the policy), not one tool's news."""
    if not _WHAT_CHANGED.search(text):
        return False
    short = len(text.split()) <= 6 or len(text) <= 12
    return short or "polic" in text.lower() or "政策" in text
