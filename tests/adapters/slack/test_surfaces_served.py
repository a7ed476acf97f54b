"""The issue-29 surfaces through the real `policybot serve`: Socket Mode envelopes and HTTP."""

from __future__ import annotations

from typing import Any

from bot.adapters.slack.shortcuts import CHECK_MESSAGE
from bot.adapters.slack.steps import CHECK_POLICY
from tests.adapters.slack.conftest import Served
from tests.adapters.slack.harness import all_text, response_to, wait_until
from tests.standin import Message, payloads


def thread_replies(served: Served, channel: str, count: int) -> list[Message]:
    return wait_until(
        lambda: len(served.standin.messages(channel)) >= count and served.standin.messages(channel),
        what=f"{count} bot message(s) in {channel}",
    )


def step_result(served: Served, execution: str) -> tuple[str, Any]:
    result = wait_until(lambda: served.standin.function_result(execution), what="the step's end")
    assert result is not None
    return result


def test_the_pane_over_socket_mode_greets_then_answers_in_the_thread(socket_bot: Served) -> None:
    standin = socket_bot.standin
    started = payloads.assistant_thread_started(user="U0SOCKPANE")
    thread = started["event"]["assistant_thread"]
    channel, thread_ts = thread["channel_id"], thread["thread_ts"]
    standin.person_message(channel, "", user="U0SOCKPANE", ts=thread_ts)

    standin.wait_for_ack(standin.send_envelope("events_api", started))
    thread_replies(socket_bot, channel, 1)
    question = payloads.assistant_message("is cursor ok?", thread_ts=thread_ts, user="U0SOCKPANE")
    standin.wait_for_ack(standin.send_envelope("events_api", question))

    _, answer = thread_replies(socket_bot, channel, 2)
    assert answer.thread_ts == thread_ts and "Cursor" in answer.text
    assert standin.suggested_prompts(channel, thread_ts) is not None
    assert standin.thread_title(channel, thread_ts) == "is cursor ok?"


def test_a_custom_step_over_socket_mode_completes(socket_bot: Served) -> None:
    payload = payloads.function_executed(CHECK_POLICY, {"tool": "Qoder"})

    socket_bot.standin.send_envelope("events_api", payload)

    ended, outputs = step_result(socket_bot, payload["event"]["function_execution_id"])
    assert ended == "success" and outputs["status"] == "allowed"


def test_the_message_shortcut_over_socket_mode_answers_privately(socket_bot: Served) -> None:
    url = socket_bot.standin.response_url()
    shortcut = payloads.message_shortcut(CHECK_MESSAGE, "we use Qoder now", response_url=url)

    envelope = socket_bot.standin.send_envelope("interactive", shortcut)

    socket_bot.standin.wait_for_ack(envelope)
    body = response_to(socket_bot.standin, url).body
    assert body["response_type"] == "ephemeral" and "Qoder" in all_text(body["blocks"])


def test_a_custom_step_over_http_completes(http_bot: Served) -> None:
    payload = payloads.function_executed(CHECK_POLICY, {"tool": "no such tool at all"})

    assert http_bot.slack.event(payload).status == 200

    ended, outputs = step_result(http_bot, payload["event"]["function_execution_id"])
    assert ended == "success" and outputs["status"] == "no-policy"
