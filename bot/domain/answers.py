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

from bot.domain.frame import Asked, Frame, read_frame
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
from bot.domain.vocabulary import Vocabulary

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
    "access_lines",
    "answer_question",
    "as_json",
    "changes_lines",
    "detect_intent",
    "detect_language",
    "frame_lead",
    "is_follow_up",
    "is_small_talk",
    "list_verdict",
    "render_text",
    "scheduled_line",
    "tool_layout",
    "verdict_line",
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
    CHANGES = "changes"  # what changed in a period, or what is scheduled to change
    ACCESS = "access"  # how to get a tool approved or reviewed, and who decides
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
            r"|\bwhat (?:else|other)\b|\bswitch to\b|\bwhat (?:do|should) (?:i|we) use\b"
            r"|替代|代替|替换|换成|用什么|改用|还能用"
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

    def __init__(self, policies: Iterable[ToolPolicy], vocabulary: Vocabulary) -> None:
        self._policies: dict[str, ToolPolicy] = {}
        for policy in policies:
            self._policies[name_key(policy.name)] = policy
        self.vocabulary = vocabulary
        self._capable: dict[str, tuple[ToolPolicy, ...]] = {}
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
                    self._lists = ListIndex(self._policies.values(), self.vocabulary.categories)
        return self._lists

    def capable(self, capability: str) -> tuple[ToolPolicy, ...]:
        """The tools that do what a capability names, usable first (built once per name)."""
        found = self._capable.get(capability)
        if found is not None:
            return found
        entry = next(c for c in self.vocabulary.capabilities if c.name == capability)
        chosen = []
        for policy in self.lists.all:
            names = " ".join((policy.name, *policy.aliases)).lower()
            if any(word in names for word in entry.tool_words) or (
                entry.category and self.vocabulary.category_holds(policy.category, entry.category)
            ):
                chosen.append(policy)
        self._capable[capability] = tuple(chosen)
        return self._capable[capability]

    def with_policies(self, changed: Iterable[ToolPolicy]) -> Registry:
        """This registry with some tools' policies replaced by others of the same names and
        aliases (one audience's): the name index and the matcher are shared, not rebuilt."""
        derived = Registry((), self.vocabulary)
        derived._policies = dict(self._policies)
        for policy in changed:
            derived._policies[name_key(policy.name)] = policy
        derived._names = self.names
        derived._matcher = self.matcher
        return derived

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
    frame: Frame | None = None  # the question as read
    capability: str = ""  # a list of the tools that do what the question names
    family: tuple[ToolPolicy, ...] = ()  # a vendor list: every tool of the vendor

    def notes_for(self, tool: str) -> list[str]:
        return [text for name, text in self.notes if name == tool]

    @property
    def answered(self) -> bool:
        """True when the answer is about tools: named ones, a list (even an empty one), the
        changes of a period or how to ask for access."""
        return bool(self.tools) or self.kind in (
            AnswerKind.LIST,
            AnswerKind.CHANGES,
            AnswerKind.ACCESS,
        )

    @property
    def yes_no(self) -> bool:
        """Whether the answer opens with a verdict ("No." / "Yes." / "Only if …")."""
        return self.frame is not None and self.frame.yes_no

    @property
    def tool_names(self) -> list[str]:
        """The tools the answer is about: for the question log, `ask --json` and follow-ups."""
        if self.kind in (AnswerKind.LIST, AnswerKind.CHANGES):
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
    """The structured answer to `question`, composed from its frame (`read_frame`).

    `previous` holds the tools of the previous answer in the same conversation: a follow-up
    that names no tool ("why?", "那用什么？") is about them.
    """
    read, cut = readable_part(question)  # what matching reads; the cues come from it too
    result = registry.matcher.find(question)
    day = today or dt.datetime.now(dt.UTC).date()
    intent = detect_intent(read)
    vocabulary = registry.vocabulary
    lower_read = strip_markup(read).lower()
    data, _ = vocabulary.data_named(lower_read)
    base = Answer(
        question=question,
        intent=intent,
        tools=(),
        suggestions=result.suggestions,
        topic=result.topic,
        today=day,
        asked_data=data if data is not None else _asked_data(read),
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

    def framed(asks_list: bool = False, continues: bool = False) -> Frame:
        frame = read_frame(
            lower_read,
            vocabulary,
            day,
            intent=intent.value,
            tools=tuple(t.policy.name for t in tools),
            products=tuple(v.product for v in variants),
            asks_list=asks_list,
        )
        return replace(frame, continues=continues) if continues else frame

    if tools:
        return replace(base, tools=tools, variants=variants, frame=framed())
    if variants:
        related = tuple(dict.fromkeys(p.name for v in variants for p in v.related))
        return replace(
            base,
            kind=AnswerKind.VARIANT,
            variants=variants,
            suggestions=related,
            frame=framed(),
        )
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
            frame=framed(),
        )
    # Vendors named in Chinese ("阿里的工具") read as the registry's vendor words.
    vendor_words = [w for w in vocabulary.vendor_words(lower) if w in registry.lists.vendors]
    listed_text = " ".join([lower, *vendor_words])
    query = read_list_query(
        listed_text, vocabulary, registry.lists.vendors, registry.lists.category_words
    )
    if query is None and vendor_words and len(_IDEOGRAPH.findall(lower)) <= 8:
        query = read_list_query(  # "腾讯的呢": just a vendor
            listed_text, vocabulary, registry.lists.vendors, registry.lists.category_words, cue=True
        )
    frame = framed(asks_list=query is not None)
    context = [p for p in (registry.get(name) for name in previous) if p is not None]
    general = not points_back(lower)
    if frame.asked in (Asked.CHANGED, Asked.WILL_CHANGE) and general:
        return _changes_answer(base, frame, registry, listed_text)
    if frame.asked is Asked.ACCESS or (frame.asked is Asked.WHO and general and not context):
        return replace(
            base, kind=AnswerKind.ACCESS, suggestions=(), frame=replace(frame, asked=Asked.ACCESS)
        )
    # "why?" after an answer is about its tools; "which tools are banned?" is a new list
    # unless it points back ("which of them are banned?").
    if context and is_follow_up(lower) and (query is None or points_back(lower)):
        return replace(
            base,
            tools=tuple(_tool_answer(registry, p) for p in context),
            follow_up=True,
            frame=framed(continues=True),
        )
    capability = next((c for c in vocabulary.capabilities if c.name == frame.capability), None)
    capable = registry.capable(capability.name) if capability is not None else ()
    # "can I use AI to write code?" asks for the tools that do it; a list question with a
    # category of its own ("which coding tools…") keeps its filters.
    plain_list = query is not None and not (query.vendors or query.categories)
    if capable and (query is None or plain_list):
        assert capability is not None
        statuses = query.statuses if query is not None else frozenset()
        keep = replace(query, categories=(), category_values=()) if query else ListQuery()
        listed = tuple(p for p in capable if keep.accepts(p))
        return replace(
            base,
            intent=Intent.LIST,
            kind=AnswerKind.LIST,
            listing=ListQuery(statuses=statuses, data=keep.data),
            listed=listed or capable,
            capability=capability.name,
            suggestions=(),
            frame=replace(frame, asked=Asked.LIST),
        )
    if query is not None:
        # A vendor's list opens with a verdict over every tool of the vendor, whatever the
        # list's status filter keeps ("anything from Anthropic we may use?" -> "No. …").
        every = replace(query, statuses=frozenset())
        family = registry.lists.select(every) if query.vendors else ()
        return replace(
            base,
            intent=Intent.LIST,
            kind=AnswerKind.LIST,
            listing=query,
            listed=registry.lists.select(query),
            family=tuple(family),
            suggestions=(),
            frame=replace(frame, asked=Asked.LIST, vendors=query.vendors),
        )
    if is_small_talk(lower) or is_follow_up(lower, alone=True):
        return replace(base, kind=AnswerKind.SMALL_TALK, suggestions=())
    return replace(base, kind=AnswerKind.NONE, frame=frame)


