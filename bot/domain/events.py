"""What a change is, as every layer sees it: before and after, the fields that changed, the
revision kept for history, and the event the after-write steps receive. No I/O."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from bot.domain.audiences import rules_plain, translations_plain
from bot.domain.policy import AudienceRule, ToolPolicy, Translation

# Fields compared and recorded per revision, in YAML order (name is the identity).
TRACKED = (*(f for f in ToolPolicy.FIELDS if f != "name"), *ToolPolicy.SCOPED)


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

    @property
    def on_its_day(self) -> bool:
        """A scheduled change applied on its day: staff were told when it was scheduled."""
        return self.quiet and self.source == "scheduled"


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
    if isinstance(value, tuple) and value and isinstance(value[0], AudienceRule):
        return rules_plain(value)
    if isinstance(value, tuple) and value and isinstance(value[0], Translation):
        return translations_plain(value)
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
        if name in ("aliases", "alternatives", "rules", "translations"):
            old, new = old or [], new or []
            if before is None:
                old = None
            if after is None:
                new = None
        if old != new and not (old in (None, []) and new in (None, [])):
            changed[name] = (old, new)
    return changed
