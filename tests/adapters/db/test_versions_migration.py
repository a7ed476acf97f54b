"""Migration to policy versions, on a database made by the migrations before it (0001, 0002):
existing announcements and acknowledgements are kept, each announcement becomes a version,
and every earlier revision is placed in a version."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from bot.adapters.db import engines as db

T0 = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)


def _old_database(url: str) -> sa.Engine:
    """A database as main made it before versions: migrated to 0002 and used."""
    engine = db.make_engine(url)
    db.upgrade(engine, "0002")
    meta = sa.MetaData()
    meta.reflect(engine)
    revision, announcement, ack = (
        meta.tables["revision"],
        meta.tables["announcement"],
        meta.tables["acknowledgement"],
    )
    with engine.begin() as connection:
        connection.execute(
            revision.insert(),
            [
                # The first import (no announcement), then a change to Cursor, announced.
                {"tool_key": "cursor", "tool_name": "Cursor", "action": "create",
                 "author": "policybot", "source": "import", "changes": {}, "at": T0},
                {"tool_key": "qoder", "tool_name": "Qoder", "action": "create",
                 "author": "policybot", "source": "import", "changes": {}, "at": T0},
                {"tool_key": "cursor", "tool_name": "Cursor", "action": "update",
                 "author": "U0ADMIN", "source": "slack",
                 "changes": {"status": ["allowed", "banned"]},
                 "at": T0 + dt.timedelta(days=1)},
            ],
        )  # fmt: skip
        [announced] = connection.execute(
            announcement.insert()
            .values(
                kind="change",
                tool_key="cursor",
                tool_name="Cursor",
                summary="Cursor: allowed → banned",
                details={},
                author="U0ADMIN",
                channel="C0ANNOUNCE",
                created_at=T0 + dt.timedelta(days=1, seconds=1),
            )
            .returning(announcement.c.id)
        ).all()
        connection.execute(
            ack.insert(),
            [
                {"announcement_id": announced.id, "user_id": "U0ALICE", "at": T0},
                {"announcement_id": announced.id, "user_id": "U0BOB", "at": T0},
            ],
        )
    return engine


def test_announcements_and_acknowledgements_survive_and_become_versions(
    fresh_database_url: str,
) -> None:
    engine = _old_database(fresh_database_url)

    db.upgrade(engine)

    with engine.connect() as connection:
        versions = connection.execute(
            sa.text("SELECT id, summary, baseline FROM policy_version ORDER BY id")
        ).all()
        announcements = connection.execute(
            sa.text("SELECT id, version_id, summary FROM announcement")
        ).all()
        acks = list(connection.execute(sa.text("SELECT user_id FROM acknowledgement")).scalars())
        placed = connection.execute(
            sa.text("SELECT tool_key, action, version_id FROM revision ORDER BY id")
        ).all()
    engine.dispose()
    baseline, change = versions
    assert baseline.baseline and not change.baseline
    assert [(a.version_id, a.summary) for a in announcements] == [
        (change.id, "Cursor: allowed → banned")
    ]
    assert sorted(acks) == ["U0ALICE", "U0BOB"]
    assert [r.version_id for r in placed] == [baseline.id, baseline.id, change.id]


def test_an_empty_database_gets_no_version_from_the_migration(fresh_database_url: str) -> None:
    engine = db.make_engine(fresh_database_url)
    db.upgrade(engine, "0002")

    db.upgrade(engine)

    with engine.connect() as connection:
        count = connection.execute(sa.text("SELECT count(*) FROM policy_version")).scalar()
    engine.dispose()
    assert count == 0
