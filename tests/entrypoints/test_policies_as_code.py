"""Policies as code through the `policybot` command: round trip, minimal diffs, the plan,
--prune confirmation and checking a file in its folder, on a real database."""

from __future__ import annotations

import difflib
import os
import pty
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from ruamel.yaml import YAML
from typer.testing import CliRunner, Result

from bot.adapters.db.policy_repo import PolicyRepository
from bot.adapters.db.store import Store
from bot.entrypoints.cli import app
from tests.conftest import REPO

runner = CliRunner()
SHIPPED = REPO / "policies"


@pytest.fixture
def env(engine: sa.Engine, database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The CLI on the test database (emptied by the engine fixture), alice an admin."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("POLICYBOT_POLICIES", str(SHIPPED))
    monkeypatch.setenv("POLICYBOT_ADMINS", "alice")
    monkeypatch.delenv("POLICYBOT_ANNOUNCE_CHANNEL", raising=False)
    return database_url


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A copy of the shipped policies/ folder."""
    return Path(shutil.copytree(SHIPPED, tmp_path / "policies"))


def run(*args: str, input: str | None = None) -> Result:
    return runner.invoke(app, list(args), input=input)


def texts(path: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(path.iterdir())}


def changed_lines(before: str, after: str) -> list[str]:
    """The -/+ lines of a line diff (as `git diff` shows them, without context)."""
    old, new = before.splitlines(), after.splitlines()
    lines: list[str] = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            lines += [f"-{line}" for line in old[i1:i2]] + [f"+{line}" for line in new[j1:j2]]
    return lines


# -- round trip -----------------------------------------------------------------------------


def test_import_then_export_of_the_shipped_folder_changes_no_byte(env: str, folder: Path) -> None:
    before = texts(folder)
    assert run("import", str(folder)).exit_code == 0
    exported = run("export", str(folder))
    assert exported.exit_code == 0, exported.output
    assert texts(folder) == before
    assert "wrote" not in exported.output
    assert "4 file(s) already up to date" in exported.output


def test_a_change_made_by_a_command_exports_as_exactly_the_changed_lines(
    env: str, folder: Path
) -> None:
    run("import", str(folder))
    before = texts(folder)
    script = (
        "set Cursor conditional --conditions Business plan seats only"
        " --alternatives Qoder, Windsurf\n"
        "alias Qoder = 通义 Qoder\n"
        "quit\n"
    )
    chat = run("chat", "--user", "alice", input=script)
    assert chat.exit_code == 0, chat.output
    exported = run("export", str(folder))
    assert exported.exit_code == 0, exported.output
    after = texts(folder)
    assert changed_lines(before["coding-assistants.yaml"], after["coding-assistants.yaml"]) == [
        "-    aliases: [Qoder IDE, qoder cli]",
        "+    aliases: [Qoder IDE, qoder cli, 通义 Qoder]",
        "-    conditions: Sign in with company SSO so Privacy Mode is enforced; never use a "
        "personal Cursor account on company code.",
        "+    conditions: Business plan seats only",
        "-    alternatives: [Qoder]",
        "+    alternatives: [Qoder, Windsurf]",
    ]
    assert {k: v for k, v in after.items() if k != "coding-assistants.yaml"} == {
        k: v for k, v in before.items() if k != "coding-assistants.yaml"
    }
    assert exported.output.splitlines()[0] == f"wrote {folder / 'coding-assistants.yaml'}"


def test_a_removed_tool_leaves_its_file_and_the_rest_stays(env: str, folder: Path) -> None:
    run("import", str(folder))
    before = texts(folder)["productivity.yaml"]
    assert run("chat", "--user", "alice", input="remove Otter.ai\nquit\n").exit_code == 0
    run("export", str(folder))
    removed = changed_lines(before, texts(folder)["productivity.yaml"])
    assert removed[0] == "-  - name: Otter.ai"
    assert all(line.startswith("-") for line in removed)
    assert "Otter.ai" not in texts(folder)["productivity.yaml"]


def test_new_tools_go_into_the_file_for_their_category_named_like_the_others(
    env: str, folder: Path, engine: sa.Engine
) -> None:
    run("import", str(folder))
    extra = folder.parent / "extra.yaml"
    extra.write_text(
        "tools:\n"
        "  - name: Zed Agent\n    category: coding-assistant\n    status: allowed\n"
        '    owner: "#eng-productivity"\n'
        "  - name: Krisp\n    category: meeting-assistant\n    status: banned\n",
        encoding="utf-8",
    )
    assert run("import", str(extra)).exit_code == 0
    before = texts(folder)
    exported = run("export", str(folder))
    assert exported.exit_code == 0, exported.output
    after = texts(folder)
    assert sorted(after) == sorted([*before, "meeting-assistants.yaml"])
    added = changed_lines(before["coding-assistants.yaml"], after["coding-assistants.yaml"])
    assert added[:3] == ["+", "+  - name: Zed Agent", "+    vendor: null"]
    assert '+    owner: "#eng-productivity"' in added
    assert after["meeting-assistants.yaml"].startswith("tools:\n  - name: Krisp\n")
    assert run("check", str(folder)).exit_code == 0


def test_export_to_a_path_ending_in_a_slash_writes_a_folder(env: str, tmp_path: Path) -> None:
    run("import", str(SHIPPED))
    target = tmp_path / "new-folder"
    exported = run("export", f"{target}/")
    assert exported.exit_code == 0, exported.output
    assert sorted(p.name for p in target.iterdir()) == [
        "chat-assistant.yaml",
        "coding-assistant.yaml",
        "image-and-media.yaml",
        "productivity.yaml",
    ]
    again = run("import", str(target))
    assert "0 created, 0 updated" in again.output


def test_export_to_a_new_file_writes_one_file_that_imports_unchanged(
    env: str, tmp_path: Path
) -> None:
    run("import", str(SHIPPED))
    target = tmp_path / "registry.yaml"
    assert run("export", str(target)).exit_code == 0
    assert target.is_file()
    assert "0 created, 0 updated, 69 unchanged" in run("import", str(target)).output


# -- plan -----------------------------------------------------------------------------------


def test_plan_of_files_the_database_already_holds_exits_0(env: str, folder: Path) -> None:
    run("import", str(folder))
    result = run("import", "--dry-run", str(folder))
    assert result.exit_code == 0, result.output
    assert "0 to create, 0 to update, 0 to remove, 69 unchanged" in result.output


def test_plan_lists_each_changed_field_and_exits_2_without_changing_anything(
    env: str, folder: Path, engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    run("import", str(folder))
    generation = PolicyRepository(Store(engine)).generation()
    path = folder / "coding-assistants.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace(
        "    status: conditional\n    reason: Approved on the company Business",
        "    status: banned\n    reason: Approved on the company Business",
    )
    # A banned tool has no conditions or data limit: the files leave them out, as `set` must.
    at = text.index("  - name: Cursor\n")
    text = text[:at] + re.sub(
        r"    conditions: [^\n]*\n    max_data: confidential\n", "", text[at:], count=1
    )
    path.write_text(
        text.replace(
            "  - name: Tabnine\n    vendor: Tabnine\n    aliases: [tab nine, tabnine enterprise]",
            "  - name: Tabnine Pro\n    vendor: Tabnine\n    aliases: [tabnine pro]",
        ),
        encoding="utf-8",
    )
    monkeypatch.setenv("POLICYBOT_ANNOUNCE_CHANNEL", "#ai-policy")
    result = run("plan", str(folder))
    assert result.exit_code == 2, result.output
    assert result.output.splitlines()[0] == f"plan for importing {folder}:"
    lines = result.output.splitlines()
    cursor = lines.index("~ Cursor: changed")
    assert lines[cursor + 1] == "    status: conditional → banned"
    assert "+ Tabnine Pro: new tool" in lines
    assert "--prune would remove 1 tool(s) the files do not list: Tabnine" in lines
    assert "2 change(s) would be announced in #ai-policy: Cursor, Tabnine Pro" in lines
    assert PolicyRepository(Store(engine)).generation() == generation
    imported = run("import", "--prune", "--yes", str(folder))
    # A ban clears conditions and the data limit, and dates itself today, as every change does.
    assert "  updated: Cursor (status, conditions, max_data, effective)" in imported.output
    # The files learn what the import decided (conditions cleared, today's date) by export.
    assert run("export", str(folder)).exit_code == 0
    assert run("plan", "--prune", str(folder)).exit_code == 0


def test_plan_refuses_what_the_import_would_refuse(env: str, folder: Path) -> None:
    run("import", str(folder))
    path = folder / "coding-assistants.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("  - name: Tabnine\n", "  - name: Tabnine Pro\n"), encoding="utf-8"
    )
    planned = run("plan", str(folder))
    imported = run("import", str(folder))
    assert planned.exit_code == imported.exit_code == 1
    assert "'tab nine' already names 'Tabnine'" in planned.output
    assert "'tab nine' already names 'Tabnine'" in imported.output


def test_plan_shows_the_date_a_status_change_takes_effect(env: str, folder: Path) -> None:
    run("import", str(folder))
    edit_cursor_status(folder)
    lines = run("plan", str(folder)).output.splitlines()
    cursor = lines.index("~ Cursor: changed")
    assert lines[cursor + 1] == "    status: conditional → under-review"
    assert lines[cursor + 2].startswith("    effective: 2025-04-14 → 20")
    run("import", str(folder))
    assert run("plan", str(folder)).exit_code == 2  # the files still say 2025-04-14


def test_plan_with_prune_shows_what_would_be_removed(env: str, folder: Path) -> None:
    run("import", str(folder))
    (folder / "image-and-media.yaml").unlink()
    result = run("import", "--dry-run", "--prune", "--quiet", str(folder))
    assert result.exit_code == 2, result.output
    assert "- Midjourney: removed (--prune)" in result.output
    assert "0 to create, 0 to update, 12 to remove, 57 unchanged" in result.output
    assert "nothing would be announced (--quiet)" in result.output


def test_import_resolves_alternatives_against_the_registry_and_points_at_the_line(
    env: str, tmp_path: Path
) -> None:
    run("import", str(SHIPPED))
    one = tmp_path / "one.yaml"
    one.write_text(
        "tools:\n  - name: New Agent\n    status: banned\n    alternatives:\n"
        "      - Qoder\n      - Cursr\n",
        encoding="utf-8",
    )
    result = run("import", "--dry-run", str(one))
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == (
        f"{one}:6: alternatives: 'Cursr' is not a tool in the files or the registry: "
        "did you mean 'Cursor'?"
    )


# -- check in context -----------------------------------------------------------------------


def test_check_of_one_file_resolves_references_against_its_folder(folder: Path) -> None:
    result = run("check", str(folder / "chat-assistants.yaml"))
    assert result.exit_code == 0, result.output
    assert f"(checked against {folder}/)" in result.output


def test_check_of_one_file_finds_alternatives_in_the_other_files(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        "tools:\n  - name: A\n    status: banned\n    alternatives: [B, Bee]\n", encoding="utf-8"
    )
    (tmp_path / "b.yaml").write_text("tools:\n  - name: B\n    status: allowed\n", encoding="utf-8")
    result = run("check", str(tmp_path / "a.yaml"))
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == (
        f"{tmp_path / 'a.yaml'}:4: alternatives: 'Bee' is not a tool in the policy files"
    )
    (tmp_path / "a.yaml").write_text(
        "tools:\n  - name: A\n    status: banned\n    alternatives: [B, Qoder]\n",
        encoding="utf-8",
    )
    assert run("check", str(tmp_path / "a.yaml")).exit_code == 1
    (tmp_path / "b.yaml").write_text(
        "tools:\n  - name: B\n    status: allowed\n  - name: Qodr\n    status: allowed\n",
        encoding="utf-8",
    )
    assert (
        run("check", str(tmp_path / "a.yaml"))
        .output.splitlines()[0]
        .endswith("alternatives: 'Qoder' is not a tool in the policy files: did you mean 'Qodr'?")
    )


def test_check_of_a_copied_file_blames_the_copy_and_names_the_original(folder: Path) -> None:
    copy = folder / "chat-assistants copy.yaml"
    shutil.copy(folder / "chat-assistants.yaml", copy)
    result = run("check", str(copy))
    assert result.exit_code == 1
    problems = [line for line in result.output.splitlines() if "already names" in line]
    assert problems and all(line.startswith(f"{copy}:") for line in problems)
    assert all(f"at {folder / 'chat-assistants.yaml'}:" in line for line in problems)
    assert problems[0] == (
        f"{copy}:3: name: 'ChatGPT' already names 'ChatGPT' at {folder / 'chat-assistants.yaml'}:3"
    )


# -- drift ----------------------------------------------------------------------------------


def edit_cursor_status(folder: Path, status: str = "under-review") -> None:
    path = folder / "coding-assistants.yaml"
    cursor = "    reason: Approved on the company Business"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace(f"    status: conditional\n{cursor}", f"    status: {status}\n{cursor}"),
        encoding="utf-8",
    )


def test_doctor_names_the_tools_where_files_and_database_differ(
    env: str, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POLICYBOT_POLICIES", str(folder))
    run("import", str(folder))
    same = run("doctor")
    assert f"drift: the database matches {folder}" in same.output
    edit_cursor_status(folder)
    (folder / "image-and-media.yaml").unlink()
    differs = run("doctor")
    line = next(line for line in differs.output.splitlines() if " drift: " in line)
    assert line.startswith("note     drift:")
    assert f"{folder} and the database differ on 13 tool(s) (Cursor: status, effective;" in line
    assert "only in the database" in line and f"`policybot plan {folder}`" in line


def test_chat_says_it_kept_the_database_and_that_the_files_differ(
    env: str, folder: Path, engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POLICYBOT_POLICIES", str(folder))
    run("import", str(folder))
    edit_cursor_status(folder)
    chat = run("chat", input="quit\n")
    assert chat.exit_code == 0, chat.output
    assert (
        "policies: using the database as it is (POLICYBOT_SYNC_POLICIES is off); "
        f"{folder} differs from the database on 1 tool(s) (Cursor: status, effective)"
    ) in chat.output
    assert PolicyRepository(Store(engine)).get("Cursor").status == "conditional"  # type: ignore[union-attr]


def test_sync_policies_imports_the_folder_on_start_and_says_so(
    env: str, folder: Path, engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POLICYBOT_POLICIES", str(folder))
    run("import", str(folder))
    edit_cursor_status(folder)
    (folder / "image-and-media.yaml").unlink()
    monkeypatch.setenv("POLICYBOT_SYNC_POLICIES", "true")
    chat = run("chat", input="quit\n")
    assert chat.exit_code == 0, chat.output
    assert (
        f"policies: imported {folder} (POLICYBOT_SYNC_POLICIES=true): "
        "0 created, 1 updated, 12 removed, 56 unchanged"
    ) in chat.output
    assert PolicyRepository(Store(engine)).get("Cursor").status == "under-review"  # type: ignore[union-attr]


def test_a_new_database_is_loaded_from_the_folder_and_chat_says_so(
    env: str, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POLICYBOT_POLICIES", str(folder))
    chat = run("chat", input="quit\n")
    assert f"policies: loaded 69 tools from {folder} into the new database" in chat.output


# -- the GitHub Actions workflow in docs/policies-as-code.md ------------------------------------


def workflow_steps() -> dict[str, dict[str, Any]]:
    """The steps of the workflow shown in docs/policies-as-code.md, by name."""
    text = (REPO / "docs" / "policies-as-code.md").read_text(encoding="utf-8")
    section = text[text.index("## GitHub Actions") :]
    block = section[section.index("```yaml\n") + 8 :]
    workflow = YAML(typ="safe").load(block[: block.index("\n```\n")])
    steps = workflow["jobs"]["check-and-plan"]["steps"]
    return {step["name"]: step for step in steps if "name" in step}


def run_step(
    step: dict[str, Any], cwd: Path, values: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """A `run:` step as Actions runs it (bash -e -o pipefail), `${{ … }}` filled from `values`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POLICYBOT_", "DATABASE_"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    env.update(RUNNER_TEMP=values["runner.temp"], GITHUB_STEP_SUMMARY=values["summary"])
    for name, value in (step.get("env") or {}).items():
        env[name] = re.sub(r"\$\{\{\s*([^}]+?)\s*\}\}", lambda m: values[m.group(1)], str(value))
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-e", "-o", "pipefail", "-c", step["run"]],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_the_documented_workflow_checks_the_files_and_posts_the_plan(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(SHIPPED, repo / "policies")
    git(repo, "init", "-q")
    git(
        repo,
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@example.com",
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "start",
    )
    git(repo, "add", ".")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "base")
    base = git(repo, "rev-parse", "HEAD")
    edit_cursor_status(repo / "policies")
    runner_temp = tmp_path / "runner"
    runner_temp.mkdir()
    values = {
        "runner.temp": str(runner_temp),
        "summary": str(tmp_path / "summary.md"),
        "github.event.pull_request.base.sha": base,
    }
    steps = workflow_steps()
    checked = run_step(steps["Check the policy files"], repo, values)
    assert checked.returncode == 0, checked.stderr
    planned = run_step(steps["Plan against the base branch"], repo, values)
    assert planned.returncode == 0, planned.stdout + planned.stderr
    comment = (repo / "plan.md").read_text(encoding="utf-8")
    assert comment.startswith("### policybot plan\n")
    assert "~ Cursor: changed\n    status: conditional → under-review\n" in comment
    assert "    effective: 2025-04-14 → " in comment and "    announced: yes\n" in comment
    assert "0 to create, 1 to update, 0 to remove, 68 unchanged" in comment
    assert (tmp_path / "summary.md").read_text(encoding="utf-8") == comment
    assert "--edit-last" in steps["Post the plan on the pull request"]["run"]

    (repo / "policies" / "productivity.yaml").write_text("tools:\n  - name: X\n", encoding="utf-8")
    broken = run_step(steps["Check the policy files"], repo, values)
    assert broken.returncode == 1
    assert "productivity.yaml:2: status: missing" in broken.stderr


