"""PolicyService: one entry point for questions and admin commands, on a real database."""

from __future__ import annotations

import pytest

from bot.core.policy import Status
from bot.core.service import PolicyService
from bot.core.store import Store
from tests.factories import seed_registry


@pytest.fixture
def service(store: Store) -> PolicyService:
    store.import_policies(seed_registry(), author="seed")
    return PolicyService(store, admins=frozenset({"UADMIN"}), contact="#help")


def test_a_question_is_answered_and_logged_without_the_asker(
    service: PolicyService, store: Store
) -> None:
    reply = service.handle("can I use claude code?", user="U1", source="slack", channel="slash")
    assert reply.kind == "answer"
    assert reply.answer is not None
    assert [t.policy.name for t in reply.answer.tools] == ["Claude Code"]
    assert store.unanswered() == []


def test_askers_are_logged_only_when_configured(store: Store) -> None:
    from sqlmodel import Session, select

    from bot.core.models import QuestionLog

    store.import_policies(seed_registry(), author="seed")
    PolicyService(store).ask("can I use qoder", asker="U1")
    PolicyService(store, log_askers=True).ask("can I use cursor", asker="U2")
    with Session(store.engine) as session:
        askers = [row.asker for row in session.exec(select(QuestionLog)).all()]
    assert askers == [None, "U2"]


def test_unanswered_questions_are_recorded_for_admins(service: PolicyService, store: Store) -> None:
    reply = service.handle("is Notion allowed?", user="U1", source="console")
    assert reply.answer is not None and not reply.answer.answered
    assert "#help" in reply.text
    assert [q.question for q in store.unanswered()] == ["is Notion allowed?"]


def test_admin_command_changes_the_policy_and_names_the_author(
    service: PolicyService, store: Store
) -> None:
    reply = service.handle("set Cursor banned --reason Leaks", user="UADMIN", source="slack")
    assert reply.kind == "admin"
    policy = store.get("Cursor")
    assert policy is not None and policy.status == Status.BANNED
    assert store.history("Cursor")[-1].author == "UADMIN"


def test_staff_are_refused_admin_commands_and_nothing_changes(
    service: PolicyService, store: Store
) -> None:
    generation = store.generation()
    reply = service.handle("set Cursor banned", user="U1", source="slack")
    assert reply.kind == "refused"
    assert "Only policy admins" in reply.text
    assert store.generation() == generation


def test_admin_group_check_grants_admin(store: Store) -> None:
    store.import_policies(seed_registry(), author="seed")
    service = PolicyService(store, is_admin=lambda user: user == "UGROUP")
    assert service.handle("list", user="UGROUP", source="slack").kind == "admin"


def test_help_shows_staff_what_they_can_ask_and_not_the_admin_commands(
    service: PolicyService,
) -> None:
    reply = service.handle("help", user="U1", source="slack")
    assert reply.kind == "help"
    assert "which coding tools are approved?" in reply.text and "list [status]" in reply.text
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
    generation = store.generation()
    reply = service.handle("set Cursor forbidden", user="UADMIN", source="slack")
    assert reply.kind == "error"
    assert "unknown status 'forbidden'" in reply.text
    assert "\n" not in reply.text
    assert store.generation() == generation


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
    other = Store(store.engine)  # another replica writing to the same database
    other.update("Cursor", author="U9", source="slack", status=Status.BANNED)
    service._checked_at = 0.0  # the cache window has passed
    reply = service.handle("cursor ok?", user="U1", source="slack")
    assert reply.answer is not None
    assert reply.answer.tools[0].policy.status == Status.BANNED


def test_threads_waiting_for_the_registry_check_do_not_each_query_the_database(
    store: Store,
) -> None:
    import threading

    class CountingStore(Store):
        checks = 0

        def generation(self) -> int:
            CountingStore.checks += 1
            return super().generation()

    counting = CountingStore(store.engine)
    counting.import_policies(seed_registry(), author="seed")
    service = PolicyService(counting)
    service.registry()
    service._checked_at = 0.0  # the cache window has passed for everyone at once
    CountingStore.checks = 0
    start = threading.Barrier(20)

    def ask() -> None:
        start.wait(timeout=5)
        service.registry()

    threads = [threading.Thread(target=ask) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert CountingStore.checks == 1
