"""PolicyService: one entry point for questions and admin commands, on a real database."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.adapters.db.policy_repo import PolicyRepository
from bot.adapters.db.store import Store
from bot.adapters.files.vocabularyfile import shipped_vocabulary
from bot.app.service import PolicyService, RegistrySnapshot
from bot.domain.policy import Status
from tests.conftest import FakeClock
from tests.factories import seed_registry
from tests.wiring import runtime_on, seed


def service_on(store: Store, **settings: object) -> PolicyService:
    runtime = runtime_on(store, **settings)
    seed(runtime, seed_registry())
    return runtime.service


@pytest.fixture
def service(store: Store) -> PolicyService:
    return service_on(store, admins=["UADMIN"], contact="#help")


def test_a_question_is_answered_and_logged_without_the_asker(
    service: PolicyService, store: Store
) -> None:
    reply = service.handle("can I use claude code?", user="U1", source="slack", channel="slash")
    assert reply.kind == "answer"
    assert reply.answer is not None
    assert [t.policy.name for t in reply.answer.tools] == ["Claude Code"]
    assert service.questions.unanswered() == []


def test_askers_are_logged_only_when_configured(store: Store) -> None:
    from sqlmodel import Session, select

    from bot.adapters.db.models import QuestionLog

    service_on(store).ask("can I use qoder", asker="U1")
    runtime_on(store, log_askers=True).service.ask("can I use cursor", asker="U2")
    with Session(store.engine) as session:
        askers = [row.asker for row in session.exec(select(QuestionLog)).all()]
    assert askers == [None, "U2"]


def test_unanswered_questions_are_recorded_for_admins(service: PolicyService, store: Store) -> None:
    reply = service.handle("is Notion allowed?", user="U1", source="console")
    assert reply.answer is not None and not reply.answer.answered
    assert "#help" in reply.text
    assert [q.question for q in service.questions.unanswered()] == ["is Notion allowed?"]


def test_admin_command_changes_the_policy_and_names_the_author(
    service: PolicyService, store: Store
) -> None:
    reply = service.handle("set Cursor banned --reason Leaks", user="UADMIN", source="slack")
    assert reply.kind == "admin"
    policy = service.admin.policies.get("Cursor")
    assert policy is not None and policy.status == Status.BANNED
    assert service.admin.policies.history("Cursor")[-1].author == "UADMIN"


def test_staff_are_refused_admin_commands_and_nothing_changes(
    service: PolicyService, store: Store
) -> None:
    generation = service.admin.policies.generation()
    reply = service.handle("set Cursor banned", user="U1", source="slack")
    assert reply.kind == "refused"
    assert "Only policy admins" in reply.text
    assert service.admin.policies.generation() == generation


def test_unschedule_through_the_console_grammar(service: PolicyService) -> None:
    service.handle("set Cursor banned --effective 2026-12-15", user="UADMIN", source="console")

    staff = service.handle("unschedule Cursor", user="U1", source="console")
    assert staff.kind == "refused" and "Usage" not in staff.text
    reply = service.handle("unschedule cursor", user="UADMIN", source="console")
    assert reply.text == (
        "Cursor: the change to banned planned from 2026-12-15 is cancelled; it stays under review."
    )
    answer = service.handle("can I use Cursor?", user="U1", source="console").text
    assert "2026-12-15" not in answer and "UNDER REVIEW" in answer
    again = service.handle("unschedule Cursor", user="UADMIN", source="console")
    assert again.text.startswith("Cursor has no scheduled change to cancel")
    assert "unschedule <tool>" in service.handle("unschedule", user="UADMIN", source="x").text


def test_admin_group_check_grants_admin(store: Store) -> None:
    from bot.compose import build_runtime
    from bot.config import Settings

    runtime = build_runtime(
        Settings(), store.engine, clock=store.clock, also_admin=lambda user: user == "UGROUP"
    )
    assert runtime.service.handle("list", user="UGROUP", source="slack").kind == "admin"


def test_help_shows_staff_what_they_can_ask_and_not_the_admin_commands(
    service: PolicyService,
) -> None:
    reply = service.handle("help", user="U1", source="slack")
    assert reply.kind == "help"
    assert "which coding tools are approved?" in reply.text and "list [status]" in reply.text
    assert "request <tool> [why]" in reply.text and "watch <tool>" in reply.text
    assert "set <tool> <status>" not in reply.text


def test_help_shows_admins_what_they_can_ask_and_the_commands(service: PolicyService) -> None:
    reply = service.handle("help", user="UADMIN", source="slack")
    assert "which coding tools are approved?" in reply.text
    assert "set <tool> <status>" in reply.text


def test_staff_may_list_the_tools(service: PolicyService) -> None:
    reply = service.handle("list banned", user="U1", source="slack")
    assert reply.kind == "admin" and "Claude Code" in reply.text


def test_a_question_that_starts_like_a_command_is_answered(service: PolicyService) -> None:
    reply = service.handle("list of tools like cursor?", user="U1", source="slack")
    assert reply.kind == "answer"


def test_bad_command_gets_a_one_line_error_and_changes_nothing(
    service: PolicyService, store: Store
) -> None:
    generation = service.admin.policies.generation()
    reply = service.handle("set Cursor forbidden", user="UADMIN", source="slack")
    assert reply.kind == "error"
    assert "unknown status 'forbidden'" in reply.text
    assert "\n" not in reply.text
    assert service.admin.policies.generation() == generation


def test_unknown_tool_in_a_command_suggests_close_names(service: PolicyService) -> None:
    reply = service.handle("set Cursr banned", user="UADMIN", source="slack")
    assert reply.kind == "error"
    assert "Did you mean Cursor?" in reply.text


def test_a_change_shows_up_in_the_next_answer(service: PolicyService) -> None:
    service.handle("set Cursor banned", user="UADMIN", source="slack")
    reply = service.handle("can I use cursor?", user="U1", source="slack")
    assert reply.answer is not None
    assert reply.answer.tools[0].policy.status == Status.BANNED


def test_another_process_change_is_seen_after_the_cache_window(
    service: PolicyService, store: Store
) -> None:
    service.registry()
    other = runtime_on(Store(store.engine), admins=["U9"])  # another replica, same database
    other.service.handle("set Cursor banned", user="U9", source="slack")
    service.snapshot.forget()  # the cache window has passed
    reply = service.handle("cursor ok?", user="U1", source="slack")
    assert reply.answer is not None
    assert reply.answer.tools[0].policy.status == Status.BANNED


def test_threads_waiting_for_the_registry_check_do_not_each_query_the_database(
    store: Store,
) -> None:
    import threading

    class CountingRepository(PolicyRepository):
        checks = 0

        def generation(self) -> int:
            CountingRepository.checks += 1
            return super().generation()

    service_on(store)
    snapshot = RegistrySnapshot(CountingRepository(store), shipped_vocabulary)
    snapshot.get()
    snapshot.forget()  # the cache window has passed for everyone at once
    CountingRepository.checks = 0
    start = threading.Barrier(20)

    def ask() -> None:
        start.wait(timeout=5)
        snapshot.get()

    threads = [threading.Thread(target=ask) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert CountingRepository.checks == 1


# -- issue 13: one write path, grammar and scheduled changes through the console entry ----


def test_staff_get_the_refusal_before_any_usage_hint(service: PolicyService) -> None:
    for text in ("set Cursor", "set", "alias", "remove", "set Cursor forbidden --bogus"):
        reply = service.handle(text, user="U1", source="console")
        assert reply.kind == "refused", text
        assert "Usage" not in reply.text


def test_set_without_a_status_says_the_status_is_missing(service: PolicyService) -> None:
    reply = service.handle("set Claude Code", user="UADMIN", source="console")
    assert reply.text.startswith("missing status for 'Claude Code'")


def test_set_on_an_unknown_tool_says_to_use_add(service: PolicyService) -> None:
    reply = service.handle("set Foobar allowed", user="UADMIN", source="console")
    assert "no tool named 'Foobar'" in reply.text
    assert "To add a tool, use: add Foobar" in reply.text


def test_apostrophe_in_free_text_is_kept(service: PolicyService) -> None:
    reply = service.handle(
        "set Cursor banned --reason reads the user's environment", user="UADMIN", source="console"
    )
    assert reply.kind == "admin", reply.text
    policy = service.admin.policies.resolve("Cursor")
    assert policy.reason == "reads the user's environment"


def test_none_clears_conditions_and_data_limit_from_a_command(service: PolicyService) -> None:
    reply = service.handle(
        "set GitHub Copilot conditional --conditions none --max-data none",
        user="UADMIN",
        source="console",
    )
    assert reply.kind == "admin", reply.text
    policy = service.admin.policies.resolve("GitHub Copilot")
    assert (policy.conditions, policy.max_data) == (None, None)


def test_alternative_by_alias_is_stored_and_answered_by_its_name(service: PolicyService) -> None:
    service.handle("alias Qoder = qoder ide", user="UADMIN", source="console")
    service.handle("set Cursor banned --alternatives qoder ide", user="UADMIN", source="console")
    answer = service.handle("can I use cursor?", user="U1", source="console").text
    assert "Instead use: Qoder (allowed)." in answer
    assert "not in the registry" not in answer


def test_status_change_is_dated_today_in_the_answer(service: PolicyService) -> None:
    service.handle("set Claude Code under-review", user="UADMIN", source="console")
    answer = service.handle("can I use claude code?", user="U1", source="console").text
    assert "UNDER REVIEW since 2026-11-25" in answer


def test_replies_never_end_in_two_full_stops(service: PolicyService) -> None:
    reply = service.handle(
        "set Cursor banned --reason Leaks code.", user="UADMIN", source="console"
    )
    assert reply.text.endswith(".") and not reply.text.endswith("..")


def test_future_change_is_announced_in_answers_and_applies_itself(
    store: Store, clock: FakeClock
) -> None:
    service = service_on(store, admins=["UADMIN"])
    reply = service.handle(
        "set GitHub Copilot banned --effective 2026-12-15", user="UADMIN", source="console"
    )
    assert "from 2026-12-15" in reply.text and "Until then" in reply.text
    answer = service.handle("can I use github copilot?", user="U1", source="console").text
    assert "GitHub Copilot is CONDITIONAL" in answer
    assert "Conditions: Public repositories only." in answer
    assert "From 2026-12-15 it will be BANNED." in answer

    clock.now = dt.datetime(2026, 12, 15, 0, 5, tzinfo=dt.UTC)
    service.snapshot.forget()  # the cache window has passed
    answer = service.handle("can I use github copilot?", user="U1", source="console").text
    assert "GitHub Copilot is BANNED since 2026-12-15." in answer
    assert "will be" not in answer and "Conditions" not in answer


def test_markup_in_an_alias_is_refused_at_the_console(service: PolicyService) -> None:
    for alias in ("<!channel>", "<!here>", "<@U0BOSS>", "<#C0GENERAL>", "<https://evil.example>"):
        reply = service.handle(f"alias Cursor = {alias}", user="UADMIN", source="console")
        assert reply.kind == "error", alias
        assert "Slack markup" in reply.text
    assert service.admin.policies.resolve("Cursor").aliases == ()


def test_over_long_text_and_ancient_dates_are_refused_at_the_console(
    service: PolicyService,
) -> None:
    long_reason = service.handle(
        "set Cursor banned --reason " + "x" * 5000, user="UADMIN", source="console"
    )
    long_name = service.handle("add " + "N" * 5000, user="UADMIN", source="console")
    ancient = service.handle(
        "set Cursor banned --effective 1900-01-01", user="UADMIN", source="console"
    )

    assert "at most 2000" in long_reason.text
    assert "at most 80" in long_name.text
    assert "before 2000-01-01" in ancient.text
    assert service.admin.policies.resolve("Cursor").status is Status.UNDER_REVIEW


def test_removing_a_tool_named_through_an_alias_is_refused_naming_every_dependent(
    service: PolicyService,
) -> None:
    service.handle("alias Qoder = qoder ide", user="UADMIN", source="console")
    service.handle("set Cursor banned --alternatives qoder ide", user="UADMIN", source="console")

    reply = service.handle("remove Qoder", user="UADMIN", source="console")

    assert reply.kind == "error"
    assert "'Claude Code', 'Cursor'" in reply.text
    assert service.admin.policies.get("Qoder") is not None


def test_a_new_word_in_the_vocabulary_file_is_read_without_a_restart(
    store: Store, tmp_path: Path
) -> None:
    folder = tmp_path
    service = service_on(store, policies_path=folder)
    question = "which tools are verboten?"
    assert Status.ALLOWED in {t.status for t in service.ask(question).listed}
    (folder / "vocabulary.yaml").write_text("statuses:\n  banned: [verboten]\n", encoding="utf-8")
    service.snapshot.forget()  # the next question checks at once instead of within a second
    assert {t.status for t in service.ask(question).listed} == {Status.BANNED}