# -- --prune at a terminal --------------------------------------------------------------------


def import_at_a_terminal(args: list[str], answer: str, database_url: str) -> str:
    """Run `policybot import` with a terminal as stdin, answer its question, return the screen."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLICYBOT_")}
    env["DATABASE_URL"] = database_url
    main, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.entrypoints.cli", "import", *args],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        cwd=REPO,
        env=env,
    )
    os.close(terminal)
    os.write(main, answer.encode())  # typed ahead: the terminal keeps it until read
    screen = b""
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:  # the program ended and closed the terminal
            break
        if not chunk:
            break
        screen += chunk
    os.close(main)
    process.wait(timeout=300)
    return screen.decode(errors="replace")


@pytest.mark.parametrize(("answer", "kept"), [("y\n", 1), ("n\n", 69)])
def test_prune_at_a_terminal_asks_before_removing(
    env: str, engine: sa.Engine, tmp_path: Path, answer: str, kept: int
) -> None:
    run("import", str(SHIPPED))
    one = tmp_path / "one.yaml"
    one.write_text("tools:\n  - name: Qoder\n    status: allowed\n", encoding="utf-8")
    screen = import_at_a_terminal(["--prune", str(one)], answer, env)
    assert "--prune will remove 68 tool(s): Adobe Firefly, Aider," in screen
    assert "Remove these 68 tool(s)? [y/N]" in screen
    assert len(PolicyRepository(Store(engine)).policies()) == kept


# -- a future-dated status change in the files is scheduled, as `set --effective` does -------


def test_import_of_a_future_status_change_schedules_it_and_plan_says_so(
    env: str, folder: Path
) -> None:
    import datetime as dt
    import json

    assert run("import", str(folder)).exit_code == 0
    later = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=14)).isoformat()
    path = folder / "coding-assistants.yaml"
    text = path.read_text(encoding="utf-8")
    cursor = text.index("  - name: Cursor\n")
    end = text.index("  - name: Windsurf\n")
    block = text[cursor:end]
    edited = block.replace("    status: conditional\n", "    status: banned\n").replace(
        "    effective: 2025-04-14\n", f"    effective: {later}\n"
    )
    edited = "\n".join(
        line
        for line in edited.split("\n")
        if not line.startswith(("    conditions:", "    max_data:"))
    )
    path.write_text(text[:cursor] + edited + text[end:], encoding="utf-8")

    planned = run("plan", str(folder))
    assert planned.exit_code == 2, planned.output
    lines = planned.output.splitlines()
    at = lines.index(f"~ Cursor: scheduled from {later} (today's policy stays until then)")
    assert lines[at + 1] == "    status: conditional → banned"
    assert "0 to create, 0 to update, 0 to remove, 68 unchanged, 1 scheduled" in lines

    imported = run("import", str(folder))
    assert imported.exit_code == 0, imported.output
    assert "0 updated" in imported.output
    assert f"  scheduled: Cursor (from {later})" in imported.output

    answer = run("ask", "--json", "can I use Cursor?")
    assert answer.exit_code == 0, answer.output
    data = json.loads(answer.output)
    assert data["matches"][0]["tool"] == "Cursor"
    assert data["matches"][0]["status"] == "conditional"
    assert "Cursor is CONDITIONAL" in data["text"]
    assert f"From {later} it will be BANNED." in data["text"]

    # Importing the same files again changes nothing: the change is already scheduled.
    again = run("plan", str(folder))
    assert again.exit_code == 0, again.output
    assert "0 to create, 0 to update, 0 to remove, 69 unchanged" in again.output
    assert "0 updated, 69 unchanged" in run("import", str(folder)).output


# -- every problem in one run ---------------------------------------------------------------

BROKEN = """tools:
  - name: Alpha
    status: forbidden
    alternatives: [NoSuchTool]
  - name: Beta
    status: banned
    conditions: only on Fridays
    max_data: internal
    link: not a url
    effective: 2026-02-30
  - name: Gamma
    status: allowed
    alternatives: [Alpah]
