"""The catalogue as JSON, as build-your-own-radar CSV, and as policies-as-code YAML. No I/O.

The YAML is exactly what `policybot export` writes (the policy file format's own export),
so it can be imported back; JSON and CSV are for other programs and other radars.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from html import escape
from typing import Any

from bot.adapters.files.csvfile import csv_text
from bot.adapters.files.policyfile import dump_policies
from bot.domain.audiences import rules_plain, translations_plain
from bot.domain.links import slug, tool_path
from bot.domain.policy import ToolPolicy

FORMATS = ("json", "csv", "yaml")
CONTENT_TYPES = {
    "json": "application/json; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "yaml": "application/yaml; charset=utf-8",
}
# build-your-own-radar's columns, in its order.
CSV_COLUMNS = ("name", "ring", "quadrant", "isNew", "description")


def tool_record(policy: ToolPolicy, *, recent: bool, base_url: str = "") -> dict[str, Any]:
    """One tool as a JSON-ready dict; `url` is its page, absolute when `base_url` is given."""
    return {
        "name": policy.name,
        "slug": slug(policy.name),
        "url": base_url.rstrip("/") + tool_path(policy.name),
        "status": policy.status.value,
        "vendor": policy.vendor,
        "category": policy.category,
        "aliases": list(policy.aliases),
        "reason": policy.reason,
        "conditions": policy.conditions,
        "max_data": policy.max_data.value if policy.max_data else None,
        "alternatives": list(policy.alternatives),
        "effective": policy.effective.isoformat() if policy.effective else None,
        "owner": policy.owner,
        "link": policy.link,
        "updated_at": policy.updated_at.isoformat() if policy.updated_at else None,
        "scheduled": (
            {
                "status": policy.scheduled.status.value,
                "effective": policy.scheduled.effective.isoformat(),
            }
            if policy.scheduled
            else None
        ),
        "recently_changed": recent,
        # Each audience's rule (by audience name, never its members) and the translations.
        "rules": rules_plain(policy.rules),
        "translations": translations_plain(policy.translations),
    }


def to_json(
    tools: Sequence[ToolPolicy],
    *,
    is_recent: Callable[[ToolPolicy], bool],
    generated_at: dt.datetime,
    base_url: str = "",
) -> str:
    # One tool a line: still readable, and each line written by json's C encoder (an
    # indented dump goes through the pure-Python one: seconds for 10,000 tools).
    head = json.dumps({"generated_at": generated_at.isoformat(), "count": len(tools)})[:-1]
    if not tools:
        return head + ', "tools": []}\n'
    records = ",\n".join(
        "  "
        + json.dumps(tool_record(p, recent=is_recent(p), base_url=base_url), ensure_ascii=False)
        for p in tools
    )
    return head + ', "tools": [\n' + records + "\n]}\n"


def byor_description(policy: ToolPolicy) -> str:
    """The radar's description column: reason, conditions, data limit and alternatives.

    build-your-own-radar shows descriptions as HTML, so admin-written text is escaped.
    """
    parts = []
    if policy.reason:
        parts.append(escape(policy.reason))
    if policy.conditions:
        parts.append("Conditions: " + escape(policy.conditions))
    if policy.max_data:
        parts.append(f"Data up to: {policy.max_data.value}")
    if policy.alternatives:
        parts.append("Instead use: " + escape(", ".join(policy.alternatives)))
    return " ".join(parts)


def to_csv(tools: Sequence[ToolPolicy], *, is_recent: Callable[[ToolPolicy], bool]) -> str:
    """build-your-own-radar's CSV: the ring is the status, the quadrant the category."""
    rows = (
        [
            policy.name,
            policy.status.value,
            policy.category or "uncategorised",
            "TRUE" if is_recent(policy) else "FALSE",
            byor_description(policy),
        ]
        for policy in tools
    )
    return csv_text(CSV_COLUMNS, rows, lineterminator="\n")


def to_yaml(tools: Sequence[ToolPolicy]) -> str:
    """The policies-as-code YAML (`policybot import` reads it back), in name order."""
    return dump_policies(sorted(tools, key=lambda p: p.name.casefold()))


def export(
    fmt: str,
    tools: Sequence[ToolPolicy],
    *,
    is_recent: Callable[[ToolPolicy], bool],
    generated_at: dt.datetime,
    base_url: str = "",
) -> str:
    """`tools` in format `fmt` (json, csv or yaml); ValueError for another format."""
    if fmt == "json":
        return to_json(tools, is_recent=is_recent, generated_at=generated_at, base_url=base_url)
    if fmt == "csv":
        return to_csv(tools, is_recent=is_recent)
    if fmt == "yaml":
        return to_yaml(tools)
    raise ValueError(f"unknown export format '{fmt}': use {', '.join(FORMATS)}")