_MAX_CHANGES = 20  # changes listed in one answer; the catalogue has the rest


def _changes_answer(base: Answer, frame: Frame, registry: Registry, text: str) -> Answer:
    """What changed in the period asked about (newest first), or what is scheduled."""
    query = read_list_query(
        text, registry.vocabulary, registry.lists.vendors, registry.lists.category_words, cue=True
    )
    today = base.today or dt.datetime.now(dt.UTC).date()
    period = frame.period
    chosen: list[ToolPolicy] = []
    if frame.asked is Asked.WILL_CHANGE:
        for policy in registry.lists.scheduled:
            assert policy.scheduled is not None
            if (period is None or period.holds(policy.scheduled.effective)) and (
                query is None or _accepts_change(query, policy, policy.scheduled.status)
            ):
                chosen.append(policy)
        for policy in registry.lists.by_effective:
            if policy.effective is None or policy.effective <= today:
                break
            if policy not in chosen and (query is None or query.accepts(policy)):
                chosen.append(policy)
    else:
        for policy in registry.lists.by_effective:
            if policy.effective is None or (period is not None and policy.effective < period.start):
                break
            if policy.effective > today:
                continue
            if query is None or query.accepts(policy):
                chosen.append(policy)
            if period is None and len(chosen) >= 5:
                break
    return replace(
        base,
        kind=AnswerKind.CHANGES,
        listing=query,
        listed=tuple(chosen[:_MAX_CHANGES]),
        suggestions=(),
        frame=frame,
    )