"""


def test_check_reports_every_problem_in_one_run(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(BROKEN, encoding="utf-8")
    where = tmp_path / "a.yaml"

    result = run("check", str(tmp_path))

    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"{where}:3: status: unknown status 'forbidden': use allowed, conditional, "
        "under-review, banned",
        f"{where}:4: alternatives: 'NoSuchTool' is not a tool in the policy files",
        f"{where}:7: conditions: a banned tool has no conditions or data limit: "
        "leave out conditions",
        f"{where}:8: max_data: a banned tool has no conditions or data limit: leave out max_data",
        f"{where}:9: link: 'not a url' is not a web address: give one starting with https:// "
        "(or leave the link out)",
        f"{where}:10: effective: the date '2026-02-30' does not exist: February 2026 has 28 days",
        f"{where}:13: alternatives: 'Alpah' is not a tool in the policy files: "
        "did you mean 'Alpha'?",
        "policybot: 7 problem(s) found; nothing was changed",
    ]


def test_plan_reports_the_files_problems_and_unknown_alternatives_in_one_run(
    env: str, tmp_path: Path
) -> None:
    run("import", str(SHIPPED))
    (tmp_path / "a.yaml").write_text(BROKEN, encoding="utf-8")

    result = run("plan", str(tmp_path))

    assert result.exit_code == 1
    assert "'forbidden'" in result.output
    assert "'NoSuchTool' is not a tool in the files or the registry" in result.output
    assert "a banned tool has no conditions or data limit: leave out conditions" in result.output
    assert "policybot: 7 problem(s) found" in result.output


def test_a_ban_with_conditions_is_refused_by_import_as_by_set(env: str, tmp_path: Path) -> None:
    run("import", str(SHIPPED))
    one = tmp_path / "one.yaml"
    one.write_text(
        "tools:\n  - name: Cursor\n    status: banned\n    conditions: Only with SSO.\n",
        encoding="utf-8",
    )

    result = run("import", str(one))

    assert result.exit_code == 1
    assert f"{one}:4: conditions: a banned tool has no conditions or data limit" in result.output
    assert "Cursor is CONDITIONAL" in run("ask", "can I use Cursor?").output


def test_export_puts_tools_without_a_category_into_uncategorised_yaml(
    env: str, folder: Path
) -> None:
    run("import", str(folder))
    assert run("chat", "--user", "alice", input="add Foobar\nquit\n").exit_code == 0

    exported = run("export", str(folder))

    assert exported.exit_code == 0, exported.output
    assert (folder / "uncategorised.yaml").is_file()
    assert not (folder / "uncategoriseds.yaml").exists()
    assert "name: Foobar" in (folder / "uncategorised.yaml").read_text(encoding="utf-8")
