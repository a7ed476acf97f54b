"""The catalogue inside the real `policybot serve`: same port as /healthz in HTTP and Socket
Mode, off with POLICYBOT_CATALOGUE=off, and linked from Slack answers with a public URL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.adapters.slack.harness import (
    COMMAND,
    SECRET,
    BotProcess,
    SignedPoster,
    all_text,
    http,
    response_to,
    seeded_database,
)
from tests.factories import seed_registry
from tests.standin import StandinSlack, payloads

PUBLIC_URL = "https://policybot.example.com"


@pytest.fixture(scope="module")
def standin() -> Iterator[StandinSlack]:
    with StandinSlack() as slack:
        yield slack


def start_bot(
    standin: StandinSlack, workdir: Path, *, socket_mode: bool = False, **extra: str
) -> BotProcess:
    env = {
        "DATABASE_URL": seeded_database(workdir / "policybot.db", seed_registry()),
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_API_URL": standin.api_url,
        "POLICYBOT_COMMAND": COMMAND,
        "POLICYBOT_POLICIES": str(workdir / "no-policies"),
        **extra,
    }
    if socket_mode:
        env["SLACK_APP_TOKEN"] = "xapp-test"
    else:
        env["SLACK_SIGNING_SECRET"] = SECRET
    bot = BotProcess(env, workdir)
    bot.start()
    return bot


@pytest.fixture(scope="module")
def http_bot(
    standin: StandinSlack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BotProcess]:
    bot = start_bot(standin, tmp_path_factory.mktemp("http"), POLICYBOT_PUBLIC_URL=PUBLIC_URL)
    try:
        yield bot
    finally:
        bot.stop()


def test_http_mode_serves_the_catalogue_on_the_port_of_healthz(http_bot: BotProcess) -> None:
    assert http(f"{http_bot.url}/healthz").status == 200
    page = http(f"{http_bot.url}/catalogue/")
    assert page.status == 200
    assert "/catalogue/tools/claude-code" in page.text
    assert http(f"{http_bot.url}/catalogue/tools/claude-code").status == 200
    assert http(f"{http_bot.url}/catalogue/export.json").json()["count"] == len(seed_registry())


def test_the_catalogue_refuses_writes_inside_serve_too(http_bot: BotProcess) -> None:
    assert http(f"{http_bot.url}/catalogue/", data=b"x=1").status == 405


def test_slack_answers_link_to_the_tool_page_and_keep_the_tools_link_as_more(
    http_bot: BotProcess, standin: StandinSlack
) -> None:
    url = standin.response_url()
    form = payloads.slash_command(COMMAND, "can I use claude code?", response_url=url)
    result = SignedPoster(http_bot, standin).command(form)
    assert result.status == 200
    reply: dict[str, Any] = result.json() if result.body else response_to(standin, url).body
    text = all_text(reply)
    assert f"<{PUBLIC_URL}/catalogue/tools/claude-code|Policy page>" in text
    assert "<https://intranet.example.com/ai-policy/claude-code|More>" in text


def test_socket_mode_serves_the_catalogue_on_the_port_of_healthz(
    standin: StandinSlack, tmp_path: Path
) -> None:
    bot = start_bot(standin, tmp_path, socket_mode=True)
    try:
        standin.wait_for_socket_connections(1, timeout=10)
        assert http(f"{bot.url}/healthz").status == 200
        assert http(f"{bot.url}/catalogue/tools/qoder").status == 200
    finally:
        bot.stop()


def test_the_catalogue_can_be_turned_off(standin: StandinSlack, tmp_path: Path) -> None:
    bot = start_bot(standin, tmp_path, POLICYBOT_CATALOGUE="off")
    try:
        assert http(f"{bot.url}/healthz").status == 200
        assert http(f"{bot.url}/catalogue/").status == 404
    finally:
        bot.stop()
