"""Drafts: staged changes shown to admins, invisible to staff, published as one version
through the one write path, refused cleanly when they no longer apply, or discarded.

Driven through `PolicyService.handle`, the console's and Slack's front door."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from sqlmodel import Session, col, select

from bot.adapters.db.models import Announcement, Delivery, PolicyVersion, Revision, StagedChange
from bot.adapters.db.store import Store
from bot.app.changes import Actor, AddTool, SavePolicy
from bot.app.drafts import decode, encode
from bot.app.runtime import Runtime
from bot.app.versions import Versions
from bot.domain.commands import AddAlias, RemoveTool, SetPolicy
from bot.domain.errors import PolicyError
from bot.domain.policy import DataClass, Status
from tests.domain.factories import make_policy
from tests.wiring import apply, runtime_on, seed

ADMIN, OTHER_ADMIN, STAFF = "U0ADMIN", "U0BOB", "U0STAFF"
CHANNEL = "C0ANNOUNCE"


@pytest.fixture
def runtime(store: Store) -> Runtime:
    runtime = runtime_on(store, admins=f"{ADMIN},{OTHER_ADMIN}", announce_channel=CHANNEL)
    seed(runtime, [make_policy(n) for n in ("Qoder", "Cursor", "Windsurf", "Claude Code")])
    return runtime


def say(runtime: Runtime, text: str, user: str = ADMIN) -> str:
    return runtime.service.handle(text, user=user, source="console").text


def rows(store: Store, model: type) -> list:  # type: ignore[type-arg]
    with Session(store.engine) as session:
        return list(session.exec(select(model).order_by(col(model.id))).all())  # type: ignore[attr-defined]


def test_staged_changes_change_nothing_staff_can_see(runtime: Runtime, store: Store) -> None:
    before = runtime.service.policies()
    answer = say(runtime, "can I use Cursor?", STAFF)

    staged = say(runtime, "draft set Cursor banned --reason Uploads code --alternatives Qoder")
    say(runtime, "draft remove Windsurf")

    assert staged.startswith("Staged as change 1 of the draft: Cursor: status: allowed → banned")
    assert runtime.service.policies() == before
    assert say(runtime, "can I use Cursor?", STAFF) == answer
    assert "Windsurf" in say(runtime, "list", STAFF)
    assert len(rows(store, PolicyVersion)) == 1  # the baseline only: trials make no versions
    assert rows(store, Announcement) == [] and rows(store, Delivery) == []


def test_draft_shows_each_change_old_to_new_and_who_staged_it(runtime: Runtime) -> None:
    say(runtime, "draft set Cursor banned --reason Uploads code")
    say(runtime, "draft alias Qoder qd", OTHER_ADMIN)
    say(runtime, "draft remove Windsurf")

    shown = say(runtime, "draft", OTHER_ADMIN).splitlines()

    assert shown[0].startswith("Draft of the next policy version (3 changes;")
    assert shown[1].startswith("1. Cursor: status: allowed → banned; reason: — → Uploads code")
    assert f"staged by {ADMIN} (console)" in shown[1]
    assert shown[2].startswith("2. Qoder: aliases: — → qd") and f"by {OTHER_ADMIN}" in shown[2]
    assert shown[3].startswith("3. Windsurf: removed from the registry")


def test_an_empty_draft_says_how_to_stage(runtime: Runtime) -> None:
    assert say(runtime, "draft").startswith("The draft is empty. Stage a change with `draft set")


def test_publish_makes_one_version_with_one_announcement_listing_all(
    runtime: Runtime, store: Store
) -> None:
    say(runtime, "draft set Cursor banned --reason Uploads code --alternatives Qoder")
    say(runtime, "draft set Claude Code conditional --conditions Public code only", OTHER_ADMIN)
    say(runtime, "draft remove Windsurf")

    published = say(runtime, "publish", OTHER_ADMIN)

    version = Versions(store).latest(1)[0]
    [announcement] = rows(store, Announcement)
    posts = [d for d in rows(store, Delivery) if d.kind == "announcement"]
    assert published.startswith(f"Published v{version.number}: 3 changes.")
    assert "Windsurf: removed from the registry." in published
    assert version.author == OTHER_ADMIN and {c["tool"] for c in version.changes} == {
        "Cursor",
        "Claude Code",
        "Windsurf",
    }
    assert len(posts) == 1 and announcement.version_id == version.number
    assert announcement.author == OTHER_ADMIN
    groups = {i["tool"]: i["group"] for i in announcement.details["items"]}
    assert groups == {"Cursor": "banned", "Claude Code": "limits", "Windsurf": "removed"}
    assert runtime.policies.resolve("Cursor").status is Status.BANNED
    assert runtime.policies.get("Windsurf") is None
    # Each revision is its stager's; the draft is empty after.
    assert runtime.policies.history("Claude Code")[-1].author == OTHER_ADMIN
    assert runtime.policies.history("Cursor")[-1].author == ADMIN
    assert rows(store, StagedChange) == []
    assert "Cursor is BANNED" in say(runtime, "can I use Cursor?", STAFF)


def test_a_change_staged_on_a_tool_added_in_the_draft_applies_in_order(
    runtime: Runtime,
) -> None:
    say(runtime, "draft add Kiro")
    staged = say(runtime, "draft set Kiro conditional --conditions Public code only")

    say(runtime, "publish")

    assert staged.startswith("Staged as change 2 of the draft: Kiro: status: under-review →")
    assert runtime.policies.resolve("Kiro").conditions == "Public code only"


def test_publish_refuses_in_one_line_when_a_staged_change_no_longer_applies(
    runtime: Runtime, store: Store
) -> None:
    say(runtime, "draft set Qoder conditional --conditions Internal code only")
    say(runtime, "draft set Windsurf banned")
    say(runtime, "remove Windsurf", OTHER_ADMIN)  # made directly, not in the draft
    versions = len(rows(store, PolicyVersion))

    refused = say(runtime, "publish")

    assert refused == (
        "Nothing was published: staged change 2 (Windsurf, staged by U0ADMIN) no longer "
        "applies: no tool named 'Windsurf' in the registry. To add a tool, use: add Windsurf. "
        "Drop it with `discard 2`, then stage it again."
    )
    assert runtime.policies.resolve("Qoder").status is Status.ALLOWED  # nothing half-done
    assert len(rows(store, PolicyVersion)) == versions
    assert len(rows(store, StagedChange)) == 2
    assert "⚠ Publishing would be refused: staged change 2" in say(runtime, "draft")


def test_a_staged_form_is_refused_if_its_tool_changed_since(runtime: Runtime) -> None:
    drafts = runtime.drafts
    assert drafts is not None
    policy, version = drafts.policy_in_draft("Cursor")
    form = SavePolicy(
        make_policy("Cursor", status=Status.CONDITIONAL, conditions="Public code."),
        tool="Cursor",
        expected_version=version,
    )
    drafts.stage(form, Actor(ADMIN, "slack"))
    apply(runtime, SetPolicy("Cursor", Status.BANNED), Actor(OTHER_ADMIN, "console"))

    refused = say(runtime, "publish")

    assert refused.startswith("Nothing was published: staged change 1 (Cursor, staged by U0ADMIN)")
    assert "changed by someone else after this form was staged" in refused
    assert policy.status is Status.ALLOWED
    assert runtime.policies.resolve("Cursor").status is Status.BANNED


def test_a_form_staged_after_a_set_of_the_same_tool_keeps_it(runtime: Runtime) -> None:
    drafts = runtime.drafts
    assert drafts is not None
    say(runtime, "draft set Cursor banned --reason Uploads code")
    policy, version = drafts.policy_in_draft("Cursor")
    drafts.stage(
        SavePolicy(replace(policy, owner="Security"), "Cursor", version),
        Actor(ADMIN, "slack"),
    )

    say(runtime, "publish")

    cursor = runtime.policies.resolve("Cursor")
    assert (cursor.status, cursor.reason, cursor.owner) == (
        Status.BANNED,
        "Uploads code",
        "Security",
    )


def test_a_mistake_is_refused_when_staged_and_nothing_is_staged(
    runtime: Runtime, store: Store
) -> None:
    unknown = say(runtime, "draft set Cursr banned")
    new = say(runtime, "draft set Kiro allowed")
    noop = say(runtime, "draft set Qoder allowed")
    banned = say(runtime, "draft set Cursor banned --conditions x")
    verb = say(runtime, "draft history Cursor")

    assert unknown.startswith("no tool named 'Cursr' in the registry. Did you mean Cursor?")
    assert new.endswith("To add it in the draft, use: draft add Kiro")
    assert noop == "Qoder already has that policy in the draft: nothing staged"
    assert banned.startswith("a banned tool has no conditions or data limit")
    assert verb.startswith("'history' cannot be staged: draft stages set, alias, add, edit")
    assert rows(store, StagedChange) == []


def test_discard_drops_one_change_or_the_whole_draft(runtime: Runtime, store: Store) -> None:
    say(runtime, "draft set Cursor banned")
    say(runtime, "draft set Qoder conditional")
    say(runtime, "draft remove Windsurf")

    one = say(runtime, "discard 2")
    left = say(runtime, "draft").splitlines()
    everything = say(runtime, "discard")

    assert one.startswith("Discarded change 2 (Qoder: status: allowed → conditional")
    assert one.endswith("the draft has 2 changes left.")
    assert left[1].startswith("1. Cursor") and left[2].startswith("2. Windsurf")
    assert everything == "Discarded the draft (2 changes)."
    assert rows(store, StagedChange) == []
    assert say(runtime, "discard") == "the draft is empty: there is nothing to discard"
    assert say(runtime, "publish").startswith("the draft is empty")


def test_staff_may_not_stage_publish_or_discard_and_learn_no_usage(runtime: Runtime) -> None:
    say(runtime, "draft set Cursor banned")

    for text in ("draft", "draft set Qoder banned", "publish", "discard", "discard 1"):
        assert say(runtime, text, STAFF).startswith("Only policy admins can do that.")
    assert runtime.policies.resolve("Cursor").status is Status.ALLOWED


def test_admins_answers_note_the_draft_and_staffs_do_not(runtime: Runtime) -> None:
    say(runtime, "draft set Cursor banned --reason Uploads code")

    admin = say(runtime, "can I use Cursor?", ADMIN)
    staff = say(runtime, "can I use Cursor?", STAFF)

    assert "Draft, not yet published: 1. status: allowed → banned" in admin
    assert "Draft" not in staff and "banned" not in staff.lower()


def test_a_second_publish_of_the_same_draft_publishes_nothing(runtime: Runtime) -> None:
    say(runtime, "draft set Cursor banned")
    say(runtime, "publish")

    assert say(runtime, "publish", OTHER_ADMIN).startswith("the draft is empty")


def test_publishing_a_draft_whose_changes_are_already_in_force_makes_no_version(
    runtime: Runtime, store: Store
) -> None:
    say(runtime, "draft set Cursor banned")
    apply(runtime, SetPolicy("Cursor", Status.BANNED), Actor(OTHER_ADMIN, "console"))
    versions = len(rows(store, PolicyVersion))

    said = say(runtime, "publish")

    assert said.startswith("Nothing to publish: every staged change is already in force.")
    assert len(rows(store, PolicyVersion)) == versions and rows(store, StagedChange) == []


def test_a_future_dated_change_in_a_draft_is_scheduled_when_published(
    runtime: Runtime, store: Store
) -> None:
    say(runtime, "draft set Cursor banned --effective 2026-12-30")

    say(runtime, "publish")

    cursor = runtime.policies.resolve("Cursor")
    assert cursor.status is Status.ALLOWED and cursor.scheduled is not None
    assert cursor.scheduled.effective == dt.date(2026, 12, 30)
    assert [r.action for r in rows(store, Revision)][-1] == "schedule"


def test_every_change_command_survives_being_staged() -> None:
    commands = [
        SetPolicy(
            "Cursor",
            Status.CONDITIONAL,
            reason="r",
            alternatives=("Qoder",),
            effective=dt.date(2026, 12, 30),
            conditions="c",
            max_data=DataClass.INTERNAL,
            quiet=True,
            clear=frozenset({"max_data"}),
        ),
        SetPolicy("Cursor", Status.BANNED),
        AddAlias("Cursor", "cur"),
        RemoveTool("Cursor"),
        AddTool("Kiro"),
        SavePolicy(
            make_policy("Kiro", status=Status.BANNED, aliases=("kiro ide",)),
            tool="Kiro",
            expected_version=3,
        ),
    ]
    for command in commands:
        kind, data = encode(command)
        assert decode(kind, data) == command


def test_staging_through_the_write_path_checks_permission(runtime: Runtime) -> None:
    drafts = runtime.drafts
    assert drafts is not None

    with pytest.raises(PolicyError, match="only policy admins"):
        drafts.stage(SetPolicy("Cursor", Status.BANNED), Actor(STAFF, "slack"))


def test_history_ends_with_what_the_draft_would_change(runtime: Runtime) -> None:
    say(runtime, "draft set Cursor banned --reason Uploads code")

    last = say(runtime, "history Cursor").splitlines()[-1]

    assert last == (
        "• staged in the draft, not yet published: 1. status: allowed → banned; "
        "reason: — → Uploads code; effective: — → 2026-11-25"
    )
