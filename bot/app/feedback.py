"""Helpful / not helpful on answers: one vote per person and question; 'not helpful' waits in
the admin queue until an admin marks it handled; the weekly digest counts both per tool."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.adapters.db import audit
from bot.adapters.db.models import AnswerFeedback
from bot.adapters.db.store import Store, lock_person
from bot.app.limits import RateLimited, over_limit
from bot.domain.errors import PolicyError
from bot.metrics import RATE_LIMITED

NO_TOOL = "(no policy)"


@dataclass(frozen=True)
class FeedbackView:
    id: int
    user: str
    question: str
    answer: str
    tools: tuple[str, ...]
    helpful: bool
    at: dt.datetime


def question_key(question: str) -> str:
    normal = " ".join(question.casefold().split())
    return hashlib.sha256(normal.encode()).hexdigest()


def _view(row: AnswerFeedback) -> FeedbackView:
    assert row.id is not None
    return FeedbackView(
        row.id, row.user_id, row.question, row.answer, tuple(row.tools), row.helpful, row.at
    )


class Feedback:
    def __init__(self, store: Store, *, per_hour: int = 0) -> None:
        self.store = store
        # New votes one person may give an hour (0: no limit); changing a vote is free.
        self.per_hour = per_hour

    def record(
        self, *, user: str, question: str, answer: str, tools: Sequence[str], helpful: bool
    ) -> FeedbackView:
        """Record a vote; pressing again (or the other button) replaces the person's vote."""
        now = self.store.clock()
        key = question_key(question)
        values: dict[str, Any] = {
            "question": question[:2000],
            "answer": answer[:4000],
            "tools": list(tools),
            "helpful": helpful,
            "at": now,
            "handled_at": None,
            "handled_by": None,
        }
        for _attempt in range(2):  # a double click may race the insert
            try:
                with self.store.session() as session:
                    lock_person(session, user)  # counted below, one vote of theirs at a time
                    row = session.exec(
                        select(AnswerFeedback).where(
                            AnswerFeedback.user_id == user, AnswerFeedback.question_key == key
                        )
                    ).first()
                    if row is None:
                        self._check_limit(session, user, now)
                        row = AnswerFeedback(user_id=user, question_key=key, **values)
                    else:
                        for name, value in values.items():
                            setattr(row, name, value)
                    session.add(row)
                    session.flush()
                    return _view(row)
            except sa.exc.IntegrityError:
                continue
        raise PolicyError("could not record the feedback; press the button again")

    def _check_limit(self, session: Session, user: str, now: dt.datetime) -> None:
        """RateLimited when `user` gave `per_hour` votes in the last hour already."""
        if not self.per_hour:
            return
        given = session.exec(
            select(sa.func.count())
            .select_from(AnswerFeedback)
            .where(
                AnswerFeedback.user_id == user,
                col(AnswerFeedback.at) >= now - dt.timedelta(hours=1),
            )
        ).one()
        if int(given) >= self.per_hour:
            RATE_LIMITED.labels("feedback").inc()
            raise RateLimited(
                over_limit("rated answers", self.per_hour, "hour", "POLICYBOT_FEEDBACK_PER_HOUR")
            )

    def queue(self, limit: int = 20) -> list[FeedbackView]:
        """'Not helpful' votes nobody handled yet, newest first."""
        with Session(self.store.engine) as session:
            rows = session.exec(
                select(AnswerFeedback)
                .where(
                    col(AnswerFeedback.helpful).is_(False),
                    col(AnswerFeedback.handled_at).is_(None),
                )
                .order_by(col(AnswerFeedback.at).desc())
                .limit(limit)
            ).all()
            return [_view(r) for r in rows]

    def handle(self, feedback_id: int, *, user: str) -> FeedbackView:
        now = self.store.clock()
        with self.store.session() as session:
            row = session.get(AnswerFeedback, feedback_id)
            if row is None:
                raise PolicyError(f"There is no feedback F{feedback_id}.")
            row.handled_at, row.handled_by = now, user
            session.add(row)
            audit.record(
                session, actor=user, action="feedback.handled", subject=f"F{feedback_id}", at=now
            )
            return _view(row)


def per_tool(session: Session, since: dt.datetime, until: dt.datetime) -> list[list[Any]]:
    """[[tool, helpful, not helpful], ...] for votes in [since, until), most votes first."""
    rows = session.exec(
        select(AnswerFeedback.tools, AnswerFeedback.helpful).where(
            col(AnswerFeedback.at) >= since, col(AnswerFeedback.at) < until
        )
    ).all()
    counts: dict[str, list[int]] = {}
    for tools, helpful in rows:
        for tool in tools or [NO_TOOL]:
            pair = counts.setdefault(tool, [0, 0])
            pair[0 if helpful else 1] += 1
    ordered = sorted(counts.items(), key=lambda item: (-sum(item[1]), item[0]))
    return [[tool, good, bad] for tool, (good, bad) in ordered]
