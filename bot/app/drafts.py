"""Staged changes: a draft of the next policy version, published as one version or discarded.

Admins stage typed commands — `draft set …`, `draft alias …`, `draft add …`, `draft remove …`,
and the Slack form opened with `draft edit <tool>` — into one draft the admins share. Staff
see none of it: the registry is not touched until `publish` replays every staged command, in
the order staged, through `PolicyChanges` in one transaction: one policy version, one
announcement. A staged command that no longer applies (its tool was removed or edited
meanwhile) refuses the whole publish with one line, and nothing changes.

Staging tries the command on top of the draft (a trial run, rolled back), so a mistake is
refused when it is typed, and `draft` shows what each staged change does: tool, field
old → new, who staged it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.adapters.db.models import StagedChange
from bot.adapters.db.policy_repo import policy_from_values
from bot.adapters.db.store import Store
from bot.app.changes import (
    Actor,
    AddTool,
    ChangeCommand,
    PolicyChanges,
    SavePolicy,
    StagedCommandError,
    sentence,
)
from bot.domain.commands import AddAlias, RemoveTool, SetPolicy
from bot.domain.errors import PolicyError, UnknownToolError
from bot.domain.events import Change, plain_value
from bot.domain.names import name_key
from bot.domain.policy import DataClass, Status, ToolPolicy

# A draft is a handful of changes; a runaway script staging thousands is refused.
MAX_STAGED = 200


# -- the typed commands as JSON (the staged_change row keeps them) -------------------------


def encode(command: ChangeCommand) -> tuple[str, dict[str, Any]]:
    """A change command as (kind, JSON-friendly fields), to be staged."""
    match command:
        case SetPolicy():
            return "set", {
                "tool": command.tool,
                "status": command.status.value,
                "reason": command.reason,
                "alternatives": (
                    list(command.alternatives) if command.alternatives is not None else None
                ),
                "effective": plain_value(command.effective),
                "conditions": command.conditions,
                "max_data": command.max_data.value if command.max_data else None,
                "quiet": command.quiet,
                "clear": sorted(command.clear),
                "audience": command.audience,
            }
        case AddAlias():
            return "alias", {"tool": command.tool, "alias": command.alias}
        case RemoveTool():
            return "remove", {"tool": command.tool}
        case AddTool():
            return "add", {"name": command.name}
        case SavePolicy():
            policy = {
                name: plain_value(getattr(command.policy, name))
                for name in (*ToolPolicy.FIELDS, *ToolPolicy.SCOPED)
            }
            return "form", {
                "policy": policy,
                "tool": command.tool,
                "expected_version": command.expected_version,
                "quiet": command.quiet,
            }
    raise TypeError(f"cannot stage {command!r}")


def decode(kind: str, data: dict[str, Any]) -> ChangeCommand:
    """The command `encode` staged."""
    match kind:
        case "set":
            alternatives = data.get("alternatives")
            effective = data.get("effective")
            max_data = data.get("max_data")
            return SetPolicy(
                tool=data["tool"],
                status=Status(data["status"]),
                reason=data.get("reason"),
                alternatives=tuple(alternatives) if alternatives is not None else None,
                effective=dt.date.fromisoformat(effective) if effective else None,
                conditions=data.get("conditions"),
                max_data=DataClass(max_data) if max_data else None,
                quiet=bool(data.get("quiet")),
                clear=frozenset(data.get("clear") or ()),
                audience=data.get("audience"),
            )
        case "alias":
            return AddAlias(tool=data["tool"], alias=data["alias"])
        case "remove":
            return RemoveTool(tool=data["tool"])
        case "add":
            return AddTool(name=data["name"])
        case "form":
            values = data["policy"]
            return SavePolicy(
                policy_from_values(values["name"], values),
                tool=data.get("tool"),
                expected_version=data.get("expected_version"),
                quiet=bool(data.get("quiet")),
            )
    raise ValueError(f"unknown staged change kind {kind!r}")


# -- what admins see -----------------------------------------------------------------------


@dataclass(frozen=True)
class StagedView:
    """One staged change: its place in the draft, what it does and who staged it."""

    number: int  # 1, 2, ... in the order staged (what `discard N` names)
    tool: str
    action: str  # create | update | delete | schedule
    changes: dict[str, Any]  # field -> [old, new]
    scheduled_for: str | None
    author: str
    source: str
    staged_at: dt.datetime


@dataclass(frozen=True)
class DraftView:
    """The draft as it stands: its changes and, if one no longer applies, which and why."""

    changes: list[StagedView]
    problem: str | None = None


@dataclass(frozen=True)
class Published:
    """What `publish` did: the version it made (None when nothing was left to change)."""

    version: int | None
    changes: list[Change]


def preview_of(change: Change) -> dict[str, Any]:
    """What a staged change does, as `draft` shows it (JSON-friendly)."""
    named = change.after or change.before
    if change.after is None:
        action = "delete"
    elif change.before is None:
        action = "create"
    elif change.scheduled_for is not None:
        action = "schedule"
    else:
        action = "update"
    return {
        "tool": named.name if named is not None else "?",
        "action": action,
        "changes": {name: [old, new] for name, (old, new) in change.changed.items()},
        "scheduled_for": plain_value(change.scheduled_for),
    }


class DraftRepository:
    """The staged_change table: the draft's commands, in the order staged."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def rows(self, session: Session | None = None) -> list[StagedChange]:
        if session is not None:
            return list(session.exec(select(StagedChange).order_by(col(StagedChange.id))).all())
        with self.store.reader() as reader:
            return self.rows(reader)

    def add(self, session: Session, row: StagedChange) -> None:
        session.add(row)

    def remove(self, session: Session, ids: Sequence[int]) -> int:
        """Delete these rows; how many were still there (another admin may have gone first)."""
        if not ids:
            return 0
        result = session.exec(sa.delete(StagedChange).where(col(StagedChange.id).in_(ids)))
        return int(result.rowcount)


