"""The edit form: every field shown, and a submission read back into a policy."""

from __future__ import annotations

from typing import Any

from bot.adapters.db.store import Store
from bot.adapters.slack.modal import EditTarget, edit_view, field_of, read_submission
from bot.domain.policy import DataClass, Status
from tests.factories import seed_registry
from tests.wiring import runtime_on, seed

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


def test_form_for_an_existing_tool_is_prefilled_and_carries_its_version(store: Store) -> None:
    runtime = runtime_on(store)
    seed(runtime, seed_registry())
    policy = runtime.policies.resolve("Claude Code")

    view = edit_view(policy, EDIT)

    inputs = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert inputs["status"]["initial_option"]["value"] == "banned"
    assert inputs["effective"]["initial_date"] == "2026-11-20"
    assert inputs["aliases"]["initial_value"] == "claude-code, claude cli"
    assert EditTarget.load(view["private_metadata"]) == EDIT


def test_valid_submission_becomes_a_policy() -> None:
    policy, errors = read_submission(
        values(
            status="conditional", max_data="internal", alternatives="qoder", effective="2027-01-02"
        ),
        EDIT,
    )

    assert errors == {}
    assert policy is not None
    assert (policy.status, policy.max_data, policy.alternatives) == (
        Status.CONDITIONAL,
        DataClass.INTERNAL,
        ("qoder",),
    )


def test_a_missing_status_and_a_bad_link_are_shown_on_their_fields() -> None:
    _policy, errors = read_submission(values(status=None, link="intranet/page"), EDIT)

    assert set(errors) == {"status", "link"}


def test_a_new_tool_needs_a_name() -> None:
    _policy, errors = read_submission(
        values(name="  ", status="allowed"), EditTarget("", None, create=True)
    )

    assert errors == {"name": "Give the tool a name."}


def test_write_path_problems_land_on_their_field() -> None:
    assert field_of("alternatives", EDIT) == "alternatives"
    assert field_of("name", EDIT) == "status"  # an existing tool's name is not in the form
    assert field_of(None, EDIT) == "status"
    assert field_of("name", EditTarget("X", None, create=True)) == "name"
