"""Matching questions to tools: names, aliases, typos, Chinese, Slack markup, everyday words."""

from __future__ import annotations

import pytest

from bot.domain.matching import Matcher, strip_markup
from tests.domain.factories import generated_policies, make_policy, sample_policies

COPILOTS = ["GitHub Copilot", "GitHub Copilot Enterprise", "Microsoft Copilot"]


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(sample_policies())


def tools(matcher: Matcher, text: str) -> list[str]:
    return [mention.tool for mention in matcher.find(text).mentions]


@pytest.mark.parametrize(
    "question",
    ["is Midjourney allowed?", "MIDJOURNEY", "midjourney ok", "Mid-Journey?", "mid journey pls"],
)
def test_name_matches_in_any_case_with_hyphens_and_spaces(matcher: Matcher, question: str) -> None:
    assert tools(matcher, question) == ["Midjourney"]


def test_joined_words_match_a_two_word_name(matcher: Matcher) -> None:
    assert tools(matcher, "ReplitAgent for a prototype?") == ["Replit Agent"]


def test_alias_matches_the_tool_it_belongs_to(matcher: Matcher) -> None:
    mention = matcher.find("bolt.new for a landing page?").mentions[0]
    assert (mention.tool, mention.via) == ("Bolt", "bolt.new")


def test_exact_match_scores_100(matcher: Matcher) -> None:
    assert matcher.find("Tabnine ok?").mentions[0].score == 100.0


@pytest.mark.parametrize(
    ("question", "tool"),
    [
        ("midjourny for slides", "Midjourney"),
        ("tabnien?", "Tabnine"),
        ("perplexcity ok?", "Perplexity"),
        ("is chatgtp enterprise ok", "ChatGPT Enterprise"),
    ],
)
def test_typos_match_with_a_lower_score(matcher: Matcher, question: str, tool: str) -> None:
    mention = matcher.find(question).mentions[0]
    assert mention.tool == tool
    assert 80 <= mention.score < 100


def test_a_real_word_one_letter_from_a_name_is_not_a_typo() -> None:
    matcher = Matcher([make_policy("Claude"), make_policy("Otter")])
    assert tools(matcher, "is this clause allowed in the contract?") == []
    assert tools(matcher, "the outer loop is slow, ok?") == []


def test_short_words_never_match_fuzzily() -> None:
    matcher = Matcher([make_policy("Kimi"), make_policy("Cody")])
    assert tools(matcher, "is my code ok?") == []
    assert tools(matcher, "kimy ok?") == []


@pytest.mark.parametrize(
    ("question", "tool"),
    [
        ("文心一言可以用吗", "ERNIE Bot"),
        ("能用豆包写周报吗\uff1f", "Doubao"),  # with a fullwidth question mark
        ("我想用Tabnine写代码", "Tabnine"),
        ("可以用 midjourney 吗", "Midjourney"),
    ],
)
def test_chinese_aliases_and_latin_names_inside_chinese(
    matcher: Matcher, question: str, tool: str
) -> None:
    assert tools(matcher, question) == [tool]


def test_two_chinese_names_are_both_found_in_question_order(matcher: Matcher) -> None:
    assert tools(matcher, "豆包和文心一言哪个能用") == ["Doubao", "ERNIE Bot"]


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("<@U0BOT> is tabnine ok?", "is tabnine ok?"),
        ("<!here> <!subteam^S1|@ai> tabnine?", "tabnine?"),
        ("can I use <https://lovable.dev|Lovable>?", "can I use Lovable?"),
        ("see <https://example.com> about doubao", "see about doubao"),
        (":thinking_face: “Doubao” or `tabnine`?", "Doubao or tabnine ?"),
        ("*Bolt* &amp; _Lovable_", "Bolt & Lovable"),
    ],
)
def test_slack_markup_is_stripped_and_link_labels_kept(raw: str, clean: str) -> None:
    assert strip_markup(raw) == clean


def test_link_label_names_the_tool(matcher: Matcher) -> None:
    assert tools(matcher, "<@U1> can I use <https://x.example|Tabnine>") == ["Tabnine"]


def test_a_link_address_alone_names_nothing() -> None:
    matcher = Matcher([make_policy("Example")])
    assert tools(matcher, "what is <https://example.com>?") == []


def test_most_specific_name_wins(matcher: Matcher) -> None:
    assert tools(matcher, "is ChatGPT Enterprise ok for contracts?") == ["ChatGPT Enterprise"]
    assert tools(matcher, "github copilot enterprise?") == ["GitHub Copilot Enterprise"]


def test_both_names_are_found_when_both_are_asked_about(matcher: Matcher) -> None:
    assert tools(matcher, "ChatGPT or ChatGPT Enterprise?") == ["ChatGPT", "ChatGPT Enterprise"]


def test_shared_word_returns_every_candidate_flagged_ambiguous(matcher: Matcher) -> None:
    mentions = matcher.find("can I use copilot?").mentions
    assert sorted(m.tool for m in mentions) == COPILOTS
    assert all(m.ambiguous for m in mentions)


