"""The `policybot` command, driven in-process through Typer's runner on a real database."""

# ruff: noqa: RUF001

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from bot.adapters.db.policy_repo import PolicyRepository
from bot.adapters.db.store import Store
from bot.entrypoints.cli import app
from tests.conftest import REPO

runner = CliRunner()


@pytest.fixture
def env(engine: sa.Engine, database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point the CLI at the test database (emptied by the engine fixture) and policies/."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("POLICYBOT_POLICIES", str(REPO / "policies"))
    monkeypatch.delenv("POLICYBOT_ADMINS", raising=False)
    return database_url


def test_ask_prints_the_answer_and_seeds_an_empty_registry(env: str) -> None:
    result = runner.invoke(app, ["ask", "can", "I", "use", "claude", "code?"])
    assert result.exit_code == 0, result.output
    assert "Claude Code is BANNED" in result.output
    assert "Qoder" in result.output


def test_ask_json_lists_exactly_the_matched_tools(env: str) -> None:
    result = runner.invoke(app, ["ask", "--json", "Claude Code or Qoder?"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) >= {"question", "intent", "matches", "suggestions", "text"}
    assert [m["tool"] for m in data["matches"]] == ["Claude Code", "Qoder"]
    assert data["matches"][0]["status"] == "banned"


def test_ask_about_an_unknown_tool_says_there_is_no_policy(env: str) -> None:
    result = runner.invoke(app, ["ask", "--json", "is Figma allowed?"])
    data = json.loads(result.output)
    assert data["matches"] == []
    assert "no policy" in data["text"].lower()


def test_import_reports_counts_and_export_round_trips(
    env: str, engine: sa.Engine, tmp_path: Path
) -> None:
    first = runner.invoke(app, ["import", str(REPO / "policies")])
    assert first.exit_code == 0, first.output
    assert " created, 0 updated" in first.output
    exported = tmp_path / "registry.yaml"
    assert runner.invoke(app, ["export", str(exported)]).exit_code == 0
    again = runner.invoke(app, ["import", str(exported)])
    assert "0 created, 0 updated" in again.output
    assert "0 removed" in again.output


def test_import_of_a_bad_file_names_the_line_and_changes_nothing(
    env: str, engine: sa.Engine, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("tools:\n  - name: Foo\n    status: forbidden\n", encoding="utf-8")
    result = runner.invoke(app, ["import", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:3: status: unknown status 'forbidden'" in result.output
    assert "nothing was changed" in result.output
    assert PolicyRepository(Store(engine)).policies() == []


def test_import_prune_removes_tools_no_longer_listed(
    env: str, engine: sa.Engine, tmp_path: Path
) -> None:
    runner.invoke(app, ["import", str(REPO / "policies")])
    one = tmp_path / "one.yaml"
    one.write_text("tools:\n  - name: Qoder\n    status: allowed\n", encoding="utf-8")
    # Claude Code names Qoder as an alternative; pruning it is fine, keeping Qoder is fine.
    pruned = runner.invoke(app, ["import", "--prune", "--yes", str(one)])
    assert pruned.exit_code == 0, pruned.output
    assert [p.name for p in PolicyRepository(Store(engine)).policies()] == ["Qoder"]


def test_import_prune_without_yes_refuses_when_nobody_can_answer(
    env: str, engine: sa.Engine, tmp_path: Path
) -> None:
    runner.invoke(app, ["import", str(REPO / "policies")])
    before = PolicyRepository(Store(engine)).policies()
    one = tmp_path / "one.yaml"
    one.write_text("tools:\n  - name: Qoder\n    status: allowed\n", encoding="utf-8")
    refused = runner.invoke(app, ["import", "--prune", str(one)])
    assert refused.exit_code == 1
    assert f"--prune would remove {len(before) - 1} tool(s)" in refused.output
    assert "nothing was changed" in refused.output and "--yes" in refused.output
    assert PolicyRepository(Store(engine)).policies() == before


def test_check_validates_without_a_database(tmp_path: Path) -> None:
    result = runner.invoke(app, ["check", str(REPO / "policies")])
    assert result.exit_code == 0
    assert "no problems" in result.output


def test_bad_setting_is_one_line_naming_it(env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLICYBOT_TIMEZONE", "Mars/Olympus")
    result = runner.invoke(app, ["ask", "hi"])
    assert result.exit_code == 2
    assert "POLICYBOT_TIMEZONE: unknown time zone 'Mars/Olympus'" in result.output
    assert "Traceback" not in result.output


def test_unreachable_database_is_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/missing/dir/x.db")
    result = runner.invoke(app, ["ask", "hi"])
    assert result.exit_code == 3
    assert f"cannot use the SQLite file {tmp_path}/missing/dir/x.db" in result.output


def test_db_upgrade_and_current(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/new.db")
    before = runner.invoke(app, ["db", "current"])
    assert "needs `policybot db upgrade`" in before.output
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    assert "up to date" in runner.invoke(app, ["db", "current"]).output


@pytest.mark.parametrize("args", [[], ["ask"], ["chat"], ["import"], ["export"], ["db"]])
def test_every_command_has_help(args: list[str]) -> None:
    result = runner.invoke(app, [*args, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output


def test_console_answers_questions_and_runs_admin_commands(
    env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POLICYBOT_ADMINS", "alice")
    script = "can I use qoder?\nset Cursor banned --reason Leaks code\nhistory Cursor\nquit\n"
    done = subprocess.run(
        [sys.executable, "-m", "bot.entrypoints.cli", "chat", "--user", "alice"],
        input=script,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr
    assert "Qoder is ALLOWED" in done.stdout
    assert "Cursor: status:" in done.stdout and "→ banned" in done.stdout
    assert "update by alice (console)" in done.stdout


def test_console_refuses_admin_commands_from_staff(env: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot.entrypoints.cli", "chat", "--user", "bob"],
        input="set Cursor banned\n",
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )
    assert "Only policy admins can do that" in done.stdout


# -- lists, variants and follow-ups (issue 15) --------------------------------------------------


def test_ask_json_gives_a_list_intent_and_exactly_the_listed_tools(env: str) -> None:
    result = runner.invoke(app, ["ask", "--json", "which coding tools are banned?"])
    data = json.loads(result.output)
    assert data["intent"] == "list" and data["kind"] == "list"
    listed = [m["tool"] for m in data["matches"]]
    # Tongyi Lingma is banned for everyone outside China engineering (its audience rule).
    assert listed == ["Claude Code", "CodeGeeX", "Sourcegraph Cody", "Tongyi Lingma", "Trae"]
    assert all(name in data["text"] for name in listed)


def test_ask_json_in_chinese_lists_in_chinese(env: str) -> None:
    result = runner.invoke(app, ["ask", "--json", "有哪些工具被禁止了？"])
    data = json.loads(result.output)
    assert data["intent"] == "list" and data["language"] == "zh"
    assert "禁止使用" in data["text"] and {m["status"] for m in data["matches"]} == {"banned"}


def test_ask_json_about_an_unregistered_product_suggests_its_family_only(env: str) -> None:
    result = runner.invoke(app, ["ask", "--json", "does the ban cover the Claude API?"])
    data = json.loads(result.output)
    assert data["matches"] == [] and data["kind"] == "variant"
    assert data["suggestions"] == ["Claude", "Claude Code"]
    assert "no policy for “Claude API”" in data["text"]


def test_console_follow_up_is_about_the_previous_answer(env: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot.entrypoints.cli", "chat", "--user", "carol"],
        input="can I still use claude code?\nwhy?\n那用什么？\nthanks!\nhelp\n",
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr
    assert "Why Claude Code is banned:" in done.stdout
    assert "Claude Code 的替代方案：Qoder" in done.stdout
    assert "There is no policy for “why”" not in done.stdout
    assert "Commands anyone can use:\n  list [status]" in done.stdout  # staff help
    assert "set <tool> <status>" not in done.stdout  # not the admin commands


# -- quick commands load only what they use ------------------------------------------------

SLACK_AND_SERVER = {"slack_bolt", "slack_sdk", "apscheduler", "waitress", "gunicorn"}


def packages_loaded_by(args: list[str], env: dict[str, str] | None = None) -> set[str]:
    """The top-level packages a real `policybot ARGS` process has imported when it exits."""
    script = (
        "import atexit, sys\n"
        "atexit.register(lambda: print(' '.join(sorted({m.split('.')[0] for m in sys.modules})),"
        " file=sys.stderr))\n"
        f"sys.argv = ['policybot', *{args!r}]\n"
        "from bot.entrypoints.cli import main\n"
        "main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        env={**os.environ, **(env or {})},
    )
    assert done.returncode == 0, done.stderr
    return set(done.stderr.strip().splitlines()[-1].split())


def test_ask_loads_neither_slack_nor_the_server_nor_alembic_at_head(env: str) -> None:
    assert runner.invoke(app, ["ask", "warm up: migrate and seed"]).exit_code == 0
    loaded = packages_loaded_by(["ask", "can I use cursor?"], {"DATABASE_URL": env})
    assert "sqlalchemy" in loaded  # it did answer from the database
    assert not loaded & (SLACK_AND_SERVER | {"alembic"})


def test_check_loads_no_database_layer_and_no_slack() -> None:
    loaded = packages_loaded_by(["check", str(REPO / "policies")])
    assert {"ruamel", "yaml"} & loaded  # it did read the files
    assert not loaded & (SLACK_AND_SERVER | {"sqlalchemy", "sqlmodel", "alembic"})


def test_import_that_moves_an_alias_records_a_revision_for_both_tools(
    env: str, engine: sa.Engine, tmp_path: Path
) -> None:
    first = tmp_path / "first.yaml"
    first.write_text(
        "tools:\n  - name: Qoder\n    status: allowed\n"
        "  - name: Cursor\n    status: allowed\n    aliases: [cursor ide]\n",
        encoding="utf-8",
    )
    moved = tmp_path / "moved.yaml"
    moved.write_text(
        "tools:\n  - name: Qoder\n    status: allowed\n    aliases: [cursor ide]\n"
        "  - name: Cursor\n    status: allowed\n",
        encoding="utf-8",
    )
    assert runner.invoke(app, ["import", str(first)]).exit_code == 0

    result = runner.invoke(app, ["import", str(moved)])

    assert result.exit_code == 0, result.output
    assert "0 created, 2 updated" in result.output
    history = PolicyRepository(Store(engine)).history("Cursor")
    assert history[-1].changes == {"aliases": [["cursor ide"], []]}


# -- answers composed from the question frame (issue 25) ------------------------------------


@pytest.mark.parametrize(
    ("question", "first", "asked"),
    [
        ("could I put a customer contract into Perplexity?", "No. The policy says: never", "data"),
        ("Qoder 我们能用吗", "可以。Qoder", "may-i"),
        ("is there an Anthropic product our team may use?", "Yes. From Anthropic", "list"),
        (
            "how do I ask for an exception to the Claude Code ban?",
            "#ai-governance decides",
            "access",
        ),
    ],
)
def test_ask_json_opens_with_what_the_frame_asks(
    env: str, question: str, first: str, asked: str
) -> None:
    data = json.loads(runner.invoke(app, ["ask", "--json", question]).output)
    assert data["text"].startswith(first)
    assert data["frame"]["asked"] == asked


def test_piped_console_gives_verdicts_and_follow_ups(env: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot.entrypoints.cli", "chat", "--user", "dora"],
        input="can I use Windsurf on the new repo?\nok so what do I use then\nquit\n",
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr
    assert "No. Windsurf is UNDER REVIEW" in done.stdout
    assert "About Windsurf, from your previous question" in done.stdout


# -- vocabulary as data (issue 25): a phrasing the bot missed, added by an admin -----------


def policies_with_words(tmp_path: Path, words: str) -> Path:
    folder = tmp_path / "policies"
    folder.mkdir()
    for file in (REPO / "policies").glob("*.yaml"):
        (folder / file.name).write_text(file.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "vocabulary.yaml").write_text(words, encoding="utf-8")
    return folder


def test_a_phrasing_added_in_the_vocabulary_file_is_then_understood(
    env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    question = ["ask", "--json", "which tools are verboten?"]
    before = json.loads(runner.invoke(app, question).output)
    assert len(before["matches"]) > 20  # every tool: "verboten" was not a status word
    folder = policies_with_words(tmp_path, "statuses:\n  banned: [verboten, 拉黑]\n")
    monkeypatch.setenv("POLICYBOT_POLICIES", str(folder))
    checked = runner.invoke(app, ["check", str(folder)])
    assert checked.exit_code == 0, checked.output
    assert "vocabulary.yaml: 2 phrases added" in checked.output
    after = json.loads(runner.invoke(app, question).output)
    assert {m["status"] for m in after["matches"]} == {"banned"}
    chinese = json.loads(runner.invoke(app, ["ask", "--json", "哪些工具被拉黑了？"]).output)
    assert {m["status"] for m in chinese["matches"]} == {"banned"}


def test_a_data_word_added_in_the_vocabulary_file_decides_the_verdict(
    env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = policies_with_words(tmp_path, "data:\n  restricted: [board minutes, 董事会纪要]\n")
    monkeypatch.setenv("POLICYBOT_POLICIES", str(folder))
    result = runner.invoke(app, ["ask", "--json", "can I paste board minutes into Cursor?"])
    data = json.loads(result.output)
    assert data["frame"]["data"] == "restricted"
    assert data["text"].startswith("No.")


def test_check_names_a_malformed_vocabulary_file_in_one_line(tmp_path: Path) -> None:
    folder = policies_with_words(tmp_path, "statuses:\n  forbiden: [verboten]\n")
    result = runner.invoke(app, ["check", str(folder)])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines[0] == (
        f"{folder / 'vocabulary.yaml'}:2: unknown status 'forbiden' in 'statuses': "
        "use banned, not-usable, under-review, conditional, usable"
    )
    assert lines[1:] == ["policybot: 1 problem(s) found; nothing was changed"]
    alone = runner.invoke(app, ["check", str(folder / "vocabulary.yaml")])
    assert alone.exit_code == 1 and lines[0] in alone.output
