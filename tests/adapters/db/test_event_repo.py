"""EventRepository: each Slack event id or request signature is new exactly once."""

from __future__ import annotations

import datetime as dt
import threading

import sqlalchemy as sa
from sqlmodel import Session, select

from bot.adapters.db import engines as db
from bot.adapters.db.event_repo import EventRepository
from bot.adapters.db.models import ProcessedEvent
from bot.adapters.db.store import Store
from tests.conftest import FakeClock


def test_an_id_is_new_the_first_time_only(store: Store) -> None:
    events = EventRepository(store)
    assert events.first_time_event("Ev1") is True
    assert events.first_time_event("Ev1") is False
    assert events.first_time_event("Ev2") is True


def test_the_first_sighting_is_recorded_with_its_time(store: Store, clock: FakeClock) -> None:
    EventRepository(store).first_time_event("Ev1")
    with Session(store.engine) as session:
        rows = session.exec(select(ProcessedEvent)).all()
    assert [(row.event_id, row.seen_at) for row in rows] == [("Ev1", clock.now)]


def test_a_sighting_is_stored_as_sqlalchemy_stores_the_column(
    store: Store, clock: FakeClock
) -> None:
    # On SQLite the insert bypasses SQLAlchemy's Connection; purging compares stored values.
    EventRepository(store).first_time_event("Ev1")
    with Session(store.engine) as session:
        session.add(ProcessedEvent(event_id="Ev2", seen_at=clock.now))
        session.commit()
    with store.engine.connect() as connection:
        stored = connection.exec_driver_sql(
            "SELECT CAST(seen_at AS TEXT) FROM processed_event ORDER BY event_id"
        ).scalars()
        first, second = list(stored)
    assert first == second


def test_of_processes_racing_with_one_id_exactly_one_is_told_it_is_new(
    engine: sa.Engine, clock: FakeClock
) -> None:
    # An engine each, as each worker process or replica has its own connections.
    engines = [db.make_engine(engine.url.render_as_string(hide_password=False)) for _ in range(4)]
    repositories = [EventRepository(Store(e, clock)) for e in engines]
    start = threading.Barrier(len(repositories))
    answers: list[bool] = []

    def record(events: EventRepository) -> None:
        start.wait()
        answers.append(events.first_time_event("request:same-signature"))

    threads = [threading.Thread(target=record, args=(r,)) for r in repositories]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    for each in engines:
        each.dispose()
    assert sorted(answers) == [False, False, False, True]


def test_purge_forgets_ids_older_than_the_cut_off(store: Store, clock: FakeClock) -> None:
    events = EventRepository(store)
    events.first_time_event("old")
    clock.advance(days=2)
    events.first_time_event("new")
    assert events.purge_events(clock.now - dt.timedelta(days=1)) == 1
    assert events.first_time_event("old") is True
    assert events.first_time_event("new") is False
