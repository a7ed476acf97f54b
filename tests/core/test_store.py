"""The store on a real database: writes, revisions, history, optimistic locking, imports."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from bot.core.policy import Status
from bot.core.store import PolicyError, StaleEditError, Store, UnknownToolError
from tests.conftest import FakeClock
from tests.factories import make_policy, seed_registry


@pytest.fixture
def seeded(store: Store) -> Store:
    store.import_policies(seed_registry(), author="seed")
    return store


def test_save_then_get_round_trips_every_field(seeded: Store) -> None:
    policy = seeded.get("Claude Code")
    assert policy is not None
    expected = next(p for p in seed_registry() if p.name == "Claude Code")
    assert policy == expected


def test_get_ignores_case_and_finds_aliases(seeded: Store) -> None:
    assert seeded.get("CLAUDE CODE") is not None
    found = seeded.get("Claude-Code")
    assert found is not None and found.name == "Claude Code"


def test_names_are_unique_ignoring_case(seeded: Store) -> None:
    with pytest.raises(PolicyError, match="already in the registry"):
        seeded.save(make_policy("claude code"), author="u", source="test", create=True)


def test_alias_cannot_take_another_tools_name(seeded: Store) -> None:
    with pytest.raises(PolicyError, match=r"already the name of a tool \('Qoder'\)"):
        seeded.add_alias("Cursor", "qoder", author="u", source="test")


def test_update_records_a_revision_with_old_and_new_values(seeded: Store, clock: FakeClock) -> None:
    clock.advance(hours=1)
    seeded.update("Cursor", author="U1", source="slack", status=Status.BANNED, reason="Leaks.")
    last = seeded.history("Cursor")[-1]
    assert last.action == "update"
    assert last.author == "U1" and last.source == "slack"
    assert last.changes == {"status": ["under-review", "banned"], "reason": [None, "Leaks."]}
    assert last.at == clock.now


def test_update_that_changes_nothing_records_no_revision(seeded: Store) -> None:
    before = len(seeded.history("Cursor"))
    change = seeded.update("Cursor", author="U1", source="t", status=Status.UNDER_REVIEW)
    assert change.is_noop
    assert len(seeded.history("Cursor")) == before


def test_unknown_tool_suggests_close_names(seeded: Store) -> None:
    with pytest.raises(UnknownToolError) as error:
        seeded.update("Claud Code", author="u", source="t", status=Status.ALLOWED)
    assert "Claude Code" in error.value.suggestions
    assert "Did you mean Claude Code?" in str(error.value)


def test_alternative_must_be_in_the_registry(seeded: Store) -> None:
    with pytest.raises(UnknownToolError, match="no tool named 'Tabnine'"):
        seeded.update("Cursor", author="u", source="t", alternatives=("Tabnine",))


def test_stale_version_is_refused_and_changes_nothing(seeded: Store) -> None:
    seen = seeded.version_of("Cursor")
    assert seen is not None
    seeded.update("Cursor", author="alice", source="t", status=Status.ALLOWED)
    with pytest.raises(StaleEditError, match="changed by someone else"):
        seeded.update(
            "Cursor", author="bob", source="t", status=Status.BANNED, expected_version=seen
        )
    current = seeded.get("Cursor")
    assert current is not None and current.status == Status.ALLOWED


def test_concurrent_writers_on_one_version_lose_no_update(engine: object, clock: FakeClock) -> None:
    import threading

    from sqlmodel import Session

    from bot.core.models import Tool

    store = Store(engine, clock=clock)  # type: ignore[arg-type]
    store.import_policies(seed_registry(), author="seed")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    # Both writers read version N first, then both try to write N+1: one must be refused.
    original = store._find

    def find_then_wait(session: Session, name: str) -> Tool | None:
        found = original(session, name)
        barrier.wait(timeout=5)
        return found

    store._find = find_then_wait  # type: ignore[method-assign]

    def write(author: str, status: Status) -> None:
        try:
            store.update("Cursor", author=author, source="t", status=status)
            outcomes.append("ok")
        except StaleEditError:
            outcomes.append("stale")
        except Exception as error:  # SQLite may refuse the second writer outright
            outcomes.append(type(error).__name__)

    threads = [
        threading.Thread(target=write, args=("alice", Status.ALLOWED)),
        threading.Thread(target=write, args=("bob", Status.BANNED)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    store._find = original  # type: ignore[method-assign]
    assert outcomes.count("ok") == 1
    updates = [r for r in store.history("Cursor") if r.action == "update"]
    assert len(updates) == 1


def test_remove_keeps_history(seeded: Store) -> None:
    seeded.remove("Cursor", author="u", source="t")
    assert seeded.get("Cursor") is None
    assert [r.action for r in seeded.history("Cursor")] == ["create", "delete"]


def test_remove_refuses_a_tool_that_is_someones_alternative(seeded: Store) -> None:
    with pytest.raises(PolicyError, match="alternative of 'Claude Code'"):
        seeded.remove("Qoder", author="u", source="t")


def test_policy_on_a_date_replays_revisions(seeded: Store, clock: FakeClock) -> None:
    day_one = clock.now.date()
    clock.advance(days=2)
    seeded.update("Cursor", author="u", source="t", status=Status.BANNED)
    then = seeded.policy_on("Cursor", day_one)
    now = seeded.policy_on("Cursor", clock.now.date())
    assert then is not None and then.status == Status.UNDER_REVIEW
    assert now is not None and now.status == Status.BANNED
    assert seeded.policy_on("Cursor", day_one - dt.timedelta(days=1)) is None


def test_import_records_revisions_only_for_real_changes(seeded: Store) -> None:
    policies = seed_registry()
    policies[3] = replace(policies[3], status=Status.BANNED)
    report = seeded.import_policies(policies, author="import")
    assert report.updated == ["Cursor"]
    assert sorted(report.unchanged) == ["Claude Code", "GitHub Copilot", "Qoder"]
    assert len(seeded.history("Qoder")) == 1


def test_import_with_prune_removes_unlisted_tools(seeded: Store) -> None:
    kept = [p for p in seed_registry() if p.name != "Cursor"]
    report = seeded.import_policies(kept, author="import", prune=True)
    assert report.removed == ["Cursor"]
    assert seeded.get("Cursor") is None


def test_import_without_prune_keeps_unlisted_tools(seeded: Store) -> None:
    seeded.import_policies(seed_registry()[:1], author="import")
    assert seeded.get("Cursor") is not None


def test_import_with_a_bad_alternative_changes_nothing(seeded: Store) -> None:
    generation = seeded.generation()
    bad = [*seed_registry(), make_policy("Zed AI", alternatives=("Nowhere",))]
    with pytest.raises(UnknownToolError):
        seeded.import_policies(bad, author="import")
    assert seeded.get("Zed AI") is None
    assert seeded.generation() == generation


def test_import_can_move_an_alias_between_tools(seeded: Store) -> None:
    policies = seed_registry()
    policies[1] = replace(policies[1], aliases=("claude-code",))
    policies[0] = replace(policies[0], aliases=("claude cli",))
    seeded.import_policies(policies, author="import")
    moved = seeded.get("claude cli")
    assert moved is not None and moved.name == "Qoder"


def test_every_write_bumps_the_generation(seeded: Store) -> None:
    before = seeded.generation()
    seeded.add_alias("Cursor", "cursor ide", author="u", source="t")
    assert seeded.generation() == before + 1


def test_listeners_run_inside_the_write(seeded: Store) -> None:
    seen: list[tuple[str, bool]] = []
    seeded.listeners.append(lambda _session, event: seen.append((event.author, event.quiet)))
    seeded.update("Cursor", author="U9", source="t", quiet=True, status=Status.ALLOWED)
    assert seen == [("U9", True)]


def test_unanswered_groups_repeats_most_asked_first(store: Store, clock: FakeClock) -> None:
    for question in ("is Notion allowed?", "Is notion allowed", "can I use Figma"):
        store.log_question(question, matched=[], asker=None, channel="cli")
        clock.advance(minutes=1)
    store.log_question("can I use Cursor", matched=["Cursor"], asker=None, channel="cli")
    unanswered = store.unanswered()
    assert [(q.count) for q in unanswered] == [2, 1]
    assert unanswered[0].question.lower().startswith("is notion")


def test_first_time_event_is_true_once(store: Store) -> None:
    assert store.first_time_event("Ev1") is True
    assert store.first_time_event("Ev1") is False


def test_purge_questions_deletes_only_old_ones(store: Store, clock: FakeClock) -> None:
    store.log_question("old", matched=[], asker=None, channel="cli")
    clock.advance(days=40)
    store.log_question("new", matched=[], asker=None, channel="cli")
    assert store.purge_questions(clock.now - dt.timedelta(days=30)) == 1
    assert [q.question for q in store.unanswered()] == ["new"]


def test_alias_already_used_by_another_tool_names_that_tool(seeded: Store) -> None:
    with pytest.raises(PolicyError, match="'claude cli' is already an alias of 'Claude Code'"):
        seeded.add_alias("Cursor", "claude cli", author="u", source="t")


def test_suggestions_keep_only_names_about_as_close_as_the_best(seeded: Store) -> None:
    seeded.save(make_policy("Gemini Code Assist"), author="u", source="t", create=True)
    with pytest.raises(UnknownToolError) as error:
        seeded.resolve("Cluade Code")
    assert error.value.suggestions == ("Claude Code",)


def test_suggestions_come_from_aliases_too(seeded: Store) -> None:
    with pytest.raises(UnknownToolError) as error:
        seeded.resolve("claude-cli")
    assert error.value.suggestions == ("Claude Code",)
