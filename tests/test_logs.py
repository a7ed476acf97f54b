"""Log lines: one per event, JSON when LOG_FORMAT=json, never a token or a secret."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from bot.config import load_settings
from bot.logs import configure_logging

BOT_TOKEN = "xoxb-1111-2222-abcdefSECRET"
APP_TOKEN = "xapp-1-A0APP-3333-ghijklSECRET"


@pytest.fixture(autouse=True)
def restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_log_format_json_gives_one_json_object_per_event(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LOG_FORMAT", "json")
    settings = load_settings()
    configure_logging(settings.log_format, settings.log_level)
    log = logging.getLogger("bot.test")
    log.info("answered a question", extra={"channel": "slack", "matched": ["Cursor"]})
    log.warning("second event")
    lines = json_lines(capsys.readouterr().err)
    assert [line["event"] for line in lines] == ["answered a question", "second event"]
    first = lines[0]
    assert first["level"] == "info" and first["logger"] == "bot.test"
    assert first["channel"] == "slack" and first["matched"] == ["Cursor"]
    assert first["time"].endswith("+00:00")


def test_a_multi_line_error_stays_on_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("json")
    try:
        raise RuntimeError("first line\nsecond line")
    except RuntimeError:
        logging.getLogger("bot.test").exception("could not send")
    output = capsys.readouterr().err
    assert len(output.strip().splitlines()) == 1
    assert "second line" in json.loads(output)["error"]


def test_a_token_in_the_message_is_masked(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("json")
    logging.getLogger("bot.test").warning("Slack refused %s and %s", BOT_TOKEN, APP_TOKEN)
    output = capsys.readouterr().err
    assert "SECRET" not in output
    assert json.loads(output)["event"] == "Slack refused xoxb-*** and xapp-***"


def test_a_token_in_an_extra_field_is_masked(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("json")
    logging.getLogger("bot.test").info(
        "calling Slack", extra={"headers": f"Bearer {BOT_TOKEN}", "signing_secret": "abc123"}
    )
    line = json.loads(capsys.readouterr().err)
    assert line["headers"] == "Bearer xoxb-***"
    assert line["signing_secret"] == "***"


def test_a_token_in_a_traceback_is_masked(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("json")
    try:
        raise ValueError(f"bad token {BOT_TOKEN}")
    except ValueError:
        logging.getLogger("bot.test").exception("failed")
    output = capsys.readouterr().err
    assert "SECRET" not in output and "xoxb-***" in output


def test_text_format_masks_tokens_too(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("text")
    logging.getLogger("bot.test").info("token %s", BOT_TOKEN, extra={"app_token": APP_TOKEN})
    output = capsys.readouterr().err
    assert "SECRET" not in output
    assert "token xoxb-***" in output and "app_token=***" in output


def test_an_unknown_log_format_is_a_bad_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    from bot.config import describe_error

    monkeypatch.setenv("LOG_FORMAT", "xml")
    with pytest.raises(ValidationError) as error:
        load_settings()
    assert describe_error(error.value).startswith("bad setting: LOG_FORMAT:")


def test_a_database_password_in_a_url_is_masked(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("json")
    logging.getLogger("bot.test").error(
        "cannot connect to %s", "postgresql+psycopg://policybot:hunter2@db:5432/policybot"
    )
    event = json.loads(capsys.readouterr().err)["event"]
    assert event == "cannot connect to postgresql+psycopg://policybot:***@db:5432/policybot"
