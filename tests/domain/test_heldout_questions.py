"""Held-out questions of our own against the shipped registry: single tools and broad kinds.

The questions (tests/data/heldout_*.jsonl) were written apart from the shared sample set;
tests/heldout.py judges an answer. bench/answer_quality.py reports the same as percentages.
"""

from __future__ import annotations

import pytest

from bot.adapters.files.policyfile import load_policies
from bot.adapters.files.vocabularyfile import shipped_vocabulary
from bot.domain.answers import Registry
from tests import heldout
from tests.conftest import REPO

SINGLE = heldout.load(heldout.SINGLE)
BROAD = heldout.load(heldout.BROAD)


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry(load_policies(REPO / "policies"), shipped_vocabulary())


def test_the_sets_are_as_large_as_promised() -> None:
    assert len(SINGLE) >= 60 and len(BROAD) >= 40
    kinds = {case.kind for case in BROAD}
    assert {"list", "variant", "follow-up"} <= kinds
    assert any(not case.question.isascii() for case in BROAD)


@pytest.mark.parametrize("case", SINGLE, ids=[c.question for c in SINGLE])
def test_single_tool_question(registry: Registry, case: heldout.Case) -> None:
    assert heldout.judge(registry, case) is None
    assert heldout.wrong_tools(registry, case) == set()


@pytest.mark.parametrize("case", BROAD, ids=[c.question for c in BROAD])
def test_broad_question(registry: Registry, case: heldout.Case) -> None:
    assert heldout.judge(registry, case) is None
