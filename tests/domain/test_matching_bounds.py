"""Matching on hostile input: very long questions are answered like short ones, never crash.

No timings here (bench/matching.py measures them); these check what such input is answered.
"""

from __future__ import annotations

import datetime as dt

import pytest

from bot.adapters.files.vocabularyfile import shipped_vocabulary
from bot.domain.answers import Registry, answer_question, render_text
from bot.domain.matching import MAX_READ_CHARS, Matcher, readable_part
from tests.domain.factories import sample_policies

TODAY = dt.date(2026, 6, 1)


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry(sample_policies(), shipped_vocabulary())


def repeat(piece: str, size: int = 40_000) -> str:
    return (piece * (size // len(piece) + 1))[:size]


def tools(registry: Registry, question: str) -> list[str]:
    return [tool.policy.name for tool in answer_question(question, registry, TODAY).tools]


def test_a_question_repeated_to_40000_characters_is_answered_once(registry: Registry) -> None:
    assert tools(registry, repeat("can I use tabnine? ")) == ["Tabnine"]


def test_a_name_repeated_with_commas_answers_only_that_tool(registry: Registry) -> None:
    assert tools(registry, repeat("Midjourney, ")) == ["Midjourney"]


def test_a_hyphen_chain_of_a_name_answers_that_tool(registry: Registry) -> None:
    assert tools(registry, repeat("replit-agent-")) == ["Replit Agent"]


def test_a_40000_letter_word_is_no_tool_and_gets_a_short_no_policy_reply(
    registry: Registry,
) -> None:
    answer = answer_question("x" * 40_000, registry, TODAY)
    assert not answer.answered
    assert len(render_text(answer, "#ai")) < 1_000


def test_a_long_word_made_of_a_name_is_not_that_name(registry: Registry) -> None:
    assert tools(registry, repeat("tabnine")) == []


def test_repeated_typos_are_still_read_as_the_name(registry: Registry) -> None:
    assert tools(registry, repeat("is Midjuorney ok? ")) == ["Midjourney"]


def test_repeated_chinese_names_are_both_found(registry: Registry) -> None:
    assert tools(registry, repeat("豆包和文心一言")) == ["Doubao", "ERNIE Bot"]


def test_a_question_before_a_long_paste_is_answered_and_the_cut_is_said(
    registry: Registry,
) -> None:
    answer = answer_question("is tabnine allowed? " + repeat("lorem ipsum "), registry, TODAY)
    assert [t.policy.name for t in answer.tools] == ["Tabnine"]
    assert answer.cut
    assert "first" in render_text(answer, "#ai")


def test_only_the_start_of_a_long_message_is_read() -> None:
    text, cut = readable_part("word " * 20_000)
    assert cut and len(text) <= MAX_READ_CHARS
    assert readable_part("can I use tabnine?") == ("can I use tabnine?", False)


def test_a_registry_with_a_very_long_name_does_not_slow_typo_search_into_a_crash() -> None:
    matcher = Matcher([*sample_policies()])
    assert matcher.find("a" * 40_000 + " tabnine ok?").mentions == ()


def test_a_long_list_of_list_words_is_answered_as_a_list(registry: Registry) -> None:
    answer = answer_question(repeat("which tools are banned and "), registry, TODAY)
    assert answer.kind.value == "list"
    assert {p.status.value for p in answer.listed} == {"banned"}


def test_verdict_words_repeated_before_one_more_are_no_tool(registry: Registry) -> None:
    assert tools(registry, "allowed " * 5_000 + "banned") == []
