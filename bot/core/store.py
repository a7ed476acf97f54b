"""The database handle every repository shares: engine, clock, one transaction per use case.

`Store` opens sessions; it writes nothing itself. Who writes what is visible by repository:

* `policy_repo.PolicyRepository` — the registry (tool, alias), its history (revision), the
  scheduled changes and the registry generation; written only by `changes.PolicyChanges`;
* `question_repo.QuestionRepository` — the question log;
* `event_repo.EventRepository` — Slack event ids already handled;
* `outbox.Outbox` and `schedule.leader.Lease` — deliveries and the sender's lease;
* `announcements.Announcements` — announcements and acknowledgements.

The errors and value types of the write path live here so that every layer can name them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from bot.core.models import utcnow
from bot.core.names import name_key
from bot.core.policy import ToolPolicy

__all__ = [
    "Change",
    "ChangeEvent",
    "Clock",
    "ImportReport",
    "PermissionDenied",
    "PolicyError",
    "RevisionView",
    "StaleEditError",
    "Store",
    "UnknownToolError",
    "after_commit",
    "diff",
    "name_key",
    "plain_value",
]

Clock = Callable[[], dt.datetime]

# Fields compared and recorded per revision, in YAML order (name is the identity).
TRACKED = tuple(f for f in ToolPolicy.FIELDS if f != "name")


class PolicyError(ValueError):
    """A change that cannot be made; the message is a sentence for people.

    `field` names the policy field at fault when there is one (the edit form shows the
    message on that field). `problems` holds every (field, sentence) found when a policy was
    checked as a whole, so a form can show them all at once; the message is the first.
    """

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        problems: Sequence[tuple[str | None, str]] = (),
    ) -> None:
        super().__init__(message)
        self.field = field
        self.problems: tuple[tuple[str | None, str], ...] = tuple(problems) or ((field, message),)


class UnknownToolError(PolicyError):
    def __init__(
        self,
        name: str,
        suggestions: Sequence[str] = (),
        *,
        field: str | None = None,
        hint: str = "",
    ) -> None:
        self.name = name
        self.suggestions = tuple(suggestions)
        close = f" Did you mean {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"no tool named '{name}' in the registry.{close}{hint}", field=field)


class StaleEditError(PolicyError):
    """Someone else changed the tool since it was read: optimistic locking refused the write."""


class PermissionDenied(PolicyError):
    """The person may not make this change (not a policy admin)."""


@dataclass(frozen=True)
class RevisionView:
    tool: str
    action: str  # create | update | delete | schedule
    author: str
    source: str
    at: dt.datetime
    changes: dict[str, Any]
    # The policy version the revision belongs to (`Revision.version_id`, shown as vN); None
    # for revisions written before versions existed and not placed by the migration.
    version: int | None = None


@dataclass(frozen=True)
class Change:
    """The outcome of one write: the policy before and after, and what changed.

    For a scheduled change, `after` is the policy as it will be from `scheduled_for`, and
    the registry itself has not changed yet.
    """

    before: ToolPolicy | None
    after: ToolPolicy | None
    changed: dict[str, tuple[Any, Any]]
    version: int = 0
    scheduled_for: dt.date | None = None

    @property
    def is_noop(self) -> bool:
        return not self.changed


@dataclass(frozen=True)
class ChangeEvent:
    """A change as the after-write steps see it (announcements), inside its transaction."""

    change: Change
    author: str
    source: str
    quiet: bool
    at: dt.datetime


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    # Existing tools whose status change is kept for a later day.
    scheduled: list[str] = field(default_factory=list)


def plain_value(value: Any) -> Any:
    """A JSON-friendly form of a policy value (lists, ISO dates), for revisions and messages."""
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def diff(before: ToolPolicy | None, after: ToolPolicy | None) -> dict[str, tuple[Any, Any]]:
    """Each tracked field whose value differs, as (old, new) in JSON-friendly form."""
    changed: dict[str, tuple[Any, Any]] = {}
    for name in TRACKED:
        old = plain_value(getattr(before, name)) if before else None
        new = plain_value(getattr(after, name)) if after else None
        if name in ("aliases", "alternatives"):
            old, new = old or [], new or []
            if before is None:
                old = None
            if after is None:
                new = None
        if old != new and not (old in (None, []) and new in (None, [])):
            changed[name] = (old, new)
    return changed


def after_commit(session: Session, effect: Callable[[], None]) -> None:
    """Run `effect` once the session's transaction has committed (never on a rollback)."""
    sa.event.listen(session, "after_commit", lambda _session: effect(), once=True)


class Store:
    """The database behind every repository: an engine, a clock and transactions."""

    def __init__(self, engine: sa.Engine, clock: Clock = utcnow) -> None:
        self.engine = engine
        self.clock = clock

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back on an exception."""
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield session

    def reader(self) -> Session:
        """A session for reading (use as a context manager)."""
        return Session(self.engine)
