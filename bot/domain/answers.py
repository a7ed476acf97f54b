"""Mentions + intent -> a structured Answer, and the plain-text renderer beside it. No I/O.

`answer_question` decides *what* to say (which tools, which part first); renderers decide
*how* (plain text here; Slack Block Kit lives in the Slack adapter and reads the same Answer).
"""

# Chinese cue words come with full-width punctuation, which RUF001/2 read as look-alikes.
# ruff: noqa: RUF001, RUF002, RUF003

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from bot.domain.lists import (
    NOT_USABLE,
    USABLE,
    ListIndex,
    ListQuery,
    group_by_status,
    read_list_query,
    vendor_product,
)
from bot.domain.matching import (
    MAX_READ_WORDS,
    PRODUCT_WORDS,
    Matcher,
    Mention,
    readable_part,
    strip_markup,
)
from bot.domain.names import NameIndex, name_key
from bot.domain.phrases import Phrases, phrases_for
from bot.domain.policy import DataClass, Status, ToolPolicy, data_allowed

__all__ = [
    "FACT_ORDER",
    "Answer",
    "AnswerKind",
    "Fact",
    "Intent",
    "Registry",
    "ToolAnswer",
    "ToolLayout",
    "VariantAnswer",
    "answer_question",
    "as_json",
    "detect_intent",
    "detect_language",
    "is_follow_up",
    "is_small_talk",
    "render_text",
    "scheduled_line",
    "tool_layout",
]


class Intent(StrEnum):
    """What the person wants to know about the tool; decides which part of the answer leads."""

    STATUS = "status"
    WHY = "why"
    INSTEAD = "instead"
    SINCE = "since"
    WHO = "who"
    DATA = "data"
    LIST = "list"  # a list of tools by status, vendor, category or data class


class AnswerKind(StrEnum):
    """What sort of reply an answer is; renderers and the question log go by it."""

    TOOLS = "tools"  # about the tools the question names (or the previous answer's)
    LIST = "list"  # the registry filtered by what the question asks
    VARIANT = "variant"  # a product of a registered family that is not registered itself
    NONE = "none"  # nothing in the registry: "no policy for …"
    SMALL_TALK = "small-talk"  # empty, greetings, thanks, emoji, too short: a short help reply


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


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Messages that ask nothing: greetings, thanks, acknowledgements (English and Chinese).
_SMALL_TALK_WORDS = _word_set(
    """
    hi hello hey hiya yo howdy morning afternoon evening good night gm thanks thank you thx ty
    tysm cheers ok okay k kk cool great nice awesome perfect got it understood noted sure yes
    no yep nope yeah bye see ya later lol haha hmm hm oh ah wow please pls bot there all team
    everyone guys folks much so very a lot appreciated welcome np sorry test testing ping
    policybot again
    """
)
_SMALL_TALK_ZH = re.compile(
    r"^(?:你好|您好|嗨|哈喽|早上好|早安|早|晚上好|下午好|谢谢|多谢|感谢|谢了|好的|好|嗯|嗯嗯|收到|"
    r"明白|明白了|知道了|了解|再见|拜拜|哈哈|在吗|测试|ok|OK)+[啊呀啦哈了吗呢!！。.~～\s]*$"
)
_LETTERS = re.compile(r"[^\W\d_]")


def is_small_talk(lower: str) -> bool:
    """True for messages that ask nothing: empty, emoji only, a greeting or thanks, too short.

    `lower` is the question as matching reads it (markup stripped), lower case."""
    text = lower.strip()
    if len(_LETTERS.findall(text[:64])) < 2:  # empty, emoji, punctuation, one letter
        return True
    if _IDEOGRAPH.search(text):
        return _SMALL_TALK_ZH.match(_PUNCTUATION.sub("", text)) is not None
    words = re.findall(r"[a-z']+", text)
    return bool(words) and len(words) <= 8 and all(w in _SMALL_TALK_WORDS for w in words)


_PUNCTUATION = re.compile(r"[\s,.!?！？。，~～:)(（）]+")
# Words that point back at the previous answer's tools: "can I put customer data in it?".
# Openers ("and …?", "what about …?", "那 …") are not enough: "and Figma?" asks about Figma.
_POINTS_BACK = re.compile(
    r"\b(?:it|its|it's|that|this|them|they|those|these|that one|this one|the tool|same)\b"
    r"|它|这个|那个|这些|那些"
)


