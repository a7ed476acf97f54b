"""Text -> tool mentions: which registry tools a staff question is about. No I/O.

How a question is read, in order:

1. Slack markup is stripped (`<@U1>`, `<!here>`, `<url|label>` keeps the label, `:emoji:`,
   quotes, backticks) and the text is tokenised into Latin runs; CJK text stays as context.
2. Every run of up to a few adjacent tokens is joined ("claude code", "claude-code",
   "ClaudeCode" -> "claudecode") and looked up exactly in a dict of normalised names and
   aliases. Chinese aliases are found by exact substring search.
3. Spans that found nothing are tried fuzzily: a symmetric-deletion (SymSpell-style) index
   yields a handful of candidate keys and only those are scored with rapidfuzz. Fuzzy
   matching is deliberately strict (same first letter, one edit, only transpositions for
   short words) because answering about the wrong tool is worse than not answering.
4. Overlapping candidates are resolved longest-span first, so "GitHub Copilot Enterprise"
   is not also "GitHub Copilot".
5. Names that are everyday words ("continue", "cursor", "warp") only count when the question
   is about a tool: a usage verb or a verdict word next to it, capitalised mid-sentence, the
   question being just the name, listed with other tools (Chinese names included), a
   vendor/product word beside it, Chinese usage or policy words close by ("能用", "生效"), or
   a short question opening with the name for a work task ("lovable for a landing page?").
   Names with a famous other meaning ("gemini" and a horoscope) need such context too.

Lookups are dict hits on a few dozen n-grams per question, so the cost does not grow with
the size of the registry; building the index is O(registry) once.
"""

from __future__ import annotations

import html
import itertools
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from rapidfuzz import fuzz
from rapidfuzz.distance import OSA

from bot.domain.policy import ToolPolicy

__all__ = [
    "COMMON_WORDS",
    "MAX_READ_CHARS",
    "MAX_READ_WORDS",
    "PRODUCT_WORDS",
    "MatchResult",
    "Matcher",
    "Mention",
    "Variant",
    "readable_part",
    "strip_markup",
]


@dataclass(frozen=True)
class Mention:
    """One tool a question is about."""

    tool: str  # canonical tool name
    score: float  # 0..100 confidence
    matched: str  # the span of the question that matched
    via: str  # the name or alias it matched
    ambiguous: bool = False  # the span is shared by several tools (e.g. "copilot")
    start: int = field(default=0, compare=False)  # offset of `matched` in the cleaned text


@dataclass(frozen=True)
class Variant:
    """A product of a registered family that is not itself registered: "the Claude API"."""

    product: str  # as the question wrote it: "Claude API", "Copilot Studio"
    related: tuple[str, ...]  # the family's registered tools
    start: int = 0  # offset in the cleaned text


@dataclass(frozen=True)
class MatchResult:
    """Every tool a question is about, or close names when there is none."""

    mentions: tuple[Mention, ...]  # in question order
    suggestions: tuple[str, ...]  # close tool names ("did you mean") when nothing matched
    topic: str = ""  # the question's content words, for "no policy for <topic>"
    cut: bool = False  # only the start of a very long message was read (see `readable_part`)
    variants: tuple[Variant, ...] = ()  # unregistered products of registered families


# Bounded work per question: a question is a sentence or two, so only this much of a message
# is read. Everything below is linear in what is read; these make the constant small too.
MAX_READ_WORDS = 600
MAX_READ_CHARS = 5000
_MAX_PER_KEY = 8  # occurrences of one name looked at; more say nothing new
_WORD_OR_IDEOGRAPH = re.compile(r"[^\W_]+|[\u3400-\u9fff\uf900-\ufaff]")


def readable_part(text: str) -> tuple[str, bool]:
    """The start of `text` that is read (at most MAX_READ_WORDS words and MAX_READ_CHARS
    characters, a Chinese character counting as a word), and whether anything was left out."""
    cut = len(text) > MAX_READ_CHARS
    text = text[:MAX_READ_CHARS]
    words = _WORD_OR_IDEOGRAPH.finditer(text)
    last = next(itertools.islice(words, MAX_READ_WORDS - 1, None), None)
    if last is not None and next(words, None) is not None:
        return text[: last.end()], True
    return text, cut


def _words(text: str) -> frozenset[str]:
    """A word set written as one readable block of text."""
    return frozenset(text.split())


def _phrases(text: str) -> frozenset[tuple[str, ...]]:
    """Comma-separated phrases, each as its words: "landing page" -> ("landing", "page")."""
    return frozenset(tuple(phrase.split()) for phrase in text.split(",") if phrase.strip())


# Tool names that are also everyday words. Alone, without tool context, they are read as
# the word: "should I continue?", "the mouse cursor", "can I warp this text?".
COMMON_WORDS = _words(
    """
    amp arc augment bard bolt canvas character chat code comet continue copy cursor
    diffusion edge fathom firefly gamma glean goose grok hex lovable linear loom mem meta
    mistral mode
    pi q read rewind runway stable tabby tome void warp whisper writer zed
    """
)

# Words that describe a product rather than name it: never a key on their own when they
# come from a longer name ("Qwen Chat" is not "chat"; "Zed AI" is not "ai"). Some name other
# things people ask about: "spark" is also Apache Spark, "365" also Office 365.
_GENERIC = _words(
    """
    ai app apps agent agents api assist assistant beta bot chat cli cloud code coder
    companion desktop dev developer developers edition for ide lab labs llm magic model
    models mobile new online search spark studio suite the tool tools web x 365
    """
)

# Edition words: "ChatGPT Enterprise" is a different product from ChatGPT, so its base name
# alone must not point at it.
_EDITIONS = _words(
    """
    business edu education enterprise free individual lite max mini personal plus premium
    pro standard team teams ultra
    """
)

