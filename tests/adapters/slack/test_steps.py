"""Workflow Builder custom steps: signed function_executed events, completions at the stand-in."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bot.adapters.db.store import Store
from bot.adapters.slack.steps import CHECK_POLICY, REQUEST_REVIEW
from tests.adapters.slack.harness import wait_until
from tests.adapters.slack.inprocess import InProcessBot, in_process_bot
from tests.factories import seed_registry
from tests.standin import StandinSlack, payloads

ADMIN = "U0ADMIN"
PUBLIC_URL = "https://policybot.example.com"


@pytest.fixture
def standin() -> Iterator[StandinSlack]:
    with StandinSlack() as s:
        yield s


@pytest.fixture
def bot(store: Store, standin: StandinSlack) -> InProcessBot:
    return in_process_bot(store, standin, seed_registry(), public_url=PUBLIC_URL, admins=[ADMIN])


def run_step(bot: InProcessBot, callback_id: str, inputs: dict[str, Any]) -> tuple[str, Any]:
    """Run one custom step as a workflow would; how it ended ("success"/"error", detail)."""
    payload = payloads.function_executed(callback_id, inputs)
    execution = payload["event"]["function_execution_id"]
    assert bot.event(payload).status == 200
    result = wait_until(lambda: bot.standin.function_result(execution), what="the step's end")
    assert result is not None
    return result


def test_checking_a_tool_outputs_its_status_date_data_alternatives_and_page(
    bot: InProcessBot,
) -> None:
    ended, outputs = run_step(bot, CHECK_POLICY, {"tool": "Claude Code"})

    assert ended == "success"
    assert outputs == {
        "tool": "Claude Code",
        "status": "banned",
        "effective_date": "2026-11-20",
        "data_limit": "none",
        "alternatives": "Qoder",
        "catalogue_link": f"{PUBLIC_URL}/catalogue/tools/claude-code",
        "has_exception": False,
    }


def test_the_step_calls_slack_with_the_workflow_token(bot: InProcessBot) -> None:
    run_step(bot, CHECK_POLICY, {"tool": "is copilot ok?"})

    [call] = bot.standin.calls_to("functions.completeSuccess")
    assert call.headers["authorization"] == "Bearer xwfp-standin-workflow-token"
    assert call.args["outputs"]["status"] == "conditional"


def test_a_tool_with_no_policy_completes_saying_so(bot: InProcessBot) -> None:
    ended, outputs = run_step(bot, CHECK_POLICY, {"tool": "Kiro"})

    assert ended == "success"
    assert outputs["status"] == "no-policy" and outputs["catalogue_link"] == ""


def test_a_check_without_a_tool_fails_with_what_to_fill_in(bot: InProcessBot) -> None:
    ended, message = run_step(bot, CHECK_POLICY, {"tool": "  "})

    assert ended == "error"
    assert "put a tool name or a question in the step's Tool field" in message


def test_the_check_says_whether_the_person_holds_an_exception(bot: InProcessBot) -> None:
    service = bot.runtime.service
    ask = "exception Claude Code --purpose the migration --data internal --days 20 --why CLI"
    service.handle(ask, user="U0ALICE", source="console")
    service.handle("approve E1", user=ADMIN, source="console")

    _, alice = run_step(bot, CHECK_POLICY, {"tool": "Claude Code", "person": "U0ALICE"})
    _, bob = run_step(bot, CHECK_POLICY, {"tool": "Claude Code", "person": "U0BOB"})

    assert alice["has_exception"] is True and bob["has_exception"] is False


def test_requesting_a_review_outputs_the_request_id(bot: InProcessBot) -> None:
    inputs = {"tool": "Kiro", "reason": "spec-driven work", "requester": "U0ALICE"}

    ended, outputs = run_step(bot, REQUEST_REVIEW, inputs)

    assert ended == "success"
    assert outputs["request_id"].startswith("R") and outputs["outcome"] == "new"
    [request] = bot.runtime.desk.requests.listing()
    assert request.label == outputs["request_id"] and request.askers[0].why == "spec-driven work"


def test_a_review_of_a_tool_with_a_policy_fails_with_the_reason(bot: InProcessBot) -> None:
    inputs = {"tool": "Qoder", "reason": "why not", "requester": "U0ALICE"}

    ended, message = run_step(bot, REQUEST_REVIEW, inputs)

    assert ended == "error" and message.startswith("The review was not requested: ")
    assert "Qoder" in message


def test_a_review_without_a_requester_fails(bot: InProcessBot) -> None:
    ended, message = run_step(bot, REQUEST_REVIEW, {"tool": "Kiro"})

    assert ended == "error" and "a tool and a requester" in message
