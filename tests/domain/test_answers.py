"""Answers: intents in English and Chinese, what the answer is about, and how it reads."""

# Chinese answers use full-width punctuation, which RUF001 reads as look-alikes of ASCII.
# ruff: noqa: RUF001

from __future__ import annotations

import datetime as dt

import pytest

from bot.adapters.files.vocabularyfile import shipped_vocabulary
from bot.app.admin import STATUS_LABEL
from bot.domain.answers import (
    Answer,
    Intent,
    Registry,
    answer_question,
    as_json,
    detect_intent,
    render_text,
)
from bot.domain.phrases import EN, phrases_for
from bot.domain.policy import DataClass, Status
from tests.domain.factories import generated_policies, make_policy, sample_policies

TODAY = dt.date(2026, 6, 1)
CONTACT = "#ai-help"


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry(sample_policies(), shipped_vocabulary())


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


def test_status_line_states_status_and_effective_date_after_the_verdict(
    registry: Registry,
) -> None:
    assert text_for(registry, "chatgpt?").startswith("No. ChatGPT is BANNED since 2025-03-01.")


def test_future_effective_date_says_will_be(registry: Registry) -> None:
    text = text_for(registry, "midjourney?")
    assert "Midjourney will be BANNED from 2030-01-15" in text
    assert "is BANNED" not in text


def test_the_same_date_reads_as_since_once_it_has_passed() -> None:
    registry = Registry(
        [make_policy("Zorp", Status.BANNED, effective=dt.date(2026, 6, 1))], shipped_vocabulary()
    )
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
        (
            "customer data in chatgpt enterprise?",
            "Yes. Confidential data (customer data) is within its limit (confidential).",
        ),
        ("chatgpt?", "No. ChatGPT is BANNED since 2025-03-01."),
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
    assert text.startswith(
        "No. GitHub Copilot takes public data at most, and confidential data is beyond it."
    )


def test_data_question_within_the_limit_says_so(registry: Registry) -> None:
    text = text_for(registry, "can tabnine see confidential code?")
    assert text.startswith("Yes. Confidential data is within its limit (restricted).")


def test_ambiguous_word_answers_each_candidate_and_says_so(registry: Registry) -> None:
    answer = ask(registry, "can I put customer data into copilot?")
    text = render_text(answer, CONTACT)
    assert all(tool.ambiguous for tool in answer.tools)
    assert text.startswith("“copilot” matches several tools")
    for name, limit in [
        ("GitHub Copilot", "public"),
        ("GitHub Copilot Enterprise", "confidential"),
    ]:
        assert f"{name} takes {limit} data at most" in text or f"its limit ({limit})" in text
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
    registry = Registry([*sample_policies(), *generated_policies(10_000)], shipped_vocabulary())
    answer = answer_question("why is chatgpt banned?", registry, today=TODAY)
    assert [t.policy.name for t in answer.tools] == ["ChatGPT"]
    assert render_text(answer, CONTACT).startswith("Why ChatGPT is banned")


def test_banned_tool_without_data_limit_takes_no_data() -> None:
    registry = Registry([make_policy("Zorp", Status.BANNED, max_data=None)], shipped_vocabulary())
    assert "Data: none, the tool is banned." in text_for(registry, "zorp?")


def test_allowed_tool_data_limit_is_shown() -> None:
    registry = Registry([make_policy("Zorp", max_data=DataClass.RESTRICTED)], shipped_vocabulary())
    assert "Data up to: restricted." in text_for(registry, "zorp?")


# -- answers in the asker's language ----------------------------------------------------


@pytest.mark.parametrize(
    ("question", "language"),
    [
        ("can I use chatgpt?", "en"),
        ("ChatGPT为什么被禁止", "zh"),
        ("我可以用 Photoshop 吗", "zh"),  # no tool matched: still asked in Chinese
        ("can I use 豆包?", "en"),  # only the tool's Chinese alias is Chinese
        ("why is 文心一言 conditional?", "en"),
        ("<@U123> 豆包？", "en"),  # markup and full-width punctuation are not words
        ("豆包能用吗？", "zh"),
        ("is Bolt ok? 谢谢", "zh"),  # mixed: Chinese words beside the tool names
    ],
)
def test_language_is_the_questions_besides_tool_names(
    registry: Registry, question: str, language: str
) -> None:
    assert ask(registry, question).language == language


def test_answer_built_by_hand_is_english() -> None:
    answer = Answer(question="x", intent=Intent.STATUS, tools=(), suggestions=())
    assert answer.language == "en"


