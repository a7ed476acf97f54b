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


def test_text_format_keeps_a_forged_line_inside_its_own(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("text")
    forged = "hi\n2026-12-01 00:00:00,000 WARNING bot.admin: admin rights granted\r\x1b[2J"
    logging.getLogger("bot.test").info("question %s", forged, extra={"text": forged})
    output = capsys.readouterr().err
    assert len(output.splitlines()) == 1
    assert "question hi\\n2026-12-01" in output and "\\r\\x1b[2J" in output


def test_text_format_indents_a_traceback_under_its_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("text")
    try:
        raise ValueError("body\n2026-12-01 00:00:00,000 INFO forged")
    except ValueError:
        logging.getLogger("bot.test").exception("failed")
    first, *rest = capsys.readouterr().err.splitlines()
    assert first.endswith("ERROR bot.test: failed")
    assert rest and all(line.startswith("  | ") for line in rest)


# Inputs that made the old masking quadratic (a long run of letters before no `://`), and
# others shaped like its patterns. A linear pass over 2 MB of each takes well under a second;
# the old one took hours, so the deadline below only stops a regression from hanging the run.
_ADVERSARIAL = {
    "letters": "'a' * 2_000_000",
    "schemes": "'a://b:' * 300_000",
    "userinfo": "'a://' + 'b:' * 1_000_000",
    "tokens": "'xoxb-' * 400_000",
    "words": "'a ' * 1_000_000",
}


@pytest.mark.parametrize("shape", sorted(_ADVERSARIAL))
def test_masking_is_linear_in_its_input(shape: str) -> None:
    import subprocess
    import sys

    code = (
        "from bot.logs import mask\n"
        f"text = {_ADVERSARIAL[shape]} + ' postgresql://u:hunter2@db/x ' + 'xoxb-1-SECRET'\n"
        "masked = mask(text)\n"
        "assert 'hunter2' not in masked and 'SECRET' not in masked\n"
    )
    done = subprocess.run([sys.executable, "-c", code], timeout=60, check=False)
    assert done.returncode == 0
