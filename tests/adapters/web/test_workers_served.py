"""HTTP mode on gunicorn, through real `policybot serve` processes and the stand-in Slack:
every worker answers a change within about a second, one process sends announcements, idle
and stalled connections do not hold the server, SIGTERM finishes the work in flight, and two
replicas on one database behave as one bot.

Each test runs on the suite's database (SQLite, or PostgreSQL with TEST_DATABASE_URL).
"""

from __future__ import annotations

import contextlib
import re
import signal
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, func, select

from bot.adapters.db.models import QuestionLog
from bot.adapters.db.policy_repo import PolicyRepository
from bot.adapters.db.store import Store
from bot.adapters.web.workers import IO_TIMEOUT_SECONDS
from tests.adapters.slack.harness import (
    ANNOUNCE_ADMIN,
    ANNOUNCE_CHANNEL,
    COMMAND,
    SECRET,
    BotProcess,
    SignedPoster,
    announcing_env,
    http,
    response_to,
    wait_until,
)
from tests.factories import seed_registry
from tests.standin import StandinSlack, payloads
from tests.standin.signing import FORM_CONTENT_TYPE, signed_headers, slash_command_body
from tests.wiring import runtime_on, seed

CHANNEL = ANNOUNCE_CHANNEL
ADMIN = ANNOUNCE_ADMIN
STAFF = ["U0ALICE", "U0BOB", "U0CAROL"]
WORKERS = 2


def bot_env(standin: StandinSlack, url: str, workdir: Path, **extra: str) -> dict[str, str]:
    # `extra` may set its own worker count, as in the original dict merge.
    return announcing_env(standin, url, workdir, **{"POLICYBOT_WORKERS": str(WORKERS), **extra})


def ask(bot: BotProcess, standin: StandinSlack, question: str) -> str:
    """A question as a slash command on a new connection; the answer is in the acknowledgement."""
    form = payloads.slash_command(COMMAND, question, response_url=standin.response_url())
    result = SignedPoster(bot, standin).command(form)
    assert result.status == 200, result.text
    return str(result.json().get("text", ""))


def command(bot: BotProcess, standin: StandinSlack, text: str) -> str:
    """An admin command; the bot answers it at the response_url."""
    url = standin.response_url()
    form = payloads.slash_command(COMMAND, text, response_url=url, user_id=ADMIN)
    assert SignedPoster(bot, standin).command(form).status == 200
    return str(response_to(standin, url, timeout=10).body.get("text", ""))


def generations_by_process(bot: BotProcess) -> dict[str, int]:
    """The registry generation each process answers from, as /metrics reports it."""
    text = http(f"{bot.url}/metrics").text
    found = re.findall(r'^policybot_registry_generation\{pid="(\d+)"\} (\S+)$', text, re.M)
    return {pid: int(float(value)) for pid, value in found}


def question_count(engine: sa.Engine) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(QuestionLog)).one())


@pytest.fixture
def store(engine: sa.Engine) -> Store:
    store = Store(engine)
    seed(runtime_on(store), seed_registry())
    return store


@pytest.fixture
def standin() -> Iterator[StandinSlack]:
    with StandinSlack(members={CHANNEL: [*STAFF, "U0BOT"]}) as slack:
        yield slack


@pytest.fixture
def bot(
    store: Store, database_url: str, standin: StandinSlack, tmp_path: Path
) -> Iterator[BotProcess]:
    process = BotProcess(bot_env(standin, database_url, tmp_path), tmp_path)
    process.start()
    yield process
    process.stop()


def test_a_change_through_one_worker_is_answered_by_every_worker(
    bot: BotProcess, standin: StandinSlack, store: Store
) -> None:
    assert "UNDER REVIEW" in ask(bot, standin, "can I use cursor?").upper()
    command(bot, standin, "set Cursor banned --reason Uploads code")
    generation = PolicyRepository(store).generation()

    def every_worker_is_current() -> bool:
        ask(bot, standin, "can I use cursor?")  # new connections reach every worker in turn
        current = [g for g in generations_by_process(bot).values() if g == generation]
        return len(current) == WORKERS

    wait_until(every_worker_is_current, 15, "every worker to answer from the new registry")
    answers = [ask(bot, standin, "can I use cursor?") for _ in range(10)]

    assert all("Cursor is BANNED" in answer for answer in answers), answers


def test_a_change_is_announced_once_whatever_the_number_of_workers(
    bot: BotProcess, standin: StandinSlack
) -> None:
    command(bot, standin, "set Cursor banned --reason Uploads code")
    wait_until(lambda: standin.messages(CHANNEL), 10, "the first announcement")
    command(bot, standin, "set Qoder under-review --reason Re-assessing")
    # Once the second is out, every sender had its chance to repeat the first.
    wait_until(lambda: len(standin.messages(CHANNEL)) >= 2, 10, "the second announcement")

    posts = standin.messages(CHANNEL)
    assert len(posts) == 2
    assert "Cursor" in posts[0].text and "Qoder" in posts[1].text


