"""The policy vocabulary shared by every layer: statuses, data classes and a tool's policy.

`ToolPolicy` is a plain, immutable snapshot of one registry entry. The store produces
them, matching and answers consume them; none of them touch the database.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum


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
