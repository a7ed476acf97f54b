"""Announcement, reminder and digest messages as Block Kit, and the Acknowledge button.

`register(app, runtime)` is the Bolt extension: pressing Acknowledge records it and updates
what that person sees. In a DM (a reminder) the message is edited with `chat.update`, since
the DM is theirs alone; in the channel everyone shares the message, so the presser gets an
ephemeral "recorded" reply through the action's response_url instead.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.adapters.db.announcement_views import AnnouncementView
from bot.adapters.slack.blocks import (
    MAX_BUTTON_TEXT,
    MAX_MESSAGE_TEXT,
    Block,
    SlackMessage,
    clip,
    context,
    escape,
    plain,
    safe_link,
    section,
)
from bot.adapters.slack.notices import notice_message
from bot.app.announcements import DIGEST_KIND, AnnouncementError, status_words
from bot.app.notices import NOTICE_KIND
from bot.app.versions import GROUPS
from bot.domain.links import ToolPages
from bot.domain.phrases import EN

if TYPE_CHECKING:  # Bolt only for the button's listener: the sender renders without it
    from slack_bolt import Ack, App, Respond
    from slack_sdk import WebClient

    from bot.app.runtime import Runtime

log = logging.getLogger(__name__)

ACK_ACTION = "policybot_ack"

_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


def who(author: str) -> str:
    """A Slack user id as a mention, anything else (a CLI user, 'policybot') as typed."""
    return f"<@{author}>" if _USER_ID.match(author) else escape(author)


def when(moment: dt.datetime, zone: dt.tzinfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


# A gathered message lists this many announcements in full; the rest by headline only.
GATHERED_IN_FULL = 10
GATHERED_LISTED = 40


def ack_button(*announcement_ids: int) -> Block:
    """One Acknowledge button for one announcement or several (comma-separated ids)."""
    return {
        "type": "actions",
        "block_id": "policybot_ack",
        "elements": [
            {
                "type": "button",
                "action_id": ACK_ACTION,
                "text": plain("Acknowledge", MAX_BUTTON_TEXT),
                "style": "primary",
                "value": ",".join(str(i) for i in announcement_ids),
            }
        ],
    }


def _change_fields(view: AnnouncementView) -> list[str]:
    fields = []
    for name, pair in (view.details.get("changes") or {}).items():
        old, new = pair
        fields.append(f"*{name.replace('_', ' ')}*\n{_value(name, old)} → {_value(name, new)}")
    return fields


def _value(name: str, value: Any) -> str:
    if value is None or value == []:
        return "—"
    if name == "status":
        return escape(status_words(value))
    if isinstance(value, list):
        return escape(", ".join(str(v) for v in value))
    return escape(str(value))


def _effective_heading(kind: str, tool: str) -> str:
    label = kind.removeprefix("effective-").split("@", 1)[0]
    if label in ("0d", "0s"):
        return f"Reminder: the {tool} policy takes effect today"
    if label == "1d":
        return f"Reminder: the {tool} policy takes effect tomorrow"
    number, unit = label[:-1], {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}
    return f"Reminder: the {tool} policy takes effect in {number} {unit.get(label[-1], '')}"


def delivery_message(
    view: AnnouncementView, kind: str, zone: dt.tzinfo, pages: ToolPages | None = None
) -> SlackMessage:
    """The message for one outbox row: the announcement, an effective-date or DM reminder.

    With `pages`, it links to the tool's catalogue page."""
    if view.kind == DIGEST_KIND:
        return digest_message(view, zone)
    if view.kind == NOTICE_KIND:
        return notice_message(view)
    items = view.details.get("items") or []
    if len(items) > 1 or any(item.get("group") == "removed" for item in items):
        return version_message(view, kind, zone)
    tool = view.tool_name or "a tool"
    if kind.startswith("effective-"):
        heading = _effective_heading(kind, tool)
    elif kind.startswith("reminder-"):
        heading = f"Please acknowledge: the AI-tool policy for {tool} changed"
    elif view.details.get("new_tool"):
        heading = f"New AI-tool policy: {tool}"
    elif view.kind == "manual":
        heading = f"AI-tool policy: {tool}"
    else:
        heading = f"AI-tool policy change: {tool}"
    blocks = _body(view, heading, zone, pages)
    blocks.append(ack_button(view.id))
    return SlackMessage(clip(escape(f"{heading}. {view.summary}"), MAX_MESSAGE_TEXT), blocks)


# Block Kit allows 50 blocks and 3,000 characters a section: a version lists this many
# changes in the message, and points to `changes vN` for the rest.
VERSION_LISTED = 30


