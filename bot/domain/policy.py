"""The policy vocabulary shared by every layer: statuses, data classes and a tool's policy.

`ToolPolicy` is a plain, immutable snapshot of one registry entry. The store produces
them, matching and answers consume them; none of them touch the database.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass, field, replace
from enum import StrEnum

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
        return found


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
