"""pytest fixtures for the Slack stand-in; import them in tests/conftest.py."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.standin.slack import StandinSlack


@pytest.fixture
def standin_slack() -> Iterator[StandinSlack]:
    """A running StandinSlack with default settings, stopped after the test."""
    with StandinSlack() as standin:
        yield standin


@pytest.fixture
def make_standin_slack() -> Iterator[Callable[..., StandinSlack]]:
    """Start StandinSlacks with custom settings (rate limit, members...); all stopped after."""
    started: list[StandinSlack] = []

    def make(**options: Any) -> StandinSlack:
        standin = StandinSlack(**options)
        standin.start()
        started.append(standin)
        return standin

    yield make
    for standin in started:
        standin.stop()
