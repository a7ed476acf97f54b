"""Broad questions about the registry: lists by status, vendor, category and data class. No I/O.

"what AI tools can I use?", "which coding tools are approved?", "is anything from Microsoft
ok?", "tools approved for internal data?", "有哪些工具被禁止了？" name no single tool: they
ask for the registry filtered by what the question says. `read_list_query` finds the filters
(from English and Chinese words); `ListQuery.select` applies them to a registry snapshot.

The words are read from the question's own tokens and short Chinese phrases, so the cost is
linear in the question's length.
"""

# ruff: noqa: RUF002

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from bot.domain.policy import DataClass, Status, ToolPolicy, data_allowed
from bot.domain.vocabulary import Category, Vocabulary

__all__ = [
    "ListIndex",
    "ListQuery",
    "read_list_query",
    "status_order",
    "vendor_product",
]

# Usable first: the order every list answer groups its tools in.
STATUS_ORDER = (Status.ALLOWED, Status.CONDITIONAL, Status.UNDER_REVIEW, Status.BANNED)
USABLE = frozenset({Status.ALLOWED, Status.CONDITIONAL})
NOT_USABLE = frozenset({Status.UNDER_REVIEW, Status.BANNED})


def status_order(status: Status) -> int:
    return STATUS_ORDER.index(status)


_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")

# -- cues that the question asks for a list ----------------------------------------------------

# "which/what ... tools", "list", "anything", "any ... tools", "all ... tools", "options".
_LIST_PHRASES = re.compile(
    r"\b(?:which|what)\b(?:\s+\w+){0,3}?\s+(?:tools?|apps?|assistants?|chatbots?|bots?|"
    r"products?|services?|options?|models?|generators?|ones?|ais?|llms?|editors?|ides?|software)\b"
    r"|\bwhat(?:'s| is| are)?\s+(?:not\s+)?(?:allowed|approved|permitted|banned|ok|okay|forbidden|"
    r"prohibited|blocked|available|usable|under review|pending|off limits)\b"
    r"|\bwhat can (?:i|we) (?:use|try)\b|\bwhat (?:can't|cannot|can not) (?:i|we) use\b"
    r"|\bwhat (?:else )?(?:do|does|did) (?:we|you|the company) (?:have|allow|approve|use)\b"
    r"|\b(?:is|are) (?:there )?any(?:thing|one)?\b(?:\s+\w+){0,4}?\s*"
    r"(?:from|by|for|allowed|approved|ok|okay|banned|tools?|apps?|assistants?)\b"
    r"|\banything\b|\beverything\b|\blist(?: of| all| the)?\b|\ball (?:the )?(?:ai )?tools\b"
    r"|\bshow me\b|\boverview\b|\bfull list\b|\bwhich ones\b|\bwhat are (?:my|our|the) options\b"
)
# "tools … approved" and "approved … tools" are found by searching one after the other:
# a `.*` between them would make the search quadratic in a long message.
_TOOLS = re.compile(r"\btools?\b")
_TOOLS_PLURAL = re.compile(r"\btools\b")
_VERDICT = re.compile(r"\b(?:approved|allowed|permitted|banned|forbidden|ok|okay|usable)\b")
_VERDICT_BEFORE = re.compile(
    r"\b(?:approved|allowed|permitted|banned|forbidden|prohibited|usable)\b"
)


def _in_order(text: str, *patterns: re.Pattern[str]) -> bool:
    """Whether each pattern occurs after the previous one's first match: linear in `text`."""
    position = 0
    for pattern in patterns:
        found = pattern.search(text, position)
        if found is None:
            return False
        position = found.end()
    return True


_LIST_PHRASES_ZH = re.compile(
    r"哪些|哪几|哪个|什么工具|什么软件|什么(?:AI|ai)|有什么|都有|列出|列表|清单|所有|全部|"
    r"可以用什么|能用什么|有没有(?:什么|哪些)?(?:工具|软件)|名单"
)

# -- status words ------------------------------------------------------------------------------

# The words for statuses are data: the `statuses` section of the vocabulary.

