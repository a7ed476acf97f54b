"""The real `policybot serve` in Socket Mode, connected to the stand-in's WebSocket."""

from __future__ import annotations

from typing import Any

from tests.adapters.slack.conftest import STAFF, Served
from tests.adapters.slack.harness import COMMAND, all_text, http, response_to, wait_until
from tests.standin import Message, payloads


def replies_in(served: Served, channel: str, count: int = 1) -> list[Message]:
    return wait_until(
        lambda: len(served.standin.messages(channel)) >= count and served.standin.messages(channel),
        what=f"{count} bot message(s) in {channel}",
    )


def send_command(served: Served, text: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """`/aipolicy text` over the socket; returns (the ack, the reply: ack payload or post)."""
    url = served.standin.response_url()
    envelope_id = served.standin.send_envelope(
        "slash_commands",
        payloads.slash_command(COMMAND, text, response_url=url),
        accepts_response_payload=True,
    )
    ack = served.standin.wait_for_ack(envelope_id)
    if ack.get("payload"):  # a question is answered in the acknowledgement
        return ack, ack["payload"]
    return ack, response_to(served.standin, url).body


def send_mention(served: Served, text: str, channel: str, *, retry_attempt: int = 0) -> Any:
    payload = payloads.app_mention(text, channel=channel)
    event = payload["event"]
    served.standin.person_message(channel, event["text"], user=STAFF, ts=event["ts"])
    envelope_id = served.standin.send_envelope("events_api", payload, retry_attempt=retry_attempt)
    served.standin.wait_for_ack(envelope_id)
    return payload


def test_slash_command_is_acknowledged_and_answered(socket_bot: Served) -> None:
    ack, body = send_command(socket_bot, "can I use claude code?")

    assert set(ack) <= {"envelope_id", "payload"}
    assert body["response_type"] == "ephemeral"
    assert ":no_entry: *Claude Code* is *banned*" in all_text(body["blocks"])


def test_mention_is_answered_once_in_its_thread_though_resent(socket_bot: Served) -> None:
    payload = send_mention(socket_bot, "is cursor allowed?", "C0SOCKET")
    [reply] = replies_in(socket_bot, "C0SOCKET")

    resent = socket_bot.standin.send_envelope(
        "events_api", payload, retry_attempt=1, retry_reason="timeout"
    )
    socket_bot.standin.wait_for_ack(resent)
    send_mention(socket_bot, "and qoder?", "C0SOCKET")  # answered after the re-send
    replies_in(socket_bot, "C0SOCKET", 2)

    threads = [m.thread_ts for m in socket_bot.standin.messages("C0SOCKET")]
    assert reply.thread_ts == payload["event"]["ts"]
    assert threads.count(payload["event"]["ts"]) == 1


def test_suggestion_button_press_is_handled(socket_bot: Served) -> None:
    url = socket_bot.standin.response_url()
    press = payloads.block_actions(
        "ask_suggestion:0", "Qoder", response_url=url, block_id="suggestions"
    )

    envelope_id = socket_bot.standin.send_envelope("interactive", press)

    socket_bot.standin.wait_for_ack(envelope_id)
    body = response_to(socket_bot.standin, url).body
    assert body["response_type"] == "ephemeral"
    assert ":white_check_mark: *Qoder* is *allowed*" in all_text(body["blocks"])


def test_port_answers_probes_but_not_slack_events(socket_bot: Served) -> None:
    health = http(f"{socket_bot.bot.url}/healthz")
    events = http(f"{socket_bot.bot.url}/slack/events", data=b"{}")

    assert (health.status, health.text) == (200, "ok\n")
    assert events.status == 404


def test_reconnects_when_slack_closes_the_socket(socket_bot: Served) -> None:
    connections = socket_bot.standin.socket_connections

    socket_bot.standin.disconnect_clients()
    socket_bot.standin.wait_for_socket_connections(connections + 1, timeout=10)
    _ack, body = send_command(socket_bot, "can I use qoder?")

    assert "Qoder" in body["text"]
