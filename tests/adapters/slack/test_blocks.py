"""Block Kit rendering: escaping of everything people write, and Slack's size limits."""

# Chinese answers use full-width punctuation, which RUF001 reads as look-alikes of ASCII.
# ruff: noqa: RUF001

from __future__ import annotations

import datetime as dt
import json

from bot.adapters.files.vocabularyfile import shipped_vocabulary
from bot.adapters.slack.blocks import (
    MAX_BLOCKS,
    MAX_FIELD_TEXT,
    MAX_FIELDS,
    MAX_SECTION_TEXT,
    STATUS_EMOJI,
    answer_message,
    clip,
    escape,
    reply_message,
    safe_link,
    status_line,
    text_message,
)
from bot.adapters.slack.home import home_view
from bot.app.service import Reply
from bot.domain.answers import (
    FACT_ORDER,
    Answer,
    Fact,
    Intent,
    Registry,
    answer_question,
    render_text,
    tool_layout,
)
from bot.domain.policy import DataClass, Status
from tests.factories import make_policy, seed_registry

TODAY = dt.date(2026, 11, 25)


def sections(blocks: list[dict[str, object]]) -> list[str]:
    """Every mrkdwn/plain text in the blocks, fields and context elements included."""
    found: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, dict):
            if value.get("type") in ("mrkdwn", "plain_text"):
                found.append(str(value["text"]))
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(blocks)
    return found


def ask(question: str, registry: Registry) -> Answer:
    return answer_question(question, registry, today=TODAY)


def test_escape_turns_markup_into_entities() -> None:
    assert escape("<!channel> & <@U1> <http://x|y>") == (
        "&lt;!channel&gt; &amp; &lt;@U1&gt; &lt;http://x|y&gt;"
    )


def test_clip_never_cuts_an_entity_in_half() -> None:
    assert clip("ab&amp;cd", 5) == "ab…"
    assert clip("short", 10) == "short"


def test_each_status_has_its_emoji() -> None:
    registry = Registry(seed_registry(), shipped_vocabulary())

    shown = {
        status: json.dumps(answer_message(ask(f"can I use {name}?", registry), "#ai").blocks)
        for status, name in [
            (Status.ALLOWED, "Qoder"),
            (Status.CONDITIONAL, "GitHub Copilot"),
            (Status.UNDER_REVIEW, "Cursor"),
            (Status.BANNED, "Claude Code"),
        ]
    }

    assert all(STATUS_EMOJI[status] in text for status, text in shown.items())


def test_answer_has_facts_as_fields_alternatives_owner_and_link() -> None:
    message = answer_message(
        ask("can I use claude code?", Registry(seed_registry(), shipped_vocabulary())), "#ai"
    )

    [main, notes] = message.blocks
    fields = [f["text"] for f in main["fields"]]
    assert "*Vendor*\nAnthropic" in fields and "*Owner*\n#ai-governance" in fields
    assert "*Effective*\n2026-11-20" in fields
    assert "Qoder" in notes["elements"][0]["text"]
    assert "<https://intranet.example.com/ai-policy/claude-code|" in notes["elements"][1]["text"]
    assert "Claude Code is BANNED" in message.text


def test_people_written_text_is_escaped_in_blocks_and_fallback() -> None:
    tool = make_policy(
        "Sneaky <@U0BOSS>",
        aliases=("sneaky",),
        status=Status.BANNED,
        reason="see <!channel> & <https://evil.example|the intranet>",
        conditions="<!here>",
        owner="<!everyone>",
        link="https://evil.example|click>",
    )
    message = answer_message(
        ask("why is sneaky banned <@U123>?", Registry([tool], shipped_vocabulary())),
        "#ai",
        echo_question=True,
    )
    shown = " ".join(sections(message.blocks)) + message.text

    for markup in ("<@U0BOSS>", "<!channel>", "<!here>", "<!everyone>", "<@U123>", "<https://evil"):
        assert markup not in shown
    assert "&lt;!channel&gt; &amp; &lt;https://evil.example|the intranet&gt;" in shown


