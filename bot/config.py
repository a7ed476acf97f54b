"""One Settings object, read once from the environment (and `.env`) and passed down."""

from __future__ import annotations

import datetime as dt
import re
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> dt.timedelta:
    """`30s`, `12h`, `2d`, `1w` -> timedelta; ValueError with the accepted forms otherwise."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(
            f"bad duration '{text}': use a number and a unit s, m, h, d or w (e.g. 2d)"
        )
    return dt.timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2)])


def _split_list(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def _env(*names: str) -> Any:
    return AliasChoices(*names)


class Settings(BaseSettings):
    """Every setting policybot reads. Field names work as keyword arguments in tests."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    database_url: str = Field("sqlite:///policybot.db", validation_alias=_env("DATABASE_URL"))
    policies_path: Path = Field(Path("policies"), validation_alias=_env("POLICYBOT_POLICIES"))
    # Import the policies folder on every start (git is the source of truth); off by default.
    sync_policies: bool = Field(False, validation_alias=_env("POLICYBOT_SYNC_POLICIES"))
    admins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, validation_alias=_env("POLICYBOT_ADMINS")
    )
    admin_group: str | None = Field(None, validation_alias=_env("POLICYBOT_ADMIN_GROUP"))
    command: str = Field("/aipolicy", validation_alias=_env("POLICYBOT_COMMAND"))
    contact: str = Field("#ai-governance", validation_alias=_env("POLICYBOT_CONTACT"))

    slack_bot_token: SecretStr | None = Field(None, validation_alias=_env("SLACK_BOT_TOKEN"))
    slack_signing_secret: SecretStr | None = Field(
        None, validation_alias=_env("SLACK_SIGNING_SECRET")
    )
    slack_app_token: SecretStr | None = Field(None, validation_alias=_env("SLACK_APP_TOKEN"))
    slack_api_url: str = Field("https://slack.com/api/", validation_alias=_env("SLACK_API_URL"))
    port: int = Field(3000, ge=0, le=65535, validation_alias=_env("PORT"))
    # HTTP mode (see README, operations): worker processes under gunicorn, each with `threads`
    # request threads; no value means one worker per CPU this process may run on.
    workers: int | None = Field(None, ge=1, le=64, validation_alias=_env("POLICYBOT_WORKERS"))
    threads: int = Field(8, ge=1, le=128, validation_alias=_env("POLICYBOT_THREADS"))
    server: str = Field(
        "gunicorn", pattern="^(gunicorn|waitress)$", validation_alias=_env("POLICYBOT_SERVER")
    )
    # Time between SIGTERM and SIGKILL that the orchestrator allows (Kubernetes: 30 s).
    shutdown_grace: dt.timedelta = Field(
        dt.timedelta(seconds=30), validation_alias=_env("POLICYBOT_SHUTDOWN_GRACE")
    )

    announce_channel: str | None = Field(None, validation_alias=_env("POLICYBOT_ANNOUNCE_CHANNEL"))
    admin_channel: str | None = Field(None, validation_alias=_env("POLICYBOT_ADMIN_CHANNEL"))
    reminder_after: Annotated[list[dt.timedelta], NoDecode] = Field(
        default_factory=lambda: [dt.timedelta(days=2), dt.timedelta(days=7)],
        validation_alias=_env("POLICYBOT_REMINDER_AFTER"),
    )
    max_reminders: int = Field(2, ge=0, validation_alias=_env("POLICYBOT_MAX_REMINDERS"))
    effective_reminders: Annotated[list[dt.timedelta], NoDecode] = Field(
        default_factory=lambda: [dt.timedelta(days=7), dt.timedelta(days=1), dt.timedelta(0)],
        validation_alias=_env("POLICYBOT_EFFECTIVE_REMINDERS"),
    )
    digest_cron: str = Field("0 9 * * mon", validation_alias=_env("POLICYBOT_DIGEST_CRON"))
    timezone: str = Field("UTC", validation_alias=_env("POLICYBOT_TIMEZONE"))
    # Delivery of announcements (see docs/announcements.md).
    claim_timeout: dt.timedelta = Field(
        dt.timedelta(minutes=2), validation_alias=_env("POLICYBOT_CLAIM_TIMEOUT")
    )
    lease_ttl: dt.timedelta = Field(
        dt.timedelta(seconds=30), validation_alias=_env("POLICYBOT_LEASE_TTL")
    )
    send_concurrency: int = Field(
        8, ge=1, le=64, validation_alias=_env("POLICYBOT_SEND_CONCURRENCY")
    )
    send_rate: float = Field(20.0, gt=0, validation_alias=_env("POLICYBOT_SEND_RATE"))
    send_attempts: int = Field(5, ge=1, validation_alias=_env("POLICYBOT_SEND_ATTEMPTS"))

    # The catalogue under /catalogue/ (off: POLICYBOT_CATALOGUE=off), and the address people
    # reach it at, for links from Slack (https://policybot.example.com).
    catalogue: bool = Field(True, validation_alias=_env("POLICYBOT_CATALOGUE"))
    public_url: str | None = Field(None, validation_alias=_env("POLICYBOT_PUBLIC_URL"))
    # Requests, exceptions and feedback (issue 16; README "When the answer is no").
    requests_per_day: int = Field(5, ge=1, validation_alias=_env("POLICYBOT_REQUESTS_PER_DAY"))
    exception_max_days: int = Field(
        90, ge=1, le=3650, validation_alias=_env("POLICYBOT_EXCEPTION_MAX_DAYS")
    )
    exception_reminder: dt.timedelta = Field(
        dt.timedelta(days=3), validation_alias=_env("POLICYBOT_EXCEPTION_REMINDER")
    )
    # Per-person limits (docs/security.md); 0 turns one off. Questions are counted in each
    # server process, feedback and watches in the database.
    questions_per_minute: int = Field(
        30, ge=0, validation_alias=_env("POLICYBOT_QUESTIONS_PER_MINUTE")
    )
    feedback_per_hour: int = Field(20, ge=0, validation_alias=_env("POLICYBOT_FEEDBACK_PER_HOUR"))
    watches_per_hour: int = Field(30, ge=0, validation_alias=_env("POLICYBOT_WATCHES_PER_HOUR"))

    log_format: str = Field("text", validation_alias=_env("LOG_FORMAT"))
    log_level: str = Field("INFO", validation_alias=_env("LOG_LEVEL"))
    log_askers: bool = Field(False, validation_alias=_env("POLICYBOT_LOG_ASKERS"))
    retention_days: int | None = Field(
        None, ge=1, validation_alias=_env("POLICYBOT_RETENTION_DAYS")
    )
    # How long a follow-up ("why?") still refers to the previous answer in a conversation.
    context_minutes: int = Field(
        30, ge=1, le=7 * 24 * 60, validation_alias=_env("POLICYBOT_CONTEXT_MINUTES")
    )
    # How long an audience's Slack user group members are trusted before they are read again
    # (also read again when Slack says the group changed).
    audience_refresh_minutes: int = Field(
        15, ge=1, le=24 * 60, validation_alias=_env("POLICYBOT_AUDIENCE_REFRESH_MINUTES")
    )

    @field_validator("admins", mode="before")
    @classmethod
    def _split_admins(cls, value: Any) -> Any:
        return _split_list(value)

    @field_validator("reminder_after", "effective_reminders", mode="before")
    @classmethod
    def _parse_durations(cls, value: Any) -> Any:
        value = _split_list(value)
        if isinstance(value, list):
            return [parse_duration(v) if isinstance(v, str) else v for v in value]
        return value

    @field_validator(
        "claim_timeout", "lease_ttl", "exception_reminder", "shutdown_grace", mode="before"
    )
    @classmethod
    def _parse_duration(cls, value: Any) -> Any:
        return parse_duration(value) if isinstance(value, str) else value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip().rstrip("/")
        if not re.match(r"^https?://[^\s/?#<>|\"']+(/[^\s?#<>|\"']*)?$", value):
            raise ValueError(
                f"bad URL '{value}': give the catalogue's address, e.g. https://policybot.example.com"
            )
        return value

    @field_validator("log_format")
    @classmethod
    def _known_log_format(cls, value: str) -> str:
        if value.strip().lower() not in LOG_FORMATS:
            raise ValueError(f"unknown log format '{value}': use {' or '.join(LOG_FORMATS)}")
        return value.strip().lower()

    @field_validator("log_level")
    @classmethod
    def _known_log_level(cls, value: str) -> str:
        if value.strip().upper() not in LOG_LEVELS:
            raise ValueError(f"unknown log level '{value}': use {', '.join(LOG_LEVELS)}")
        return value.strip().upper()

    @field_validator("digest_cron")
    @classmethod
    def _five_cron_fields(cls, value: str) -> str:
        # The full check is APScheduler's own parser (`cron_problem`), run where the scheduler
        # runs; this one needs no import, so every command catches "every monday".
        if len(value.split()) != 5:
            raise ValueError(f"'{value}' is not a cron expression: {CRON_HINT}")
        return value

    @field_validator("database_url")
    @classmethod
    def _usable_database_url(cls, value: str) -> str:
        problem = database_url_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone '{value}': use an IANA name such as Europe/Berlin"
            ) from None
        return value

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_admin(self, user_id: str) -> bool:
        return user_id in self.admins


