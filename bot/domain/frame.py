"""The question frame: every question read into one structure before it is answered. No I/O.

The frame says what the question is about (tools, a family's unregistered product, vendors,
a capability) and what it asks of them (may I, data, why, instead, when, who, access, what
changed, what will change), the data class and account it names, the period it asks about,
and whether it continues the conversation. `answer_question` composes the answer from it;
`ask --json` shows it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bot.domain.policy import DataClass
from bot.domain.vocabulary import Vocabulary

__all__ = ["Asked", "Frame", "Period", "read_frame"]


class Asked(StrEnum):
    """What a question asks."""

    MAY_I = "may-i"  # may I use it (a yes/no question)
    DATA = "data"  # may this data go into it (a yes/no question)
    WHY = "why"
    INSTEAD = "instead"
    WHEN = "when"
    WHO = "who"  # who decides, who owns it
    ACCESS = "access"  # how to get it approved, an exception, a review
    VENDOR = "vendor"  # who makes it
    FACT = "fact"  # a yes/no question about a fact, not permission ("does X train on our data?")
    CHANGED = "changed"  # what changed in a period
    WILL_CHANGE = "will-change"  # what is scheduled to change
    LIST = "list"


@dataclass(frozen=True)
class Period:
    """The days a question asks about: `start`..`end`, inclusive; `end` None is open."""

    start: dt.date
    end: dt.date | None

    def holds(self, day: dt.date | None) -> bool:
        return day is not None and day >= self.start and (self.end is None or day <= self.end)


@dataclass(frozen=True)
class Frame:
    """One question, read."""

    asked: Asked
    tools: tuple[str, ...] = ()
    products: tuple[str, ...] = ()  # unregistered products of registered families
    vendors: tuple[str, ...] = ()
    capability: str | None = None
    data: DataClass | None = None
    data_words: str = ""  # the words that named the data ("customer contracts")
    personal: bool = False  # a personal account, key, licence or free plan
    period: Period | None = None
    continues: bool = False  # about the previous answer's tools
    # The question's own words (English, lower case): the case it asks about, read against a
    # policy's conditions ("in the board meeting" against "turn it off for board meetings").
    words: tuple[str, ...] = field(default=(), compare=False)

    @property
    def yes_no(self) -> bool:
        """Whether the question wants a verdict first: "No." / "Yes." / "Only if …"."""
        return self.asked in (Asked.MAY_I, Asked.DATA)

    def as_dict(self) -> dict[str, Any]:
        return {
            "asked": self.asked.value,
            "yes_no": self.yes_no,
            "tools": list(self.tools),
            "products": list(self.products),
            "vendors": list(self.vendors),
            "capability": self.capability,
            "data": self.data.value if self.data else None,
            "data_words": self.data_words,
            "personal": self.personal,
            "period": (
                {
                    "start": self.period.start.isoformat(),
                    "end": self.period.end.isoformat() if self.period.end else None,
                }
                if self.period
                else None
            ),
            "continues": self.continues,
        }


_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
_SINCE_MONTH = re.compile(
    r"\b(?:since|after|from)\s+(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")"
    r"(?:\s+(20\d\d))?\b"
)
_SINCE_DATE = re.compile(r"\b(?:since|after|from)\s+(20\d\d)-(\d\d)(?:-(\d\d))?\b")
_YEAR = re.compile(r"(?<!\d)(20\d\d)(?!\d)")
_ZH_MONTH = re.compile(r"(\d{1,2})\s*月(?:份)?(?:以来|之后|起)")


def _period(lower: str, vocabulary: Vocabulary, today: dt.date, future: bool) -> Period | None:
    """The days a question asks about, read from its time words."""
    if future:
        year = next((int(y) for y in _YEAR.findall(lower) if int(y) > today.year), None)
        if year is not None:
            return Period(dt.date(year, 1, 1), dt.date(year, 12, 31))
        return Period(today + dt.timedelta(days=1), None)
    match = _SINCE_DATE.search(lower)
    if match:
        return Period(dt.date(int(match[1]), int(match[2]), int(match[3] or 1)), today)
    match = _SINCE_MONTH.search(lower)
    if match:
        month = _MONTHS[match[1]]
        year = int(match[2]) if match[2] else today.year - (month > today.month)
        return Period(dt.date(year, month, 1), today)
    match = _ZH_MONTH.search(lower)
    if match and 1 <= int(match[1]) <= 12:
        month = int(match[1])
        return Period(dt.date(today.year - (month > today.month), month, 1), today)
    if "this year" in lower or "今年" in lower:
        return Period(dt.date(today.year, 1, 1), today)
    days = vocabulary.period_days(lower)
    if days is not None:
        return Period(today - dt.timedelta(days=days), today)
    year = next((int(y) for y in _YEAR.findall(lower) if int(y) <= today.year), None)
    if year is not None:
        return Period(dt.date(year, 1, 1), min(today, dt.date(year, 12, 31)))
    return None


# A yes/no question opens with an auxiliary ("does X train …?", "is X's data kept …?"); in
# Chinese it asks whether something will happen (会…吗), where, or whether (是否).
_YES_NO_OPENING = re.compile(
    r"^\W*(?:does|do|did|will|would|has|have|is|are|was|were)\b|会.{0,20}吗|哪里|哪儿|是否"
)


_WORD = re.compile(r"[a-z][a-z'-]+")


def _asks_fact(lower: str) -> bool:
    return _YES_NO_OPENING.search(lower[:200]) is not None


def read_frame(
    lower: str,
    vocabulary: Vocabulary,
    today: dt.date,
    *,
    intent: str,
    tools: tuple[str, ...] = (),
    products: tuple[str, ...] = (),
    asks_list: bool = False,
) -> Frame:
    """The frame of a question: `lower` is its readable part, markup stripped, lower case;
    `intent` is the follow-up intent read from cue words (why, instead, since, who, data)."""
    data, data_words = vocabulary.data_named(lower)
    personal = vocabulary.asks("personal", lower)
    will_change = vocabulary.asks("will_change", lower)
    changed = vocabulary.asks("changed", lower) and not will_change
    asked: Asked
    if vocabulary.asks("access", lower) and intent not in ("why",):
        asked = Asked.ACCESS
    elif will_change:
        asked = Asked.WILL_CHANGE
    elif changed and (not tools or intent == "status"):
        asked = Asked.CHANGED
    elif vocabulary.asks("vendor", lower):
        asked = Asked.VENDOR
    elif intent == "why":
        asked = Asked.WHY
    elif intent == "instead":
        asked = Asked.INSTEAD
    elif intent == "since":
        asked = Asked.WHEN
    elif intent == "who":
        asked = Asked.WHO
    elif asks_list:
        asked = Asked.LIST
    elif tools and _asks_fact(lower) and not vocabulary.asks("permission", lower):
        asked = Asked.FACT
    elif data is not None or personal or intent == "data":
        asked = Asked.DATA
    else:
        asked = Asked.MAY_I
    period = None
    if asked in (Asked.CHANGED, Asked.WILL_CHANGE):
        period = _period(lower, vocabulary, today, asked is Asked.WILL_CHANGE)
    capability = vocabulary.capability(lower)
    return Frame(
        asked=asked,
        tools=tools,
        products=products,
        capability=capability.name if capability else None,
        data=data,
        data_words=data_words,
        personal=personal,
        period=period,
        words=tuple(_WORD.findall(lower[:300])),
    )
