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
