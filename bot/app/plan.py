"""What an import would change, tool by tool and field by field, before it is done.

The plan is worked out by the import's own code (`changes.imported`: the policies as they
would be kept, names, alternatives, dates), with the same field diff (`diff`) and the same
announcement rule (`is_material`). `import --dry-run`, `plan`, `doctor` and the start-up
sync all read it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.app.admin import describe_value
from bot.app.announcements import is_material
from bot.app.changes import imported
from bot.domain.events import Change, ChangeEvent, diff
from bot.domain.names import name_key
from bot.domain.policy import ToolPolicy


@dataclass(frozen=True)
class PlannedChange:
    """One tool the import would create, update or remove, with each field's old and new."""

    name: str
    action: str  # "create", "update", "schedule" or "remove"
    changes: dict[str, tuple[Any, Any]]
    announced: bool
    # For "schedule": the day the change takes effect (today's policy holds until then).
    scheduled_for: dt.date | None = None


@dataclass(frozen=True)
class ImportPlan:
    changes: list[PlannedChange] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    # In the database but not in the files: removed with --prune, kept without it.
    only_in_database: list[str] = field(default_factory=list)
    prune: bool = False
    quiet: bool = False
    announce_channel: str | None = None

    @property
    def has_changes(self) -> bool:
        return bool(self.changes)

    def of(self, action: str) -> list[PlannedChange]:
        return [change for change in self.changes if change.action == action]

    def fields_of(self, name: str) -> list[str]:
        """The fields the plan changes on tool `name` (none if it does not change it)."""
        key = name_key(name)
        found = next((c for c in self.changes if name_key(c.name) == key), None)
        return list(found.changes) if found else []

    @property
    def removed(self) -> list[str]:
        return [change.name for change in self.of("remove")]

    @property
    def announced(self) -> list[PlannedChange]:
        return [change for change in self.changes if change.announced]


def plan_import(
    current: Sequence[ToolPolicy],
    incoming: Sequence[ToolPolicy],
    *,
    prune: bool = False,
    quiet: bool = False,
    announce_channel: str | None = None,
    today: dt.date | None = None,
) -> ImportPlan:
    """What importing `incoming` over `current` would do, by the import's own rules
    (`imported`); PolicyError for what the import would refuse."""
    now = dt.datetime.now(dt.UTC)
    outcome = imported(current, incoming, prune=prune, today=today or now.date())
    changes: list[PlannedChange] = []
    unchanged: list[str] = []

    def planned(old: ToolPolicy | None, new: ToolPolicy | None, action: str) -> PlannedChange:
        changed = diff(old, new)
        later = new.effective if new is not None and action == "schedule" else None
        change = Change(old, new, changed, scheduled_for=later)
        event = ChangeEvent(change, "import", "import", quiet, now)
        announced = bool(announce_channel) and not quiet and is_material(event)
        tool = new or old
        assert tool is not None
        return PlannedChange(tool.name, action, changed, announced, later)

    for old, new in outcome.written:
        key = name_key(new.name)
        if old is None:
            changes.append(planned(None, new, "create"))
        elif key in outcome.pending:
            unchanged.append(new.name)
        elif key in outcome.scheduled:
            changes.append(planned(old, new, "schedule"))
        elif diff(old, new):
            changes.append(planned(old, new, "update"))
        else:
            unchanged.append(new.name)
    changes.extend(planned(old, None, "remove") for old in outcome.removed)
    files = {name_key(new.name) for _old, new in outcome.written}
    only = [p.name for p in current if name_key(p.name) not in files]
    return ImportPlan(changes, unchanged, only, prune, quiet, announce_channel)


def _shown(value: Any) -> str:
    if value is None or value == [] or value == {}:
        return "(none)"
    if isinstance(value, dict) or (isinstance(value, list) and isinstance(value[0], dict)):
        return describe_value(value)  # rules ("for china-engineering: …"), translations
    if isinstance(value, list):
        return "[" + ", ".join(str(item) for item in value) + "]"
    return str(value)


def describe_plan(plan: ImportPlan) -> list[str]:
    """The plan as lines for people: each tool, each field old → new, then a summary."""
    marks = {"create": "+", "update": "~", "schedule": "~", "remove": "-"}
    words = {"create": "new tool", "update": "changed", "remove": "removed (--prune)"}
    lines: list[str] = []
    for change in plan.changes:
        word = words.get(change.action) or (
            f"scheduled from {change.scheduled_for} (today's policy stays until then)"
        )
        lines.append(f"{marks[change.action]} {change.name}: {word}")
        for name, (old, new) in change.changes.items():
            if change.action == "create":
                lines.append(f"    {name}: {_shown(new)}")
            elif change.action in ("update", "schedule"):
                lines.append(f"    {name}: {_shown(old)} → {_shown(new)}")
        if change.action != "remove":
            lines.append(f"    announced: {'yes' if change.announced else 'no'}")
    created, updated, removed = (len(plan.of(a)) for a in ("create", "update", "remove"))
    lines.append(
        f"{created} to create, {updated} to update, {removed} to remove, "
        f"{len(plan.unchanged)} unchanged"
        + (f", {len(plan.of('schedule'))} scheduled" if plan.of("schedule") else "")
    )
    if plan.only_in_database and not plan.prune:
        names = ", ".join(plan.only_in_database)
        lines.append(
            f"--prune would remove {len(plan.only_in_database)} tool(s) the files do not "
            f"list: {names}"
        )
    lines.append(announcement_line(plan))
    return lines


def announcement_line(plan: ImportPlan) -> str:
    if not plan.changes:
        return "nothing would be announced"
    if plan.quiet:
        return "nothing would be announced (--quiet)"
    if not plan.announce_channel:
        return "nothing would be announced (POLICYBOT_ANNOUNCE_CHANNEL is not set)"
    if not plan.announced:
        return (
            "nothing would be announced (no change to status, conditions, data limit, "
            "alternatives or effective date)"
        )
    names = ", ".join(change.name for change in plan.announced)
    return f"{len(plan.announced)} change(s) would be announced in {plan.announce_channel}: {names}"
