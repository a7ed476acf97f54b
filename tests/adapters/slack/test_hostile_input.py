"""Hostile input at the real `policybot serve`: bounded work, nothing logged, nothing done twice.

Each test is one finding of issue 12, sent over HTTP to the server as a stranger on the
internet (unsigned) or as Slack (signed) would send it.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from sqlmodel import Session, select

from bot.adapters.db.models import QuestionLog
from bot.adapters.web.limits import MAX_BODY_BYTES
from bot.domain.policy import Status
from bot.entrypoints.serve import MAX_HEADER_BYTES
from tests.adapters.slack.conftest import ADMIN, Served, serving
from tests.adapters.slack.harness import COMMAND, http, response_to, wait_until
from tests.conftest import POSTGRES_URL, postgres_database
from tests.standin import StandinSlack, payloads
from tests.standin.signing import FORM_CONTENT_TYPE, JSON_CONTENT_TYPE, sign, slash_command_body

MB = 1024 * 1024


@pytest.fixture(scope="module")
def served(standin: StandinSlack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`policybot serve` in HTTP mode; on PostgreSQL when TEST_DATABASE_URL is set, where a
    NUL in a question or a policy is refused by the database itself."""
    workdir = tmp_path_factory.mktemp("hostile-bot")
    with ExitStack() as stack:
        url = None
        if POSTGRES_URL:
            name = f"policybot_hostile_{os.getpid()}"
            url = stack.enter_context(postgres_database(POSTGRES_URL, name))
        yield stack.enter_context(serving(standin, workdir, socket_mode=False, database_url=url))


def _status_line(sock: socket.socket) -> int:
    """The status code of the response arriving on `sock`."""
    received = b""
    while b"\r\n" not in received:
        chunk = sock.recv(4096)
        if not chunk:
            break
        received += chunk
    return int(received.split(b" ", 2)[1])


def _headers_only(served: Served, size: int) -> socket.socket:
    """A POST to /slack/events announcing a body of `size` bytes, of which none is sent."""
    sock = socket.create_connection(("127.0.0.1", served.bot.port), timeout=10)
    sock.sendall(
        b"POST /slack/events HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {size}\r\n\r\n".encode()
    )
    return sock


@pytest.mark.parametrize("size", [1 * MB, 10 * MB], ids=["1MB", "10MB"])
def test_an_oversized_unsigned_post_is_refused_before_its_body_is_read(
    served: Served, size: int
) -> None:
    with _headers_only(served, size) as sock:
        health = http(f"{served.bot.url}/healthz")  # while that request is in flight

        status = _status_line(sock)  # no byte of the body sent: refused on its length alone

    assert health.status == 200
    assert status == 413


def test_a_body_one_byte_over_the_limit_is_refused(served: Served) -> None:
    with _headers_only(served, MAX_BODY_BYTES + 1) as sock:
        assert _status_line(sock) == 413


def test_a_long_wrongly_signed_body_is_refused_and_never_logged(served: Served) -> None:
    # One long "word": the old log masking took seconds per 50 KB of it, holding every thread.
    body = b"zqxj" + b"a" * (MAX_BODY_BYTES - 8) + b"zqxj"

    result = served.slack.post(body, FORM_CONTENT_TYPE, secret="not-the-signing-secret")
    health = http(f"{served.bot.url}/healthz")

    metrics = http(f"{served.bot.url}/metrics").text
    assert result.status == 401
    assert health.status == 200
    assert "zqxja" not in served.bot.log() and "aaaaaaaa" not in served.bot.log()
    assert 'policybot_refused_requests_total{reason="bad_signature"}' in metrics


