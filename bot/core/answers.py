"""Mentions + intent -> a structured Answer, and the plain-text renderer beside it. No I/O.

`answer_question` decides *what* to say (which tools, which part first); renderers decide
*how* (plain text here; Slack Block Kit lives in the Slack adapter and reads the same Answer).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bot.core.matching import Matcher, strip_markup
from bot.core.policy import DataClass, Status, ToolPolicy

__all__ = [
    "Answer",
    "Intent",
    "Registry",
    "ToolAnswer",
    "answer_question",
    "as_json",
    "detect_intent",
    "render_text",
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
            self._policies[policy.name.casefold()] = policy
        self.matcher = Matcher(self._policies.values())

    def get(self, name: str) -> ToolPolicy | None:
        """The policy named `name`, any case; None when the registry has no such tool."""
        return self._policies.get(name.strip().casefold())

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


def answer_question(question: str, registry: Registry, today: dt.date | None = None) -> Answer:
    """The structured answer to `question`: the tools it names, their policies, the intent."""
    result = registry.matcher.find(question)
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
        intent=detect_intent(question),
        tools=tuple(tools),
        suggestions=result.suggestions,
        topic=result.topic,
        today=today or dt.datetime.now(dt.UTC).date(),
        asked_data=_asked_data(question),
    )


# -- plain-text rendering ---------------------------------------------------------------

_STATUS_WORDS = {
    Status.ALLOWED: "ALLOWED",
    Status.CONDITIONAL: "CONDITIONAL",
    Status.UNDER_REVIEW: "UNDER REVIEW",
    Status.BANNED: "BANNED",
}
_STATUS_GLOSS = {
    Status.ALLOWED: "",
    Status.CONDITIONAL: " (allowed only under the conditions below)",
    Status.UNDER_REVIEW: " (not approved yet: don't use it for work until it is decided)",
    Status.BANNED: "",
}


def _status_line(policy: ToolPolicy, today: dt.date | None, date_first: bool) -> str:
    word = _STATUS_WORDS[policy.status]
    gloss = _STATUS_GLOSS[policy.status]
    effective = policy.effective
    if effective is None:
        if date_first:
            return f"{policy.name} is {word}{gloss}; no effective date is recorded."
        return f"{policy.name} is {word}{gloss}."
    if _in_future(policy, today):
        if date_first:
            return f"From {effective.isoformat()}, {policy.name} will be {word}{gloss}."
        return f"{policy.name} will be {word} from {effective.isoformat()}{gloss}."
    if date_first:
        return f"Since {effective.isoformat()}, {policy.name} is {word}{gloss}."
    return f"{policy.name} is {word} since {effective.isoformat()}{gloss}."


def _data_line(policy: ToolPolicy, asked: DataClass | None, today: dt.date | None) -> str | None:
    limit = policy.max_data
    if limit is None:
        banned_now = policy.status is Status.BANNED and not _in_future(policy, today)
        return "Data: none, the tool is banned." if banned_now else None
    line = f"Data up to: {limit.value}."
    if asked is not None:
        if _DATA_ORDER.index(asked) <= _DATA_ORDER.index(limit):
            line += f" {asked.value.capitalize()} data is within that limit."
        else:
            line += f" Not {asked.value} data: that is more sensitive than {limit.value}."
    return line


def _in_future(policy: ToolPolicy, today: dt.date | None) -> bool:
    return policy.effective is not None and today is not None and policy.effective > today


def _alternatives(tool: ToolAnswer) -> str | None:
    names = [f"{alt.name} ({alt.status.value})" for alt in tool.alternatives]
    names += [f"{name} (not in the registry)" for name in tool.unknown_alternatives]
    return ", ".join(names) if names else None


def _tool_block(tool: ToolAnswer, answer: Answer, contact: str) -> list[str]:
    """The lines about one tool, with the part the intent asks for first."""
    policy = tool.policy
    name = policy.name
    owner = policy.owner or contact
    data = _data_line(policy, answer.asked_data, answer.today)
    alternatives = _alternatives(tool)
    # Each follow-up part: its line in the body, and its lead when the question asks for it
    # (the lead names the tool, since it comes before the status line does).
    parts: dict[Intent, tuple[str | None, str]] = {
        Intent.DATA: (
            data,
            f"{name}: {data[0].lower()}{data[1:]}"
            if data
            else f"No data limit is recorded for {name}; ask {owner} first.",
        ),
        Intent.WHY: (
            f"Why: {policy.reason}" if policy.reason else None,
            f"Why {name} is {policy.status.value.replace('-', ' ')}: {policy.reason}"
            if policy.reason
            else f"No reason is recorded for {name}; ask {owner}.",
        ),
        Intent.INSTEAD: (
            f"Instead use: {alternatives}." if alternatives else None,
            f"Instead of {name}, use: {alternatives}."
            if alternatives
            else f"No alternatives are listed for {name}; ask {owner}.",
        ),
        Intent.WHO: (
            f"Owner: {policy.owner}" if policy.owner else None,
            f"Owner of {name}: {policy.owner}"
            if policy.owner
            else f"No owner is recorded for {name}; ask {contact}.",
        ),
    }
    lines: list[str | None] = []
    if answer.intent in parts:
        lines.append(parts[answer.intent][1])
    lines.append(_status_line(policy, answer.today, date_first=answer.intent is Intent.SINCE))
    lines.append(f"Conditions: {policy.conditions}" if policy.conditions else None)
    lines.extend(body for intent, (body, _) in parts.items() if intent is not answer.intent)
    lines.append(f"More: {policy.link}" if policy.link else None)
    return [line for line in lines if line]


def render_text(answer: Answer, contact: str) -> str:
    """The answer as plain text for the console and CLI; `contact` is who to ask otherwise."""
    if not answer.answered:
        lines = [f"There is no policy for “{answer.topic or answer.question}” in the registry."]
        if answer.suggestions:
            lines.append(f"Did you mean {_or_list(answer.suggestions)}?")
        lines.append(f"Ask {contact}.")
        return "\n".join(lines)

    blocks: list[str] = []
    announced: set[str] = set()
    for tool in answer.tools:
        if tool.ambiguous and tool.matched.lower() not in announced:
            announced.add(tool.matched.lower())
            names = [t.policy.name for t in answer.tools if t.matched == tool.matched]
            blocks.append(
                f"“{tool.matched}” matches several tools: {', '.join(names)}. "
                "Here is the policy for each:"
            )
        blocks.append("\n".join(_tool_block(tool, answer, contact)))
    return "\n\n".join(blocks)


def _or_list(names: tuple[str, ...]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def as_json(answer: Answer, text: str) -> dict[str, Any]:
    """The answer as a JSON-ready dict, with the rendered `text` beside it."""
    return {
        "question": answer.question,
        "intent": answer.intent.value,
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