def is_follow_up(lower: str, *, alone: bool = False) -> bool:
    """Whether a question that names no tool follows up on the previous answer.

    A follow-up cue ("why?", "what instead?", "since when?", "为什么？", "那用什么？") or a word
    pointing back ("in it", "that one") makes it one. With `alone`, only a short bare cue
    counts (for replying with help when there is no previous answer to follow)."""
    intent = detect_intent(lower)
    words = re.findall(r"[a-z']+|[\u3400-\u9fff]", lower[:200])
    asks_more = intent is not Intent.STATUS or _ASKS_DETAILS.search(lower[:200]) is not None
    if alone:
        return asks_more and len(words) <= 4
    if asks_more:
        return len(words) <= 14
    return points_back(lower) and len(words) <= 14


# Asking for more of the same policy: "what are the conditions?", "any limits?", "有什么要求？".
_ASKS_DETAILS = re.compile(
    r"\b(?:conditions?|requirements?|rules?|limits?|restrictions?|details?|caveats?|terms)\b"
    r"|条件|要求|限制|规定|细节"
)


def points_back(lower: str) -> bool:
    """Whether the question points back at something said before ("in it", "that one")."""
    return _POINTS_BACK.search(lower[:200]) is not None


_MAX_RELATED = 6  # tools of a vendor shown beside a product of theirs with no policy
_MAX_BROAD_QUESTION = 300  # characters read for lists, vendors' products and follow-ups


class Registry:
    """An immutable snapshot of every policy, with the Matcher and list indexes built for it.

    Each index is built the first time it is used, once: the catalogue's pages need none
    of the matcher's, and at 10,000 tools building every index took seconds.
    """

    def __init__(self, policies: Iterable[ToolPolicy]) -> None:
        self._policies: dict[str, ToolPolicy] = {}
        for policy in policies:
            self._policies[name_key(policy.name)] = policy
        self._building = threading.Lock()
        self._names: NameIndex | None = None
        self._matcher: Matcher | None = None
        self._lists: ListIndex | None = None

    @property
    def names(self) -> NameIndex:
        """Every name and alias -> its tool, by the one name rule of names.py."""
        if self._names is None:
            with self._building:
                if self._names is None:
                    self._names = NameIndex((p.name, p.aliases) for p in self._policies.values())
        return self._names

    @property
    def matcher(self) -> Matcher:
        """Finds the tools a question mentions (answers and search only)."""
        if self._matcher is None:
            with self._building:
                if self._matcher is None:
                    self._matcher = Matcher(self._policies.values())
        return self._matcher

    @property
    def lists(self) -> ListIndex:
        """The tools indexed for list questions (answers and search only)."""
        if self._lists is None:
            with self._building:
                if self._lists is None:
                    self._lists = ListIndex(self._policies.values())
        return self._lists

    def get(self, name: str) -> ToolPolicy | None:
        """The policy named `name` (or with that alias); None when there is no such tool."""
        canonical = self.names.tool_for(name)
        return self._policies.get(name_key(canonical)) if canonical else None

    @property
    def built(self) -> int:
        """How many of the indexes are built so far (0 to 3)."""
        return sum(index is not None for index in (self._names, self._matcher, self._lists))

    def keyed(self) -> Iterable[tuple[str, ToolPolicy]]:
        """Each policy with its name's key (`name_key`), as the snapshot already holds it."""
        return self._policies.items()

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
class VariantAnswer:
    """An unregistered product of a registered family, and that family's registered tools."""

    product: str  # as the question wrote it: "Claude API"
    related: tuple[ToolPolicy, ...]


@dataclass(frozen=True)
class Answer:
    """Everything a renderer needs to reply to one question."""

    question: str
    intent: Intent
    tools: tuple[ToolAnswer, ...]  # exactly the tools the answer is about (not for lists)
    suggestions: tuple[str, ...]
    topic: str = ""  # the question's content words, for "no policy for <topic>"
    today: dt.date | None = None  # the day the answer was given, for "since" vs "from"
    asked_data: DataClass | None = None  # a data class named in the question
    language: str = "en"  # the language the answer is worded in: "en" or "zh"
    cut: bool = False  # only the start of a very long message was read
    kind: AnswerKind = AnswerKind.TOOLS
    listing: ListQuery | None = None  # what a list answer filtered on
    listed: tuple[ToolPolicy, ...] = ()  # a list answer's tools, usable first
    variants: tuple[VariantAnswer, ...] = ()  # products asked about that have no policy
    follow_up: bool = False  # about the previous answer's tools in this conversation
    # (tool name, sentence) true for the asker only, e.g. their active exception to a ban.
    notes: tuple[tuple[str, str], ...] = ()

    def notes_for(self, tool: str) -> list[str]:
        return [text for name, text in self.notes if name == tool]

    @property
    def answered(self) -> bool:
        """True when the answer is about tools: named ones, or a list (even an empty one)."""
        return bool(self.tools) or self.kind is AnswerKind.LIST

    @property
    def tool_names(self) -> list[str]:
        """The tools the answer is about: for the question log, `ask --json` and follow-ups."""
        if self.kind is AnswerKind.LIST:
            return [policy.name for policy in self.listed]
        return [tool.policy.name for tool in self.tools]

    @property
    def logged(self) -> bool:
        """Whether the question belongs in the question log (small talk does not)."""
        return self.kind is not AnswerKind.SMALL_TALK


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