# -- categories --------------------------------------------------------------------------------


# Kinds of tool (coding, chat, …) are data: the `categories` section of the vocabulary.


# -- data classes ------------------------------------------------------------------------------

_DATA_ASKED = {
    DataClass.PUBLIC: re.compile(r"\bpublic (?:data|code|info|information|repos?)\b|公开"),
    DataClass.INTERNAL: re.compile(r"\binternal\b|内部"),
    DataClass.CONFIDENTIAL: re.compile(
        r"\bconfidential\b|\bcustomer data\b|\bclient data\b|\bpersonal data\b|\bpii\b"
        r"|\bsensitive\b|机密|客户数据|敏感|个人信息"
    ),
    DataClass.RESTRICTED: re.compile(r"\brestricted\b|\bsecret\b|受限|绝密"),
}
_DATA_ORDER = list(DataClass)


@dataclass(frozen=True)
class ListQuery:
    """What a list question filters on; an empty filter means "any"."""

    statuses: frozenset[Status] = frozenset()
    vendors: tuple[str, ...] = ()  # vendor names as the registry writes them
    categories: tuple[str, ...] = ()  # kinds of tool, keys of the vocabulary's categories
    kinds: tuple[Category, ...] = field(default=(), compare=False)  # those kinds, to match
    category_values: tuple[str, ...] = ()  # registry categories named by their own words
    data: DataClass | None = None  # tools whose data limit reaches this class
    words: tuple[str, ...] = field(default=(), compare=False)  # what the question called them

    def select(self, policies: Iterable[ToolPolicy]) -> list[ToolPolicy]:
        """The tools that pass every filter, usable first, then by name."""
        chosen = [p for p in policies if self.accepts(p)]
        return sorted(chosen, key=lambda p: (status_order(p.status), p.name.casefold()))

    def accepts(self, policy: ToolPolicy) -> bool:
        if self.statuses and policy.status not in self.statuses:
            return False
        if self.vendors and (policy.vendor or "") not in self.vendors:
            return False
        if (self.categories or self.category_values) and not (
            any(kind.holds(policy.category) for kind in self.kinds)
            or policy.category in self.category_values
        ):
            return False
        return self.data is None or data_allowed(policy.max_data, self.data)


# Words of category values that say nothing by themselves ("coding-assistant": "assistant").
_GENERIC_CATEGORY_WORDS = frozenset(
    ("ai", "and", "assistant", "assistants", "tool", "tools", "app", "apps", "other", "misc")
)


_ENDINGS = ("ions", "ion", "ities", "ity", "ors", "or", "ers", "er", "ing")


def _stem(word: str) -> str:
    """A crude stem: "translators" and "translation" are one word, "products" is not
    "productivity"."""
    word = word.removesuffix("s") if len(word) > 3 and not word.endswith("ss") else word
    for ending in _ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 4:
            return word[: -len(ending)]
    return word


def category_index(policies: Iterable[ToolPolicy]) -> dict[str, set[str]]:
    """The stems of every word of the registry's category values -> those values."""
    index: dict[str, set[str]] = {}
    for policy in policies:
        if policy.category:
            for word in _WORD.findall(policy.category.casefold()):
                if word not in _GENERIC_CATEGORY_WORDS and len(word) >= 3:
                    index.setdefault(_stem(word), set()).add(policy.category)
    return index


def _vendor_keys(vendor: str) -> set[str]:
    """The words a vendor is called by: "GitHub (Microsoft)" -> github, microsoft; only the
    first word of each part counts ("Fathom Video" is Fathom, not every "video")."""
    generic = {"ai", "inc", "ltd", "labs", "the", "co", "open", "source", "cloud", "web"}
    keys = set()
    for part in re.split(r"[()]", vendor.casefold()):
        words = [w for w in _WORD.findall(part) if w not in {"inc", "ltd"}]
        if words and words[0] not in generic and len(words[0]) >= 2:
            keys.add(words[0])
        if len(words) > 1:
            keys.add("".join(words))  # "moonshotai", written as one word
    return keys