def _accepts_change(query: ListQuery, policy: ToolPolicy, status: Status) -> bool:
    return query.accepts(replace(policy, status=status)) or query.accepts(policy)


# -- the verdict a yes/no question gets first ------------------------------------------------


class Verdict(StrEnum):
    YES = "yes"
    NO = "no"
    ONLY_IF = "only-if"


_COMPANY_ACCOUNT = re.compile(
    r"\bcompany\b|\bcorp\b|\bsso\b|\bwork account\b|\bworkspace\b|identity center"
    r"|\borganisation\b|\borganization\b|\bseat\b|\bgateway\b|\blicen[cs]e\b",
    re.IGNORECASE,
)
_PERSONAL_PUBLIC = re.compile(r"personal[^.;]*public (?:information )?only", re.IGNORECASE)


# Clauses of a policy that rule a case out ("turn it off for board meetings", "never clone a
# voice without consent", "nothing published without Brand review"), that ask for something a
# question says is missing ("needs … HR sign-off" against "without HR sign-off"), and that let
# a case through ("existing users may finish current work").
_RULES_OUT = re.compile(
    r"\b(?:never|nothing|no|not|off for|must not|without|needs?|requires?)\b", re.IGNORECASE
)
_NEEDS = re.compile(r"\b(?:needs?|requires?|must)\b", re.IGNORECASE)
_LETS_THROUGH = re.compile(r"\bmay\b(.*?)(?:\bbut\b|$)", re.IGNORECASE)
_CLAUSE = re.compile(r"[^.;]+")
_CASE_WORD = re.compile(r"[a-z][a-z'-]+")
# Words that name no case: the question's grammar and the policy's own everyday words.
_NO_CASE = frozenset(
    [
        "a",
        "an",
        "the",
        "i",
        "we",
        "you",
        "my",
        "our",
        "your",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "can",
        "could",
        "may",
        "might",
        "must",
        "use",
        "using",
        "used",
        "allowed",
        "ok",
        "okay",
        "is",
        "are",
        "be",
        "been",
        "to",
        "for",
        "of",
        "in",
        "on",
        "at",
        "with",
        "and",
        "or",
        "but",
        "if",
        "so",
        "do",
        "does",
        "did",
        "what",
        "which",
        "who",
        "how",
        "when",
        "why",
        "any",
        "some",
        "all",
        "tool",
        "tools",
        "app",
        "ai",
        "please",
        "still",
        "should",
        "would",
        "will",
        "want",
        "get",
        "make",
        "data",
        "information",
    ]
)


