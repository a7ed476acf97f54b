"""Mentions + intent -> a structured Answer, and the plain-text renderer beside it. No I/O.

`answer_question` decides *what* to say (which tools, which part first); renderers decide
*how* (plain text here; Slack Block Kit lives in the Slack adapter and reads the same Answer).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bot.core.matching import MAX_READ_WORDS, Matcher, Mention, readable_part, strip_markup
from bot.core.names import NameIndex, name_key
from bot.core.phrases import Phrases, phrases_for
from bot.core.policy import DataClass, Status, ToolPolicy

__all__ = [
    "Answer",
    "Intent",
    "Registry",
    "ToolAnswer",
    "answer_question",
    "as_json",
    "detect_intent",
    "detect_language",
    "render_text",
    "scheduled_line",
]


class Intent(StrEnum):
    """What the person wants to know about the tool; decides which part of the answer leads."""

    STATUS = "status"
    WHY = "why"
    INSTEAD = "instead"
    SINCE = "since"
    WHO = "who"
    DATA = "data"


# Checked in this order; the first intent with a cue wins ("why ... instead" is a why).
_INTENT_CUES: tuple[tuple[Intent, re.Pattern[str]], ...] = (
    (
        Intent.WHY,
        re.compile(r"\bwhy\b|\bhow come\b|\breasons?\b|\brationale\b|为什么|为何|原因|理由"),
    ),
    (
        Intent.INSTEAD,
        re.compile(
            r"\binstead\b|\balternatives?\b|\breplacements?\b|\bsubstitutes?\b|\brather than\b"
            r"|\bwhat (?:else|other)\b|\bswitch to\b|替代|代替|替换|换成|用什么|改用|还能用"
        ),
    ),
    (
        Intent.SINCE,
        re.compile(
            r"\bsince when\b|^\s*when\b|\b(?:from|until|till) when\b|\bwhen (?:was|did|does|"
            r"will|is|do|were|are|has|had)\b|\beffective\b|\bstart(?:s|ing)? date\b|\bdeadline\b"
            r"|什么时候|从何时|何时|哪天|生效|截止"
        ),
    ),
    (
        Intent.WHO,
        re.compile(
            r"\bwho(?:m|se)?\b|\bcontact\b|\bowners?\b|\bowns\b|\bresponsible\b|\breach out\b"
            r"|\bask (?:for|about) (?:an? )?(?:exception|approval|access)\b|\bapprover\b"
            r"|谁|联系|负责|找谁"
        ),
    ),
    (
        Intent.DATA,
        re.compile(
            r"\bdata\b|\bcustomers?\b|\bclients?\b|\bconfidential\b|\brestricted\b|\binternal\b"
            r"|\bpii\b|\bpersonal\b|\bsecrets?\b|\bsensitive\b|\bproprietary\b|\bgdpr\b"
            r"|数据|客户|机密|敏感|内部|隐私"
        ),
    ),
)


def detect_intent(text: str) -> Intent:
    """The follow-up a question asks for, from English and Chinese cue words; STATUS otherwise."""
    cleaned = strip_markup(text).lower()
    for intent, cue in _INTENT_CUES:
        if cue.search(cleaned):
            return intent
    return Intent.STATUS


class Registry:
    """An immutable snapshot of every policy, with the Matcher built for it."""

    def __init__(self, policies: Iterable[ToolPolicy]) -> None:
        self._policies: dict[str, ToolPolicy] = {}
        for policy in policies:
            self._policies[name_key(policy.name)] = policy
        # Every name and alias -> its tool, by the one name rule of names.py.
        self.names = NameIndex((p.name, p.aliases) for p in self._policies.values())
        self.matcher = Matcher(self._policies.values())

    def get(self, name: str) -> ToolPolicy | None:
        """The policy named `name` (or with that alias); None when there is no such tool."""
        canonical = self.names.tool_for(name)
        return self._policies.get(name_key(canonical)) if canonical else None

    def __len__(self) -> int:
        return len(self._policies)

    def __iter__(self) -> Iterator[ToolPolicy]:
        return iter(self._policies.values())


@dataclass(frozen=True)
class ToolAnswer:
    """One tool the answer is about."""

    policy: ToolPolicy
    score: float
    ambiguous: bool
    alternatives: tuple[ToolPolicy, ...]  # resolved, with their own status
    matched: str = ""  # the words of the question that named it
    unknown_alternatives: tuple[str, ...] = ()  # listed alternatives missing from the registry


@dataclass(frozen=True)
class Answer:
    """Everything a renderer needs to reply to one question."""

    question: str
    intent: Intent
    tools: tuple[ToolAnswer, ...]  # exactly the tools the answer is about
    suggestions: tuple[str, ...]
    topic: str = ""  # the question's content words, for "no policy for <topic>"
    today: dt.date | None = None  # the day the answer was given, for "since" vs "from"
    asked_data: DataClass | None = None  # a data class named in the question
    language: str = "en"  # the language the answer is worded in: "en" or "zh"
    cut: bool = False  # only the start of a very long message was read
    # (tool name, sentence) true for the asker only, e.g. their active exception to a ban.
    notes: tuple[tuple[str, str], ...] = ()

    def notes_for(self, tool: str) -> list[str]:
        return [text for name, text in self.notes if name == tool]

    @property
    def answered(self) -> bool:
        """True when at least one tool matched."""
        return bool(self.tools)


_DATA_WORDS: dict[str, DataClass] = {
    "public": DataClass.PUBLIC,
    "internal": DataClass.INTERNAL,
    "confidential": DataClass.CONFIDENTIAL,
    "restricted": DataClass.RESTRICTED,
    "公开": DataClass.PUBLIC,
    "内部": DataClass.INTERNAL,
    "机密": DataClass.CONFIDENTIAL,
    "受限": DataClass.RESTRICTED,
}
_DATA_ORDER = list(DataClass)


def _asked_data(text: str) -> DataClass | None:
    """The most sensitive data class the question names, if any ("internal code")."""
    lower = strip_markup(text).lower()
    named = [
        data
        for word, data in _DATA_WORDS.items()
        if (word in lower if not word.isascii() else re.search(rf"\b{word}\b", lower))
    ]
    return max(named, key=_DATA_ORDER.index) if named else None


# CJK ideographs (Chinese characters); Chinese punctuation alone does not make text Chinese.
_IDEOGRAPH = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def detect_language(question: str, mentions: Iterable[Mention] = ()) -> str:
    """The answer's language: "zh" when Chinese words remain besides the tool names, else "en".

    Slack markup and the matched names are taken out first, so "can I use 通义灵码?" is
    English while "通义灵码能用吗" and "我可以用Claude Code吗" are Chinese.
    """
    remaining = strip_markup(question).lower()
    for mention in mentions:
        remaining = remaining.replace(mention.matched.lower(), " ")
    return "zh" if _IDEOGRAPH.search(remaining) else "en"


def answer_question(question: str, registry: Registry, today: dt.date | None = None) -> Answer:
    """The structured answer to `question`: the tools it names, their policies, the intent."""
    result = registry.matcher.find(question)
    read, cut = readable_part(question)  # what matching read; the cues come from it too
    tools: list[ToolAnswer] = []
    for mention in result.mentions:
        policy = registry.get(mention.tool)
        if policy is None:  # the matcher and registry come from one snapshot; never expected
            continue
        resolved = [(name, registry.get(name)) for name in policy.alternatives]
        tools.append(
            ToolAnswer(
                policy=policy,
                score=mention.score,
                ambiguous=mention.ambiguous,
                alternatives=tuple(alt for _, alt in resolved if alt is not None),
                matched=mention.matched,
                unknown_alternatives=tuple(name for name, alt in resolved if alt is None),
            )
        )
    return Answer(
        question=question,
        intent=detect_intent(read),
        tools=tuple(tools),
        suggestions=result.suggestions,
        topic=result.topic,
        today=today or dt.datetime.now(dt.UTC).date(),
        asked_data=_asked_data(read),
        language=detect_language(read, result.mentions),
        cut=cut,
    )


# -- plain-text rendering ---------------------------------------------------------------


def _status_line(
    policy: ToolPolicy, today: dt.date | None, date_first: bool, phrases: Phrases
) -> str:
    fill = {
        "name": policy.name,
        "word": phrases.status_words[policy.status],
        "gloss": phrases.status_glosses[policy.status],
        "date": policy.effective.isoformat() if policy.effective else "",
    }
    if policy.effective is None:
        frame = phrases.status_undated_date_first if date_first else phrases.status_undated
    elif _in_future(policy, today):
        frame = phrases.status_from_date_first if date_first else phrases.status_from
    else:
        frame = phrases.status_since_date_first if date_first else phrases.status_since
    return frame.format(**fill)


def scheduled_line(policy: ToolPolicy, phrases: Phrases, words: Mapping[Status, str]) -> str | None:
    """ "From 2026-12-15 it will be BANNED." for a change decided for a later day."""
    if policy.scheduled is None:
        return None
    return phrases.scheduled.format(
        date=policy.scheduled.effective.isoformat(), word=words[policy.scheduled.status]
    )


def _data_line(
    policy: ToolPolicy, asked: DataClass | None, today: dt.date | None, phrases: Phrases
) -> str | None:
    limit = policy.max_data
    if limit is None:
        banned_now = policy.status is Status.BANNED and not _in_future(policy, today)
        return phrases.label(phrases.data, phrases.no_data) + phrases.stop if banned_now else None
    limit_name = phrases.data_names[limit]
    line = phrases.label(phrases.data_up_to, limit_name) + phrases.stop
    if asked is not None:
        asked_name = phrases.data_names[asked]
        if _DATA_ORDER.index(asked) <= _DATA_ORDER.index(limit):
            # capitalize() starts the English sentence; it leaves Chinese as it is.
            line += phrases.data_within.format(asked=asked_name.capitalize())
        else:
            line += phrases.data_beyond.format(asked=asked_name, limit=limit_name)
    return line


def _in_future(policy: ToolPolicy, today: dt.date | None) -> bool:
    return policy.effective is not None and today is not None and policy.effective > today


def _alternatives(tool: ToolAnswer, phrases: Phrases) -> str | None:
    names = [
        phrases.alternative.format(name=alt.name, status=phrases.status_names[alt.status])
        for alt in tool.alternatives
    ]
    names += [
        phrases.alternative.format(name=name, status=phrases.not_in_registry)
        for name in tool.unknown_alternatives
    ]
    return phrases.listing(names) if names else None


def _tool_block(tool: ToolAnswer, answer: Answer, contact: str, phrases: Phrases) -> list[str]:
    """The lines about one tool, with the part the intent asks for first."""
    policy = tool.policy
    name = policy.name
    owner = policy.owner or contact
    data = _data_line(policy, answer.asked_data, answer.today, phrases)
    alternatives = _alternatives(tool, phrases)
    # Each follow-up part: its line in the body, and its lead when the question asks for it
    # (the lead names the tool, since it comes before the status line does).
    parts: dict[Intent, tuple[str | None, str]] = {
        Intent.DATA: (
            data,
            # The data line continues the lead's sentence: "Tabnine: data up to: …".
            phrases.data_lead.format(name=name, data=f"{data[0].lower()}{data[1:]}")
            if data
            else phrases.no_data_limit.format(name=name, contact=owner),
        ),
        Intent.WHY: (
            phrases.label(phrases.why, policy.reason) if policy.reason else None,
            phrases.why_lead.format(
                name=name,
                status=phrases.status_names[policy.status].replace("-", " "),
                reason=policy.reason,
            )
            if policy.reason
            else phrases.no_reason.format(name=name, contact=owner),
        ),
        Intent.INSTEAD: (
            phrases.label(phrases.instead, alternatives) + phrases.stop if alternatives else None,
            phrases.instead_lead.format(name=name, alternatives=alternatives)
            if alternatives
            else phrases.no_alternatives.format(name=name, contact=owner),
        ),
        Intent.WHO: (
            phrases.label(phrases.owner, policy.owner) if policy.owner else None,
            phrases.owner_lead.format(name=name, owner=policy.owner)
            if policy.owner
            else phrases.no_owner.format(name=name, contact=contact),
        ),
    }
    lines: list[str | None] = []
    if answer.intent in parts:
        lines.append(parts[answer.intent][1])
    date_first = answer.intent is Intent.SINCE
    lines.append(_status_line(policy, answer.today, date_first, phrases))
    lines.append(scheduled_line(policy, phrases, phrases.status_words))
    lines.append(
        phrases.label(phrases.conditions, policy.conditions) if policy.conditions else None
    )
    lines.extend(body for intent, (body, _) in parts.items() if intent is not answer.intent)
    lines.append(phrases.label(phrases.more, policy.link) if policy.link else None)
    return [line for line in lines if line]


def render_text(answer: Answer, contact: str) -> str:
    """The answer as plain text for the console and CLI; `contact` is who to ask otherwise.

    The bot's own words are in the answer's language; policy texts stay as written.
    """
    phrases = phrases_for(answer.language)
    cut_note = [phrases.cut.format(words=MAX_READ_WORDS)] if answer.cut else []
    if not answer.answered:
        lines = [phrases.no_policy.format(topic=answer.topic or answer.question)]
        if answer.suggestions:
            lines.append(phrases.did_you_mean.format(names=phrases.or_list(answer.suggestions)))
        lines.append(phrases.ask.format(contact=contact))
        return "\n".join(lines + cut_note)

    blocks: list[str] = []
    announced: set[str] = set()
    for tool in answer.tools:
        if tool.ambiguous and tool.matched.lower() not in announced:
            announced.add(tool.matched.lower())
            names = [t.policy.name for t in answer.tools if t.matched == tool.matched]
            blocks.append(
                phrases.ambiguous.format(matched=tool.matched, names=phrases.listing(names))
            )
        lines = _tool_block(tool, answer, contact, phrases)
        notes = answer.notes_for(tool.policy.name)
        if notes:  # right after the status line: "… is BANNED. You have an exception …"
            status = _status_line(tool.policy, answer.today, answer.intent is Intent.SINCE, phrases)
            at = lines.index(status) + 1 if status in lines else len(lines)
            lines[at:at] = notes
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks + cut_note)


def as_json(answer: Answer, text: str) -> dict[str, Any]:
    """The answer as a JSON-ready dict, with the rendered `text` beside it."""
    return {
        "question": answer.question,
        "intent": answer.intent.value,
        "language": answer.language,
        "matches": [
            {
                "tool": tool.policy.name,
                "status": tool.policy.status.value,
                "score": tool.score,
                "ambiguous": tool.ambiguous,
            }
            for tool in answer.tools
        ],
        "suggestions": list(answer.suggestions),
        "text": text,
    }
