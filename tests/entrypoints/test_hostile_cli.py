"""Hostile or broken input through the `policybot` command: one clear line, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from bot.adapters.db.models import QuestionLog
from bot.adapters.db.policy_repo import PolicyRepository
from bot.adapters.db.store import Store
from tests.conftest import REPO


def chat(user: str, script: str, database_url: str, admins: str = "") -> str:
    """`policybot chat --user USER` fed `script`; its output, after checking it went well."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("POLICYBOT_", "DATABASE_"))},
        "DATABASE_URL": database_url,
        "POLICYBOT_POLICIES": str(REPO / "policies"),
        "POLICYBOT_ADMINS": admins,
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot.entrypoints.cli", "chat", "--user", user],
        input=script,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    return done.stdout + done.stderr


def test_a_nul_typed_into_an_admin_command_is_cleaned_not_a_traceback(
    engine: sa.Engine, database_url: str
) -> None:
    said = chat("alice", "set Cursor banned --reason a\x00b\nquit\n", database_url, "alice")

    assert "INSERT" not in said
    assert PolicyRepository(Store(engine)).resolve("Cursor").reason == "ab"


def test_a_nul_typed_into_a_question_is_answered_and_logged(
    engine: sa.Engine, database_url: str
) -> None:
    said = chat("bob", "can I use \x00qoder?\nquit\n", database_url)

    with Session(engine) as session:
        logged = session.exec(select(QuestionLog.question)).all()
    assert "Qoder is ALLOWED" in said
    assert logged == ["can I use qoder?"]


# -- policy files -----------------------------------------------------------------------------

GOOD_ENTRY = "tools:\n  - name: Qoder\n    status: allowed\n"


def check(path: Path) -> subprocess.CompletedProcess[str]:
    """`policybot check PATH` as a person runs it."""
    return subprocess.run(
        [sys.executable, "-m", "bot.entrypoints.cli", "check", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )


def problem_lines(done: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]


@pytest.mark.parametrize(
    "nested",
    [
        "tools: " + "[" * 100_000 + "]" * 100_000 + "\n",
        "tools:\n" + "- " * 100_000 + "x\n",
        "tools:\n  - name: Qoder\n    status: allowed\n    aliases: "
        + "{a: " * 50_000
        + "b"
        + "}" * 50_000
        + "\n",
    ],
    ids=["flow-lists", "block-lists", "flow-maps"],
)
def test_a_file_nested_100000_deep_gives_one_line(tmp_path: Path, nested: str) -> None:
    deep = tmp_path / "deep.yaml"
    deep.write_text(nested, encoding="utf-8")

    done = check(deep)

    assert done.returncode == 1
    assert "Traceback" not in done.stderr and "RecursionError" not in done.stderr
    assert problem_lines(done) == [
        f"{deep}: nested more than 32 levels deep; a policy file needs three (tools, a tool, "
        "a list)",
        "policybot: 1 problem(s) found; nothing was changed",
    ]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "latin-1"])
def test_a_file_in_another_encoding_gives_one_line_naming_it(tmp_path: Path, encoding: str) -> None:
    other = tmp_path / "other.yaml"
    other.write_bytes((GOOD_ENTRY + "    reason: Café für Ärzte\n").encode(encoding))

    done = check(other)

    [problem, summary] = problem_lines(done)
    assert done.returncode == 1
    assert problem.startswith(f"{other}: ") and "save it as UTF-8" in problem
    assert summary == "policybot: 1 problem(s) found; nothing was changed"


def test_a_file_over_the_size_limit_is_refused_unread(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text(GOOD_ENTRY + "# padding\n" * 120_000, encoding="utf-8")

    done = check(big)

    [problem, _summary] = problem_lines(done)
    assert done.returncode == 1
    assert problem.startswith(f"{big}: ") and "too large for a policy file" in problem


def test_a_utf8_file_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    marked = tmp_path / "marked.yaml"
    marked.write_bytes(GOOD_ENTRY.encode("utf-8-sig"))

    done = check(marked)

    assert done.returncode == 0, done.stderr
    assert "1 tools, no problems" in done.stdout


def test_a_nul_escape_in_a_policy_file_is_cleaned_on_import(
    engine: sa.Engine, database_url: str, tmp_path: Path
) -> None:
    escaped = tmp_path / "escaped.yaml"
    escaped.write_text(GOOD_ENTRY + '    reason: "a\\0b \\ud800"\n', encoding="utf-8")

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot.entrypoints.cli",
            "import",
            str(escaped),
            "--database-url",
            database_url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )

    assert done.returncode == 0, done.stderr
    assert PolicyRepository(Store(engine)).resolve("Qoder").reason == "ab \ufffd"