def _tool_answer(
    registry: Registry, policy: ToolPolicy, mention: Mention | None = None
) -> ToolAnswer:
    resolved = [(name, registry.get(name)) for name in policy.alternatives]
    return ToolAnswer(
        policy=policy,
        score=mention.score if mention else 100.0,
        ambiguous=mention.ambiguous if mention else False,
        alternatives=tuple(alt for _, alt in resolved if alt is not None),
        matched=mention.matched if mention else "",
        unknown_alternatives=tuple(name for name, alt in resolved if alt is None),
    )


def answer_question(
    question: str,
    registry: Registry,
    today: dt.date | None = None,
    *,
    previous: Sequence[str] = (),
) -> Answer:
    """The structured answer to `question`: the tools it names, their policies, the intent.

    `previous` holds the tools of the previous answer in the same conversation: a follow-up
    that names no tool ("why?", "那用什么？") is about them.
    """
    read, cut = readable_part(question)  # what matching reads; the cues come from it too
    result = registry.matcher.find(question)
    base = Answer(
        question=question,
        intent=detect_intent(read),
        tools=(),
        suggestions=result.suggestions,
        topic=result.topic,
        today=today or dt.datetime.now(dt.UTC).date(),
        asked_data=_asked_data(read),
        language=detect_language(read, result.mentions),
        cut=cut,
    )
    variants = tuple(
        VariantAnswer(
            v.product,
            tuple(p for p in (registry.get(name) for name in v.related) if p is not None),
        )
        for v in result.variants
    )
    tools = tuple(
        _tool_answer(registry, policy, mention)
        for mention in result.mentions
        if (policy := registry.get(mention.tool)) is not None
    )
    if tools:
        return replace(base, tools=tools, variants=variants)
    if variants:
        related = tuple(dict.fromkeys(p.name for v in variants for p in v.related))
        return replace(base, kind=AnswerKind.VARIANT, variants=variants, suggestions=related)
    # A list or a follow-up is asked in a sentence or two: only its start is read for them.
    cleaned = strip_markup(read)[:_MAX_BROAD_QUESTION]
    lower = cleaned.lower()
    product = vendor_product(lower, registry.lists.vendors, PRODUCT_WORDS)
    if product is not None:  # "the Anthropic API": a vendor's product with no policy
        (start, end), vendors = product
        family = registry.lists.select(ListQuery(vendors=tuple(sorted(vendors))))
        words = cleaned[start:end] if len(cleaned) == len(lower) else lower[start:end]
        variant = VariantAnswer(words, family[:_MAX_RELATED])
        return replace(
            base,
            kind=AnswerKind.VARIANT,
            variants=(variant,),
            suggestions=tuple(p.name for p in variant.related),
        )
    query = read_list_query(lower, registry.lists.vendors, registry.lists.category_words)
    context = [p for p in (registry.get(name) for name in previous) if p is not None]
    # "why?" after an answer is about its tools; "which tools are banned?" is a new list
    # unless it points back ("which of them are banned?").
    if context and is_follow_up(lower) and (query is None or points_back(lower)):
        return replace(
            base, tools=tuple(_tool_answer(registry, p) for p in context), follow_up=True
        )
    if query is not None:
        return replace(
            base,
            intent=Intent.LIST,
            kind=AnswerKind.LIST,
            listing=query,
            listed=registry.lists.select(query),
            suggestions=(),
        )
    if is_small_talk(lower) or is_follow_up(lower, alone=True):
        return replace(base, kind=AnswerKind.SMALL_TALK, suggestions=())
    return replace(base, kind=AnswerKind.NONE)


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
        if data_allowed(limit, asked):
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


# -- one layout of a tool's facts, walked by every renderer ------------------------------