def _stem(word: str) -> str:
    """ "meetings", "published", "board's" -> "meeting", "publish", "board"."""
    word = word.removesuffix("'s")
    for ending in ("ing", "ed", "es", "s"):
        if word.endswith(ending) and len(word) - len(ending) >= 4:
            return word[: -len(ending)]
    return word


def _words_of(text: str) -> set[str]:
    return {_stem(w) for w in _CASE_WORD.findall(text.lower()) if w not in _NO_CASE}


def _case_verdict(policy: ToolPolicy, frame: Frame) -> tuple[Verdict, str] | None:
    """NO when the question's case is one a clause of the policy rules out; YES when a clause
    lets it through (a case the status alone would refuse); None when no clause speaks to it.
    Accounts are the personal facet's business, so clauses about them are left to it."""
    names = _words_of(" ".join((policy.name, *policy.aliases)))
    asked = {_stem(w) for w in frame.words if w not in _NO_CASE and len(w) >= 2} - names
    if not asked:
        return None
    without = "without" in frame.words
    for clause in _CLAUSE.findall(policy.conditions or ""):
        if "personal" in clause.lower() and not frame.personal:
            continue
        marker = _RULES_OUT.search(clause)
        if marker is None:
            continue
        needs_without = "without" in clause.lower() or _NEEDS.search(clause) is not None
        if asked & _words_of(clause[marker.start() :]) and (without or not needs_without):
            return Verdict.NO, "condition:" + clause.strip()
    for clause in _CLAUSE.findall(policy.reason or ""):
        let = _LETS_THROUGH.search(clause)
        if let and asked & _words_of(let.group(1)):
            return Verdict.YES, "condition:" + clause.strip()
    return None


def verdict_of(policy: ToolPolicy, frame: Frame, today: dt.date | None) -> tuple[Verdict, str]:
    """The verdict on `policy` for the question framed, and why ("banned", "data",
    "personal", "status", "condition:<the clause that decides it>")."""
    if policy.status is not Status.BANNED and policy.status is not Status.ALLOWED:
        case = _case_verdict(policy, frame)
        if case is not None:
            return case
    if policy.status is Status.BANNED or policy.status is Status.UNDER_REVIEW:
        return Verdict.NO, "status"
    limit = policy.max_data
    conditions = policy.conditions or ""
    if frame.personal and policy.status is Status.CONDITIONAL:
        if _PERSONAL_PUBLIC.search(conditions):
            limit = DataClass.PUBLIC
        elif _COMPANY_ACCOUNT.search(conditions):
            return Verdict.NO, "personal"
    if frame.data is not None and limit is None:
        return Verdict.NO, "no-limit"  # nothing recorded: ask before any data goes in
    if frame.data is not None and limit is not None and not data_allowed(limit, frame.data):
        return Verdict.NO, "data"
    if policy.status is Status.CONDITIONAL:
        return Verdict.ONLY_IF, "status"
    return Verdict.YES, "data" if frame.data is not None and limit is not None else "status"


