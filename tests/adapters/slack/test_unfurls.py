"""Link previews: signed link_shared events, chat.unfurl recorded by the stand-in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.adapters.db.store import Store
from bot.adapters.slack.unfurls import tool_slug
from tests.adapters.slack.harness import all_text
from tests.adapters.slack.inprocess import InProcessBot, in_process_bot
from tests.factories import seed_registry
from tests.standin import StandinSlack, payloads

PUBLIC_URL = "https://policybot.example.com"
CLAUDE_PAGE = f"{PUBLIC_URL}/catalogue/tools/claude-code"


@pytest.fixture
def standin() -> Iterator[StandinSlack]:
    with StandinSlack() as s:
        yield s


@pytest.fixture
def bot(store: Store, standin: StandinSlack) -> InProcessBot:
    return in_process_bot(store, standin, seed_registry(), public_url=PUBLIC_URL)


def share(bot: InProcessBot, *urls: str) -> str:
    payload = payloads.link_shared(list(urls), channel="C0LINKS")
    assert bot.event(payload).status == 200
    return str(payload["event"]["message_ts"])


def test_a_catalogue_link_unfurls_into_a_status_card(bot: InProcessBot) -> None:
    ts = share(bot, CLAUDE_PAGE)

    bot.standin.wait_for("chat.unfurl")
    unfurls = bot.standin.unfurl("C0LINKS", ts)
    assert unfurls is not None and list(unfurls) == [CLAUDE_PAGE]
    card = all_text(unfurls[CLAUDE_PAGE]["blocks"])
    assert "*Claude Code* is *banned* since 2026-11-20" in card
    assert "2026-11-20" in card and "none, the tool is banned" in card
    assert "Qoder (allowed)" in card


def test_only_known_tool_pages_of_this_catalogue_unfurl(bot: InProcessBot) -> None:
    ts = share(
        bot,
        "https://elsewhere.example.com/catalogue/tools/cursor",
        f"{PUBLIC_URL}/catalogue/tools/no-such-tool",
        f"{PUBLIC_URL}/catalogue/tools/cursor",
    )

    bot.standin.wait_for("chat.unfurl")
    unfurls = bot.standin.unfurl("C0LINKS", ts)
    assert unfurls is not None and list(unfurls) == [f"{PUBLIC_URL}/catalogue/tools/cursor"]


def test_links_to_no_tool_page_are_left_alone(bot: InProcessBot) -> None:
    share(bot, f"{PUBLIC_URL}/catalogue/", f"{PUBLIC_URL}/catalogue/tools/no-such-tool")

    bot.finish()
    assert bot.standin.calls_to("chat.unfurl") == []


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (CLAUDE_PAGE, "claude-code"),
        (f"{CLAUDE_PAGE}/", "claude-code"),
        (f"{PUBLIC_URL}/catalogue/tools/%E9%80%9A%E4%B9%89", "通义"),
        (f"{PUBLIC_URL}/catalogue/tools/", None),
        (f"{PUBLIC_URL}/catalogue/tools/a/b", None),
        (f"{PUBLIC_URL}/catalogue/radar", None),
        ("http://policybot.example.com/catalogue/tools/cursor", None),
    ],
)
def test_tool_slug_reads_only_tool_pages_under_the_public_url(
    url: str, expected: str | None
) -> None:
    assert tool_slug(url, PUBLIC_URL) == expected
