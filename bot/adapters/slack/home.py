"""The App Home tab: how to ask, the newest changes, and the registry grouped by status."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

from bot.adapters.slack.blocks import (
    MAX_SECTION_TEXT,
    STATUS_EMOJI,
    Block,
    clip,
    context,
    divider,
    escape,
    plain,
    section,
)
from bot.app.admin import STATUS_LABEL
from bot.domain.events import RevisionView
from bot.domain.policy import Status, ToolPolicy

MAX_HOME_BLOCKS = 100  # Slack's limit for a Home tab view
RECENT_CHANGES = 5
_SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")
_OLDEST = dt.datetime.min.replace(tzinfo=dt.UTC)


def who(author: str) -> str:
    """A Slack user id as a mention (a Home tab never notifies), anything else escaped."""
    return f"<@{author}>" if _SLACK_USER.match(author) else escape(author)


def _tool_line(policy: ToolPolicy) -> str:
    parts = [f"• *{escape(policy.name)}*"]
    if policy.vendor:
        parts.append(f"({escape(policy.vendor)})")
    if policy.effective:
        parts.append(f"from {policy.effective.isoformat()}")
    if policy.alternatives:
        parts.append(f"— instead use {escape(', '.join(policy.alternatives))}")
    return clip(" ".join(parts), 300)


def _change_line(change: RevisionView, tz: dt.tzinfo) -> str:
    when = change.at.astimezone(tz).strftime("%Y-%m-%d")
    what = {"create": "added", "update": "changed", "delete": "removed"}.get(
        change.action, change.action
    )
    status = change.changes.get("status")
    detail = ""
    if isinstance(status, list) and len(status) == 2 and status[1]:
        detail = f": now {escape(str(status[1]))}"
    return clip(f"• {when} *{escape(change.tool)}* {what} by {who(change.author)}{detail}", 300)


def _sections(lines: Sequence[str]) -> list[Block]:
    blocks: list[Block] = []
    current = ""
    for line in lines:
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > MAX_SECTION_TEXT:
            blocks.append(section(current))
            current = line
        else:
            current = candidate
    if current:
        blocks.append(section(current))
    return blocks


def home_view(
    policies: Sequence[ToolPolicy],
    changes: Sequence[RevisionView],
    *,
    command: str,
    contact: str,
    tz: dt.tzinfo = dt.UTC,
) -> dict[str, Any]:
    """The Home tab view for views.publish."""
    blocks: list[Block] = [
        {"type": "header", "text": plain("AI tool policies", 150)},
        section(
            "Ask me whether you may use an AI tool: send me a message here, mention me in a "
            f"channel, or type `{escape(command)} can I use Claude Code?` anywhere "
            "(only you see that answer)."
        ),
        context(f"{len(policies)} tools · to change a policy, ask {escape(contact)}"),
    ]
    if changes:
        recent = [_change_line(c, tz) for c in changes[:RECENT_CHANGES]]
        blocks += [divider(), section("*Newest changes*\n" + "\n".join(recent))]

    groups: dict[Status, list[ToolPolicy]] = {}
    for policy in policies:
        groups.setdefault(policy.status, []).append(policy)
    for status in Status:
        members = groups.get(status, [])
        if not members:
            continue
        # Newest changes first within each status.
        members.sort(key=lambda p: (p.updated_at or _OLDEST, p.name), reverse=True)
        title = f"{STATUS_EMOJI[status]} *{STATUS_LABEL[status].capitalize()}* ({len(members)})"
        group_blocks = [divider(), section(title), *_sections([_tool_line(p) for p in members])]
        if len(blocks) + len(group_blocks) > MAX_HOME_BLOCKS - 1:
            blocks.append(context("…more tools than fit here: ask me about one by name."))
            break
        blocks += group_blocks
    if not policies:
        blocks.append(section("The registry is empty for now."))
    return {"type": "home", "callback_id": "policy_home", "blocks": blocks}