def verdict_line(
    answer: Answer, tool: ToolAnswer, phrases: Phrases, contact: str = ""
) -> str | None:
    """ "No. ChatGPT takes public data at most; customer data is confidential." and the like:
    the first words of a yes/no answer about `tool`; None when the question is no yes/no."""
    frame = answer.frame
    if frame is None or not frame.yes_no:
        return None
    policy = tool.policy
    if _in_future(policy, answer.today):
        return None  # decided for a later day: what holds until then is not recorded
    verdict, because = verdict_of(policy, frame, answer.today)
    word = phrases.verdicts[verdict.value]
    if because.startswith("condition:"):
        return phrases.verdict_clause.format(word=word, clause=because.removeprefix("condition:"))
    if because == "no-limit":
        return phrases.no_data_limit.format(name=policy.name, contact=policy.owner or contact)
    if because == "personal":
        return phrases.verdict_personal.format(word=word, conditions=policy.conditions)
    if because == "data" and frame.data is not None:
        limit = policy.max_data
        if frame.personal and _PERSONAL_PUBLIC.search(policy.conditions or ""):
            limit = DataClass.PUBLIC
        asked = phrases.data_names[frame.data]
        words = frame.data_words
        plain = not words or words.lower() in (asked.lower(), frame.data.value)
        fill = {
            "word": word,
            "name": policy.name,
            "limit": phrases.data_names[limit] if limit else "",
            "asked": asked,
            "words": phrases.aside.format(words=words) if not plain else "",
        }
        if verdict is Verdict.NO:
            return phrases.verdict_data_beyond.format(**fill)
        lead = word if verdict is Verdict.YES else phrases.verdict_conditions.format(word=word)
        gap = " " if phrases.language == "en" else ""
        within = phrases.verdict_data_within.format(**fill)
        return f"{lead}{gap}{within[:1].upper()}{within[1:]}"
    if verdict is Verdict.ONLY_IF:
        return phrases.verdict_conditions.format(word=word)
    return word


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
    """How every renderer lays out each tool of `answer`: a yes/no question's verdict
    leads (see `verdict_line`), otherwise the fact asked for."""
    lead = None if answer.yes_no else _ASKED_FACT.get(answer.intent)
    return ToolLayout(lead, tuple(fact for fact in FACT_ORDER if fact is not lead))


def _tool_block(tool: ToolAnswer, answer: Answer, contact: str, phrases: Phrases) -> list[str]:
    """The lines about one tool, walking `tool_layout`: the asked part first, as a lead."""
    policy = tool.policy
    name = policy.name
    owner = policy.owner or contact
    data = _data_line(policy, None if answer.yes_no else answer.asked_data, answer.today, phrases)
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
    kept = [line for line in lines if line]
    lead = frame_lead(tool, answer, contact, phrases)
    if lead and lead in phrases.verdicts.values() and kept:
        gap = " " if phrases.language == "en" else ""
        return [f"{lead}{gap}{kept[0]}", *kept[1:]]  # "No. Claude Code is BANNED since …"
    return [lead, *kept] if lead else kept


def frame_lead(tool: ToolAnswer, answer: Answer, contact: str, phrases: Phrases) -> str | None:
    """The line a tool's answer opens with for what the frame asks: the verdict of a yes/no
    question, who decides and how to ask, or the vendor."""
    policy = tool.policy
    asked = answer.frame.asked if answer.frame else None
    if asked is Asked.ACCESS:
        review = policy.status is Status.UNDER_REVIEW
        line = phrases.access_review if review else phrases.access_tool
        return line.format(name=policy.name, owner=policy.owner or contact)
    if asked is Asked.VENDOR and policy.vendor:
        return phrases.label(phrases.vendor, policy.vendor) + phrases.stop
    return verdict_line(answer, tool, phrases, contact)


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
        names = [phrases.list_categories.get(c, c) for c in query.categories]
        names += [value.replace("-", " ") for value in query.category_values]
        filters += phrases.list_category.format(categories=phrases.or_list(names))
    if query.data is not None:
        filters += phrases.list_data.format(data=phrases.data_names[query.data])
    if answer.capability:
        filters += phrases.capability_filter.format(capability=answer.capability)
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


def list_verdict(answer: Answer, phrases: Phrases) -> str | None:
    """A vendor's list opens with a verdict: which of its tools may be used, or none."""
    query = answer.listing
    if query is None or not query.vendors or not answer.family:
        return None
    vendors = phrases.or_list(list(query.vendors))
    usable = [p.name for p in answer.family if p.status in USABLE]
    others = [
        phrases.alternative.format(name=p.name, status=phrases.status_names[p.status])
        for p in answer.family
        if p.status not in USABLE
    ]
    if usable:
        line = phrases.vendor_yes.format(vendors=vendors, names=phrases.listing(usable))
    else:
        line = phrases.vendor_no.format(vendors=vendors, count=len(answer.family))
    if others:
        line += phrases.vendor_others.format(names=phrases.listing(others))
    return line


