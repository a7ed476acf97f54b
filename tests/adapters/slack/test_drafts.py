"""Drafts from Slack: `/aipolicy draft …`, the form opened with `draft edit`, `publish` and
`discard`, against the real `policybot serve` in HTTP mode and the stand-in Slack.

The draft is shared by the admins, so each test leaves it empty (published or discarded)."""

from __future__ import annotations

import json

from bot.domain.policy import Status
from tests.adapters.slack.conftest import ADMIN, GROUP_ADMIN, STAFF, Served
from tests.adapters.slack.conversation import ask, open_form, replies_in, submit
from tests.adapters.slack.harness import all_text


def test_a_staged_change_is_invisible_to_staff_until_published(http_bot: Served) -> None:
    staged = all_text(
        ask(http_bot, "draft set Gemini banned --reason Trains on prompts", user=ADMIN)
    )
    before = all_text(ask(http_bot, "can I use gemini?", user=STAFF))
    shown = all_text(ask(http_bot, "draft", user=GROUP_ADMIN))

    published = all_text(ask(http_bot, "publish", user=GROUP_ADMIN))

    assert "Staged as change 1 of the draft: Gemini: status: allowed → banned" in staged
    assert "ALLOWED" in before and "Trains on prompts" not in before
    assert "1. Gemini: status: allowed → banned" in shown and f"staged by {ADMIN} (slack)" in shown
    assert "Published v" in published
    assert http_bot.policies.resolve("Gemini").status is Status.BANNED
    assert http_bot.policies.history("Gemini")[-1].author == ADMIN
    assert "BANNED" in all_text(ask(http_bot, "can I use gemini?", user=STAFF))


def test_the_draft_form_stages_the_change_instead_of_saving_it(http_bot: Served) -> None:
    view = open_form(http_bot, "draft edit Windsurf")

    answer = submit(http_bot, view, status="banned", reason="Uploads repositories")

    assert json.loads(view["private_metadata"])["draft"] is True
    assert view["title"]["text"] == "Edit a policy (draft)" and view["submit"]["text"] == "Stage"
    assert answer is None  # an empty ack closes the form
    assert http_bot.policies.resolve("Windsurf").status is Status.UNDER_REVIEW
    note = replies_in(http_bot, f"D{ADMIN}")[-1]
    assert "Staged as change 1 of the draft: Windsurf: status: under-review → banned" in note.text
    ask(http_bot, "publish", user=ADMIN)
    assert http_bot.policies.resolve("Windsurf").reason == "Uploads repositories"


def test_the_draft_form_shows_the_tool_as_drafted(http_bot: Served) -> None:
    ask(http_bot, "draft set Tabnine conditional --conditions Open-source code only", user=ADMIN)

    view = open_form(http_bot, "draft edit Tabnine")

    inputs = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert inputs["status"]["initial_option"]["value"] == "conditional"
    assert inputs["conditions"]["initial_value"] == "Open-source code only"
    assert http_bot.policies.resolve("Tabnine").status is Status.UNDER_REVIEW
    assert "Discarded the draft (1 change)." in all_text(ask(http_bot, "discard", user=ADMIN))


def test_staff_cannot_stage_or_publish_from_slack(http_bot: Served) -> None:
    for text in ("draft set Replit banned", "publish", "discard"):
        assert "Only policy admins can do that" in all_text(ask(http_bot, text, user=STAFF))
    assert "The draft is empty" in all_text(ask(http_bot, "draft", user=ADMIN))