def version_message(view: AnnouncementView, kind: str, zone: dt.tzinfo) -> SlackMessage:
    """A version's announcement: every change grouped (now banned, now allowed, limits, new,
    removed), each with its alternative, date and reason; one Acknowledge button."""
    items: list[dict[str, Any]] = view.details.get("items") or []
    number = view.details.get("version") or view.version_id
    label = f"v{number}" if number is not None else "a new version"
    if kind.startswith("effective-"):
        heading = f"Reminder: changes of the AI-tool policy {label} take effect soon"
    elif kind.startswith("reminder-"):
        heading = f"Please acknowledge the AI-tool policy {label}"
    else:
        count = f"{len(items)} change" + ("" if len(items) == 1 else "s")
        heading = f"AI-tool policy {label}: {count}"
    blocks: list[Block] = [{"type": "header", "text": plain(heading, 150)}]
    listed = 0
    for group, title in GROUPS:
        lines = []
        for item in items:
            if item["group"] != group or listed >= VERSION_LISTED:
                continue
            listed += 1
            line = f"• {escape(item['headline'])}"
            if item.get("reason"):
                line += f" — _{escape(item['reason'])}_"
            lines.append(line)
        if lines:
            blocks.append(section(clip(f"*{title}*\n" + "\n".join(lines), 2900)))
    if len(items) > listed:
        blocks.append(
            section(
                f"…and {len(items) - listed} more: `changes {label}` lists every change "
                "of this version."
            )
        )
    blocks.append(context(f"Announced by {who(view.author)} on {when(view.created_at, zone)}"))
    blocks.append(ack_button(view.id))
    text = f"{heading}. " + "; ".join(i["headline"] for i in items[:10])
    return SlackMessage(clip(escape(text), MAX_MESSAGE_TEXT), blocks)


def gathered_message(items: list[tuple[AnnouncementView, str]], zone: dt.tzinfo) -> SlackMessage:
    """Several announcements in one message, with one button acknowledging them all: a
    person's reminder (everything they still owe) or a day's effective-date countdowns."""
    countdown = all(kind.startswith("effective-") for _, kind in items)
    if countdown:
        heading = f"Reminder: {len(items)} AI-tool policies take effect soon"
    else:
        heading = f"Please acknowledge: {len(items)} AI-tool policy changes"
    blocks: list[Block] = [{"type": "header", "text": plain(heading, 150)}]
    lines = []
    for number, (view, kind) in enumerate(items[:GATHERED_LISTED], start=1):
        when_text = ""
        if countdown:
            when_text = " — " + _effective_heading(kind, "").split("takes effect ", 1)[-1]
        line = f"*{escape(view.summary)}*{when_text}"
        if number <= GATHERED_IN_FULL and view.reason:
            line += f"\n_Why:_ {escape(view.reason)}"
        if number <= GATHERED_IN_FULL:
            blocks.append(section(line))
        else:
            lines.append(f"• {escape(view.summary)}{when_text}")
    if lines:
        blocks.append(section(clip("\n".join(lines), 2900)))
    if len(items) > GATHERED_LISTED:
        blocks.append(context(f"…and {len(items) - GATHERED_LISTED} more."))
    blocks.append(ack_button(*(view.id for view, _ in items)))
    text = f"{heading}: " + "; ".join(view.summary for view, _ in items[:5])
    return SlackMessage(clip(escape(text), MAX_MESSAGE_TEXT), blocks)


@dataclass(frozen=True)
class OutboxRenderer:
    """The sender's renderer (bot.adapters.sender.ports.Renderer) as Block Kit."""

    zone: dt.tzinfo
    pages: ToolPages | None = None

    def delivery(self, view: AnnouncementView, kind: str) -> SlackMessage:
        return delivery_message(view, kind, self.zone, self.pages)

    def gathered(self, items: list[tuple[AnnouncementView, str]]) -> SlackMessage:
        return gathered_message(items, self.zone)


def acknowledged_message(
    view: AnnouncementView, kind: str, at: dt.datetime, zone: dt.tzinfo
) -> SlackMessage:
    """A DM reminder after its reader pressed Acknowledge: the button becomes a receipt."""
    message = delivery_message(view, kind, zone)
    blocks = [b for b in message.blocks if b.get("type") != "actions"]
    blocks.append(context(f":white_check_mark: You acknowledged this on {when(at, zone)}."))
    return SlackMessage(message.text, blocks)


def _body(
    view: AnnouncementView, heading: str, zone: dt.tzinfo, pages: ToolPages | None = None
) -> list[Block]:
    blocks: list[Block] = [
        {"type": "header", "text": plain(heading, 150)},
        section(f"*{escape(view.summary)}*"),
    ]
    if view.reason:
        blocks.append(section(f"*Why:* {escape(view.reason)}"))
    fields = _change_fields(view)
    if fields:
        blocks.append(section("*What changed*", fields))
    notes = [f"Announced by {who(view.author)} on {when(view.created_at, zone)}"]
    link = safe_link(view.details.get("link"))
    if pages is not None and view.tool_name:
        notes.append(f"<{escape(pages.url(view.tool_name))}|Policy page>")
        if link:
            notes.append(f"<{escape(link)}|More>")
    elif link:
        notes.append(f"<{link}|Full policy>")
    blocks.append(context(*notes))
    return blocks