def _filters(answer: Answer, phrases: Phrases) -> str:
    query = answer.listing
    if query is None:
        return ""
    filters = ""
    if query.vendors:
        filters += phrases.list_from.format(vendors=phrases.or_list(list(query.vendors)))
    if query.categories or query.category_values:
        names = [phrases.list_categories.get(c, c) for c in query.categories]
        names += [value.replace("-", " ") for value in query.category_values]
        filters += phrases.list_category.format(categories=phrases.or_list(names))
    if query.statuses and len(query.statuses) == 1:
        (status,) = query.statuses
        filters += f" ({phrases.status_labels[status]})"
    return filters


def changes_lines(answer: Answer, phrases: Phrases) -> list[str]:
    """What changed in the period asked about, or what is scheduled, and what is pending."""
    frame = answer.frame
    period = frame.period if frame else None
    filters = _filters(answer, phrases)
    lines: list[str] = []
    if frame is not None and frame.asked is Asked.WILL_CHANGE:
        if answer.listed:
            count = len(answer.listed)
            lines.append(phrases.scheduled_heading.format(filters=filters, count=count))
            for policy in answer.listed:
                change = policy.scheduled
                date, status = (
                    (change.effective, change.status)
                    if change is not None
                    else (policy.effective, policy.status)
                )
                lines.append(
                    phrases.scheduled_item.format(
                        date=date.isoformat() if date else "",
                        name=policy.name,
                        status=phrases.status_labels[status],
                        now=phrases.status_labels[policy.status],
                    )
                )
        else:
            year = ""
            if period is not None and period.end is not None:
                year = phrases.scheduled_year.format(year=period.start.year)
            lines.append(phrases.scheduled_none.format(filters=filters, period=year))
        return lines
    if period is not None:
        start, end = period.start.isoformat(), (period.end or period.start).isoformat()
        if not answer.listed:
            return [phrases.changes_none.format(filters=filters, start=start, end=end)]
        lines.append(
            phrases.changes_heading.format(
                filters=filters, start=start, end=end, count=len(answer.listed)
            )
        )
    else:
        lines.append(phrases.changes_latest.format(filters=filters))
    for policy in answer.listed:
        lines.append(
            phrases.changes_line.format(
                date=policy.effective.isoformat() if policy.effective else "",
                name=policy.name,
                status=phrases.status_labels[policy.status],
            )
        )
    return lines


def pending_line(answer: Answer, registry_review: Sequence[ToolPolicy], phrases: Phrases) -> str:
    return phrases.pending_review.format(names=phrases.listing([p.name for p in registry_review]))


_ACCESS_NOISE = _word_set(
    """
    i i'd id like a an the of for please review request approval approve approved get getting
    access new tool tools ai who whom do ask about how can could we my our team to is it
    """
)


def access_lines(answer: Answer, phrases: Phrases, contact: str) -> list[str]:
    """Who decides and how to ask, for a question naming no registered tool."""
    words = [
        w
        for w in re.findall(r"[A-Za-z][\w.-]*", answer.topic)
        if w.lower() not in _ACCESS_NOISE and w[:1].isupper()
    ]
    if words and (answer.language == "en" or not _IDEOGRAPH.search(" ".join(words))):
        topic = " ".join(words[:3])
        return [phrases.access_unknown.format(topic=topic, contact=contact)]
    return [phrases.access_general.format(contact=contact)]


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
    if answer.kind is AnswerKind.CHANGES:
        return "\n".join([*changes_lines(answer, phrases), *cut_note])
    if answer.kind is AnswerKind.ACCESS:
        return "\n".join([*access_lines(answer, phrases, contact), *cut_note])
    if answer.kind is AnswerKind.LIST:
        if not answer.listed:
            return "\n".join([list_heading(answer, phrases, empty_contact=contact), *cut_note])
        verdict = list_verdict(answer, phrases)
        lines = [verdict] if verdict else []
        lines.append(list_heading(answer, phrases))
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
        "frame": answer.frame.as_dict() if answer.frame else None,
        "text": text,
    }
