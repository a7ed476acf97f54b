"""`policybot catalogue export`: the catalogue's exports from the command line."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from bot.adapters.files.policyfile import load_policies
from bot.entrypoints.cli import app
from tests.conftest import REPO

runner = CliRunner()


@pytest.fixture
def env(engine: sa.Engine, database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The CLI on the test database, seeded from the shipped policies/ on first use."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("POLICYBOT_POLICIES", str(REPO / "policies"))
    monkeypatch.setenv("POLICYBOT_PUBLIC_URL", "https://policybot.example.com")
    return database_url


def test_json_export_lists_every_shipped_tool(env: str) -> None:
    result = runner.invoke(app, ["catalogue", "export", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["count"] == len(load_policies(REPO / "policies"))
    claude = next(t for t in data["tools"] if t["name"] == "Claude Code")
    assert claude["url"] == "https://policybot.example.com/catalogue/tools/claude-code"


def test_csv_export_takes_the_catalogues_filters(env: str) -> None:
    result = runner.invoke(
        app, ["catalogue", "export", "csv", "--status", "banned", "--category", "coding-assistant"]
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert rows and {row["ring"] for row in rows} == {"banned"}
    assert {row["quadrant"] for row in rows} == {"coding-assistant"}
    assert "Claude Code" in {row["name"] for row in rows}


def test_yaml_export_to_a_file_reads_back(env: str, tmp_path: Path) -> None:
    target = tmp_path / "registry.yaml"
    result = runner.invoke(app, ["catalogue", "export", "yaml", "--output", str(target)])
    assert result.exit_code == 0, result.output
    assert len(load_policies(target)) == len(load_policies(REPO / "policies"))


def test_an_unknown_format_is_refused_with_the_choices(env: str) -> None:
    result = runner.invoke(app, ["catalogue", "export", "xml"])
    assert result.exit_code == 2
    assert "use json, csv, yaml" in result.output
