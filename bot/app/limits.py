"""Per-person limits: how often one person may ask, rate answers and start watching tools.

Questions are limited in each process's memory (`RateLimiter`): answering one costs no
database write, and a limit kept in the database would add one to every question. With N
worker processes a person may get up to N times the limit, which still stops a flood (one
user's 3,000 questions in 10 s). Feedback and watches write anyway: they count the person's
own rows in the database, under `lock_person`, so the limit holds across processes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from bot.domain.errors import PolicyError

# Above this many people remembered, those whose window has passed are forgotten.
_PRUNE_AT = 10_000


class RateLimited(PolicyError):
    """One person asked too often; the message says what the limit is and when to try again."""


def over_limit(what: str, limit: int, window: str, setting: str, again: str = "later") -> str:
    """The sentence a person gets when over a limit."""
    return (
        f"You have {what} {limit} times in the last {window}, the most one person may "
        f"({setting}). Try again {again}."
    )


class RateLimiter:
    """At most `limit` events per `window` seconds per key (0: no limit), in this process.

    GCRA (a token bucket kept as one time per key): each event moves the key's "theoretical
    arrival time" on by window/limit; an event is allowed while that time is at most one
    window ahead of now. Bursts up to `limit` pass at once, then one per window/limit.
    """

    def __init__(
        self, limit: int, window: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._interval = window / limit if limit else 0.0
        self._due: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait_for(self, key: str) -> float:
        """0 and the event counted when `key` may act now; else the seconds to wait."""
        if not self.limit:
            return 0.0
        now = self.clock()
        with self._lock:
            due = max(self._due.get(key, now), now)
            ahead = due + self._interval - now
            if ahead > self.window + 1e-9:
                return ahead - self.window
            self._due[key] = due + self._interval
            if len(self._due) > _PRUNE_AT:
                self._due = {k: t for k, t in self._due.items() if t > now}
            return 0.0
