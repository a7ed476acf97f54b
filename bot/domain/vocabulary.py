"""The words a question is read with, English and Chinese, compiled from data. No I/O.

The words themselves live in one data file, `bot/domain/vocabulary.yaml`, which ships with
policybot; admins add words in `policies/vocabulary.yaml` (same sections, every one optional),
which `check` validates and the registry snapshot reloads. The files are read by an adapter
(bot/adapters/files/vocabularyfile.py); `Vocabulary.build` compiles the mappings it is handed
(the shipped one merged with the admins') into patterns, once per change.

Each entry is a list of phrases. English phrases match as whole words ("contract" also matches
"contracts": a trailing `s` is optional; a space or a hyphen between words); Chinese phrases
match as substrings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.domain.policy import DataClass

__all__ = ["FACETS", "SECTIONS", "STATUS_WORDS", "Vocabulary", "vocabulary_problems"]

# What a question may ask; each facet's phrases say the question asks it.
FACETS = (
    "access",  # how to get a tool approved or an exception, who to ask for it
    "changed",  # what changed (a period in the past)
    "will_change",  # what will change (scheduled, soon, next month)
    "vendor",  # who makes a tool
    "personal",  # a personal account, key, licence or free plan
    "permission",  # may I, allowed, ok: a yes/no question about using a tool
)
# The statuses a list question may ask for, by the words that ask for them.
STATUS_WORDS = ("banned", "not-usable", "under-review", "conditional", "usable")
SECTIONS = (
    "facets",
    "statuses",
    "categories",
    "data",
    "capabilities",
    "vendors",
    "editions",
    "periods",
)


def _phrase_pattern(phrases: Iterable[str]) -> re.Pattern[str] | None:
    latin: list[str] = []
    other: list[str] = []
    for phrase in sorted({p.strip().lower() for p in phrases if p.strip()}, key=len, reverse=True):
        if phrase.isascii():
            body = r"[\s-]+".join(re.escape(word) for word in phrase.split())
            latin.append(body + ("s?" if phrase[-1].isalpha() and not phrase.endswith("s") else ""))
        else:
            other.append(re.escape(phrase))
    parts = []
    if latin:
        parts.append(r"(?<![\w-])(?:" + "|".join(latin) + r")(?![\w-])")
    if other:
        parts.append("|".join(other))
    return re.compile("|".join(parts)) if parts else None


@dataclass(frozen=True)
class Capability:
    name: str
    asked: re.Pattern[str]
    category: str | None
    tool_words: tuple[str, ...]


@dataclass(frozen=True)
class Category:
    """A kind of tool: the words asking for it, and the stems of registry category values
    that are it ("coding-assistant" starts with "cod")."""

    name: str
    asked: re.Pattern[str] | None
    stems: tuple[str, ...]

    def holds(self, category: str | None) -> bool:
        """Whether a registry category value ("coding-assistant") is this kind."""
        if not category:
            return False
        value = category.casefold()
        return any(
            value.startswith(stem) or f"-{stem}" in value or f" {stem}" in value
            for stem in self.stems
        )


@dataclass(frozen=True)
class Vocabulary:
    """The compiled vocabulary: one pattern per facet, data class, capability and period."""

    facets: Mapping[str, re.Pattern[str]]
    statuses: Mapping[str, re.Pattern[str]]  # keys of STATUS_WORDS
    categories: Mapping[str, Category]
    data: tuple[tuple[DataClass, re.Pattern[str]], ...]  # least sensitive first
    capabilities: tuple[Capability, ...]
    vendors: Mapping[str, str]
    editions: re.Pattern[str] | None
    periods: tuple[tuple[int, re.Pattern[str]], ...]  # shortest period first

    @classmethod
    def build(
        cls, shipped: Mapping[str, Any], extra: Mapping[str, Any] | None = None
    ) -> Vocabulary:
        """The `shipped` vocabulary, with `extra` (the admins' additions) merged in; both are
        checked by `vocabulary_problems` first (the adapter reading them does it)."""
        data = _merged({s: {} for s in SECTIONS}, _merged(shipped, extra or {}))
        facets = {name: _phrase_pattern(data["facets"].get(name, ())) for name in FACETS}
        statuses = {name: _phrase_pattern(data["statuses"].get(name, ())) for name in STATUS_WORDS}
        categories = {
            name: Category(
                name,
                _phrase_pattern(entry.get("asked", ())),
                tuple(str(stem).casefold() for stem in entry.get("stems", ())),
            )
            for name, entry in data["categories"].items()
        }
        classes = tuple(
            (dc, pattern)
            for dc in DataClass
            if (pattern := _phrase_pattern(data["data"].get(dc.value, ()))) is not None
        )
        capabilities = tuple(
            Capability(
                name,
                pattern,
                entry.get("category"),
                tuple(w.lower() for w in entry.get("tool_words", ())),
            )
            for name, entry in data["capabilities"].items()
            if (pattern := _phrase_pattern(entry.get("asked", ()))) is not None
        )
        editions = _phrase_pattern(w for words in data["editions"].values() for w in words)
        periods = sorted(
            (int(entry["days"]), pattern)
            for entry in data["periods"].values()
            if entry.get("days")
            and (pattern := _phrase_pattern(entry.get("words", ()))) is not None
        )
        return cls(
            facets={k: v for k, v in facets.items() if v is not None},
            statuses={k: v for k, v in statuses.items() if v is not None},
            categories=categories,
            data=classes,
            capabilities=capabilities,
            vendors={k: str(v).lower() for k, v in data["vendors"].items()},
            editions=editions,
            periods=tuple((days, pattern) for days, pattern in periods),
        )

    def status_asked(self, status: str, lower: str) -> bool:
        """Whether `lower` has a word for a status (a key of STATUS_WORDS)."""
        pattern = self.statuses.get(status)
        return pattern is not None and pattern.search(lower) is not None

    def categories_asked(self, lower: str) -> tuple[str, ...]:
        """The kinds of tool `lower` names ("coding assistants" -> coding)."""
        return tuple(
            name
            for name, category in self.categories.items()
            if category.asked is not None and category.asked.search(lower)
        )

    def category_holds(self, category: str | None, kind: str) -> bool:
        """Whether a registry category value is the kind of tool `kind` names."""
        entry = self.categories.get(kind)
        return entry is not None and entry.holds(category)

    def asks(self, facet: str, lower: str) -> bool:
        pattern = self.facets.get(facet)
        return pattern is not None and pattern.search(lower) is not None

    def data_named(self, lower: str) -> tuple[DataClass | None, str]:
        """The most sensitive data class the words name, and the words that named it."""
        found: tuple[DataClass | None, str] = (None, "")
        for data_class, pattern in self.data:
            match = pattern.search(lower)
            if match is not None:
                found = (data_class, match.group())
        return found

    def capability(self, lower: str) -> Capability | None:
        return next((c for c in self.capabilities if c.asked.search(lower)), None)

    def period_days(self, lower: str) -> int | None:
        return next((days for days, pattern in self.periods if pattern.search(lower)), None)

    def vendor_words(self, text: str) -> list[str]:
        """The registry's vendor words for vendors named in Chinese ("阿里的工具" -> alibaba)."""
        found = []
        for word, vendor in sorted(self.vendors.items(), key=lambda kv: -len(kv[0])):
            if word in text and vendor not in found:
                found.append(vendor)
                text = text.replace(word, " ")
        return found


def _merged(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """`base` with `extra` added: lists are extended, mappings merged, values replaced."""
    merged = dict(base)
    for key, value in extra.items():
        old = merged.get(key)
        if isinstance(old, Mapping) and isinstance(value, Mapping):
            merged[key] = _merged(old, value)
        elif isinstance(old, list) and isinstance(value, list):
            merged[key] = [*old, *value]
        else:
            merged[key] = value
    return merged


Problem = tuple[tuple[str, ...], str]  # where (the keys down to it) and what is wrong


def vocabulary_problems(extra: Any) -> list[Problem]:
    """What is wrong with a vocabulary mapping, each with the keys down to where it is; empty
    when it is fine. Sentences say the fix."""
    if not isinstance(extra, Mapping):
        return [((), "the vocabulary must be a mapping of sections: " + ", ".join(SECTIONS))]
    problems: list[Problem] = []
    for section, value in extra.items():
        where = (str(section),)
        if section not in SECTIONS:
            problems.append((where, f"unknown section '{section}': use {', '.join(SECTIONS)}"))
        elif not isinstance(value, Mapping):
            problems.append((where, f"'{section}' must be a mapping of names to words"))
        elif section == "facets":
            problems += _known_keys(section, value, FACETS, "facet")
            problems += _lists_of_words(section, value)
        elif section == "statuses":
            problems += _known_keys(section, value, STATUS_WORDS, "status")
            problems += _lists_of_words(section, value)
        elif section == "data":
            problems += _known_keys(section, value, [d.value for d in DataClass], "data class")
            problems += _lists_of_words(section, value)
        elif section == "editions":
            problems += _lists_of_words(section, value)
        elif section == "vendors":
            problems += [
                ((section, str(k)), f"vendor '{k}' must name one vendor word, e.g. {k}: google")
                for k, v in value.items()
                if not isinstance(v, str) or not v.strip()
            ]
        else:
            problems += _entries(section, value)
    return problems


# The keys each entry of these sections may have, and which must be lists of words.
_ENTRY_KEYS = {
    "categories": {"asked": "words", "stems": "words"},
    "capabilities": {"asked": "words", "tool_words": "words", "category": "text"},
    "periods": {"words": "words", "days": "days"},
}


def _entries(section: str, value: Mapping[str, Any]) -> list[Problem]:
    keys = _ENTRY_KEYS[section]
    problems: list[Problem] = []
    for name, entry in value.items():
        where = (section, str(name))
        if not isinstance(entry, Mapping):
            problems.append((where, f"'{section}.{name}' must be a mapping with {', '.join(keys)}"))
            continue
        for key, item in entry.items():
            kind = keys.get(str(key))
            if kind is None:
                problems.append(
                    (
                        (*where, str(key)),
                        f"unknown key '{key}' in '{section}.{name}': use {', '.join(keys)}",
                    )
                )
            elif kind == "words" and not _is_words(item):
                problems.append(
                    ((*where, str(key)), f"'{section}.{name}.{key}' must be a list of words")
                )
            elif kind == "text" and not isinstance(item, str):
                problems.append(((*where, str(key)), f"'{section}.{name}.{key}' must be one word"))
            elif kind == "days" and (
                isinstance(item, bool) or not isinstance(item, int) or item < 1
            ):
                problems.append(
                    (
                        (*where, str(key)),
                        f"'{section}.{name}.days' must be a whole number of days, e.g. 30",
                    )
                )
    return problems


def _known_keys(
    section: str, value: Mapping[str, Any], known: Sequence[str], what: str
) -> list[Problem]:
    return [
        ((section, str(k)), f"unknown {what} '{k}' in '{section}': use {', '.join(known)}")
        for k in value
        if k not in known
    ]


def _is_words(words: Any) -> bool:
    return (
        isinstance(words, Sequence)
        and not isinstance(words, str)
        and all(isinstance(w, str) and w.strip() for w in words)
    )


def _lists_of_words(section: str, value: Mapping[str, Any]) -> list[Problem]:
    return [
        ((section, str(k)), f"'{section}.{k}' must be a list of words, e.g. [word, other words]")
        for k, words in value.items()
        if not _is_words(words)
    ]
