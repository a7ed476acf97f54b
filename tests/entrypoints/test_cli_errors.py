"""`policybot` as a person runs it: one clear line for every mistake, never a traceback.

Each test runs the real command in a subprocess, from a folder of its own, with only the
settings it names (issue 13, finding 7, and the command line a Python user expects).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO


def policybot(
    *args: str, cwd: Path, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("POLICYBOT_", "DATABASE_URL", "LOG_", "SLACK_"))
    }
    clean.update(env or {})
    clean["PYTHONPATH"] = str(REPO)
    return subprocess.run(
        [sys.executable, "-m", "bot.entrypoints.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=clean,
        input=stdin,
        timeout=120,
    )


def one_line_without_traceback(result: subprocess.CompletedProcess[str]) -> str:
    said = (result.stderr + result.stdout).strip()
    assert result.returncode != 0
    assert "Traceback" not in said
    assert len(said.splitlines()) == 1, said
    return said


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("DATABASE_URL", "foo", "DATABASE_URL: 'foo' is not a database URL: use sqlite:///"),
        ("DATABASE_URL", "mysql://u@h/db", "DATABASE_URL: the mysql driver is not installed"),
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL: unknown log level 'LOUD': use DEBUG, INFO, WARNING"),
        ("LOG_FORMAT", "xml", "LOG_FORMAT: unknown log format 'xml': use text or json"),
        (
            "POLICYBOT_DIGEST_CRON",
            "every monday",
            "POLICYBOT_DIGEST_CRON: 'every monday' is not a cron expression: use five fields",
        ),
    ],
)
def test_a_bad_setting_is_one_line_naming_it_and_what_is_valid(
    tmp_path: Path, variable: str, value: str, expected: str
) -> None:
    result = policybot("ask", "can I use cursor?", cwd=tmp_path, env={variable: value})

    said = one_line_without_traceback(result)
    assert expected in said


def test_a_cron_expression_apscheduler_refuses_is_a_problem_for_doctor(tmp_path: Path) -> None:
    result = policybot("doctor", cwd=tmp_path, env={"POLICYBOT_DIGEST_CRON": "0 9 * * funday"})

    assert result.returncode == 1
    assert "POLICYBOT_DIGEST_CRON: '0 9 * * funday' is not a cron expression" in result.stdout
    assert "no problems found" not in result.stdout


@pytest.mark.parametrize("revision", ["nonsense", "9999"])
def test_a_revision_that_does_not_exist_is_one_line(tmp_path: Path, revision: str) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}"}
    verb = "downgrade" if revision == "nonsense" else "upgrade"

    result = policybot("db", verb, revision, cwd=tmp_path, env=env)

    said = one_line_without_traceback(result)
    assert f"Can't locate revision identified by '{revision}'" in said


def test_a_database_that_cannot_be_opened_names_its_file_and_the_reason(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "folder" / "p.db"
    env = {"DATABASE_URL": f"sqlite:///{missing}", "POLICYBOT_POLICIES": str(REPO / "policies")}

    said = one_line_without_traceback(policybot("ask", "hi", cwd=tmp_path, env=env))

    assert f"cannot use the SQLite file {missing}: unable to open database file" in said


def test_ask_from_another_folder_says_so_and_creates_nothing(tmp_path: Path) -> None:
    said = one_line_without_traceback(policybot("ask", "can I use cursor?", cwd=tmp_path))

    assert f"no database at {tmp_path / 'policybot.db'}" in said
    assert "nothing was created" in said
    assert list(tmp_path.iterdir()) == []


def test_an_unexpected_failure_is_one_line_and_debug_shows_the_traceback(
    tmp_path: Path,
) -> None:
    # A database file that is not a database: SQLite says so only when it is first read.
    (tmp_path / "policybot.db").write_text("not a database", encoding="utf-8")

    plain = policybot("ask", "hi", cwd=tmp_path)
    debug = policybot("--debug", "ask", "hi", cwd=tmp_path)

    said = one_line_without_traceback(plain)
    assert "file is not a database" in said
    assert str(tmp_path / "policybot.db") in said
    assert "Traceback" in debug.stderr


def test_h_is_help_everywhere_and_flags_show_as_flags(tmp_path: Path) -> None:
    top = policybot("-h", cwd=tmp_path)
    ask = policybot("ask", "-h", cwd=tmp_path)
    database = policybot("db", "-h", cwd=tmp_path)

    assert top.returncode == 0 and "Commands:" in top.stdout
    assert "--json  " in ask.stdout and "<bool>" not in ask.stdout
    for verb in ("upgrade", "downgrade", "current", "purge"):
        assert f"  {verb}" in database.stdout


def test_version_is_printed(tmp_path: Path) -> None:
    result = policybot("--version", cwd=tmp_path)

    assert result.returncode == 0
    assert result.stdout.startswith("policybot 0.")


@pytest.mark.parametrize(
    "command",
    [
        ["acks", "export"],
        ["export-exceptions"],
        ["plan", "elsewhere"],
        ["import", "--dry-run", "elsewhere"],
        ["catalogue", "export", "json"],
    ],
)
def test_every_command_that_reads_refuses_a_missing_database_and_creates_nothing(
    tmp_path: Path, command: list[str]
) -> None:
    # A folder of policies that is not ./policies: plan compares it with a database.
    shutil.copytree(REPO / "policies", tmp_path / "elsewhere")

    said = one_line_without_traceback(policybot(*command, cwd=tmp_path))

    assert f"no database at {tmp_path / 'policybot.db'}" in said
    assert "nothing was created" in said
    assert sorted(p.name for p in tmp_path.iterdir()) == ["elsewhere"]


@pytest.mark.parametrize("url", ["sqlite:///", "sqlite://", "sqlite:///:memory:"])
def test_an_in_memory_database_is_refused_by_a_command_that_reads(tmp_path: Path, url: str) -> None:
    said = one_line_without_traceback(
        policybot("ask", "can I use cursor?", cwd=tmp_path, env={"DATABASE_URL": url})
    )

    assert "is an in-memory SQLite database" in said
    assert "nothing was created" in said


def test_the_sender_lock_next_to_the_database_is_ignored_by_git() -> None:
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", "policybot.db.sender-lock"], cwd=REPO, check=False
    )

    assert ignored.returncode == 0
