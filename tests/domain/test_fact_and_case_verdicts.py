"""Yes/no questions about a fact get no permission verdict; a case a policy's condition
rules out (or lets through) decides the verdict (issue 25, second round)."""

# ruff: noqa: RUF001
from __future__ import annotations

import datetime as dt

import pytest

from bot.adapters.files.vocabularyfile import shipped_vocabulary
from bot.domain.answers import Registry, answer_question, render_text
from bot.domain.policy import Status
from tests.factories import make_policy

TODAY = dt.date(2026, 12, 8)


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry(
        [
            make_policy(
                "Meetbot",
                status=Status.CONDITIONAL,
                conditions="Tell attendees when it records; turn it off for HR and board meetings.",
                reason="Summaries stay in our account and are not used for training.",
            ),
            make_policy(
                "Surfer",
                status=Status.UNDER_REVIEW,
                reason="Terms are being re-reviewed. Existing users may finish current work but "
                "should not start new projects.",
            ),
        ],
        shipped_vocabulary(),
    )


def text_of(question: str, registry: Registry) -> str:
    return render_text(answer_question(question, registry, today=TODAY), "#help")


@pytest.mark.parametrize(
    "question", ["does Meetbot train on our recordings?", "Meetbot 会用我们的数据训练吗？"]
)
def test_a_fact_question_gets_the_facts_not_a_permission_verdict(
    registry: Registry, question: str
) -> None:
    text = text_of(question, registry)
    assert not text.startswith(("Yes.", "No.", "Only if", "可以。", "不可以。", "有条件："))
    assert "not used for training" in text


def test_a_case_the_conditions_rule_out_is_a_no(registry: Registry) -> None:
    text = text_of("can I turn on Meetbot in the board meeting?", registry)
    assert text.startswith("No. The policy says: turn it off for HR and board meetings.")


def test_a_case_the_conditions_do_not_name_keeps_the_conditions_verdict(
    registry: Registry,
) -> None:
    assert text_of("can I use Meetbot in our weekly sync?", registry).startswith("Only if")


def test_a_case_the_policy_lets_through_is_a_yes(registry: Registry) -> None:
    assert text_of("I already use Surfer, can I finish my current work?", registry).startswith(
        "Yes. The policy says: Existing users may finish current work"
    )
    assert text_of("can I use Surfer?", registry).startswith("No.")
