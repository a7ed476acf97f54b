"""Admin commands in words: changes go to `PolicyChanges`, reads to the repositories.

Shared by the console chat, the CLI and Slack. The permission check for changes is in
`PolicyChanges`; for the read-only admin commands (history, list, ...) the caller
(`PolicyService.handle`) checks before parsing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from bot.adapters.db.policy_repo import PolicyRepository
from bot.adapters.db.question_repo import QuestionRepository
from bot.app.announcements import AckStats, Announcements, cancelled_headline
from bot.app.changes import Actor, AddTool, PolicyChanges, sentence
from bot.app.drafts import Drafts, DraftView, StagedView
from bot.app.versions import VersionView
from bot.domain.commands import (
    AddAlias,
    Announce,
    CancelScheduled,
    Command,
    DiscardDraft,
    EditTool,
    ListTools,
    PublishDraft,
    RemoveTool,
    SetPolicy,
    ShowAcks,
    ShowChanges,
    ShowDraft,
    ShowHelp,
    ShowHistory,
    StageChange,
    UnsetRule,
    usage,
)
from bot.domain.errors import UnknownToolError
from bot.domain.events import Change, RevisionView, plain_value
from bot.domain.names import name_key
from bot.domain.phrases import EN
from bot.domain.policy import Status, ToolPolicy

# The English phrasebook's words, so listings and answers say a status the same way.
STATUS_LABEL = dict(EN.status_labels)


@dataclass(frozen=True)
class AdminResult:
    """What an admin command did: a reply for the admin and the change, if any."""

    text: str
    change: Change | None = None
    quiet: bool = False


def describe_value(value: Any) -> str:
    if value is None or value == [] or value == {}:
        return "—"
    if isinstance(value, list) and value and isinstance(value[0], dict):
        # Rules: "for china-engineering: status conditional, max_data internal"
        return "; ".join(
            f"for {rule.get('audience')}: "
            + (
                ", ".join(f"{k} {describe_value(v)}" for k, v in rule.items() if k != "audience")
                or "the default"
            )
            for rule in value
        )
    if isinstance(value, dict):  # translations: the languages written
        return ", ".join(f"{language} ({', '.join(texts)})" for language, texts in value.items())
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


def describe_change(change: Change) -> str:
    """What a change did, as one sentence for the admin who made it."""
    name = (change.after or change.before or ToolPolicy("?", Status.ALLOWED)).name
    if change.is_noop:
        return f"{name} already has that policy; nothing changed."
    if change.scheduled_for is not None:
        return sentence(
            f"{name}: from {change.scheduled_for.isoformat()}, "
            f"{describe_changes(change.changed)}. Until then its current policy stays"
        )
    return sentence(f"{name}: {describe_changes(change.changed)}")


def describe_revision(revision: RevisionView, tz: dt.tzinfo) -> str:
    when = revision.at.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")
    # The version it belongs to: `changes vN` shows what else changed with it.
    version = f"v{revision.version}  " if revision.version is not None else ""
    return (
        f"{when}  {version}{revision.action} by {revision.author} ({revision.source}): "
        f"{describe_changes(revision.changes)}"
    )


def summarize(policy: ToolPolicy) -> str:
    """One line per tool for listings."""
    parts = [f"{policy.name}: {STATUS_LABEL[policy.status]}"]
    if policy.effective:
        parts.append(f"from {policy.effective.isoformat()}")
    if policy.alternatives:
        parts.append(f"(use {', '.join(policy.alternatives)})")
    if policy.scheduled:
        parts.append(
            f"[{STATUS_LABEL[policy.scheduled.status]} from "
            f"{policy.scheduled.effective.isoformat()}]"
        )
    return " ".join(parts)


class Admin:
    """Runs admin commands for one actor and says what happened."""

    def __init__(
        self,
        policies: PolicyRepository,
        questions: QuestionRepository,
        changes: PolicyChanges,
        *,
        announcements: Announcements | None = None,
        drafts: Drafts | None = None,
        tz: dt.tzinfo = dt.UTC,
    ) -> None:
        self.policies = policies
        self.questions = questions
        self.changes = changes
        self.announcements = announcements
        self.drafts = drafts
        self.tz = tz

    def run(self, command: Command, actor: Actor) -> AdminResult:
        match command:
            case SetPolicy() | UnsetRule() | AddAlias() | RemoveTool() | CancelScheduled():
                change = self.changes.run(command, actor)
                done = None if change.is_noop else change
                return AdminResult(self._said(command, change), done, _quiet(command))
            case ShowHistory(tool=tool):
                return AdminResult(self._history(tool))
            case ListTools(status=status):
                return AdminResult(self._list(status))
            case ShowHelp(command=verb):
                return AdminResult(usage(verb))
            case EditTool(tool=tool, create=create):
                return self._add(tool, actor) if create else self._describe(tool)
            case Announce(tool=tool):
                return AdminResult(self._announce(tool, actor.user))
            case ShowChanges(version=number):
                return AdminResult(self._changes(number))
            case ShowAcks(tool=tool):
                return AdminResult(self._acks(tool))
            case ShowDraft() | StageChange() | PublishDraft() | DiscardDraft():
                return self._draft(command, actor)
        raise TypeError(f"unhandled command {command!r}")

    # -- the draft of the next version -----------------------------------------------------

    def _draft(
        self, command: ShowDraft | StageChange | PublishDraft | DiscardDraft, actor: Actor
    ) -> AdminResult:
        drafts = self.drafts
        if drafts is None:
            return AdminResult("Drafts are not set up on this bot.")
        match command:
            case ShowDraft():
                return AdminResult(describe_draft(drafts.show(), self.tz))
            case StageChange(command=EditTool(tool=tool, create=False)):
                policy, _version = drafts.policy_in_draft(tool)
                return AdminResult(f"{tool} as drafted:\n{self._fields(policy)}")
            case StageChange(command=EditTool(tool=tool)):
                return self._staged(drafts.stage(AddTool(tool), actor))
            case StageChange(command=SetPolicy() | AddAlias() | RemoveTool() as staged):
                return self._staged(drafts.stage(staged, actor))
            case PublishDraft():
                published = drafts.publish(actor)
                done = [c for c in published.changes if not c.is_noop]
                if published.version is None or not done:
                    return AdminResult(
                        "Nothing to publish: every staged change is already in force. "
                        "The draft is now empty."
                    )
                lines = [f"Published v{published.version}: {_count(len(done))}."]
                lines += [f"• {_published(change)}" for change in done[:30]]
                if len(done) > 30:
                    lines.append(f"…and {len(done) - 30} more: `changes v{published.version}`.")
                return AdminResult("\n".join(lines), done[0] if len(done) == 1 else None)
            case DiscardDraft(number=number):
                dropped = drafts.discard(actor, number)
                if number is None:
                    return AdminResult(f"Discarded the draft ({_count(len(dropped))}).")
                left = len(drafts.show().changes)
                return AdminResult(
                    f"Discarded change {number} ({describe_staged(dropped[0])}); "
                    f"the draft has {_count(left)} left."
                )
        raise TypeError(f"unhandled draft command {command!r}")

    def _staged(self, view: StagedView) -> AdminResult:
        return AdminResult(
            f"Staged as change {view.number} of the draft: {describe_staged(view)}. "
            "Staff see nothing until `publish`; `draft` shows the whole draft."
        )

    def _said(self, command: Command, change: Change) -> str:
        if isinstance(command, AddAlias) and change.after is not None and not change.is_noop:
            return f"'{command.alias}' is now an alias of {change.after.name}."
        if isinstance(command, RemoveTool) and change.before is not None:
            return f"Removed {change.before.name} from the registry."
        if isinstance(command, CancelScheduled) and change.before is not None:
            return f"{cancelled_headline(change.before)}."
        return describe_change(change) + self._offered_instead(change)

    def _offered_instead(self, change: Change) -> str:
        """A warning when a tool becomes banned while other tools list it as their
        alternative: their answers would otherwise offer a banned tool."""
        after = change.after
        if after is None or after.status is not Status.BANNED or change.is_noop:
            return ""
        if change.before is not None and change.before.status is Status.BANNED:
            return ""
        keys = {name_key(n) for n in (after.name, *after.aliases)}
        listing = [
            p.name
            for p in self.policies.policies()
            if name_key(p.name) not in keys and keys & {name_key(a) for a in p.alternatives}
        ]
        if not listing:
            return ""
        names = _joined(listing)
        when = f" from {change.scheduled_for.isoformat()}" if change.scheduled_for else ""
        return (
            f"\nNote: {after.name} is the listed alternative of {names}: their answers will "
            f"show it as banned{when}. To offer something else, change their alternatives "
            f"(set <tool> <status> --alternatives …)."
        )

    def _add(self, tool: str, actor: Actor) -> AdminResult:
        change = self.changes.run(AddTool(tool), actor)
        assert change.after is not None
        name = change.after.name
        return AdminResult(
            f'Added {name} as under review. Set its policy with: set "{name}" <status> --reason …',
            change,
            quiet=True,
        )

    def _describe(self, tool: str) -> AdminResult:
        return AdminResult(self._fields(self.policies.resolve(tool)))

    def _fields(self, policy: ToolPolicy) -> str:
        lines = [summarize(policy)]
        for name in ToolPolicy.FIELDS[1:]:
            lines.append(f"  {name}: {describe_value(plain_value(getattr(policy, name)))}")
        return "\n".join(lines)

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

    def _changes(self, number: int | None) -> str:
        if self.announcements is None:
            return "Versions are not set up on this bot."
        versions = self.announcements.versions
        if number is None:
            latest = versions.latest(10)
            if not latest:
                return "No policy versions yet."
            lines = ["Policy versions (newest first):"]
            lines += [f"• {describe_version(v, self.tz)}" for v in latest]
            return "\n".join(lines)
        version = versions.get(number)
        lines = [f"{describe_version(version, self.tz)}:"]
        for change in version.changes[:50]:
            fields = ", ".join(sorted(change["changes"])) or change["action"]
            lines.append(f"• {change['tool']}: {change['action']} ({fields})")
        if len(version.changes) > 50:
            lines.append(f"…and {len(version.changes) - 50} more.")
        return "\n".join(lines)

    def _history(self, tool: str) -> str:
        revisions = self.policies.history(tool)
        if not revisions:
            raise UnknownToolError(tool)
        lines = [f"History of {revisions[-1].tool} (oldest first):"]
        if any(r.version is not None for r in revisions):
            lines[0] = (
                f"History of {revisions[-1].tool} (oldest first; vN is the policy version, "
                "`changes vN` shows everything in it):"
            )
        lines += [f"• {describe_revision(r, self.tz)}" for r in revisions]
        staged = self.drafts.pending([revisions[-1].tool]) if self.drafts is not None else {}
        for change in staged.get(revisions[-1].tool, []):
            lines.append(f"• staged in the draft, not yet published: {change}")
        return "\n".join(lines)

    def _list(self, status: Status | None) -> str:
        policies = self.policies.list_tools(status)
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


def _joined(names: list[str]) -> str:
    """'A', 'A and B', 'A, B and C'."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


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