def test_headers_of_32_kib_are_refused(served: Served) -> None:
    start = b"POST /slack/events HTTP/1.1\r\nHost: bot\r\nX-Padding: "
    # Exactly the limit, not a byte more: the server reads all of it before it answers, so
    # it has nothing unread to reset the connection over.
    headers = start + b"a" * (MAX_HEADER_BYTES - len(start))
    with socket.create_connection(("127.0.0.1", served.bot.port), timeout=10) as sock:
        sock.sendall(headers)

        assert _status_line(sock) == 431


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (b'{"type":"event_callback"}', {"X-Slack-Request-Timestamp": "abc"}),
        (
            b'{"type":"event_callback"}',
            {"X-Slack-Request-Timestamp": "1" * 5000, "X-Slack-Signature": "v0=" + "0" * 64},
        ),
        (b'{"type":"event_callback"}', {"X-Slack-Signature": "v0=\u00ff\u00fe"}),
        (b"\xff\xfe\x00not utf-8", {}),
        (b'{"type": "event_callback", ', {}),
        (b"payload=%7Bnot-json", {"Content-Type": FORM_CONTENT_TYPE}),
        (b"payload=%FF%FE", {"Content-Type": FORM_CONTENT_TYPE}),
    ],
    ids=[
        "timestamp-abc",
        "timestamp-5000-digits",
        "signature-latin1",
        "invalid-utf8",
        "bad-json",
        "bad-form-json",
        "bad-form-utf8",
    ],
)
def test_a_malformed_unauthenticated_request_gets_401(
    served: Served, body: bytes, headers: dict[str, str]
) -> None:
    result = served.slack.post(body, JSON_CONTENT_TYPE, signed=False, extra_headers=headers)

    assert result.status == 401
    assert "Traceback" not in served.bot.log()


def test_a_signed_request_bolt_cannot_read_gets_400_not_500(served: Served) -> None:
    result = served.slack.post(b"\xff\xfe not utf-8", JSON_CONTENT_TYPE)

    assert result.status == 400
    assert "Traceback" not in served.bot.log()


# -- replays ------------------------------------------------------------------------------------


def test_a_replayed_signed_set_is_ignored(served: Served) -> None:
    first_url = served.standin.response_url()
    form = payloads.slash_command(
        COMMAND, "set Devin banned --reason first", response_url=first_url, user_id=ADMIN
    )
    body = slash_command_body(form)
    headers = {"Content-Type": FORM_CONTENT_TYPE, **sign(body, "standin-signing-secret")}
    assert http(served.slack.url, data=body, headers=headers).status == 200
    response_to(served.standin, first_url)
    newer_url = served.standin.response_url()
    newer = payloads.slash_command(
        COMMAND, "set Devin allowed --reason newer", response_url=newer_url, user_id=ADMIN
    )
    assert served.slack.command(newer).status == 200
    response_to(served.standin, newer_url)
    revisions = len(served.policies.history("Devin"))

    replay = http(served.slack.url, data=body, headers=headers)  # the same bytes and headers
    # Commands are worked on after the acknowledgement: wait for one sent after the replay.
    barrier = served.standin.response_url()
    form = payloads.slash_command(COMMAND, "history Devin", response_url=barrier, user_id=ADMIN)
    assert served.slack.command(form).status == 200
    response_to(served.standin, barrier)

    policy = served.policies.resolve("Devin")
    assert replay.status == 200 and replay.body == b""
    assert (policy.status, policy.reason) == (Status.ALLOWED, "newer")
    assert len(served.policies.history("Devin")) == revisions
    assert [post.url for post in served.standin.responses].count(first_url) == 1


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "", "Application/X-WWW-Form-Urlencoded", "multipart/form-data"],
)
def test_a_replay_with_another_content_type_is_never_acted_on(
    served: Served, content_type: str
) -> None:
    url = served.standin.response_url()
    form = payloads.slash_command(
        COMMAND,
        f"set Devin banned --reason {content_type or 'none'}",
        response_url=url,
        user_id=ADMIN,
    )
    body = slash_command_body(form)
    signature = sign(body, "standin-signing-secret")
    assert (
        http(
            served.slack.url, data=body, headers={"Content-Type": FORM_CONTENT_TYPE, **signature}
        ).status
        == 200
    )
    response_to(served.standin, url)
    newer_url = served.standin.response_url()
    newer = payloads.slash_command(
        COMMAND, "set Devin allowed --reason newer", response_url=newer_url, user_id=ADMIN
    )
    assert served.slack.command(newer).status == 200
    response_to(served.standin, newer_url)
    revisions = len(served.policies.history("Devin"))

    replay = http(served.slack.url, data=body, headers={"Content-Type": content_type, **signature})
    barrier = served.standin.response_url()
    form = payloads.slash_command(COMMAND, "history Devin", response_url=barrier, user_id=ADMIN)
    assert served.slack.command(form).status == 200
    response_to(served.standin, barrier)

    assert replay.status in (200, 400)
    assert served.policies.resolve("Devin").reason == "newer"
    assert len(served.policies.history("Devin")) == revisions
    assert [post.url for post in served.standin.responses].count(url) == 1


