"""Block Kit rendering of answers and replies, within Slack's limits, with mrkdwn escaped.

Everything people write (tool names, reasons, conditions, owners, questions) goes through
`escape()` before it enters mrkdwn, so `<!channel>`, `<@U…>` or `<https://evil|innocent>` in a
policy or a question shows as typed and never pings anyone or hides a link.
"""

# ruff: noqa: RUF001

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.app.service import Reply
from bot.domain.answers import (
    Answer,
    AnswerKind,
    Fact,
    ToolAnswer,
    access_lines,
    changes_lines,
    frame_lead,
    list_groups,
    list_heading,
    list_verdict,
    render_text,
    scheduled_line,
    tool_layout,
    variant_lines,
)
from bot.domain.commands import usage
from bot.domain.links import ToolPages
from bot.domain.phrases import EN, STAFF_EXAMPLES, Phrases, phrases_for
from bot.domain.policy import Status, ToolPolicy

Block = dict[str, Any]

# Slack's documented limits (https://api.slack.com/reference/block-kit/blocks).
MAX_BLOCKS = 50  # per message
MAX_SECTION_TEXT = 3000
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_CONTEXT_ELEMENTS = 10
MAX_BUTTON_TEXT = 75
MAX_MESSAGE_TEXT = 39000  # `text` is cut by Slack at 40,000 characters

STATUS_EMOJI = {
    Status.ALLOWED: ":white_check_mark:",
    Status.CONDITIONAL: ":large_yellow_circle:",
    Status.UNDER_REVIEW: ":hourglass_flowing_sand:",
    Status.BANNED: ":no_entry:",
}

ASK_SUGGESTION_ACTION = "ask_suggestion"  # a "did you mean" button; the value is a tool name
OPEN_LINK_ACTION = "open_policy_link"  # a link button; Slack still sends the click

_SAFE_URL = re.compile(r"^https?://[^\s<>|]+$")
_PARTIAL_ENTITY = re.compile(r"&[a-z]{0,3}$")


