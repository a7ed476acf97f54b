"""Admin use cases: run a parsed command against the store and say what happened, in words.

Shared by the console chat, the CLI and Slack; callers check that the sender is an admin.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from bot.core.announcements import AckStats, Announcements
from bot.core.commands import (
    AddAlias,
    Announce,
    Command,
    EditTool,
    ListTools,
    RemoveTool,
    SetPolicy,
    ShowAcks,
    ShowHelp,
    ShowHistory,
    ShowUnanswered,
    usage,
)
from bot.core.phrases import EN
from bot.core.policy import Status, ToolPolicy
from bot.core.store import Change, RevisionView, Store, UnknownToolError, plain_value

# The English phrasebook's words, so listings and answers say a status the same way.
STATUS_LABEL = dict(EN.status_labels)


@dataclass(frozen=True)
class AdminResult:
    """What an admin command did: a reply for the admin and the change, if any."""

    text: str
    change: Change | None = None
    quiet: bool = False


def describe_value(value: Any) -> str:
    if value is None or value == []:
        return "—"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def describe_changes(changes: dict[str, Any]) -> str:
    """`status: allowed → banned; reason: — → Sends metadata` for a revision or change."""
    parts = []
    for field_name, pair in changes.items():
        old, new = pair
        parts.append(f"{field_name}: {describe_value(old)} → {describe_value(new)}")
    return "; ".join(parts) if parts else "no change"


def describe_revision(revision: RevisionView, tz: dt.tzinfo) -> str:
    when = revision.at.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")
    return (
        f"{when}  {revision.action} by {revision.author} ({revision.source}): "
        f"{describe_changes(revision.changes)}"
    )


def summarize(policy: ToolPolicy) -> str:
    """One line per tool for listings."""
    parts = [f"{policy.name}: {STATUS_LABEL[policy.status]}"]
    if policy.effective:
        parts.append(f"from {policy.effective.isoformat()}")
    if policy.alternatives:
        parts.append(f"(use {', '.join(policy.alternatives)})")
    return " ".join(parts)


class Admin:
    """Runs admin commands; every write names its author and source in the revision."""

    def __init__(
        self, store: Store, tz: dt.tzinfo = dt.UTC, announcements: Announcements | None = None
    ) -> None:
        self.store = store
        self.tz = tz
        # Set by bootstrap; None where nothing can send announcements (e.g. bare tests).
        self.announcements = announcements

    def run(self, command: Command, *, author: str, source: str) -> AdminResult:
        match command:
            case SetPolicy():
                return self._set(command, author, source)
            case AddAlias(tool=tool, alias=alias):
                change = self.store.add_alias(tool, alias, author=author, source=source)
                assert change.after is not None
                return AdminResult(f"'{alias}' is now an alias of {change.after.name}.", change)
            case RemoveTool(tool=tool):
                change = self.store.remove(tool, author=author, source=source)
                assert change.before is not None
                return AdminResult(f"Removed {change.before.name} from the registry.", change)
            case ShowHistory(tool=tool):
                return AdminResult(self._history(tool))
            case ListTools(status=status):
                return AdminResult(self._list(status))
            case ShowUnanswered():
                return AdminResult(self._unanswered())
            case ShowHelp(command=verb):
                return AdminResult(usage(verb))
            case EditTool(tool=tool, create=create):
                return self._add(tool, author, source) if create else self._describe(tool)
            case Announce(tool=tool):
                return AdminResult(self._announce(tool, author))
            case ShowAcks(tool=tool):
                return AdminResult(self._acks(tool))
        raise TypeError(f"unhandled command {command!r}")

    def _set(self, command: SetPolicy, author: str, source: str) -> AdminResult:
        current = self.store.resolve(command.tool)
        fields: dict[str, Any] = {"status": command.status}
        if command.status is Status.BANNED:
            # A banned tool has no conditions of use and no data it may see; the ones left
            # from an earlier status would read as if it could still be used under them.
            fields.update(conditions=None, max_data=None)
        for name in ("reason", "conditions", "effective", "max_data", "alternatives"):
            value = getattr(command, name)
            if value is not None:
                # An empty string clears a text field; an empty tuple clears alternatives.
                fields[name] = value if value != "" else None
        change = self.store.update(
            current.name, author=author, source=source, quiet=command.quiet, **fields
        )
        if change.is_noop:
            return AdminResult(f"{current.name} already has that policy; nothing changed.")
        return AdminResult(
            f"{current.name}: {describe_changes(change.changed)}.", change, command.quiet
        )

    def _add(self, tool: str, author: str, source: str) -> AdminResult:
        policy = ToolPolicy(name=tool.strip(), status=Status.UNDER_REVIEW)
        change = self.store.save(policy, author=author, source=source, create=True, quiet=True)
        return AdminResult(
            f"Added {policy.name} as under review. Set its policy with: "
            f'set "{policy.name}" <status> --reason ...',
            change,
            quiet=True,
        )

    def _describe(self, tool: str) -> AdminResult:
        policy = self.store.resolve(tool)
        lines = [summarize(policy)]
        for name in ToolPolicy.FIELDS[1:]:
            lines.append(f"  {name}: {describe_value(plain_value(getattr(policy, name)))}")
        return AdminResult("\n".join(lines))

    def _announce(self, tool: str, author: str) -> str:
        if self.announcements is None:
            return "Announcements are not set up on this bot."
        view = self.announcements.announce_again(tool, author=author)
        return (
            f"Announcing in channel {view.channel}: {view.summary}. "
            "People who do not acknowledge get reminders."
        )

    def _acks(self, tool: str) -> str:
        if self.announcements is None:
            return "Announcements are not set up on this bot."
        return describe_acks(self.announcements.ack_stats(tool), self.tz)

    def _history(self, tool: str) -> str:
        revisions = self.store.history(tool)
        if not revisions:
            raise UnknownToolError(tool)
        lines = [f"History of {revisions[-1].tool} (oldest first):"]
        lines += [f"• {describe_revision(r, self.tz)}" for r in revisions]
        return "\n".join(lines)

    def _list(self, status: Status | None) -> str:
        policies = self.store.list_tools(status)
        if not policies:
            return f"No tools are {STATUS_LABEL[status]}." if status else "The registry is empty."
        title = f"{len(policies)} tools" + (f" {STATUS_LABEL[status]}" if status else "")
        groups: dict[Status, list[ToolPolicy]] = {}
        for policy in policies:
            groups.setdefault(policy.status, []).append(policy)
        lines = [f"{title}:"]
        for group_status in Status:
            for policy in groups.get(group_status, []):
                lines.append(f"• {summarize(policy)}")
        return "\n".join(lines)

    def _unanswered(self) -> str:
        questions = self.store.unanswered()
        if not questions:
            return "Every question so far found a policy."
        lines = ["Questions with no policy, most asked first:"]
        for item in questions:
            last = item.last_asked.astimezone(self.tz).strftime("%Y-%m-%d")
            lines.append(f"• {item.question} — {EN.asked(item.count)}, last on {last}")
        return "\n".join(lines)


def describe_acks(stats: AckStats, tz: dt.tzinfo, *, names: int = 30) -> str:
    """'Claude Code (announced …): 3 of 5 acknowledged (60%). Not yet: U1, U2.'

    User ids stay plain (no `<@U…>`): the reply is shown as typed text in Slack and the console.
    """
    view = stats.announcement
    when = view.created_at.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")
    head = f"{view.tool_name} (announced {when}): "
    if stats.audience is None:
        return head + (
            f"{stats.acknowledged} acknowledged so far; who has not is known once the "
            "announcement has gone out to the channel."
        )
    share = f" ({stats.acknowledged * 100 // stats.audience}%)" if stats.audience else ""
    text = head + f"{stats.acknowledged} of {stats.audience} acknowledged{share}."
    if stats.missing:
        shown = ", ".join(stats.missing[:names])
        more = len(stats.missing) - names
        text += f" Not yet: {shown}" + (f" and {more} more." if more > 0 else ".")
    else:
        text += " Everyone in the channel has acknowledged."
    if stats.reminders_sent or stats.failed:
        text += f" Reminders sent: {stats.reminders_sent}"
        text += f", failed: {stats.failed}." if stats.failed else "."
    return text