def test_idle_and_stalled_connections_do_not_stop_health_checks_or_answers(
    bot: BotProcess, standin: StandinSlack
) -> None:
    body = slash_command_body(
        payloads.slash_command(COMMAND, "can I use qoder?", response_url=standin.response_url())
    )
    headers = signed_headers(body, SECRET, content_type=FORM_CONTENT_TYPE)
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    request = (
        f"POST /slack/events HTTP/1.1\r\nHost: bot\r\n{head}Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    held: list[socket.socket] = []
    try:
        for n in range(1000):
            connection = socket.create_connection(("127.0.0.1", bot.port), timeout=10)
            held.append(connection)
            if n % 3 == 1:
                connection.sendall(request[:20])  # half a request line
            elif n % 3 == 2:
                connection.sendall(request[:-10])  # all but the end of the body
        health = http(f"{bot.url}/healthz")
        answer = ask(bot, standin, "can I use qoder?")
    finally:
        for connection in held:
            connection.close()

    assert health.status == 200
    assert "Qoder is ALLOWED" in answer


def test_bodies_sent_slowly_hold_no_thread(bot: BotProcess, standin: StandinSlack) -> None:
    """More slow senders than the workers have threads (2 x 8), each promising a 400 KB body
    and sending it a trickle at a time: no thread waits for them, so the probe and a question
    are answered at once (before, every thread waited and /healthz timed out)."""
    head = b"POST /healthz HTTP/1.1\r\nHost: bot\r\nContent-Length: 400000\r\n\r\n"
    held = [socket.create_connection(("127.0.0.1", bot.port), timeout=10) for _ in range(24)]
    try:
        for connection in held:
            connection.sendall(head + b"x" * 100)
        for _ in range(3):
            for connection in held:
                # The server may have closed it already (IDLE_SECONDS after it was accepted).
                with contextlib.suppress(OSError):
                    connection.sendall(b"x")
            # Threads held by the trickles would free up only when a read times out
            # (IO_TIMEOUT_SECONDS): the probe gives up before that; an answer takes milliseconds.
            health = http(f"{bot.url}/healthz", timeout=IO_TIMEOUT_SECONDS - 2)
            assert health.status == 200
        assert "Qoder is ALLOWED" in ask(bot, standin, "can I use qoder?")
    finally:
        for connection in held:
            connection.close()


def _exchange(bot: BotProcess, request: bytes) -> bytes:
    """Send `request` on a new connection; what the server answers before closing it."""
    with socket.create_connection(("127.0.0.1", bot.port), timeout=10) as connection:
        connection.sendall(request)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
        return answer


def test_a_body_over_the_limit_or_without_a_length_is_refused_before_it_is_read(
    bot: BotProcess,
) -> None:
    too_large = b"POST /slack/events HTTP/1.1\r\nHost: bot\r\nContent-Length: 600000\r\n\r\n"
    chunked = b"POST /slack/events HTTP/1.1\r\nHost: bot\r\nTransfer-Encoding: chunked\r\n\r\n"

    assert _exchange(bot, too_large).startswith(b"HTTP/1.1 413 ")
    assert _exchange(bot, chunked + b"5\r\nhello\r\n").startswith(b"HTTP/1.1 411 ")


def test_sigterm_finishes_the_work_in_flight_logs_every_question_and_exits_0(
    bot: BotProcess, standin: StandinSlack, engine: sa.Engine
) -> None:
    release = standin.hold("chat.postMessage")
    event = payloads.direct_message("can I use qoder?", user="U0ALICE")
    assert SignedPoster(bot, standin).event(event).status == 200
    standin.wait_for_held("chat.postMessage", timeout=10)  # the answer is being posted
    for _ in range(20):
        ask(bot, standin, "can I use claude code?")
    assert bot.process is not None
    process = bot.process

    process.send_signal(signal.SIGTERM)
    wait_until(lambda: refuses_connections(bot.port), 20, "the server to stop accepting")
    release.set()
    code = process.wait(timeout=40)
    bot.process = None

    assert code == 0, bot.log()
    [answer] = standin.messages("DU0ALICE")
    assert "Qoder" in answer.text
    assert question_count(engine) == 21
    assert "scheduler stopped" in bot.log() and "policybot stopped" in bot.log()


def refuses_connections(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return True
    return False


def test_two_replicas_answer_each_others_changes_and_announce_once(
    store: Store, database_url: str, standin: StandinSlack, tmp_path: Path
) -> None:
    replicas = []
    for name in ("a", "b"):
        workdir = tmp_path / name
        workdir.mkdir()
        replicas.append(
            BotProcess(bot_env(standin, database_url, workdir, POLICYBOT_WORKERS="1"), workdir)
        )
    a, b = replicas
    try:
        for replica in replicas:
            replica.start()
        assert "UNDER REVIEW" in ask(b, standin, "can I use cursor?").upper()
        command(a, standin, "set Cursor banned --reason Uploads code")
        wait_until(
            lambda: "Cursor is BANNED" in ask(b, standin, "can I use cursor?"),
            10,
            "replica b to answer replica a's change",
        )
        command(b, standin, "set Qoder under-review --reason Re-assessing")
        wait_until(lambda: len(standin.messages(CHANNEL)) >= 2, 10, "both announcements")
        # The sender's lock is given up on SIGTERM: the other replica sends from then on.
        sender = a if "now runs the scheduler" in a.log() else b
        other = b if sender is a else a
        assert sender.stop() == 0
        command(other, standin, "set Qoder allowed --reason Assessed")
        wait_until(lambda: len(standin.messages(CHANNEL)) >= 3, 20, "the third announcement")
    finally:
        for replica in replicas:
            replica.stop()

    posts = [post.text for post in standin.messages(CHANNEL)]
    assert len(posts) == 3
    # Each change announced exactly once (under load the sender may post them out of order).
    assert sum("Cursor" in post for post in posts) == 1
    assert sum("Qoder" in post for post in posts) == 2