@pytest.mark.parametrize("content_type", ["text/plain", "", "multipart/form-data"])
def test_a_signed_request_of_a_type_slack_never_sends_is_refused(
    served: Served, content_type: str
) -> None:
    url = served.standin.response_url()
    form = payloads.slash_command(COMMAND, "can I use qoder?", response_url=url)
    body = slash_command_body(form)
    headers = {"Content-Type": content_type, **sign(body, "standin-signing-secret")}

    result = http(served.slack.url, data=body, headers=headers)

    assert result.status == 400
    assert url not in [post.url for post in served.standin.responses]


def test_a_signed_form_with_its_type_in_capitals_is_answered(served: Served) -> None:
    url = served.standin.response_url()
    body = slash_command_body(payloads.slash_command(COMMAND, "can I use qoder?", response_url=url))
    headers = {
        "Content-Type": "Application/X-WWW-Form-Urlencoded; charset=UTF-8",
        **sign(body, "standin-signing-secret"),
    }

    result = http(served.slack.url, data=body, headers=headers)

    assert result.status == 200
    assert "Qoder" in result.body.decode()


def test_the_same_question_asked_twice_is_answered_twice(served: Served) -> None:
    answers = [
        served.slack.command(
            payloads.slash_command(
                COMMAND, "can I use qoder?", response_url=served.standin.response_url()
            )
        )
        for _ in range(2)
    ]

    assert [a.status for a in answers] == [200, 200]
    assert all("Qoder" in a.text for a in answers)


# -- response_url ------------------------------------------------------------------------------


def test_a_response_url_outside_slack_is_never_contacted(served: Served) -> None:
    with StandinSlack() as elsewhere:
        foreign = elsewhere.response_url()  # same address, another port: another origin
        form = payloads.slash_command(COMMAND, "list banned", response_url=foreign, user_id=ADMIN)

        result = served.slack.command(form)
        url = served.standin.response_url()
        served.slack.command(
            payloads.slash_command(COMMAND, "list banned", response_url=url, user_id=ADMIN)
        )
        response_to(served.standin, url)  # a later command was answered...

        assert result.status == 400
        assert elsewhere.responses == [] and elsewhere.calls == []  # ...this one never


# -- the question log -------------------------------------------------------------------------


def _logged(served: Served, marker: str) -> list[str]:
    with Session(served.policies.store.engine) as session:
        rows = session.exec(select(QuestionLog.question)).all()
    return [q for q in rows if marker in q]


def test_one_bad_question_never_drops_the_others_in_its_batch(served: Served) -> None:
    texts = [f"can I use cursor? batch-{n}" for n in range(10)]
    texts[3] = "can I use cursor? batch-3 \ud800 lone half"
    texts[6] = "can I use cursor? batch-6 \x00 nul"
    for text in texts:
        payload = payloads.direct_message(text, user="U0BATCH")
        body = json.dumps(payload).encode()  # \ud800 and \u0000 as JSON escapes, as Slack may
        assert served.slack.post(body, JSON_CONTENT_TYPE).status == 200

    logged = wait_until(
        lambda: len(_logged(served, "batch-")) >= 10 and _logged(served, "batch-"),
        what="ten logged questions",
    )

    assert sorted(logged) == sorted(
        [
            *texts[:3],
            "can I use cursor? batch-3 \ufffd lone half",
            *texts[4:6],
            "can I use cursor? batch-6 nul",
            *texts[7:],
        ]
    )
