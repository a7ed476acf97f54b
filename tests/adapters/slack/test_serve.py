"""`policybot serve` start-up: clear one-line errors for bad settings, clean stop on SIGTERM."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.adapters.db import engines as db
from bot.adapters.db.models import Delivery
from bot.adapters.db.store import Store
from bot.domain.commands import SetPolicy
from bot.domain.policy import Status, ToolPolicy
from tests.adapters.slack.harness import BotProcess, seeded_database
from tests.standin import StandinSlack
from tests.wiring import apply, runtime_on


def serve_once(env: dict[str, str], workdir: Path) -> subprocess.CompletedProcess[str]:
    bot = BotProcess(env, workdir)
    command = [arg for arg in bot.command() if arg not in ("--port", str(bot.port))]
    return subprocess.run(
        command, cwd=workdir, env=bot.env, capture_output=True, text=True, timeout=30
    )


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SLACK_SIGNING_SECRET": "s"}, "SLACK_BOT_TOKEN"),
        ({"SLACK_BOT_TOKEN": "xoxb-test"}, "SLACK_SIGNING_SECRET"),
        ({"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_APP_TOKEN": "xoxb-wrong"}, "SLACK_APP_TOKEN"),
        ({"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": "s", "PORT": "http"}, "PORT"),
    ],
    ids=["no-bot-token", "http-without-secret", "bad-app-token", "malformed-port"],
)
def test_bad_setting_stops_the_start_with_one_line_naming_it(
    tmp_path: Path, env: dict[str, str], named: str
) -> None:
    result = serve_once(env, tmp_path)

    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and named in result.stderr
    assert "Traceback" not in result.stderr


def test_refused_bot_token_stops_the_start_with_one_line(tmp_path: Path) -> None:
    with StandinSlack() as standin:
        env = {
            "SLACK_BOT_TOKEN": "not-a-bot-token",
            "SLACK_SIGNING_SECRET": "s",
            "SLACK_API_URL": standin.api_url,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        }
        result = serve_once(env, tmp_path)

    assert result.returncode == 2
    assert "cannot start the Slack app" in result.stderr and "invalid_auth" in result.stderr
    assert "Traceback" not in result.stderr


def test_refused_bot_token_sends_nothing_though_announcements_are_due(tmp_path: Path) -> None:
    # The sender starts before the rest of the server; the token is checked before it.
    url = seeded_database(tmp_path / "bot.db", [ToolPolicy("Cursor", Status.ALLOWED)])
    engine = db.make_engine(url)
    apply(
        runtime_on(Store(engine), announce_channel="C0ANNOUNCE"),
        SetPolicy("Cursor", Status.BANNED),
    )
    with StandinSlack(members={"C0ANNOUNCE": ["U0ALICE"]}) as standin:
        env = {
            "SLACK_BOT_TOKEN": "not-a-bot-token",
            "SLACK_SIGNING_SECRET": "s",
            "SLACK_API_URL": standin.api_url,
            "DATABASE_URL": url,
            "POLICYBOT_ANNOUNCE_CHANNEL": "C0ANNOUNCE",
        }
        result = serve_once(env, tmp_path)
        posted = standin.calls_to("chat.postMessage")
    with Session(engine) as session:
        rows = session.exec(select(Delivery)).all()
    engine.dispose()

    assert result.returncode == 2 and "invalid_auth" in result.stderr
    assert posted == []
    assert [(row.status, row.attempts) for row in rows] == [("pending", 0)]


def test_sigterm_stops_the_server_cleanly(tmp_path: Path) -> None:
    with StandinSlack() as standin:
        env = {
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_SIGNING_SECRET": "s",
            "SLACK_API_URL": standin.api_url,
            "DATABASE_URL": seeded_database(tmp_path / "bot.db", []),
        }
        bot = BotProcess(env, tmp_path)
        bot.start()
        code = bot.stop()

    assert code == 0
    assert "policybot stopped" in bot.log()


def test_port_in_use_stops_the_start_with_one_line(tmp_path: Path) -> None:
    with StandinSlack() as standin, socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        env = {
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_SIGNING_SECRET": "s",
            "SLACK_API_URL": standin.api_url,
            "DATABASE_URL": seeded_database(tmp_path / "bot.db", []),
        }
        bot = BotProcess(env, tmp_path)
        bot.port = busy.getsockname()[1]
        result = subprocess.run(
            bot.command(), cwd=tmp_path, env=bot.env, capture_output=True, text=True, timeout=30
        )

    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{bot.port}" in result.stderr
    assert "Traceback" not in result.stderr
