"""The question frame and what answers compose from it, one behaviour class per test, in
English and Chinese. The sentences are new ones, not the corpus's."""

# ruff: noqa: RUF001

from __future__ import annotations

import datetime as dt

import pytest

from bot.adapters.files.vocabularyfile import shipped_vocabulary
from bot.domain.answers import AnswerKind, Registry, answer_question, as_json, render_text
from bot.domain.frame import Asked
from bot.domain.policy import DataClass, Scheduled, Status
from tests.factories import make_policy

TODAY = dt.date(2026, 12, 8)
CONTACT = "#ai-help"


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry(
        [
            make_policy(
                "Notely",
                vendor="Notely Inc",
                category="productivity",
                aliases=("Notely meeting notes",),
                status=Status.CONDITIONAL,
                conditions=(
                    "Sign in with the company SSO account; personal accounts are not covered."
                ),
                max_data=DataClass.INTERNAL,
                owner="#it-desk",
                effective=dt.date(2026, 11, 30),
            ),
            make_policy(
                "Blinkwrite",
                vendor="Acme",
                category="coding-assistant",
                status=Status.ALLOWED,
                max_data=DataClass.CONFIDENTIAL,
                effective=dt.date(2025, 1, 10),
            ),
            make_policy(
                "Acme Chat",
                vendor="Acme",
                aliases=("acmechat",),
                category="chat-assistant",
                status=Status.BANNED,
                effective=dt.date(2026, 10, 2),
                scheduled=None,
            ),
            make_policy(
                "Scribbla",
                vendor="Scribbla Labs",
                category="image-and-media",
                status=Status.ALLOWED,
                max_data=DataClass.PUBLIC,
                effective=dt.date(2025, 3, 1),
                scheduled=Scheduled(dt.date(2027, 2, 1), Status.BANNED),
            ),
            make_policy("Quillo", vendor="Quillo", status=Status.UNDER_REVIEW, owner="#legal"),
        ],
        shipped_vocabulary(),
    )


def text_of(registry: Registry, question: str, previous: tuple[str, ...] = ()) -> str:
    return render_text(answer_question(question, registry, TODAY, previous=previous), CONTACT)


# -- a verdict first ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "first"),
    [
        ("may our team try Quillo this sprint?", "No. Quillo is UNDER REVIEW"),
        ("is Blinkwrite fine for the new service?", "Yes. Blinkwrite is ALLOWED"),
        ("can the interns use Notely?", "Only if you meet its conditions."),
        ("Quillo 我们组能用吗", "不可以。Quillo 评估中"),
        ("Notely 可以用吗", "有条件：须满足其使用条件。"),
    ],
)
def test_a_yes_no_question_gets_the_verdict_first(
    registry: Registry, question: str, first: str
) -> None:
    assert text_of(registry, question).startswith(first)


def test_everyday_data_words_are_compared_with_the_tools_limit(registry: Registry) -> None:
    text = text_of(registry, "could I drop a supplier contract into Notely?")
    assert text.startswith("No. Notely takes internal data at most, and confidential data")


def test_everyday_data_words_within_the_limit_say_yes(registry: Registry) -> None:
    text = text_of(registry, "is Blinkwrite ok for our client's pricing sheet?")
    assert text.startswith("Yes. Confidential data")


def test_chinese_data_words_get_a_chinese_verdict(registry: Registry) -> None:
    assert text_of(registry, "合同可以放进 Notely 吗").startswith(
        "不可以。Notely 的数据级别上限是内部"
    )


def test_a_personal_account_against_a_company_account_condition_is_no(
    registry: Registry,
) -> None:
    text = text_of(registry, "can I sign into Notely with my own account?")
    assert text.startswith("No. A personal account is not covered")


def test_a_why_question_gets_no_verdict(registry: Registry) -> None:
    assert not text_of(registry, "why is Acme Chat banned?").startswith(("No.", "Yes."))


# -- time -------------------------------------------------------------------------------------


def test_what_changed_lists_the_period_newest_first(registry: Registry) -> None:
    answer = answer_question("anything new in the rules over the past month?", registry, TODAY)
    assert answer.kind is AnswerKind.CHANGES
    assert answer.tool_names == ["Notely"]
    assert "2026-11-30: Notely is allowed with conditions" in render_text(answer, CONTACT)