# Never a tool name, never matched (also not fuzzily).
STOPWORDS = _words(
    """
    a about above after again all also am an and any anyone anything are as ask at be
    because been before being below between both but by can cannot could did do does doing
    done down during each else even ever every few for from further get gets go going got
    had has have having he her here hers him his how i if in into is it its just know let
    like may me might mine more most much must my need needs no nor not now of off on once
    one only or other our ours out over own please pls same see she should so some still
    such than thank thanks that the their theirs them then there these they this those
    through to too under until up upon us very via want was we well were what whatever when
    where whether which while who whom whose why will with within without would yes yet
    you your yours hi hello hey morning good okay ok thx ty vs versus s t d ll re ve m
    """
)

# Words around a name that show the question is about a tool.
_USE_BEFORE = _words(
    """
    use using used uses try trying install installing installed enable enabling adopt
    adopting about approve ban allow
    """
)
_VERDICT_AFTER = _words(
    """
    allowed allow ok okay approved permitted banned forbidden blocked policy policies status
    fine safe acceptable sanctioned whitelisted blacklisted prohibited authorised authorized
    legal legit usable
    """
)
# Product nouns: "the Cursor editor", "continue extension".
_PRODUCT_NOUNS = _words(
    """
    ai app editor ide extension plugin assistant terminal chatbot model tool cli agent
    """
)
# What may surround a name when the question is "just the name" ("cursor?", "what about bolt").
_FILLER = _words(
    """
    what about how is are the a an and or any please pls hi hey hello thanks status re
    regarding on vs versus which
    """
)
_LIST_JOINERS = frozenset({"and", "or", "vs", "versus", "nor", "plus"})

# Chinese around a Latin name. A bare 可以 ("can") or 吗 (question mark) says nothing about a
# tool ("这个 bolt 松了吗", is this bolt loose?), so only these count:
# a usage or permission verb right before the name: "能用 Cursor 吗", "禁止 Bolt";
_CJK_VERB_BEFORE = re.compile(
    r"(?:用|安装|禁止|允许|批准|代替|替代|替换|换掉)[了过]?\s*$"
)  # 用 also ends 使用
# may-I-use phrases soon after it: "Cursor 现在还可以用吗", "Lovable 行吗";
_CJK_USE_AFTER = re.compile(
    r"^用(?!户)|(?:能|可以|可不可以|能不能)(?:使)?用|(?:可以|能|行)(?:吗|么|嘛|不)|行不行|好不好"
)
_CJK_MODAL_AFTER = re.compile(
    r"(?:现在|还|也|是否|到底)?(?:可以|能否|能不能|可不可以|能|允许|准许)"
)
_CJK_DETERMINER_BEFORE = re.compile(
    r"(?:这|那|哪)(?:个|些|种|台)?\s*$|(?:我|你|他|她)的\s*$|一[个根颗]\s*$"
)
_CJK_USE_WITHIN = 4  # characters; in "continue 这个任务可以吗" the 可以 is about the task
# policy words a little further on: "Lovable 什么时候生效";
_CJK_POLICY_AFTER = re.compile(r"政策|生效|禁止|禁用|允许|批准|审批|合规|白名单|黑名单")
_CJK_POLICY_WITHIN = 10
# or the question being just the name and a particle: "Lovable 吗", "那 Cursor 呢".
_CJK_JUST_THE_NAME = re.compile(r"(?:那么?|还有)?(?:吗|呢)")
_CJK_CLAUSE_END = re.compile(r"[,;:!?。\n()]")  # fullwidth ones are ASCII after NFKC
_CJK_PUNCTUATION = re.compile(r"[\s,;:!?。、.~]+")
_TOPIC_MARKS = re.compile(r"[ ,:;。!?]+")

# "lovable for a landing page?": a short question that opens with an everyday-word name and
# asks about it for a work task is about the tool. The task list is what keeps
# "continue for another hour?" and "bolt for the door?" plain words.
_WORK_TASKS = _phrases(
    """
    prototype, prototypes, prototyping, mockup, mockups, mvp, landing page, landing pages,
    refactor, refactoring, debugging, coding, scripting, scripts, tests, unit tests, frontend,
    backend, ui, website, websites, web app, webapp, internal tool, internal tools,
    code review, code reviews, pull requests, research, slides, presentations, meeting notes,
    transcripts, transcription, summaries, images, diagrams, data analysis
    """
)
# Names whose everyday sense is itself made for a task: "copy for a landing page?".
_TASK_NOUNS = _words("canvas copy mode")
_MAX_TASK_QUESTION = 10  # tokens; a longer sentence opening with "continue for" is prose

# Names with a famous meaning outside software. When a word of that meaning is in the
# question ("my gemini horoscope"), only explicit tool context counts, not capitals.
_OTHER_SENSES: dict[str, frozenset[str]] = {
    "gemini": _words(
        "zodiac horoscope horoscopes constellation astrology astrological twins twin sign"
    ),
}

