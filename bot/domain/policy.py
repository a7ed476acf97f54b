"""The policy vocabulary shared by every layer: statuses, data classes and a tool's policy.

`ToolPolicy` is a plain, immutable snapshot of one registry entry. The store produces
them, matching and answers consume them; none of them touch the database.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from bot.domain.names import clean_name, name_key, name_problem

# Longest free text accepted, in characters (documented in README's admin section).
TEXT_LIMITS = {
    "vendor": 200,
    "category": 100,
    "reason": 2000,
    "conditions": 2000,
    "owner": 200,
    "link": 500,
}
# How far back an effective date may go: older dates are typos (1900-01-01), not policy.
EARLIEST_EFFECTIVE = dt.date(2000, 1, 1)
# Audience names: what `--for` takes and the YAML names (lower case, digits, - and _).
_AUDIENCE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
# Language codes a translation may be keyed by: "zh", "zh-TW", "fr".
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")


class Status(StrEnum):
    ALLOWED = "allowed"
    CONDITIONAL = "conditional"
    UNDER_REVIEW = "under-review"
    BANNED = "banned"

    @classmethod
    def parse(cls, text: str) -> Status:
        """The status named by `text` (any case, `_` or space for `-`); ValueError otherwise."""
        key = text.strip().lower().replace("_", "-").replace(" ", "-")
        for status in cls:
            if status.value == key:
                return status
        raise ValueError(f"unknown status '{text}': use {', '.join(cls.choices())}")

    @classmethod
    def choices(cls) -> list[str]:
        return [s.value for s in cls]


class DataClass(StrEnum):
    """Data classification, least sensitive first."""

    PUBLIC = "public"
    INTERNAL = "internal"
    CONFIDENTIAL = "confidential"
    RESTRICTED = "restricted"

    @classmethod
    def parse(cls, text: str) -> DataClass:
        key = text.strip().lower()
        for data_class in cls:
            if data_class.value == key:
                return data_class
        raise ValueError(f"unknown data class '{text}': use {', '.join(d.value for d in cls)}")


def data_allowed(limit: DataClass | None, asked: DataClass) -> bool:
    """Whether a tool whose data limit is `limit` may see `asked` data (no limit: no data)."""
    order = list(DataClass)
    return limit is not None and order.index(asked) <= order.index(limit)


@dataclass(frozen=True)
class Scheduled:
    """A change that takes effect on a later day; until then the current policy holds."""

    effective: dt.date
    status: Status


# The texts a translation may carry, for a tool or a rule.
TRANSLATED = ("reason", "conditions")
# The fields an audience's rule may override, in the order the YAML and the answers use.
RULE_FIELDS = ("status", "reason", "conditions", "max_data", "alternatives", "effective")


@dataclass(frozen=True)
class Translation:
    """A tool's (or a rule's) texts in one language; None where that language has none."""

    language: str
    reason: str | None = None
    conditions: str | None = None

    def plain(self) -> dict[str, str]:
        return {name: value for name in TRANSLATED if (value := getattr(self, name)) is not None}

    @property
    def empty(self) -> bool:
        return not self.plain()


@dataclass(frozen=True)
class AudienceRule:
    """A tool's policy for the members of one audience: None fields keep the default's."""

    audience: str
    status: Status | None = None
    reason: str | None = None
    conditions: str | None = None
    max_data: DataClass | None = None
    alternatives: tuple[str, ...] | None = None
    effective: dt.date | None = None
    translations: tuple[Translation, ...] = ()

    def given(self) -> dict[str, Any]:
        """The fields this rule overrides, and their values."""
        return {name: value for name in RULE_FIELDS if (value := getattr(self, name)) is not None}

    def normalised(self) -> AudienceRule:
        def clean(value: str | None) -> str | None:
            value = value.strip() if value is not None else None
            return value or None

        banned = self.status is Status.BANNED
        alternatives = None
        if self.alternatives is not None:
            alternatives = tuple(dict.fromkeys(clean_name(a) for a in self.alternatives if a))
        return replace(
            self,
            audience=self.audience.strip(),
            reason=clean(self.reason),
            conditions=None if banned else clean(self.conditions),
            max_data=None if banned else self.max_data,
            alternatives=alternatives,
            translations=normalised_translations(self.translations),
        )


@dataclass(frozen=True)
class Audience:
    """A group of people with policies of their own: a Slack user group and/or listed IDs."""

    name: str
    title: str
    slack_usergroup: str | None = None
    members: tuple[str, ...] = ()
    # (language, title) for the title in other languages.
    titles: tuple[tuple[str, str], ...] = ()

    def title_in(self, language: str) -> str:
        return dict(self.titles).get(language, self.title)


def normalised_translations(translations: Iterable[Translation]) -> tuple[Translation, ...]:
    """Trimmed texts, one entry per language (the first), empty languages dropped."""
    kept: dict[str, Translation] = {}
    for item in translations:
        texts = {k: v.strip() for k, v in item.plain().items() if v.strip()}
        language = item.language.strip()
        if texts and language not in kept:
            kept[language] = Translation(language, **texts)
    return tuple(kept.values())


@dataclass(frozen=True)
class ToolPolicy:
    """One tool and its policy, as the registry holds it."""

    name: str
    status: Status
    vendor: str | None = None
    aliases: tuple[str, ...] = ()
    category: str | None = None
    reason: str | None = None
    conditions: str | None = None
    max_data: DataClass | None = None
    alternatives: tuple[str, ...] = ()
    effective: dt.date | None = None
    owner: str | None = None
    link: str | None = None
    updated_at: dt.datetime | None = field(default=None, compare=False)
    # The next change already decided for a later day, if any (not a policy field).
    scheduled: Scheduled | None = field(default=None, compare=False)
    # The policy for audiences (first match wins) and the texts in other languages.
    rules: tuple[AudienceRule, ...] = ()
    translations: tuple[Translation, ...] = ()

    # The fields a person edits, in the order the YAML and the answers use.
    FIELDS = (
        "name",
        "vendor",
        "aliases",
        "category",
        "status",
        "reason",
        "conditions",
        "max_data",
        "alternatives",
        "effective",
        "owner",
        "link",
    )
    # Written after the fields above, and only when not empty (bot.domain.audiences).
    SCOPED = ("rules", "translations")

    def normalised(self) -> ToolPolicy:
        """The policy as it is kept: trimmed text, no empty strings, one spelling per name.

        Domain rule: a banned tool has no conditions of use and no data it may see, so a
        ban clears both, on every path (command, form, import).
        """

        def clean(value: str | None) -> str | None:
            value = value.strip() if value is not None else None
            return value or None

        aliases: dict[str, str] = {}
        for alias in self.aliases:
            text = clean_name(alias)
            if text:
                aliases.setdefault(name_key(text), text)
        alternatives: dict[str, str] = {}
        for alternative in self.alternatives:
            text = clean_name(alternative)
            if text:
                alternatives.setdefault(name_key(text), text)
        banned = self.status is Status.BANNED
        return replace(
            self,
            name=clean_name(self.name),
            vendor=clean(self.vendor),
            category=clean(self.category),
            reason=clean(self.reason),
            conditions=None if banned else clean(self.conditions),
            max_data=None if banned else self.max_data,
            owner=clean(self.owner),
            link=clean(self.link),
            aliases=tuple(aliases.values()),
            alternatives=tuple(alternatives.values()),
            rules=tuple(rule.normalised() for rule in self.rules),
            translations=normalised_translations(self.translations),
        )

    def problems(self) -> list[tuple[str, str]]:
        """(field, sentence) for each rule this policy breaks; empty when it is valid."""
        found: list[tuple[str, str]] = []
        problem = name_problem(self.name, "name")
        if problem:
            found.append(("name", problem))
        for alias in self.aliases:
            problem = name_problem(alias, "alias")
            if problem:
                found.append(("aliases", problem))
        own = name_key(self.name)
        for alternative in self.alternatives:
            if name_key(alternative) == own:
                found.append(("alternatives", f"'{self.name}' cannot be its own alternative"))
        for name, limit in TEXT_LIMITS.items():
            value = getattr(self, name)
            if value is not None and len(value) > limit:
                found.append((name, f"{name} is {len(value)} characters long: at most {limit}"))
        if self.effective is not None and self.effective < EARLIEST_EFFECTIVE:
            found.append(("effective", effective_problem(self.effective)))
        found.extend(self._scoped_problems())
        return found

    def _scoped_problems(self) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        seen: set[str] = set()
        own = name_key(self.name)
        for rule in self.rules:
            problem = audience_problem(rule.audience)
            if problem:
                found.append(("rules", problem))
            if rule.audience in seen:
                found.append(("rules", f"two rules for the audience '{rule.audience}': keep one"))
            seen.add(rule.audience)
            for alternative in rule.alternatives or ():
                if name_key(alternative) == own:
                    found.append(("rules", f"'{self.name}' cannot be its own alternative"))
            for name in TRANSLATED:
                value = getattr(rule, name)
                if value is not None and len(value) > TEXT_LIMITS[name]:
                    limit = TEXT_LIMITS[name]
                    found.append(
                        ("rules", f"{name} is {len(value)} characters long: at most {limit}")
                    )
            if rule.effective is not None and rule.effective < EARLIEST_EFFECTIVE:
                found.append(("rules", effective_problem(rule.effective)))
        for item in (*self.translations, *(t for r in self.rules for t in r.translations)):
            problem = language_problem(item.language)
            if problem:
                found.append(("translations", problem))
            for name, value in item.plain().items():
                if len(value) > TEXT_LIMITS[name]:
                    limit = TEXT_LIMITS[name]
                    found.append(
                        ("translations", f"{name} is {len(value)} characters long: at most {limit}")
                    )
        return found


def audience_problem(name: str) -> str | None:
    """Why `name` cannot name an audience, or None."""
    if _AUDIENCE_NAME.match(name):
        return None
    return (
        f"'{name}' is not an audience name: use lower-case letters, digits, '-' and '_' "
        "(such as china-engineering)"
    )


def language_problem(code: str) -> str | None:
    """Why `code` cannot key a translation, or None."""
    if _LANGUAGE.match(code):
        return None
    return f"'{code}' is not a language code: use one such as zh or fr"


_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def parse_day(text: str) -> dt.date:
    """A YYYY-MM-DD date; ValueError with a sentence for people: a malformed date says the
    form, a date that does not exist says why ("February 2026 has 28 days")."""
    found = _DAY.match(text.strip())
    if not found:
        raise ValueError(f"bad date '{text}': use YYYY-MM-DD")
    year, month, day = (int(part) for part in found.groups())
    if not 1 <= month <= 12:
        raise ValueError(f"the date '{text}' does not exist: there is no month {month}")
    days = calendar.monthrange(year, month)[1] if year else 31
    if not 1 <= day <= days:
        month_name = calendar.month_name[month]
        raise ValueError(f"the date '{text}' does not exist: {month_name} {year} has {days} days")
    return dt.date(year, month, day)


_WEB_ADDRESS = re.compile(r"^https?://[^\s/]+\S*$")


def given_problems(policy: ToolPolicy) -> list[tuple[str, str]]:
    """(field, sentence) for what a person wrote that no path accepts, before `normalised`
    would quietly drop it: conditions or a data limit on a banned tool (`set … banned
    --conditions` is refused with the same sentence), and a link that is no web address
    (the Slack form refuses it too)."""
    found: list[tuple[str, str]] = []
    if policy.status is Status.BANNED:
        for name in ("conditions", "max_data"):
            if getattr(policy, name) not in (None, ""):
                found.append(
                    (name, f"a banned tool has no conditions or data limit: leave out {name}")
                )
    link = (policy.link or "").strip()
    if link and not _WEB_ADDRESS.match(link):
        found.append(
            (
                "link",
                f"'{link}' is not a web address: give one starting with https:// "
                "(or leave the link out)",
            )
        )
    return found


def effective_problem(day: dt.date) -> str:
    return (
        f"effective date {day.isoformat()} is before {EARLIEST_EFFECTIVE.isoformat()}: "
        "give the date the policy really took effect"
    )


def revised(before: ToolPolicy | None, after: ToolPolicy, today: dt.date) -> ToolPolicy:
    """Domain rule: a status change that keeps the old effective date takes effect today.

    The old date belonged to the old status; "BANNED since <last month>" for a ban made
    today would be false.
    """
    if before is None or before.status == after.status:
        return after
    if after.effective is None or after.effective == before.effective:
        return replace(after, effective=today)
    return after