def test_what_changed_since_a_month_reaches_back_to_it(registry: Registry) -> None:
    answer = answer_question("which policies changed since October?", registry, TODAY)
    assert answer.tool_names == ["Notely", "Acme Chat"]


def test_what_will_change_lists_the_scheduled_changes(registry: Registry) -> None:
    text = text_of(registry, "is any tool going to be banned?")
    assert "2027-02-01: Scribbla will be banned (now allowed)" in text


def test_chinese_future_question_lists_the_scheduled_changes(registry: Registry) -> None:
    assert "2027-02-01：Scribbla 将禁止使用" in text_of(registry, "接下来会有工具被禁止吗")


def test_a_year_with_nothing_scheduled_says_so(registry: Registry) -> None:
    assert text_of(registry, "what changes are planned for 2028?") == (
        "No policy changes are scheduled for 2028."
    )


# -- vendors and families -----------------------------------------------------------------


def test_a_vendor_question_gets_a_verdict_over_all_its_tools(registry: Registry) -> None:
    text = text_of(registry, "can we use anything from Acme?")
    assert text.startswith(
        "Yes. From Acme you may use: Blinkwrite. Not usable: Acme Chat (banned)."
    )


def test_an_edition_of_a_registered_tool_has_no_policy_and_names_the_family(
    registry: Registry,
) -> None:
    answer = answer_question("is Notely Enterprise approved?", registry, TODAY)
    assert answer.kind is AnswerKind.VARIANT
    assert "no policy for “Notely Enterprise”" in render_text(answer, CONTACT)


def test_a_browser_build_of_a_registered_tool_has_no_policy_in_chinese(registry: Registry) -> None:
    text = text_of(registry, "Blinkwrite for Chrome 能用吗")
    assert text.startswith("登记册中没有关于“Blinkwrite for Chrome”的政策")


@pytest.mark.parametrize(
    "question",
    [
        "the v0.4 release notes for Blinkwrite2 are where?",
        "Quillo said the budget is fine",
        "our design doc v1.2 is out",
    ],
)
def test_version_numbers_and_colleagues_are_not_tool_mentions(
    registry: Registry, question: str
) -> None:
    answer = answer_question(question, registry, TODAY)
    assert "Quillo" not in answer.tool_names


# -- access and capabilities -----------------------------------------------------------------


def test_access_to_a_registered_tool_says_who_decides_and_how_to_ask(registry: Registry) -> None:
    answer = answer_question("how do I get Quillo approved for my team?", registry, TODAY)
    text = render_text(answer, CONTACT)
    assert answer.answered and answer.tool_names == ["Quillo"]
    assert text.startswith("Quillo is under review and #legal decides.")
    assert "request Quillo" in text


def test_access_without_a_tool_says_who_decides(registry: Registry) -> None:
    answer = answer_question("who should I talk to about getting a new AI tool?", registry, TODAY)
    assert answer.kind is AnswerKind.ACCESS and answer.answered
    assert render_text(answer, CONTACT).startswith("#ai-help decides")


def test_a_review_request_for_an_unknown_tool_names_it(registry: Registry) -> None:
    assert "request Zapfly" in text_of(registry, "I'd like a review of Zapfly please")


def test_chinese_access_question_is_answered_in_chinese(registry: Registry) -> None:
    assert text_of(registry, "Quillo 怎么申请例外").startswith("Quillo 正在评估中，由 #legal 决定")


def test_a_capability_lists_the_tools_that_do_it(registry: Registry) -> None:
    answer = answer_question("can AI take minutes of our meetings for me?", registry, TODAY)
    assert answer.kind is AnswerKind.LIST and answer.tool_names == ["Notely"]


# -- the frame --------------------------------------------------------------------------------


def test_the_frame_is_in_the_json(registry: Registry) -> None:
    answer = answer_question("can I paste customer emails into Notely?", registry, TODAY)
    frame = as_json(answer, "")["frame"]
    assert frame["asked"] == Asked.DATA.value and frame["yes_no"]
    assert frame["data"] == "confidential" and frame["tools"] == ["Notely"]


def test_a_follow_up_is_framed_as_continuing(registry: Registry) -> None:
    answer = answer_question("why?", registry, TODAY, previous=("Acme Chat",))
    assert answer.frame is not None and answer.frame.continues