_TOKEN_RE = re.compile(r"[a-z0-9\u00c0-\u024f]+")
_CJK_RE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af]")
_SLACK_LINK_RE = re.compile(r"<([^<>|]*)\|([^<>]*)>")
_SLACK_ANGLE_RE = re.compile(r"<[^<>]*>")
_EMOJI_RE = re.compile(r":[a-z0-9_+\-]+:", re.IGNORECASE)
# Quote marks, code and emphasis marks; apostrophes inside words ("can't") stay.
_QUOTES_RE = re.compile(
    r"[`\"\u201c\u201d\u2018\u2019«»「」『』*~]"  # quotes, code spans, *bold*, ~strike~
    r"|(?<!\w)'|'(?!\w)|(?<!\w)_|_(?!\w)"  # 'quotes' and _italics_, not "can't" or "a_b"
)
# Characters allowed between two tokens that still form one name ("claude-code", "otter.ai").
_JOINING_GAP = re.compile(r"[ \t\-_.·]*")
_LIST_GAP = re.compile(r"[\s,/&+、和或与跟及]*(还是|以及|或者)?[\s,/&+、和或与跟及]*")
_CLAUSE_END = re.compile(r"[,;:!?()\n]|\.(?:\s|$)")
# Words that may stand between a name and its verdict: "is Cursor still allowed".
_ADVERBS = _words("still really now even actually also currently officially yet then")
_DETERMINERS = _words("a an the this that these those my our your his her their its some")
_MAX_SKIPPED = 3  # words skipped looking for a neighbour: "is X still not really allowed"
_MAX_FUZZY_TOKENS = 3  # longest run of words tried fuzzily
_MIN_FUZZY_LEN = 5  # shorter words match exactly or not at all
_SUGGEST_MIN_SCORE = 70.0
_PREFIX_LEN = 5  # a word this long that starts a name suggests the name
# Edits a typo search may undo: a word longer than the longest key by more than this cannot
# be a slip of any name, so its deletion variants (O(length²) to build) are never made.
_TYPO_SLACK = 2
_MAX_SUGGEST_WORDS = 32  # distinct content words looked at for "did you mean"
_MAX_TOPIC = 120  # characters of the question's words shown in "no policy for …"
_JUST_THE_NAME_ROOM = 16  # characters besides the name a "just the name" question may have


def strip_markup(text: str) -> str:
    """`text` without Slack markup: mentions, links (labels kept), emoji, quotes, code marks."""
    text = _SLACK_LINK_RE.sub(lambda m: " " if m.group(1)[:1] in "@#!" else m.group(2), text)
    text = _SLACK_ANGLE_RE.sub(" ", text)
    text = html.unescape(text)
    text = _EMOJI_RE.sub(" ", text)
    text = _POSSESSIVE_RE.sub(r"\1", text)  # "Canva's AI features" is Canva AI's
    text = _QUOTES_RE.sub(" ", text)
    return " ".join(unicodedata.normalize("NFKC", text).split())


_POSSESSIVE_RE = re.compile(r"(\w)['\u2019]s\b")


def _tokens(text: str) -> list[str]:
    return _TOKEN_RE.findall(unicodedata.normalize("NFKC", text).lower())


def _has_cjk(text: str) -> bool:
    return _CJK_RE.search(text) is not None


def _deletes(word: str) -> set[str]:
    """`word` and every string one deletion away from it."""
    return {word} | {word[:i] + word[i + 1 :] for i in range(len(word))}


@dataclass
class _Key:
    """A normalised name or alias and the tools it names."""

    text: str
    ntokens: int
    tools: dict[str, str] = field(default_factory=dict)  # tool -> the name/alias it came from


@dataclass
class _Candidate:
    first: int  # token index
    last: int  # token index, inclusive
    start: int  # char offsets in the cleaned text
    end: int
    tools: dict[str, str]
    score: float
    exact: bool
    partial: bool
    weak: bool  # an everyday word: needs tool context
    key: str = ""  # the normalised name or alias it matched
    loose: bool = False  # a slip only a clear tool question makes a name ("kimii ok?")

    @property
    def size(self) -> tuple[int, int]:
        return (self.last - self.first, self.end - self.start)


@dataclass
class _Token:
    text: str  # lower-case
    start: int
    end: int
    joins_next: bool  # only joining characters up to the next token
    ends_clause: bool = False  # punctuation or Chinese text before the next token


