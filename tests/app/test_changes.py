"""The one write path on a real database: commands, rules, revisions, locking, imports."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from bot.adapters.db.store import Store
from bot.app.changes import Actor, AddTool, ImportPolicies, SavePolicy
from bot.app.runtime import Runtime
from bot.app.versions import Versions
from bot.domain.commands import AddAlias, CancelScheduled, RemoveTool, SetPolicy
from bot.domain.errors import PermissionDenied, PolicyError, StaleEditError, UnknownToolError
from bot.domain.policy import DataClass, Status
from tests.conftest import FakeClock
from tests.factories import make_policy, seed_registry
from tests.wiring import TRUSTED, apply, runtime_on, seed

ADMIN = Actor("U1", "slack")


@pytest.fixture
def runtime(store: Store) -> Runtime:
    runtime = runtime_on(store, admins=["U1"])
    seed(runtime, seed_registry())
    return runtime


def imported(runtime: Runtime, policies: list, prune: bool = False):  # type: ignore[no-untyped-def, type-arg]
    return runtime.changes.import_policies(
        ImportPolicies(tuple(policies), prune=prune), Actor("import", "import", trusted=True)
    )


def test_import_then_get_round_trips_every_field(runtime: Runtime) -> None:
    policy = runtime.policies.get("Claude Code")
    assert policy is not None
    expected = next(p for p in seed_registry() if p.name == "Claude Code")
    assert policy == expected


def test_get_ignores_case_hyphens_and_full_width_and_finds_aliases(runtime: Runtime) -> None:
    for spelling in (
        "CLAUDE CODE",
        "claude_code",
        "\uff23\uff4c\uff41\uff55\uff44\uff45\u3000\uff23\uff4f\uff44\uff45",
        "claude  cli",
    ):
        found = runtime.policies.get(spelling)
        assert found is not None and found.name == "Claude Code", spelling


def test_names_are_unique_by_the_one_name_rule(runtime: Runtime) -> None:
    with pytest.raises(PolicyError, match="already in the registry"):
        apply(runtime, AddTool("claude-code"))


def test_alias_cannot_take_another_tools_name(runtime: Runtime) -> None:
    with pytest.raises(PolicyError, match=r"already the name of a tool \('Qoder'\)"):
        apply(runtime, AddAlias("Cursor", "qoder"))


def test_only_admins_change_policies(runtime: Runtime) -> None:
    with pytest.raises(PermissionDenied):
        apply(runtime, SetPolicy("Cursor", Status.BANNED), Actor("U2", "slack"))
    assert runtime.policies.resolve("Cursor").status is Status.UNDER_REVIEW


def test_set_records_a_revision_with_old_and_new_values(runtime: Runtime, clock: FakeClock) -> None:
    clock.advance(hours=1)
    apply(runtime, SetPolicy("Cursor", Status.BANNED, reason="Leaks."), ADMIN)
    last = runtime.policies.history("Cursor")[-1]
    assert last.action == "update"
    assert last.author == "U1" and last.source == "slack"
    assert last.changes == {
        "status": ["under-review", "banned"],
        "reason": [None, "Leaks."],
        "effective": [None, "2026-11-25"],
    }
    assert last.at == clock.now


def test_set_that_changes_nothing_records_no_revision(runtime: Runtime) -> None:
    before = len(runtime.policies.history("Cursor"))
    change = apply(runtime, SetPolicy("Cursor", Status.UNDER_REVIEW), ADMIN)
    assert change.is_noop
    assert len(runtime.policies.history("Cursor")) == before


def test_unknown_tool_suggests_close_names(runtime: Runtime) -> None:
    with pytest.raises(UnknownToolError) as error:
        apply(runtime, SetPolicy("Claud Code", Status.ALLOWED), ADMIN)
    assert "Claude Code" in error.value.suggestions
    assert "Did you mean Claude Code?" in str(error.value)


def test_set_on_an_unknown_tool_says_that_add_creates_one(runtime: Runtime) -> None:
    with pytest.raises(UnknownToolError, match="To add a tool, use: add Foobar"):
        apply(runtime, SetPolicy("Foobar", Status.ALLOWED), ADMIN)


def test_alternative_must_be_in_the_registry(runtime: Runtime) -> None:
    with pytest.raises(UnknownToolError, match="no tool named 'Tabnine'"):
        apply(runtime, SetPolicy("Cursor", Status.BANNED, alternatives=("Tabnine",)), ADMIN)


def test_alternative_given_by_alias_is_stored_by_its_tools_name(runtime: Runtime) -> None:
    apply(runtime, AddAlias("Qoder", "qoder ide"), ADMIN)
    apply(runtime, SetPolicy("Cursor", Status.BANNED, alternatives=("QODER-IDE",)), ADMIN)
    assert runtime.policies.resolve("Cursor").alternatives == ("Qoder",)


def test_own_alias_is_not_an_alternative(runtime: Runtime) -> None:
    with pytest.raises(PolicyError, match="cannot be its own alternative"):
        apply(runtime, SetPolicy("Claude Code", Status.BANNED, alternatives=("claude cli",)), ADMIN)


def test_ban_clears_conditions_and_data_limit(runtime: Runtime) -> None:
    apply(runtime, SetPolicy("GitHub Copilot", Status.BANNED), ADMIN)
    policy = runtime.policies.resolve("GitHub Copilot")
    assert (policy.conditions, policy.max_data) == (None, None)


def test_ban_with_conditions_in_the_same_command_is_refused(runtime: Runtime) -> None:
    with pytest.raises(PolicyError, match="a banned tool has no conditions or data limit"):
        apply(runtime, SetPolicy("Cursor", Status.BANNED, conditions="only on Fridays"), ADMIN)


def test_status_change_without_a_date_takes_effect_today(runtime: Runtime) -> None:
    apply(runtime, SetPolicy("Claude Code", Status.UNDER_REVIEW), ADMIN)
    assert runtime.policies.resolve("Claude Code").effective == dt.date(2026, 11, 25)


def test_change_keeping_the_status_keeps_the_date(runtime: Runtime) -> None:
    apply(runtime, SetPolicy("Claude Code", Status.BANNED, reason="New reason."), ADMIN)
    assert runtime.policies.resolve("Claude Code").effective == dt.date(2026, 11, 20)


def test_none_clears_conditions_and_data_limit(runtime: Runtime) -> None:
    apply(
        runtime,
        SetPolicy(
            "GitHub Copilot", Status.CONDITIONAL, conditions="", clear=frozenset({"max_data"})
        ),
        ADMIN,
    )
    policy = runtime.policies.resolve("GitHub Copilot")
    assert (policy.conditions, policy.max_data) == (None, None)


def test_effective_date_before_2000_is_refused(runtime: Runtime) -> None:
    with pytest.raises(PolicyError, match="before 2000-01-01"):
        apply(runtime, SetPolicy("Cursor", Status.BANNED, effective=dt.date(1900, 1, 1)), ADMIN)


@pytest.mark.parametrize("alias", ["<!channel>", "<!here>", "<@U123>", "<#C1|x>", "<http://x>"])
def test_slack_markup_is_refused_as_an_alias(runtime: Runtime, alias: str) -> None:
    with pytest.raises(PolicyError, match="Slack markup"):
        apply(runtime, AddAlias("Cursor", alias), ADMIN)


def test_over_long_names_and_texts_are_refused(runtime: Runtime) -> None:
    with pytest.raises(PolicyError, match="at most 80"):
        apply(runtime, AddTool("x" * 5000), ADMIN)
    with pytest.raises(PolicyError, match="at most 80"):
        apply(runtime, AddAlias("Cursor", "y" * 81), ADMIN)
    with pytest.raises(PolicyError, match="reason is 5000 characters long: at most 2000"):
        apply(runtime, SetPolicy("Cursor", Status.BANNED, reason="z" * 5000), ADMIN)


def test_stale_version_is_refused_and_changes_nothing(runtime: Runtime) -> None:
    seen = runtime.policies.version_of("Cursor")
    apply(runtime, SetPolicy("Cursor", Status.ALLOWED), ADMIN)
    form = replace(runtime.policies.resolve("Cursor"), status=Status.BANNED)
    with pytest.raises(StaleEditError, match="changed by someone else"):
        apply(runtime, SavePolicy(form, tool="Cursor", expected_version=seen), ADMIN)
    assert runtime.policies.resolve("Cursor").status == Status.ALLOWED


def test_concurrent_writers_on_one_version_lose_no_update(runtime: Runtime) -> None:
    # Both writers read version N, then both write N+1: the second is refused.
    policies, store = runtime.policies, runtime.store
    with store.session() as first, store.session() as second:
        tool_a, tool_b = policies.find(first, "Cursor"), policies.find(second, "Cursor")
        assert tool_a is not None and tool_b is not None
        before = policies.policy_of(first, tool_a)
        allowed = replace(before, status=Status.ALLOWED)
        policies.write(first, allowed, tool_a, before, author="a", source="t", at=store.clock())
        first.commit()
        with pytest.raises(StaleEditError):
            banned = replace(before, status=Status.BANNED)
            policies.write(second, banned, tool_b, before, author="b", source="t", at=store.clock())
    assert runtime.policies.resolve("Cursor").status is Status.ALLOWED


def test_remove_keeps_history(runtime: Runtime) -> None:
    apply(runtime, RemoveTool("Cursor"), ADMIN)
    assert runtime.policies.get("Cursor") is None
    assert [r.action for r in runtime.policies.history("Cursor")] == ["create", "delete"]


def test_remove_refuses_a_tool_that_is_someones_alternative(runtime: Runtime) -> None:
    with pytest.raises(PolicyError, match="alternative of 'Claude Code'"):
        apply(runtime, RemoveTool("Qoder"), ADMIN)


def test_remove_names_every_tool_that_depends_on_it_even_by_alias(runtime: Runtime) -> None:
    apply(runtime, AddAlias("Qoder", "qoder ide"), ADMIN)
    seed(runtime, [make_policy("Tabnine", alternatives=("qoder ide",))])
    apply(runtime, SetPolicy("Cursor", Status.BANNED, alternatives=("Qoder",)), ADMIN)
    with pytest.raises(PolicyError) as error:
        apply(runtime, RemoveTool("Qoder"), ADMIN)
    assert "'Claude Code', 'Cursor', 'Tabnine'" in str(error.value)
    assert runtime.policies.get("Qoder") is not None


def test_policy_on_a_date_replays_revisions(runtime: Runtime, clock: FakeClock) -> None:
    day_one = clock.now.date()
    clock.advance(days=2)
    apply(runtime, SetPolicy("Cursor", Status.BANNED), ADMIN)
    then = runtime.policies.policy_on("Cursor", day_one)
    now = runtime.policies.policy_on("Cursor", clock.now.date())
    assert then is not None and then.status == Status.UNDER_REVIEW
    assert now is not None and now.status == Status.BANNED
    assert runtime.policies.policy_on("Cursor", day_one - dt.timedelta(days=1)) is None


def test_import_records_revisions_only_for_real_changes(runtime: Runtime) -> None:
    policies = seed_registry()
    policies[3] = replace(policies[3], status=Status.BANNED)
    report = imported(runtime, policies)
    assert report.updated == ["Cursor"]
    assert sorted(report.unchanged) == ["Claude Code", "GitHub Copilot", "Qoder"]
    assert len(runtime.policies.history("Qoder")) == 1


def test_import_with_prune_removes_unlisted_tools(runtime: Runtime) -> None:
    kept = [p for p in seed_registry() if p.name != "Cursor"]
    report = imported(runtime, kept, prune=True)
    assert report.removed == ["Cursor"]
    assert runtime.policies.get("Cursor") is None


def test_import_without_prune_keeps_unlisted_tools(runtime: Runtime) -> None:
    imported(runtime, seed_registry()[:1])
    assert runtime.policies.get("Cursor") is not None


def test_import_with_a_bad_alternative_changes_nothing(runtime: Runtime) -> None:
    generation = runtime.policies.generation()
    bad = [*seed_registry(), make_policy("Zed AI", alternatives=("Nowhere",))]
    with pytest.raises(UnknownToolError):
        imported(runtime, bad)
    assert runtime.policies.get("Zed AI") is None
    assert runtime.policies.generation() == generation


def test_import_can_move_an_alias_between_tools(runtime: Runtime) -> None:
    policies = seed_registry()
    policies[1] = replace(policies[1], aliases=("claude-code",))
    policies[0] = replace(policies[0], aliases=("claude cli",))
    imported(runtime, policies)
    moved = runtime.policies.get("claude cli")
    assert moved is not None and moved.name == "Qoder"


def test_import_that_moves_an_alias_records_a_revision_for_both_tools(runtime: Runtime) -> None:
    policies = seed_registry()
    policies[1] = replace(policies[1], aliases=("claude-code",))
    policies[0] = replace(policies[0], aliases=("claude cli",))
    report = imported(runtime, policies)
    assert sorted(report.updated) == ["Claude Code", "Qoder"]
    last = runtime.policies.history("Claude Code")[-1]
    assert last.changes == {"aliases": [["claude-code", "claude cli"], ["claude-code"]]}


def test_import_that_drops_an_alias_changes_the_policy_on_that_day(
    runtime: Runtime, clock: FakeClock
) -> None:
    day_one = clock.now.date()
    clock.advance(days=1)
    policies = seed_registry()
    policies[1] = replace(policies[1], aliases=())
    imported(runtime, policies)
    then = runtime.policies.policy_on("Claude Code", day_one)
    now = runtime.policies.policy_on("Claude Code", clock.now.date())
    assert then is not None and then.aliases == ("claude-code", "claude cli")
    assert now is not None and now.aliases == ()


def test_import_stores_alternatives_by_canonical_name(runtime: Runtime) -> None:
    imported(runtime, [make_policy("Tabnine", alternatives=("claude cli",))])
    assert runtime.policies.resolve("Tabnine").alternatives == ("Claude Code",)


def test_import_bans_clear_conditions_as_set_does(runtime: Runtime) -> None:
    policies = seed_registry()
    policies[2] = replace(policies[2], status=Status.BANNED)  # GitHub Copilot had conditions
    imported(runtime, policies)
    policy = runtime.policies.resolve("GitHub Copilot")
    assert (policy.conditions, policy.max_data) == (None, None)


def test_every_write_bumps_the_generation(runtime: Runtime) -> None:
    before = runtime.policies.generation()
    apply(runtime, AddAlias("Cursor", "cursor ide"), ADMIN)
    assert runtime.policies.generation() == before + 1


def test_alias_already_used_by_another_tool_names_that_tool(runtime: Runtime) -> None:
    with pytest.raises(PolicyError, match="'claude cli' is already an alias of 'Claude Code'"):
        apply(runtime, AddAlias("Cursor", "claude cli"), ADMIN)


def test_suggestions_keep_only_names_about_as_close_as_the_best(runtime: Runtime) -> None:
    apply(runtime, AddTool("Gemini Code Assist"), ADMIN)
    with pytest.raises(UnknownToolError) as error:
        runtime.policies.resolve("Cluade Code")
    assert error.value.suggestions == ("Claude Code",)


def test_suggestions_come_from_aliases_too(runtime: Runtime) -> None:
    with pytest.raises(UnknownToolError) as error:
        runtime.policies.resolve("claude clii")
    assert error.value.suggestions == ("Claude Code",)


# -- scheduled changes -------------------------------------------------------------------


def test_future_change_is_scheduled_and_today_policy_stays(runtime: Runtime) -> None:
    change = apply(
        runtime, SetPolicy("GitHub Copilot", Status.BANNED, effective=dt.date(2026, 12, 15)), ADMIN
    )
    assert change.scheduled_for == dt.date(2026, 12, 15)
    policy = runtime.policies.resolve("GitHub Copilot")
    assert policy.status is Status.CONDITIONAL
    assert (policy.conditions, policy.max_data) == ("Public repositories only.", DataClass.PUBLIC)
    assert policy.scheduled is not None and policy.scheduled.status is Status.BANNED
    assert runtime.policies.history("GitHub Copilot")[-1].action == "schedule"


def test_scheduled_change_takes_effect_on_its_day_with_a_revision_of_that_day(
    runtime: Runtime, clock: FakeClock
) -> None:
    apply(
        runtime, SetPolicy("GitHub Copilot", Status.BANNED, effective=dt.date(2026, 12, 15)), ADMIN
    )
    clock.now = dt.datetime(2026, 12, 20, 12, tzinfo=dt.UTC)  # nobody read it for five days

    [policy] = [p for p in runtime.service.policies() if p.name == "GitHub Copilot"]

    assert policy.status is Status.BANNED
    assert (policy.conditions, policy.max_data, policy.scheduled) == (None, None, None)
    assert policy.effective == dt.date(2026, 12, 15)
    last = runtime.policies.history("GitHub Copilot")[-1]
    assert (last.action, last.source, last.author) == ("update", "scheduled", "U1")
    assert last.at == dt.datetime(2026, 12, 15, tzinfo=dt.UTC)
    on_the_day = runtime.policies.policy_on("GitHub Copilot", dt.date(2026, 12, 15))
    day_before = runtime.policies.policy_on("GitHub Copilot", dt.date(2026, 12, 14))
    assert on_the_day is not None and on_the_day.status is Status.BANNED
    assert day_before is not None and day_before.status is Status.CONDITIONAL


def test_scheduled_change_is_applied_once_by_two_processes(
    runtime: Runtime, store: Store, clock: FakeClock
) -> None:
    apply(runtime, SetPolicy("Cursor", Status.BANNED, effective=dt.date(2026, 12, 1)), ADMIN)
    other = runtime_on(store, admins=["U1"])
    clock.now = dt.datetime(2026, 12, 1, 8, tzinfo=dt.UTC)
    assert runtime.changes.apply_due() + other.changes.apply_due() == 1
    assert [r.action for r in runtime.policies.history("Cursor")][-2:] == ["schedule", "update"]


def test_unschedule_cancels_a_scheduled_change_and_it_never_takes_effect(
    runtime: Runtime, clock: FakeClock
) -> None:
    apply(runtime, SetPolicy("Cursor", Status.BANNED, effective=dt.date(2026, 12, 15)), ADMIN)
    generation = runtime.policies.generation()

    change = apply(runtime, CancelScheduled("CURSOR"), ADMIN)  # the one name rule finds it

    assert change.before is not None and change.before.scheduled is not None
    assert change.after is not None and change.after.scheduled is None
    assert runtime.policies.generation() > generation  # every process forgets its copy
    last = runtime.policies.history("Cursor")[-1]
    assert (last.action, last.author) == ("unschedule", "U1")
    assert last.changes["status"] == ["banned", "under-review"]  # planned -> what stays
    clock.now = dt.datetime(2026, 12, 20, tzinfo=dt.UTC)
    assert runtime.changes.apply_due() == 0
    policy = runtime.policies.resolve("Cursor")
    assert (policy.status, policy.scheduled) == (Status.UNDER_REVIEW, None)
    on_the_day = runtime.policies.policy_on("Cursor", dt.date(2026, 12, 15))
    assert on_the_day is not None and on_the_day.status is Status.UNDER_REVIEW


def test_unschedule_without_a_scheduled_change_changes_nothing(runtime: Runtime) -> None:
    history = runtime.policies.history("Cursor")
    with pytest.raises(PolicyError, match=r"^Cursor has no scheduled change to cancel$"):
        apply(runtime, CancelScheduled("Cursor"), ADMIN)
    with pytest.raises(UnknownToolError):
        apply(runtime, CancelScheduled("Nonesuch"), ADMIN)
    assert runtime.policies.history("Cursor") == history


def test_only_admins_unschedule(runtime: Runtime) -> None:
    apply(runtime, SetPolicy("Cursor", Status.BANNED, effective=dt.date(2026, 12, 15)), ADMIN)
    with pytest.raises(PermissionDenied):
        apply(runtime, CancelScheduled("Cursor"), Actor("U2", "slack"))
    assert runtime.policies.resolve("Cursor").scheduled is not None


def test_trusted_import_needs_no_admin(runtime: Runtime) -> None:
    report = imported(runtime, [make_policy("Zed AI")])
    assert report.created == ["Zed AI"]
    assert TRUSTED.trusted


def test_import_keeps_the_files_order_across_new_and_changed_tools(
    runtime: Runtime, store: Store
) -> None:
    kept = next(p for p in seed_registry() if p.name == "Claude Code")
    files = [
        make_policy("Alpha Writer"),
        replace(kept, reason="Reviewed again."),
        make_policy("Beta Lens"),
    ]
    others = [p for p in seed_registry() if p.name != kept.name]
    report = imported(runtime, [*others, *files])
    assert report.created == ["Alpha Writer", "Beta Lens"]
    assert report.updated == ["Claude Code"]
    version = Versions(store).latest(1)[0]
    assert [c["tool"] for c in version.changes] == ["Alpha Writer", "Claude Code", "Beta Lens"]
    assert version.summary.startswith("import: 3 changes")
