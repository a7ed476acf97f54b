"""The stand-in behaves like Slack where policybot's tests rely on it, driven by slack_sdk."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.error import HTTPError
from urllib.request import Request, urlopen

import pytest
from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.socket_mode import SocketModeClient
from slack_sdk.socket_mode.client import BaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.webhook import WebhookClient

from tests.standin import RateLimit, StandinSlack, payloads
from tests.standin.fixtures import make_standin_slack as make_standin_slack
from tests.standin.fixtures import standin_slack as standin_slack
from tests.standin.signing import event_body, interactivity_body, sign, slash_command_body

MakeStandin = Callable[..., StandinSlack]


def bot_client(standin: StandinSlack, token: str = "xoxb-test") -> WebClient:
    # No retry handlers: tests see 429s and errors as they come.
    return WebClient(token=token, base_url=standin.api_url, retry_handlers=[])


# -- Web API -------------------------------------------------------------------------------------


def test_posted_message_is_stored_with_blocks_thread_and_metadata(
    standin_slack: StandinSlack,
) -> None:
    client = bot_client(standin_slack)
    metadata = {"event_type": "policy_answer", "event_payload": {"tool": "chatgpt"}}
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*hi*"}}]

    first = client.chat_postMessage(channel="C1", text="hi", blocks=blocks, metadata=metadata)
    reply = client.chat_postMessage(channel="C1", text="more", thread_ts=first["ts"])

    assert first["channel"] == "C1"
    assert first["message"]["metadata"] == metadata
    assert float(reply["ts"]) > float(first["ts"])
    stored = standin_slack.messages("C1")
    assert [(m.text, m.blocks, m.metadata, m.thread_ts) for m in stored] == [
        ("hi", blocks, metadata, first["ts"]),
        ("more", None, None, first["ts"]),
    ]


def test_history_includes_metadata_only_when_asked(standin_slack: StandinSlack) -> None:
    client = bot_client(standin_slack)
    metadata = {"event_type": "policy_answer", "event_payload": {"tool": "chatgpt"}}
    client.chat_postMessage(channel="C1", text="one", metadata=metadata)

    plain = client.conversations_history(channel="C1")
    with_metadata = client.conversations_history(channel="C1", include_all_metadata=True)

    assert "metadata" not in plain["messages"][0]
    assert with_metadata["messages"][0]["metadata"] == metadata


def test_metadata_sent_as_form_field_is_decoded(standin_slack: StandinSlack) -> None:
    client = bot_client(standin_slack)
    metadata = {"event_type": "t", "event_payload": {"n": 1}}

    client.api_call(
        "chat.postMessage",
        data={"channel": "C1", "text": "form", "metadata": json.dumps(metadata)},
    )

    assert standin_slack.messages("C1")[0].metadata == metadata
    assert standin_slack.calls_to("chat.postMessage")[0].args["metadata"] == metadata


def test_history_is_newest_first_windowed_and_paged(standin_slack: StandinSlack) -> None:
    client = bot_client(standin_slack)
    ts = [client.chat_postMessage(channel="C1", text=str(n))["ts"] for n in range(5)]
    client.chat_postMessage(channel="C1", text="reply", thread_ts=ts[0])
    client.chat_postMessage(channel="C2", text="elsewhere")

    window = client.conversations_history(channel="C1", oldest=ts[0], latest=ts[4])
    first = client.conversations_history(channel="C1", limit=2)
    second = client.conversations_history(
        channel="C1", limit=2, cursor=first["response_metadata"]["next_cursor"]
    )

    assert [m["text"] for m in window["messages"]] == ["3", "2", "1"]
    assert [m["text"] for m in first["messages"]] == ["4", "3"]
    assert first["has_more"] is True
    assert [m["text"] for m in second["messages"]] == ["2", "1"]
    replies = client.conversations_replies(channel="C1", ts=ts[0])
    assert [m["text"] for m in replies["messages"]] == ["0", "reply"]


def test_suggested_prompts_are_one_to_four_titled_messages(standin_slack: StandinSlack) -> None:
    client = bot_client(standin_slack)
    prompt = {"title": "Ask", "message": "can I use cursor?"}

    client.assistant_threads_setSuggestedPrompts(
        channel_id="D1", thread_ts="1.000001", prompts=[prompt]
    )
    with pytest.raises(SlackApiError, match="invalid_arguments"):
        client.assistant_threads_setSuggestedPrompts(
            channel_id="D1", thread_ts="1.000001", prompts=[prompt] * 5
        )

    assert standin_slack.suggested_prompts("D1", "1.000001") == {"prompts": [prompt], "title": None}


def test_a_custom_step_completes_once_with_the_workflow_token(standin_slack: StandinSlack) -> None:
    client = bot_client(standin_slack, token="xwfp-workflow")

    client.functions_completeSuccess(function_execution_id="Fx1", outputs={"status": "banned"})
    with pytest.raises(SlackApiError, match="function_execution_not_found"):
        client.functions_completeError(function_execution_id="Fx1", error="too late")

    assert standin_slack.function_result("Fx1") == ("success", {"status": "banned"})


def test_chat_update_changes_the_stored_message(standin_slack: StandinSlack) -> None:
    client = bot_client(standin_slack)
    posted = client.chat_postMessage(channel="C1", text="draft")

    client.chat_update(channel="C1", ts=posted["ts"], text="final")

    assert [m.text for m in standin_slack.messages("C1")] == ["final"]
    with pytest.raises(SlackApiError, match="message_not_found"):
        client.chat_update(channel="C1", ts="1.000001", text="nope")


def test_conversation_members_are_paged_with_cursor(make_standin_slack: MakeStandin) -> None:
    everyone = [f"U{n:03d}" for n in range(7)]
    client = bot_client(make_standin_slack(members={"C1": everyone}))

    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = client.conversations_members(channel="C1", limit=3, cursor=cursor)
        seen += page["members"]
        pages += 1
        cursor = page["response_metadata"]["next_cursor"]
        if not cursor:
            break

    assert (seen, pages) == (everyone, 3)


def test_people_channels_and_views_are_answered(make_standin_slack: MakeStandin) -> None:
    standin = make_standin_slack(usergroups={"S1": ["U1", "U2"]})
    client = bot_client(standin)

    dm = client.conversations_open(users="U1")["channel"]["id"]
    view = client.views_open(trigger_id="1.2.3", view={"type": "modal", "callback_id": "edit"})
    home = client.views_publish(user_id="U1", view={"type": "home", "blocks": []})
    ephemeral = client.chat_postEphemeral(channel="C1", user="U1", text="psst")

    assert dm == client.conversations_open(users="U1")["channel"]["id"] == "DU1"
    assert view["view"]["id"] in standin.views
    assert standin.home_views["U1"]["id"] == home["view"]["id"]
    assert standin.ephemeral_messages[0].message_ts == ephemeral["message_ts"]
    assert client.usergroups_users_list(usergroup="S1")["users"] == ["U1", "U2"]
    assert client.users_info(user="U1")["user"]["id"] == "U1"


def test_auth_test_identifies_the_bot(standin_slack: StandinSlack) -> None:
    answer = bot_client(standin_slack).auth_test()

    assert (answer["user_id"], answer["team_id"], answer["bot_id"]) == ("U0BOT", "T0TEAM", "B0BOT")


@pytest.mark.parametrize("token", ["xoxp-user", "xapp-app", None])
def test_calls_without_a_bot_token_are_invalid_auth(
    standin_slack: StandinSlack, token: str | None
) -> None:
    client = WebClient(token=token, base_url=standin_slack.api_url, retry_handlers=[])

    with pytest.raises(SlackApiError, match="invalid_auth"):
        client.auth_test()


def test_unknown_method_is_refused(standin_slack: StandinSlack) -> None:
    with pytest.raises(SlackApiError, match="unknown_method"):
        bot_client(standin_slack).api_call("policies.everything")


def test_posts_over_the_burst_get_429_with_retry_after(make_standin_slack: MakeStandin) -> None:
    standin = make_standin_slack(rate_limit=RateLimit(per_second=0.5, burst=3))
    client = bot_client(standin)

    for n in range(3):
        client.chat_postMessage(channel="C1", text=str(n))
    with pytest.raises(SlackApiError) as refused:
        client.chat_postMessage(channel="C1", text="one too many")

    assert refused.value.response.status_code == 429
    assert refused.value.response.headers["Retry-After"] == "2"
    assert refused.value.response["error"] == "ratelimited"
    assert (standin.refusals, len(standin.messages())) == (1, 3)


def test_concurrent_posts_are_all_answered_and_counted(make_standin_slack: MakeStandin) -> None:
    standin = make_standin_slack(rate_limit=RateLimit(per_second=1, burst=20))
    statuses: list[int] = []

    def post(n: int) -> None:
        try:
            statuses.append(
                bot_client(standin).chat_postMessage(channel="C1", text=str(n)).status_code
            )
        except SlackApiError as e:
            statuses.append(e.response.status_code)

    threads = [threading.Thread(target=post, args=(n,)) for n in range(60)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(set(statuses)) == [200, 429]
    assert statuses.count(200) == len(standin.messages()) >= 20
    assert statuses.count(429) == standin.refusals


def test_fail_next_injects_server_errors_then_recovers(standin_slack: StandinSlack) -> None:
    client = bot_client(standin_slack)
    standin_slack.fail_next("chat.postMessage", status=500)

    with pytest.raises(SlackApiError) as failed:
        client.chat_postMessage(channel="C1", text="x")
    client.chat_postMessage(channel="C1", text="y")

    assert failed.value.response.status_code == 500
    assert [c.status for c in standin_slack.calls_to("chat.postMessage")] == [500, 200]


def test_wait_for_blocks_until_calls_arrive(standin_slack: StandinSlack) -> None:
    client = bot_client(standin_slack)
    later = threading.Timer(0.1, lambda: client.chat_postMessage(channel="C1", text="late"))
    later.start()

    calls = standin_slack.wait_for("chat.postMessage", timeout=2)

    later.join()
    assert calls[0].args["text"] == "late"
    with pytest.raises(TimeoutError, match=r"views\.open"):
        standin_slack.wait_for("views.open", timeout=0.05)


def test_response_url_posts_are_recorded(standin_slack: StandinSlack) -> None:
    url = standin_slack.response_url()

    answer = WebhookClient(url).send(text="only you can see this", response_type="ephemeral")

    assert answer.status_code == 200
    [post] = standin_slack.responses
    assert (post.url, post.body["text"]) == (url, "only you can see this")


def test_unissued_response_url_is_404(standin_slack: StandinSlack) -> None:
    request = Request(standin_slack.base_url + "/response/made-up", data=b"{}", method="POST")
    with pytest.raises(HTTPError) as refused:
        urlopen(request, timeout=2)

    assert refused.value.code == 404
    assert standin_slack.responses == []


# -- signing -------------------------------------------------------------------------------------


def test_signature_is_what_slack_sdk_verifies() -> None:
    body = slash_command_body(payloads.slash_command("/policy", "chatgpt", response_url="http://x"))
    now = int(time.time())

    headers = sign(body, "s3cret", timestamp=now)

    verifier = SignatureVerifier("s3cret")
    assert verifier.is_valid(body, str(now), headers["X-Slack-Signature"])
    assert not SignatureVerifier("other").is_valid(body, str(now), headers["X-Slack-Signature"])


def test_interactivity_and_event_bodies_are_encoded_like_slack() -> None:
    action = payloads.block_actions("approve", "chatgpt", response_url="http://x")
    mention = payloads.app_mention("is chatgpt allowed?")

    assert interactivity_body(action).startswith(b"payload=%7B%22type%22%3A%22block_actions%22")
    assert json.loads(event_body(mention))["event"]["text"] == "<@U0BOT> is chatgpt allowed?"


# -- Socket Mode ---------------------------------------------------------------------------------


@pytest.fixture
def socket_client(standin_slack: StandinSlack) -> Iterator[SocketModeClient]:
    """The builtin slack_sdk Socket Mode client, acking every envelope with a payload."""
    client = SocketModeClient(
        app_token="xapp-test",
        web_client=WebClient(token="xoxb-x", base_url=standin_slack.api_url),
        ping_interval=0.2,  # notices dropped sockets quickly
    )

    def ack(client: BaseSocketModeClient, request: SocketModeRequest) -> None:
        response = SocketModeResponse(request.envelope_id, payload={"text": "got it"})
        client.send_socket_mode_response(response)

    client.socket_mode_request_listeners.append(ack)
    client.connect()
    yield client
    client.close()


def test_connections_open_needs_an_app_token(standin_slack: StandinSlack) -> None:
    with pytest.raises(SlackApiError, match="invalid_auth"):
        bot_client(standin_slack).apps_connections_open(app_token="xoxb-not-an-app-token")


def test_envelope_is_delivered_and_acked(
    standin_slack: StandinSlack, socket_client: SocketModeClient
) -> None:
    envelope_id = standin_slack.send_envelope(
        "slash_commands",
        payloads.slash_command("/policy", "chatgpt", response_url=standin_slack.response_url()),
        accepts_response_payload=True,
    )

    ack = standin_slack.wait_for_ack(envelope_id, timeout=2)

    assert ack == {"envelope_id": envelope_id, "payload": {"text": "got it"}}


def test_client_reconnects_after_disconnect_envelope(
    standin_slack: StandinSlack, socket_client: SocketModeClient
) -> None:
    standin_slack.wait_for_socket_connections(1)

    standin_slack.disconnect_clients()

    standin_slack.wait_for_socket_connections(2, timeout=2)
    envelope_id = standin_slack.send_envelope("events_api", payloads.app_home_opened())
    assert standin_slack.wait_for_ack(envelope_id, timeout=2)["envelope_id"] == envelope_id


def test_client_reconnects_after_dropped_socket(
    standin_slack: StandinSlack, socket_client: SocketModeClient
) -> None:
    standin_slack.wait_for_socket_connections(1)

    standin_slack.disconnect_clients(send_disconnect_envelope=False)

    standin_slack.wait_for_socket_connections(2, timeout=3)
    assert standin_slack.socket_connections == 2


def test_bolt_app_answers_a_slash_command_over_socket_mode(
    standin_slack: StandinSlack,
) -> None:
    app = App(client=WebClient(token="xoxb-test", base_url=standin_slack.api_url))

    @app.command("/policy")
    def answer(
        ack: Callable[..., Any], respond: Callable[..., Any], command: dict[str, Any]
    ) -> None:
        ack()
        respond(f"{command['text']} is allowed")

    handler = SocketModeHandler(app, app_token="xapp-test")
    # The handler's own connect()/close() are untyped; its client's are not.
    handler.client.connect()
    try:
        envelope_id = standin_slack.send_envelope(
            "slash_commands",
            payloads.slash_command("/policy", "chatgpt", response_url=standin_slack.response_url()),
            accepts_response_payload=True,
        )
        assert standin_slack.wait_for_ack(envelope_id, timeout=2)["envelope_id"] == envelope_id
        [post] = standin_slack.wait_for_responses(1, timeout=2)
    finally:
        handler.client.close()

    assert post.body["text"] == "chatgpt is allowed"