def test_distinctive_words_narrow_a_shared_word(matcher: Matcher) -> None:
    assert tools(matcher, "copilot enterprise ok?") == ["GitHub Copilot Enterprise"]
    assert tools(matcher, "Microsoft Copilot in Teams?") == ["Microsoft Copilot"]


def test_base_name_does_not_stand_for_its_enterprise_edition() -> None:
    matcher = Matcher([make_policy("ChatGPT Enterprise", vendor="OpenAI")])
    result = matcher.find("can I use chatgpt?")
    assert result.mentions == ()
    assert result.suggestions == ("ChatGPT Enterprise",)


def test_vendor_word_alone_is_not_a_tool(matcher: Matcher) -> None:
    assert tools(matcher, "is github allowed?") == []


@pytest.mark.parametrize(
    "question",
    [
        "can I use continue",
        "is Continue allowed?",
        "continue?",
        "the continue extension ok for vscode?",
        "Lovable ok for prototypes",
        "lovable",
        "Bolt or Lovable for a mockup?",
        "doubao, lovable and bolt - which are ok?",
        "可以用 lovable 吗",
    ],
)
def test_everyday_word_names_count_in_tool_context(matcher: Matcher, question: str) -> None:
    assert tools(matcher, question)


@pytest.mark.parametrize(
    "question",
    [
        "should I continue with this PR?",
        "please continue the review tomorrow",
        "can I continue?",
        "that demo was lovable",
        "tighten the bolt on the rack",
        "继续 continue",
    ],
)
def test_everyday_word_names_do_not_count_as_plain_words(matcher: Matcher, question: str) -> None:
    assert tools(matcher, question) == []


def test_a_verdict_in_another_clause_is_not_tool_context(matcher: Matcher) -> None:
    assert tools(matcher, "the bolt is loose, ok to ship?") == []
    assert tools(matcher, "is Bolt still allowed?") == ["Bolt"]


def test_a_domain_is_tool_context(matcher: Matcher) -> None:
    assert tools(matcher, "lovable.dev for the demo site?") == ["Lovable"]


def test_one_word_name_split_into_real_words_needs_tool_context() -> None:
    matcher = Matcher([make_policy("DeepSeek")])
    assert tools(matcher, "is the deep seek mission on track") == []
    assert tools(matcher, "can I use deep seek") == ["DeepSeek"]
    assert tools(matcher, "Deep-Seek?") == ["DeepSeek"]


def test_everyday_word_typo_counts_when_the_question_is_just_the_name() -> None:
    matcher = Matcher([make_policy("Cursor")])
    assert tools(matcher, "Curosr?") == ["Cursor"]
    assert tools(matcher, "move the curosr to the end") == []


@pytest.mark.parametrize(
    "question",
    [
        "can I use Photoshop",
        "is Notion allowed",
        "good morning",
        "can I use AI tools?",
        "我可以用 Figma 吗",
        "which chat bots are ok?",
        "",
        "<@U0BOT>",
    ],
)
def test_tools_outside_the_registry_match_nothing(matcher: Matcher, question: str) -> None:
    assert tools(matcher, question) == []


def test_stopwords_never_match_even_as_names() -> None:
    matcher = Matcher([make_policy("It"), make_policy("Any")])
    assert tools(matcher, "is it any good?") == []


def test_no_match_suggests_close_names(matcher: Matcher) -> None:
    result = matcher.find("is perplex ok?")
    assert result.mentions == ()
    assert result.suggestions[0] == "Perplexity"


def test_suggestions_are_at_most_three(matcher: Matcher) -> None:
    assert len(matcher.find("github").suggestions) <= 3


def test_no_suggestions_when_something_matched(matcher: Matcher) -> None:
    assert matcher.find("tabnine ok?").suggestions == ()


def test_topic_is_the_questions_content_words(matcher: Matcher) -> None:
    assert matcher.find("can I use Photoshop?").topic == "Photoshop"


def test_mentions_keep_question_order(matcher: Matcher) -> None:
    assert tools(matcher, "Tabnine, Midjourney or Doubao?") == ["Tabnine", "Midjourney", "Doubao"]


def test_same_tool_twice_is_one_mention(matcher: Matcher) -> None:
    assert tools(matcher, "tabnine vs Tabnine?") == ["Tabnine"]


def test_matched_span_is_the_questions_own_text(matcher: Matcher) -> None:
    assert matcher.find("is Mid-Journey ok?").mentions[0].matched == "Mid-Journey"


def test_a_ten_thousand_tool_registry_still_answers_right() -> None:
    big = Matcher([*sample_policies(), *generated_policies(10_000)])
    assert tools(big, "midjourny for slides") == ["Midjourney"]
    assert tools(big, "文心一言可以用吗") == ["ERNIE Bot"]
    assert tools(big, "should I continue with this PR?") == []
    assert tools(big, "can I use Photoshop") == []
    assert sorted(tools(big, "copilot?")) == COPILOTS


