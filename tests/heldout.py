"""Held-out questions against the shipped registry (policies/), and how an answer is judged.

Written apart from the shared sample set and not tuned on: single-tool questions
(tests/data/heldout_single.jsonl) and broad ones (tests/data/heldout_broad.jsonl: lists,
variants, follow-ups, small talk; English and Chinese). A list's expected tools come from
its filter applied here, independently of bot.domain.lists. Used by
tests/domain/test_heldout_questions.py and bench/answer_quality.py.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.domain.answers import AnswerKind, Registry, answer_question, render_text
from bot.domain.policy import DataClass, Status, ToolPolicy

DATA = Path(__file__).resolve().parent / "data"
SINGLE = DATA / "heldout_single.jsonl"
BROAD = DATA / "heldout_broad.jsonl"
TODAY = dt.date(2026, 12, 1)
CONTACT = "#ai-governance"


@dataclass(frozen=True)
class Case:
    question: str
    kind: str = "tools"  # tools | list | variant | follow-up | small-talk
    expect: tuple[str, ...] = ()
    says: tuple[str, ...] = ()
    previous: str | None = None  # the question before a follow-up, in the same conversation
    filter: dict[str, Any] = field(default_factory=dict)  # a list's expected tools
    related: tuple[str, ...] = ()  # tools a variant answer must suggest


def load(path: Path) -> list[Case]:
    cases = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            cases.append(
                Case(
                    question=row["q"],
                    kind=row.get("kind", "tools"),
                    expect=tuple(row.get("expect", ())),
                    says=tuple(row.get("says", ())),
                    previous=row.get("previous"),
                    filter=row.get("filter", {}),
                    related=tuple(row.get("related", ())),
                )
            )
    return cases


def expected_list(policies: Sequence[ToolPolicy], wanted: dict[str, Any]) -> set[str]:
    """The tools a list filter names, computed straight from the registry."""
    order = list(DataClass)
    chosen = set()
    for policy in policies:
        if "status" in wanted and policy.status not in {Status(s) for s in wanted["status"]}:
            continue
        if "category" in wanted and policy.category != wanted["category"]:
            continue
        if "vendor" in wanted and policy.vendor not in wanted["vendor"]:
            continue
        if "data" in wanted:
            limit = policy.max_data
            if limit is None or order.index(limit) < order.index(DataClass(wanted["data"])):
                continue
        chosen.add(policy.name)
    return chosen


def judge(registry: Registry, case: Case) -> str | None:
    """None when the answer is right; otherwise what is wrong with it, in one line."""
    previous: list[str] = []
    if case.previous is not None:
        previous = answer_question(case.previous, registry, TODAY).tool_names
    answer = answer_question(case.question, registry, TODAY, previous=previous)
    got = set(answer.tool_names)
    text = render_text(answer, CONTACT)
    if case.kind == "list":
        want = expected_list(list(registry), case.filter)
        if answer.kind is not AnswerKind.LIST:
            return f"not a list ({answer.kind.value}): {sorted(got)}"
        if got != want:
            return f"listed {sorted(got - want)} too, missed {sorted(want - got)}"
    elif case.kind == "variant":
        if answer.kind is not AnswerKind.VARIANT or got:
            return f"not a variant answer ({answer.kind.value}): {sorted(got)}"
        missing = [name for name in case.related if name not in answer.suggestions]
        if missing:
            return f"related tools missing from suggestions: {missing}"
    elif case.kind == "small-talk":
        if answer.kind is not AnswerKind.SMALL_TALK:
            return f"not small talk ({answer.kind.value}): {sorted(got)}"
    elif got != set(case.expect):
        return f"matched {sorted(got)}, expected {sorted(case.expect)}"
    lacking = [s for s in case.says if s not in text]
    return f"text lacks {lacking}" if lacking else None


def wrong_tools(registry: Registry, case: Case) -> set[str]:
    """Tools a single-tool answer named that the question is not about (must stay empty)."""
    if case.kind != "tools":
        return set()
    answer = answer_question(case.question, registry, TODAY)
    return set(answer.tool_names) - set(case.expect)