LOG_FORMATS = ("text", "json")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
CRON_HINT = (
    "use five fields, minute hour day month weekday, such as '0 9 * * mon' (09:00 every Monday)"
)
_DRIVER_EXTRAS = {"postgresql": "pip install 'policybot[postgres]'"}


def database_url_problem(url: str) -> str | None:
    """Why `url` cannot be used as DATABASE_URL (a sentence), or None when it can.

    Parsing and loading the driver are checked here, before any command tries to connect.
    """
    import sqlalchemy as sa  # only for commands that read settings with a database

    hint = "use sqlite:///path/to/policybot.db or postgresql+psycopg://user@host/db"
    if url.startswith("postgresql://"):  # as bot.adapters.db.engines.make_engine reads it
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError:
        return f"'{url}' is not a database URL: {hint}"
    try:
        parsed.get_dialect().import_dbapi()
    except sa.exc.NoSuchModuleError:
        return f"unknown database '{parsed.drivername}': {hint}"
    except ImportError as error:
        backend = parsed.get_backend_name()
        install = _DRIVER_EXTRAS.get(backend)
        fix = install or f"policybot supports SQLite and PostgreSQL; {hint}"
        return f"the {parsed.drivername} driver is not installed ({error.name}): {fix}"
    return None


def cron_problem(expression: str, zone: str = "UTC") -> str | None:
    """What APScheduler's crontab parser says is wrong with `expression`, or None."""
    from apscheduler.triggers.cron import CronTrigger

    try:
        CronTrigger.from_crontab(expression, timezone=zone)
    except ValueError as error:
        return (
            f"POLICYBOT_DIGEST_CRON: '{expression}' is not a cron expression ({error}): {CRON_HINT}"
        )
    return None


def describe_error(error: ValidationError) -> str:
    """One line naming each bad setting by its environment variable, for people."""
    fields = Settings.model_fields
    parts = []
    for item in error.errors():
        name = str(item["loc"][0]) if item["loc"] else "?"
        field = fields.get(name)
        alias = field.validation_alias if field else None
        env_name = alias.choices[0] if isinstance(alias, AliasChoices) else name
        message = str(item["msg"]).removeprefix("Value error, ")
        parts.append(f"{env_name}: {message}")
    return "bad setting: " + "; ".join(parts)


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment, with keyword overrides (for the CLI and tests)."""
    return Settings(**overrides)
