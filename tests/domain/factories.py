"""Test data for the core: a small registry of our own and a generated large one."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import replace

from bot.domain.policy import DataClass, Status, ToolPolicy


def make_policy(name: str, status: Status = Status.ALLOWED, **fields: object) -> ToolPolicy:
    """A policy with only the fields a test cares about."""
    policy = ToolPolicy(name=name, status=status)
    return replace(policy, **fields)  # type: ignore[arg-type]


def sample_policies() -> list[ToolPolicy]:
    """A registry unlike the evaluation set: other tools, everyday-word names, Chinese names."""
    return [
        make_policy(
            "Continue",
            Status.CONDITIONAL,
            vendor="Continue Dev",
            conditions="Local models only.",
            max_data=DataClass.INTERNAL,
        ),
        make_policy("Lovable", Status.UNDER_REVIEW, vendor="Lovable Labs"),
        make_policy("Bolt", Status.BANNED, vendor="StackBlitz", aliases=("bolt.new",)),
        make_policy("Microsoft Copilot", Status.ALLOWED, vendor="Microsoft"),
        make_policy(
            "GitHub Copilot",
            Status.CONDITIONAL,
            vendor="GitHub",
            max_data=DataClass.PUBLIC,
            conditions="Open-source repositories only.",
        ),
        make_policy(
            "GitHub Copilot Enterprise",
            Status.ALLOWED,
            vendor="GitHub",
            max_data=DataClass.CONFIDENTIAL,
        ),
        make_policy(
            "ChatGPT",
            Status.BANNED,
            vendor="OpenAI",
            reason="Prompts may be used for training.",
            alternatives=("ChatGPT Enterprise", "Doubao", "Grammar Wizard"),
            effective=dt.date(2025, 3, 1),
            owner="#ai-office",
            link="https://intranet.example/ai/chatgpt",
        ),
        make_policy(
            "ChatGPT Enterprise",
            Status.ALLOWED,
            vendor="OpenAI",
            max_data=DataClass.CONFIDENTIAL,
            owner="@dana",
        ),
        make_policy("ERNIE Bot", Status.CONDITIONAL, vendor="Baidu", aliases=("文心一言",)),
        make_policy("Doubao", Status.ALLOWED, vendor="ByteDance", aliases=("豆包",)),
        make_policy(
            "Midjourney",
            Status.BANNED,
            vendor="Midjourney",
            reason="Generated images have unclear licences.",
            effective=dt.date(2030, 1, 15),
        ),
        make_policy("Perplexity", Status.UNDER_REVIEW, vendor="Perplexity AI"),
        make_policy("Replit Agent", Status.BANNED, vendor="Replit"),
        make_policy("Tabnine", Status.ALLOWED, vendor="Tabnine", max_data=DataClass.RESTRICTED),
    ]


_CONSONANTS = "bdfgkmnpvz"  # no c, l, r, s, t: keeps generated names far from real ones
_VOWELS = "aeiou"
_SUFFIXES = ("", "", " AI", " Studio", " Pro", " Labs")


def _word(rng: random.Random) -> str:
    syllables = rng.randint(2, 3)
    return "".join(rng.choice(_CONSONANTS) + rng.choice(_VOWELS) for _ in range(syllables))


def generated_policies(count: int, seed: int = 7) -> list[ToolPolicy]:
    """`count` made-up tools with made-up vendors and aliases, deterministic for a seed."""
    rng = random.Random(seed)
    statuses = list(Status)
    seen: set[str] = set()
    policies: list[ToolPolicy] = []
    while len(policies) < count:
        base = _word(rng).capitalize()
        name = base + rng.choice(_SUFFIXES)
        if name.lower() in seen:
            continue
        seen.add(name.lower())
        aliases = (f"{base.lower()}-{_word(rng)}",) if rng.random() < 0.5 else ()
        policies.append(
            ToolPolicy(
                name=name,
                status=rng.choice(statuses),
                vendor=_word(rng).capitalize() + " Inc",
                aliases=aliases,
            )
        )
    return policies
