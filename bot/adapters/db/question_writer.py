"""The question log written in batches by one background thread, for the server.

Writing each question in the request thread cost an ORM transaction per question: a third of
the server's CPU under load, serialised by SQLite's write lock, and in the Bolt listener
thread that the next request's ack() waits for. Here the request thread only queues the row;
the writer inserts everything queued so far in one transaction every `interval` seconds.

One row the database refuses never costs the others: the batch is written again with its
text cleaned (bot/domain/text.py), and if that fails too, row by row, dropping only the rows
refused; every row dropped is counted in policybot_question_log_dropped_total.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import threading
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from bot.adapters.db.question_repo import QuestionRepository, question_row
from bot.domain.text import storable
from bot.metrics import QUESTION_LOG_DROPPED

log = logging.getLogger(__name__)


class BatchedQuestionLog:
    """Queues question-log rows and writes them in batches; start() and stop() with the server."""

    def __init__(
        self,
        questions: QuestionRepository,
        *,
        interval: float = 0.25,
        max_batch: int = 1000,
        limit: int = 100_000,
    ) -> None:
        self.questions = questions
        self.interval = interval
        self.max_batch = max_batch
        self._queue: queue.Queue[dict[str, Any]] = queue.Queue(maxsize=limit)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.dropped = 0  # rows given up on: queue full or the database refused a batch

    def add(
        self,
        question: str,
        *,
        matched: Sequence[str],
        asker: str | None,
        channel: str,
        asked_at: dt.datetime,
    ) -> None:
        """Queue one row; never blocks the asker (a full queue drops the row and counts it)."""
        row = question_row(question, matched=matched, asker=asker, channel=channel, at=asked_at)
        if self._thread is None:  # not started, or stopped: write it now
            self._write([row])
            return
        try:
            self._queue.put_nowait(row)
        except queue.Full:
            self._drop("queue_full")

    def start(self) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="question-log", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Write what is queued, then stop; later rows are written at once."""
        thread, self._thread = self._thread, None
        self._stopping.set()
        if thread is not None:
            thread.join(timeout=10)
        self._flush()

    def _run(self) -> None:
        while not self._stopping.wait(self.interval):
            self._flush()

    def _flush(self) -> None:
        while True:
            rows: list[dict[str, Any]] = []
            while len(rows) < self.max_batch:
                try:
                    rows.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            if not rows:
                return
            self._write(rows)

    def _write(self, rows: list[dict[str, Any]]) -> None:
        """Write `rows`, cleaned if need be; drop (and count) only the rows still refused."""
        try:
            self.questions.log_questions(rows)
            return
        except sa.exc.OperationalError as error:
            # The database is away, not refusing a row: trying row by row would only wait longer.
            log.warning("could not write %d logged questions: %s", len(rows), error.orig)
            for _row in rows:
                self._drop("unavailable")
            return
        except Exception as error:  # the log must never take the server down
            first_error = error
        cleaned = [_cleaned(row) for row in rows]
        if cleaned != rows:
            try:
                self.questions.log_questions(cleaned)
                return
            except Exception:
                pass
        if len(cleaned) == 1:
            # Only the error's type: its text holds the SQL parameters, i.e. the question.
            log.warning("dropped a question the database refused: %s", type(first_error).__name__)
            self._drop("refused")
            return
        for row in cleaned:
            self._write([row])

    def _drop(self, reason: str) -> None:
        self.dropped += 1
        QUESTION_LOG_DROPPED.labels(reason).inc()


def _cleaned(row: dict[str, Any]) -> dict[str, Any]:
    """`row` with its text made storable (no NUL, no lone surrogates)."""
    return {key: storable(value) if isinstance(value, str) else value for key, value in row.items()}