class Fact(StrEnum):
    """One fact about a tool in an answer; `tool_layout` puts them in order."""

    STATUS = "status"
    SCHEDULED = "scheduled"  # a change already decided for a later day
    NOTE = "note"  # true for the asker only, e.g. their exception to a ban
    VENDOR = "vendor"
    EFFECTIVE = "effective"
    CONDITIONS = "conditions"
    DATA = "data"
    WHY = "why"
    INSTEAD = "instead"
    OWNER = "owner"
    LINK = "link"


# The one order of a tool's facts. Renderers walk it and decide only how each fact looks
# (plain text: a line; Slack: a line, a field or a context note) and which they leave out.
FACT_ORDER = tuple(Fact)
_ASKED_FACT = {
    Intent.WHY: Fact.WHY,
    Intent.INSTEAD: Fact.INSTEAD,
    Intent.WHO: Fact.OWNER,
    Intent.DATA: Fact.DATA,
}


@dataclass(frozen=True)
class ToolLayout:
    """The fact the question asks for (said first, as a lead), then the rest in order."""

    lead: Fact | None
    facts: tuple[Fact, ...]


def tool_layout(answer: Answer) -> ToolLayout:
    """How every renderer lays out each tool of `answer`."""
    lead = _ASKED_FACT.get(answer.intent)
    return ToolLayout(lead, tuple(fact for fact in FACT_ORDER if fact is not lead))


def _tool_block(tool: ToolAnswer, answer: Answer, contact: str, phrases: Phrases) -> list[str]:
    """The lines about one tool, walking `tool_layout`: the asked part first, as a lead."""
    policy = tool.policy
    name = policy.name
    owner = policy.owner or contact
    data = _data_line(policy, answer.asked_data, answer.today, phrases)
    alternatives = _alternatives(tool, phrases)
    layout = tool_layout(answer)
    # Each fact as a line in the body (None: nothing to say), and as the lead when asked
    # (the lead names the tool, since it comes before the status line does).
    body: dict[Fact, list[str | None]] = {
        Fact.STATUS: [_status_line(policy, answer.today, answer.intent is Intent.SINCE, phrases)],
        Fact.SCHEDULED: [scheduled_line(policy, phrases, phrases.status_words)],
        Fact.NOTE: list(answer.notes_for(name)),
        Fact.CONDITIONS: [
            phrases.label(phrases.conditions, policy.conditions) if policy.conditions else None
        ],
        Fact.DATA: [data],
        Fact.WHY: [phrases.label(phrases.why, policy.reason) if policy.reason else None],
        Fact.INSTEAD: [
            phrases.label(phrases.instead, alternatives) + phrases.stop if alternatives else None
        ],
        Fact.OWNER: [phrases.label(phrases.owner, policy.owner) if policy.owner else None],
        Fact.LINK: [phrases.label(phrases.more, policy.link) if policy.link else None],
    }
    lines: list[str | None] = []
    if layout.lead is Fact.DATA:
        # The data line continues the lead's sentence: "Tabnine: data up to: …".
        lines.append(
            phrases.data_lead.format(name=name, data=f"{data[0].lower()}{data[1:]}")
            if data
            else phrases.no_data_limit.format(name=name, contact=owner)
        )
    elif layout.lead is Fact.WHY:
        lines.append(
            phrases.why_lead.format(
                name=name,
                status=phrases.status_names[policy.status].replace("-", " "),
                reason=policy.reason,
            )
            if policy.reason
            else phrases.no_reason.format(name=name, contact=owner)
        )
    elif layout.lead is Fact.INSTEAD:
        lines.append(
            phrases.instead_lead.format(name=name, alternatives=alternatives)
            if alternatives
            else phrases.no_alternatives.format(name=name, contact=owner)
        )
    elif layout.lead is Fact.OWNER:
        lines.append(
            phrases.owner_lead.format(name=name, owner=policy.owner)
            if policy.owner
            else phrases.no_owner.format(name=name, contact=contact)
        )
    for fact in layout.facts:  # vendor and date: the plain status line says enough
        lines.extend(body.get(fact, ()))
    return [line for line in lines if line]


# -- lists and variants: what both renderers say -------------------------------------------


