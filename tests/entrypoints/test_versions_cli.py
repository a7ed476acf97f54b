"""Versions from the command line: the first import is a quiet baseline, a later import is one
version with one announcement, and the acknowledgements export for auditors."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select
from typer.testing import CliRunner

from bot.adapters.db.models import (
    Acknowledgement,
    Announcement,
    AudienceMember,
    Delivery,
    PolicyVersion,
)
from bot.entrypoints.cli import app
from tests.conftest import REPO
from tests.factories import ban_first_allowed

runner = CliRunner()
CHANNEL = "C0ANNOUNCE"


@pytest.fixture
def env(engine: sa.Engine, database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("POLICYBOT_POLICIES", str(REPO / "policies"))
    monkeypatch.setenv("POLICYBOT_ANNOUNCE_CHANNEL", CHANNEL)
    monkeypatch.delenv("POLICYBOT_ADMINS", raising=False)
    return database_url


def _rows(engine: sa.Engine, model: type) -> list:  # type: ignore[type-arg]
    with Session(engine) as session:
        # By id: PostgreSQL returns rows in no particular order after updates.
        return list(session.exec(select(model).order_by(model.id)).all())


def test_first_import_into_an_empty_database_announces_nothing(env: str, engine: sa.Engine) -> None:
    result = runner.invoke(app, ["import", str(REPO / "policies")])

    assert result.exit_code == 0, result.output
    [baseline] = _rows(engine, PolicyVersion)
    assert baseline.baseline
    assert _rows(engine, Announcement) == [] and _rows(engine, Delivery) == []


def test_first_import_with_announce_is_one_announcement(env: str, engine: sa.Engine) -> None:
    result = runner.invoke(app, ["import", "--announce", str(REPO / "policies")])

    assert result.exit_code == 0, result.output
    [post] = [d for d in _rows(engine, Delivery) if d.kind == "announcement"]
    [announcement] = _rows(engine, Announcement)
    assert post.announcement_id == announcement.id


def test_a_later_import_with_two_changes_is_one_version_and_one_post(
    env: str, engine: sa.Engine, tmp_path: Path
) -> None:
    runner.invoke(app, ["import", str(REPO / "policies")])
    exported = tmp_path / "policies"
    shutil.copytree(REPO / "policies", exported)
    changed = []
    for path in sorted(exported.glob("*.yaml")):
        text = path.read_text()
        if "status: allowed" in text and len(changed) < 2:
            path.write_text(ban_first_allowed(text))
            changed.append(path)
    assert len(changed) == 2

    result = runner.invoke(app, ["import", str(exported)])

    assert result.exit_code == 0, result.output
    _baseline, version = _rows(engine, PolicyVersion)
    [announcement] = _rows(engine, Announcement)
    posts = [d for d in _rows(engine, Delivery) if d.kind == "announcement"]
    assert len(posts) == 1 and announcement.version_id == version.id
    assert len(announcement.details["items"]) == 2


def test_acks_export_lists_person_version_time_and_reminders(env: str, engine: sa.Engine) -> None:
    runner.invoke(app, ["import", "--announce", str(REPO / "policies")])
    [announcement] = _rows(engine, Announcement)
    with Session(engine) as session:
        for person in ("U0ALICE", "U0BOB"):
            session.add(AudienceMember(announcement_id=announcement.id, user_id=person))
        session.add(Acknowledgement(announcement_id=announcement.id, user_id="U0ALICE"))
        session.commit()

    as_csv = runner.invoke(app, ["acks", "export"])
    as_json = runner.invoke(app, ["acks", "export", "--format", "json"])

    assert as_csv.exit_code == 0, as_csv.output
    rows = list(csv.DictReader(io.StringIO(as_csv.output)))
    version = f"v{announcement.version_id}"
    assert [(r["person"], r["version"], bool(r["acknowledged_at"])) for r in rows] == [
        ("U0ALICE", version, True),
        ("U0BOB", version, False),
    ]
    assert {r["reminders_sent"] for r in rows} == {"0"}
    assert [r["person"] for r in json.loads(as_json.output)] == ["U0ALICE", "U0BOB"]


def test_an_import_that_only_removes_tools_is_a_version_with_one_post(
    env: str, engine: sa.Engine, tmp_path: Path
) -> None:
    runner.invoke(app, ["import", str(REPO / "policies")])
    exported = tmp_path / "policies"
    shutil.copytree(REPO / "policies", exported)
    # every tool of one file (audiences.yaml holds no tools)
    sorted(p for p in exported.glob("*.yaml") if p.name != "audiences.yaml")[0].unlink()

    result = runner.invoke(app, ["import", "--prune", "--yes", str(exported)])

    assert result.exit_code == 0, result.output
    _baseline, version = _rows(engine, PolicyVersion)
    [announcement] = _rows(engine, Announcement)
    posts = [d for d in _rows(engine, Delivery) if d.kind == "announcement"]
    assert len(posts) == 1 and announcement.version_id == version.id
    items = announcement.details["items"]
    assert len(items) > 1 and {i["group"] for i in items} == {"removed"}
    assert version.summary == f"import: {len(items)} changes ({len(items)} removed tools)"


def test_a_draft_staged_in_the_console_leaves_exports_alone_until_published(
    env: str, engine: sa.Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POLICYBOT_ADMINS", "alice")
    runner.invoke(app, ["import", str(REPO / "policies")])
    before, staged, after = tmp_path / "before", tmp_path / "staged", tmp_path / "after"
    for folder in (before, staged, after):
        folder.mkdir()
    runner.invoke(app, ["export", str(before)])

    chat = runner.invoke(
        app,
        ["chat", "--user", "alice"],
        input="draft set Cursor banned --reason Uploads code\ndraft remove Otter.ai\ndraft\nquit\n",
    )
    runner.invoke(app, ["export", str(staged)])
    published = runner.invoke(app, ["chat", "--user", "alice"], input="publish\nquit\n")
    runner.invoke(app, ["export", str(after)])

    assert chat.exit_code == 0, chat.output
    assert "2. Otter.ai: removed from the registry — staged by alice (console)" in chat.output
    files = sorted(p.name for p in before.iterdir())
    assert files
    assert all((before / n).read_text() == (staged / n).read_text() for n in files)
    assert "Published v" in published.output and "2 changes" in published.output
    assert "Otter.ai" not in (after / "productivity.yaml").read_text()
    [announcement] = _rows(engine, Announcement)
    assert {i["group"] for i in announcement.details["items"]} == {"banned", "removed"}
