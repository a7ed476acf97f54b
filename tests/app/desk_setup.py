"""A runtime with the desk set up as the desk's tests need it (admins, an admin channel,
small quotas), shared by the app tests and the Slack adapter's."""

from __future__ import annotations

from dataclasses import replace

import sqlalchemy as sa

from bot.adapters.db.store import Store
from bot.app.changes import SavePolicy
from bot.app.policy_exceptions import GroupMembers
from bot.app.runtime import Runtime
from bot.config import Settings
from tests.conftest import FakeClock
from tests.wiring import apply, runtime_on

ADMIN = "UADMIN"
OTHER_ADMIN = "UADMIN2"
ADMIN_CHANNEL = "C0ADMINS"


def build(
    engine: sa.Engine,
    clock: FakeClock,
    group_members: GroupMembers | None = None,
    **overrides: object,
) -> Runtime:
    values: dict[str, object] = {
        "admins": [ADMIN, OTHER_ADMIN],
        "admin_channel": ADMIN_CHANNEL,
        "requests_per_day": 3,
        "exception_max_days": 30,
        "exception_reminder": "3d",
    }
    values.update(overrides)
    settings = Settings(**values)  # type: ignore[arg-type]
    return runtime_on(Store(engine, clock=clock), settings, group_members=group_members)


def set_owner(runtime: Runtime, owner: str) -> None:
    policy = replace(runtime.policies.resolve("Claude Code"), owner=owner)
    apply(runtime, SavePolicy(policy, tool="Claude Code"))


def restart_numbering(engine: sa.Engine) -> None:
    """R1 and E1 in every test: PostgreSQL keeps counting ids after the tables are emptied."""
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as connection:
        for table in ("tool_request", "policy_exception", "answer_feedback"):
            connection.execute(sa.text(f"ALTER SEQUENCE {table}_id_seq RESTART WITH 1"))