def _quiet(command: Command) -> bool:
    return isinstance(command, SetPolicy) and command.quiet


def describe_version(version: VersionView, tz: dt.tzinfo) -> str:
    """'v7 — 2026-12-01 09:30 by U0ADMIN (slack): Cursor: now banned'."""
    when = version.created_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    return f"v{version.number} — {when} by {version.author} ({version.source}): {version.summary}"


def _count(number: int) -> str:
    return f"{number} change" + ("" if number == 1 else "s")


def describe_staged(view: StagedView) -> str:
    """'Cursor: status: allowed → banned' — what one staged change does."""
    if view.action == "delete":
        return f"{view.tool}: removed from the registry"
    changes = describe_changes(view.changes)
    if view.action == "create":
        return f"{view.tool}: new tool; {changes}"
    if view.scheduled_for:
        return f"{view.tool}: from {view.scheduled_for}, {changes}"
    return f"{view.tool}: {changes}"


def describe_draft(draft: DraftView, tz: dt.tzinfo) -> str:
    """Every staged change with who staged it and when, then how to publish or discard."""
    if not draft.changes:
        return (
            "The draft is empty. Stage a change with `draft set <tool> <status> …` (or draft "
            "alias, add, remove; in Slack draft edit opens the form); staff see nothing until "
            "`publish`."
        )
    lines = [
        f"Draft of the next policy version ({_count(len(draft.changes))}; "
        "staff see none of it until `publish`):"
    ]
    for view in draft.changes:
        when = view.staged_at.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")
        lines.append(
            f"{view.number}. {describe_staged(view)} — staged by {view.author} "
            f"({view.source}), {when}"
        )
    if draft.problem:
        lines.append(f"⚠ Publishing would be refused: {draft.problem}")
    lines.append("`publish` makes them one version, announced once; `discard [N]` drops them.")
    return "\n".join(lines)


def _published(change: Change) -> str:
    if change.after is None and change.before is not None:
        return f"{change.before.name}: removed from the registry."
    return describe_change(change)
