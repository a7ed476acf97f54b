"""`policybot catalogue serve`: the catalogue on a laptop or behind SSO, without a Slack app
(issue 27: `serve` stops without a token, so /catalogue/ could not be opened without one)."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.adapters.slack.harness import BotProcess, http, seeded_database
from tests.conftest import POSTGRES_URL, REPO, postgres_database
from tests.entrypoints.test_cli_errors import one_line_without_traceback, policybot
from tests.factories import seed_registry


class CatalogueProcess(BotProcess):
    """`policybot catalogue serve --port N` in a subprocess, with no Slack setting at all."""

    def command(self) -> list[str]:
        script = Path(sys.executable).parent / "policybot"
        entry = [str(script)] if script.exists() else [sys.executable, "-m", "bot.entrypoints.cli"]
        return [*entry, "catalogue", "serve", "--port", str(self.port), "--host", "127.0.0.1"]


@pytest.fixture
def database(tmp_path: Path) -> Iterator[str]:
    if POSTGRES_URL:
        name = f"policybot_cat_{os.getpid()}_{tmp_path.name}"[:63].lower()
        with postgres_database(POSTGRES_URL, name) as url:
            yield seeded_database(url, seed_registry())
    else:
        yield seeded_database(tmp_path / "policybot.db", seed_registry())


def test_the_catalogue_serves_without_any_slack_setting(tmp_path: Path, database: str) -> None:
    bot = CatalogueProcess(
        {"DATABASE_URL": database, "POLICYBOT_POLICIES": str(tmp_path / "none")}, tmp_path
    )
    bot.start()
    try:
        page = http(f"{bot.url}/catalogue/")
        assert page.status == 200
        assert "/catalogue/tools/claude-code" in page.text
        assert http(f"{bot.url}/catalogue/export.json").json()["count"] == len(seed_registry())
        assert http(f"{bot.url}/readyz").status == 200
        # No Slack app behind it: nothing answers Slack's path.
        assert http(f"{bot.url}/slack/events", data=b"{}").status == 404
    finally:
        assert bot.stop() == 0


def test_the_catalogue_of_a_fresh_clone_loads_the_policies_folder(tmp_path: Path) -> None:
    shutil.copytree(REPO / "policies", tmp_path / "policies")
    bot = CatalogueProcess({"DATABASE_URL": f"sqlite:///{tmp_path / 'policybot.db'}"}, tmp_path)
    bot.start()
    try:
        assert "/catalogue/tools/cursor" in http(f"{bot.url}/catalogue/").text
    finally:
        bot.stop()


def test_serve_without_a_token_points_to_the_catalogue_alone(tmp_path: Path) -> None:
    said = one_line_without_traceback(policybot("serve", cwd=tmp_path))

    assert "SLACK_BOT_TOKEN is not set" in said
    assert "policybot catalogue serve" in said


def test_the_catalogue_alone_refuses_when_it_is_turned_off(tmp_path: Path, database: str) -> None:
    result = policybot(
        "catalogue",
        "serve",
        cwd=tmp_path,
        env={"DATABASE_URL": database, "POLICYBOT_CATALOGUE": "off"},
    )

    assert "the catalogue is turned off (POLICYBOT_CATALOGUE=off)" in one_line_without_traceback(
        result
    )
