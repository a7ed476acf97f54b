"""`policybot chat` as staff and admins type into it: the unanswered queue by term, answering
a term, and a conversation with no log lines in it (issue 27)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import REPO
from tests.test_readme import at_a_terminal

ADMIN = "alice"


@pytest.fixture
def env(engine: sa.Engine, database_url: str) -> dict[str, str]:
    """The test database (emptied by the engine fixture), loaded from policies/ on start."""
    return {
        "DATABASE_URL": database_url,
        "POLICYBOT_POLICIES": str(REPO / "policies"),
        "POLICYBOT_ADMINS": ADMIN,
    }


def chat(env: dict[str, str], *lines: str, user: str = ADMIN) -> list[str]:
    """The replies, one per line typed, of `policybot chat --user USER`."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("POLICYBOT_", "DATABASE_URL", "LOG_", "SLACK_"))
    }
    result = subprocess.run(
        [sys.executable, "-m", "bot.entrypoints.cli", "chat", "--user", user],
        input="".join(f"{line}\n" for line in lines),
        capture_output=True,
        text=True,
        env={**clean, **env, "PYTHONPATH": str(REPO)},
        timeout=120,
        check=True,
    )
    return [reply.strip() for reply in result.stdout.split("\n\n") if reply.strip()]


def test_unanswered_groups_the_questions_by_the_term_they_asked_about(
    env: dict[str, str],
) -> None:
    *_, queue = chat(env, "can I use kiro?", "is kiro allowed?", "is Kagi ok?", "unanswered")

    lines = queue.splitlines()
    assert lines[0] == "Questions with no policy, by term, most asked first:"
    assert lines[1].startswith("• kiro: asked 2 times, last on ")
    assert lines[2].startswith("• Kagi: asked once, last on ")


def test_a_term_leaves_the_queue_once_the_tool_is_added(env: dict[str, str]) -> None:
    *_, before, _added, after = chat(
        env, "can I use kiro?", "is Kagi ok?", "unanswered", "add Kiro", "unanswered"
    )

    assert "• kiro:" in before
    assert "kiro" not in after.lower()
    assert "• Kagi:" in after


def test_answering_a_term_takes_it_off_the_queue_and_says_who_was_told(
    env: dict[str, str],
) -> None:
    *_, before, answered, after = chat(
        env,
        "does the ban cover the Claude API?",
        "unanswered",
        "answer Claude API: the Claude API is covered by the Claude policy.",
        "unanswered",
    )

    assert "• Claude API: asked once" in before
    assert answered.startswith("Answered 'Claude API': it leaves the queue. Nobody was sent")
    assert "0 people" not in answered
    assert after == "Every question so far found a policy."


def test_answering_a_term_nobody_asked_about_says_so(env: dict[str, str]) -> None:
    *_, answered = chat(env, "answer Foobar: fine")

    assert answered == (
        "'Foobar' is not in the unanswered queue: answer a term as `unanswered` lists it"
    )


def test_staff_refused_an_admin_command_see_no_log_line_in_the_console(
    env: dict[str, str], tmp_path: Path
) -> None:
    command = [sys.executable, "-m", "bot.entrypoints.cli", "chat", "--user", "bob"]

    seen = at_a_terminal(command, "set Cursor banned\nquit\n", cwd=tmp_path, env=env)

    assert "Only policy admins can do that." in seen
    assert "WARNING" not in seen
    assert "refused admin command" not in seen


def test_changes_tells_a_scheduled_ban_and_its_cancellation_truthfully(
    env: dict[str, str],
) -> None:
    *_, versions = chat(
        env, "set Windsurf banned --effective 2030-01-10", "unschedule Windsurf", "changes"
    )

    lines = versions.splitlines()
    assert lines[1].endswith("Windsurf: the change to banned from 2030-01-10 cancelled")
    assert lines[2].endswith("Windsurf: to be banned from 2030-01-10")
    assert "now banned" not in versions
    assert "other changes" not in versions


def test_a_version_of_several_changes_counts_in_the_singular_and_plural(
    env: dict[str, str],
) -> None:
    *_, versions = chat(
        env,
        "draft add Foobar",
        "draft set Cursor banned",
        "draft set Qoder banned",
        "publish",
        "changes",
    )

    assert "3 changes (2 now banned, 1 new tool)" in versions
    assert "new tools" not in versions


def test_banning_a_tool_that_others_list_as_their_alternative_warns(
    env: dict[str, str],
) -> None:
    banned, windsurf = chat(env, "set Cursor banned", "can I use Windsurf?")

    assert banned.splitlines()[-1].startswith(
        "Note: Cursor is the listed alternative of Windsurf and Zed AI: their answers will "
        "show it as banned."
    )
    # The answer never offers the banned tool without saying so.
    assert "Cursor (banned)" in windsurf


def test_a_date_that_does_not_exist_is_said_so(env: dict[str, str]) -> None:
    [reply] = chat(env, "set Cursor allowed --effective 2026-02-30")

    assert reply.startswith(
        "--effective: the date '2026-02-30' does not exist: February 2026 has 28 days."
    )


def test_an_unknown_tool_suggests_no_unrelated_name(env: dict[str, str]) -> None:
    foobar, cursr = chat(env, "set Foobar allowed", "set Cursr allowed")

    assert foobar == "no tool named 'Foobar' in the registry. To add a tool, use: add Foobar"
    assert "Did you mean Cursor?" in cursr