class Drafts:
    """Stage, show, publish and discard the draft of the next policy version."""

    def __init__(self, store: Store, repository: DraftRepository, changes: PolicyChanges) -> None:
        self.store = store
        self.repository = repository
        self.changes = changes

    def stage(self, command: ChangeCommand, actor: Actor) -> StagedView:
        """Try `command` on top of the draft and keep it; PolicyError (nothing staged) when it
        cannot apply, or when an earlier staged change no longer does."""
        self.changes.check_permission(actor)
        rows = self.repository.rows()
        if len(rows) >= MAX_STAGED:
            raise PolicyError(
                f"the draft already holds {MAX_STAGED} changes: publish or discard it first"
            )
        staged = [*self._commands(rows), (command, actor)]
        try:
            changes = self.changes.trial(staged)
        except StagedCommandError as error:
            if error.position == len(staged):
                raise _in_draft(error.error) from None  # its own mistake, as `set` says it
            raise PolicyError(f"Nothing was staged: {self._problem(error)}") from error
        last = changes[-1]
        if last.is_noop:
            name = (last.after or last.before or ToolPolicy("?", Status.ALLOWED)).name
            raise PolicyError(f"{name} already has that policy in the draft: nothing staged")
        kind, data = encode(command)
        preview = preview_of(last)
        row = StagedChange(
            kind=kind,
            command=data,
            tool_name=preview["tool"],
            preview=preview,
            author=actor.user,
            source=actor.source,
            staged_at=self.store.clock(),
        )
        with self.store.session() as session:
            self.repository.add(session, row)
        return _view(len(rows) + 1, row, preview)

    def show(self) -> DraftView:
        """The staged changes as they would apply now (a trial run), or as staged with the
        reason when one of them no longer applies."""
        rows = self.repository.rows()
        if not rows:
            return DraftView([])
        try:
            changes = self.changes.trial(self._commands(rows))
        except StagedCommandError as error:
            views = [_view(n, row, row.preview) for n, row in enumerate(rows, start=1)]
            return DraftView(views, self._problem(error))
        views = [
            _view(n, row, preview_of(change))
            for n, (row, change) in enumerate(zip(rows, changes, strict=True), start=1)
        ]
        return DraftView(views)

    def pending(self, tools: Sequence[str]) -> dict[str, list[str]]:
        """What the draft would change of each of `tools`: tool -> ['1. status: a → b', …]."""
        rows = self.repository.rows()
        if not rows:
            return {}
        wanted = {name_key(tool): tool for tool in tools}
        notes: dict[str, list[str]] = {}
        for number, row in enumerate(rows, start=1):
            tool = wanted.get(name_key(str(row.preview.get("tool") or row.tool_name)))
            if tool is not None:
                notes.setdefault(tool, []).append(f"{number}. {describe_preview(row.preview)}")
        return notes

    def policy_in_draft(self, name: str) -> tuple[ToolPolicy, int | None]:
        """A tool as the draft would make it, and its version now (the Slack form in a draft
        shows this, so saving it keeps the changes staged before it)."""
        rows = self.repository.rows()
        return self.changes.trial_read(self._commands(rows), name)

    def publish(self, actor: Actor) -> Published:
        """Every staged change, in order, as one version; the draft is then empty."""
        self.changes.check_permission(actor)
        rows = self.repository.rows()
        if not rows:
            raise PolicyError("the draft is empty: stage changes with `draft set …` first")
        ids = [row.id for row in rows if row.id is not None]

        def take_draft(session: Session) -> None:
            # In the publishing transaction: a second admin publishing or discarding at the
            # same moment takes nothing, and one of the two is refused.
            if self.repository.remove(session, ids) != len(ids):
                raise PolicyError("the draft changed while publishing: look at `draft` again")

        try:
            changes, version = self.changes.run_together(
                self._commands(rows), actor, finish=take_draft
            )
        except StagedCommandError as error:
            raise PolicyError(f"Nothing was published: {self._problem(error)}") from error
        return Published(version, changes)

    def discard(self, actor: Actor, number: int | None = None) -> list[StagedView]:
        """Drop the whole draft, or its change `number`; the changes dropped."""
        self.changes.check_permission(actor)
        rows = self.repository.rows()
        if not rows:
            raise PolicyError("the draft is empty: there is nothing to discard")
        if number is not None and not 1 <= number <= len(rows):
            raise PolicyError(
                f"the draft has no change {number}: it has {len(rows)}; `draft` lists them"
            )
        chosen = list(enumerate(rows, start=1)) if number is None else [(number, rows[number - 1])]
        with self.store.session() as session:
            ids = [row.id for _n, row in chosen if row.id is not None]
            if self.repository.remove(session, ids) != len(ids):
                raise PolicyError("the draft changed meanwhile: look at `draft` again")
        return [_view(n, row, row.preview) for n, row in chosen]

    # -- helpers ---------------------------------------------------------------------------

    def _commands(self, rows: Sequence[StagedChange]) -> list[tuple[ChangeCommand, Actor]]:
        return [(decode(row.kind, row.command), Actor(row.author, row.source)) for row in rows]

    def _problem(self, error: StagedCommandError) -> str:
        reason = sentence(str(error.error))
        return (
            f"staged change {error.position} ({error.tool}, staged by {error.author}) no longer "
            f"applies: {reason} Drop it with `discard {error.position}`, then stage it again."
        )


