"""Hostile or broken input through the `policybot` command: one clear line, never a traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select
from typer.testing import CliRunner

from bot.core.models import QuestionLog
from bot.core.store import Store
from tests.conftest import REPO

runner = CliRunner()


@pytest.fixture
def env(engine: sa.Engine, database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point the CLI at the test database (emptied by the engine fixture) and policies/."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("POLICYBOT_POLICIES", str(REPO / "policies"))
    monkeypatch.delenv("POLICYBOT_ADMINS", raising=False)
    return database_url


def chat(user: str, script: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "chat", "--user", user],
        input=script,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )


def test_a_nul_typed_into_an_admin_command_is_cleaned_not_a_traceback(
    env: str, engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POLICYBOT_ADMINS", "alice")

    done = chat("alice", "set Cursor banned --reason a\x00b\nquit\n")

    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "INSERT" not in done.stderr + done.stdout
    assert Store(engine).resolve("Cursor").reason == "ab"


def test_a_nul_typed_into_a_question_is_answered_and_logged(env: str, engine: sa.Engine) -> None:
    done = chat("bob", "can I use \x00qoder?\nquit\n")

    with Session(engine) as session:
        logged = session.exec(select(QuestionLog.question)).all()
    assert done.returncode == 0, done.stderr
    assert "Qoder is ALLOWED" in done.stdout
    assert "Traceback" not in done.stderr
    assert logged == ["can I use qoder?"]
