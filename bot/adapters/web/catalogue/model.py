"""What the catalogue shows, built once per registry snapshot: tools in status order, the
values each filter offers, and which tools changed recently. No I/O.

Filters come from the URL (`?status=banned&category=coding-assistant`), so a link keeps
them; values the registry does not know are ignored rather than refused.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode

from bot.domain.answers import Registry
from bot.domain.links import name_slug, slug
from bot.domain.lists import STATUS_ORDER, ListQuery
from bot.domain.names import name_key
from bot.domain.policy import DataClass, Status, ToolPolicy

PAGE_SIZE = 100
RECENT_DAYS = 30
MAX_FILTER_VALUES = 20  # per field in one URL; more are ignored


@dataclass(frozen=True)
class Filters:
    """The catalogue's filters; an empty set means "any"."""

    statuses: frozenset[Status] = frozenset()
    categories: frozenset[str] = frozenset()
    vendors: frozenset[str] = frozenset()
    data: DataClass | None = None  # tools cleared for at least this data class

    @classmethod
    def from_query(cls, query: Mapping[str, Sequence[str]]) -> Filters:
        """The filters in a parsed query string; unknown statuses and data classes are ignored."""

        def values(key: str) -> list[str]:
            return [v.strip() for v in query.get(key, ())[:MAX_FILTER_VALUES] if v.strip()]

        statuses = set()
        for text in values("status"):
            try:
                statuses.add(Status.parse(text))
            except ValueError:
                continue
        data = None
        for text in values("data")[:1]:
            try:
                data = DataClass.parse(text)
            except ValueError:
                data = None
        return cls(
            statuses=frozenset(statuses),
            categories=frozenset(values("category")),
            vendors=frozenset(values("vendor")),
            data=data,
        )

    @staticmethod
    def unknown(query: Mapping[str, Sequence[str]]) -> tuple[str, str] | None:
        """The first status or data class in the query that is none (`?status=bannned`), as
        (field, value): a shared link with a typo must say so, not quietly show every tool."""
        for key, parse in (("status", Status.parse), ("data", DataClass.parse)):
            for value in query.get(key, ())[:MAX_FILTER_VALUES]:
                try:
                    if value.strip():
                        parse(value)
                except ValueError:
                    return key, value.strip()
        return None

    @classmethod
    def of_list(cls, query: ListQuery, categories: Iterable[str]) -> Filters:
        """The catalogue filter showing what a list question asked for; the question's
        category concepts ("coding") become the registry's category values that mean them."""
        return cls(
            statuses=query.statuses,
            categories=frozenset(
                value for value in categories if any(kind.holds(value) for kind in query.kinds)
            ),
            vendors=frozenset(query.vendors),
            data=query.data,
        )

    @property
    def active(self) -> bool:
        return bool(self.statuses or self.categories or self.vendors or self.data)

    def list_query(self) -> ListQuery:
        """The status, vendor and data filters as a list question's query applies them
        (categories here are the registry's own values, matched exactly, not concepts)."""
        return ListQuery(statuses=self.statuses, vendors=tuple(self.vendors), data=self.data)

    def matches(self, policy: ToolPolicy, query: ListQuery | None = None) -> bool:
        if self.categories and (policy.category or "") not in self.categories:
            return False
        return (query or self.list_query()).accepts(policy)

    def query_items(self) -> list[tuple[str, str]]:
        """The filters as query-string pairs, in a stable order."""
        items = [("status", s.value) for s in STATUS_ORDER if s in self.statuses]
        items += [("category", c) for c in sorted(self.categories)]
        items += [("vendor", v) for v in sorted(self.vendors)]
        if self.data is not None:
            items.append(("data", self.data.value))
        return items

    def query(self, **extra: str | int) -> str:
        """`?status=banned&page=2`, or "" without filters or extras."""
        items: list[tuple[str, str]] = [*self.query_items()]
        items += [(key, str(value)) for key, value in extra.items()]
        return "?" + urlencode(items) if items else ""


