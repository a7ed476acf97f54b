"""Factories for test data: policies with sensible defaults, overridable per test."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.domain.policy import DataClass, Status, ToolPolicy


def make_policy(name: str = "Claude Code", **fields: Any) -> ToolPolicy:
    fields.setdefault("status", Status.ALLOWED)
    return ToolPolicy(name=name, **fields)


def seed_registry() -> list[ToolPolicy]:
    """A small registry with the seed story: Claude Code banned, Qoder the alternative."""
    return [
        make_policy("Qoder", vendor="Alibaba", category="coding-assistant"),
        make_policy(
            "Claude Code",
            vendor="Anthropic",
            aliases=("claude-code", "claude cli"),
            category="coding-assistant",
            status=Status.BANNED,
            reason="Sends environment metadata with every request.",
            alternatives=("Qoder",),
            effective=dt.date(2026, 11, 20),
            owner="#ai-governance",
            link="https://intranet.example.com/ai-policy/claude-code",
        ),
        make_policy(
            "GitHub Copilot",
            vendor="GitHub",
            status=Status.CONDITIONAL,
            conditions="Public repositories only.",
            max_data=DataClass.PUBLIC,
        ),
        make_policy("Cursor", vendor="Anysphere", status=Status.UNDER_REVIEW),
    ]


def ban_first_allowed(text: str) -> str:
    """A policy file's text with its first allowed tool banned, as a person would write it: a
    banned tool has no conditions or data limit, so those lines of its entry go too."""
    before, found, after = text.partition("status: allowed")
    assert found, "no allowed tool in the file"
    end = after.find("\n  - name:")
    entry, rest = (after, "") if end < 0 else (after[:end], after[end:])
    kept = [
        line
        for line in entry.split("\n")
        if not line.lstrip().startswith(("conditions:", "max_data:"))
    ]
    start = before.rfind("\n  - name:")
    head, mine = before[: start + 1], before[start + 1 :]
    mine = "\n".join(
        line
        for line in mine.split("\n")
        if not line.lstrip().startswith(("conditions:", "max_data:"))
    )
    return head + mine + "status: banned" + "\n".join(kept) + rest
