"""Broad questions: lists, unregistered products of a family, follow-ups, small talk.

Answers are checked through `answer_question` (no I/O) and, for what needs the database
(follow-up context, the question log), through `PolicyService` on the test database.
"""

# ruff: noqa: RUF001

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from bot.adapters.db.conversations import conversation_key
from bot.adapters.db.store import Store
from bot.adapters.files.vocabularyfile import shipped_vocabulary
from bot.adapters.slack.blocks import MAX_LISTED_PER_GROUP, answer_message
from bot.app.service import PolicyService
from bot.domain.answers import AnswerKind, Intent, Registry, answer_question, as_json, render_text
from bot.domain.phrases import EN, ZH
from bot.domain.policy import DataClass, Status
from tests.conftest import FakeClock
from tests.domain.factories import generated_policies, make_policy, sample_policies
from tests.factories import seed_registry
from tests.wiring import runtime_on, seed

TODAY = dt.date(2026, 6, 1)
ADMINS = frozenset({"UADMIN"})


@pytest.fixture(scope="module")
def registry() -> Registry:
    categories = {
        "Continue": "coding-assistant",
        "GitHub Copilot": "coding-assistant",
        "GitHub Copilot Enterprise": "coding-assistant",
        "Tabnine": "coding-assistant",
        "Replit Agent": "coding-assistant",
        "Midjourney": "image-and-media",
        "ChatGPT": "chat-assistant",
        "ChatGPT Enterprise": "chat-assistant",
        "Doubao": "chat-assistant",
        "ERNIE Bot": "chat-assistant",
    }
    return Registry(
        [
            make_policy(p.name, p.status, **{**_fields(p), "category": categories.get(p.name)})
            for p in sample_policies()
        ],
        shipped_vocabulary(),
    )


def _fields(policy: object) -> dict[str, object]:
    names = ("vendor", "aliases", "reason", "conditions", "max_data", "alternatives")
    names += ("effective", "owner", "link")
    return {name: getattr(policy, name) for name in names}


def ask(registry: Registry, question: str, previous: tuple[str, ...] = ()) -> list[str]:
    return answer_question(question, registry, TODAY, previous=previous).tool_names


# -- lists ---------------------------------------------------------------------------------------


def test_a_list_by_status_groups_usable_first(registry: Registry) -> None:
    answer = answer_question("what AI tools can I use?", registry, TODAY)
    assert answer.kind is AnswerKind.LIST and answer.intent is Intent.LIST
    statuses = [p.status for p in answer.listed]
    assert set(statuses) == {Status.ALLOWED, Status.CONDITIONAL}
    assert statuses == sorted(statuses, key=[Status.ALLOWED, Status.CONDITIONAL].index)
    text = render_text(answer, "#ai")
    assert text.index("Allowed (") < text.index("Allowed with conditions (")


def test_not_allowed_lists_banned_and_under_review(registry: Registry) -> None:
    answer = answer_question("what's not allowed?", registry, TODAY)
    assert {p.status for p in answer.listed} == {Status.BANNED, Status.UNDER_REVIEW}


def test_banned_in_chinese_lists_the_banned_tools_in_chinese(registry: Registry) -> None:
    answer = answer_question("有哪些工具被禁止了？", registry, TODAY)
    assert answer.language == "zh"
    assert {p.status for p in answer.listed} == {Status.BANNED}
    assert ZH.status_labels[Status.BANNED] in render_text(answer, "#ai")


@pytest.mark.parametrize(
    "question",
    ["which coding tools are approved?", "approved coding assistants", "有哪些编程工具可以用？"],
)
def test_category_and_status_combine(registry: Registry, question: str) -> None:
    assert set(ask(registry, question)) == {
        "Continue",
        "GitHub Copilot",
        "GitHub Copilot Enterprise",
        "Tabnine",
    }


def test_a_vendor_list_holds_that_vendors_usable_tools(registry: Registry) -> None:
    assert ask(registry, "is anything from OpenAI ok?") == ["ChatGPT Enterprise"]


def test_a_data_class_list_holds_tools_whose_limit_reaches_it(registry: Registry) -> None:
    names = ask(registry, "which tools are approved for confidential data?")
    assert names == ["ChatGPT Enterprise", "GitHub Copilot Enterprise", "Tabnine"]


