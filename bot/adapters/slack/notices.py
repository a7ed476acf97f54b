"""Notices from the outbox (bot/app/notices.py) as Block Kit: a title, lines, buttons."""

from __future__ import annotations

from bot.adapters.db.announcement_views import AnnouncementView
from bot.adapters.slack.blocks import (
    MAX_BUTTON_TEXT,
    MAX_MESSAGE_TEXT,
    Block,
    SlackMessage,
    clip,
    escape,
    plain,
    section,
)
from bot.app.notices import Notice


def notice_message(view: AnnouncementView) -> SlackMessage:
    return notice_blocks(Notice.from_details(view.details))


def notice_blocks(notice: Notice) -> SlackMessage:
    blocks: list[Block] = [{"type": "header", "text": plain(notice.title, 150)}]
    if notice.lines:
        blocks.append(section("\n".join(escape(line) for line in notice.lines)))
    if notice.buttons:
        elements = []
        for button in notice.buttons:
            element = {
                "type": "button",
                "action_id": button.action,
                "text": plain(button.label, MAX_BUTTON_TEXT),
                "value": button.value,
            }
            if button.style:
                element["style"] = button.style
            elements.append(element)
        blocks.append({"type": "actions", "block_id": "policybot_notice", "elements": elements})
    text = escape(" ".join([notice.title, *notice.lines]))
    return SlackMessage(clip(text, MAX_MESSAGE_TEXT), blocks)