class Matcher:
    """Finds the tools a question mentions; built once per registry snapshot."""

    def __init__(self, tools: Iterable[ToolPolicy]) -> None:
        self._full: dict[str, _Key] = {}
        self._partial: dict[str, _Key] = {}
        self._cjk: dict[str, _Key] = {}  # Chinese (and other CJK) names, found as substrings
        self._cjk_lengths: dict[str, list[int]] = {}  # first char -> key lengths, longest first
        self._deleted: dict[str, list[str]] = defaultdict(list)  # deletion -> key texts
        self._name_tokens: dict[str, set[str]] = defaultdict(set)  # for suggestions only
        self._prefixed: dict[str, list[str]] = defaultdict(list)  # for suggestions only
        self._related: dict[str, set[str]] = defaultdict(set)  # tool -> vendor and name words
        self._max_tokens = 1
        self._max_key_len = 0  # longest normalised name or alias, for the typo length bound
        for policy in tools:
            self._add(policy)
        # Where a Chinese name may start: one character class of their first characters.
        self._cjk_starts = (
            re.compile("[" + "".join(map(re.escape, self._cjk_lengths)) + "]")
            if self._cjk_lengths
            else None
        )
        for table in (self._full, self._partial):
            for text in table:
                self._max_key_len = max(self._max_key_len, len(text))
                if len(text) >= 4:
                    for deleted in _deletes(text):
                        self._deleted[deleted].append(text)
                if len(text) > _PREFIX_LEN:
                    self._prefixed[text[:_PREFIX_LEN]].append(text)

    def _add(self, policy: ToolPolicy) -> None:
        name = policy.name
        self._related[name].update(_tokens(policy.vendor or ""))
        for form in (name, *policy.aliases):
            if _has_cjk(form):
                key_text = "".join(unicodedata.normalize("NFKC", form).lower().split())
                self._cjk.setdefault(key_text, _Key(key_text, 1)).tools[name] = form
                lengths = self._cjk_lengths.setdefault(key_text[0], [])
                if len(key_text) not in lengths:
                    lengths.append(len(key_text))
                    lengths.sort(reverse=True)
                continue
            tokens = _tokens(form)
            if not tokens or (len(tokens) == 1 and tokens[0] in STOPWORDS):
                continue
            self._put(self._full, tokens, name, form)
            self._related[name].update(tokens)
            for token in tokens:
                self._name_tokens[token].add(name)
        for tokens in self._partial_forms(policy):
            self._put(self._partial, tokens, name, name)

    def _put(self, table: dict[str, _Key], tokens: list[str], tool: str, via: str) -> None:
        text = "".join(tokens)
        key = table.setdefault(text, _Key(text, len(tokens)))
        key.tools.setdefault(tool, via)
        self._max_tokens = max(self._max_tokens, len(tokens))

    @staticmethod
    def _partial_forms(policy: ToolPolicy) -> list[list[str]]:
        """Shorter forms people use for a multi-word name: "copilot" for "GitHub Copilot"."""
        tokens = _tokens(policy.name)
        if len(tokens) < 2:
            return []
        vendor = set(_tokens(policy.vendor or ""))
        # A brand's AI feature ("Zoom AI Companion", "Slack AI", "Notion AI") is not the brand:
        # "is zoom allowed?" asks about Zoom, which the registry may not list at all.
        tokens_for_words = tokens[2:] if tokens[1] == "ai" else tokens
        # Nor is the vendor's name the tool ("GitHub" Copilot, "Canva" Magic Studio).
        distinctive = [
            t
            for t in tokens_for_words
            if t not in _GENERIC and t not in _EDITIONS and t not in vendor
        ]
        if not distinctive:
            return []
        forms: list[list[str]] = []
        without_vendor = [t for t in tokens if t not in vendor]
        if 1 < len(without_vendor) < len(tokens):
            forms.append(without_vendor)  # "copilot enterprise"
        rest = set(tokens) - set(distinctive)
        # "ChatGPT Enterprise" minus "chatgpt" is only an edition: "chatgpt" means another product.
        if not rest or not rest <= _EDITIONS:
            forms.extend([t] for t in distinctive if len(t) >= 3 and t not in STOPWORDS)
        return forms

    # -- finding ------------------------------------------------------------------------

    def find(self, text: str) -> MatchResult:
        """The tools `text` is about, in question order; suggestions when there are none."""
        text, cut = readable_part(text)
        cleaned = strip_markup(text)
        lower = cleaned.lower()
        if len(lower) != len(cleaned):  # rare case-folding that changes length
            cleaned = lower
        tokens = [_Token(m.group(), m.start(), m.end(), False) for m in _TOKEN_RE.finditer(lower)]
        gaps: dict[str, tuple[bool, bool]] = {}  # the same few gaps (" ", ", ") recur
        for here, after in itertools.pairwise(tokens):
            gap = lower[here.end : after.start]
            kind = gaps.get(gap)
            if kind is None:
                kind = gaps[gap] = (
                    _JOINING_GAP.fullmatch(gap) is not None,
                    _CLAUSE_END.search(gap) is not None or _has_cjk(gap),
                )
            here.joins_next, here.ends_clause = kind

        candidates = self._exact(tokens) + self._fuzzy(tokens)
        chosen = _first_few_per_key(_non_overlapping(candidates))
        cjk = self._find_cjk(lower) if self._cjk_starts is not None else []
        confirmed = _confirm(chosen, cjk, tokens, cleaned, lower, self._related)
        kept = {id(c) for c in confirmed}
        rejected = [c for c in chosen if id(c) not in kept]

        variants: list[Variant] = []
        products = [c for c in confirmed if c.first >= 0]
        named = {c.first for c in confirmed}  # another name starts here: a window stops
        for candidate in products[:_MAX_VARIANT_CHECKS]:
            last = _variant_end(candidate, tokens, named)
            if last is not None:
                confirmed.remove(candidate)
                product = cleaned[candidate.start : tokens[last].end]
                variants.append(Variant(product, self._family(candidate), candidate.start))
        mentions = _mentions(confirmed, cjk, cleaned)
        topic = _topic(tokens, cleaned)
        if mentions or variants:
            return MatchResult(mentions, (), topic, cut, tuple(variants))
        return MatchResult((), self._suggest(tokens, rejected), topic, cut)

    def _family(self, candidate: _Candidate) -> tuple[str, ...]:
        """The registered tools of a name's family: those the name matched, and every tool
        whose name or alias has its first word ("claude" -> Claude, Claude Code)."""
        first = _TOKEN_RE.findall(candidate.key)[:1]
        family = set(candidate.tools)
        for word in first:
            family.update(self._name_tokens.get(word, ()))
        word = candidate.key
        family.update(self._name_tokens.get(word, ()))
        return tuple(sorted(family)[:_MAX_FAMILY])

    def _lookup(self, text: str) -> tuple[_Key, bool] | None:
        """The key named exactly by `text`; full names and aliases win over partial forms."""
        key = self._full.get(text)
        if key is not None:
            return key, False
        key = self._partial.get(text)
        return (key, True) if key is not None else None

    def _exact(self, tokens: Sequence[_Token]) -> list[_Candidate]:
        found: list[_Candidate] = []
        for first in range(len(tokens)):
            if tokens[first].text in STOPWORDS:
                continue
            joined = ""
            for last in range(first, min(len(tokens), first + self._max_tokens + 1)):
                if last > first and not tokens[last - 1].joins_next:
                    break
                joined += tokens[last].text
                if tokens[last].text in STOPWORDS:
                    continue
                hit = self._lookup(joined)
                if hit is None:
                    continue
                key, partial = hit
                found.append(
                    _Candidate(
                        first,
                        last,
                        tokens[first].start,
                        tokens[last].end,
                        key.tools,
                        90.0 if partial else 100.0,
                        exact=True,
                        partial=partial,
                        weak=_is_everyday(joined)
                        if last == first
                        else _split_words(tokens, first, last, key),
                        key=joined,
                    )
                )
        return found

    def _fuzzy(self, tokens: Sequence[_Token]) -> list[_Candidate]:
        found: list[_Candidate] = []
        # A repeated word is looked up once: the typo search costs more than a dict hit.
        closest: dict[tuple[str, int], tuple[_Key, bool, float, bool] | None] = {}
        for first in range(len(tokens)):
            joined = ""
            for last in range(first, min(len(tokens), first + _MAX_FUZZY_TOKENS)):
                if last > first and not tokens[last - 1].joins_next:
                    break
                text = tokens[last].text
                if text in STOPWORDS or text.isdigit():
                    break
                # "claude api" is the Claude API, not a slip of "Claude AI": a span ending in
                # a product word is a typo only of a name ending in that word.
                product_tail = last > first and (text in _VARIANT_WORDS or text in _ADD_ON_WORDS)
                joined += tokens[last].text
                if len(joined) > self._max_key_len + _TYPO_SLACK:
                    break  # longer than any name plus a slip: no typo of one, nor with more words
                if len(joined) < _MIN_FUZZY_LEN or self._lookup(joined) is not None:
                    continue
                ntokens = last - first + 1
                if (joined, ntokens) not in closest:
                    closest[joined, ntokens] = self._closest(joined, ntokens)
                candidate = closest[joined, ntokens]
                if candidate is None:
                    continue
                key, partial, score, loose = candidate
                if product_tail and not key.text.endswith(text):
                    continue
                found.append(
                    _Candidate(
                        first,
                        last,
                        tokens[first].start,
                        tokens[last].end,
                        key.tools,
                        score,
                        exact=False,
                        partial=partial,
                        weak=_is_everyday(key.text),
                        key=key.text,
                        loose=loose,
                    )
                )
        return found

    def _closest(self, word: str, ntokens: int) -> tuple[_Key, bool, float, bool] | None:
        """The one key a typo most likely meant, or None when none is close or several tie;
        the last item says the slip is loose (needs a clear tool question)."""
        best: list[tuple[bool, float, _Key, bool]] = []
        seen: set[str] = set()
        for deleted in _deletes(word):
            for text in self._deleted.get(deleted, ()):
                if text in seen:
                    continue
                seen.add(text)
                slip = _typo_kind(word, text)
                if slip is None:
                    continue
                hit = self._lookup(text)
                assert hit is not None
                key, partial = hit
                if ntokens not in (1, key.ntokens):
                    continue
                best.append((slip == "loose", fuzz.ratio(word, text), key, partial))
        stem = _without_suffix(word)
        if not best and stem is not None and ntokens == 1 and stem in self._full:
            best.append((True, 90.0, self._full[stem], False))  # "windsurfing", "chatgpts"
        if not best:
            return None
        best.sort(key=lambda item: (item[0], -item[1]))  # sure slips first, then closest
        loose, score, key, partial = best[0]
        ties = [k for lo, s, k, _ in best if s == score and lo == loose]
        if len(ties) > 1:  # equally close to several keys: offer all, pick none
            tools: dict[str, str] = {}
            for tied in ties:
                tools.update(tied.tools)
            key = _Key(key.text, key.ntokens, tools)
        return key, partial, score, loose

    def _find_cjk(self, lower: str) -> list[_Candidate]:
        """Chinese names as exact substrings, longest first ("通义灵码企业版" before "通义灵码")."""
        assert self._cjk_starts is not None
        found: list[_Candidate] = []
        end = 0
        # Only where a name could start: C-speed search between those places.
        for start in self._cjk_starts.finditer(lower):
            position = start.start()
            if position < end:
                continue  # inside the name found just before
            hit = None
            for length in self._cjk_lengths[lower[position]]:
                hit = self._cjk.get(lower[position : position + length])
                if hit is not None:
                    break
            if hit is None:
                continue
            end = position + len(hit.text)
            found.append(
                _Candidate(-1, -1, position, end, hit.tools, 100.0, True, False, False, hit.text)
            )
        return found

    def _suggest(self, tokens: Sequence[_Token], rejected: Sequence[_Candidate]) -> tuple[str, ...]:
        """Up to three tool names close to the question's content words."""
        scores: dict[str, float] = {}

        def offer(tool: str, score: float) -> None:
            scores[tool] = max(score, scores.get(tool, 0.0))

        for candidate in rejected:
            for tool in candidate.tools:
                offer(tool, candidate.score)
        # Distinct words only, and a handful: a question is short, and each word costs probes.
        words = list(dict.fromkeys(t.text for t in tokens if _is_content(t.text)))
        for word in words[:_MAX_SUGGEST_WORDS]:
            for tool in self._name_tokens.get(word, ()):
                offer(tool, 80.0)
            if len(word) < 4 or len(word) > self._max_key_len + _TYPO_SLACK:
                continue
            # Two deletions reach further for short words; long words are distinctive enough.
            probes = _deletes(word)
            if len(word) <= 8:
                probes = {d2 for d1 in probes for d2 in _deletes(d1)}
            texts = {text for probe in probes for text in self._deleted.get(probe, ())}
            texts.update(self._prefixed.get(word[:_PREFIX_LEN], ()) if len(word) >= 5 else ())
            for text in texts:
                # "perplex" for "perplexity": a cut-off name is close even when short.
                score = fuzz.ratio(word, text)
                if text.startswith(word):
                    score = max(score, _SUGGEST_MIN_SCORE)
                if score >= _SUGGEST_MIN_SCORE:
                    hit = self._lookup(text)
                    assert hit is not None
                    for tool in hit[0].tools:
                        offer(tool, score)
        ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
        return tuple(tool for tool, _ in ranked[:3])