def list_heading(answer: Answer, phrases: Phrases, *, empty_contact: str | None = None) -> str:
    """ "Tools you may use from Microsoft for coding (3), usable first:" in the answer's words;
    with `empty_contact`, the line saying that nothing matched."""
    query = answer.listing or ListQuery()
    subject = phrases.list_subjects[_status_key(query.statuses)]
    filters = ""
    if query.vendors:
        filters += phrases.list_from.format(vendors=phrases.or_list(list(query.vendors)))
    if query.categories or query.category_values:
        names = [phrases.list_categories[c] for c in query.categories]
        names += [value.replace("-", " ") for value in query.category_values]
        filters += phrases.list_category.format(categories=phrases.or_list(names))
    if query.data is not None:
        filters += phrases.list_data.format(data=phrases.data_names[query.data])
    if empty_contact is not None:
        return phrases.list_empty.format(subject=subject, filters=filters, contact=empty_contact)
    return phrases.list_heading.format(subject=subject, filters=filters, count=len(answer.listed))


def _status_key(statuses: frozenset[Status]) -> str:
    if not statuses:
        return "any"
    if statuses == USABLE:
        return "usable"
    if statuses == NOT_USABLE:
        return "not-usable"
    (only,) = statuses
    return only.value


def list_groups(answer: Answer) -> list[tuple[Status, list[ToolPolicy]]]:
    """A list answer's tools grouped by status, usable first."""
    return group_by_status(answer.listed)


def variant_lines(answer: Answer, phrases: Phrases, *, aside: bool = False) -> list[str]:
    """What is said about products that have no policy: each, and its family's tools."""
    lines = []
    for variant in answer.variants:
        names = phrases.listing(
            [
                phrases.alternative.format(name=p.name, status=phrases.status_names[p.status])
                for p in variant.related
            ]
        )
        if aside:
            lines.append(phrases.variant_aside.format(product=variant.product, names=names))
            continue
        lines.append(phrases.variant_none.format(product=variant.product))
        if variant.related:
            lines.append(phrases.variant_related.format(product=variant.product, names=names))
    return lines


def render_text(answer: Answer, contact: str) -> str:
    """The answer as plain text for the console and CLI; `contact` is who to ask otherwise.

    The bot's own words are in the answer's language; policy texts stay as written.
    """
    phrases = phrases_for(answer.language)
    cut_note = [phrases.cut.format(words=MAX_READ_WORDS)] if answer.cut else []
    if answer.kind is AnswerKind.SMALL_TALK:
        return phrases.small_talk
    if answer.kind is AnswerKind.LIST:
        if not answer.listed:
            return "\n".join([list_heading(answer, phrases, empty_contact=contact), *cut_note])
        lines = [list_heading(answer, phrases)]
        for status, members in list_groups(answer):
            lines.append(
                phrases.list_group.format(
                    label=phrases.status_labels[status].capitalize(),
                    count=len(members),
                    names=phrases.listing([p.name for p in members]),
                )
            )
        return "\n".join(lines + cut_note)
    if answer.kind is AnswerKind.VARIANT:
        lines = variant_lines(answer, phrases)
        return "\n".join([*lines, phrases.ask.format(contact=contact), *cut_note])
    if not answer.answered:
        lines = [phrases.no_policy.format(topic=answer.topic or answer.question)]
        if answer.suggestions:
            lines.append(phrases.did_you_mean.format(names=phrases.or_list(answer.suggestions)))
        lines.append(phrases.ask.format(contact=contact))
        return "\n".join(lines + cut_note)

    blocks: list[str] = []
    if answer.follow_up:
        blocks.append(phrases.follow_up.format(names=phrases.listing(answer.tool_names)))
    announced: set[str] = set()
    for tool in answer.tools:
        if tool.ambiguous and tool.matched.lower() not in announced:
            announced.add(tool.matched.lower())
            names = [t.policy.name for t in answer.tools if t.matched == tool.matched]
            blocks.append(
                phrases.ambiguous.format(matched=tool.matched, names=phrases.listing(names))
            )
        blocks.append("\n".join(_tool_block(tool, answer, contact, phrases)))
    blocks.extend(variant_lines(answer, phrases, aside=True))
    return "\n\n".join(blocks + cut_note)


def as_json(answer: Answer, text: str) -> dict[str, Any]:
    """The answer as a JSON-ready dict, with the rendered `text` beside it."""
    matches = [
        {
            "tool": tool.policy.name,
            "status": tool.policy.status.value,
            "score": tool.score,
            "ambiguous": tool.ambiguous,
        }
        for tool in answer.tools
    ] + [
        {"tool": p.name, "status": p.status.value, "score": 100.0, "ambiguous": False}
        for p in answer.listed
    ]
    return {
        "question": answer.question,
        "intent": answer.intent.value,
        "kind": answer.kind.value,
        "language": answer.language,
        "matches": matches,
        "suggestions": list(answer.suggestions),
        "follow_up": answer.follow_up,
        "text": text,
    }
