"""The edit form: every field shown, and submissions checked field by field."""

from __future__ import annotations

from typing import Any

from bot.core.policy import DataClass, Status
from bot.core.store import Store
from bot.slack.modal import EditTarget, edit_view, read_submission
from tests.factories import seed_registry

EDIT = EditTarget("Claude Code", 1, create=False)


def values(**fields: Any) -> dict[str, Any]:
    """view.state.values for the given fields; selects and dates take their Slack shapes."""
    shaped: dict[str, Any] = {}
    for field, value in fields.items():
        if field in ("status", "max_data"):
            state = {"selected_option": {"value": value} if value else None}
        elif field == "effective":
            state = {"selected_date": value}
        else:
            state = {"value": value}
        shaped[field] = {"value": state}
    return shaped


def seeded(store: Store) -> Store:
    store.import_policies(seed_registry(), author="seed")
    return store


def test_form_for_an_existing_tool_is_prefilled_and_carries_its_version(store: Store) -> None:
    policy = seeded(store).resolve("Claude Code")

    view = edit_view(policy, EDIT)

    inputs = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert inputs["status"]["initial_option"]["value"] == "banned"
    assert inputs["effective"]["initial_date"] == "2026-11-20"
    assert inputs["aliases"]["initial_value"] == "claude-code, claude cli"
    assert EditTarget.load(view["private_metadata"]) == EDIT


def test_valid_submission_becomes_a_policy(store: Store) -> None:
    policy, errors = read_submission(
        values(
            status="conditional", max_data="internal", alternatives="qoder", effective="2027-01-02"
        ),
        EDIT,
        seeded(store),
    )

    assert errors == {}
    assert policy is not None
    assert (policy.status, policy.max_data, policy.alternatives) == (
        Status.CONDITIONAL,
        DataClass.INTERNAL,
        ("qoder",),
    )


def test_own_alias_as_alternative_is_refused(store: Store) -> None:
    _policy, errors = read_submission(
        values(status="banned", alternatives="claude cli"), EDIT, seeded(store)
    )

    assert errors == {"alternatives": "A tool cannot be its own alternative."}


def test_alias_of_another_tool_is_refused_on_the_aliases_field(store: Store) -> None:
    _policy, errors = read_submission(values(status="banned", aliases="Qoder"), EDIT, seeded(store))

    assert errors["aliases"] == "'Qoder' already names Qoder."


def test_new_tool_needs_a_free_name(store: Store) -> None:
    _policy, errors = read_submission(
        values(name="claude-code", status="allowed"),
        EditTarget("claude-code", None, create=True),
        seeded(store),
    )

    assert "already in the registry" in errors["name"]


def test_bad_link_and_over_long_vendor_are_refused_on_their_fields(store: Store) -> None:
    _policy, errors = read_submission(
        values(status="allowed", link="intranet/page", vendor="v" * 201), EDIT, seeded(store)
    )

    assert set(errors) == {"link", "vendor"}