def test_unsafe_link_is_shown_not_linked() -> None:
    assert safe_link("https://ok.example/a?b=c&d=e") == "https://ok.example/a?b=c&d=e"
    assert safe_link("https://x.example|fake") is None
    assert safe_link("javascript:alert(1)") is None


def test_many_tools_stay_within_block_kit_limits() -> None:
    long = "x" * 5000
    tools = [
        make_policy(f"Tool{i:02d}", vendor=long, reason=long, conditions=long, status=Status.BANNED)
        for i in range(40)
    ]
    question = "can I use " + " ".join(f"Tool{i:02d}" for i in range(40)) + "?"

    message = answer_message(ask(question, Registry(tools, shipped_vocabulary())), "#ai")

    assert len(message.blocks) <= MAX_BLOCKS
    for block in message.blocks:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= MAX_SECTION_TEXT
            assert len(block.get("fields", [])) <= MAX_FIELDS
            assert all(len(f["text"]) <= MAX_FIELD_TEXT for f in block.get("fields", []))
    assert "more tools" in message.blocks[-1]["elements"][0]["text"]


def test_long_admin_reply_is_split_into_sections_within_limits() -> None:
    text = "\n".join(f"• line {i} " + "y" * 200 for i in range(2000))

    message = text_message(text)

    assert len(message.blocks) <= MAX_BLOCKS
    assert all(len(b["text"]["text"]) <= MAX_SECTION_TEXT for b in message.blocks)


def test_refusal_reply_is_marked_and_escaped() -> None:
    message = reply_message(Reply("refused", "Only admins <!here>"), "#ai")

    assert message.blocks[0]["text"]["text"] == ":lock: Only admins &lt;!here&gt;"


def test_unanswered_question_offers_suggestion_buttons() -> None:
    answer = Answer(
        question="can I use claud?",
        intent=Intent.STATUS,
        tools=(),
        suggestions=("Claude Code", "Claude"),
        topic="claud",
    )

    message = answer_message(answer, "#ai")

    [buttons] = [b for b in message.blocks if b["type"] == "actions"]
    assert [e["value"] for e in buttons["elements"]] == ["Claude Code", "Claude"]


def test_home_view_groups_by_status_and_escapes() -> None:
    policies = [*seed_registry(), make_policy("Evil <!channel>", status=Status.BANNED)]

    view = home_view(policies, [], command="/aipolicy", contact="#ai")
    shown = " ".join(sections(view["blocks"]))

    assert view["type"] == "home" and len(view["blocks"]) <= 100
    assert shown.index("*Allowed* (1)") < shown.index("*Banned* (2)")
    assert "<!channel>" not in shown and "Evil &lt;!channel&gt;" in shown


def test_status_line_is_english_unless_asked_otherwise() -> None:
    [_, claude_code, *_] = seed_registry()

    assert status_line(claude_code, TODAY) == (
        ":no_entry: *Claude Code* is *banned* since 2026-11-20"
    )
    assert status_line(claude_code, TODAY, "zh") == (
        ":no_entry: *Claude Code* 自 2026-11-20 起 *禁止使用*"
    )


def test_chinese_question_gets_chinese_labels_in_blocks_and_fallback() -> None:
    message = answer_message(
        ask("Claude Code 可以用吗？", Registry(seed_registry(), shipped_vocabulary())), "#ai"
    )

    [main, notes] = message.blocks
    assert main["text"]["text"] == (
        "*不可以。* :no_entry: *Claude Code* 自 2026-11-20 起 *禁止使用*\n"
        "*原因：* Sends environment metadata with every request."
    )
    fields = [f["text"] for f in main["fields"]]
    assert fields == [
        "*供应商*\nAnthropic",
        "*生效日期*\n2026-11-20",
        "*数据级别上限*\n无（该工具已禁止使用）",
        "*负责人*\n#ai-governance",
    ]
    assert notes["elements"][0]["text"] == "*替代方案：* :white_check_mark: Qoder（允许使用）"
    assert notes["elements"][1]["text"].endswith("|查看完整政策>")
    assert message.text.startswith("不可以。Claude Code 自 2026-11-20 起禁止使用。\n数据：无")