def _in_draft(error: PolicyError) -> PolicyError:
    """`set`'s "To add a tool, use: add X" pointed at the draft (adding directly would
    bypass it)."""
    if isinstance(error, UnknownToolError) and str(error).endswith(f"use: add {error.name}"):
        hint = f" To add it in the draft, use: draft add {error.name}"
        return UnknownToolError(error.name, error.suggestions, field=error.field, hint=hint)
    return error


def describe_preview(preview: dict[str, Any]) -> str:
    """'status: allowed → banned' — a staged change's fields, old → new, in one line."""
    if preview.get("action") == "delete":
        return "removed from the registry"
    parts = []
    for field_name, (old, new) in (preview.get("changes") or {}).items():
        parts.append(f"{field_name}: {_shown(old)} → {_shown(new)}")
    when = f"from {preview['scheduled_for']}, " if preview.get("scheduled_for") else ""
    return when + ("; ".join(parts) or "no change")


def _shown(value: Any) -> str:
    if value is None or value == []:
        return "—"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _view(number: int, row: StagedChange, preview: dict[str, Any]) -> StagedView:
    return StagedView(
        number=number,
        tool=str(preview.get("tool") or row.tool_name),
        action=str(preview.get("action") or "update"),
        changes=dict(preview.get("changes") or {}),
        scheduled_for=preview.get("scheduled_for"),
        author=row.author,
        source=row.source,
        staged_at=row.staged_at,
    )


__all__ = [
    "MAX_STAGED",
    "DraftRepository",
    "DraftView",
    "Drafts",
    "Published",
    "StagedView",
    "decode",
    "describe_preview",
    "encode",
    "preview_of",
]