def vendor_product(
    text: str, vendors: dict[str, set[str]], product_words: frozenset[str]
) -> tuple[tuple[int, int], set[str]] | None:
    """A vendor's product the registry does not list ("the anthropic api", "openai sdk"):
    where its words are in `text`, and the vendor names; None when there is none."""
    words = list(_WORD.finditer(text))
    for word, after in itertools.pairwise(words):
        if word.group() in vendors and after.group() in product_words:
            return (word.start(), after.end()), vendors[word.group()]
    return None


def vendor_index(policies: Iterable[ToolPolicy]) -> dict[str, set[str]]:
    """Every word a vendor is called by -> the vendor names (as written) it may mean."""
    index: dict[str, set[str]] = {}
    for policy in policies:
        if policy.vendor:
            for key in _vendor_keys(policy.vendor):
                index.setdefault(key, set()).add(policy.vendor)
    return index


def read_list_query(
    text: str,
    vocabulary: Vocabulary,
    vendors: dict[str, set[str]],
    category_words: dict[str, set[str]] | None = None,
    *,
    cue: bool = False,
) -> ListQuery | None:
    """The list a question that names no tool asks for, or None when it asks for none.

    `text` is the question as matching read it, lower case; `vendors` maps vendor words to
    vendor names (`vendor_index`); `category_words` maps the words of the registry's own
    category values ("translation", "search") to those values (`category_index`).
    """
    tokens = _WORD.findall(text)
    asked_vendors: set[str] = set()
    vendor_words = []
    for index, token in enumerate(tokens):
        for key in (token, token + (tokens[index + 1] if index + 1 < len(tokens) else "")):
            if key in vendors:
                asked_vendors.update(vendors[key])
                vendor_words.append(key)
    # Chinese vendor names written in Chinese are not indexed; Latin vendor names still are.
    categories = vocabulary.categories_asked(text)
    kinds = tuple(vocabulary.categories[name] for name in categories)
    values: set[str] = set()
    for token in tokens:
        values.update((category_words or {}).get(_stem(token), ()))
    category_values = tuple(sorted(v for v in values if not any(kind.holds(v) for kind in kinds)))
    data = _data_asked(text)
    statuses = _statuses_asked(text, vocabulary)
    cue = (
        cue
        or _LIST_PHRASES.search(text) is not None
        or _LIST_PHRASES_ZH.search(text) is not None
        or _in_order(text, _TOOLS, _VERDICT)
        or _in_order(text, _VERDICT_BEFORE, _TOOLS_PLURAL)
    )
    filters = bool(asked_vendors or categories or category_values or data)
    # A list cue ("which …", "有哪些"), or a filter with a status or "tools" beside it
    # ("approved coding assistants"); "can I use AI tools?" alone asks for no list.
    if not cue and not (filters and (statuses or _ASKS_ABOUT_TOOLS.search(text))):
        return None
    return ListQuery(
        statuses=statuses,
        vendors=tuple(sorted(asked_vendors)),
        categories=categories,
        kinds=kinds,
        category_values=category_values,
        data=data,
        words=tuple(vendor_words),
    )


# Plural kinds of tool say a list is wanted: "image generators?", "approved coding assistants".
_ASKS_ABOUT_TOOLS = re.compile(
    r"\btools\b|\bapps\b|\bgenerators\b|\bchat ?bots\b|\bassistants\b|\bbots\b|\beditors\b"
    r"|\bides\b|\bservices\b|\bproducts?\b|\bsoftware\b|\bstuff\b|工具|软件|应用"
)


def _statuses_asked(text: str, vocabulary: Vocabulary) -> frozenset[Status]:
    both = _in_order(text, _USABLE_WORD, _AND_OR, _BANNED_WORD) or _in_order(
        text, _BANNED_WORD, _AND_OR, _USABLE_WORD
    )
    if vocabulary.status_asked("banned", text) and not both:
        return frozenset({Status.BANNED})
    if vocabulary.status_asked("not-usable", text):
        return NOT_USABLE
    if vocabulary.status_asked("under-review", text):
        return frozenset({Status.UNDER_REVIEW})
    if vocabulary.status_asked("conditional", text):
        return frozenset({Status.CONDITIONAL})
    if vocabulary.status_asked("usable", text):
        return USABLE
    return frozenset()


