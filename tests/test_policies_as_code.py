"""Policies as code through the `policybot` command: round trip, minimal diffs, the plan,
--prune confirmation and checking a file in its folder, on a real database."""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner, Result

from bot.cli import app
from bot.core.store import Store
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
    generation = Store(engine).generation()
    path = folder / "coding-assistants.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace(
        "    status: conditional\n    reason: Approved on the company Business",
        "    status: banned\n    reason: Approved on the company Business",
    )
    path.write_text(
        text.replace("  - name: Tabnine\n", "  - name: Tabnine Pro\n"), encoding="utf-8"
    )
    monkeypatch.setenv("POLICYBOT_ANNOUNCE_CHANNEL", "#ai-policy")
    result = run("plan", str(folder))
    assert result.exit_code == 2, result.output
    lines = result.output.splitlines()
    cursor = lines.index("~ Cursor: changed")
    assert lines[cursor + 1] == "    status: conditional → banned"
    assert "+ Tabnine Pro: new tool" in lines
    assert "--prune would remove 1 tool(s) the files do not list: Tabnine" in lines
    assert "2 change(s) would be announced in #ai-policy: Cursor, Tabnine Pro" in lines
    assert Store(engine).generation() == generation


def test_plan_with_prune_shows_what_would_be_removed(env: str, folder: Path) -> None:
    run("import", str(folder))
    (folder / "productivity.yaml").unlink()
    result = run("import", "--dry-run", "--prune", "--quiet", str(folder))
    assert result.exit_code == 2
    assert "- Otter.ai: removed (--prune)" in result.output
    assert "0 to create, 0 to update, 13 to remove, 56 unchanged" in result.output
    assert "nothing would be announced (--quiet)" in result.output


# -- check in context -----------------------------------------------------------------------


def test_check_of_one_file_resolves_references_against_its_folder(folder: Path) -> None:
    result = run("check", str(folder / "chat-assistants.yaml"))
    assert result.exit_code == 0, result.output
    assert f"(checked against {folder}/)" in result.output


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
