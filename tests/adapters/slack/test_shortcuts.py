"""Shortcuts: signed message_action, shortcut and view_submission payloads to the real app."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from bot.adapters.db.question_repo import QuestionRepository
from bot.adapters.db.store import Store
from bot.adapters.slack.blocks import QUESTION_BLOCK, QUESTION_FORM
from bot.adapters.slack.shortcuts import ASK_QUESTION, CHECK_MESSAGE
from tests.adapters.slack.harness import all_text, response_to, wait_until
from tests.adapters.slack.inprocess import InProcessBot, in_process_bot
from tests.factories import seed_registry
from tests.standin import StandinSlack, payloads


@pytest.fixture
def standin() -> Iterator[StandinSlack]:
    with StandinSlack() as s:
        yield s


@pytest.fixture
def bot(store: Store, standin: StandinSlack) -> InProcessBot:
    return in_process_bot(store, standin, seed_registry())


def check_message(bot: InProcessBot, text: str) -> dict[str, object]:
    url = bot.standin.response_url()
    payload = payloads.message_shortcut(CHECK_MESSAGE, text, response_url=url)
    assert bot.interaction(payload).status == 200
    return response_to(bot.standin, url).body


def test_the_message_shortcut_answers_privately_about_every_tool_named(
    bot: InProcessBot,
) -> None:
    reply = check_message(bot, "We're trying Cursor and GitHub Copilot, maybe claude code later")

    shown = all_text(reply["blocks"])
    assert reply["response_type"] == "ephemeral"
    assert all(name in shown for name in ("Cursor", "GitHub Copilot", "Claude Code"))
    assert bot.standin.messages() == []  # nothing posted for everyone


def test_the_message_shortcut_keeps_the_message_out_of_the_question_log(
    bot: InProcessBot, store: Store
) -> None:
    check_message(bot, "lunch at noon, and I pasted the logs into Cursor")

    since = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    assert QuestionRepository(store).question_stats(since) == {"answered": 0, "unanswered": 0}


def test_a_message_naming_no_tool_gets_a_private_sentence_saying_so(bot: InProcessBot) -> None:
    reply = check_message(bot, "lunch at noon?")

    assert reply["response_type"] == "ephemeral"
    assert "names no AI tool the registry has a policy for" in str(reply["text"])


def test_the_global_shortcut_opens_the_question_form(bot: InProcessBot) -> None:
    assert bot.interaction(payloads.global_shortcut(ASK_QUESTION)).status == 200

    [opened] = bot.standin.wait_for("views.open")
    assert opened.args["view"]["callback_id"] == QUESTION_FORM


def test_a_question_from_the_form_is_answered_in_the_dm(bot: InProcessBot) -> None:
    values = {QUESTION_BLOCK: {"value": {"type": "plain_text_input", "value": "is cursor ok?"}}}
    submitted = payloads.view_submission(QUESTION_FORM, values, user_id="U0ALICE")

    assert bot.interaction(submitted).status == 200

    [answer] = wait_until(lambda: bot.standin.messages("DU0ALICE"), what="the DM answer")
    assert "Cursor" in answer.text and "is cursor ok?" in all_text(answer.blocks)
