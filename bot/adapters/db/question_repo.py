"""The question log: what people asked, when, where and which tools it found."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select

from bot.adapters.db.models import QuestionLog
from bot.adapters.db.store import Store

# The longest question text kept in the log, in characters.
QUESTION_LOG_CHARS = 2000


@dataclass(frozen=True)
class UnansweredQuestion:
    question: str
    count: int
    last_asked: dt.datetime


def question_row(
    question: str, *, matched: Sequence[str], asker: str | None, channel: str, at: dt.datetime
) -> dict[str, Any]:
    """A question_log row as `QuestionRepository.log_questions` takes it."""
    return {
        "question": question[:QUESTION_LOG_CHARS],
        "asker": asker,
        "channel": channel,
        "matched": list(matched),
        "answered": bool(matched),
        "asked_at": at,
    }


_INSERT = sa.insert(QuestionLog.__table__)  # type: ignore[attr-defined]


class QuestionRepository:
    """Owns the question_log table."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def log_question(
        self, question: str, *, matched: Sequence[str], asker: str | None, channel: str
    ) -> None:
        self.log_questions(
            [
                question_row(
                    question, matched=matched, asker=asker, channel=channel, at=self.store.clock()
                )
            ]
        )

    def log_questions(self, rows: Sequence[dict[str, Any]]) -> None:
        """Several question-log rows (QuestionLog columns) in one transaction and one INSERT."""
        if rows:
            # A Core executemany: the ORM's bulk insert costs several times more per row,
            # and the server writes every question asked.
            with self.store.engine.begin() as connection:
                connection.execute(_INSERT, list(rows))

    def unanswered(self, limit: int = 20) -> list[UnansweredQuestion]:
        """The questions that found no tool, most asked first."""
        with self.store.reader() as session:
            rows = session.exec(
                select(QuestionLog.question, QuestionLog.asked_at).where(
                    col(QuestionLog.answered).is_(False)
                )
            ).all()
        grouped: dict[str, tuple[str, int, dt.datetime]] = {}
        for question, asked_at in rows:
            # ASCII and full-width end marks do not make another question.
            key = " ".join(question.casefold().split()).rstrip("?!. \uff01\uff1f")
            text, count, last = grouped.get(key, (question, 0, asked_at))
            grouped[key] = (text, count + 1, max(last, asked_at))
        ordered = sorted(grouped.values(), key=lambda item: (-item[1], -item[2].timestamp()))
        return [UnansweredQuestion(q, n, last) for q, n, last in ordered[:limit]]

    def question_stats(self, since: dt.datetime) -> dict[str, int]:
        with self.store.reader() as session:
            rows = session.exec(
                select(QuestionLog.answered, sa.func.count())
                .where(col(QuestionLog.asked_at) >= since)
                .group_by(col(QuestionLog.answered))
            ).all()
        counts = {bool(answered): int(n) for answered, n in rows}
        return {"answered": counts.get(True, 0), "unanswered": counts.get(False, 0)}

    def purge_questions(self, older_than: dt.datetime) -> int:
        with self.store.session() as session:
            result = session.exec(
                sa.delete(QuestionLog).where(col(QuestionLog.asked_at) < older_than)
            )
            return int(result.rowcount or 0)
