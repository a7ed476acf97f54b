"""How fast to send: a shared pace that finds Slack's rate limit and stays just under it.

Every sending thread waits its turn here, so the pace holds across threads. Slack's
Retry-After is whole seconds, so every 429 costs about a second of sending; the pace is
shaped to need few of them (bench/fanout.py):

* It starts at the configured rate and doubles about every second (slow start) until Slack
  first answers 429.
* Each 429 pauses every thread for its Retry-After (the 429s of requests already in flight
  during that pause count as one) and cuts the pace below what Slack accepted in the last
  second: to 85% after slow start, which overshoots; to 97% later.
* After the first cut the pace grows 1% a second until the next 429 finds the limit; from
  then on 0.05% a second, so that 429s come a minute or more apart, not every few seconds.
* A thread late for its turn (the machine was busy) may take up to five turns left unused
  a moment ago, back to back, as Slack's own burst allows, instead of losing them.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

# Seconds of accepted sends that measure what Slack took, at a 429.
ESTIMATE_WINDOW = 1.0
# The first cut is deeper: slow start overshoots, and Slack's burst inflates the measure.
SLOW_START_BACKOFF = 0.85
# Later cuts: a little below what Slack was taking.
BACKOFF = 0.97
# Growth a second: quick after the first cut (the ceiling is not known yet), then slow.
FAST_GROWTH = 0.01
GROWTH = 0.0005
# Turns a late thread may take back to back, at most (Slack allows bursts above this).
CATCH_UP_TURNS = 5


class Pacer:
    """A thread-safe send pace in messages per second."""

    def __init__(
        self,
        rate: float,
        *,
        min_rate: float = 0.5,
        max_rate: float = 1000.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.min_rate = min_rate
        self.max_rate = max_rate
        self._rate = min(max(rate, min_rate), max_rate)
        self._clock = clock
        self._lock = threading.Lock()
        self._next_slot = 0.0
        self._paused_until = 0.0
        self._cuts = 0  # 429s that slowed the pace: 0 = slow start, 1 = finding the ceiling
        self._ceiling: float | None = None
        self._accepted: deque[float] = deque()  # times of recent successes, for the ceiling
        self._grown_at = 0.0
        self.rate_limited_count = 0

    @property
    def rate(self) -> float:
        return self._rate

    @property
    def ceiling(self) -> float | None:
        """Slack's limit as last measured at a 429; None before the first."""
        return self._ceiling

    def wait(self, stop: threading.Event | None = None) -> bool:
        """Block until this caller may send; False if `stop` was set meanwhile."""
        with self._lock:
            now = self._clock()
            interval = 1.0 / self._rate
            # Turns missed a moment ago are not lost, but no more than a few at once.
            earliest = max(now - CATCH_UP_TURNS * interval, self._paused_until)
            slot = max(earliest, self._next_slot)
            self._next_slot = slot + interval
        delay = slot - now
        if delay <= 0:
            return not (stop and stop.is_set())
        if stop is not None:
            return not stop.wait(delay)
        time.sleep(delay)
        return True

    def succeeded(self) -> None:
        with self._lock:
            now = self._clock()
            self._accepted.append(now)
            while self._accepted and self._accepted[0] < now - ESTIMATE_WINDOW:
                self._accepted.popleft()
            if self._cuts == 0:
                self._rate = min(self.max_rate, self._rate + 1.0)  # +1 a message: x2 a second
                return
            elapsed = min(max(0.0, now - self._grown_at), 1.0)
            self._grown_at = now
            growth = FAST_GROWTH if self._cuts == 1 else GROWTH
            self._rate = min(self.max_rate, self._rate * (1.0 + growth * elapsed))

    def rate_limited(self, retry_after: float) -> None:
        """Slack said 429: pause everyone for `retry_after` seconds and slow down once."""
        with self._lock:
            now = self._clock()
            self.rate_limited_count += 1
            if now < self._paused_until:
                return  # a request sent before the pause began; the cut is already made
            self._paused_until = now + max(retry_after, 0.0)
            self._next_slot = max(self._next_slot, self._paused_until)
            while self._accepted and self._accepted[0] < now - ESTIMATE_WINDOW:
                self._accepted.popleft()
            taken = len(self._accepted) / ESTIMATE_WINDOW
            self._ceiling = min(self._rate, taken) if taken > 0 else self._rate
            cut = SLOW_START_BACKOFF if self._cuts == 0 else BACKOFF
            self._rate = max(self.min_rate, self._ceiling * cut)
            self._cuts += 1
            self._grown_at = self._paused_until