def test_chinese_status_answer_keeps_policy_texts_as_written(registry: Registry) -> None:
    assert text_for(registry, "chatgpt能用吗？") == (
        "不可以。ChatGPT 自 2025-03-01 起禁止使用。\n"
        "数据：无（该工具已禁止使用）。\n"
        "原因：Prompts may be used for training.\n"
        "替代方案：ChatGPT Enterprise（允许使用）、Doubao（允许使用）、"
        "Grammar Wizard（不在登记册中）。\n"
        "负责人：#ai-office\n"
        "详情：https://intranet.example/ai/chatgpt"
    )


def test_chinese_future_effective_date_says_will_be(registry: Registry) -> None:
    text = text_for(registry, "midjourney可以用吗")
    assert text.startswith("Midjourney 将自 2030-01-15 起禁止使用。")


def test_chinese_conditional_status_has_its_gloss_and_conditions(registry: Registry) -> None:
    assert text_for(registry, "Continue 可以用吗") == (
        "有条件：须满足其使用条件。\n"
        "Continue 有条件允许（须满足下列条件）。\n"
        "使用条件：Local models only.\n"
        "数据级别上限：内部。"
    )


def test_chinese_under_review_without_date(registry: Registry) -> None:
    assert text_for(registry, "Lovable 能用吗") == (
        "不可以。Lovable 评估中（尚未批准，有结论之前请勿用于工作）。"
    )


@pytest.mark.parametrize(
    ("question", "first_line"),
    [
        ("ChatGPT为什么被禁止", "ChatGPT 禁止使用的原因：Prompts may be used for training."),
        ("chatgpt 用什么替代", "ChatGPT 的替代方案：ChatGPT Enterprise（允许使用）、"),
        ("chatgpt 什么时候开始禁止", "自 2025-03-01 起，ChatGPT 禁止使用。"),
        ("chatgpt 的规定找谁", "ChatGPT 的负责人：#ai-office"),
        ("tabnine 能处理机密数据吗", "可以。机密数据在其上限（受限）之内。"),
        (
            "GitHub Copilot 可以处理机密代码吗",
            "不可以。GitHub Copilot 的数据级别上限是公开，机密数据超出了上限。",
        ),
    ],
)
def test_chinese_intent_puts_its_part_first(
    registry: Registry, question: str, first_line: str
) -> None:
    assert text_for(registry, question).split("\n")[0].startswith(first_line)


def test_chinese_missing_part_says_whom_to_contact(registry: Registry) -> None:
    assert text_for(registry, "豆包找谁").startswith("Doubao 未记录负责人；请联系 #ai-help。")


def test_chinese_no_match_names_the_topic_and_the_contact(registry: Registry) -> None:
    assert text_for(registry, "我可以用 Photoshop 吗") == (
        "登记册中没有关于“Photoshop”的政策。\n请联系 #ai-help。"
    )


def test_chinese_no_match_offers_did_you_mean(registry: Registry) -> None:
    assert "你是不是想问 Perplexity？" in text_for(registry, "perplex 可以用吗？")


def test_chinese_did_you_mean_lists_several_names() -> None:
    answer = Answer(
        question="claud 能用吗",
        intent=Intent.STATUS,
        tools=(),
        suggestions=("Claude Code", "Claude", "Clova"),
        topic="claud",
        language="zh",
    )
    assert "你是不是想问 Claude Code、Claude 或 Clova？" in render_text(answer, CONTACT)


def test_chinese_ambiguous_word_answers_each_candidate_and_says_so(registry: Registry) -> None:
    text = text_for(registry, "copilot 能处理客户数据吗")
    assert text.startswith(
        "“copilot”对应多个工具：GitHub Copilot、GitHub Copilot Enterprise、Microsoft Copilot。"
        "以下分别是各自的政策："
    )
    assert "不可以。GitHub Copilot 的数据级别上限是公开" in text
    assert "Microsoft Copilot 未记录数据级别上限；请先联系 #ai-help。" in text


def test_as_json_carries_the_language(registry: Registry) -> None:
    assert as_json(ask(registry, "豆包能用吗"), "rendered")["language"] == "zh"


def test_english_phrasebook_uses_the_admin_status_labels() -> None:
    assert dict(EN.status_labels) == STATUS_LABEL


def test_unknown_language_has_no_phrasebook() -> None:
    with pytest.raises(ValueError, match="use en or zh"):
        phrases_for("fr")