def _is_everyday(key_text: str) -> bool:
    return key_text in COMMON_WORDS or key_text in _GENERIC or len(key_text) <= 2


def _split_words(tokens: Sequence[_Token], first: int, last: int, key: _Key) -> bool:
    """A one-word name written as two real-looking words ("deep seek") may be just words."""
    return last - first + 1 > key.ntokens and all(
        len(t.text) >= 4 for t in tokens[first : last + 1]
    )


def _is_content(word: str) -> bool:
    return (
        len(word) >= 3
        and word not in STOPWORDS
        and word not in _VERDICT_AFTER
        and word not in _USE_BEFORE
        and word not in _GENERIC
    )


def _typo_kind(word: str, key: str) -> str | None:
    """One slip of the keyboard: "sure", "loose" or None; strict, because a wrong tool is
    worse than no tool.

    Long names take one edit (two from ten letters), short ones swapped letters ("curosr").
    Any other single edit of a five-to-seven-letter name ("kimii", "cursr", "gemnii") is
    "loose": a substitution may be another word ("clause" is not "claude", "outer" is not
    "otter"), so only a clear tool question ("can I use …", "… allowed?") makes it the name.
    """
    if word[0] != key[0] or min(len(word), len(key)) < _MIN_FUZZY_LEN:
        return None
    distance = OSA.distance(word, key)
    if distance == 1:
        if min(len(word), len(key)) >= 7 or sorted(word) == sorted(key):
            return "sure"
        return "loose"
    return "sure" if distance == 2 and min(len(word), len(key)) >= 10 else None