# "which are allowed and which are banned": both asked, so no status filter.
_USABLE_WORD = re.compile(r"\b(?:allowed|approved|ok|permitted)\b")
_AND_OR = re.compile(r"\b(?:and|or|vs)\b")
_BANNED_WORD = re.compile(r"\bbann?ed\b")


def _data_asked(text: str) -> DataClass | None:
    named = [data for data, words in _DATA_ASKED.items() if words.search(text)]
    return max(named, key=_DATA_ORDER.index) if named else None


def group_by_status(policies: Sequence[ToolPolicy]) -> list[tuple[Status, list[ToolPolicy]]]:
    """The tools grouped by status, usable first; empty groups left out."""
    groups: list[tuple[Status, list[ToolPolicy]]] = []
    for status in STATUS_ORDER:
        members = [p for p in policies if p.status is status]
        if members:
            groups.append((status, members))
    return groups


class ListIndex:
    """A registry snapshot indexed for lists: answering one never scans every tool.

    Tools are kept usable first, then by name, per status and per status and data class;
    vendor and category groups are small and filtered directly."""

    def __init__(self, policies: Iterable[ToolPolicy], kinds: Mapping[str, Category]) -> None:
        ordered = sorted(policies, key=lambda p: (status_order(p.status), p.name.casefold()))
        self.all = tuple(ordered)
        self.vendors = vendor_index(ordered)
        self.category_words = category_index(ordered)
        self._by_category: dict[str, list[ToolPolicy]] = {}
        self._by_vendor: dict[str, list[ToolPolicy]] = {}
        self._by_concept: dict[str, list[ToolPolicy]] = {c: [] for c in kinds}
        # (status, data class) -> tools of that status whose data limit reaches the class.
        self._by_status_data: dict[tuple[Status, DataClass | None], list[ToolPolicy]] = {}
        # Newest effective date first: "what changed lately?" reads only the start of it.
        self.by_effective = tuple(
            sorted(
                (p for p in ordered if p.effective),
                key=lambda p: p.effective or dt.date.min,
                reverse=True,
            )
        )
        # Changes already decided for a later day, soonest first.
        self.scheduled = tuple(
            sorted(
                (p for p in ordered if p.scheduled is not None),
                key=lambda p: p.scheduled.effective,  # type: ignore[union-attr]
            )
        )
        self.by_vendor = self._by_vendor
        for policy in ordered:
            if policy.vendor:
                self._by_vendor.setdefault(policy.vendor, []).append(policy)
            for concept, kind in kinds.items():
                if kind.holds(policy.category):
                    self._by_concept[concept].append(policy)
            if policy.category:
                self._by_category.setdefault(policy.category, []).append(policy)
            self._by_status_data.setdefault((policy.status, None), []).append(policy)
            if policy.max_data is not None:
                for data in _DATA_ORDER[: _DATA_ORDER.index(policy.max_data) + 1]:
                    self._by_status_data.setdefault((policy.status, data), []).append(policy)

    def select(self, query: ListQuery) -> tuple[ToolPolicy, ...]:
        """The tools a list query asks for, usable first, then by name."""
        if query.vendors or query.categories or query.category_values:
            pool: list[ToolPolicy] = []
            if query.vendors:
                for vendor in query.vendors:
                    pool.extend(self._by_vendor.get(vendor, ()))
            else:
                for concept in query.categories:
                    pool.extend(self._by_concept.get(concept, ()))
                for value in query.category_values:
                    pool.extend(self._by_category.get(value, ()))
            unique = {p.name: p for p in pool}.values()
            return tuple(query.select(unique))
        statuses = [s for s in STATUS_ORDER if not query.statuses or s in query.statuses]
        chosen: list[ToolPolicy] = []
        for status in statuses:  # already in order: no per-tool work
            chosen.extend(self._by_status_data.get((status, query.data), ()))
        return tuple(chosen)
