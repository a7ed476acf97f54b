"""Reading the registry: a reload after a change reads again only what changed."""

from __future__ import annotations

import datetime as dt
from dataclasses import astuple

from bot.adapters.db.policy_repo import LoadedPolicies
from bot.adapters.db.store import Store
from bot.app.changes import AddTool
from bot.domain.commands import AddAlias, RemoveTool, SetPolicy
from bot.domain.policy import Status, ToolPolicy
from tests.conftest import FakeClock
from tests.factories import seed_registry
from tests.wiring import apply, runtime_on, seed


def _everything(loaded: LoadedPolicies) -> list[tuple[object, ...]]:
    """Every field of every policy, including the scheduled change and the update time."""
    return [(*astuple(p), p.updated_at, p.scheduled) for p in loaded.policies]


def _by_name(loaded: LoadedPolicies) -> dict[str, ToolPolicy]:
    return {p.name: p for p in loaded.policies}


def test_a_reload_after_one_change_reads_that_tool_again_and_keeps_the_others(
    store: Store,
) -> None:
    runtime = runtime_on(store)
    seed(runtime, seed_registry())
    first = runtime.policies.load()

    apply(runtime, SetPolicy("Cursor", Status.BANNED, reason="Uploads code."))
    again = runtime.policies.load(first)

    assert _by_name(again)["Cursor"].status is Status.BANNED
    unchanged = [name for name in _by_name(first) if name != "Cursor"]
    assert all(_by_name(again)[n] is _by_name(first)[n] for n in unchanged)
    assert _everything(again) == _everything(runtime.policies.load())


def test_a_reload_sees_removals_additions_aliases_and_scheduled_changes(
    store: Store, clock: FakeClock
) -> None:
    runtime = runtime_on(store)
    seed(runtime, seed_registry())
    first = runtime.policies.load()
    later = clock().date() + dt.timedelta(days=10)

    apply(runtime, RemoveTool("Cursor"))
    apply(runtime, AddTool("Windsurf"))
    apply(runtime, AddAlias("Qoder", "qoder ide"))
    apply(runtime, SetPolicy("GitHub Copilot", Status.BANNED, effective=later))
    again = runtime.policies.load(first)

    assert _everything(again) == _everything(runtime.policies.load())
    names = _by_name(again)
    assert "Cursor" not in names and "Windsurf" in names
    assert names["Qoder"].aliases == ("qoder ide",)
    scheduled = names["GitHub Copilot"].scheduled
    assert scheduled is not None and scheduled.effective == later