@dataclass(frozen=True)
class SlackMessage:
    """A message's plain-text fallback and its blocks, ready for chat.postMessage or respond."""

    text: str
    blocks: list[Block]

    def as_kwargs(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": self.blocks}


def escape(text: str) -> str:
    """Text as mrkdwn shows it literally: `&`, `<` and `>` become entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    """Slack's escaped message text back to what the person typed (`&lt;` -> `<`)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def clip(text: str, limit: int) -> str:
    """At most `limit` characters, ending in "…" when cut, never halfway through an entity."""
    if len(text) <= limit:
        return text
    cut = _PARTIAL_ENTITY.sub("", text[: limit - 1])
    return cut + "…"


def section(text: str, fields: Sequence[str] = ()) -> Block:
    """A section of already-escaped mrkdwn, clipped to Slack's limits."""
    block: Block = {"type": "section", "text": mrkdwn(clip(text, MAX_SECTION_TEXT))}
    if fields:
        block["fields"] = [mrkdwn(clip(f, MAX_FIELD_TEXT)) for f in fields[:MAX_FIELDS]]
    return block


def context(*texts: str) -> Block:
    """A context block of already-escaped mrkdwn elements."""
    elements = [mrkdwn(clip(t, MAX_SECTION_TEXT)) for t in texts[:MAX_CONTEXT_ELEMENTS]]
    return {"type": "context", "elements": elements}


def mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


def plain(text: str, limit: int = MAX_SECTION_TEXT) -> dict[str, Any]:
    """Plain text is never parsed for mentions or links, so it needs no escaping."""
    return {"type": "plain_text", "text": clip(text, limit), "emoji": True}


def divider() -> Block:
    return {"type": "divider"}


def safe_link(url: str | None) -> str | None:
    """`url` if it is a plain http(s) URL that cannot break out of `<url|label>`, else None."""
    if url and _SAFE_URL.match(url):
        return url
    return None


def status_line(policy: ToolPolicy, today: dt.date | None, language: str = "en") -> str:
    """`:no_entry: *Claude Code* is *banned* since 2026-11-20`, escaped, in `language`."""
    phrases = phrases_for(language)
    effective = policy.effective
    if effective is None:
        frame = phrases.slack_status_undated
    elif today is not None and effective > today:
        frame = phrases.slack_status_from
    else:
        frame = phrases.slack_status_since
    return frame.format(
        emoji=STATUS_EMOJI[policy.status],
        name=escape(policy.name),
        label=phrases.status_labels[policy.status],
        date=effective.isoformat() if effective else "",
    )


def alternatives_text(tool: ToolAnswer, language: str = "en") -> str | None:
    """`*Instead use:* :white_check_mark: Qoder (allowed), …`, escaped; None without any."""
    phrases = phrases_for(language)
    names = [
        f"{STATUS_EMOJI[alt.status]} "
        + phrases.alternative.format(
            name=escape(alt.name), status=phrases.status_labels[alt.status]
        )
        for alt in tool.alternatives
    ]
    names += [
        phrases.alternative.format(name=escape(name), status=phrases.not_in_registry)
        for name in tool.unknown_alternatives
    ]
    return f"{_bold_label(phrases, phrases.instead)} {phrases.listing(names)}" if names else None


def _bold_label(phrases: Phrases, label: str) -> str:
    """`*Why:*`: a label and its colon in bold, for a value that follows after a space."""
    return f"*{label}{phrases.colon.rstrip()}*"


def page_links(phrases: Phrases, name: str, link: str | None, pages: ToolPages | None) -> list[str]:
    """The tool's catalogue page (when the catalogue has a public URL) and its own link."""
    notes = []
    safe = safe_link(link)
    if pages is not None:
        notes.append(f"<{escape(pages.url(name))}|{phrases.catalogue_page}>")
        if safe:
            notes.append(f"<{escape(safe)}|{phrases.more}>")
    elif safe:
        notes.append(f"<{escape(safe)}|{phrases.read_full_policy}>")
    if link and not safe:
        notes.append(phrases.label(phrases.more, escape(link)))
    return notes


def _tool_blocks(
    tool: ToolAnswer, answer: Answer, contact: str, pages: ToolPages | None = None
) -> list[Block]:
    """One tool, walking `tool_layout` as the plain text does: the status line heads the
    section, then the asked part; each further fact is a line, a field or a context note."""
    phrases = phrases_for(answer.language)
    policy = tool.policy
    owner = escape(policy.owner or contact)
    layout = tool_layout(answer)
    alternatives = alternatives_text(tool, answer.language)
    why = f"{_bold_label(phrases, phrases.why)} {escape(policy.reason or '')}"
    data_field = (
        phrases.data_names[policy.max_data]
        if policy.max_data
        else phrases.no_data
        if policy.status is Status.BANNED
        else None
    )
    leads = {
        Fact.WHY: why if policy.reason else phrases.slack_no_reason.format(contact=owner),
        Fact.INSTEAD: alternatives or phrases.slack_no_alternatives.format(contact=owner),
        Fact.OWNER: f"{_bold_label(phrases, phrases.owner)} {owner}",
        Fact.DATA: (
            f"{_bold_label(phrases, phrases.data_up_to)} {phrases.data_names[policy.max_data]}"
            if policy.max_data
            else phrases.slack_no_data_limit.format(contact=owner)
        ),
    }
    # Slack heads a tool with its status (and a change already scheduled), then the lead.
    labels = {status: f"*{label}*" for status, label in phrases.status_labels.items()}
    scheduled = scheduled_line(policy, phrases, labels)
    lines = [status_line(policy, answer.today, answer.language)]
    lead = frame_lead(tool, answer, contact, phrases)  # the verdict, or who decides
    if lead and lead in phrases.verdicts.values():
        lines[0] = f"*{escape(lead)}* {lines[0]}"
    elif lead:
        lines.insert(0, f"*{escape(lead)}*")
    if scheduled and Fact.SCHEDULED in layout.facts:
        lines.append(scheduled)
    if layout.lead is not None:
        lines.append(leads[layout.lead])
    personal: list[Block] = []
    fields: list[str] = []
    notes: list[str] = []
    for fact in layout.facts:
        if fact is Fact.NOTE:  # true for this asker only: a section of its own
            personal += [section(f":key: {escape(n)}") for n in answer.notes_for(policy.name)]
        elif fact is Fact.WHY and policy.reason:
            lines.append(why)
        elif fact is Fact.VENDOR and policy.vendor:
            fields.append(f"*{phrases.vendor}*\n{escape(policy.vendor)}")
        elif fact is Fact.EFFECTIVE and policy.effective:
            fields.append(f"*{phrases.effective}*\n{policy.effective.isoformat()}")
        elif fact is Fact.CONDITIONS and policy.conditions:
            fields.append(f"*{phrases.conditions}*\n{escape(policy.conditions)}")
        elif fact is Fact.DATA and data_field:
            fields.append(f"*{phrases.data_up_to}*\n{data_field}")
        elif fact is Fact.OWNER:
            fields.append(f"*{phrases.owner}*\n{owner}")
        elif fact is Fact.INSTEAD and alternatives:
            notes.append(alternatives)
        elif fact is Fact.LINK:
            notes += page_links(phrases, policy.name, policy.link, pages)
    blocks = [section("\n".join(lines), fields), *personal]
    if notes:
        blocks.append(context(*notes))
    return blocks


def _ambiguity_notes(answer: Answer) -> dict[int, str]:
    """Index of the first tool of each ambiguous phrase -> the note that goes before it."""
    phrases = phrases_for(answer.language)
    notes: dict[int, str] = {}
    seen: set[str] = set()
    for index, tool in enumerate(answer.tools):
        key = tool.matched.lower()
        if tool.ambiguous and key not in seen:
            seen.add(key)
            names = [escape(t.policy.name) for t in answer.tools if t.matched == tool.matched]
            notes[index] = phrases.ambiguous.format(
                matched=escape(tool.matched), names=phrases.listing(names)
            )
    return notes


def suggestion_buttons(names: Iterable[str]) -> Block:
    """Buttons that ask about a suggested tool, one per name (at most five)."""
    elements = [
        {
            "type": "button",
            "action_id": f"{ASK_SUGGESTION_ACTION}:{index}",
            "text": plain(name, MAX_BUTTON_TEXT),
            "value": name[:2000],
        }
        for index, name in enumerate(list(names)[:5])
    ]
    return {"type": "actions", "block_id": "suggestions", "elements": elements}


MAX_LISTED_PER_GROUP = 15  # names shown per status group in Slack; the rest are counted


def _list_blocks(answer: Answer, contact: str) -> list[Block]:
    """A list answer: its heading, then one section per status group, long groups cut."""
    phrases = phrases_for(answer.language)
    if not answer.listed:
        return [section(escape(list_heading(answer, phrases, empty_contact=contact)))]
    verdict = list_verdict(answer, phrases)
    blocks = [section(f"*{escape(verdict)}*")] if verdict else []
    blocks.append(section(f"*{escape(list_heading(answer, phrases))}*"))
    for status, members in list_groups(answer)[: MAX_BLOCKS - 2]:
        names = [escape(p.name) for p in members[:MAX_LISTED_PER_GROUP]]
        hidden = len(members) - len(names)
        if hidden:
            names.append(phrases.list_more.format(count=hidden))
        label = phrases.status_labels[status]
        blocks.append(
            section(
                f"{STATUS_EMOJI[status]} *{label[:1].upper()}{label[1:]}* ({len(members)})\n"
                + phrases.listing(names)
            )
        )
    return blocks


def answer_message(
    answer: Answer,
    contact: str,
    *,
    echo_question: bool = False,
    pages: ToolPages | None = None,
    rendered: str | None = None,
) -> SlackMessage:
    """An Answer as Block Kit in the answer's language, `render_text` (escaped) as fallback.

    With `pages`, each tool links to its catalogue page; `rendered` is `render_text`'s result
    when the caller has it already."""
    phrases = phrases_for(answer.language)
    if rendered is None:
        rendered = render_text(answer, contact)
    text = clip(escape(rendered), MAX_MESSAGE_TEXT)
    blocks: list[Block] = []
    if echo_question:
        blocks.append(context(phrases.you_asked.format(question=escape(answer.question))))
    if answer.kind is AnswerKind.SMALL_TALK:
        return SlackMessage(text, [*blocks, section(escape(phrases.small_talk))])
    if answer.kind is AnswerKind.LIST:
        return SlackMessage(text, blocks + _list_blocks(answer, contact))
    if answer.kind is AnswerKind.CHANGES:
        lines = [escape(line) for line in changes_lines(answer, phrases)]
        return SlackMessage(text, [*blocks, section("\n".join(lines))])
    if answer.kind is AnswerKind.ACCESS:
        lines = [escape(line) for line in access_lines(answer, phrases, contact)]
        return SlackMessage(text, [*blocks, section("\n".join(lines))])
    if answer.kind is AnswerKind.VARIANT:
        lines = [escape(line) for line in variant_lines(answer, phrases)]
        lines[0] = f":grey_question: {lines[0]}"
        lines.append(phrases.ask.format(contact=escape(contact)))
        blocks.append(section("\n".join(lines)))
        if answer.suggestions:
            blocks.append(suggestion_buttons(answer.suggestions))
        return SlackMessage(text, blocks)
    if answer.follow_up:
        names = phrases.listing([escape(name) for name in answer.tool_names])
        blocks.append(context(phrases.follow_up.format(names=names)))
    if not answer.answered:
        topic = escape(answer.topic or answer.question)
        lines = [f":grey_question: {phrases.no_policy.format(topic=topic)}"]
        if answer.suggestions:
            names = phrases.or_list([escape(s) for s in answer.suggestions])
            lines.append(phrases.did_you_mean.format(names=names))
        lines.append(phrases.ask.format(contact=escape(contact)))
        blocks.append(section("\n".join(lines)))
        if answer.suggestions:
            blocks.append(suggestion_buttons(answer.suggestions))
        return SlackMessage(text, blocks)

    notes = _ambiguity_notes(answer)
    # Each tool takes up to three blocks; keep room for the "more tools" line.
    room = MAX_BLOCKS - len(blocks) - 1
    shown = 0
    for index, tool in enumerate(answer.tools):
        tool_blocks = _tool_blocks(tool, answer, contact, pages)
        note = [context(notes[index])] if index in notes else []
        spacer = [divider()] if shown else []
        needed = [*spacer, *note, *tool_blocks]
        if len(needed) > room:
            break
        blocks += needed
        room -= len(needed)
        shown += 1
    hidden = answer.tools[shown:]
    if hidden:
        names = phrases.listing([escape(t.policy.name) for t in hidden])
        blocks.append(context(phrases.more_tools.format(count=len(hidden), names=names)))
    asides = [escape(line) for line in variant_lines(answer, phrases, aside=True)]
    if asides and len(blocks) < MAX_BLOCKS:
        blocks.append(context(*asides))
    return SlackMessage(text, blocks)


def text_message(text: str, *, icon: str = "") -> SlackMessage:
    """Plain words from the core (admin results, errors) as escaped sections, within limits."""
    escaped = escape(text)
    chunks = _chunks(escaped.splitlines() or [""], MAX_SECTION_TEXT)
    blocks = [section(chunk) for chunk in chunks[:MAX_BLOCKS]]
    if len(chunks) > MAX_BLOCKS:
        blocks[-1] = section(f"…{len(chunks) - MAX_BLOCKS + 1} more parts left out.")
    if icon and blocks:
        blocks[0]["text"]["text"] = clip(f"{icon} {blocks[0]['text']['text']}", MAX_SECTION_TEXT)
    fallback = clip(f"{icon} {escaped}" if icon else escaped, MAX_MESSAGE_TEXT)
    return SlackMessage(fallback, blocks)


_REPLY_ICONS = {
    "error": ":warning:",
    "refused": ":lock:",
    "admin": ":memo:",
    "limited": ":hourglass:",
}


def reply_message(
    reply: Reply, contact: str, *, echo_question: bool = False, pages: ToolPages | None = None
) -> SlackMessage:
    """What `PolicyService.handle` said, as a Slack message."""
    if reply.answer is not None:
        # An answer's reply text is its `render_text`, made by the service already.
        return answer_message(
            reply.answer, contact, echo_question=echo_question, pages=pages, rendered=reply.text
        )
    return text_message(reply.text, icon=_REPLY_ICONS.get(reply.kind, ""))


def help_message(command: str, *, is_admin: bool, contact: str) -> SlackMessage:
    """What the bot does and how to ask; the admin commands too for admins."""
    ask = (
        "*Ask me whether you may use an AI tool*, in your own words:\n"
        f"• `{escape(command)} can I use Claude Code?` here: only you see the answer\n"
        "• mention me in a channel: I answer in a thread under your question\n"
        "• send me a direct message\n"
        + "".join(f"• {escape(what)}: _{escape(example)}_\n" for what, example in STAFF_EXAMPLES)
        + "Follow-ups in a DM or a thread are about my last answer there: "
        "_why?_, _what instead?_, _那用什么？_\n"
        f"`{escape(command)} list banned` lists tools by status.\n"
        "*When the answer is no*, use the buttons under the answer, or "
        f"`{escape(command)} request Kiro what you need it for`, "
        f"`{escape(command)} exception Claude Code --purpose … --data internal --days 30 --why …`, "
        f"`{escape(command)} watch Cursor`, `{escape(command)} exceptions`."
    )
    blocks = [section(ask)]
    lines = [ask]
    if is_admin:
        admin = (
            f"*Admin commands* (after `{escape(command)}`; `edit` and `add` open a form):\n"
            f"```{escape(usage())}```"
        )
        blocks.append(section(admin))
        lines.append(admin)
    else:
        note = f"Policies are kept by {escape(contact)}; ask them to change one."
        blocks.append(context(note))
        lines.append(note)
    return SlackMessage(clip("\n\n".join(lines), MAX_MESSAGE_TEXT), blocks)


def _chunks(lines: Sequence[str], limit: int) -> list[str]:
    """Lines joined into pieces of at most `limit` characters (a long line is clipped)."""
    chunks: list[str] = []
    current = ""
    for line in lines:
        line = clip(line, limit)
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            chunks.append(current)
            current = line
        else:
            current = candidate
    chunks.append(current)
    return [chunk if chunk.strip() else " " for chunk in chunks]


# -- the AI-app pane ---------------------------------------------------------------------------

# What the pane offers someone who opens it, in their language (Slack shows up to four): the
# prompt's title, and the message it sends when chosen. Help is how requests are explained.
SUGGESTED_PROMPTS = {
    "en": (
        ("Can I use Claude Code?", "Can I use Claude Code?"),
        ("What coding tools are approved?", "What coding tools are approved?"),
        ("What changed this month?", "What changed this month?"),
        ("How do I request a tool?", "help"),
    ),
    "zh": (
        ("我可以用 Claude Code 吗？", "我可以用 Claude Code 吗？"),
        ("哪些编程工具获批了？", "哪些编程工具获批了？"),
        ("这个月有什么变化？", "这个月有什么变化？"),
        ("怎么申请一个工具？", "help"),
    ),
}
_GREETINGS = {
    "en": (
        "Hi! Ask me whether you may use an AI tool, in your own words. Follow-ups in this "
        "thread are about my last answer: _why?_, _what instead?_"
    ),
    "zh": (
        "你好！用你自己的话问我能不能用某个 AI 工具。"
        "在这个对话里追问（为什么？用什么替代？）都是关于我上一个回答的。"
    ),
}
_KEPT_BY = {"en": "Policies are kept by {contact}.", "zh": "政策由 {contact} 维护。"}
_PROMPTS_TITLE = {"en": "Try asking", "zh": "可以这样问"}
MAX_THREAD_TITLE = 60  # Slack cuts longer titles in the pane's history


def pane_language(locale: str | None) -> str:
    """The phrasebook for a Slack locale (`zh-CN` -> `zh`); English for any other."""
    language = (locale or "en").split("-")[0].lower()
    return language if language in SUGGESTED_PROMPTS else "en"


def assistant_greeting(language: str, contact: str) -> SlackMessage:
    """The first message of an AI-app thread: what to ask, and who keeps the policies."""
    text = _GREETINGS[language]
    note = _KEPT_BY[language].format(contact=escape(contact))
    return SlackMessage(text, [section(text), context(note)])


def suggested_prompts(language: str) -> tuple[str, list[dict[str, str]]]:
    """The title and prompts for assistant.threads.setSuggestedPrompts."""
    prompts = [{"title": t, "message": m} for t, m in SUGGESTED_PROMPTS[language]]
    return _PROMPTS_TITLE[language], prompts


def thread_title(question: str) -> str:
    """The AI-app thread's title: the question, on one line, short."""
    return clip(" ".join(question.split()), MAX_THREAD_TITLE) or "?"


# -- shortcuts ---------------------------------------------------------------------------------

QUESTION_FORM = "policybot_question_form"
QUESTION_BLOCK = "question"


def question_form() -> dict[str, Any]:
    """The modal the global shortcut opens: one question, answered in the bot's DM."""
    return {
        "type": "modal",
        "callback_id": QUESTION_FORM,
        "title": plain("Ask policybot"),
        "submit": plain("Ask"),
        "close": plain("Cancel"),
        "blocks": [
            {
                "type": "input",
                "block_id": QUESTION_BLOCK,
                "label": plain("Your question"),
                "element": {
                    "type": "plain_text_input",
                    "action_id": "value",
                    "max_length": 500,
                    "placeholder": plain("Can I use Claude Code for internal code?"),
                },
                "hint": plain("The answer comes in your direct messages with policybot."),
            }
        ],
    }


def no_tools_named(contact: str) -> SlackMessage:
    """The message shortcut's reply when the message names no tool in the registry."""
    return text_message(
        f"That message names no AI tool the registry has a policy for. Ask {contact} "
        "about a tool that is not listed.",
        icon=":mag:",
    )


# -- link previews -----------------------------------------------------------------------------


def status_card(
    policy: ToolPolicy,
    alternatives: Sequence[ToolPolicy | str],
    *,
    today: dt.date | None,
    url: str,
) -> dict[str, Any]:
    """A catalogue link's preview (chat.unfurl): status, effective date, data, alternatives.

    `alternatives` are the policy's alternatives, resolved where the registry has them."""
    phrases = EN
    fields = []
    if policy.effective:
        fields.append(f"*{phrases.effective}*\n{policy.effective.isoformat()}")
    if policy.max_data or policy.status is Status.BANNED:
        data = phrases.data_names[policy.max_data] if policy.max_data else phrases.no_data
        fields.append(f"*{phrases.data_up_to}*\n{data}")
    blocks = [section(status_line(policy, today), fields)]
    named = [
        f"{STATUS_EMOJI[alt.status]} "
        + phrases.alternative.format(
            name=escape(alt.name), status=phrases.status_labels[alt.status]
        )
        if isinstance(alt, ToolPolicy)
        else phrases.alternative.format(name=escape(alt), status=phrases.not_in_registry)
        for alt in alternatives
    ]
    notes = [f"{_bold_label(phrases, phrases.instead)} {phrases.listing(named)}"] if named else []
    notes.append(f"<{escape(url)}|{phrases.catalogue_page}>")
    blocks.append(context(*notes))
    fallback = clip(unescape(status_line(policy, today)).replace("*", ""), MAX_MESSAGE_TEXT)
    return {"blocks": blocks, "fallback": fallback}
