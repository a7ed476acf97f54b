"""The question log written in batches by one background thread, for the server.

Writing each question in the request thread cost an ORM transaction per question: a third of
the server's CPU under load, serialised by SQLite's write lock, and in the Bolt listener
thread that the next request's ack() waits for. Here the request thread only queues the row;
the writer inserts everything queued so far in one transaction every `interval` seconds.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import threading
from collections.abc import Sequence
from typing import Any

from bot.core.question_repo import QuestionRepository, question_row

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
            self.questions.log_questions([row])
            return
        try:
            self._queue.put_nowait(row)
        except queue.Full:
            self.dropped += 1

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
            try:
                self.questions.log_questions(rows)
            except Exception:  # the log must never take the server down
                self.dropped += len(rows)
                log.exception("could not write %d logged questions", len(rows))
