"""Migration 0008 (audiences and translations) on a database made by 0007: every existing
policy stays the default for everyone."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from bot.adapters.db import engines as db
from bot.adapters.db.policy_repo import PolicyRepository
from bot.adapters.db.store import Store
from bot.domain.policy import Status

T0 = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)


def test_existing_policies_stay_the_default_with_no_rules_or_translations(
    fresh_database_url: str,
) -> None:
    engine = db.make_engine(fresh_database_url)
    db.upgrade(engine, "0007")
    tool = sa.Table("tool", sa.MetaData(), autoload_with=engine)
    with engine.begin() as connection:
        connection.execute(
            tool.insert().values(
                name="Cursor", name_key="cursor", status="conditional", conditions="Use SSO.",
                alternatives=[], version=1, created_at=T0, updated_at=T0,
            )
        )  # fmt: skip

    db.upgrade(engine)

    [cursor] = PolicyRepository(Store(engine)).policies()
    assert cursor.status is Status.CONDITIONAL and cursor.conditions == "Use SSO."
    assert cursor.rules == () and cursor.translations == ()
    assert PolicyRepository(Store(engine)).audiences() == []
    db.downgrade(engine, "0007")
    assert "rules" not in {c["name"] for c in sa.inspect(engine).get_columns("tool")}
    engine.dispose()
