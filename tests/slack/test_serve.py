"""`policybot serve` start-up: clear one-line errors for bad settings, clean stop on SIGTERM."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest

from tests.slack.harness import BotProcess, seeded_database
from tests.standin import StandinSlack


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
