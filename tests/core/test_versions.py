"""Policy versions: one per command, one per import, the first load a quiet baseline, and
one announcement per version listing every change of it."""

from __future__ import annotations

from sqlmodel import Session, col, select

from bot.bootstrap import Runtime
from bot.core.commands import SetPolicy
from bot.core.models import Announcement, Delivery, PolicyVersion, Revision
from bot.core.policy import Status
from bot.core.store import Store
from bot.core.versions import Versions, asks_what_changed
from tests.core.factories import make_policy
from tests.wiring import apply, runtime_on, seed

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
