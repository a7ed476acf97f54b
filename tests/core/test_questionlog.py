"""BatchedQuestionLog: questions queued by the server are written, in batches, and none lost."""

from __future__ import annotations

from sqlmodel import Session, select

from bot.core.models import QuestionLog
from bot.core.questionlog import BatchedQuestionLog
from bot.core.store import Store
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
