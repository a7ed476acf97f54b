"""What the bot keeps about people: askers only when allowed, old questions deleted."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select
from typer.testing import CliRunner

from bot.adapters.db.models import QuestionLog
from bot.adapters.db.question_repo import QuestionRepository
from bot.adapters.db.store import Store
from bot.compose import open_runtime
from bot.config import load_settings
from bot.entrypoints.cli import app
from tests.conftest import REPO, FakeClock

runner = CliRunner()


def logged(engine: sa.Engine) -> list[QuestionLog]:
    with Session(engine) as session:
        return list(session.exec(select(QuestionLog)).all())


@pytest.fixture
def environment(engine: sa.Engine, database_url: str, monkeypatch: pytest.MonkeyPatch) -> sa.Engine:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("POLICYBOT_POLICIES", str(REPO / "policies"))
    for name in ("POLICYBOT_LOG_ASKERS", "POLICYBOT_RETENTION_DAYS"):
        monkeypatch.delenv(name, raising=False)
    return engine


def test_questions_are_logged_without_who_asked_by_default(environment: sa.Engine) -> None:
    runtime = open_runtime(load_settings())
    runtime.service.handle("can I use Cursor?", user="U123ALICE", source="slack")
    runtime.engine.dispose()
    rows = logged(environment)
    assert [(row.question, row.asker) for row in rows] == [("can I use Cursor?", None)]


def test_policybot_log_askers_keeps_who_asked(
    environment: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POLICYBOT_LOG_ASKERS", "true")
    runtime = open_runtime(load_settings())
    runtime.service.handle("can I use Cursor?", user="U123ALICE", source="slack")
    runtime.engine.dispose()
    assert [row.asker for row in logged(environment)] == ["U123ALICE"]


def test_db_purge_deletes_questions_older_than_the_retention_days(
    environment: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = dt.datetime.now(dt.UTC)
    for age_days in (100, 31, 29, 1):
        store = Store(environment, clock=FakeClock(now - dt.timedelta(days=age_days)))
        QuestionRepository(store).log_question(
            f"asked {age_days} days ago", matched=[], asker=None, channel="slack"
        )
    monkeypatch.setenv("POLICYBOT_RETENTION_DAYS", "30")
    result = runner.invoke(app, ["db", "purge"])
    assert result.exit_code == 0, result.output
    assert "deleted 2 logged question(s) older than 30 days" in result.output
    kept = sorted(row.question for row in logged(environment))
    assert kept == ["asked 1 days ago", "asked 29 days ago"]


def test_db_purge_without_a_retention_period_says_how_to_give_one(
    environment: sa.Engine,
) -> None:
    result = runner.invoke(app, ["db", "purge"])
    assert result.exit_code == 1
    assert "set POLICYBOT_RETENTION_DAYS or pass --days" in result.output