def test_generated_tools_are_found_in_a_large_registry() -> None:
    generated = generated_policies(10_000)
    big = Matcher(generated)
    for policy in generated[::997]:
        assert policy.name in tools(big, f"is {policy.name} allowed?")


# -- Chinese context, "<name> for <task>?", names with another famous meaning -----------


@pytest.mark.parametrize(
    "question",
    [
        "Lovable 什么时候生效",  # when does the Lovable policy take effect
        "Lovable 的政策是什么",
        "能用 Lovable 吗",
        "Lovable 能用吗",
        "Lovable 现在还可以用吗",
        "Lovable\uff0c能用吗",  # fullwidth comma: the name as the topic
        "禁止使用 Lovable 吗",
        "Lovable 吗",
    ],
)
def test_chinese_usage_and_policy_words_make_an_everyday_word_a_tool(
    matcher: Matcher, question: str
) -> None:
    assert tools(matcher, question) == ["Lovable"]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Bolt 和 豆包", ["Bolt", "Doubao"]),
        ("Bolt 和 豆包能用吗", ["Bolt", "Doubao"]),
        ("豆包和Bolt", ["Doubao", "Bolt"]),
        ("豆包跟bolt", ["Doubao", "Bolt"]),
        ("豆包或者 bolt", ["Doubao", "Bolt"]),
        ("豆包、bolt、lovable", ["Doubao", "Bolt", "Lovable"]),
    ],
)
def test_an_everyday_word_listed_with_a_chinese_name_is_a_tool(
    matcher: Matcher, question: str, expected: list[str]
) -> None:
    assert tools(matcher, question) == expected


@pytest.mark.parametrize(
    "question",
    [
        "这个 bolt 松了吗",  # is this bolt loose?
        "这个 bolt 可以拧紧吗",  # can this bolt be tightened?
        "螺丝 bolt 和螺母",  # screw, bolt and nut
        "我们明天 continue 吧",  # let's continue tomorrow
        "请 continue 下一步",  # please continue with the next step
        "continue 这个任务可以吗",  # can (we) continue this task?
        "我们 continue 讨论一下公司的 AI 政策",  # let's continue discussing the AI policy
        "should I continue 吗",
    ],
)
def test_a_bare_chinese_question_word_does_not_make_an_everyday_word_a_tool(
    matcher: Matcher, question: str
) -> None:
    assert tools(matcher, question) == []


@pytest.mark.parametrize(
    ("question", "tool"),
    [
        ("lovable for a landing page?", "Lovable"),
        ("Bolt for a prototype?", "Bolt"),
        ("continue for refactoring?", "Continue"),
    ],
)
def test_a_short_question_opening_with_the_name_for_a_work_task_is_a_tool(
    matcher: Matcher, question: str, tool: str
) -> None:
    assert tools(matcher, question) == [tool]


@pytest.mark.parametrize(
    "question",
    [
        "continue for another hour?",
        "bolt for the door?",
        "continue for a bit?",
        "lovable for a landing page",  # not a question
        "should I continue for a prototype?",  # the name does not open the question
        "continue for refactoring is what we agreed on last week, right?",  # prose
    ],
)
def test_an_everyday_word_for_something_else_stays_a_word(matcher: Matcher, question: str) -> None:
    assert tools(matcher, question) == []


def test_a_task_noun_name_for_a_task_stays_a_word() -> None:
    matcher = Matcher([make_policy("Copy", aliases=("copy.ai",)), make_policy("Cursor")])
    assert tools(matcher, "copy for a landing page?") == []
    assert tools(matcher, "cursor for the menu?") == []
    assert tools(matcher, "cursor for refactoring?") == ["Cursor"]


@pytest.mark.parametrize(
    "question",
    [
        "what's my gemini horoscope?",
        "gemini zodiac sign traits",
        "Gemini horoscope today",
        "the Gemini constellation",
    ],
)
def test_a_name_in_its_other_famous_sense_is_not_the_tool(question: str) -> None:
    matcher = Matcher([make_policy("Gemini", vendor="Google")])
    assert tools(matcher, question) == []


@pytest.mark.parametrize(
    "question",
    [
        "Gemini for research?",
        "can I use gemini",
        "gemini?",
        "can I use gemini for horoscopes?",
        "is Gemini allowed for astrology content?",
    ],
)
def test_a_name_with_another_sense_still_counts_in_tool_context(question: str) -> None:
    matcher = Matcher([make_policy("Gemini", vendor="Google")])
    assert tools(matcher, question) == ["Gemini"]


def test_new_alone_is_not_a_name_ending_in_new() -> None:
    matcher = Matcher([make_policy("Bolt.new", vendor="StackBlitz")])
    assert tools(matcher, "is the new laptop ok?") == []
    assert tools(matcher, "what's new?") == []
    assert tools(matcher, "can I use bolt.new") == ["Bolt.new"]