@dataclass(frozen=True)
class Group:
    """The tools of one status on one page."""

    status: Status
    tools: tuple[ToolPolicy, ...]
    total: int  # of this status, with the filters, over all pages


@dataclass(frozen=True)
class Page:
    """One page of the filtered catalogue, grouped by status."""

    groups: tuple[Group, ...]
    number: int
    pages: int
    total: int  # tools matching the filters

    @property
    def shown(self) -> int:
        return sum(len(group.tools) for group in self.groups)


@dataclass
class Catalogue:
    """An immutable view of one registry snapshot, with the indexes the pages need."""

    registry: Registry
    recent: frozenset[str] = frozenset()  # name keys of tools changed in the last RECENT_DAYS
    today: dt.date = field(default_factory=lambda: dt.datetime.now(dt.UTC).date())

    def __post_init__(self) -> None:
        rank = {status: index for index, status in enumerate(STATUS_ORDER)}
        ordered = sorted(self.registry.keyed(), key=lambda item: (rank[item[1].status], item[0]))
        self.tools: tuple[ToolPolicy, ...] = tuple(policy for _, policy in ordered)
        self._by_slug: dict[str, list[ToolPolicy]] = {}
        self._alternative_for: dict[str, list[ToolPolicy]] = {}
        for policy in self.tools:
            self._by_slug.setdefault(name_slug(policy.name), []).append(policy)
            for alternative in policy.alternatives:
                self._alternative_for.setdefault(name_key(alternative), []).append(policy)
        self.categories: tuple[tuple[str, int], ...] = _counted(p.category for p in self.tools)
        self.vendors: tuple[tuple[str, int], ...] = _counted(p.vendor for p in self.tools)
        self.status_counts: dict[Status, int] = Counter(p.status for p in self.tools)

    def select(self, filters: Filters) -> list[ToolPolicy]:
        """The tools the filters let through, usable first, then by name."""
        if not filters.active:
            return list(self.tools)
        query = filters.list_query()
        return [p for p in self.tools if filters.matches(p, query)]

    def page(self, filters: Filters, number: int, size: int = PAGE_SIZE) -> Page:
        """Page `number` (from 1; clamped) of the filtered tools, grouped by status."""
        selected = self.select(filters)
        pages = max(1, math.ceil(len(selected) / size))
        number = min(max(1, number), pages)
        totals = Counter(p.status for p in selected)
        window = selected[(number - 1) * size : number * size]
        groups = []
        for status in STATUS_ORDER:
            tools = tuple(p for p in window if p.status is status)
            if tools:
                groups.append(Group(status, tools, totals[status]))
        return Page(tuple(groups), number, pages, len(selected))

    def by_slug(self, text: str) -> list[ToolPolicy]:
        """The tools whose page is `/catalogue/tools/<text>` (one, or rarely several)."""
        return list(self._by_slug.get(slug(text), ()))

    def alternative_for(self, policy: ToolPolicy) -> list[ToolPolicy]:
        """The tools that list `policy` as their alternative."""
        found = [*self._alternative_for.get(name_key(policy.name), ())]
        for alias in policy.aliases:
            found += self._alternative_for.get(name_key(alias), ())
        unique = {p.name: p for p in found}
        return list(unique.values())

    def resolve(self, names: Iterable[str]) -> list[tuple[str, ToolPolicy | None]]:
        """Each name with its policy, None for names the registry does not know."""
        return [(name, self.registry.get(name)) for name in names]

    def is_recent(self, policy: ToolPolicy) -> bool:
        return name_key(policy.name) in self.recent

    def upcoming(self, policy: ToolPolicy) -> tuple[Status, dt.date] | None:
        """The status a tool moves to and when: a scheduled change, or a status whose
        effective date is still to come; None when nothing is coming."""
        if policy.scheduled is not None:
            return policy.scheduled.status, policy.scheduled.effective
        if policy.effective is not None and policy.effective > self.today:
            return policy.status, policy.effective
        return None


def _counted(values: Iterable[str | None]) -> tuple[tuple[str, int], ...]:
    counts = Counter(v for v in values if v)
    return tuple(sorted(counts.items(), key=lambda item: item[0].casefold()))