def test_chinese_answer_still_escapes_people_written_text() -> None:
    tool = make_policy(
        "Sneaky <@U0BOSS>",
        aliases=("sneaky",),
        status=Status.BANNED,
        reason="see <!channel> & <https://evil.example|the intranet>",
        owner="<!everyone>",
    )
    message = answer_message(
        ask("为什么禁止 sneaky <@U123>？", Registry([tool], shipped_vocabulary())),
        "#ai",
        echo_question=True,
    )
    shown = " ".join(sections(message.blocks)) + message.text

    for markup in ("<@U0BOSS>", "<!channel>", "<!everyone>", "<@U123>", "<https://evil"):
        assert markup not in shown
    assert "*原因：* see &lt;!channel&gt; &amp; &lt;https://evil.example|the intranet&gt;" in shown
    assert "你的问题：为什么禁止 sneaky &lt;@U123&gt;？" in shown
    assert "*负责人*\n&lt;!everyone&gt;" in shown


def test_chinese_unanswered_question_offers_suggestions_in_chinese() -> None:
    answer = Answer(
        question="claud 能用吗？",
        intent=Intent.STATUS,
        tools=(),
        suggestions=("Claude Code", "Claude"),
        topic="claud",
        language="zh",
    )

    message = answer_message(answer, "#ai")

    assert message.blocks[0]["text"]["text"] == (
        ":grey_question: 登记册中没有关于“claud”的政策。\n"
        "你是不是想问 Claude Code 或 Claude？\n"
        "请联系 #ai。"
    )
    [buttons] = [b for b in message.blocks if b["type"] == "actions"]
    assert [e["value"] for e in buttons["elements"]] == ["Claude Code", "Claude"]


# -- one layout for both renderers (issue 13's "one answer layout") ------------------------------


def _full_policy_registry() -> Registry:
    return Registry(
        [
            make_policy(
                "Tabnine",
                vendor="Tabnine",
                status=Status.CONDITIONAL,
                conditions="Self-hosted only.",
                max_data=DataClass.INTERNAL,
                reason="Runs on our servers.",
                alternatives=("Qoder",),
                effective=dt.date(2026, 1, 5),
                owner="#eng",
                link="https://intranet.example/tabnine",
            ),
            make_policy("Qoder"),
        ],
        shipped_vocabulary(),
    )


def _positions(text: str, markers: list[str]) -> list[int]:
    return [text.index(marker) for marker in markers]


def test_plain_text_and_slack_show_a_tools_facts_in_the_one_layout_order() -> None:
    answer = answer_question("is tabnine ok?", _full_policy_registry(), dt.date(2026, 6, 1))
    plain = render_text(answer, "#ai")
    # status, conditions, data, why, instead, owner, link: FACT_ORDER without vendor/date.
    markers = ["Tabnine is CONDITIONAL", "Conditions:", "Data up to:", "Why:", "Instead use:"]
    positions = _positions(plain, [*markers, "Owner:", "More:"])
    assert positions == sorted(positions)

    [main, notes] = answer_message(answer, "#ai").blocks
    fields = [f["text"].split("\n")[0] for f in main["fields"]]
    assert fields == ["*Vendor*", "*Effective*", "*Conditions*", "*Data up to*", "*Owner*"]
    shown_as_fields = {Fact.VENDOR, Fact.EFFECTIVE, Fact.CONDITIONS, Fact.DATA, Fact.OWNER}
    assert [fact for fact in FACT_ORDER if fact in shown_as_fields] == [
        Fact.VENDOR,
        Fact.EFFECTIVE,
        Fact.CONDITIONS,
        Fact.DATA,
        Fact.OWNER,
    ]
    assert notes["elements"][0]["text"].startswith("*Instead use:*")


def test_the_asked_fact_leads_in_both_renderers() -> None:
    registry = _full_policy_registry()
    answer = answer_question("who owns tabnine?", registry, dt.date(2026, 6, 1))
    assert tool_layout(answer).lead is Fact.OWNER
    assert render_text(answer, "#ai").startswith("Owner of Tabnine: #eng")
    [main, _notes] = answer_message(answer, "#ai").blocks
    assert main["text"]["text"].split("\n")[1] == "*Owner:* #eng"
