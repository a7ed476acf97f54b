"""Admin commands against the store: replies in words, revisions with authors."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.adapters.db.store import Store
from bot.app.admin import Admin
from bot.app.changes import Actor
from bot.domain.commands import (
    AddAlias,
    EditTool,
    ListTools,
    RemoveTool,
    SetPolicy,
    ShowHistory,
)
from bot.domain.errors import PolicyError, UnknownToolError
from bot.domain.policy import Status
from tests.factories import seed_registry
from tests.wiring import runtime_on, seed

ACTOR = Actor("U1", "t", trusted=True)


@pytest.fixture
def admin(store: Store) -> Admin:
    runtime = runtime_on(store)
    seed(runtime, seed_registry())
    return runtime.service.admin


def test_set_changes_only_the_fields_given(admin: Admin, store: Store) -> None:
    result = admin.run(
        SetPolicy("Cursor", Status.BANNED, effective=dt.date(2026, 12, 1), alternatives=("Qoder",)),
        Actor("U1", "slack", trusted=True),
    )
    assert result.change is not None
    assert set(result.change.changed) == {"status", "effective", "alternatives"}
    policy = admin.policies.get("Cursor")
    assert policy is not None and policy.vendor == "Anysphere"


def test_set_with_same_values_says_nothing_changed(admin: Admin) -> None:
    result = admin.run(SetPolicy("Cursor", Status.UNDER_REVIEW), ACTOR)
    assert "nothing changed" in result.text
    assert result.change is None


def test_set_empty_reason_clears_it(admin: Admin, store: Store) -> None:
    admin.run(SetPolicy("Claude Code", Status.BANNED, reason=""), ACTOR)
    policy = admin.policies.get("Claude Code")
    assert policy is not None and policy.reason is None


def test_set_quiet_is_passed_on(admin: Admin) -> None:
    result = admin.run(SetPolicy("Cursor", Status.ALLOWED, quiet=True), ACTOR)
    assert result.quiet


def test_alias_then_the_tool_is_found_by_it(admin: Admin, store: Store) -> None:
    admin.run(AddAlias("Cursor", "cursor ide"), ACTOR)
    found = admin.policies.get("Cursor IDE")
    assert found is not None and found.name == "Cursor"


def test_remove_and_history_of_removed_tool(admin: Admin) -> None:
    admin.run(RemoveTool("Cursor"), ACTOR)
    text = admin.run(ShowHistory("Cursor"), ACTOR).text
    assert "create by seed (import)" in text
    assert "delete by U1 (t)" in text


def test_history_of_unknown_tool_raises_with_suggestions(admin: Admin) -> None:
    with pytest.raises(UnknownToolError, match="Did you mean Cursor"):
        admin.run(ShowHistory("Cursr"), ACTOR)


def test_list_groups_by_status(admin: Admin) -> None:
    text = admin.run(ListTools(), ACTOR).text
    assert text.index("Qoder: allowed") < text.index("Claude Code: banned")
    banned = admin.run(ListTools(Status.BANNED), ACTOR).text
    assert "Claude Code" in banned and "Qoder:" not in banned


def test_add_creates_an_under_review_tool_and_refuses_duplicates(
    admin: Admin, store: Store
) -> None:
    admin.run(EditTool("Devin", create=True), ACTOR)
    devin = admin.policies.get("Devin")
    assert devin is not None and devin.status == Status.UNDER_REVIEW
    with pytest.raises(PolicyError, match="already in the registry"):
        admin.run(EditTool("devin", create=True), ACTOR)


def test_edit_describes_every_field(admin: Admin) -> None:
    text = admin.run(EditTool("Claude Code"), ACTOR).text
    for field in ("vendor", "reason", "alternatives", "effective", "owner", "link"):
        assert f"{field}:" in text


def test_banning_clears_conditions_and_data_limit(admin: Admin, store: Store) -> None:
    result = admin.run(SetPolicy("GitHub Copilot", Status.BANNED), ACTOR)
    policy = admin.policies.get("GitHub Copilot")
    assert policy is not None
    assert (policy.conditions, policy.max_data) == (None, None)
    assert "conditions: Public repositories only. → —" in result.text