def test_a_list_that_matches_nothing_says_so(registry: Registry) -> None:
    answer = answer_question("which image generators are allowed?", registry, TODAY)
    assert answer.kind is AnswerKind.LIST and answer.listed == ()
    assert render_text(answer, "#ai").startswith("No tools match")


def test_ask_json_of_a_list_has_the_list_intent_and_exactly_the_listed_tools(
    registry: Registry,
) -> None:
    answer = answer_question("what is banned?", registry, TODAY)
    data = as_json(answer, render_text(answer, "#ai"))
    assert data["intent"] == "list"
    assert [m["tool"] for m in data["matches"]] == [p.name for p in answer.listed]


def test_a_long_group_is_cut_in_slack_with_a_count() -> None:
    big = Registry(generated_policies(200), shipped_vocabulary())
    answer = answer_question("what is banned?", big, TODAY)
    message = answer_message(answer, "#ai")
    banned = [b for b in message.blocks if ":no_entry:" in b.get("text", {}).get("text", "")]
    hidden = len(answer.listed) - MAX_LISTED_PER_GROUP
    assert len(banned) == 1 and f"…and {hidden} more" in banned[0]["text"]["text"]


def test_a_single_tool_question_is_not_a_list(registry: Registry) -> None:
    answer = answer_question("is tabnine approved for internal code?", registry, TODAY)
    assert answer.kind is AnswerKind.TOOLS and answer.tool_names == ["Tabnine"]


# -- products of a registered family -----------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "product"),
    [
        ("does the ban cover the Midjourney API?", "Midjourney API"),
        ("can I use the ChatGPT Chrome extension?", "ChatGPT Chrome extension"),
        ("is Copilot Studio allowed?", "Copilot Studio"),
        ("Perplexity Sonar API ok?", "Perplexity Sonar API"),
    ],
)
def test_an_unregistered_product_of_a_family_has_no_policy_and_suggests_the_family(
    registry: Registry, question: str, product: str
) -> None:
    answer = answer_question(question, registry, TODAY)
    assert answer.kind is AnswerKind.VARIANT and answer.tools == ()
    assert answer.variants[0].product == product
    assert answer.suggestions
    assert f"There is no policy for “{product}”" in render_text(answer, "#ai")


def test_copilot_studio_suggests_every_registered_copilot(registry: Registry) -> None:
    answer = answer_question("is Copilot Studio allowed?", registry, TODAY)
    assert set(answer.suggestions) == {
        "GitHub Copilot",
        "GitHub Copilot Enterprise",
        "Microsoft Copilot",
    }


def test_the_tool_itself_is_still_answered(registry: Registry) -> None:
    assert ask(registry, "is Midjourney ok for the blog?") == ["Midjourney"]
    assert ask(registry, "the continue extension ok for vscode?") == ["Continue"]


# -- follow-ups ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "intent"),
    [
        ("why?", Intent.WHY),
        ("what instead?", Intent.INSTEAD),
        ("and since when?", Intent.SINCE),
        ("can I put customer data in it?", Intent.DATA),
        ("为什么？", Intent.WHY),
        ("那用什么？", Intent.INSTEAD),
    ],
)
def test_a_follow_up_is_about_the_previous_answers_tools(
    registry: Registry, question: str, intent: Intent
) -> None:
    answer = answer_question(question, registry, TODAY, previous=("ChatGPT",))
    assert answer.follow_up and answer.tool_names == ["ChatGPT"]
    assert answer.intent is intent


def test_a_follow_up_without_a_previous_answer_gets_help_not_no_policy(
    registry: Registry,
) -> None:
    answer = answer_question("why?", registry, TODAY)
    assert answer.kind is AnswerKind.SMALL_TALK


def test_a_new_tool_question_after_an_answer_is_about_the_new_tool(registry: Registry) -> None:
    assert ask(registry, "and tabnine?", previous=("ChatGPT",)) == ["Tabnine"]
    assert ask(registry, "can I use Figma?", previous=("ChatGPT",)) == []
    assert ask(registry, "and Figma?", previous=("ChatGPT",)) == []
    assert ask(registry, "what about Photoshop?", previous=("ChatGPT",)) == []