def digest_message(view: AnnouncementView, zone: dt.tzinfo) -> SlackMessage:
    """The weekly digest for admins: changes, acknowledgement rates, unanswered questions."""
    details = view.details
    since = dt.datetime.fromisoformat(details["since"]).astimezone(zone).date()
    until = dt.datetime.fromisoformat(details["until"]).astimezone(zone).date()
    blocks: list[Block] = [
        {"type": "header", "text": plain(f"AI-policy digest {since} to {until}", 150)}
    ]
    changes = details.get("changes") or []
    if changes:
        lines = [
            f"• {escape(c['tool'])}: {c['action']} ({escape(', '.join(c['fields']))}) "
            f"by {who(c['author'])}, {when(dt.datetime.fromisoformat(c['at']), zone)}"
            for c in changes[:25]
        ]
        if len(changes) > 25:
            lines.append(f"…and {len(changes) - 25} more.")
        blocks.append(section("*Changes this week*\n" + "\n".join(lines)))
    else:
        blocks.append(section("*Changes this week*\nNone."))
    rates = details.get("acks") or []
    if rates:
        lines = []
        for rate in rates[:25]:
            share = (
                f"{rate['acknowledged']} of {rate['audience']}"
                f" ({rate['acknowledged'] * 100 // rate['audience']}%)"
                if rate["audience"]
                else f"{rate['acknowledged']} (audience not read yet)"
            )
            lines.append(f"• {escape(rate['tool'] or '?')}: {share}")
        blocks.append(section("*Acknowledgements (last 30 days)*\n" + "\n".join(lines)))
    feedback = details.get("feedback") or []
    if feedback:
        lines = [
            f"• {escape(str(tool))}: {good} helpful, {bad} not helpful"
            for tool, good, bad in feedback[:25]
        ]
        blocks.append(section("*Feedback on answers, per tool*\n" + "\n".join(lines)))
    questions = details.get("unanswered") or []
    if questions:
        lines = [f"• “{escape(q)}” {EN.asked(n)}" for q, n in questions]
        blocks.append(section("*Most asked without a policy*\n" + "\n".join(lines)))
    text = f"AI-policy digest {since} to {until}: {len(changes)} changes"
    return SlackMessage(text, blocks)


def register(app: App, runtime: Runtime) -> None:
    """The Bolt extension: the Acknowledge button."""
    announcements = runtime.announcements
    zone = runtime.settings.zone

    @app.action(ACK_ACTION)
    def acknowledge(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        if announcements is None:
            return
        user = body["user"]["id"]
        action = body["actions"][0]
        try:
            ids = [int(part) for part in str(action.get("value") or "").split(",")]
            results = [announcements.acknowledge(i, user) for i in ids]
        except (AnnouncementError, ValueError) as error:
            respond(text=f":warning: {error}", response_type="ephemeral", replace_original=False)
            return
        container = body.get("container") or {}
        channel = container.get("channel_id") or (body.get("channel") or {}).get("id", "")
        ts = container.get("message_ts")
        pressed = body.get("message") or {}
        kind = _kind_of(pressed)
        result = results[0]
        if channel.startswith("D") and ts:
            if len(results) == 1:
                message = acknowledged_message(result.announcement, kind, result.at, zone)
            else:
                message = _receipt(pressed, result.at, zone)
            client.chat_update(channel=channel, ts=ts, **message.as_kwargs())
            return
        name = result.announcement.tool_name
        policy = f"the {escape(name)} policy" if name else "this policy"
        text = (
            f":white_check_mark: Thanks, your acknowledgement of {policy} is recorded."
            if result.first_time
            else f":white_check_mark: You already acknowledged {policy} on {when(result.at, zone)}."
        )
        respond(text=text, response_type="ephemeral", replace_original=False)


def _receipt(pressed: dict[str, Any], at: dt.datetime, zone: dt.tzinfo) -> SlackMessage:
    """The pressed gathered message with its button replaced by a receipt."""
    blocks = [b for b in pressed.get("blocks") or [] if b.get("type") != "actions"]
    blocks.append(context(f":white_check_mark: You acknowledged these on {when(at, zone)}."))
    return SlackMessage(str(pressed.get("text") or "Acknowledged"), blocks)


def _kind_of(message: dict[str, Any]) -> str:
    """The delivery kind of the pressed message (from its metadata), for re-rendering it."""
    payload = (message.get("metadata") or {}).get("event_payload") or {}
    return str(payload.get("kind") or "reminder-1")
