# ruff: noqa: RUF001
"""The AI-app pane: signed Events API requests to the real Bolt app, the stand-in as Slack."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.adapters.db.store import Store
from tests.adapters.slack.harness import all_text, wait_until
from tests.adapters.slack.inprocess import InProcessBot, in_process_bot
from tests.factories import seed_registry
from tests.standin import Message, StandinSlack, payloads

ZH_USER = "U0ZHANG"


@pytest.fixture
def standin() -> Iterator[StandinSlack]:
    with StandinSlack(users={ZH_USER: {"locale": "zh-CN"}, "U0ALICE": {"locale": "en-GB"}}) as s:
        yield s


@pytest.fixture
def bot(store: Store, standin: StandinSlack) -> InProcessBot:
    return in_process_bot(store, standin, seed_registry())


def open_pane(bot: InProcessBot, user: str = "U0ALICE") -> tuple[str, str]:
    """The person opens the pane: Slack starts a thread in their DM; returns (channel, ts)."""
    payload = payloads.assistant_thread_started(user=user)
    thread = payload["event"]["assistant_thread"]
    bot.standin.person_message(thread["channel_id"], "", user=user, ts=thread["thread_ts"])
    assert bot.event(payload).status == 200
    return thread["channel_id"], thread["thread_ts"]


def replies(bot: InProcessBot, channel: str, count: int) -> list[Message]:
    return wait_until(
        lambda: len(bot.standin.messages(channel)) >= count and bot.standin.messages(channel),
        what=f"{count} bot message(s) in {channel}",
    )


def ask_in(bot: InProcessBot, channel: str, thread_ts: str, text: str, count: int) -> Message:
    user = channel[1:]
    assert bot.event(payloads.assistant_message(text, thread_ts=thread_ts, user=user)).status == 200
    return replies(bot, channel, count)[-1]


def test_opening_the_pane_greets_and_suggests_prompts(bot: InProcessBot) -> None:
    channel, thread_ts = open_pane(bot)

    [greeting] = replies(bot, channel, 1)
    bot.standin.wait_for("assistant.threads.setSuggestedPrompts")
    offered = bot.standin.suggested_prompts(channel, thread_ts)
    assert (
        greeting.thread_ts == thread_ts and "Ask me whether you may use an AI tool" in greeting.text
    )
    assert offered is not None
    assert [p["title"] for p in offered["prompts"]] == [
        "Can I use Claude Code?",
        "What coding tools are approved?",
        "What changed this month?",
        "How do I request a tool?",
    ]


def test_the_request_prompt_asks_for_the_help_that_explains_requests(bot: InProcessBot) -> None:
    channel, thread_ts = open_pane(bot)
    replies(bot, channel, 1)
    bot.standin.wait_for("assistant.threads.setSuggestedPrompts")
    offered = bot.standin.suggested_prompts(channel, thread_ts)
    assert offered is not None
    [request] = [p for p in offered["prompts"] if p["title"] == "How do I request a tool?"]

    answer = ask_in(bot, channel, thread_ts, request["message"], 2)

    assert "When the answer is no" in answer.text and "request" in answer.text


def test_the_prompts_are_in_the_persons_language(bot: InProcessBot) -> None:
    channel, thread_ts = open_pane(bot, ZH_USER)

    bot.standin.wait_for("assistant.threads.setSuggestedPrompts")
    offered = bot.standin.suggested_prompts(channel, thread_ts)
    assert offered is not None and offered["prompts"][0]["message"] == "我可以用 Claude Code 吗？"
    assert "你好" in replies(bot, channel, 1)[0].text


def test_a_question_shows_a_status_titles_the_thread_and_is_answered_there(
    bot: InProcessBot,
) -> None:
    channel, thread_ts = open_pane(bot)
    replies(bot, channel, 1)

    answer = ask_in(bot, channel, thread_ts, "Can I use Claude Code?", 2)

    [status] = bot.standin.wait_for("assistant.threads.setStatus")
    assert status.args["thread_ts"] == thread_ts and status.args["status"]
    assert bot.standin.thread_status(channel, thread_ts) is None  # cleared by the answer
    assert bot.standin.thread_title(channel, thread_ts) == "Can I use Claude Code?"
    assert answer.thread_ts == thread_ts
    assert "Claude Code is BANNED" in answer.text and "Qoder" in all_text(answer.blocks)


def test_a_follow_up_in_the_thread_is_about_the_last_answer(bot: InProcessBot) -> None:
    channel, thread_ts = open_pane(bot)
    replies(bot, channel, 1)
    ask_in(bot, channel, thread_ts, "Can I use Claude Code?", 2)

    follow_up = ask_in(bot, channel, thread_ts, "why?", 3)

    assert "Sends environment metadata" in all_text(follow_up.blocks)
