"""`policybot doctor` on a real database, with the stand-in Slack answering auth.test."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner, Result

from bot.adapters.db import engines as db
from bot.entrypoints.cli import app
from tests.conftest import REPO
from tests.standin import StandinSlack

runner = CliRunner()
BOT_TOKEN = "xoxb-1234-secret-bot-token"
APP_TOKEN = "xapp-1-secret-app-token"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "DATABASE_URL",
        "SLACK_BOT_TOKEN",
        "SLACK_APP_TOKEN",
        "SLACK_SIGNING_SECRET",
        "SLACK_API_URL",
        "PORT",
        "POLICYBOT_TIMEZONE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("POLICYBOT_POLICIES", str(REPO / "policies"))


@pytest.fixture
def slack(monkeypatch: pytest.MonkeyPatch) -> Iterator[StandinSlack]:
    with StandinSlack() as standin:
        monkeypatch.setenv("SLACK_API_URL", standin.api_url)
        monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
        monkeypatch.setenv("SLACK_APP_TOKEN", APP_TOKEN)
        yield standin


def doctor(database_url: str) -> Result:
    return runner.invoke(app, ["doctor", "--database-url", database_url])


def line_of(result: Result, check: str) -> str:
    lines = [line for line in result.output.splitlines() if f" {check}: " in line]
    assert lines, f"no {check} line in:\n{result.output}"
    return "\n".join(lines)


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port that refuses connections for the whole test: bound here, so no other process can
    take it meanwhile, and never listening. (A port probed and let go could be any server's
    by the time the test connects.)"""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield int(held.getsockname()[1])


def test_all_ok_on_a_migrated_database_with_a_working_token(
    engine: sa.Engine, database_url: str, slack: StandinSlack
) -> None:
    result = doctor(database_url)
    assert result.exit_code == 0, result.output
    for check in ("settings", "database", "migrations", "policies", "slack"):
        assert line_of(result, check).startswith("ok")
    assert "@policybot" in line_of(result, "slack")
    assert len(slack.calls_to("auth.test")) == 1
    assert result.output.rstrip().endswith("no problems found")


def test_the_token_never_appears_in_the_output(
    engine: sa.Engine, database_url: str, slack: StandinSlack
) -> None:
    result = doctor(database_url)
    assert "secret" not in result.output


def test_an_empty_database_is_told_to_run_db_upgrade(fresh_database_url: str) -> None:
    result = doctor(fresh_database_url)
    assert result.exit_code == 1
    assert "PROBLEM" in result.output
    assert "run `policybot db upgrade`" in result.output


def test_a_database_behind_the_newest_migration_is_told_to_upgrade(
    fresh_database_url: str,
) -> None:
    engine = db.make_engine(fresh_database_url)
    db.upgrade(engine, "0001")
    engine.dispose()
    result = doctor(fresh_database_url)
    assert result.exit_code == 1
    migrations = line_of(result, "migrations")
    assert migrations.startswith("PROBLEM")
    assert "at revision 0001" in migrations
    assert "run `policybot db upgrade`" in migrations


def test_an_unreachable_database_is_named_without_its_password(closed_port: int) -> None:
    url = f"postgresql+psycopg://policybot:hunter2@127.0.0.1:{closed_port}/policybot"
    result = doctor(url)
    assert result.exit_code == 1
    database = line_of(result, "database")
    assert database.startswith("PROBLEM")
    assert "cannot connect" in database
    assert "hunter2" not in result.output


def test_a_bad_setting_is_named_by_its_environment_variable(
    monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    monkeypatch.setenv("POLICYBOT_TIMEZONE", "Mars/Olympus_Mons")
    result = doctor(database_url)
    assert result.exit_code == 1
    assert "PROBLEM  settings: bad setting: POLICYBOT_TIMEZONE: unknown time zone" in result.output


def test_a_broken_policy_file_is_a_problem_with_its_place(
    engine: sa.Engine, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "tools.yaml").write_text("tools:\n  - name: Cursor\n    status: forbidden\n")
    monkeypatch.setenv("POLICYBOT_POLICIES", str(tmp_path))
    result = doctor(database_url)
    assert result.exit_code == 1
    policies = line_of(result, "policies")
    assert policies.startswith("PROBLEM")
    assert "tools.yaml" in policies and "forbidden" in policies


def test_a_token_slack_refuses_is_a_problem(
    engine: sa.Engine, database_url: str, slack: StandinSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxp-a-user-token")
    result = doctor(database_url)
    assert result.exit_code == 1
    slack_lines = line_of(result, "slack")
    assert "does not start with xoxb-" in slack_lines
    assert "Slack refused SLACK_BOT_TOKEN (invalid_auth)" in slack_lines


def test_an_unreachable_slack_is_a_problem(
    engine: sa.Engine, database_url: str, monkeypatch: pytest.MonkeyPatch, closed_port: int
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_APP_TOKEN", APP_TOKEN)
    monkeypatch.setenv("SLACK_API_URL", f"http://127.0.0.1:{closed_port}/api/")
    result = doctor(database_url)
    assert result.exit_code == 1
    assert "cannot reach Slack at http://127.0.0.1:" in line_of(result, "slack")


def test_without_a_token_slack_is_only_a_note(engine: sa.Engine, database_url: str) -> None:
    result = doctor(database_url)
    assert result.exit_code == 0, result.output
    assert line_of(result, "slack").startswith("note")
