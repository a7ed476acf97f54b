"""A turnstile for request threads: one request at a time runs the application, in arrival order.

Why: a worker process runs Python in one thread at a time (the GIL). When eight request
threads all want the CPU, the operating system, not arrival order, decides which runs next,
and an unlucky request waits behind dozens of later ones: measured on a 2-core machine with
gunicorn 2 x 8 threads, the median answer took 25 ms but the slowest 1% took 180-350 ms (and
up to 1 s), while the same workers with one thread each kept the slowest 1% at 55 ms. The
gate gives both: every thread can read, parse and write its connection, but only `limit`
of them at once run the application, and they are let in first come, first served.

A request that has held its turn for `patience` seconds is most likely waiting (on the
database's write lock, or on Slack), not computing: it stops counting against the limit, and
the next request is let in. So a slow request never holds the others up for longer than
that, and the gate can never stall the worker.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

# Requests running the application at once, per process: one, as only one thread computes.
DEFAULT_LIMIT = 1
# A turn held this long no longer counts (an answer takes about a millisecond of CPU).
DEFAULT_PATIENCE = 0.05


class _Turn:
    __slots__ = ("admitted", "since")

    def __init__(self) -> None:
        self.admitted = threading.Event()
        self.since = 0.0


class TurnGate:
    """At most `limit` turns counted at once, given out in the order they were asked for; a
    turn older than `patience` seconds is not counted."""

    def __init__(
        self,
        limit: int = DEFAULT_LIMIT,
        patience: float = DEFAULT_PATIENCE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if limit < 1 or patience <= 0:
            raise ValueError("a gate needs a limit of at least 1 and a positive patience")
        self.limit = limit
        self.patience = patience
        self.clock = clock
        self._lock = threading.Lock()
        self._waiting: deque[_Turn] = deque()
        self._running: set[_Turn] = set()

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Wait for this thread's turn, hold it for the block, then let the next one in."""
        turn = _Turn()
        with self._lock:
            self._waiting.append(turn)
            self._admit()
        # A waiter wakes at least every `patience` to let the queue move past a turn that
        # went quiet (nobody else would: no turn ends meanwhile).
        while not turn.admitted.wait(self.patience):
            with self._lock:
                self._admit()
        try:
            yield
        finally:
            with self._lock:
                self._running.discard(turn)
                self._admit()

    def counted(self) -> int:
        """Turns now counted against the limit (for tests and metrics)."""
        with self._lock:
            return self._counted(self.clock())

    def waiting(self) -> int:
        with self._lock:
            return len(self._waiting)

    def _counted(self, now: float) -> int:
        return sum(1 for turn in self._running if now - turn.since < self.patience)

    def _admit(self) -> None:
        """Let waiters in, in order, while fewer than `limit` turns count (lock held)."""
        now = self.clock()
        while self._waiting and self._counted(now) < self.limit:
            turn = self._waiting.popleft()
            turn.since = now
            self._running.add(turn)
            turn.admitted.set()


def gated(app: WSGIApplication, gate: TurnGate) -> WSGIApplication:
    """`app`, called by one thread at a time through `gate` (its body is a list: the whole
    answer is made inside the turn; sending it is the server's, outside)."""

    def application(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        with gate.turn():
            return app(environ, start_response)

    return application
