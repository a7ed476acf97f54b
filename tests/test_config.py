"""Settings: environment names, lists and durations, and one-line errors."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from bot.config import describe_error, load_settings, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"), [("30s", 30), ("5m", 300), ("12h", 43200), ("2d", 172800), ("1w", 604800)]
)
def test_durations_take_units(text: str, seconds: int) -> None:
    assert parse_duration(text) == dt.timedelta(seconds=seconds)


def test_lists_come_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLICYBOT_ADMINS", "U1, U2,")
    monkeypatch.setenv("POLICYBOT_REMINDER_AFTER", "30s,1m")
    settings = load_settings()
    assert settings.admins == ["U1", "U2"]
    assert settings.reminder_after == [dt.timedelta(seconds=30), dt.timedelta(minutes=1)]


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "POLICYBOT_COMMAND", "POLICYBOT_REMINDER_AFTER"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings(_env_file=None)
    assert settings.database_url == "sqlite:///policybot.db"
    assert settings.command == "/aipolicy"
    assert settings.reminder_after == [dt.timedelta(days=2), dt.timedelta(days=7)]


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("POLICYBOT_REMINDER_AFTER", "2x", "POLICYBOT_REMINDER_AFTER: bad duration '2x'"),
        ("PORT", "abc", "PORT: Input should be a valid integer"),
        ("POLICYBOT_TIMEZONE", "Nowhere/City", "POLICYBOT_TIMEZONE: unknown time zone"),
        ("LOG_FORMAT", "xml", "LOG_FORMAT: unknown log format 'xml': use text or json"),
    ],
)
def test_bad_setting_is_named_by_its_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as error:
        load_settings()
    message = describe_error(error.value)
    assert message.startswith("bad setting: ")
    assert expected in message