# Endings English glues onto a name: "chatgpts", "windsurfing", "copiloted", "cursors".
_SUFFIXES = ("ing", "ers", "ed", "er", "es", "s")


def _without_suffix(word: str) -> str | None:
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return None


def _non_overlapping(candidates: list[_Candidate]) -> list[_Candidate]:
    """Longest spans first, exact before fuzzy, full names before partial ones.

    A span covers a few tokens, so marking the tokens taken keeps this O(candidates)."""
    ranked = sorted(
        candidates,
        key=lambda c: (-c.size[0], -c.size[1], not c.exact, c.partial, -c.score, c.start),
    )
    taken: set[int] = set()
    chosen: list[_Candidate] = []
    for candidate in ranked:
        span = range(candidate.first, candidate.last + 1)
        if not any(index in taken for index in span):
            taken.update(span)
            chosen.append(candidate)
    return sorted(chosen, key=lambda c: c.start)


# Words after a family's name that make it another product: an API or SDK, a studio or
# workspace product, an extension or plugin, a model ("Claude Sonnet", "DeepSeek R1"), or a
# cloud route ("via Bedrock"). "Claude Code" + "extension" is the Claude Code extension.
_VARIANT_WORDS = _words(
    """
    api apis sdk sdks studio workspace workspaces console platform bedrock vertex
    sonnet opus haiku flash turbo gemma llama mode browser
    """
)
_ROUTE_WORDS = _words("through via on in with the a an using vs for")
# Right after a family's name, another product of it: "Qwen Code", "Claude Enterprise".
_ATTACHED_VARIANT_WORDS = _words("code enterprise business")
# A browser or app a family's product runs in: "Claude for Chrome", "Gemini in Chrome".
_HOST_WORDS = _words("chrome firefox safari")
_ADD_ON_WORDS = _words("extension extensions plugin plugins addon addons")
_MODEL_CODE = re.compile(r"(?:[a-z]\d{1,2}|\d{1,2}o)")  # r1, v3, k2, o1, 4o
_VARIANT_WINDOW = 4  # tokens after the name looked at, in the same clause
_MAX_VARIANT_CHECKS = 32
_MAX_FAMILY = 6


def _not_a_model_word() -> frozenset[str]:
    return STOPWORDS | _VERDICT_AFTER | _USE_BEFORE | _FILLER | _ADVERBS


_NOT_A_MODEL_WORD = _not_a_model_word()
# Words that make a family's or vendor's name another product ("the Anthropic API").
PRODUCT_WORDS = (_VARIANT_WORDS | _ADD_ON_WORDS) - {"bedrock", "vertex"}


def _variant_end(c: _Candidate, tokens: Sequence[_Token], named: set[int]) -> int | None:
    """The last token of the product a name is part of, when it names a variant of it."""
    i = c.last
    steps = 0
    while i + 1 < len(tokens) and not tokens[i].ends_clause and steps < _VARIANT_WINDOW:
        i += 1
        steps += 1
        if i in named:
            return None  # another name: "Cursor with the Claude API" is about Cursor
        word = tokens[i].text
        if word in _ADD_ON_WORDS:
            # "the Claude VS Code extension" is another product; "the Continue extension"
            # is how people call a tool that is itself an extension.
            return i if steps > 1 else None
        if word in _VARIANT_WORDS or (steps == 1 and word in _ATTACHED_VARIANT_WORDS):
            return i
        if word in _HOST_WORDS and tokens[i - 1].text in ("for", "in"):
            return i
        if steps == 1 and _MODEL_CODE.fullmatch(word):
            return i
        if word.isdigit() and steps == 1:
            # "Qwen 2.5 Coder", "Claude 3.5 Sonnet": a version and a model word is a model;
            # "Cursor 2.0 allowed?" is the product itself.
            while i + 1 < len(tokens) and tokens[i + 1].text.isdigit() and i - c.last < 3:
                i += 1  # "2.5" is two tokens
            following = tokens[i + 1].text if i + 1 < len(tokens) else ""
            if following and following not in _NOT_A_MODEL_WORD and i + 1 not in named:
                return i + 1
            return None
        # "Claude through the API" is a route; "Claude or the API" is something else.
        if word in STOPWORDS and word not in _ROUTE_WORDS:
            return None
    return None