# -- small talk ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "message", ["", "hi", "thanks!", "good morning", ":tada:", "👍", "谢谢！", "?"]
)
def test_small_talk_gets_a_short_help_reply(registry: Registry, message: str) -> None:
    answer = answer_question(message, registry, TODAY)
    assert answer.kind is AnswerKind.SMALL_TALK
    assert render_text(answer, "#ai") in (EN.small_talk, ZH.small_talk)


# -- through the service: context in the database, the question log ----------------------------


@pytest.fixture
def service(store: Store, clock: FakeClock) -> PolicyService:
    runtime = runtime_on(store, admins=sorted(ADMINS))
    seed(runtime, seed_registry())
    return runtime.service


def test_context_is_per_conversation(service: PolicyService) -> None:
    service.ask("is claude code allowed?", conversation=conversation_key("dm", "D1"))
    service.ask("is qoder allowed?", conversation=conversation_key("dm", "D2"))
    why = service.ask("why?", conversation=conversation_key("dm", "D1"))
    assert why.tool_names == ["Claude Code"]


def test_context_is_seen_by_another_replica(
    service: PolicyService, engine: sa.Engine, clock: FakeClock
) -> None:
    service.ask("is claude code allowed?", conversation="thread:C1:1.0")
    other = runtime_on(Store(engine, clock=clock)).service
    assert other.ask("what instead?", conversation="thread:C1:1.0").tool_names == ["Claude Code"]


def test_context_expires(service: PolicyService, clock: FakeClock) -> None:
    service.ask("is claude code allowed?", conversation="dm:D9")
    clock.advance(minutes=31)
    assert service.ask("why?", conversation="dm:D9").kind is AnswerKind.SMALL_TALK


def test_small_talk_and_bare_follow_ups_are_not_logged(
    service: PolicyService, store: Store
) -> None:
    for message in ("hi", "thanks!", "🙏", "why?"):
        service.ask(message)
    service.ask("is Notion allowed?")
    assert [q.question for q in service.questions.unanswered()] == ["is Notion allowed?"]


def test_a_variant_is_logged_as_unanswered(service: PolicyService, store: Store) -> None:
    service.ask("can I use the Claude API?")
    assert [q.question for q in service.questions.unanswered()] == ["can I use the Claude API?"]


def test_counts_read_asked_once_and_asked_n_times() -> None:
    assert EN.asked(1) == "asked once" and EN.asked(3) == "asked 3 times"
    assert ZH.asked(2) == "问过 2 次"


def test_the_unanswered_list_says_asked_once(service: PolicyService, store: Store) -> None:
    service.ask("is Notion allowed?")
    reply = service.handle("unanswered", user="UADMIN", source="console")
    assert "• Notion: asked once, last on " in reply.text


def test_data_limit_follow_up_reads_the_previous_tools_limit(registry: Registry) -> None:
    answer = answer_question("confidential data in it?", registry, TODAY, previous=("Tabnine",))
    assert answer.asked_data is DataClass.CONFIDENTIAL
    assert "within its limit (restricted)" in render_text(answer, "#ai")


def test_list_in_words_is_a_list_question_not_a_bad_command(service: PolicyService) -> None:
    reply = service.handle("list all coding tools", user="U1", source="console")
    assert reply.kind == "answer" and reply.answer is not None
    assert reply.answer.kind is AnswerKind.LIST
    assert set(reply.answer.tool_names) == {"Qoder", "Claude Code"}


def test_a_vendors_product_without_a_policy_suggests_the_vendors_tools(
    registry: Registry,
) -> None:
    answer = answer_question("is the OpenAI API allowed?", registry, TODAY)
    assert answer.kind is AnswerKind.VARIANT and answer.variants[0].product == "OpenAI API"
    assert set(answer.suggestions) == {"ChatGPT", "ChatGPT Enterprise"}


def test_a_registrys_own_category_words_make_a_list() -> None:
    registry = Registry(
        [
            make_policy("DeepL", category="translation", vendor="DeepL SE"),
            make_policy("Tabnine", category="coding-assistant"),
        ],
        shipped_vocabulary(),
    )
    assert ask(registry, "which translators are approved?") == ["DeepL"]
