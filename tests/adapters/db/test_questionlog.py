"""BatchedQuestionLog: questions queued by the server are written, in batches, and none lost."""

from __future__ import annotations

from typing import cast

from sqlmodel import Session, select

from bot.adapters.db.models import QuestionLog, utcnow
from bot.adapters.db.question_repo import QuestionRepository
from bot.adapters.db.question_writer import BatchedQuestionLog
from bot.adapters.db.store import Store
from bot.domain.text import storable
from bot.metrics import REGISTRY
from tests.factories import seed_registry
from tests.wiring import runtime_on, seed


def _logged(store: Store) -> list[str]:
    with Session(store.engine) as session:
        return [row.question for row in session.exec(select(QuestionLog)).all()]


def test_questions_queued_while_running_are_all_written_by_stop(store: Store) -> None:
    runtime = runtime_on(store)
    seed(runtime, seed_registry())
    service = runtime.service
    service.question_log = BatchedQuestionLog(runtime.questions, interval=60)  # only stop()
    service.question_log.start()
    for n in range(25):
        service.ask(f"can I use cursor {n}?", channel="slack")
    service.question_log.stop()
    assert sorted(_logged(store)) == sorted(f"can I use cursor {n}?" for n in range(25))


def test_a_question_asked_before_start_is_written_at_once(store: Store) -> None:
    runtime = runtime_on(store)
    service = runtime.service
    service.question_log = BatchedQuestionLog(runtime.questions)
    service.ask("can I use photoshop?", channel="slack")
    assert _logged(store) == ["can I use photoshop?"]
    assert [q.question for q in runtime.questions.unanswered()] == ["can I use photoshop?"]


def _dropped(reason: str) -> float:
    value = REGISTRY.get_sample_value("policybot_question_log_dropped_total", {"reason": reason})
    return value or 0.0


def test_a_row_the_database_refuses_is_cleaned_and_the_batch_kept(store: Store) -> None:
    writer = BatchedQuestionLog(QuestionRepository(store), interval=60)
    writer.start()
    questions = [f"ordinary question {n}" for n in range(10)]
    questions[2] = "lone half \ud800 here"
    questions[7] = "nul \x00 here"  # PostgreSQL refuses NUL in text
    for question in questions:
        writer.add(question, matched=[], asker=None, channel="slack", asked_at=utcnow())
    writer.stop()

    expected = [storable(q) for q in questions]
    assert sorted(_logged(store)) == sorted(expected)
    assert "lone half \ufffd here" in expected and "nul  here" in expected


def test_a_row_refused_even_when_cleaned_is_dropped_alone_and_counted(store: Store) -> None:
    writer = BatchedQuestionLog(QuestionRepository(store), interval=60)
    writer.start()
    before = _dropped("refused")
    for n in range(5):
        # An asker no driver can bind: refused by every database, whatever the text.
        asker = cast(str, object()) if n == 2 else None
        writer.add(f"question {n}", matched=[], asker=asker, channel="slack", asked_at=utcnow())
    writer.stop()

    assert sorted(_logged(store)) == ["question 0", "question 1", "question 3", "question 4"]
    assert writer.dropped == 1
    assert _dropped("refused") == before + 1
