"""Audiences through the CLI: `ask --user`, the piped console (`chat --user`), `check` and
`import` of the shipped policies/ folder with its audiences.yaml."""

# Chinese text takes full-width punctuation, which RUF001 reads as look-alikes of ASCII.
# ruff: noqa: RUF001

from __future__ import annotations

import subprocess
import sys

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner, Result

from bot.entrypoints.cli import app
from tests.conftest import REPO

runner = CliRunner()
SHIPPED = REPO / "policies"


@pytest.fixture
def env(engine: sa.Engine, database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The CLI on the test database (emptied by the engine fixture), loading policies/."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("POLICYBOT_POLICIES", str(SHIPPED))
    monkeypatch.setenv("POLICYBOT_ADMINS", "alice")
    monkeypatch.delenv("POLICYBOT_ANNOUNCE_CHANNEL", raising=False)
    return database_url


def run(*args: str) -> Result:
    return runner.invoke(app, list(args))


def test_ask_for_a_listed_member_answers_with_their_rule_first(env: str) -> None:
    mine = run("ask", "--user", "U0CHINA1", "can I use Tongyi Lingma?")

    assert mine.exit_code == 0, mine.output
    assert mine.output.startswith("Only if you meet its conditions.")
    assert "For you (China engineering): ALLOWED WITH CONDITIONS; everyone else: BANNED." in (
        mine.output
    )
    assert "Conditions: Signed in with the company Alibaba Cloud account." in mine.output


def test_ask_for_someone_outside_gives_their_verdict_then_the_audiences_rule(env: str) -> None:
    theirs = run("ask", "--user", "U0SOMEONE", "can I use Tongyi Lingma?")
    nobody = run("ask", "can I use Tongyi Lingma?")

    assert theirs.output.startswith("No. Tongyi Lingma is BANNED")
    lines = theirs.output.splitlines()
    assert lines[1] == (
        "For China engineering: ALLOWED WITH CONDITIONS — "
        "Signed in with the company Alibaba Cloud account."
    )
    assert nobody.output == theirs.output


def test_a_list_question_lists_the_askers_own_policies(env: str) -> None:
    mine = run("ask", "--user", "U0CHINA1", "which coding tools are banned?")
    theirs = run("ask", "--user", "U0SOMEONE", "which coding tools are banned?")

    assert "Tongyi Lingma" in theirs.output
    assert "Tongyi Lingma" not in mine.output


def test_a_chinese_answer_uses_the_chinese_texts_and_falls_back_to_the_default(env: str) -> None:
    answer = run("ask", "--user", "U0CHINA1", "--json", "通义灵码可以用吗？")
    fallback = run("ask", "Cursor 可以用吗？")

    assert "原因：我们与阿里云的协议涵盖此工具。" in answer.output
    assert "对你（中国工程团队）" in answer.output
    assert "Privacy Mode" in fallback.output  # no Chinese text: the English one, nothing missing


def test_the_piped_console_answers_for_its_user(env: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot.entrypoints.cli", "chat", "--user", "U0CHINA2"],
        input="can I use Tongyi Lingma?\nand what about Qoder?\nquit\n",
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )

    assert done.returncode == 0, done.stderr
    assert "For you (China engineering): ALLOWED WITH CONDITIONS" in done.stdout


def test_check_of_the_shipped_folder_names_its_audiences_and_missing_texts(env: str) -> None:
    result = run("check", str(SHIPPED))

    assert result.exit_code == 0, result.output
    assert "2 audiences, no problems" in result.output
    assert "have no zh text" in result.output and "ChatGPT" in result.output
