"""Conversations through the real server: follow-ups in a thread and a DM, lists in Block Kit,
messages as Slack sends them (files, thread broadcasts, edits).

Driven with signed requests against `policybot serve` and the stand-in Slack (tests/adapters/slack).
"""

# ruff: noqa: RUF001

from __future__ import annotations

from typing import Any

from bot.adapters.db.conversations import Conversations
from bot.adapters.db.question_repo import QuestionRepository
from tests.adapters.slack.conftest import STAFF, Served
from tests.adapters.slack.harness import COMMAND, all_text, response_to, wait_until
from tests.standin import Message, payloads


def replies_in(served: Served, channel: str, count: int) -> list[Message]:
    return wait_until(
        lambda: len(served.standin.messages(channel)) >= count and served.standin.messages(channel),
        what=f"{count} bot message(s) in {channel}",
    )


def mention_in(served: Served, channel: str, text: str, thread_ts: str | None = None) -> str:
    """An @-mention posted in `channel` (in a thread when `thread_ts`); returns its ts."""
    payload = payloads.app_mention(text, channel=channel, thread_ts=thread_ts)
    event = payload["event"]
    served.standin.person_message(channel, event["text"], user=STAFF, ts=event["ts"])
    assert served.slack.event(payload).status == 200
    return str(event["ts"])


def dm(served: Served, user: str, text: str, **extra: Any) -> dict[str, Any]:
    payload = payloads.direct_message(text, user=user)
    payload["event"].update(extra)
    assert served.slack.event(payload).status == 200
    return payload["event"]


def test_a_follow_up_mention_in_a_thread_is_about_the_threads_last_answer(
    http_bot: Served,
) -> None:
    channel = "C0THREAD"
    parent = mention_in(http_bot, channel, "can I still use claude code?")
    replies_in(http_bot, channel, 1)
    mention_in(http_bot, channel, "why?", thread_ts=parent)

    _, second = replies_in(http_bot, channel, 2)
    assert second.thread_ts == parent
    assert "Why Claude Code is banned" in second.text
    assert "There is no policy" not in all_text(second.blocks)


def test_a_follow_up_in_a_dm_is_about_the_previous_answer_in_chinese(http_bot: Served) -> None:
    dm(http_bot, "U0FOLLOW", "is claude code allowed?")
    replies_in(http_bot, "DU0FOLLOW", 1)
    dm(http_bot, "U0FOLLOW", "那用什么？")

    _, second = replies_in(http_bot, "DU0FOLLOW", 2)
    assert "Claude Code 的替代方案：Qoder" in second.text
    assert "Qoder" in all_text(second.blocks)


def test_a_dm_with_a_file_attached_is_answered(http_bot: Served) -> None:
    dm(http_bot, "U0FILES", "is this screenshot from cursor ok?", subtype="file_share")

    [reply] = replies_in(http_bot, "DU0FILES", 1)
    assert "Cursor" in reply.text


def test_a_dm_broadcast_from_a_thread_is_answered(http_bot: Served) -> None:
    dm(http_bot, "U0BCAST", "can I use qoder?", subtype="thread_broadcast")

    [reply] = replies_in(http_bot, "DU0BCAST", 1)
    assert "Qoder" in reply.text


def test_an_edited_question_updates_the_earlier_reply_in_place(http_bot: Served) -> None:
    asked = dm(http_bot, "U0EDITOR", "can I use qoder?")
    [reply] = replies_in(http_bot, "DU0EDITOR", 1)
    # The bot records which reply answered the message right after posting it.
    answered = Conversations(http_bot.policies.store.engine)
    wait_until(lambda: answered.reply_to(asked["channel"], asked["ts"]), what="the reply record")
    edit = payloads.event_callback(
        {
            "type": "message",
            "subtype": "message_changed",
            "channel": asked["channel"],
            "channel_type": "im",
            "hidden": True,
            "ts": "1700000999.000100",
            "message": {**asked, "text": "can I use claude code?", "edited": {"user": "U0EDITOR"}},
            "previous_message": asked,
        }
    )
    assert http_bot.slack.event(edit).status == 200

    wait_until(lambda: http_bot.standin.calls_to("chat.update"), what="chat.update")
    [updated] = replies_in(http_bot, "DU0EDITOR", 1)  # still one reply, now about the new text
    assert updated.ts == reply.ts and updated.edited_ts is not None
    assert "Claude Code is BANNED" in updated.text and "Qoder is ALLOWED" not in updated.text


def test_greetings_get_help_and_are_not_logged(http_bot: Served) -> None:
    dm(http_bot, "U0HELLO", "hi!")

    [reply] = replies_in(http_bot, "DU0HELLO", 1)
    assert "can I use Cursor?" in reply.text
    assert all(
        q.question != "hi!" for q in QuestionRepository(http_bot.policies.store).unanswered()
    )


def test_a_list_question_is_a_section_per_status_in_slack(http_bot: Served) -> None:
    url = http_bot.standin.response_url()
    form = payloads.slash_command(COMMAND, "which tools can I use?", response_url=url)
    result = http_bot.slack.command(form)
    body = result.json() if result.body else response_to(http_bot.standin, url).body

    sections = [b for b in body["blocks"] if b["type"] == "section"]
    shown = all_text(sections)
    assert ":white_check_mark: *Allowed*" in shown
    assert shown.index("*Allowed*") < shown.index("*Allowed with conditions*")
    assert "Claude Code" not in shown  # banned: not something you may use


def test_staff_may_list_the_tools_with_the_slash_command(http_bot: Served) -> None:
    url = http_bot.standin.response_url()
    form = payloads.slash_command(COMMAND, "list banned", response_url=url, user_id=STAFF)
    assert http_bot.slack.command(form).status == 200

    posted = response_to(http_bot.standin, url).body
    assert "Claude Code" in all_text(posted) and "Only policy admins" not in all_text(posted)
