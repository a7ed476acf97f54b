"""The runtime on a test's database and clock, built by the real composition root."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bot.adapters.db.store import Store
from bot.app.changes import Actor, ChangeCommand, ImportPolicies
from bot.app.policy_exceptions import GroupMembers
from bot.app.runtime import Runtime
from bot.compose import build_runtime
from bot.config import Settings
from bot.domain.events import Change, ImportReport
from bot.domain.policy import ToolPolicy

# A change made by the test itself, as the CLI import is: no admin check.
TRUSTED = Actor("seed", "import", trusted=True)


def runtime_on(
    store: Store,
    settings: Settings | None = None,
    *,
    group_members: GroupMembers | None = None,
    **overrides: Any,
) -> Runtime:
    """`build_runtime` on `store`'s engine and clock; `overrides` are Settings fields."""
    if settings is None:
        settings = Settings(**overrides)
    return build_runtime(settings, store.engine, clock=store.clock, group_members=group_members)


def seed(runtime: Runtime, policies: Iterable[ToolPolicy], *, quiet: bool = True) -> ImportReport:
    """Import `policies` as `policybot import` would (all or nothing, trusted)."""
    return runtime.changes.import_policies(ImportPolicies(tuple(policies), quiet=quiet), TRUSTED)


def apply(runtime: Runtime, command: ChangeCommand, actor: Actor = TRUSTED) -> Change:
    """One change through the write path."""
    return runtime.changes.run(command, actor)
