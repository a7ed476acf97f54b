"""Tool-page addresses, language choice, and the catalogue links in Slack messages."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.adapters.db.announcement_views import AnnouncementView
from bot.adapters.files.vocabularyfile import shipped_vocabulary
from bot.adapters.slack.announcements import delivery_message
from bot.adapters.slack.blocks import answer_message
from bot.adapters.web.catalogue.i18n import negotiate
from bot.config import Settings
from bot.domain.answers import Registry, answer_question
from bot.domain.links import ToolPages, slug, tool_pages, tool_path
from tests.factories import seed_registry

PAGES = ToolPages("https://policybot.example.com/")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Claude Code", "claude-code"),
        ("  GitHub   Copilot ", "github-copilot"),
        ("C++ Helper (beta)", "c-helper-beta"),
        ("通义灵码", "通义灵码"),
        ("Ｃｕｒｓｏｒ", "cursor"),  # noqa: RUF001 (full-width letters on purpose)
        ("!!!", "tool"),
    ],
)
def test_a_slug_is_the_name_in_lower_case_with_dashes(name: str, expected: str) -> None:
    assert slug(name) == expected


def test_a_tool_path_is_percent_encoded() -> None:
    assert tool_path("Claude Code") == "/catalogue/tools/claude-code"
    assert tool_path("通义灵码") == "/catalogue/tools/%E9%80%9A%E4%B9%89%E7%81%B5%E7%A0%81"


def test_tool_pages_exist_only_with_a_public_url() -> None:
    assert tool_pages(None) is None
    assert PAGES.url("Claude Code") == "https://policybot.example.com/catalogue/tools/claude-code"


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, "en"),
        ("", "en"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        ("en-US,en;q=0.9,zh-CN;q=0.8", "en"),
        ("fr-FR,zh-TW;q=0.5", "zh"),
        ("zh;q=0.2,en;q=0.7", "en"),
        ("de, fr", "en"),
        ("zh;q=abc", "en"),
    ],
)
def test_the_language_follows_accept_language(header: str | None, language: str) -> None:
    assert negotiate(header) == language


def test_the_public_url_setting_is_checked_and_trimmed() -> None:
    settings = Settings(public_url="https://policybot.example.com/")
    assert settings.public_url == "https://policybot.example.com"
    with pytest.raises(ValueError, match="catalogue's address"):
        Settings(public_url="policybot.example.com")
    with pytest.raises(ValueError, match="catalogue's address"):
        Settings(public_url="https://evil.example|click me")


def test_the_catalogue_is_on_unless_turned_off() -> None:
    assert Settings().catalogue is True
    assert Settings(catalogue="off").catalogue is False


def _answer(question: str) -> str:
    answer = answer_question(
        question, Registry(seed_registry(), shipped_vocabulary()), today=dt.date(2026, 11, 25)
    )
    return str(answer_message(answer, "#ai-governance", pages=PAGES).blocks)


def test_a_slack_answer_links_to_the_tool_page_and_its_own_link_as_more() -> None:
    blocks = _answer("can I use claude code?")
    assert "<https://policybot.example.com/catalogue/tools/claude-code|Policy page>" in blocks
    assert "<https://intranet.example.com/ai-policy/claude-code|More>" in blocks


def test_a_tool_without_a_link_still_links_to_its_page() -> None:
    assert "/catalogue/tools/qoder|Policy page>" in _answer("is qoder ok?")


def test_a_chinese_answer_names_the_page_in_chinese() -> None:
    assert "/catalogue/tools/claude-code|政策页面>" in _answer("Claude Code 能用吗")


def test_without_a_public_url_answers_are_as_before() -> None:
    answer = answer_question("claude code?", Registry(seed_registry(), shipped_vocabulary()))
    blocks = str(answer_message(answer, "#ai-governance").blocks)
    assert "/catalogue/" not in blocks
    assert "|Read the full policy>" in blocks


def test_an_announcement_links_to_the_tool_page() -> None:
    view = AnnouncementView(
        id=1,
        kind="change",
        tool_name="Claude Code",
        summary="Claude Code is now banned",
        reason=None,
        details={"link": "https://intranet.example.com/ai-policy/claude-code"},
        effective=None,
        author="U0ADMIN",
        channel="C0ANNOUNCE",
        message_ts=None,
        created_at=dt.datetime(2026, 11, 25, tzinfo=dt.UTC),
    )
    text = str(delivery_message(view, "announcement", dt.UTC, PAGES).blocks)
    assert "<https://policybot.example.com/catalogue/tools/claude-code|Policy page>" in text
    assert "<https://intranet.example.com/ai-policy/claude-code|More>" in text
    assert "/catalogue/" not in str(delivery_message(view, "announcement", dt.UTC).blocks)