def _first_few_per_key(chosen: list[_Candidate]) -> list[_Candidate]:
    """At most _MAX_PER_KEY occurrences of each name, the first ones: "cursor, cursor, …"."""
    seen: dict[str, int] = defaultdict(int)
    kept = []
    for candidate in chosen:
        seen[candidate.key] += 1
        if seen[candidate.key] <= _MAX_PER_KEY:
            kept.append(candidate)
    return kept


def _confirm(
    chosen: list[_Candidate],
    cjk: list[_Candidate],
    tokens: Sequence[_Token],
    cleaned: str,
    lower: str,
    related: dict[str, set[str]],
) -> list[_Candidate]:
    """The Latin-name candidates the question is really about: everyday words need context."""
    question_words = {t.text for t in tokens}
    question = _Question(tokens, cleaned, lower)
    confirmed = []
    for c in chosen:
        words = set().union(*(related[tool] for tool in c.tools)) - {tokens[c.first].text}
        if _VERSION_AFTER.match(lower, c.end):
            ok = False  # "v0.2 of the doc": a version number, not a name
        elif c.loose and (
            _word_before(tokens, c.first) in _DETERMINERS
            or tokens[c.first].text in COMMON_WORDS
            or tokens[c.first].text in STOPWORDS
        ):
            ok = False  # "this clause", "Copy.ai": a word, not a slip of a name
        elif _is_a_person(c, tokens, question_words):
            ok = False  # "Devin from finance asked …": a colleague, not the tool
        elif c.loose or _OTHER_SENSES.get(c.key, frozenset()) & question_words:
            # A loose slip, or "my gemini horoscope": only a clear tool question counts.
            ok = _in_tool_context(c, question, words, capitals=False)
        else:
            ok = not c.weak or _in_tool_context(c, question, words)
        confirmed.append(ok)
    # "cursor, windsurf and kimi", "Bolt 和 豆包": a list of tools confirms its members.
    # Chinese names are never everyday words, so they always confirm their neighbours.
    listed = sorted(
        [(c, ok) for c, ok in zip(chosen, confirmed, strict=True)] + [(c, True) for c in cjk],
        key=lambda pair: pair[0].start,
    )
    names = [c for c, _ in listed]
    ok_flags = [ok for _, ok in listed]
    # One pass: a run of names listed together is confirmed as a whole when one of them is.
    run_start = 0
    for i in range(1, len(names) + 1):
        if i < len(names) and _listed_together(names[i - 1], names[i], lower):
            continue
        if any(ok_flags[run_start:i]):
            ok_flags[run_start:i] = [True] * (i - run_start)
        run_start = i
    return [c for c, ok in zip(names, ok_flags, strict=True) if ok and c.first >= 0]


_VERSION_AFTER = re.compile(r"\.\d")
# "Devin said", "Claude from legal asked … he": a name followed by what people do.
_PERSON_VERBS = _words(
    "said says asked asks told tells wants wanted mentioned thinks thought wrote emailed pinged"
)
_PRONOUNS = _words("he she him her his hers")


def _is_a_person(c: _Candidate, tokens: Sequence[_Token], question_words: set[str]) -> bool:
    after = _word_after(tokens, c.last)
    if after in _PERSON_VERBS:
        return True
    return after == "from" and bool(_PRONOUNS & question_words)


class _Question:
    """What every candidate's context check reads, computed once per question.

    Each check then looks only at a few tokens or characters around its candidate, so
    confirming all candidates stays linear in the question's length."""

    def __init__(self, tokens: Sequence[_Token], cleaned: str, lower: str) -> None:
        self.tokens = tokens
        self.cleaned = cleaned
        self.lower = lower
        self.has_cjk = _has_cjk(lower)
        # substantive[i]: tokens before index i that are neither filler nor a verdict word.
        self.substantive = [0]
        for token in tokens:
            plain = token.text in _FILLER or token.text in _VERDICT_AFTER
            self.substantive.append(self.substantive[-1] + (not plain))

    def only_filler_besides(self, first: int, last: int) -> bool:
        """True when every token outside `first..last` is filler or a verdict word."""
        inside = self.substantive[last + 1] - self.substantive[first]
        return self.substantive[-1] - inside == 0


def _in_tool_context(
    c: _Candidate, question: _Question, related: set[str], *, capitals: bool = True
) -> bool:
    """Whether the words around an everyday-word name show the question is about the tool.

    With `capitals=False` a capitalised name is not enough ("what's my Gemini horoscope").
    """
    tokens, cleaned, lower = question.tokens, question.cleaned, question.lower
    before = _word_before(tokens, c.first, skip=("the", "a", "an"))  # "use the X"
    after = _word_after(tokens, c.last, skip=_ADVERBS)  # "is X still allowed"
    # "about" makes "what about bolt" a question about a tool, but not "a poem about gemini".
    if (before in _USE_BEFORE and (capitals or before != "about")) or after in _VERDICT_AFTER:
        return True
    # Written as a domain: "lovable.dev", "cursor.com".
    if c.last + 1 < len(tokens) and lower[c.end : tokens[c.last + 1].start] == ".":
        return True
    neighbours = {_word_before(tokens, c.first), _word_after(tokens, c.last)}
    if neighbours & (_PRODUCT_NOUNS | related):
        return True
    if _in_chinese_tool_context(c, lower):
        return True
    # Capitalised mid-sentence, as names are ("is Cursor ok").
    sentence_start = c.first == 0 or bool(
        re.search(r"[.!?\n]\s*$", cleaned[tokens[c.first - 1].end : c.start])
    )
    if capitals and cleaned[c.start].isupper() and not sentence_start:
        return True
    # The question is just the name: "Curosr?", "what about bolt" (Chinese text is more).
    if question.has_cjk:
        return False
    if _asks_about_a_task(c, tokens, cleaned):
        return True
    return question.only_filler_besides(c.first, c.last)


