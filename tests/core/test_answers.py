"""Answers: intents in English and Chinese, what the answer is about, and how it reads."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.core.answers import (
    Answer,
    Intent,
    Registry,
    answer_question,
    as_json,
    detect_intent,
    render_text,
)
from bot.core.policy import DataClass, Status
from tests.core.factories import generated_policies, make_policy, sample_policies

TODAY = dt.date(2026, 6, 1)
CONTACT = "#ai-help"


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry(sample_policies())


def ask(registry: Registry, question: str) -> Answer:
    return answer_question(question, registry, today=TODAY)


def text_for(registry: Registry, question: str) -> str:
    return render_text(ask(registry, question), CONTACT)


@pytest.mark.parametrize(
    ("question", "intent"),
    [
        ("can I use tabnine?", Intent.STATUS),
        ("why is Midjourney banned?", Intent.WHY),
        ("为什么不能用豆包", Intent.WHY),
        ("what can I use instead of bolt", Intent.INSTEAD),
        ("any alternative to ChatGPT?", Intent.INSTEAD),
        ("不能用ChatGPT的话用什么", Intent.INSTEAD),
        ("since when is ChatGPT banned?", Intent.SINCE),
        ("when does the Midjourney ban start?", Intent.SINCE),
        ("文心一言什么时候可以用", Intent.SINCE),
        ("who do I ask about Lovable?", Intent.WHO),
        ("豆包找谁审批", Intent.WHO),
        ("can I put customer data into Copilot?", Intent.DATA),
        ("confidential docs in tabnine ok?", Intent.DATA),
        ("豆包能处理客户数据吗", Intent.DATA),
    ],
)
def test_detect_intent(question: str, intent: Intent) -> None:
    assert detect_intent(question) is intent


def test_registry_gets_policies_by_name_in_any_case(registry: Registry) -> None:
    policy = registry.get("chatgpt enterprise")
    assert policy is not None
    assert policy.name == "ChatGPT Enterprise"
    assert registry.get("Photoshop") is None


def test_registry_knows_its_size_and_iterates_policies(registry: Registry) -> None:
    assert len(registry) == len(sample_policies())
    assert {p.name for p in registry} >= {"Doubao", "Bolt"}


def test_answer_is_about_exactly_the_tools_asked(registry: Registry) -> None:
    answer = ask(registry, "Bolt or Doubao?")
    assert [t.policy.name for t in answer.tools] == ["Bolt", "Doubao"]
    assert answer.answered


def test_alternatives_are_resolved_with_their_own_status(registry: Registry) -> None:
    (chatgpt,) = ask(registry, "chatgpt?").tools
    assert [(a.name, a.status) for a in chatgpt.alternatives] == [
        ("ChatGPT Enterprise", Status.ALLOWED),
        ("Doubao", Status.ALLOWED),
    ]
    assert chatgpt.unknown_alternatives == ("Grammar Wizard",)


def test_status_line_states_status_and_effective_date(registry: Registry) -> None:
    assert text_for(registry, "chatgpt?").startswith("ChatGPT is BANNED since 2025-03-01.")


def test_future_effective_date_says_will_be(registry: Registry) -> None:
    text = text_for(registry, "midjourney?")
    assert "Midjourney will be BANNED from 2030-01-15" in text
    assert "is BANNED" not in text


def test_the_same_date_reads_as_since_once_it_has_passed() -> None:
    registry = Registry([make_policy("Zorp", Status.BANNED, effective=dt.date(2026, 6, 1))])
    answer = answer_question("zorp?", registry, today=dt.date(2026, 6, 2))
    assert "Zorp is BANNED since 2026-06-01" in render_text(answer, CONTACT)


def test_rendered_answer_has_reason_alternatives_owner_and_link(registry: Registry) -> None:
    text = text_for(registry, "can I use chatgpt?")
    assert "Why: Prompts may be used for training." in text
    assert "ChatGPT Enterprise (allowed), Doubao (allowed)" in text
    assert "Grammar Wizard (not in the registry)" in text
    assert "Owner: #ai-office" in text
    assert "https://intranet.example/ai/chatgpt" in text


def test_conditions_and_data_limit_are_stated(registry: Registry) -> None:
    text = text_for(registry, "is Continue allowed?")
    assert "Continue is CONDITIONAL" in text
    assert "Conditions: Local models only." in text
    assert "Data up to: internal." in text


@pytest.mark.parametrize(
    ("question", "first_line"),
    [
        ("why is chatgpt banned?", "Why ChatGPT is banned: Prompts may be used for training."),
        ("what to use instead of chatgpt?", "Instead of ChatGPT, use: ChatGPT Enterprise"),
        ("since when is chatgpt banned?", "Since 2025-03-01, ChatGPT is BANNED."),
        ("who owns the chatgpt rule?", "Owner of ChatGPT: #ai-office"),
        ("customer data in chatgpt enterprise?", "ChatGPT Enterprise: data up to: confidential."),
        ("chatgpt?", "ChatGPT is BANNED since 2025-03-01."),
    ],
)
def test_intent_puts_its_part_first(registry: Registry, question: str, first_line: str) -> None:
    assert text_for(registry, question).startswith(first_line)


def test_a_part_led_with_is_not_repeated(registry: Registry) -> None:
    assert text_for(registry, "why is chatgpt banned?").count("Prompts may be used") == 1


def test_missing_follow_up_part_says_whom_to_ask(registry: Registry) -> None:
    assert text_for(registry, "who owns doubao?").startswith(
        "No owner is recorded for Doubao; ask #ai-help."
    )


def test_data_question_compares_with_the_tools_limit(registry: Registry) -> None:
    text = text_for(registry, "is GitHub Copilot ok for confidential code?")
    assert "data up to: public" in text
    assert "Not confidential data" in text


def test_data_question_within_the_limit_says_so(registry: Registry) -> None:
    text = text_for(registry, "can tabnine see confidential code?")
    assert "Confidential data is within that limit." in text


def test_ambiguous_word_answers_each_candidate_and_says_so(registry: Registry) -> None:
    answer = ask(registry, "can I put customer data into copilot?")
    text = render_text(answer, CONTACT)
    assert all(tool.ambiguous for tool in answer.tools)
    assert text.startswith("“copilot” matches several tools")
    for name, limit in [
        ("GitHub Copilot", "public"),
        ("GitHub Copilot Enterprise", "confidential"),
    ]:
        assert f"{name}: data up to: {limit}" in text
    assert "No data limit is recorded for Microsoft Copilot" in text


def test_no_match_names_the_topic_and_the_contact(registry: Registry) -> None:
    answer = ask(registry, "can I use Photoshop?")
    assert not answer.answered
    assert render_text(answer, CONTACT) == (
        "There is no policy for “Photoshop” in the registry.\nAsk #ai-help."
    )


def test_no_match_offers_did_you_mean(registry: Registry) -> None:
    text = text_for(registry, "is perplex ok?")
    assert "There is no policy for “perplex” in the registry." in text
    assert "Did you mean Perplexity?" in text


def test_as_json_carries_matches_and_text(registry: Registry) -> None:
    answer = ask(registry, "why is bolt banned?")
    data = as_json(answer, "rendered")
    assert data["question"] == "why is bolt banned?"
    assert data["intent"] == "why"
    assert data["matches"] == [
        {"tool": "Bolt", "status": "banned", "score": 100.0, "ambiguous": False}
    ]
    assert data["suggestions"] == []
    assert data["text"] == "rendered"


def test_large_registry_answers_about_the_right_tool() -> None:
    registry = Registry([*sample_policies(), *generated_policies(10_000)])
    answer = answer_question("why is chatgpt banned?", registry, today=TODAY)
    assert [t.policy.name for t in answer.tools] == ["ChatGPT"]
    assert render_text(answer, CONTACT).startswith("Why ChatGPT is banned")


def test_banned_tool_without_data_limit_takes_no_data() -> None:
    registry = Registry([make_policy("Zorp", Status.BANNED, max_data=None)])
    assert "Data: none, the tool is banned." in text_for(registry, "zorp?")


def test_allowed_tool_data_limit_is_shown() -> None:
    registry = Registry([make_policy("Zorp", max_data=DataClass.RESTRICTED)])
    assert "Data up to: restricted." in text_for(registry, "zorp?")
