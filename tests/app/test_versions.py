"""Policy versions: one per command, one per import, the first load a quiet baseline, and
one announcement per version listing every change of it."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, col, select

from bot.adapters.db.models import Announcement, Delivery, PolicyVersion, Revision
from bot.adapters.db.store import Store
from bot.app.changes import ImportPolicies
from bot.app.runtime import Runtime
from bot.app.versions import Versions, asks_what_changed
from bot.domain.commands import RemoveTool, SetPolicy
from bot.domain.policy import Status
from tests.conftest import FakeClock
from tests.domain.factories import make_policy
from tests.wiring import TRUSTED, apply, runtime_on, seed

CHANNEL = "C0ANNOUNCE"


def _runtime(store: Store) -> Runtime:
    return runtime_on(store, announce_channel=CHANNEL)


def _all(store: Store, model: type) -> list:  # type: ignore[type-arg]
    with Session(store.engine) as session:
        return list(session.exec(select(model).order_by(col(model.id))).all())


def _registry() -> list:  # type: ignore[type-arg]
    return [make_policy(name) for name in ("Qoder", "Cursor", "Claude Code", "Windsurf")]


def test_first_import_into_an_empty_registry_is_a_quiet_baseline(store: Store) -> None:
    seed(_runtime(store), _registry())

    [version] = _all(store, PolicyVersion)
    assert version.baseline and version.summary == "Baseline: 4 tools loaded"
    assert {r.version_id for r in _all(store, Revision)} == {version.id}
    assert _all(store, Announcement) == []


def test_an_excerpt_of_a_version_has_its_first_changes_and_counts_them_all(store: Store) -> None:
    seed(_runtime(store), _registry())
    [version] = _all(store, PolicyVersion)

    excerpt, total = Versions(store).excerpt(version.id, 3)

    assert total == 4 and excerpt.number == version.id
    assert [c["tool"] for c in excerpt.changes] == ["Qoder", "Cursor", "Claude Code"]


def test_an_import_changing_two_tools_is_one_version_and_one_announcement(store: Store) -> None:
    runtime = _runtime(store)
    seed(runtime, _registry())
    changed = [
        make_policy("Qoder"),
        make_policy(
            "Cursor", status=Status.BANNED, reason="Uploads code.", alternatives=("Qoder",)
        ),
        make_policy("Claude Code", status=Status.CONDITIONAL, conditions="Public code only."),
        make_policy("Windsurf"),
    ]

    seed(runtime, changed, quiet=False)

    _baseline, version = _all(store, PolicyVersion)
    [announcement] = _all(store, Announcement)
    posts = [d for d in _all(store, Delivery) if d.kind == "announcement"]
    assert not version.baseline
    assert announcement.version_id == version.id and len(posts) == 1
    assert "Cursor" in announcement.summary and "Claude Code" in announcement.summary
    groups = {i["tool"]: i["group"] for i in announcement.details["items"]}
    assert groups == {"Cursor": "banned", "Claude Code": "limits"}
    assert [r.version_id for r in _all(store, Revision)][-2:] == [version.id, version.id]


def test_each_command_is_a_version_of_its_own(store: Store) -> None:
    runtime = _runtime(store)
    seed(runtime, _registry())

    apply(runtime, SetPolicy("Cursor", Status.BANNED))
    apply(runtime, SetPolicy("Qoder", Status.CONDITIONAL, conditions="Internal code."))

    versions = Versions(store).latest()
    assert [v.summary for v in versions] == [
        "Qoder: conditions or data limit changed",
        "Cursor: now banned",
        "Baseline: 4 tools loaded",
    ]
    assert [len(v.changes) for v in versions] == [1, 1, 4]
    assert len(_all(store, Announcement)) == 2


def test_changes_lists_versions_newest_first_and_one_versions_changes(store: Store) -> None:
    runtime = runtime_on(store, announce_channel=CHANNEL, admins="U0ADMIN")
    seed(runtime, _registry())
    apply(runtime, SetPolicy("Cursor", Status.BANNED))

    newer, older = (f"v{v.number} " for v in Versions(store).latest())
    listing = runtime.service.handle("changes", user="U0STAFF", source="slack").text
    one = runtime.service.handle(f"changes {newer}", user="U0ADMIN", source="slack").text

    assert listing.index(newer) < listing.index(older)
    assert "Cursor: now banned" in listing and "Baseline: 4 tools loaded" in listing
    assert "Cursor: update (" in one and "status" in one


def test_acks_of_a_version_count_its_announcement(store: Store) -> None:
    runtime = runtime_on(store, announce_channel=CHANNEL, admins="U0ADMIN")
    seed(runtime, _registry())
    apply(runtime, SetPolicy("Cursor", Status.BANNED))
    [announcement] = _all(store, Announcement)
    runtime.announcements.acknowledge(announcement.id, "U0ALICE")

    number = announcement.version_id
    reply = runtime.service.handle(f"acks v{number}", user="U0ADMIN", source="slack").text

    assert "1 acknowledged" in reply or "1 of" in reply


def test_staff_asking_what_changed_get_the_latest_versions_newest_first(store: Store) -> None:
    runtime = runtime_on(store, announce_channel=CHANNEL)
    seed(runtime, _registry())
    apply(runtime, SetPolicy("Cursor", Status.BANNED))

    replies = [
        runtime.service.handle(q, user="U0STAFF", source="slack").text
        for q in ("what changed?", "What's new in the AI policy?", "有什么变化")
    ]

    newer, older = (f"v{v.number} " for v in Versions(store).latest())
    for reply in replies:
        assert reply.index(newer) < reply.index(older) and "Cursor: now banned" in reply


def test_a_question_about_one_tool_is_not_taken_for_what_changed() -> None:
    assert not asks_what_changed("can I use Cursor for client code and what has changed for it?")
    assert asks_what_changed("what changed?")


# -- history names versions; scheduled changes and removals are versions of their own --------


def test_history_names_the_version_of_each_revision(store: Store) -> None:
    runtime = runtime_on(store, announce_channel=CHANNEL, admins="U0ADMIN")
    seed(runtime, _registry())
    apply(runtime, SetPolicy("Cursor", Status.BANNED, reason="Uploads code."))

    newer, baseline = Versions(store).latest()
    reply = runtime.service.handle("history Cursor", user="U0ADMIN", source="slack").text

    created, banned = reply.splitlines()[1:]
    assert f"  v{baseline.number}  create by seed (import)" in created
    assert f"  v{newer.number}  update by seed (import): status: allowed → banned" in banned


def test_scheduled_changes_applied_on_their_day_are_one_quiet_version(
    store: Store, clock: FakeClock
) -> None:
    runtime = _runtime(store)
    seed(runtime, _registry())
    day = dt.date(2026, 12, 15)
    apply(runtime, SetPolicy("Cursor", Status.BANNED, effective=day))
    apply(runtime, SetPolicy("Windsurf", Status.BANNED, effective=day))
    announced = len(_all(store, Announcement))

    clock.now = dt.datetime(2026, 12, 15, 8, 0, tzinfo=dt.UTC)
    assert runtime.changes.apply_due() == 2

    latest = Versions(store).latest(1)[0]
    assert latest.source == "scheduled"
    assert latest.summary == "scheduled: 2 changes (2 now banned)"
    assert {c["tool"] for c in latest.changes} == {"Cursor", "Windsurf"}
    assert latest.created_at == dt.datetime(2026, 12, 15, tzinfo=dt.UTC)
    # It was announced, with its countdown, when it was scheduled.
    assert len(_all(store, Announcement)) == announced


def test_scheduled_changes_of_two_days_applied_late_are_a_version_each(
    store: Store, clock: FakeClock
) -> None:
    runtime = _runtime(store)
    seed(runtime, _registry())
    apply(runtime, SetPolicy("Cursor", Status.BANNED, effective=dt.date(2026, 12, 15)))
    apply(runtime, SetPolicy("Windsurf", Status.BANNED, effective=dt.date(2026, 12, 16)))

    clock.now = dt.datetime(2026, 12, 20, tzinfo=dt.UTC)
    runtime.changes.apply_due()

    windsurf, cursor = Versions(store).latest(2)
    assert (cursor.summary, windsurf.summary) == ("Cursor: now banned", "Windsurf: now banned")


def test_a_lone_removal_is_a_version_announced_under_removed_tools(store: Store) -> None:
    runtime = _runtime(store)
    seed(runtime, _registry())

    apply(runtime, RemoveTool("Windsurf"))

    latest = Versions(store).latest(1)[0]
    [announcement] = _all(store, Announcement)
    posts = [d for d in _all(store, Delivery) if d.announcement_id == announcement.id]
    assert latest.summary == "Windsurf: removed"
    assert announcement.version_id == latest.number
    assert [i["group"] for i in announcement.details["items"]] == ["removed"]
    assert "Windsurf: removed from the registry" in announcement.summary
    assert [p.kind for p in posts] == ["announcement"]


def test_an_import_that_only_removes_tools_is_a_version_and_one_announcement(
    store: Store,
) -> None:
    runtime = _runtime(store)
    seed(runtime, _registry())
    kept = [make_policy(name) for name in ("Qoder", "Cursor")]

    runtime.changes.import_policies(ImportPolicies(tuple(kept), prune=True), TRUSTED)

    latest = Versions(store).latest(1)[0]
    [announcement] = _all(store, Announcement)
    assert not latest.baseline and latest.summary == "import: 2 changes (2 removed tools)"
    assert {c["tool"] for c in latest.changes} == {"Claude Code", "Windsurf"}
    assert announcement.version_id == latest.number
    assert {i["group"] for i in announcement.details["items"]} == {"removed"}


def test_a_version_with_changes_on_two_later_dates_counts_down_to_each_once(
    store: Store,
) -> None:
    runtime = _runtime(store)
    seed(runtime, _registry())
    first, second = dt.date(2026, 12, 10), dt.date(2026, 12, 20)
    changed = [
        make_policy("Qoder"),
        make_policy("Cursor", status=Status.BANNED, effective=first),
        make_policy("Claude Code", status=Status.BANNED, effective=second),
        make_policy("Windsurf", status=Status.BANNED, effective=second),
    ]

    seed(runtime, changed, quiet=False)

    countdowns = [d.kind for d in _all(store, Delivery) if d.kind.startswith("effective-")]
    assert len(countdowns) == len(set(countdowns)) == 6
    assert sum(second.isoformat() in k for k in countdowns) == 3