def _in_chinese_tool_context(c: _Candidate, lower: str) -> bool:
    """Chinese usage or policy words by a Latin name: "能用 Cursor 吗", "Lovable 什么时候生效"."""
    if _CJK_VERB_BEFORE.search(lower, max(0, c.start - 4), c.start):
        return True
    # The clause after the name; a comma right after it marks a topic: "Cursor, 能用吗".
    # Only a few characters after it are read: the cue words must start close to the name.
    lead = _TOPIC_MARKS.match(lower, c.end)
    start = lead.end() if lead else c.end
    window = lower[start : start + _CJK_POLICY_WITHIN + 8]
    clause_end = _CJK_CLAUSE_END.search(window)
    after = window[: clause_end.start()] if clause_end else window
    use = _CJK_USE_AFTER.search(after)
    if use is not None and use.start() < _CJK_USE_WITHIN:
        return True
    # The name is what "can": "Cursor 可以处理客户数据吗"; not "这个 bolt 可以拧紧吗" (this bolt).
    if _CJK_MODAL_AFTER.match(after) and not _CJK_DETERMINER_BEFORE.search(
        lower, max(0, c.start - 4), c.start
    ):
        return True
    policy = _CJK_POLICY_AFTER.search(after)
    if policy is not None and policy.start() < _CJK_POLICY_WITHIN:
        return True
    if len(lower) - (c.end - c.start) > _JUST_THE_NAME_ROOM:
        return False  # too much else in the question to be just the name and a particle
    rest = _CJK_PUNCTUATION.sub("", lower[: c.start] + lower[c.end :])
    return _CJK_JUST_THE_NAME.fullmatch(rest) is not None


def _asks_about_a_task(c: _Candidate, tokens: Sequence[_Token], cleaned: str) -> bool:
    """Whether the name opens a short question about a work task: "bolt for a prototype?"."""
    name = tokens[c.first].text
    if (
        c.first != 0
        or not cleaned.endswith("?")
        or len(tokens) > _MAX_TASK_QUESTION
        or name in _GENERIC
        or name in _TASK_NOUNS
        or len(name) <= 2
    ):
        return False
    rest = [t.text for t in tokens[c.last + 1 :]]
    if rest[:1] != ["for"]:
        return False
    rest = rest[2:] if rest[1:2] in (["a"], ["an"]) else rest[1:]
    # A word or two may describe the task: "for a throwaway prototype".
    return any(
        tuple(rest[skip : skip + len(task)]) == task for task in _WORK_TASKS for skip in range(3)
    )


def _word_after(tokens: Sequence[_Token], last: int, skip: Iterable[str] = ()) -> str:
    """The first word after token `last` in the same clause, past any words in `skip`."""
    i = last
    while i + 1 < len(tokens) and not tokens[i].ends_clause and i - last <= _MAX_SKIPPED:
        i += 1
        if tokens[i].text not in skip:
            return tokens[i].text
    return ""


def _word_before(tokens: Sequence[_Token], first: int, skip: Iterable[str] = ()) -> str:
    """The first word before token `first` in the same clause, past any words in `skip`."""
    i = first
    while i > 0 and not tokens[i - 1].ends_clause and first - i <= _MAX_SKIPPED:
        i -= 1
        if tokens[i].text not in skip:
            return tokens[i].text
    return ""


def _listed_together(a: _Candidate, b: _Candidate, lower: str) -> bool:
    """True when only list separators stand between two names: "cursor, windsurf and kimi"."""
    left, right = (a, b) if a.start < b.start else (b, a)
    gap = lower[left.end : right.start]
    words = _TOKEN_RE.findall(gap)
    if len(words) > 1 or not all(w in _LIST_JOINERS for w in words):
        return False
    return _LIST_GAP.fullmatch(_TOKEN_RE.sub(" ", gap)) is not None


def _mentions(
    confirmed: list[_Candidate], cjk: list[_Candidate], cleaned: str
) -> tuple[Mention, ...]:
    mentions: dict[str, Mention] = {}
    for candidate in sorted(confirmed + cjk, key=lambda c: c.start):
        ambiguous = len(candidate.tools) > 1
        for tool in sorted(candidate.tools):
            mention = Mention(
                tool=tool,
                score=round(candidate.score, 1),
                matched=cleaned[candidate.start : candidate.end],
                via=candidate.tools[tool],
                ambiguous=ambiguous,
                start=candidate.start,
            )
            previous = mentions.get(tool)
            # A tool named on its own beats the same tool as one of several candidates.
            if previous is None or (previous.ambiguous and not ambiguous):
                mentions[tool] = mention
    return tuple(sorted(mentions.values(), key=lambda m: (m.start, m.tool)))


def _topic(tokens: Sequence[_Token], cleaned: str) -> str:
    """The question's content words ("can I use Photoshop?" -> "Photoshop")."""
    words = [
        cleaned[t.start : t.end]
        for t in tokens[:_MAX_TOPIC]
        if t.text not in STOPWORDS and t.text not in _USE_BEFORE and t.text not in _VERDICT_AFTER
    ]
    topic = " ".join(words) if words else cleaned.strip(" ?!.")
    return topic if len(topic) <= _MAX_TOPIC else topic[: _MAX_TOPIC - 1] + "…"
