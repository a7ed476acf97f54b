"""How fast to send: a shared pace that adapts to Slack's 429 answers (AIMD).

Every sending thread waits its turn here, so the pace holds across threads. It starts at the
configured rate and doubles about every second (slow start) until Slack first answers 429;
then it drops to 85% of what Slack accepted in the last second, grows by 0.3% a second while
no 429 comes and drops by 5% at each later 429. Slack's Retry-After is whole seconds, so each
429 costs about a second of sending: small cuts and slow growth keep 429s rare instead of
steady. A 429 pauses every thread for its Retry-After; the 429s of requests already in flight
during that pause count as one.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

# Seconds of accepted sends that estimate the ceiling when slow start first hits a 429.
ESTIMATE_WINDOW = 1.0
# The first cut is deeper: slow start overshoots more than later probing does.
SLOW_START_BACKOFF = 0.85


class Pacer:
    """A thread-safe send pace in messages per second."""

    def __init__(
        self,
        rate: float,
        *,
        min_rate: float = 0.5,
        max_rate: float = 1000.0,
        growth: float = 0.003,
        backoff: float = 0.95,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.min_rate = min_rate
        self.max_rate = max_rate
        self._rate = min(max(rate, min_rate), max_rate)
        self._growth = growth  # share of the rate added per second without 429
        self._backoff = backoff
        self._clock = clock
        self._lock = threading.Lock()
        self._next_slot = 0.0
        self._paused_until = 0.0
        self._slow_start = True
        self._accepted: deque[float] = deque()  # times of recent successes, for the first cut
        self.rate_limited_count = 0

    @property
    def rate(self) -> float:
        return self._rate

    def wait(self, stop: threading.Event | None = None) -> bool:
        """Block until this caller may send; False if `stop` was set meanwhile."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._next_slot, self._paused_until)
            self._next_slot = slot + 1.0 / self._rate
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
            # Per message: +1/s in slow start (doubling each second), else +growth*rate per second.
            step = 1.0 if self._slow_start else self._growth
            self._rate = min(self.max_rate, self._rate + step)

    def rate_limited(self, retry_after: float) -> None:
        """Slack said 429: pause everyone for `retry_after` seconds and slow down once."""
        with self._lock:
            now = self._clock()
            self.rate_limited_count += 1
            if now < self._paused_until:
                return  # a request sent before the pause began; the cut is already made
            self._paused_until = now + max(retry_after, 0.0)
            self._next_slot = max(self._next_slot, self._paused_until)
            if self._slow_start:
                # What Slack accepted in the last second is the best guess of its ceiling.
                accepted = len(self._accepted) / ESTIMATE_WINDOW
                self._rate = max(self.min_rate, min(self._rate, accepted) * SLOW_START_BACKOFF)
                self._slow_start = False
            else:
                self._rate = max(self.min_rate, self._rate * self._backoff)
